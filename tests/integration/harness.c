/* harness.c: a real corral instance for integration tests, and an HTTP
 * client (libcurl). */
#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct instance {
    char dir[256];
    char config_file[320];
    char pid_file[320];
    pid_t pid;
    int pidfd;
    int port;
    bool exited;
    int exit_status;
    int notify_fd;
    long fd_limit;                  /* RLIMIT_NOFILE for corral; 0: inherited */
    pid_t workers[WORKERS_MAX];
    int worker_count;
    /* corral's output, read by a thread */
    int output_fd;
    pthread_t reader;
    bool reading;
    pthread_mutex_t lock;
    pthread_cond_t grew;
    char *output;
    size_t output_length;
    bool output_closed;
    instance_t *next_live;          /* in `live`, until destroyed */
};

/* Every instance not destroyed yet: a failed assertion leaves its test
 * without destroying it (cmocka jumps out), so the process's exit does. */
static instance_t *live;

static void
destroy_leftovers(void)
{
    while (live) {
        instance_t *left = live;
        instance_destroy(&left);
    }
}

static int64_t
now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void
fail(const char *what)
{
    fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
    abort();
}

instance_t *
instance_new(void)
{
    /* orphaned workers come to us, so that we can see and reap them */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    instance_t *self = calloc(1, sizeof *self);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(self->dir, sizeof self->dir, "%s/corral-test.XXXXXX", tmp);
    if (!mkdtemp(self->dir))
        fail("mkdtemp");
    snprintf(self->config_file, sizeof self->config_file, "%s/corral.yml", self->dir);
    snprintf(self->pid_file, sizeof self->pid_file, "%s/corral.pid", self->dir);
    self->pid = -1;
    self->pidfd = -1;
    self->notify_fd = -1;
    self->output_fd = -1;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->grew, NULL);
    self->output = calloc(1, 1);
    static bool registered;
    if (!registered)
        registered = atexit(destroy_leftovers) == 0;
    self->next_live = live;
    live = self;
    return self;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void
instance_destroy(instance_t **self_p)
{
    instance_t *self = *self_p;
    if (!self)
        return;
    for (instance_t **link = &live; *link; link = &(*link)->next_live)
        if (*link == self) {
            *link = self->next_live;
            break;
        }
    if (self->pid > 0 && !self->exited) {
        kill(self->pid, SIGKILL);
        instance_wait_exit(self, 5000);
    }
    for (int i = 0; i < self->worker_count; i++)
        if (!process_gone(self->workers[i], 0)) {
            kill(self->workers[i], SIGKILL);
            process_gone(self->workers[i], 5000);
        }
    if (self->reading)
        pthread_join(self->reader, NULL);
    if (self->pidfd >= 0)
        close(self->pidfd);
    if (self->notify_fd >= 0)
        close(self->notify_fd);
    nftw(self->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(self->output);
    free(self);
    *self_p = NULL;
}

const char *
instance_dir(const instance_t *self)
{
    return self->dir;
}

const char *
instance_pid_file(const instance_t *self)
{
    return self->pid_file;
}

void
instance_write_config(instance_t *self, const char *yaml)
{
    FILE *file = fopen(self->config_file, "w");
    if (!file || fputs(yaml, file) < 0 || fclose(file) != 0)
        fail("writing the config");
}

void
instance_write_cluster_config(instance_t *self, int workers, const char *extra)
{
    instance_write_cluster_config_with(self, workers, NULL, extra);
}

void
instance_write_quick_config(instance_t *self, const char *logging)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0, test_routes: true }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "node: { workers: { count: 1, " TEST_WORKER " }, shutdown_timeout: 10s,\n"
             "        status: { interval: 100ms } }\n"
             "%s%s", logging ? "logging:\n" : "", logging ? logging : "");
    instance_write_config(self, yaml);
}

void
instance_write_cluster_config_with(instance_t *self, int workers, const char *server,
                                   const char *extra)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0%s%s }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "node:\n"
             "  workers: { count: %d, " TEST_WORKER " }\n"
             "  shutdown_timeout: 10s\n"
             "logging: { root: { level: debug } }\n"
             "%s", server ? ", " : "", server ? server : "", workers, extra ? extra : "");
    instance_write_config(self, yaml);
}

/* --- Output ------------------------------------------------------------------ */

