/* test_cpu_quota.c: CPU affinity and cgroup v1/v2 quota detection, on fake
 * /proc and /sys/fs/cgroup trees built in a temporary directory. */
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "file_tree.h"

#include "cpu_quota.h"

#define assert_quota(actual, expected) \
    assert_true((actual) > (expected) - 1e-9 && (actual) < (expected) + 1e-9)

static const char *const v2_mountinfo =
    "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

/* cpuset first: "cpu" must match a whole option, not a prefix. */
static const char *const v1_mountinfo =
    "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
    "35 22 0:30 / /sys/fs/cgroup/cpuset rw,nosuid shared:12 - cgroup cgroup "
    "rw,cpuset\n"
    "36 22 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup "
    "rw,memory\n"
    "37 22 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:14 master:2 - "
    "cgroup cgroup rw,cpu,cpuacct\n";

/* ---- Fake trees ----------------------------------------------------- */

static int
tree_setup(void **state)
{
    char *root = strdup("/tmp/corral-cpu-XXXXXX");
    assert_non_null(root);
    assert_non_null(mkdtemp(root));
    *state = root;
    return 0;
}

static int
remove_entry(const char *path, const struct stat *info, int flag,
             struct FTW *ftw)
{
    return remove(path);
}

static int
tree_teardown(void **state)
{
    char *root = *state;
    int rc = nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(root);
    return rc;
}

/* ---- Affinity and the auto count ------------------------------------ */

static void
test_affinity_count_matches_sched_getaffinity(void **state)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    int count = corral_cpu_affinity_count();
    assert_true(count >= 1);
    assert_int_equal(count, CPU_COUNT(&set));
}

