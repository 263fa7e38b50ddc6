/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wmmp-gen-malformed: writes captures/malformed.pcap, hand-made WMMP messages with one defect each, so
 * that every expert item of the Wireshark plugin (every error, warning and note it can raise) shows up at
 * least once, followed by a good exchange that decodes cleanly.
 *
 *     wmmp-gen-malformed [--keys FILE] [--expect FILE] OUT.pcap
 *
 * --expect writes one line per frame: "frame<TAB>expert items (comma-separated)<TAB>what is wrong", the
 * expert items that frame must show (tests/captures checks them against tshark's decode). Three defects
 * sit inside a health record that the heuristic does not take for one (too short, bad magic, bad
 * version): they need Decode As, tshark -d 'wmmp.user_data,wmmp.health'.
 *
 * Deterministic: fixed clock (2026-01-01T00:00:00Z, 100 ms per frame), fixed addresses, the keys file's
 * first terminal, no random numbers. Terminal 10.0.0.2:40001, platform 10.0.0.1:9992 (UDP).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_writer.h"
#include "wmmp_body.h"
#include "wmmp_crc.h"
#include "wmmp_health.h"
#include "wmmp_keys.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

#ifndef WMMP_DEFAULT_KEYS
#define WMMP_DEFAULT_KEYS "captures/wmmp-keys.txt"
#endif

#define T0 1767225600u        /* 2026-01-01T00:00:00Z */
#define STEP_USEC 100000u
#define RETRY_USEC 3000000u   /* the default response timeout: a retransmission comes this much later */
#define TERMINAL_IP 0x0A000002u
#define PLATFORM_IP 0x0A000001u
#define TERMINAL_PORT 40001
#define PLATFORM_PORT 9992
#define OTHER_SERIAL "A00MS8011390009S" /* a terminal the keys file does not know */
#define SESSION_KEY "WMMP-session-key"  /* 16 bytes */
#define CSQ 21
#define CELL 0x25A01F41u
#define PLATFORM_SEQ0 1001u

typedef struct {
    const wmmp_terminal_keys *keys;
    const char *serial;
    wmmp_pcap pcap;
    wmmp_pcap_time now;
    unsigned frame;             /* frames written so far */
    uint32_t useq, dseq;        /* next Sequence_ID of terminal / platform requests */
    uint32_t timestamp;         /* of the session (0 before the LOGIN_ACK) */
    FILE *expect;
    const char *pending_expect; /* expert items of the next frame */
    const char *pending_what;
    wmmp_writer w;
    uint8_t buf[WMMP_MAX_MESSAGE];
} gen;

static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("wmmp-gen-malformed: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* The next frame must show these expert items (comma-separated), because of what. */
static void expect(gen *g, const char *items, const char *what)
{
    g->pending_expect = items;
    g->pending_what = what;
}

static void emit(gen *g, wmmp_direction dir, const uint8_t *p, size_t len)
{
    const wmmp_pcap_endpoint t = { TERMINAL_IP, TERMINAL_PORT }, s = { PLATFORM_IP, PLATFORM_PORT };
    wmmp_pcap_err e = wmmp_pcap_write_udp(&g->pcap, g->now, dir == WMMP_UPLINK ? &t : &s,
                                          dir == WMMP_UPLINK ? &s : &t, p, len);
    if (e != WMMP_PCAP_OK)
        die("frame %u: %s", g->frame + 1, wmmp_pcap_strerror(e));
    g->frame++;
    if (g->expect && g->pending_expect)
        fprintf(g->expect, "%u\t%s\t%s\n", g->frame, g->pending_expect, g->pending_what);
    g->pending_expect = g->pending_what = NULL;
    g->now = wmmp_pcap_time_add(g->now, STEP_USEC);
}

/* A message through the codec: header, then the caller appends the body to g->w. */
static wmmp_writer *begin(gen *g, uint16_t command, uint32_t seq, uint8_t flag)
{
    wmmp_header h;
    wmmp_header_init(&h, command, seq, flag, g->serial);
    wmmp_msg_begin(&g->w, g->buf, sizeof g->buf, &h);
    return &g->w;
}

/* Total_Length and (with the DIGEST flag) the digest as dir signs it; returns the length. */
static size_t finish(gen *g, wmmp_direction dir)
{
    wmmp_signer s = { g->keys, dir, g->timestamp };
    if (wmmp_msg_finish(&g->w, &s) != WMMP_OK || g->w.err != WMMP_OK)
        die("frame %u: cannot build the message: %s", g->frame + 1, wmmp_strerror(g->w.err));
    return g->w.len;
}

static void send_msg(gen *g, wmmp_direction dir)
{
    size_t len = finish(g, dir);
    emit(g, dir, g->buf, len);
}

static uint16_t ack(uint16_t cmd) { return (uint16_t)(cmd | WMMP_ACK_BIT); }

/* A header with the real Total_Length (unless total is not 0) and the given body, bypassing the codec. */
static size_t raw(uint8_t *out, uint16_t cmd, uint32_t seq, uint8_t flag, const char *serial, const void *body,
                  size_t body_len, uint16_t total)
{
    wmmp_header h;
    wmmp_header_init(&h, cmd, seq, flag, serial);
    h.total_length = total ? total : (uint16_t)(WMMP_HEADER_LEN + body_len);
    wmmp_header_encode(&h, out);
    if (body_len)
        memcpy(out + WMMP_HEADER_LEN, body, body_len);
    return WMMP_HEADER_LEN + body_len;
}

static void put_sync(wmmp_writer *w)
{
    wmmp_put_tlv_u32(w, WMMP_TAG_CELL, CELL);
    wmmp_put_tlv_u8(w, WMMP_TAG_SIGNAL_LEVEL, CSQ);
}

/* TRANSPARENT_DATA (flag 0, right CRC-16) carrying user data */
static void send_user_data(gen *g, const uint8_t *data, size_t len)
{
    wmmp_transparent tp = { .user_data = data, .user_data_len = len };
    wmmp_transparent_put(begin(g, WMMP_CMD_TRANSPARENT_DATA, g->useq++, 0), &tp);
    send_msg(g, WMMP_UPLINK);
}

/* A health record header ("HT", version, flags, record ID, measured at) into w. */
static void record_header(wmmp_writer *w, const char *magic, uint8_t version, uint32_t id)
{
    wmmp_put_bytes(w, magic, 2);
    wmmp_put_u8(w, version);
    wmmp_put_u8(w, 0);
    wmmp_put_u32(w, id);
    wmmp_put_u32(w, T0);
}

/* ---- before the session: digests that cannot be checked ---- */

static void before_login(gen *g)
{
    uint8_t key[WMMP_SESSION_KEY_LEN];
    memcpy(key, SESSION_KEY, sizeof key);

    expect(g, "wmmp.digest.no_timestamp,wmmp.no_response",
           "HEART_BEAT with a digest before any LOGIN_ACK: no session timestamp to check it with; never answered");
    put_sync(begin(g, WMMP_CMD_HEART_BEAT, g->useq++, WMMP_FLAG_DIGEST));
    send_msg(g, WMMP_UPLINK);

    expect(g, "wmmp.session_key.missing", "fully encrypted HEART_BEAT (0xF0) before any LOGIN_ACK: no session key");
    put_sync(begin(g, WMMP_CMD_HEART_BEAT, g->useq++,
                   WMMP_FLAG_SECURITY | WMMP_FLAG_ENCRYPTION | WMMP_FLAG_DIGEST | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT));
    wmmp_msg_encrypt_body(&g->w, key);
    send_msg(g, WMMP_UPLINK);

    expect(g, "wmmp.keys.missing", "HEART_BEAT with a digest from a terminal the keys table does not know");
    g->serial = OTHER_SERIAL;
    put_sync(begin(g, WMMP_CMD_HEART_BEAT, g->useq++, WMMP_FLAG_DIGEST));
    send_msg(g, WMMP_UPLINK);
    g->serial = g->keys->serial;
}

/* ---- the header ---- */

static void header_defects(gen *g)
{
    static const uint8_t signal[] = { 0x30, 0x07, 0x00, 0x01, CSQ };
    static const uint8_t cipher[] = { 0xE0, 0x42, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8 };
    static const uint8_t short_register[] = { 0, '8', '6', '0', '0', '0', '0', '0', '0', '0' }; /* 10 of 32 */
    uint8_t m[128];
    size_t n;

    expect(g, "wmmp.header.truncated", "a 10-byte datagram: shorter than the 28-byte header");
    raw(m, WMMP_CMD_HEART_BEAT, g->useq++, 0, g->serial, NULL, 0, 0);
    emit(g, WMMP_UPLINK, m, 10);

    expect(g, "wmmp.length.too_small", "Total_Length 20, below the header's 28 bytes");
    n = raw(m, WMMP_CMD_HEART_BEAT, g->useq++, 0, g->serial, NULL, 0, 20);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.length.beyond", "Total_Length 60 in a 33-byte datagram");
    n = raw(m, WMMP_CMD_HEART_BEAT, g->useq++, 0, g->serial, signal, sizeof signal, 60);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.version.unsupported", "Protocol_Version 1.0 (only 2.x and 3.x are WMMP)");
    n = raw(m, WMMP_CMD_HEART_BEAT, g->useq++, 0, g->serial, signal, sizeof signal, 0);
    m[8] = 0x01;
    m[9] = 0x00;
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.reserved.nonzero", "Reserved byte 0x01");
    n = raw(m, WMMP_CMD_HEART_BEAT, g->useq++, 0, g->serial, signal, sizeof signal, 0);
    m[11] = 0x01;
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.command.unknown", "Command_ID 0x0077, not a WMMP command");
    n = raw(m, 0x0077, g->useq++, 0, g->serial, signal, sizeof signal, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.class.mismatch", "an 0xE042 body with flag 0x50: ciphertext without the DIGEST bit");
    n = raw(m, WMMP_CMD_HEART_BEAT, g->useq++, WMMP_FLAG_ENCRYPTION | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT, g->serial,
            cipher, sizeof cipher, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.digest.missing", "DIGEST bit set, but the body does not end with the 0xE021 digest TLV");
    n = raw(m, WMMP_CMD_HEART_BEAT, g->useq++, WMMP_FLAG_DIGEST, g->serial, signal, sizeof signal, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.body.truncated", "REGISTER with 10 of its 32 prefix bytes");
    n = raw(m, WMMP_CMD_REGISTER, g->useq++, 0, "", short_register, sizeof short_register, 0);
    emit(g, WMMP_UPLINK, m, n);
}

/* ---- a session (its timestamp and session key make the digests and ciphertext below checkable) ---- */

static void login(gen *g)
{
    uint8_t inner[32];
    wmmp_writer iw;
    uint32_t seq = g->useq++;
    uint8_t sync[16];
    wmmp_writer sw;
    wmmp_writer_init(&sw, sync, sizeof sync);
    put_sync(&sw);
    wmmp_login lg = { "HT-1.0", wmmp_login_sync_crc(sync, sw.len) };
    wmmp_writer *w = begin(g, WMMP_CMD_LOGIN, seq, WMMP_FLAG_SECURITY | WMMP_FLAG_ENCRYPTION | WMMP_FLAG_DIGEST);
    wmmp_login_put(w, &lg);
    wmmp_put_bytes(w, sync, sw.len);
    g->timestamp = 0; /* LOGIN is signed with timestamp 0 */
    send_msg(g, WMMP_UPLINK);

    w = begin(g, ack(WMMP_CMD_LOGIN), seq, WMMP_FLAG_DIGEST);
    wmmp_login_ack la = { 0, T0 };
    wmmp_login_ack_put(w, &la);
    wmmp_put_tlv_u16(w, WMMP_TAG_HEARTBEAT_INTERVAL, 60);
    wmmp_writer_init(&iw, inner, sizeof inner);
    wmmp_put_tlv(&iw, WMMP_TAG_SESSION_KEY, SESSION_KEY, WMMP_SESSION_KEY_LEN);
    wmmp_put_tlv_u32(&iw, WMMP_TAG_SESSION_KEY_EXPIRY, T0 + 86400u);
    wmmp_put_cipher_tlv(w, WMMP_TAG_ENCRYPTED_TLVS, g->keys->base_key, inner, iw.len);
    g->timestamp = T0; /* a LOGIN_ACK is signed with its own timestamp, which then holds for the session */
    send_msg(g, WMMP_DOWNLINK);

    expect(g, "wmmp.digest.bad", "HEART_BEAT whose digest has one bit flipped");
    seq = g->useq++;
    put_sync(begin(g, WMMP_CMD_HEART_BEAT, seq, WMMP_FLAG_DIGEST));
    size_t n = finish(g, WMMP_UPLINK);
    g->buf[n - 1] ^= 0x01;
    emit(g, WMMP_UPLINK, g->buf, n);
    begin(g, ack(WMMP_CMD_HEART_BEAT), seq, WMMP_FLAG_DIGEST);
    send_msg(g, WMMP_DOWNLINK);
}

/* ---- bodies, fragments and TLVs ---- */

static void body_defects(gen *g)
{
    static const char text[] = "hello platform";
    static const uint8_t profile_abort[] = { /* profile section 8: a real receiver abort of a CONFIG_GET_ACK */
        0x00, 0x27, 0x80, 0x05, 0x00, 0x00, 0x00, 0x05, 0x03, 0x00, 0x10, 0x00, 0x41, 0x48, 0x57, 0x31, 0x30, 0x30,
        0x30, 0x31, 0x30, 0x38, 0x41, 0x42, 0x31, 0x32, 0x33, 0x34, 0x40, 0x08, 0x00, 0x07, 0x00, 0x00, 0x00, 0x03,
        0x00, 0x03, 0x02
    };
    uint8_t m[1024], block[512], inner[128], inner2[128];
    wmmp_writer *w, iw;
    uint32_t seq;
    size_t n;

    expect(g, "wmmp.crc16.bad", "TRANSPARENT_DATA whose CRC-16 does not match its user data");
    wmmp_transparent tp = { .user_data = (const uint8_t *)text, .user_data_len = strlen(text) };
    w = begin(g, WMMP_CMD_TRANSPARENT_DATA, g->useq++, 0);
    wmmp_transparent_put(w, &tp);
    n = finish(g, WMMP_UPLINK);
    g->buf[WMMP_HEADER_LEN] ^= 0xFF;
    emit(g, WMMP_UPLINK, g->buf, n);

    /* FILE_REQ, answered by a FILE_REQ_ACK that announces 512 bytes and carries 100 */
    seq = g->useq++;
    wmmp_file_req fr = { 42, 0, 0, 512 };
    wmmp_file_req_put(begin(g, WMMP_CMD_FILE_REQ, seq, 0), &fr);
    send_msg(g, WMMP_UPLINK);
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (uint8_t)(i * 7);
    expect(g, "wmmp.file.length.bad", "FILE_REQ_ACK announcing a 512-byte block, 100 bytes in the body");
    w = begin(g, ack(WMMP_CMD_FILE_REQ), seq, 0);
    wmmp_put_u32(w, 42);
    wmmp_put_u8(w, 0);
    wmmp_put_u16(w, wmmp_crc16(block, 100)); /* right for what is there: only the length is wrong */
    wmmp_put_u32(w, 0);
    wmmp_put_u16(w, 512);
    wmmp_put_bytes(w, block, 100);
    send_msg(g, WMMP_DOWNLINK);

    expect(g, "wmmp.fragment.truncated", "a fragment part whose 0x4008 value has 4 of its 7 header bytes");
    static const uint8_t short_fragment[] = { 0x40, 0x08, 0x00, 0x04, 0x00, 0x09, 0x00, 0x02 };
    n = raw(m, WMMP_CMD_TRANSPARENT_DATA, g->useq++, WMMP_FLAG_ENCRYPTED_OR_FRAGMENT, g->serial, short_fragment,
            sizeof short_fragment, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.fragment.bad_number", "fragment part 3 of 2");
    static const uint8_t bad_part[] = { 0x40, 0x08, 0x00, 0x0B, 0x00, 0x0A, 0x00, 0x02, 0x00, 0x03, 0x00, 'd', 'a', 't', 'a' };
    n = raw(m, WMMP_CMD_TRANSPARENT_DATA, g->useq++, WMMP_FLAG_ENCRYPTED_OR_FRAGMENT, g->serial, bad_part,
            sizeof bad_part, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.fragment.abort", "the profile's example: receiver abort of a 3-part CONFIG_GET_ACK (another terminal)");
    emit(g, WMMP_DOWNLINK, profile_abort, sizeof profile_abort);

    expect(g, "wmmp.tlv.truncated", "HEART_BEAT with 2 bytes after its last TLV");
    static const uint8_t trailing[] = { 0x30, 0x07, 0x00, 0x01, CSQ, 0x30, 0x06 };
    n = raw(m, WMMP_CMD_HEART_BEAT, g->useq++, 0, g->serial, trailing, sizeof trailing, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.tlv.overrun", "CONFIG_TRAP whose TLV says 10 bytes with 1 left");
    static const uint8_t overrun[] = { 0x30, 0x07, 0x00, 0x0A, CSQ };
    n = raw(m, WMMP_CMD_CONFIG_TRAP, g->useq++, 0, g->serial, overrun, sizeof overrun, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.tlv.bad_length", "CONFIG_TRAP: signal level with 2 bytes, a login sync tag list of odd length");
    static const uint8_t bad_len[] = { 0x30, 0x07, 0x00, 0x02, 0x00, CSQ, 0x00, 0x25, 0x00, 0x03, 0x30, 0x06, 0x30 };
    n = raw(m, WMMP_CMD_CONFIG_TRAP, g->useq++, 0, g->serial, bad_len, sizeof bad_len, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.tlv.unknown", "CONFIG_TRAP with tag 0x9001, which no table names");
    static const uint8_t unknown[] = { 0x90, 0x01, 0x00, 0x02, 0x08, 0x66 };
    n = raw(m, WMMP_CMD_CONFIG_TRAP, g->useq++, 0, g->serial, unknown, sizeof unknown, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.tlv.empty", "HEART_BEAT with a cell TLV (4 bytes) of length 0");
    static const uint8_t empty_cell[] = { 0x30, 0x06, 0x00, 0x00 };
    n = raw(m, WMMP_CMD_HEART_BEAT, g->useq++, 0, g->serial, empty_cell, sizeof empty_cell, 0);
    emit(g, WMMP_UPLINK, m, n);

    expect(g, "wmmp.cipher.bad_length", "CONFIG_TRAP (signed) with a 7-byte 0xE040: not a multiple of 8");
    w = begin(g, WMMP_CMD_CONFIG_TRAP, g->useq++, WMMP_FLAG_DIGEST);
    wmmp_put_tlv(w, WMMP_TAG_ENCRYPTED_TLVS, "1234567", 7);
    send_msg(g, WMMP_UPLINK);

    expect(g, "wmmp.tlv.too_deep", "CONFIG_TRAP (signed) with 0xE040 containers nested 4 deep");
    wmmp_writer_init(&iw, inner, sizeof inner);
    wmmp_put_tlv_u8(&iw, WMMP_TAG_SIGNAL_LEVEL, CSQ);
    for (int depth = 0; depth < 3; depth++) {
        size_t len = iw.len;
        memcpy(inner2, inner, len);
        wmmp_writer_init(&iw, inner, sizeof inner);
        wmmp_put_cipher_tlv(&iw, WMMP_TAG_ENCRYPTED_TLVS, g->keys->base_key, inner2, len);
    }
    w = begin(g, WMMP_CMD_CONFIG_TRAP, g->useq++, WMMP_FLAG_DIGEST);
    wmmp_put_cipher_tlv(w, WMMP_TAG_ENCRYPTED_TLVS, g->keys->base_key, inner, iw.len);
    send_msg(g, WMMP_UPLINK);
}

/* ---- health records (TRANSPARENT_DATA that is fine itself) ---- */

static void health_defects(gen *g)
{
    uint8_t rec[64];
    wmmp_writer w;

    expect(g, "wmmp.health.unknown_tag", "health record with tag 0x01FF");
    wmmp_writer_init(&w, rec, sizeof rec);
    record_header(&w, "HT", 1, 9001);
    wmmp_put_tlv_u16(&w, WMMP_HT_HEART_RATE, 72);
    wmmp_put_tlv_u16(&w, 0x01FF, 7);
    send_user_data(g, rec, w.len);

    expect(g, "wmmp.health.bad_length", "health record: heart rate (uint16) with a 1-byte value");
    wmmp_writer_init(&w, rec, sizeof rec);
    record_header(&w, "HT", 1, 9002);
    wmmp_put_tlv_u8(&w, WMMP_HT_HEART_RATE, 72);
    wmmp_put_tlv_u8(&w, WMMP_HT_SPO2, 97);
    send_user_data(g, rec, w.len);

    expect(g, "wmmp.health.overrun", "health record: a TLV of 20 bytes with 2 left");
    wmmp_writer_init(&w, rec, sizeof rec);
    record_header(&w, "HT", 1, 9003);
    wmmp_put_u16(&w, WMMP_HT_SUBJECT_ID);
    wmmp_put_u16(&w, 20);
    wmmp_put_bytes(&w, "31", 2);
    send_user_data(g, rec, w.len);

    expect(g, "wmmp.health.tlv_truncated", "health record with 3 bytes after its last TLV");
    wmmp_writer_init(&w, rec, sizeof rec);
    record_header(&w, "HT", 1, 9004);
    wmmp_put_tlv_u8(&w, WMMP_HT_RESP_RATE, 16);
    wmmp_put_bytes(&w, "\x01\x11\x00", 3);
    send_user_data(g, rec, w.len);

    expect(g, "wmmp.health.too_short", "user data of 8 bytes decoded as a health record (Decode As)");
    send_user_data(g, (const uint8_t *)"HT\x01\x00\x00\x00\x23\x2b", 8);

    expect(g, "wmmp.health.bad_magic", "user data \"XY...\" decoded as a health record (Decode As)");
    wmmp_writer_init(&w, rec, sizeof rec);
    record_header(&w, "XY", 1, 9006);
    wmmp_put_tlv_u16(&w, WMMP_HT_HEART_RATE, 72);
    send_user_data(g, rec, w.len);

    expect(g, "wmmp.health.bad_version", "health record of version 2 (Decode As)");
    wmmp_writer_init(&w, rec, sizeof rec);
    record_header(&w, "HT", 2, 9007);
    wmmp_put_tlv_u16(&w, WMMP_HT_HEART_RATE, 72);
    send_user_data(g, rec, w.len);
}

/* ---- request/ACK tracking ---- */

static void tracking_defects(gen *g)
{
    uint32_t seq = g->useq++;
    put_sync(begin(g, WMMP_CMD_HEART_BEAT, seq, WMMP_FLAG_DIGEST));
    size_t n = finish(g, WMMP_UPLINK);
    emit(g, WMMP_UPLINK, g->buf, n);
    g->now = wmmp_pcap_time_add(g->now, RETRY_USEC - STEP_USEC);
    expect(g, "wmmp.retransmission.expert", "the same HEART_BEAT again after the 3 s response timeout");
    emit(g, WMMP_UPLINK, g->buf, n);
    begin(g, ack(WMMP_CMD_HEART_BEAT), seq, WMMP_FLAG_DIGEST);
    send_msg(g, WMMP_DOWNLINK);

    expect(g, "wmmp.ack_without_request", "CONFIG_GET_ACK for a CONFIG_GET that never went out");
    wmmp_result_put(begin(g, ack(WMMP_CMD_CONFIG_GET), g->dseq++, WMMP_FLAG_DIGEST), 0);
    send_msg(g, WMMP_UPLINK);
}

/* ---- and decoding goes on: a clean exchange ---- */

static void good_end(gen *g)
{
    uint32_t seq = g->useq++;
    put_sync(begin(g, WMMP_CMD_HEART_BEAT, seq, WMMP_FLAG_DIGEST));
    send_msg(g, WMMP_UPLINK);
    begin(g, ack(WMMP_CMD_HEART_BEAT), seq, WMMP_FLAG_DIGEST);
    send_msg(g, WMMP_DOWNLINK);
    seq = g->useq++;
    wmmp_put_u8(begin(g, WMMP_CMD_LOGOUT, seq, WMMP_FLAG_DIGEST), 0);
    send_msg(g, WMMP_UPLINK);
    begin(g, ack(WMMP_CMD_LOGOUT), seq, WMMP_FLAG_DIGEST);
    send_msg(g, WMMP_DOWNLINK);
}

/* ---- after the clean end (so that every frame before keeps its decode): hostile captures, issue 13 ---- */

/* A fragment part: the 0x4008 TLV (transaction, total, number, operation 0, data) as the whole body. */
static void fragment_part(gen *g, uint16_t transaction, uint16_t total, uint16_t number, const uint8_t *data,
                          size_t len)
{
    static uint8_t body[WMMP_MAX_MESSAGE], m[WMMP_MAX_MESSAGE];
    size_t vlen = 7 + len;
    body[0] = 0x40, body[1] = 0x08, body[2] = (uint8_t)(vlen >> 8), body[3] = (uint8_t)vlen;
    body[4] = (uint8_t)(transaction >> 8), body[5] = (uint8_t)transaction;
    body[6] = (uint8_t)(total >> 8), body[7] = (uint8_t)total;
    body[8] = (uint8_t)(number >> 8), body[9] = (uint8_t)number, body[10] = 0;
    memcpy(body + 11, data, len);
    size_t n = raw(m, WMMP_CMD_TRANSPARENT_DATA, g->useq++, WMMP_FLAG_ENCRYPTED_OR_FRAGMENT, g->serial, body,
                   4 + vlen, 0);
    emit(g, WMMP_UPLINK, m, n);
}

static void hostile_defects(gen *g)
{
    static uint8_t data[40000];
    /* a body that reassembles into one part of its own transfer (0x4008: transfer 0x77, part 2 of 2, 26 bytes) */
    uint8_t inner[4 + 7 + 26] = { 0x40, 0x08, 0x00, 7 + 26, 0x00, 0x77, 0x00, 0x02, 0x00, 0x02, 0x00 };
    memset(inner + 11, 'X', 26);
    fragment_part(g, 0x77, 2, 1, inner, 18);
    expect(g, "wmmp.fragment.nested", "a reassembled body that is itself part 2 of its own transfer");
    fragment_part(g, 0x77, 2, 2, inner + 18, sizeof inner - 18);

    /* part 1 of a 3-part transfer, then part 1 again with other bytes */
    memset(data, 'A', 100);
    fragment_part(g, 0x78, 3, 1, data, 100);
    memset(data, 'B', 100);
    expect(g, "wmmp.fragment.refused", "part 1 of transfer 0x78 again, with other bytes");
    fragment_part(g, 0x78, 3, 1, data, 100);

    /* two parts of 40,000 and 30,000 bytes: more than the largest body (65,487 bytes) */
    memset(data, 'C', sizeof data);
    fragment_part(g, 0x79, 2, 1, data, 40000);
    expect(g, "wmmp.fragment.limit", "part 2 of transfer 0x79 takes it beyond the largest body");
    fragment_part(g, 0x79, 2, 2, data, 30000);

    /* a firmware block beyond the 16 MiB an exported image may hold */
    uint8_t block[16];
    memset(block, 0xB1, sizeof block);
    expect(g, "wmmp.export.limit", "FILE_REQ_ACK block at offset 16 MiB, beyond what an image may hold");
    wmmp_writer *w = begin(g, ack(WMMP_CMD_FILE_REQ), g->useq++, 0);
    wmmp_put_u32(w, 43);
    wmmp_put_u8(w, 0);
    wmmp_put_u16(w, wmmp_crc16(block, sizeof block));
    wmmp_put_u32(w, 16u * 1024u * 1024u);
    wmmp_put_u16(w, sizeof block);
    wmmp_put_bytes(w, block, sizeof block);
    send_msg(g, WMMP_DOWNLINK);
}

/* ---- last (every frame before keeps its decode): what the plugin suggests to its user, issue 14 ---- */

static void hint_defects(gen *g)
{
    /* the seed paper's tag 0x0002: the signal level, one byte */
    static const uint8_t paper_signal[] = { 0x00, 0x02, 0x00, 0x01, 18 };
    uint8_t m[64], inner[16];
    wmmp_writer iw;
    uint32_t seq = g->useq++;

    expect(g, "wmmp.apn.dialect_hint",
           "CONFIG_TRAP in the seed paper's dialect: tag 0x0002 holds one byte (signal level 18), read as the APN");
    size_t n = raw(m, WMMP_CMD_CONFIG_TRAP, seq, 0, g->serial, paper_signal, sizeof paper_signal, 0);
    emit(g, WMMP_UPLINK, m, n);
    wmmp_result_put(begin(g, ack(WMMP_CMD_CONFIG_TRAP), seq, 0), 0);
    send_msg(g, WMMP_DOWNLINK);

    expect(g, "wmmp.keys.missing",
           "CONFIG_TRAP with an 0xE040 container from a terminal the keys table does not know: not decrypted");
    wmmp_writer_init(&iw, inner, sizeof inner);
    wmmp_put_tlv_u8(&iw, WMMP_TAG_SIGNAL_LEVEL, CSQ);
    g->serial = OTHER_SERIAL;
    wmmp_writer *w = begin(g, WMMP_CMD_CONFIG_TRAP, g->useq++,
                           WMMP_FLAG_SECURITY | WMMP_FLAG_ENCRYPTION | WMMP_FLAG_DIGEST);
    wmmp_put_cipher_tlv(w, WMMP_TAG_ENCRYPTED_TLVS, g->keys->base_key, inner, iw.len);
    send_msg(g, WMMP_UPLINK);
    g->serial = g->keys->serial;
}

int main(int argc, char **argv)
{
    const char *keys_path = WMMP_DEFAULT_KEYS, *out = NULL, *expect_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--keys") && i + 1 < argc)
            keys_path = argv[++i];
        else if (!strcmp(argv[i], "--expect") && i + 1 < argc)
            expect_path = argv[++i];
        else if (!strcmp(argv[i], "--help")) {
            puts("usage: wmmp-gen-malformed [--keys FILE] [--expect FILE] OUT.pcap\n"
                 "Writes hand-made malformed WMMP messages, one defect per frame, covering every expert item of\n"
                 "the plugin; --expect lists each frame's expected expert items.");
            return 0;
        } else if (argv[i][0] != '-' && !out)
            out = argv[i];
        else {
            fprintf(stderr, "wmmp-gen-malformed: unexpected argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (!out) {
        fprintf(stderr, "wmmp-gen-malformed: no output file (see --help)\n");
        return 2;
    }
    wmmp_keyring kr = { 0 };
    char err[256];
    if (wmmp_keyring_load(&kr, keys_path, err, sizeof err) != WMMP_OK || kr.count == 0) {
        fprintf(stderr, "wmmp-gen-malformed: %s\n", kr.count ? err : "the keys file holds no terminal");
        wmmp_keyring_free(&kr);
        return 2;
    }
    wmmp_crypto_init();
    static gen g;
    g.keys = &kr.items[0];
    g.serial = g.keys->serial;
    g.now = (wmmp_pcap_time){ T0, 0 };
    g.useq = 1;
    g.dseq = PLATFORM_SEQ0;
    if (expect_path && !(g.expect = fopen(expect_path, "w")))
        die("%s: %s", expect_path, strerror(errno));
    if (wmmp_pcap_open(&g.pcap, out) != WMMP_PCAP_OK)
        die("%s: %s", out, strerror(errno));

    before_login(&g);
    header_defects(&g);
    login(&g);
    body_defects(&g);
    health_defects(&g);
    tracking_defects(&g);
    good_end(&g);
    hostile_defects(&g);
    hint_defects(&g);

    if (wmmp_pcap_close(&g.pcap) != WMMP_PCAP_OK)
        die("%s: %s", out, strerror(errno));
    if (g.expect && fclose(g.expect) != 0)
        die("%s: %s", expect_path, strerror(errno));
    wmmp_keyring_free(&kr);
    return 0;
}
