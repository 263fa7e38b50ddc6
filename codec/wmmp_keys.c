/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_FIELDS 6
#define FIELD_MAX 128

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || !err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Splits a line into fields; returns the count, or -1 on a syntax error (message in err). */
static int split_fields(const char *p, char fields[KEYS_FIELDS][FIELD_MAX], size_t lens[KEYS_FIELDS], char *err,
                        size_t err_len)
{
    int n = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (n == KEYS_FIELDS) {
            set_err(err, err_len, "more than %d fields", KEYS_FIELDS);
            return -1;
        }
        size_t len = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                int c = (unsigned char)*p++;
                if (c == '\\') {
                    if (*p == 'x' && hexval((unsigned char)p[1]) >= 0 && hexval((unsigned char)p[2]) >= 0) {
                        c = hexval((unsigned char)p[1]) << 4 | hexval((unsigned char)p[2]);
                        p += 3;
                    } else if (*p == '"' || *p == '\\') {
                        c = (unsigned char)*p++;
                    } else {
                        set_err(err, err_len, "field %d: unknown escape", n + 1);
                        return -1;
                    }
                }
                if (len + 1 >= FIELD_MAX) {
                    set_err(err, err_len, "field %d: longer than %d characters", n + 1, FIELD_MAX - 1);
                    return -1;
                }
                fields[n][len++] = (char)c;
            }
            if (*p != '"') {
                set_err(err, err_len, "field %d: missing closing quote", n + 1);
                return -1;
            }
            p++;
        } else {
            while (*p && *p != ',' && *p != '\r' && *p != '\n') {
                if (len + 1 >= FIELD_MAX) {
                    set_err(err, err_len, "field %d: longer than %d characters", n + 1, FIELD_MAX - 1);
                    return -1;
                }
                fields[n][len++] = *p++;
            }
            while (len && (fields[n][len - 1] == ' ' || fields[n][len - 1] == '\t'))
                len--;
        }
        fields[n][len] = '\0';
        lens[n++] = len;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0' || *p == '\r' || *p == '\n')
            return n;
        set_err(err, err_len, "field %d: unexpected character '%c' after the field", n, *p);
        return -1;
    }
}

static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