static void *
read_output(void *arg)
{
    instance_t *self = arg;
    char buffer[4096];
    ssize_t n;
    while ((n = read(self->output_fd, buffer, sizeof buffer)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        fwrite(buffer, 1, (size_t) n, stderr);  /* the test log shows it all */
        pthread_mutex_lock(&self->lock);
        self->output = realloc(self->output, self->output_length + (size_t) n + 1);
        memcpy(self->output + self->output_length, buffer, (size_t) n);
        self->output_length += (size_t) n;
        self->output[self->output_length] = '\0';
        pthread_cond_broadcast(&self->grew);
        pthread_mutex_unlock(&self->lock);
    }
    close(self->output_fd);
    pthread_mutex_lock(&self->lock);
    self->output_closed = true;
    pthread_cond_broadcast(&self->grew);
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

bool
instance_wait_output(instance_t *self, const char *text, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&self->lock);
    bool found;
    while (!(found = strstr(self->output, text) != NULL) && !self->output_closed)
        if (pthread_cond_timedwait(&self->grew, &self->lock, &deadline) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&self->lock);
    return found;
}

const char *
instance_output(instance_t *self)
{
    return self->output;
}

/* --- The process ---------------------------------------------------------------- */

static int
open_notify_socket(const char *dir, char *path, size_t size)
{
    snprintf(path, size, "%s/notify.sock", dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof address.sun_path)
        fail("the notify socket's path is too long");
    memcpy(address.sun_path, path, strlen(path));
    if (fd < 0 || bind(fd, (struct sockaddr *) &address, sizeof address) != 0)
        fail("the notify socket");
    return fd;
}

void
instance_set_fd_limit(instance_t *self, long limit)
{
    self->fd_limit = limit;
}

static pid_t
spawn_corral(char *const argv[], int output_fd, int stdout_fd, const char *notify_path,
             const char *runtime_dir, long fd_limit)
{
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        dup2(stdout_fd >= 0 ? stdout_fd : output_fd, 1);
        dup2(output_fd, 2);
        if (notify_path)
            setenv("NOTIFY_SOCKET", notify_path, 1);
        if (runtime_dir)
            setenv("XDG_RUNTIME_DIR", runtime_dir, 1);
        struct rlimit files = { (rlim_t) fd_limit, (rlim_t) fd_limit };
        if (fd_limit > 0 && setrlimit(RLIMIT_NOFILE, &files) != 0)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

void
instance_start(instance_t *self)
{
    instance_start_with_stdout(self, -1);
}

void
instance_start_with_stdout(instance_t *self, int stdout_fd)
{
    char notify_path[320];
    self->notify_fd = open_notify_socket(self->dir, notify_path, sizeof notify_path);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        fail("pipe");
    char *argv[] = { CORRAL_BIN_DIR "/corral", "-c", self->config_file, NULL };
    self->pid = spawn_corral(argv, pipe_fds[1], stdout_fd, notify_path, self->dir,
                             self->fd_limit);
    close(pipe_fds[1]);
    self->pidfd = (int) pidfd_open(self->pid, 0);
    if (self->pidfd < 0)
        fail("pidfd_open");
    self->output_fd = pipe_fds[0];
    pthread_create(&self->reader, NULL, read_output, self);
    self->reading = true;
}

bool
instance_wait_ready(instance_t *self, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        struct pollfd events[2] = {
            { self->notify_fd, POLLIN, 0 }, { self->pidfd, POLLIN, 0 },
        };
        if (left <= 0 || poll(events, 2, (int) left) <= 0 || (events[1].revents & POLLIN))
            return false;       /* timed out, or corral exited first */
        char message[1024];
        ssize_t n = recv(self->notify_fd, message, sizeof message - 1, 0);
        if (n <= 0)
            continue;
        message[n] = '\0';
        const char *url = strstr(message, "http://");
        const char *colon = url ? strchr(url + 7, ':') : NULL;
        if (colon)
            self->port = atoi(colon + 1);
        if (strstr(message, "READY=1")) {
            instance_workers(self, NULL, 0);
            return self->port > 0;
        }
    }
}

bool
instance_wait_exit(instance_t *self, int timeout_ms)
{
    if (self->exited)
        return true;
    struct pollfd event = { self->pidfd, POLLIN, 0 };
    if (poll(&event, 1, timeout_ms) <= 0)
        return false;
    if (waitpid(self->pid, &self->exit_status, 0) != self->pid)
        fail("waitpid");
    self->exited = true;
    return true;
}

int
instance_exit_status(const instance_t *self)
{
    return self->exit_status;
}

pid_t
instance_pid(const instance_t *self)
{
    return self->pid;
}

int
instance_port(const instance_t *self)
{
    return self->port;
}

static void
remember_worker(instance_t *self, pid_t pid)
{
    for (int i = 0; i < self->worker_count; i++)
        if (self->workers[i] == pid)
            return;
    if (self->worker_count < WORKERS_MAX)
        self->workers[self->worker_count++] = pid;
}

int
instance_workers(instance_t *self, pid_t *pids, int max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) self->pid, (int) self->pid);
    FILE *file = fopen(path, "r");
    int count = 0;
    int pid;
    while (file && fscanf(file, "%d", &pid) == 1) {
        remember_worker(self, pid);
        if (count < max)
            pids[count] = pid;
        count++;
    }
    if (file)
        fclose(file);
    return count;
}

