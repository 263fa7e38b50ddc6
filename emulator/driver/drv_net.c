/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int drv_net_resolve(const char *host, uint16_t port, struct sockaddr_in *out, char *err, size_t err_len)
{
    struct addrinfo hints, *res = NULL;
    int rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET; /* the pcap writer records IPv4 only */
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, err_len, "cannot resolve '%s' to an IPv4 address: %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, sizeof *out);
    out->sin_port = htons(port);
    freeaddrinfo(res);
    return 0;
}

int drv_net_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int drv_net_udp_socket(const struct sockaddr_in *local)
{
    int size = 4 << 20; /* bursts of many terminals; the kernel caps it at rmem_max */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (drv_net_nonblock(fd) < 0 || (local && bind(fd, (const struct sockaddr *)local, sizeof *local) < 0)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

wmmp_pcap_endpoint drv_net_endpoint(const struct sockaddr_in *a)
{
    wmmp_pcap_endpoint e = { ntohl(a->sin_addr.s_addr), ntohs(a->sin_port) };
    return e;
}

wmmp_pcap_endpoint drv_net_local(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    wmmp_pcap_endpoint e = { 0, 0 };
    if (getsockname(fd, (struct sockaddr *)&a, &len) == 0 && a.sin_family == AF_INET)
        e = drv_net_endpoint(&a);
    return e;
}

const char *drv_net_name(const struct sockaddr_in *a, char *buf, size_t len)
{
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
    return buf;
}
