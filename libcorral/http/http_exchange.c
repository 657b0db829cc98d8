/* http_exchange.c: what an observer of the HTTP server (http_server.h)
 * may look up about a request that ended, beyond the exchange's fields:
 * the client's address and the request's headers. Looked up only when
 * asked, so that an observer that does not need them (the request
 * metrics, the access log when it is off) pays nothing. */
#include "http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>

const char *
corral_http_exchange_client(const corral_http_exchange_t *exchange, char *buffer, size_t size)
{
    const union MHD_ConnectionInfo *info = exchange->connection
        ? MHD_get_connection_info(exchange->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS)
        : NULL;
    const struct sockaddr *address = info ? info->client_addr : NULL;
    const char *text = NULL;
    if (address && address->sa_family == AF_INET)
        text = inet_ntop(AF_INET, &((const struct sockaddr_in *) address)->sin_addr,
                         buffer, (socklen_t) size);
    else if (address && address->sa_family == AF_INET6)
        text = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) address)->sin6_addr,
                         buffer, (socklen_t) size);
    if (!text)
        snprintf(buffer, size, "-");
    return buffer;
}

const char *
corral_http_exchange_header(const corral_http_exchange_t *exchange, const char *name)
{
    return exchange->connection
        ? MHD_lookup_connection_value(exchange->connection, MHD_HEADER_KIND, name) : NULL;
}