bool
process_gone(pid_t pid, int timeout_ms)
{
    int pidfd = (int) pidfd_open(pid, 0);
    if (pidfd < 0)
        return errno == ESRCH;
    struct pollfd event = { pidfd, POLLIN, 0 };
    bool gone = poll(&event, 1, timeout_ms) > 0;
    close(pidfd);
    if (gone)
        waitpid(pid, NULL, WNOHANG);    /* reap it if it was ours (subreaper) */
    return gone;
}

int
run_corral(char **output, const char *arg, ...)
{
    char *argv[16] = { CORRAL_BIN_DIR "/corral" };
    int argc = 1;
    va_list args;
    va_start(args, arg);
    for (const char *a = arg; a && argc < 15; a = va_arg(args, const char *))
        argv[argc++] = (char *) a;
    va_end(args);
    return run_program(output, argv);
}

int
run_program(char **output, char *const argv[])
{
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        fail("pipe");
    pid_t pid = spawn_corral(argv, pipe_fds[1], -1, NULL, NULL, 0);
    close(pipe_fds[1]);
    size_t length = 0;
    char *text = calloc(1, 1);
    char buffer[4096];
    ssize_t n;
    while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
        text = realloc(text, length + (size_t) n + 1);
        memcpy(text + length, buffer, (size_t) n);
        length += (size_t) n;
        text[length] = '\0';
    }
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    fputs(text, stderr);
    if (output)
        *output = text;
    else
        free(text);
    return status;
}

/* --- HTTP ------------------------------------------------------------------------ */

static size_t
collect_body(char *data, size_t size, size_t count, void *arg)
{
    response_t *response = arg;
    size_t length = response->body ? strlen(response->body) : 0;
    response->body = realloc(response->body, length + size * count + 1);
    memcpy(response->body + length, data, size * count);
    response->body[length + size * count] = '\0';
    return size * count;
}

static size_t
collect_header(char *data, size_t size, size_t count, void *arg)
{
    response_t *response = arg;
    static const char name[] = "X-Corral-Worker:";
    size_t length = size * count;
    if (length > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *value = data + sizeof name - 1;
        while (*value == ' ')
            value++;
        size_t value_length = strcspn(value, "\r\n");
        if (value_length >= sizeof response->worker)
            value_length = sizeof response->worker - 1;
        memcpy(response->worker, value, value_length);
        response->worker[value_length] = '\0';
    }
    return length;
}

/* A client for GET http://127.0.0.1:PORT/PATH. */
static CURL *
new_client(int port, const char *path)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    return curl;
}

static bool http_exchange(int port, const char *method, const char *path,
                          response_t *response);

bool
http_get(int port, const char *path, response_t *response)
{
    return http_exchange(port, "GET", path, response);
}

/* METHOD PATH on a fresh connection, the body collected and parsed. */
static bool
http_exchange(int port, const char *method, const char *path, response_t *response)
{
    memset(response, 0, sizeof *response);
    CURL *curl = new_client(port, path);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, response);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
    else
        fprintf(stderr, "harness: GET %s: %s\n", path, curl_easy_strerror(rc));
    curl_easy_cleanup(curl);
    if (response->body)
        response->json = json_loads(response->body, 0, NULL);
    return rc == CURLE_OK;
}

static size_t
discard_body(char *data, size_t size, size_t count, void *arg)
{
    return size * count;
}

