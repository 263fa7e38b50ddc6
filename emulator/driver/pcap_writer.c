/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pcap_writer.h"

#include <stdlib.h>
#include <string.h>

#define ETH_LEN 14
#define IPV4_LEN 20
#define UDP_LEN 8
#define TCP_LEN 20
#define LINKTYPE_ETHERNET 1
#define SNAPLEN 262144u

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_PSH = 0x08, TCP_ACK = 0x10 };
enum { FLOW_NEW, FLOW_OPEN, FLOW_CLOSED };

const char *wmmp_pcap_strerror(wmmp_pcap_err err)
{
    switch (err) {
    case WMMP_PCAP_OK: return "success";
    case WMMP_PCAP_ERR_IO: return "cannot write the capture file";
    case WMMP_PCAP_ERR_TOO_LONG: return "payload too long for one IPv4 packet";
    case WMMP_PCAP_ERR_INVALID: return "invalid argument or state";
    }
    return "unknown error";
}

wmmp_pcap_time wmmp_pcap_time_add(wmmp_pcap_time t, uint64_t usec)
{
    uint64_t total = (uint64_t)t.usec + usec;
    t.sec += (uint32_t)(total / 1000000u);
    t.usec = (uint32_t)(total % 1000000u);
    return t;
}

/* pcap headers are written little-endian whatever the host, so files are byte-identical everywhere. */
static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, (uint16_t)(v >> 16));
    be16(p + 2, (uint16_t)v);
}

/* One's-complement sum of 16-bit big-endian words (RFC 1071); an odd last byte is padded with 0. */
static uint32_t csum_add(uint32_t acc, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        acc += (uint32_t)p[len - 1] << 8;
    while (acc >> 16)
        acc = (acc & 0xFFFF) + (acc >> 16);
    return acc;
}

static uint16_t csum_final(uint32_t acc)
{
    return (uint16_t)~acc;
}

wmmp_pcap_err wmmp_pcap_open(wmmp_pcap *p, const char *path)
{
    if (!p || !path)
        return WMMP_PCAP_ERR_INVALID;
    memset(p, 0, sizeof *p);
    p->ip_id = 1;
    p->fp = fopen(path, "wb");
    if (!p->fp)
        return WMMP_PCAP_ERR_IO;
    /* without its buffer the file still works, with stdio's default one */
    if ((p->buf = malloc(WMMP_PCAP_BUFFER_SIZE)) && setvbuf(p->fp, p->buf, _IOFBF, WMMP_PCAP_BUFFER_SIZE) != 0) {
        free(p->buf);
        p->buf = NULL;
    }
    uint8_t h[24];
    le32(h, 0xA1B2C3D4u); /* microsecond timestamps */
    h[4] = 2, h[5] = 0;   /* version 2.4 */
    h[6] = 4, h[7] = 0;
    le32(h + 8, 0);  /* thiszone */
    le32(h + 12, 0); /* sigfigs */
    le32(h + 16, SNAPLEN);
    le32(h + 20, LINKTYPE_ETHERNET);
    if (fwrite(h, sizeof h, 1, p->fp) != 1) {
        fclose(p->fp);
        p->fp = NULL;
        free(p->buf);
        p->buf = NULL;
        return WMMP_PCAP_ERR_IO;
    }
    return WMMP_PCAP_OK;
}

wmmp_pcap_err wmmp_pcap_close(wmmp_pcap *p)
{
    if (!p || !p->fp)
        return WMMP_PCAP_OK;
    int bad = ferror(p->fp);
    bad |= fclose(p->fp) != 0;
    p->fp = NULL;
    free(p->buf); /* after fclose: it flushes from it */
    p->buf = NULL;
    return bad ? WMMP_PCAP_ERR_IO : WMMP_PCAP_OK;
}

/* Locally administered MAC 02:00:<IPv4 address>, so each host keeps one address. */
static void mac_of(uint8_t *out, uint32_t addr)
{
    out[0] = 0x02;
    out[1] = 0x00;
    be32(out + 2, addr);
}

/* Pseudo-header part of the UDP/TCP checksum (RFC 768 / RFC 793). */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t l4_len)
{
    uint8_t ph[12];
    be32(ph, src);
    be32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    be16(ph + 10, (uint16_t)l4_len);
    return csum_add(0, ph, sizeof ph);
}

