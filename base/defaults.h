/* defaults.h: the defaults and floors that both the coordinator and the
 * workers apply, defined once. The configuration (broker/config/) fills
 * every default before a worker starts; a worker applies these where its
 * WorkerConfig leaves a value at 0 (a coordinator that did not send it). */
#ifndef CORRAL_DEFAULTS_H
#define CORRAL_DEFAULTS_H

/* server.limits (docs/configuration.md) */
#define CORRAL_DEFAULT_MAX_CONNECTIONS 4096
#define CORRAL_DEFAULT_HEADER_TIMEOUT_MS 20000
#define CORRAL_DEFAULT_IDLE_TIMEOUT_MS 60000
#define CORRAL_DEFAULT_KEEPALIVE_REQUESTS 1000     /* nginx's */
#define CORRAL_DEFAULT_KEEPALIVE_TIME_MS 3600000   /* 1h, nginx's */

/* node.status.interval: shorter values are raised to this, in the workers'
 * reports and in the coordinator's check for silent workers alike. */
#define CORRAL_STATUS_INTERVAL_MIN_MS 10

#endif
