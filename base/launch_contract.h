/* launch_contract.h: what every program the coordinator starts finds when
 * it starts (docs/worker-protocol.md, "The environment"): the descriptors
 * it inherits, the environment variables that name them, and the exit
 * statuses it answers with (corral/exit_status.h, public: a worker in any
 * language uses the numbers). Defined once, here: the coordinator's
 * launcher (broker/supervision/launch.c) writes them, libcorral reads them. */
#ifndef CORRAL_LAUNCH_CONTRACT_H
#define CORRAL_LAUNCH_CONTRACT_H

#include "corral/exit_status.h"

/* systemd's SD_LISTEN_FDS_START: the listening socket of a worker (one),
 * or of a new coordinator (LISTEN_FDS of them) */
#define CORRAL_LISTEN_FDS_START 3
/* the read end of a pipe holding the worker's secret (proto/worker_secret.h) */
#define CORRAL_SECRET_FD 4
/* balancing shared: the connection channel and its counters page
 * (proto/handoff_wire.h); named in the environment all the same */
#define CORRAL_HANDOFF_FD 5
#define CORRAL_HANDOFF_COUNTERS_FD 6

/* systemd's socket activation and readiness */
#define CORRAL_ENV_LISTEN_FDS "LISTEN_FDS"
#define CORRAL_ENV_LISTEN_PID "LISTEN_PID"
#define CORRAL_ENV_LISTEN_FDNAMES "LISTEN_FDNAMES"
#define CORRAL_ENV_NOTIFY_SOCKET "NOTIFY_SOCKET"
/* systemd's watchdog: the instance's main PID's, or a plain worker's own */
#define CORRAL_ENV_WATCHDOG_USEC "WATCHDOG_USEC"
#define CORRAL_ENV_WATCHDOG_PID "WATCHDOG_PID"
/* a worker's slot number, 1..N */
#define CORRAL_ENV_WORKER_ID "CORRAL_WORKER_ID"
/* clustered: the desk endpoint its Hello goes to */
#define CORRAL_ENV_DESK "CORRAL_DESK"
/* classic: the descriptor holding its packed WorkerConfig */
#define CORRAL_ENV_CONFIG_FD "CORRAL_CONFIG_FD"
/* clustered: CORRAL_SECRET_FD, the number only */
#define CORRAL_ENV_SECRET_FD "CORRAL_SECRET_FD"
/* balancing shared: the connection channel (proto/handoff_wire.h) */
#define CORRAL_ENV_HANDOFF_FD "CORRAL_HANDOFF_FD"
#define CORRAL_ENV_HANDOFF_COUNTERS_FD "CORRAL_HANDOFF_COUNTERS_FD"
/* a new coordinator of a SIGUSR2 upgrade (broker/supervision/upgrade_exec.h) */
#define CORRAL_ENV_UPGRADE "CORRAL_UPGRADE"

/* The bad-configuration status of corral, corralctl and every worker
 * (sysexits.h EX_CONFIG). */
#define CORRAL_EXIT_CONFIG CORRAL_WORKER_EXIT_CONFIG

#endif
