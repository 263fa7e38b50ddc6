/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recording what a driver sends and receives (--pcap) with the pcap writer. A NULL recorder records
 * nothing, so drivers call these unconditionally. The first write error is logged once and kept; later
 * records are skipped and drv_pcap_close() reports it.
 *
 * TCP: one flow per connection, its handshake written when the connection is made. Real TCP may split or
 * coalesce a stream; the recording writes each message as one segment where it is sent and where it is
 * framed on receipt (a message beyond one segment's payload is written as two segments).
 */
#ifndef DRV_PCAP_H
#define DRV_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "emu_env.h"
#include "pcap_writer.h"

typedef struct drv_pcap drv_pcap;
typedef struct drv_pcap_flow drv_pcap_flow;

/* NULL with a one-line reason in err when path cannot be created. */
drv_pcap *drv_pcap_open(const char *path, const emu_env *log_env, char *err, size_t err_len);
/* 0, or -1 with a reason in err when any record or the close failed. NULL is fine. */
int drv_pcap_close(drv_pcap *r, char *err, size_t err_len);

/* The wall clock as a pcap timestamp (live drivers). */
wmmp_pcap_time drv_pcap_wallclock(void);
/* Virtual time: epoch seconds plus ms. */
wmmp_pcap_time drv_pcap_virtual(uint32_t epoch, emu_ms ms);

void drv_pcap_udp(drv_pcap *r, wmmp_pcap_time ts, const wmmp_pcap_endpoint *src, const wmmp_pcap_endpoint *dst,
                  const uint8_t *msg, size_t len);

/* Writes the handshake at ts; NULL when r is NULL. */
drv_pcap_flow *drv_pcap_tcp_open(drv_pcap *r, wmmp_pcap_time ts, const wmmp_pcap_endpoint *client,
                                 const wmmp_pcap_endpoint *server, uint32_t client_isn, uint32_t server_isn);
void drv_pcap_tcp_data(drv_pcap_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts, const uint8_t *msg, size_t len);
/* Writes the teardown (dir closes first) and frees the flow. NULL is fine. */
void drv_pcap_tcp_close(drv_pcap_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts);

#endif
