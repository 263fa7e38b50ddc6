// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * MD5 (RFC 1321) for the WMMP digest. libgcrypt's MD5 costs about a microsecond of set-up per call (handle,
 * algorithm lookup, FIPS checks), more than hashing a 40-600-byte message itself, and every message is
 * hashed twice (signed by its sender, checked by its receiver; the plugin checks each one it shows). This is
 * the plain RFC algorithm on a context on the stack; tests/unit/test_md5.c checks it against RFC 1321's
 * test suite and against libgcrypt on random inputs. Not for anything but WMMP's (legacy) digest.
 */
#ifndef WMMP_MD5_H
#define WMMP_MD5_H

#include <stddef.h>
#include <stdint.h>

#define WMMP_MD5_LEN 16

typedef struct {
    uint32_t state[4];
    uint64_t bytes;     /* hashed so far */
    uint8_t block[64];  /* the part of a block not yet hashed (bytes % 64 of it) */
} wmmp_md5_ctx;

void wmmp_md5_init(wmmp_md5_ctx *c);
void wmmp_md5_update(wmmp_md5_ctx *c, const void *data, size_t len);
void wmmp_md5_final(wmmp_md5_ctx *c, uint8_t out[WMMP_MD5_LEN]);

#endif
