/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Human-readable decoding of messages, for the command-line tools and the emulator's logs: a one-line
 * summary (as Wireshark's Info column) and a field-by-field description with typed TLV values, the
 * digest status and, given keys, the decrypted containers and health records.
 */
#ifndef WMMP_FORMAT_H
#define WMMP_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wmmp_keys.h"
#include "wmmp_tables.h"

/* What a reader of one conversation learns as it goes (profile section 7). */
typedef struct {
    wmmp_dialect dialect;
    const wmmp_keyring *keys;   /* NULL: digests stay unverified, ciphertext stays opaque */
    uint32_t timestamp;         /* from the last successful LOGIN_ACK */
    uint8_t session_key[16];    /* from that LOGIN_ACK's 0xE040 */
    int have_session_key;
    const wmmp_terminal_keys *terminal; /* keys of the message being described, NULL if unknown */
} wmmp_decoder;

void wmmp_decoder_init(wmmp_decoder *d, const wmmp_keyring *keys, wmmp_dialect dialect);

/* "LOGIN_ACK seq=2 A00MS8011390002S result=Success" (truncated to fit; always NUL-terminated). */
void wmmp_format_summary(char *out, size_t out_len, const uint8_t *msg, size_t len);

/*
 * Writes the summary line and then one indented line per field. Never fails: malformed input is
 * described as far as it parses, with the codec's error message. Updates the decoder from LOGIN_ACK.
 */
void wmmp_format_message(FILE *out, wmmp_decoder *d, const uint8_t *msg, size_t len);

#endif