/*
 * Writes one Ethernet/IPv4 frame: l4 is the UDP or TCP header with its checksum field zero; the checksum
 * is computed here over the pseudo-header, l4 and the payload, and stored at l4[csum_off].
 */
static wmmp_pcap_err write_frame(wmmp_pcap *p, wmmp_pcap_time ts, uint32_t src, uint32_t dst, uint8_t proto,
                                 uint8_t *l4, size_t l4_len, size_t csum_off, const uint8_t *payload, size_t len)
{
    if (!p || !p->fp || (len && !payload) || ts.usec > 999999u)
        return WMMP_PCAP_ERR_INVALID;
    size_t ip_total = IPV4_LEN + l4_len + len;
    if (ip_total > 0xFFFF)
        return WMMP_PCAP_ERR_TOO_LONG;

    uint32_t sum = pseudo_sum(src, dst, proto, l4_len + len);
    sum = csum_add(sum, l4, l4_len); /* l4_len is even, so the payload's words stay aligned */
    sum = csum_add(sum, payload, len);
    uint16_t c = csum_final(sum);
    if (proto == 17 && c == 0)
        c = 0xFFFF; /* UDP: 0 means "no checksum" */
    be16(l4 + csum_off, c);

    uint8_t hdr[16 + ETH_LEN + IPV4_LEN];
    uint8_t *rec = hdr, *eth = hdr + 16, *ip = eth + ETH_LEN;
    size_t frame_len = ETH_LEN + ip_total;
    le32(rec, ts.sec);
    le32(rec + 4, ts.usec);
    le32(rec + 8, (uint32_t)frame_len);
    le32(rec + 12, (uint32_t)frame_len);
    mac_of(eth, dst);
    mac_of(eth + 6, src);
    be16(eth + 12, 0x0800);
    ip[0] = 0x45; /* version 4, 20-byte header */
    ip[1] = 0;
    be16(ip + 2, (uint16_t)ip_total);
    be16(ip + 4, p->ip_id++);
    be16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = 64;           /* TTL */
    ip[9] = proto;
    be16(ip + 10, 0);
    be32(ip + 12, src);
    be32(ip + 16, dst);
    be16(ip + 10, csum_final(csum_add(0, ip, IPV4_LEN)));

    if (fwrite(hdr, sizeof hdr, 1, p->fp) != 1 || fwrite(l4, l4_len, 1, p->fp) != 1 ||
        (len && fwrite(payload, len, 1, p->fp) != 1))
        return WMMP_PCAP_ERR_IO;
    return WMMP_PCAP_OK;
}

wmmp_pcap_err wmmp_pcap_write_udp(wmmp_pcap *p, wmmp_pcap_time ts, const wmmp_pcap_endpoint *src,
                                  const wmmp_pcap_endpoint *dst, const uint8_t *payload, size_t len)
{
    if (!src || !dst)
        return WMMP_PCAP_ERR_INVALID;
    if (len > WMMP_PCAP_MAX_UDP_PAYLOAD)
        return WMMP_PCAP_ERR_TOO_LONG;
    uint8_t udp[UDP_LEN];
    be16(udp, src->port);
    be16(udp + 2, dst->port);
    be16(udp + 4, (uint16_t)(UDP_LEN + len));
    be16(udp + 6, 0);
    return write_frame(p, ts, src->addr, dst->addr, 17, udp, sizeof udp, 6, payload, len);
}

void wmmp_tcp_flow_init(wmmp_tcp_flow *f, wmmp_pcap *p, const wmmp_pcap_endpoint *client,
                        const wmmp_pcap_endpoint *server, uint32_t client_isn, uint32_t server_isn)
{
    memset(f, 0, sizeof *f);
    f->pcap = p;
    f->end[WMMP_TCP_FROM_CLIENT] = *client;
    f->end[WMMP_TCP_FROM_SERVER] = *server;
    f->next_seq[WMMP_TCP_FROM_CLIENT] = client_isn;
    f->next_seq[WMMP_TCP_FROM_SERVER] = server_isn;
    f->state = FLOW_NEW;
}

static int valid_dir(wmmp_tcp_dir dir)
{
    return dir == WMMP_TCP_FROM_CLIENT || dir == WMMP_TCP_FROM_SERVER;
}

