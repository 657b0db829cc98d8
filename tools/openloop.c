/* openloop.c: an open-loop HTTP/1.1 load generator for tools/bench-rfc.sh.
 *
 * Requests leave on a schedule fixed before the run (a Poisson process, or
 * even spacing, at the offered rate), whether or not earlier ones have been
 * answered, and each request's latency is measured from its SCHEDULED send
 * time. A server that falls behind therefore shows its queueing in the
 * percentiles instead of slowing the client down and hiding it (the
 * "coordinated omission" of closed-loop tools like wrk, and of h2load
 * --rps and autocannon --overallRate, which time a request from when a
 * free connection finally sends it: see docs/benchmarks.md).
 *
 * libcurl's multi interface does the HTTP (keep-alive, parsing, chunked
 * bodies) on one epoll loop; its pool holds at most -c connections, and a
 * request that finds them all busy waits in curl's queue, on the clock.
 * A timerfd fires at the next scheduled send. Requests still unanswered
 * -t seconds after the last send are counted as timeouts, and their time
 * so far enters the percentiles as a lower bound (a saturated server must
 * not look fast because its slowest requests were dropped).
 *
 * Output, one line on stdout (times in ms):
 *   offered=R sent=N ok=N http_errors=N transport_errors=N timeouts=N
 *   served=R answered=N p50=… p75=… p95=… p99=… max=… lag_p99=… loadgen_cpu=…
 * served: responses completed per second within the measured window;
 * answered: every response of the run, warm-up and drain included (what
 * the server's CPU time over the run paid for);
 * lag: how late the generator itself sent (its own overload, if any);
 * loadgen_cpu: CPUs this process used on average. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUTES 16

typedef struct {
    char *url;
    unsigned weight;
} route_t;

typedef struct request request_t;
struct request {
    CURL *easy;
    int64_t scheduled_ns;
    bool measured;          /* scheduled within the measured window */
    request_t *next;        /* free list, or the in-flight list */
    request_t *prev;
};

typedef struct {
    double *values;
    size_t count, size;
} samples_t;

static struct {
    double rate, duration_s, warmup_s, drain_s;
    long connections;
    bool poisson;
    uint64_t seed;
    route_t routes[MAX_ROUTES];
    size_t route_count;
    unsigned weight_total;
} config = { .duration_s = 10, .warmup_s = 1, .drain_s = 5, .connections = 256,
             .poisson = true, .seed = 1 };

static struct {
    CURLM *multi;
    int epoll_fd, timer_fd;
    int64_t curl_due_ns;            /* -1: curl wants no timeout */
    request_t *free_list, *in_flight;
    uint64_t random_state;
    int64_t start_ns, measure_ns, end_ns, next_ns;
    long sent, ok, http_errors, transport_errors, timeouts, served, answered;
    samples_t latency, lag;
} run;

static void
die(const char *message)
{
    fprintf(stderr, "openloop: %s\n", message);
    exit(1);
}

static int64_t
now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

static void
samples_add(samples_t *samples, double value)
{
    if (samples->count == samples->size) {
        samples->size = samples->size ? samples->size * 2 : 4096;
        samples->values = realloc(samples->values, samples->size * sizeof *samples->values);
        if (!samples->values)
            die("out of memory");
    }
    samples->values[samples->count++] = value;
}