static void
test_auto_count(void **state)
{
    static const struct { int affinity; double quota; int expected; } cases[] = {
        { 4, 1.5, 1 },      /* fractions round down */
        { 8, 2.5, 2 },
        { 4, 3.999, 3 },
        { 4, 4.0, 4 },
        { 4, 0.5, 1 },      /* never below one */
        { 2, 16.0, 2 },     /* the quota never adds CPUs */
        { 4, 0, 4 },        /* no quota: the affinity */
        { 0, 0, 1 },
        { 0, 2.0, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(corral_cpu_auto_count(cases[i].affinity, cases[i].quota),
                         cases[i].expected);
}

/* ---- cgroup v2 ------------------------------------------------------ */

static void
test_v2_quota_below_cpu_count(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "0::/user.slice/app.service\n");
    file_tree_put(root, "proc/self/mountinfo", v2_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/user.slice/app.service/cpu.max", "150000 100000\n");
    double quota = corral_cpu_quota(root);
    assert_quota(quota, 1.5);
    assert_int_equal(corral_cpu_auto_count(4, quota), 1);

    file_tree_put(root, "sys/fs/cgroup/user.slice/app.service/cpu.max", "250000 100000\n");
    quota = corral_cpu_quota(root);
    assert_quota(quota, 2.5);
    assert_int_equal(corral_cpu_auto_count(8, quota), 2);
}

static void
test_v2_max_is_no_quota(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "0::/user.slice\n");
    file_tree_put(root, "proc/self/mountinfo", v2_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/user.slice/cpu.max", "max 100000\n");
    assert_quota(corral_cpu_quota(root), 0);
    assert_int_equal(corral_cpu_auto_count(4, corral_cpu_quota(root)), 4);
}

static void
test_v2_quota_on_an_ancestor(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "0::/kubepods/pod1/container\n");
    file_tree_put(root, "proc/self/mountinfo", v2_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/kubepods/pod1/container/cpu.max", "max 100000\n");
    file_tree_put(root, "sys/fs/cgroup/kubepods/pod1/cpu.max", "200000 100000\n");
    file_tree_put(root, "sys/fs/cgroup/kubepods/cpu.max", "max 100000\n");
    assert_quota(corral_cpu_quota(root), 2.0);
}

static void
test_v2_smallest_quota_wins(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "0::/a/b\n");
    file_tree_put(root, "proc/self/mountinfo", v2_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/a/b/cpu.max", "400000 100000\n");
    file_tree_put(root, "sys/fs/cgroup/a/cpu.max", "100000 100000\n");
    assert_quota(corral_cpu_quota(root), 1.0);

    file_tree_put(root, "sys/fs/cgroup/a/b/cpu.max", "50000 100000\n");
    assert_quota(corral_cpu_quota(root), 0.5);
    assert_int_equal(corral_cpu_auto_count(4, corral_cpu_quota(root)), 1);
}

static void
test_v2_namespaced_root_cgroup(void **state)
{
    /* In a container with its own cgroup namespace: "0::/", and the
     * container's limit is on the mount point itself. */
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "0::/\n");
    file_tree_put(root, "proc/self/mountinfo", v2_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/cpu.max", "300000 100000\n");
    assert_quota(corral_cpu_quota(root), 3.0);
}

static void
test_v2_escaped_mount_point(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "0::/app\n");
    file_tree_put(root, "proc/self/mountinfo",
        "30 22 0:26 / /sys/fs/my\\040cgroup rw shared:4 - cgroup2 cgroup2 rw\n");
    file_tree_put(root, "sys/fs/my cgroup/app/cpu.max", "200000 100000\n");
    assert_quota(corral_cpu_quota(root), 2.0);
}

/* ---- cgroup v1 ------------------------------------------------------ */

static void
test_v1_quota(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup",
        "12:memory:/docker/abc\n"
        "4:cpu,cpuacct:/docker/abc\n"
        "3:cpuset:/docker/abc\n"
        "1:name=systemd:/docker/abc\n");
    file_tree_put(root, "proc/self/mountinfo", v1_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_quota_us", "-1\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_period_us", "100000\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    assert_quota(corral_cpu_quota(root), 3.0);
}

static void
test_v1_unlimited(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n");
    file_tree_put(root, "proc/self/mountinfo", v1_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    assert_quota(corral_cpu_quota(root), 0);
}

static void
test_v1_quota_on_an_ancestor(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "4:cpu,cpuacct:/a/b\n");
    file_tree_put(root, "proc/self/mountinfo", v1_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/a/b/cpu.cfs_quota_us", "-1\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/a/b/cpu.cfs_period_us", "100000\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/a/cpu.cfs_quota_us", "150000\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/a/cpu.cfs_period_us", "50000\n");
    assert_quota(corral_cpu_quota(root), 3.0);
}

static void
test_v1_mount_of_a_subtree(void **state)
{
    /* Docker without a cgroup namespace: the container's own cgroup is
     * mounted (mountinfo root "/docker/abc") while /proc/self/cgroup still
     * names the full path. */
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n");
    file_tree_put(root, "proc/self/mountinfo",
        "37 22 0:32 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - "
        "cgroup cgroup rw,cpu,cpuacct\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "50000\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    double quota = corral_cpu_quota(root);
    assert_quota(quota, 0.5);
    assert_int_equal(corral_cpu_auto_count(4, quota), 1);
}

static void
test_hybrid_uses_the_v1_cpu_controller(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup",
        "4:cpu,cpuacct:/app\n"
        "1:name=systemd:/app\n"
        "0::/app\n");
    char mountinfo[1024];
    snprintf(mountinfo, sizeof mountinfo, "%s%s", v1_mountinfo,
             "29 22 0:25 / /sys/fs/cgroup/unified rw,nosuid shared:5 - cgroup2 "
             "cgroup2 rw,nsdelegate\n");
    file_tree_put(root, "proc/self/mountinfo", mountinfo);
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_quota_us", "200000\n");
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_period_us", "100000\n");
    file_tree_put(root, "sys/fs/cgroup/unified/app/cpu.max", "50000 100000\n");
    assert_quota(corral_cpu_quota(root), 2.0);
}

static void
test_hybrid_without_v1_cpu_falls_back_to_v2(void **state)
{
    const char *root = *state;
    file_tree_put(root, "proc/self/cgroup", "7:memory:/app\n0::/app\n");
    file_tree_put(root, "proc/self/mountinfo", v2_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/app/cpu.max", "200000 100000\n");
    assert_quota(corral_cpu_quota(root), 2.0);
}

/* ---- Missing pieces: no quota --------------------------------------- */

static void
test_missing_files_mean_no_quota(void **state)
{
    const char *root = *state;
    assert_quota(corral_cpu_quota(root), 0);                  /* nothing */

    file_tree_put(root, "proc/self/cgroup", "0::/app\n");
    assert_quota(corral_cpu_quota(root), 0);                  /* no mountinfo */

    file_tree_put(root, "proc/self/mountinfo", v2_mountinfo);
    assert_quota(corral_cpu_quota(root), 0);                  /* no cpu.max */

    file_tree_put(root, "sys/fs/cgroup/app/cpu.max", "garbage\n");
    assert_quota(corral_cpu_quota(root), 0);                  /* unreadable */

    file_tree_put(root, "proc/self/cgroup", "4:cpu,cpuacct:/app\n");
    file_tree_put(root, "proc/self/mountinfo", v1_mountinfo);
    file_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_quota_us", "100000\n");
    assert_quota(corral_cpu_quota(root), 0);                  /* no period */

    assert_quota(corral_cpu_quota("/nonexistent-corral-root"), 0);
}

static void
test_real_system_does_not_crash(void **state)
{
    double quota = corral_cpu_quota("/");
    assert_true(quota >= 0);
    int count = corral_cpu_auto_count(corral_cpu_affinity_count(), quota);
    assert_true(count >= 1 && count <= corral_cpu_affinity_count());
}

int
main(void)
{
#define TREE_TEST(name) cmocka_unit_test_setup_teardown(name, tree_setup, tree_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_affinity_count_matches_sched_getaffinity),
        cmocka_unit_test(test_auto_count),
        TREE_TEST(test_v2_quota_below_cpu_count),
        TREE_TEST(test_v2_max_is_no_quota),
        TREE_TEST(test_v2_quota_on_an_ancestor),
        TREE_TEST(test_v2_smallest_quota_wins),
        TREE_TEST(test_v2_namespaced_root_cgroup),
        TREE_TEST(test_v2_escaped_mount_point),
        TREE_TEST(test_v1_quota),
        TREE_TEST(test_v1_unlimited),
        TREE_TEST(test_v1_quota_on_an_ancestor),
        TREE_TEST(test_v1_mount_of_a_subtree),
        TREE_TEST(test_hybrid_uses_the_v1_cpu_controller),
        TREE_TEST(test_hybrid_without_v1_cpu_falls_back_to_v2),
        TREE_TEST(test_missing_files_mean_no_quota),
        cmocka_unit_test(test_real_system_does_not_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
