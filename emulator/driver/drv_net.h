/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small socket helpers shared by the live and load drivers (IPv4). */
#ifndef DRV_NET_H
#define DRV_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "pcap_writer.h"

/* Resolves host (name or dotted quad) to an IPv4 address: 0, or -1 with a reason in err. */
int drv_net_resolve(const char *host, uint16_t port, struct sockaddr_in *out, char *err, size_t err_len);
int drv_net_nonblock(int fd);
/* A non-blocking UDP socket bound to local (port 0: any), with big buffers; -1 and errno on failure. */
int drv_net_udp_socket(const struct sockaddr_in *local);
wmmp_pcap_endpoint drv_net_endpoint(const struct sockaddr_in *a);
/* The local address of a socket as a pcap endpoint. */
wmmp_pcap_endpoint drv_net_local(int fd);
/* "a.b.c.d:port" */
const char *drv_net_name(const struct sockaddr_in *a, char *buf, size_t len);

#endif
