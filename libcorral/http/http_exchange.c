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

/* "192.0.2.7": by hand, as inet_ntop costs as much as the rest of an
 * access log line's fields together. `buffer` holds at least 16 bytes. */
static const char *
ipv4_text(const struct in_addr *address, char *buffer)
{
    const unsigned char *octets = (const unsigned char *) &address->s_addr;
    char *at = buffer;
    for (int i = 0; i < 4; i++) {
        unsigned value = octets[i];
        if (value >= 100)
            *at++ = (char) ('0' + value / 100);
        if (value >= 10)
            *at++ = (char) ('0' + value / 10 % 10);
        *at++ = (char) ('0' + value % 10);
        *at++ = i < 3 ? '.' : '\0';
    }
    return buffer;
}

const char *
corral_http_exchange_client(const corral_http_exchange_t *exchange, char *buffer, size_t size)
{
    const union MHD_ConnectionInfo *info = exchange->connection
        ? MHD_get_connection_info(exchange->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS)
        : NULL;
    const struct sockaddr *address = info ? info->client_addr : NULL;
    const char *text = NULL;
    if (address && address->sa_family == AF_INET && size >= INET_ADDRSTRLEN)
        text = ipv4_text(&((const struct sockaddr_in *) address)->sin_addr, buffer);
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
