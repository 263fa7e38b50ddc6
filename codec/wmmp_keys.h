/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The keys file of profile section 11, shared by Wireshark's wmmp_keys table and the emulator's --keys:
 * one terminal per line, comma-separated quoted fields
 *   "terminal serial","IMEI","IMSI","uplink password","downlink password","base key (48 hex digits)"
 * Blank lines and lines starting with '#' are skipped. Inside quotes, \" \\ and \xNN escapes are
 * understood, as Wireshark writes them in UAT files.
 */
#ifndef WMMP_KEYS_H
#define WMMP_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "wmmp_errors.h"
#include "wmmp_security.h"

typedef struct {
    wmmp_terminal_keys *items;
    size_t count;
    size_t cap;
    /*
     * Private: hash indexes by serial and by IMEI over items[0 .. indexed), kept by wmmp_keyring_add()
     * (open addressing, slot = item index + 1, 0 = empty). The look-ups use them when they cover every
     * item and scan otherwise, so a keyring filled by hand still works; change items only through
     * wmmp_keyring_add() (or rebuild the keyring) once it is indexed.
     */
    uint32_t *by_serial, *by_imei;
    size_t slots; /* a power of two, at least twice count */
    size_t indexed;
} wmmp_keyring;

/*
 * Parses one line: WMMP_OK with *out filled, WMMP_END for a blank or comment line,
 * WMMP_ERR_KEYS_SYNTAX or WMMP_ERR_KEYS_FIELD with a one-line explanation in err (when err_len > 0).
 */
wmmp_err wmmp_keys_parse_line(const char *line, wmmp_terminal_keys *out, char *err, size_t err_len);

/* Loads a whole file; errors name the line ("keys.txt:3: IMEI must be 15 digits"). */
wmmp_err wmmp_keyring_load(wmmp_keyring *kr, const char *path, char *err, size_t err_len);
wmmp_err wmmp_keyring_add(wmmp_keyring *kr, const wmmp_terminal_keys *k);
void wmmp_keyring_free(wmmp_keyring *kr);

/* Look-ups; NULL when absent; the first added of equal entries. The serial is the 16 header bytes (need not be
   NUL-terminated). Constant time (hash indexes), so a platform with many terminals pays nothing per message. */
const wmmp_terminal_keys *wmmp_keyring_find_serial(const wmmp_keyring *kr, const uint8_t serial[16]);
const wmmp_terminal_keys *wmmp_keyring_find_imei(const wmmp_keyring *kr, const char *imei);

/* Writes one line in the file's format (no newline) into out; returns WMMP_ERR_NO_SPACE when too small. */
wmmp_err wmmp_keys_format_line(const wmmp_terminal_keys *k, char *out, size_t out_len);

#endif
