/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bench_pcap_udp.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int bench_pcap_open(bench_pcap *r, const char *path)
{
    uint8_t gh[24];
    r->path = path;
    r->skipped = 0;
    r->f = fopen(path, "rb");
    if (!r->f) {
        perror(path);
        return -1;
    }
    if (fread(gh, sizeof gh, 1, r->f) != 1 || le32(gh) != 0xA1B2C3D4u || le32(gh + 20) != 1) {
        fprintf(stderr, "%s: not a little-endian microsecond Ethernet pcap\n", path);
        fclose(r->f);
        return -1;
    }
    return 0;
}

int bench_pcap_next_udp(bench_pcap *r, bench_udp *d)
{
    uint8_t rh[16];
    while (fread(rh, sizeof rh, 1, r->f) == 1) {
        uint32_t incl = le32(rh + 8);
        if (incl > sizeof r->frame || fread(r->frame, incl, 1, r->f) != 1) {
            fprintf(stderr, "%s: truncated record\n", r->path);
            return -1;
        }
        const uint8_t *ip = r->frame + 14;
        size_t ihl = (size_t)(ip[0] & 0x0F) * 4;
        if (incl < 14 + 20 || bench_be16(r->frame + 12) != 0x0800 || ip[9] != 17 || incl < 14 + ihl + 8) {
            r->skipped++;
            continue;
        }
        const uint8_t *udp = ip + ihl;
        size_t len = bench_be16(udp + 4) >= 8 ? bench_be16(udp + 4) - 8u : 0;
        if (len > incl - 14 - ihl - 8)
            len = incl - 14 - ihl - 8; /* snapped */
        *d = (bench_udp){ le32(rh), le32(rh + 4), bench_be32(ip + 12), bench_be32(ip + 16), bench_be16(udp),
                          bench_be16(udp + 2), udp + 8, len };
        return 1;
    }
    return 0;
}

void bench_pcap_close(bench_pcap *r)
{
    if (r->f)
        fclose(r->f);
    r->f = NULL;
}
