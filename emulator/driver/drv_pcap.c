/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct drv_pcap {
    wmmp_pcap pcap;
    const emu_env *log_env;
    char *path;
    wmmp_pcap_err first_err;
};

struct drv_pcap_flow {
    drv_pcap *rec;
    wmmp_tcp_flow flow;
};

static void note(drv_pcap *r, wmmp_pcap_err e)
{
    if (e == WMMP_PCAP_OK || r->first_err != WMMP_PCAP_OK)
        return;
    r->first_err = e;
    emu_logf(r->log_env, EMU_LOG_ERROR, "pcap %s: %s%s%s (recording stops)", r->path, wmmp_pcap_strerror(e),
             e == WMMP_PCAP_ERR_IO ? ": " : "", e == WMMP_PCAP_ERR_IO ? strerror(errno) : "");
}

drv_pcap *drv_pcap_open(const char *path, const emu_env *log_env, char *err, size_t err_len)
{
    drv_pcap *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (wmmp_pcap_open(&r->pcap, path) != WMMP_PCAP_OK) {
        snprintf(err, err_len, "cannot create pcap file %s: %s", path, strerror(errno));
        free(r);
        return NULL;
    }
    r->path = strdup(path);
    r->log_env = log_env;
    return r;
}

int drv_pcap_close(drv_pcap *r, char *err, size_t err_len)
{
    int rc = 0;
    if (!r)
        return 0;
    note(r, wmmp_pcap_close(&r->pcap));
    if (r->first_err != WMMP_PCAP_OK) {
        snprintf(err, err_len, "pcap file %s is incomplete: %s", r->path, wmmp_pcap_strerror(r->first_err));
        rc = -1;
    }
    free(r->path);
    free(r);
    return rc;
}

wmmp_pcap_time drv_pcap_wallclock(void)
{
    struct timespec ts;
    wmmp_pcap_time t;
    clock_gettime(CLOCK_REALTIME, &ts);
    t.sec = (uint32_t)ts.tv_sec;
    t.usec = (uint32_t)(ts.tv_nsec / 1000);
    return t;
}

wmmp_pcap_time drv_pcap_virtual(uint32_t epoch, emu_ms ms)
{
    wmmp_pcap_time t = { epoch, 0 };
    return wmmp_pcap_time_add(t, ms * 1000u);
}

void drv_pcap_udp(drv_pcap *r, wmmp_pcap_time ts, const wmmp_pcap_endpoint *src, const wmmp_pcap_endpoint *dst,
                  const uint8_t *msg, size_t len)
{
    if (!r || r->first_err != WMMP_PCAP_OK)
        return;
    if (len > WMMP_PCAP_MAX_UDP_PAYLOAD) { /* cannot have been one IPv4 datagram either */
        emu_logf(r->log_env, EMU_LOG_WARN, "pcap: a %zu-byte datagram does not fit IPv4; not recorded", len);
        return;
    }
    note(r, wmmp_pcap_write_udp(&r->pcap, ts, src, dst, msg, len));
}

drv_pcap_flow *drv_pcap_tcp_open(drv_pcap *r, wmmp_pcap_time ts, const wmmp_pcap_endpoint *client,
                                 const wmmp_pcap_endpoint *server, uint32_t client_isn, uint32_t server_isn)
{
    drv_pcap_flow *f;
    if (!r || !(f = calloc(1, sizeof *f)))
        return NULL;
    f->rec = r;
    wmmp_tcp_flow_init(&f->flow, &r->pcap, client, server, client_isn, server_isn);
    if (r->first_err == WMMP_PCAP_OK)
        note(r, wmmp_tcp_handshake(&f->flow, ts));
    return f;
}

void drv_pcap_tcp_data(drv_pcap_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts, const uint8_t *msg, size_t len)
{
    while (f && len > 0 && f->rec->first_err == WMMP_PCAP_OK) {
        size_t n = len > WMMP_PCAP_MAX_TCP_PAYLOAD ? WMMP_PCAP_MAX_TCP_PAYLOAD : len;
        note(f->rec, wmmp_tcp_send(&f->flow, dir, ts, msg, n));
        msg += n;
        len -= n;
    }
}

void drv_pcap_tcp_close(drv_pcap_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts)
{
    if (!f)
        return;
    if (f->rec->first_err == WMMP_PCAP_OK)
        note(f->rec, wmmp_tcp_close(&f->flow, dir, ts));
    free(f);
}