static int
compare_doubles(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* nearest rank: the smallest value with at least `p` of them at or below */
static double
percentile(const samples_t *samples, double p)
{
    if (samples->count == 0)
        return NAN;
    size_t rank = (size_t) ceil(p * (double) samples->count);
    return samples->values[rank ? rank - 1 : 0];
}

/* --- The schedule -------------------------------------------------------- */

static double
random_unit(void)               /* xorshift64*, in (0, 1] */
{
    run.random_state ^= run.random_state >> 12;
    run.random_state ^= run.random_state << 25;
    run.random_state ^= run.random_state >> 27;
    uint64_t x = run.random_state * 0x2545F4914F6CDD1Dull;
    return ((double) (x >> 11) + 1.0) / 9007199254740992.0;
}

static int64_t
next_interval_ns(void)
{
    double mean = 1e9 / config.rate;
    return (int64_t) (config.poisson ? -log(random_unit()) * mean : mean);
}

static const route_t *
pick_route(void)
{
    unsigned ticket = (unsigned) (random_unit() * config.weight_total);
    for (size_t i = 0; i < config.route_count; i++) {
        if (ticket < config.routes[i].weight)
            return &config.routes[i];
        ticket -= config.routes[i].weight;
    }
    return &config.routes[config.route_count - 1];
}

static size_t
discard_body(char *data, size_t size, size_t count, void *arg)
{
    return size * count;
}

static void
start_request(int64_t scheduled_ns, int64_t now)
{
    request_t *request = run.free_list;
    if (request) {
        run.free_list = request->next;
    } else {
        request = calloc(1, sizeof *request);
        if (!request || !(request->easy = curl_easy_init()))
            die("out of memory");
        curl_easy_setopt(request->easy, CURLOPT_PRIVATE, request);
        curl_easy_setopt(request->easy, CURLOPT_WRITEFUNCTION, discard_body);
        curl_easy_setopt(request->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(request->easy, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(request->easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(request->easy, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
    }
    curl_easy_setopt(request->easy, CURLOPT_URL, pick_route()->url);
    request->scheduled_ns = scheduled_ns;
    request->measured = scheduled_ns >= run.measure_ns;
    request->prev = NULL;
    request->next = run.in_flight;
    if (run.in_flight)
        run.in_flight->prev = request;
    run.in_flight = request;
    if (request->measured) {
        run.sent++;
        samples_add(&run.lag, (double) (now - scheduled_ns) / 1e6);
    }
    if (curl_multi_add_handle(run.multi, request->easy) != CURLM_OK)
        die("curl_multi_add_handle failed");
}

static void
arm_schedule_timer(void)
{
    struct itimerspec due = { 0 };
    if (run.next_ns < run.end_ns) {
        due.it_value.tv_sec = run.next_ns / 1000000000;
        due.it_value.tv_nsec = run.next_ns % 1000000000;
    }
    if (timerfd_settime(run.timer_fd, TFD_TIMER_ABSTIME, &due, NULL) != 0)
        die("timerfd_settime failed");
}

/* sends every request whose time has come, then waits for the next one */
static void
send_due(void)
{
    uint64_t expirations;
    if (read(run.timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        die("reading the timerfd failed");
    int64_t now = now_ns();
    while (run.next_ns < run.end_ns && run.next_ns <= now) {
        start_request(run.next_ns, now);
        run.next_ns += next_interval_ns();
    }
    arm_schedule_timer();
}

/* --- Completions --------------------------------------------------------- */

static void
finish(request_t *request, int64_t now, long status, bool transport_error)
{
    curl_multi_remove_handle(run.multi, request->easy);
    if (request->prev)
        request->prev->next = request->next;
    else
        run.in_flight = request->next;
    if (request->next)
        request->next->prev = request->prev;
    if (request->measured) {
        if (transport_error)
            run.transport_errors++;
        else if (status == 0)
            run.timeouts++;
        else if (status >= 200 && status < 300)
            run.ok++;
        else
            run.http_errors++;
        if (!transport_error)
            samples_add(&run.latency, (double) (now - request->scheduled_ns) / 1e6);
    }
    if (status != 0)
        run.answered++;
    if (status != 0 && now >= run.measure_ns && now < run.end_ns)
        run.served++;
    request->next = run.free_list;
    run.free_list = request;
}

static void
collect_completions(void)
{
    CURLMsg *message;
    int left;
    int64_t now = now_ns();
    while ((message = curl_multi_info_read(run.multi, &left))) {
        if (message->msg != CURLMSG_DONE)
            continue;
        request_t *request;
        long status = 0;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **) &request);
        bool failed = message->data.result != CURLE_OK;
        if (!failed)
            curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        else if (run.transport_errors < 3 && request->measured)
            fprintf(stderr, "openloop: %s\n", curl_easy_strerror(message->data.result));
        finish(request, now, status, failed);
    }
}

/* --- curl on epoll ------------------------------------------------------- */

static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socket_arg)
{
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(run.epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event event = { .data.fd = fd };
    if (what & CURL_POLL_IN)
        event.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        event.events |= EPOLLOUT;
    if (epoll_ctl(run.epoll_fd, EPOLL_CTL_MOD, fd, &event) != 0
        && (errno != ENOENT || epoll_ctl(run.epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0))
        die("epoll_ctl failed");
    return 0;
}

static int
on_curl_timer(CURLM *multi, long timeout_ms, void *arg)
{
    run.curl_due_ns = timeout_ms < 0 ? -1 : now_ns() + (int64_t) timeout_ms * 1000000;
    return 0;
}

static void
drive(void)
{
    int running;
    struct epoll_event events[64];
    int64_t give_up_ns = run.end_ns + (int64_t) (config.drain_s * 1e9);
    while (run.next_ns < run.end_ns || run.in_flight) {
        int64_t now = now_ns();
        if (now >= give_up_ns)
            break;
        int64_t wait_ns = give_up_ns - now;
        if (run.curl_due_ns >= 0 && run.curl_due_ns - now < wait_ns)
            wait_ns = run.curl_due_ns > now ? run.curl_due_ns - now : 0;
        int count = epoll_wait(run.epoll_fd, events, 64, (int) ((wait_ns + 999999) / 1000000));
        if (count < 0 && errno != EINTR)
            die("epoll_wait failed");
        for (int i = 0; i < count; i++) {
            if (events[i].data.fd == run.timer_fd) {
                send_due();
                continue;
            }
            int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0)
                      | (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0)
                      | (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(run.multi, events[i].data.fd, flags, &running);
        }
        if (run.curl_due_ns >= 0 && now_ns() >= run.curl_due_ns) {
            run.curl_due_ns = -1;
            curl_multi_socket_action(run.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        collect_completions();
    }
    int64_t now = now_ns();
    while (run.in_flight)               /* unanswered: timeouts */
        finish(run.in_flight, now, 0, false);
}

/* --- Set-up and report --------------------------------------------------- */

static void
usage(void)
{
    fprintf(stderr,
        "usage: openloop -r RATE [-d SECONDS] [-w SECONDS] [-t SECONDS] [-c CONNECTIONS]\n"
        "                [-a poisson|uniform] [-s SEED] [-p WEIGHT:PATH]... BASE_URL\n"
        "  -r  offered requests per second          -d  measured seconds [10]\n"
        "  -w  warm-up seconds, not measured [1]    -t  drain: seconds to wait after the last send [5]\n"
        "  -c  connections at most [256]            -a  arrivals [poisson]\n"
        "  -p  a route of the mix and its weight (repeat; default 1:/)\n");
    exit(64);
}

static double
positive(const char *text, bool allow_zero)
{
    char *end;
    double value = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !isfinite(value) || value < 0 || (!allow_zero && value == 0))
        usage();
    return value;
}

static void
parse_arguments(int argc, char **argv)
{
    const char *paths[MAX_ROUTES];
    unsigned weights[MAX_ROUTES];
    size_t count = 0;
    int option;
    while ((option = getopt(argc, argv, "r:d:w:t:c:a:s:p:")) != -1) {
        switch (option) {
        case 'r': config.rate = positive(optarg, false); break;
        case 'd': config.duration_s = positive(optarg, false); break;
        case 'w': config.warmup_s = positive(optarg, true); break;
        case 't': config.drain_s = positive(optarg, true); break;
        case 'c': config.connections = (long) positive(optarg, false); break;
        case 's': config.seed = (uint64_t) positive(optarg, true); break;
        case 'a':
            if (strcmp(optarg, "poisson") != 0 && strcmp(optarg, "uniform") != 0)
                usage();
            config.poisson = strcmp(optarg, "poisson") == 0;
            break;
        case 'p': {
            char *colon = strchr(optarg, ':');
            if (!colon || count == MAX_ROUTES || colon[1] != '/')
                usage();
            *colon = '\0';
            weights[count] = (unsigned) positive(optarg, false);
            paths[count++] = colon + 1;
            break;
        }
        default: usage();
        }
    }
    if (optind != argc - 1 || config.rate == 0 || config.connections < 1)
        usage();
    if (count == 0) {
        paths[0] = "/";
        weights[count++] = 1;
    }
    const char *base = argv[optind];
    size_t base_length = strlen(base);
    while (base_length && base[base_length - 1] == '/')
        base_length--;
    for (size_t i = 0; i < count; i++) {
        route_t *route = &config.routes[config.route_count++];
        size_t size = base_length + strlen(paths[i]) + 1;
        if (!(route->url = malloc(size)))
            die("out of memory");
        snprintf(route->url, size, "%.*s%s", (int) base_length, base, paths[i]);
        route->weight = weights[i];
        config.weight_total += weights[i];
    }
}

static double
cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
         + (double) (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int
main(int argc, char **argv)
{
    parse_arguments(argc, argv);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(run.multi = curl_multi_init()))
        die("curl initialisation failed");
    curl_multi_setopt(run.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(run.multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(run.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, config.connections);
    curl_multi_setopt(run.multi, CURLMOPT_MAX_HOST_CONNECTIONS, config.connections);
    curl_multi_setopt(run.multi, CURLMOPT_MAXCONNECTS, config.connections);
    curl_multi_setopt(run.multi, CURLMOPT_PIPELINING, (long) CURLPIPE_NOTHING);
    run.curl_due_ns = -1;
    run.random_state = config.seed * 0x9E3779B97F4A7C15ull | 1;
    run.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    run.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event event = { .events = EPOLLIN, .data.fd = run.timer_fd };
    if (run.epoll_fd < 0 || run.timer_fd < 0
        || epoll_ctl(run.epoll_fd, EPOLL_CTL_ADD, run.timer_fd, &event) != 0)
        die("epoll or timerfd set-up failed");

    double cpu_before = cpu_seconds();
    run.start_ns = now_ns();
    run.measure_ns = run.start_ns + (int64_t) (config.warmup_s * 1e9);
    run.end_ns = run.measure_ns + (int64_t) (config.duration_s * 1e9);
    run.next_ns = run.start_ns;
    arm_schedule_timer();
    drive();
    double busy = (cpu_seconds() - cpu_before) / ((double) (now_ns() - run.start_ns) / 1e9);

    qsort(run.latency.values, run.latency.count, sizeof (double), compare_doubles);
    qsort(run.lag.values, run.lag.count, sizeof (double), compare_doubles);
    printf("offered=%.1f sent=%ld ok=%ld http_errors=%ld transport_errors=%ld timeouts=%ld "
           "served=%.1f answered=%ld p50=%.3f p75=%.3f p95=%.3f p99=%.3f max=%.3f lag_p99=%.3f "
           "loadgen_cpu=%.2f\n",
           config.rate, run.sent, run.ok, run.http_errors, run.transport_errors, run.timeouts,
           (double) run.served / config.duration_s, run.answered, percentile(&run.latency, 0.50),
           percentile(&run.latency, 0.75), percentile(&run.latency, 0.95),
           percentile(&run.latency, 0.99), percentile(&run.latency, 1.0),
           percentile(&run.lag, 0.99), busy);

    for (request_t *request = run.free_list, *next; request; request = next) {
        next = request->next;
        curl_easy_cleanup(request->easy);
        free(request);
    }
    curl_multi_cleanup(run.multi);
    curl_global_cleanup();
    for (size_t i = 0; i < config.route_count; i++)
        free(config.routes[i].url);
    free(run.latency.values);
    free(run.lag.values);
    close(run.timer_fd);
    close(run.epoll_fd);
    return run.sent > 0 ? 0 : 1;
}