static wmmp_tcp_dir other_dir(wmmp_tcp_dir dir)
{
    return dir == WMMP_TCP_FROM_CLIENT ? WMMP_TCP_FROM_SERVER : WMMP_TCP_FROM_CLIENT;
}

/* One segment from dir; SYN and FIN consume a sequence number, as do the data bytes. */
static wmmp_pcap_err segment(wmmp_tcp_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts, uint8_t flags,
                             const uint8_t *data, size_t len)
{
    if (len > WMMP_PCAP_MAX_TCP_PAYLOAD)
        return WMMP_PCAP_ERR_TOO_LONG;
    wmmp_tcp_dir peer = other_dir(dir);
    const wmmp_pcap_endpoint *src = &f->end[dir], *dst = &f->end[peer];
    uint8_t tcp[TCP_LEN];
    be16(tcp, src->port);
    be16(tcp + 2, dst->port);
    be32(tcp + 4, f->next_seq[dir]);
    be32(tcp + 8, (flags & TCP_ACK) ? f->next_seq[peer] : 0);
    tcp[12] = (TCP_LEN / 4) << 4;
    tcp[13] = flags;
    be16(tcp + 14, 65535); /* window */
    be16(tcp + 16, 0);     /* checksum */
    be16(tcp + 18, 0);     /* urgent pointer */
    wmmp_pcap_err e = write_frame(f->pcap, ts, src->addr, dst->addr, 6, tcp, sizeof tcp, 16, data, len);
    if (e == WMMP_PCAP_OK)
        f->next_seq[dir] += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
    return e;
}

wmmp_pcap_err wmmp_tcp_handshake(wmmp_tcp_flow *f, wmmp_pcap_time ts)
{
    if (!f || f->state != FLOW_NEW)
        return WMMP_PCAP_ERR_INVALID;
    wmmp_pcap_err e = segment(f, WMMP_TCP_FROM_CLIENT, ts, TCP_SYN, NULL, 0);
    if (e == WMMP_PCAP_OK)
        e = segment(f, WMMP_TCP_FROM_SERVER, wmmp_pcap_time_add(ts, WMMP_TCP_STEP_USEC), TCP_SYN | TCP_ACK, NULL, 0);
    if (e == WMMP_PCAP_OK)
        e = segment(f, WMMP_TCP_FROM_CLIENT, wmmp_pcap_time_add(ts, 2 * WMMP_TCP_STEP_USEC), TCP_ACK, NULL, 0);
    if (e == WMMP_PCAP_OK)
        f->state = FLOW_OPEN;
    return e;
}

wmmp_pcap_err wmmp_tcp_send(wmmp_tcp_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts, const uint8_t *data,
                            size_t len)
{
    if (!f || f->state != FLOW_OPEN || len == 0 || !data || !valid_dir(dir))
        return WMMP_PCAP_ERR_INVALID;
    return segment(f, dir, ts, TCP_PSH | TCP_ACK, data, len);
}

wmmp_pcap_err wmmp_tcp_ack(wmmp_tcp_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts)
{
    if (!f || f->state != FLOW_OPEN || !valid_dir(dir))
        return WMMP_PCAP_ERR_INVALID;
    return segment(f, dir, ts, TCP_ACK, NULL, 0);
}

wmmp_pcap_err wmmp_tcp_close(wmmp_tcp_flow *f, wmmp_tcp_dir dir, wmmp_pcap_time ts)
{
    if (!f || f->state != FLOW_OPEN || !valid_dir(dir))
        return WMMP_PCAP_ERR_INVALID;
    wmmp_tcp_dir other = other_dir(dir);
    wmmp_pcap_err e = segment(f, dir, ts, TCP_FIN | TCP_ACK, NULL, 0);
    if (e == WMMP_PCAP_OK)
        e = segment(f, other, wmmp_pcap_time_add(ts, WMMP_TCP_STEP_USEC), TCP_FIN | TCP_ACK, NULL, 0);
    if (e == WMMP_PCAP_OK)
        e = segment(f, dir, wmmp_pcap_time_add(ts, 2 * WMMP_TCP_STEP_USEC), TCP_ACK, NULL, 0);
    if (e == WMMP_PCAP_OK)
        f->state = FLOW_CLOSED;
    return e;
}
