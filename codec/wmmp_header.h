/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The 28-byte WMMP header (profile section 2), the Safe_Flag bits (section 3) and the sequence counter. */
#ifndef WMMP_HEADER_H
#define WMMP_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "wmmp_errors.h"

/* Default ports of the profile (section 1); every user makes them configurable. */
#define WMMP_DEFAULT_UDP_PORT 9992
#define WMMP_DEFAULT_TCP_PORT 9991

#define WMMP_HEADER_LEN 28
#define WMMP_MAX_MESSAGE 65535
#define WMMP_SERIAL_LEN 16
#define WMMP_VERSION_3_0 0x0300

/* Safe_Flag bits */
#define WMMP_FLAG_SECURITY 0x80
#define WMMP_FLAG_ENCRYPTION 0x40
#define WMMP_FLAG_DIGEST 0x20
#define WMMP_FLAG_ENCRYPTED_OR_FRAGMENT 0x10
#define WMMP_FLAG_RESERVED_MASK 0x0F

typedef struct {
    uint16_t total_length;
    uint16_t command_id;
    uint32_t sequence_id;
    uint16_t version;
    uint8_t safe_flag;
    uint8_t reserved;
    uint8_t terminal_serial[WMMP_SERIAL_LEN]; /* 16 ASCII characters, all 0x00 before registration */
} wmmp_header;

/*
 * Decodes and checks the header at buf: WMMP_ERR_TRUNCATED_HEADER when len < 28,
 * WMMP_ERR_LENGTH_TOO_SMALL when Total_Length < 28, WMMP_ERR_LENGTH_BEYOND_BUFFER when Total_Length > len.
 * *h is filled whenever at least 28 bytes were there, so callers can still show a bad header.
 */
wmmp_err wmmp_header_decode(const uint8_t *buf, size_t len, wmmp_header *h);
void wmmp_header_encode(const wmmp_header *h, uint8_t out[WMMP_HEADER_LEN]);

/* Fills a header for a new message (Total_Length is set when the message is finished). */
void wmmp_header_init(wmmp_header *h, uint16_t command_id, uint32_t sequence_id, uint8_t safe_flag,
                      const char *serial);
/* Copies the serial as a NUL-terminated string (17 bytes) for printing. */
void wmmp_serial_str(const uint8_t serial[WMMP_SERIAL_LEN], char out[WMMP_SERIAL_LEN + 1]);

/* The heuristic signature of profile section 2 on the first bytes of a datagram or stream. */
int wmmp_header_plausible(const uint8_t *buf, size_t len);

/* Sequence_ID counter: +1 per new request, wrapping 0xFFFFFFFF -> 0 (profile section 9). */
typedef struct {
    uint32_t next;
} wmmp_seq;

static inline uint32_t wmmp_seq_take(wmmp_seq *s) { return s->next++; }

#endif
