/* test_oom_kills.c: which SIGKILLs were the kernel's OOM killer's
 * (broker/supervision/oom_kills.h), on a fake /proc/self/cgroup and a fake
 * cgroup tree: the cgroup v1 and v2 counters are found, each kill they
 * count explains one SIGKILL and no more, and any other death is never
 * one. (test_supervision kills a worker with a real memory cgroup where
 * the machine allows it.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "file_tree.h"
#include "oom_kills.h"

#define KILLED_BY(signal_number) (signal_number)      /* a wait status */
#define EXITED_WITH(code) ((code) << 8)

static char root[] = "/tmp/corral-oom.XXXXXX";

static void
put(const char *relative, const char *text)
{
    file_tree_put(root, relative, text);
}

static char *
path_of(const char *relative)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", root, relative);
    return path;
}

static int
make_root(void **state)
{
    return mkdtemp(root) ? 0 : -1;
}

static int
remove_root(void **state)
{
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", root);
    return system(command) == 0 ? 0 : -1;
}

static void
test_cgroup_v1_counter(void **state)
{
    put("proc-cgroup-v1", "9:name=systemd:/\n4:cpu,memory:/service/a\n0::/\n");
    put("sys/memory/service/a/memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    char proc[512];
    snprintf(proc, sizeof proc, "%s", path_of("proc-cgroup-v1"));
    corral_oom_kills_t *kills = corral_oom_kills_new(proc, path_of("sys"), path_of("no-kmsg"));
    assert_non_null(kills);
    assert_non_null(corral_oom_kills_counter(kills));
    assert_non_null(strstr(corral_oom_kills_counter(kills),
                           "/memory/service/a/memory.oom_control"));
    /* the kills before the start explain nothing */
    assert_false(corral_oom_kills_took(kills, 100, KILLED_BY(SIGKILL)));
    /* one more kill: one SIGKILL explained, the next one not */
    put("sys/memory/service/a/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
    assert_false(corral_oom_kills_took(kills, 101, KILLED_BY(SIGSEGV)));
    assert_false(corral_oom_kills_took(kills, 102, EXITED_WITH(1)));
    assert_true(corral_oom_kills_took(kills, 103, KILLED_BY(SIGKILL)));
    assert_false(corral_oom_kills_took(kills, 104, KILLED_BY(SIGKILL)));
    corral_oom_kills_destroy(&kills);
    assert_null(kills);
}

static void
test_cgroup_v2_counter(void **state)
{
    put("proc-cgroup-v2", "0::/user.slice/corral.service\n");
    put("sys/user.slice/corral.service/memory.events",
        "low 0\nhigh 0\nmax 12\noom 2\noom_kill 0\noom_group_kill 0\n");
    char proc[512];
    snprintf(proc, sizeof proc, "%s", path_of("proc-cgroup-v2"));
    corral_oom_kills_t *kills = corral_oom_kills_new(proc, path_of("sys"), path_of("no-kmsg"));
    assert_non_null(corral_oom_kills_counter(kills));
    put("sys/user.slice/corral.service/memory.events",
        "low 0\nhigh 0\nmax 14\noom 4\noom_kill 2\noom_group_kill 0\n");
    assert_true(corral_oom_kills_took(kills, 200, KILLED_BY(SIGKILL)));
    assert_true(corral_oom_kills_took(kills, 201, KILLED_BY(SIGKILL)));
    assert_false(corral_oom_kills_took(kills, 202, KILLED_BY(SIGKILL)));
    corral_oom_kills_destroy(&kills);
}

/* Without a cgroup counter, the kernel's record ("Killed process PID" as
 * the OOM killer logs it, or its oom-kill summary line) decides. */
static void
test_no_counter_leaves_the_kernel_record(void **state)
{
    put("proc-cgroup-none", "0::/nowhere\n");
    put("kmsg", "6,1201,5000000,-;corral-worker invoked oom-killer: gfp_mask=0xcc0\n"
                "6,1202,5000100,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),"
                "task=corral-worker,pid=4243,uid=0\n"
                "3,1203,5000200,-;Memory cgroup out of memory: Killed process 4242 "
                "(corral-worker) total-vm:2100000kB, anon-rss:500000kB\n");
    char proc[512], kmsg[512];
    snprintf(proc, sizeof proc, "%s", path_of("proc-cgroup-none"));
    snprintf(kmsg, sizeof kmsg, "%s", path_of("kmsg"));
    corral_oom_kills_t *kills = corral_oom_kills_new(proc, path_of("sys"), kmsg);
    assert_non_null(kills);
    assert_null(corral_oom_kills_counter(kills));
    assert_true(corral_oom_kills_took(kills, 4242, KILLED_BY(SIGKILL)));
    assert_true(corral_oom_kills_took(kills, 4243, KILLED_BY(SIGKILL)));
    assert_false(corral_oom_kills_took(kills, 424, KILLED_BY(SIGKILL)));   /* no prefix match */
    assert_false(corral_oom_kills_took(kills, 1201, KILLED_BY(SIGKILL)));
    assert_false(corral_oom_kills_took(kills, 4242, EXITED_WITH(0)));
    corral_oom_kills_destroy(&kills);
    /* no record to read: never an OOM kill */
    kills = corral_oom_kills_new(proc, path_of("sys"), path_of("no-kmsg"));
    assert_false(corral_oom_kills_took(kills, 4242, KILLED_BY(SIGKILL)));
    corral_oom_kills_destroy(&kills);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cgroup_v1_counter),
        cmocka_unit_test(test_cgroup_v2_counter),
        cmocka_unit_test(test_no_counter_leaves_the_kernel_record),
    };
    return cmocka_run_group_tests(tests, make_root, remove_root);
}