wmmp_err wmmp_keys_parse_line(const char *line, wmmp_terminal_keys *out, char *err, size_t err_len)
{
    char fields[KEYS_FIELDS][FIELD_MAX];
    size_t lens[KEYS_FIELDS];
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#' || *p == '\r' || *p == '\n')
        return WMMP_END;
    int n = split_fields(p, fields, lens, err, err_len);
    if (n < 0)
        return WMMP_ERR_KEYS_SYNTAX;
    if (n != KEYS_FIELDS) {
        set_err(err, err_len, "expected %d fields (serial, IMEI, IMSI, uplink password, downlink password, "
                "base key), found %d", KEYS_FIELDS, n);
        return WMMP_ERR_KEYS_SYNTAX;
    }
    memset(out, 0, sizeof *out);
    if (lens[0] != 16) {
        set_err(err, err_len, "terminal serial must be 16 characters, found %zu", lens[0]);
        return WMMP_ERR_KEYS_FIELD;
    }
    if (lens[1] != 15 || !all_digits(fields[1], lens[1])) {
        set_err(err, err_len, "IMEI must be 15 digits");
        return WMMP_ERR_KEYS_FIELD;
    }
    if (lens[2] != 15 || !all_digits(fields[2], lens[2])) {
        set_err(err, err_len, "IMSI must be 15 digits");
        return WMMP_ERR_KEYS_FIELD;
    }
    if (lens[3] != WMMP_PASSWORD_LEN || lens[4] != WMMP_PASSWORD_LEN) {
        set_err(err, err_len, "uplink and downlink passwords must be 8 characters each");
        return WMMP_ERR_KEYS_FIELD;
    }
    if (lens[5] != 2 * WMMP_BASE_KEY_LEN) {
        set_err(err, err_len, "base key must be 48 hex digits, found %zu characters", lens[5]);
        return WMMP_ERR_KEYS_FIELD;
    }
    for (size_t i = 0; i < WMMP_BASE_KEY_LEN; i++) {
        int hi = hexval((unsigned char)fields[5][2 * i]), lo = hexval((unsigned char)fields[5][2 * i + 1]);
        if (hi < 0 || lo < 0) {
            set_err(err, err_len, "base key must be 48 hex digits");
            return WMMP_ERR_KEYS_FIELD;
        }
        out->base_key[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(out->serial, fields[0], 16);
    memcpy(out->imei, fields[1], 15);
    memcpy(out->imsi, fields[2], 15);
    memcpy(out->uplink_password, fields[3], WMMP_PASSWORD_LEN);
    memcpy(out->downlink_password, fields[4], WMMP_PASSWORD_LEN);
    return WMMP_OK;
}

/* ---- the look-up indexes ---- */

/* FNV-1a of the first n bytes. */
static uint32_t hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h ^ (h >> 16);
}

/* What find_imei() compares: strncmp(..., 15), i.e. up to the first NUL within 15 characters. */
static size_t imei_len(const char *imei)
{
    size_t n = 0;
    while (n < 15 && imei[n])
        n++;
    return n;
}

static uint32_t serial_hash(const void *serial) { return hash_bytes(serial, 16); }
static uint32_t imei_hash(const char *imei) { return hash_bytes(imei, imei_len(imei)); }

/* Adds item i to both indexes unless an earlier item has the same key (look-ups return the first). */
static void index_item(wmmp_keyring *kr, size_t i)
{
    const wmmp_terminal_keys *k = &kr->items[i];
    size_t mask = kr->slots - 1, s;
    for (s = serial_hash(k->serial) & mask; kr->by_serial[s]; s = (s + 1) & mask)
        if (memcmp(kr->items[kr->by_serial[s] - 1].serial, k->serial, 16) == 0)
            break;
    if (!kr->by_serial[s])
        kr->by_serial[s] = (uint32_t)(i + 1);
    for (s = imei_hash(k->imei) & mask; kr->by_imei[s]; s = (s + 1) & mask)
        if (strncmp(kr->items[kr->by_imei[s] - 1].imei, k->imei, 15) == 0)
            break;
    if (!kr->by_imei[s])
        kr->by_imei[s] = (uint32_t)(i + 1);
}

/* Makes the indexes cover every item, growing them to keep the load at most one half. */
static void reindex(wmmp_keyring *kr)
{
    if (kr->count >= UINT32_MAX)
        return; /* slots hold 32-bit indexes: such a keyring is scanned */
    if (kr->by_serial && kr->indexed <= kr->count && 2 * kr->count <= kr->slots) {
        while (kr->indexed < kr->count)
            index_item(kr, kr->indexed++);
        return;
    }
    size_t slots = 64;
    while (slots < 2 * kr->count)
        slots *= 2;
    uint32_t *a = calloc(slots, sizeof *a), *b = calloc(slots, sizeof *b);
    free(kr->by_serial);
    free(kr->by_imei);
    kr->by_serial = a;
    kr->by_imei = b;
    kr->slots = slots;
    kr->indexed = 0;
    if (!a || !b) { /* out of memory: look-ups scan */
        free(a);
        free(b);
        kr->by_serial = kr->by_imei = NULL;
        kr->slots = 0;
        return;
    }
    while (kr->indexed < kr->count)
        index_item(kr, kr->indexed++);
}

static int indexed(const wmmp_keyring *kr) { return kr->by_serial && kr->indexed == kr->count; }

wmmp_err wmmp_keyring_add(wmmp_keyring *kr, const wmmp_terminal_keys *k)
{
    if (kr->count == kr->cap) {
        size_t cap = kr->cap ? kr->cap * 2 : 16;
        wmmp_terminal_keys *items = realloc(kr->items, cap * sizeof *items);
        if (!items)
            return WMMP_ERR_NO_SPACE;
        kr->items = items;
        kr->cap = cap;
    }
    kr->items[kr->count++] = *k;
    reindex(kr);
    return WMMP_OK;
}

wmmp_err wmmp_keyring_load(wmmp_keyring *kr, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        set_err(err, err_len, "%s: %s", path, strerror(errno));
        return WMMP_ERR_IO;
    }
    char line[1024], why[256];
    unsigned lineno = 0;
    wmmp_err result = WMMP_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            set_err(err, err_len, "%s:%u: line longer than %zu characters", path, lineno, sizeof line - 2);
            result = WMMP_ERR_KEYS_SYNTAX;
            break;
        }
        wmmp_terminal_keys k;
        wmmp_err e = wmmp_keys_parse_line(line, &k, why, sizeof why);
        if (e == WMMP_END)
            continue;
        if (e == WMMP_OK)
            e = wmmp_keyring_add(kr, &k);
        if (e != WMMP_OK) {
            set_err(err, err_len, "%s:%u: %s", path, lineno, e == WMMP_ERR_NO_SPACE ? wmmp_strerror(e) : why);
            result = e;
            break;
        }
    }
    if (result == WMMP_OK && ferror(f)) {
        set_err(err, err_len, "%s: read error", path);
        result = WMMP_ERR_IO;
    }
    fclose(f);
    return result;
}