long
http_second_get_connects(int port, const char *path)
{
    CURL *curl = new_client(port, path);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    long connects = -1;
    if (curl_easy_perform(curl) == CURLE_OK && curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_cleanup(curl);
    return connects;
}

void
response_clear(response_t *response)
{
    free(response->body);
    json_decref(response->json);
    memset(response, 0, sizeof *response);
}

int
raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    struct timeval timeout = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect(fd, (struct sockaddr *) &address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads until the server closes (or the 10 s timeout), then closes `fd`. */
static int
read_all(int fd, char *reply, size_t size, bool *closed)
{
    size_t length = 0;
    ssize_t n = 0;
    while (length < size - 1 && (n = read(fd, reply + length, size - 1 - length)) > 0)
        length += (size_t) n;
    reply[length] = '\0';
    if (closed)
        *closed = n == 0 || (n < 0 && errno == ECONNRESET);
    close(fd);
    return (int) length;
}

int
raw_read_all(int fd, char *reply, size_t size)
{
    return read_all(fd, reply, size, NULL);
}

int
raw_exchange(int port, const char *bytes, char *reply, size_t size)
{
    return raw_exchange_bytes(port, bytes, strlen(bytes), reply, size, NULL);
}

int
raw_exchange_bytes(int port, const char *bytes, size_t count, char *reply, size_t size,
                   bool *closed)
{
    int fd = raw_connect(port);
    if (fd < 0)
        return -1;
    if (write(fd, bytes, count) != (ssize_t) count) {
        close(fd);
        return -1;
    }
    return read_all(fd, reply, size, closed);
}

char *
read_text_file(const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return NULL;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, file)) > 0)
        fwrite(buffer, 1, n, out);
    fclose(file);
    fclose(out);
    return text;
}

/* --- Status and stats (issue 5) --------------------------------------------------- */

bool
http_request_to(int port, const char *method, const char *path, const char *worker,
                response_t *response)
{
    for (int attempt = 0; attempt < 2000; attempt++) {
        if (!http_exchange(port, method, path, response))
            return false;
        if (!worker || strcmp(response->worker, worker) == 0)
            return true;
        response_clear(response);
    }
    fprintf(stderr, "harness: %s %s never reached %s\n", method, path, worker);
    return false;
}

char *
instance_desk_endpoint(const instance_t *self)
{
    char pattern[400];
    snprintf(pattern, sizeof pattern, "%s/corral/*/desk", self->dir);
    glob_t found;
    char *endpoint = NULL;
    if (glob(pattern, 0, NULL, &found) == 0 && found.gl_pathc == 1) {
        endpoint = malloc(strlen(found.gl_pathv[0]) + 7);
        sprintf(endpoint, "ipc://%s", found.gl_pathv[0]);
    }
    globfree(&found);
    return endpoint;
}

bool
instance_stop(instance_t **self_p)
{
    instance_t *self = *self_p;
    kill(self->pid, SIGTERM);
    bool stopped = instance_wait_exit(self, 15000) && WIFEXITED(self->exit_status)
        && WEXITSTATUS(self->exit_status) == 0;
    instance_destroy(self_p);
    return stopped;
}

/* --- The node service (issue 3) ------------------------------------------------ */

char *
instance_output_copy(instance_t *self)
{
    pthread_mutex_lock(&self->lock);
    char *copy = strdup(self->output);
    pthread_mutex_unlock(&self->lock);
    return copy;
}

/* --- Hardening (issue 15) ------------------------------------------------------- */

int64_t
harness_now_ms(void)
{
    return now_ms();
}

/* The value at a dotted path ("logs.coordinator.dropped") in `root`. */
static json_t *
json_at(json_t *root, const char *dotted)
{
    json_t *node = root;
    char path[256];
    snprintf(path, sizeof path, "%s", dotted);
    char *saved = NULL;
    for (char *part = strtok_r(path, ".", &saved); node && part;
         part = strtok_r(NULL, ".", &saved))
        node = json_object_get(node, part);
    return node;
}

long long
stats_integer(const instance_t *self, const char *dotted)
{
    response_t response;
    if (!http_get(instance_port(self), "/api/stats", &response))
        return -1;
    json_t *node = json_at(response.json, dotted);
    long long value = json_is_integer(node) ? (long long) json_integer_value(node) : -1;
    response_clear(&response);
    return value;
}

char *
api_string(const instance_t *self, const char *route, const char *dotted)
{
    response_t response;
    if (!http_get(instance_port(self), route, &response))
        return strdup("");
    json_t *node = json_at(response.json, dotted);
    char *value = strdup(json_is_string(node) ? json_string_value(node) : "");
    response_clear(&response);
    return value;
}

long long
await_stats_integer(const instance_t *self, const char *dotted, long long at_least,
                    int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    long long value;
    struct timespec nap = { 0, 20 * 1000 * 1000 };
    while ((value = stats_integer(self, dotted)) < at_least && now_ms() < deadline)
        nanosleep(&nap, NULL);
    return value;
}

bool
instance_aim_log_job(const instance_t *self, int worker, const char *query)
{
    char path[256];
    snprintf(path, sizeof path, "/api/log?worker=%d&%s", worker, query);
    for (int i = 0; i < 400; i++) {
        response_t response;
        if (!http_get(instance_port(self), path, &response))
            return false;
        long status = response.status;
        response_clear(&response);
        if (status == 202)
            return true;
        if (status != 409)
            return false;
    }
    return false;
}