void wmmp_keyring_free(wmmp_keyring *kr)
{
    free(kr->items);
    free(kr->by_serial);
    free(kr->by_imei);
    kr->items = NULL;
    kr->by_serial = kr->by_imei = NULL;
    kr->count = kr->cap = kr->slots = kr->indexed = 0;
}

const wmmp_terminal_keys *wmmp_keyring_find_serial(const wmmp_keyring *kr, const uint8_t serial[16])
{
    if (indexed(kr)) {
        size_t mask = kr->slots - 1;
        for (size_t s = serial_hash(serial) & mask; kr->by_serial[s]; s = (s + 1) & mask)
            if (memcmp(kr->items[kr->by_serial[s] - 1].serial, serial, 16) == 0)
                return &kr->items[kr->by_serial[s] - 1];
        return NULL;
    }
    for (size_t i = 0; i < kr->count; i++)
        if (memcmp(kr->items[i].serial, serial, 16) == 0)
            return &kr->items[i];
    return NULL;
}

const wmmp_terminal_keys *wmmp_keyring_find_imei(const wmmp_keyring *kr, const char *imei)
{
    if (indexed(kr)) {
        size_t mask = kr->slots - 1;
        for (size_t s = imei_hash(imei) & mask; kr->by_imei[s]; s = (s + 1) & mask)
            if (strncmp(kr->items[kr->by_imei[s] - 1].imei, imei, 15) == 0)
                return &kr->items[kr->by_imei[s] - 1];
        return NULL;
    }
    for (size_t i = 0; i < kr->count; i++)
        if (strncmp(kr->items[i].imei, imei, 15) == 0)
            return &kr->items[i];
    return NULL;
}

/* A bounded string builder: len counts what would have been written, so overflow is detectable at the end. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} text_out;

static void out_printf(text_out *o, const char *fmt, ...)
{
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

/* Appends s quoted, escaping what the parser unescapes. */
static void put_quoted(text_out *o, const uint8_t *s, size_t n)
{
    out_printf(o, "\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            out_printf(o, "\\%c", s[i]);
        else if (s[i] < 0x20 || s[i] > 0x7E)
            out_printf(o, "\\x%02x", s[i]);
        else
            out_printf(o, "%c", s[i]);
    }
    out_printf(o, "\"");
}

wmmp_err wmmp_keys_format_line(const wmmp_terminal_keys *k, char *out, size_t out_len)
{
    char hex[2 * WMMP_BASE_KEY_LEN + 1];
    for (size_t i = 0; i < WMMP_BASE_KEY_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", k->base_key[i]);
    const struct {
        const void *p;
        size_t n;
    } fields[KEYS_FIELDS] = {
        { k->serial, 16 }, { k->imei, 15 }, { k->imsi, 15 }, { k->uplink_password, WMMP_PASSWORD_LEN },
        { k->downlink_password, WMMP_PASSWORD_LEN }, { hex, 2 * WMMP_BASE_KEY_LEN },
    };
    text_out o = { out, out_len, 0 };
    for (int i = 0; i < KEYS_FIELDS; i++) {
        if (i)
            out_printf(&o, ",");
        put_quoted(&o, fields[i].p, fields[i].n);
    }
    return o.len < out_len ? WMMP_OK : WMMP_ERR_NO_SPACE;
}
