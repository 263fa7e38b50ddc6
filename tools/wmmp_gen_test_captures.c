/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wmmp-gen-test-captures: writes the reference captures of the tshark decode tests (tests/tshark), one
 * pcap per theme, built with the codec as the example terminal and its platform would send them.
 *
 * Everything is deterministic: the clock starts at 2026-01-01T00:00:00Z and steps by fixed amounts, the
 * keys come from the keys file, and no random number is used, so the same build writes the same bytes.
 * tests/tshark/expected.py mirrors the constants below: change both together.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pcap_writer.h"
#include "wmmp_body.h"
#include "wmmp_crc.h"
#include "wmmp_fragment.h"
#include "wmmp_health.h"
#include "wmmp_keys.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

#ifndef WMMP_DEFAULT_KEYS
#define WMMP_DEFAULT_KEYS "captures/wmmp-keys.txt"
#endif

/* ---- constants of the captures (mirrored in tests/tshark/expected.py) ---- */

#define T0 1767225600u            /* 2026-01-01T00:00:00Z: first packet of every capture */
#define STEP_USEC 100000u         /* between consecutive packets: every response time is 0.1 s */
#define RETRY_USEC 3000000u       /* the default response timeout (profile section 9) */
#define LOGIN_TS T0               /* timestamp of every LOGIN_ACK: the digest timestamp of the session */
#define TERMINAL_IP 0x0A000002u   /* 10.0.0.2 */
#define PLATFORM_IP 0x0A000001u   /* 10.0.0.1 */
#define TERMINAL_PORT 40001
#define PLATFORM_UDP_PORT 9992
#define PLATFORM_TCP_PORT 9991
#define SERIAL "A00MS8011390002S"
#define PLATFORM_SEQ0 1001u       /* first Sequence_ID of platform requests; the terminal starts at 1 */

#define SOFTWARE_VERSION "HT-1.0"
#define CELL_LAC 0x25A0u
#define CELL_CI 0x1F41u
#define CSQ 21
#define HEARTBEAT_INTERVAL 60
#define DEST_SERIAL "A00MS8011390001S"
#define USER_TEXT "hello platform"
#define CMD_TEXT "LED ON"
#define EC_CODE "100861"
#define SESSION_KEY "WMMP-session-key" /* 16 bytes */
#define SESSION_KEY_EXPIRY 86400u
#define UNKNOWN_TAG 0x9001u
#define UNKNOWN_TAG_VALUE 2150u   /* "Room temperature" 21.50 in the tests' user tag table */
#define UNKNOWN_COMMAND 0x0077u
#define PAPER_SIGNAL 18           /* tag 0x0002 as a 1-byte signal level (paper dialect) */

#define FW_NAME "ht-2.0.1.bin"
#define FW_URL "http://fw.example.com/ht-2.0.1.bin"
#define FW_VERSION "2.0.1"
#define FW_LENGTH 3000u
#define FW_TRANSACTION 123456u
#define FW_BLOCK 512u

#define ECG_RATE 250
#define ECG_LEAD_II 1
#define ECG_RESOLUTION 1000
#define PANEL_ECG_SAMPLES 250
#define FRAGMENT_ECG_SAMPLES 1000
#define FRAGMENT_TRANSACTION 7

static const char *const usage =
    "usage: wmmp-gen-test-captures [--keys FILE] OUTDIR\n"
    "Writes the reference WMMP captures of the tshark tests into OUTDIR (created if missing), and the\n"
    "firmware image they carry as OUTDIR/" FW_NAME ". --keys defaults to " WMMP_DEFAULT_KEYS ".\n";

/* ---- the capture being written ---- */

typedef struct {
    const char *outdir;
    const wmmp_terminal_keys *keys;
    wmmp_pcap pcap;
    wmmp_tcp_flow flow;
    int tcp;               /* messages go over flow instead of UDP datagrams */
    wmmp_pcap_time now;    /* time of the next packet */
    const char *name;      /* file name, for messages */
    uint32_t timestamp;    /* digest timestamp: 0 until the LOGIN_ACK */
    const char *serial;    /* header serial; NULL (all zero) before registration */
    wmmp_writer w;         /* the message being built */
    uint8_t buf[WMMP_MAX_MESSAGE];
} gen;

static void die(const gen *g, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "wmmp-gen-test-captures: %s: ", g && g->name ? g->name : "setup");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void path_join(const gen *g, char *out, size_t cap, const char *file)
{
    if ((size_t)snprintf(out, cap, "%s/%s", g->outdir, file) >= cap)
        die(g, "output path too long");
}

static void capture_open(gen *g, const char *name)
{
    char path[4096];
    g->name = name;
    path_join(g, path, sizeof path, name);
    wmmp_pcap_err e = wmmp_pcap_open(&g->pcap, path);
    if (e != WMMP_PCAP_OK)
        die(g, "%s: %s", wmmp_pcap_strerror(e), strerror(errno));
    g->now = (wmmp_pcap_time){ T0, 0 };
    g->tcp = 0;
    g->timestamp = 0;
    g->serial = SERIAL;
}

static void capture_close(gen *g)
{
    if (wmmp_pcap_close(&g->pcap) != WMMP_PCAP_OK)
        die(g, "cannot write: %s", strerror(errno));
    g->name = NULL;
}

static void wait_usec(gen *g, uint64_t usec)
{
    g->now = wmmp_pcap_time_add(g->now, usec);
}

static void check_pcap(const gen *g, wmmp_pcap_err e)
{
    if (e != WMMP_PCAP_OK)
        die(g, "%s", wmmp_pcap_strerror(e));
}

/* Writes bytes as one UDP datagram in the given direction, then steps the clock. */
static void emit(gen *g, wmmp_direction dir, const uint8_t *p, size_t len)
{
    const wmmp_pcap_endpoint t = { TERMINAL_IP, TERMINAL_PORT }, s = { PLATFORM_IP, PLATFORM_UDP_PORT };
    check_pcap(g, wmmp_pcap_write_udp(&g->pcap, g->now, dir == WMMP_UPLINK ? &t : &s,
                                      dir == WMMP_UPLINK ? &s : &t, p, len));
    wait_usec(g, STEP_USEC);
}

/* Starts a message; the body is then appended to g->w. */
static wmmp_writer *begin(gen *g, uint16_t command, uint32_t seq, uint8_t flag)
{
    wmmp_header h;
    wmmp_header_init(&h, command, seq, flag, g->serial);
    wmmp_msg_begin(&g->w, g->buf, sizeof g->buf, &h);
    return &g->w;
}

/* Sets Total_Length and signs (when the flag asks for a digest) as sent by dir; the message is g->buf. */
static size_t finish(gen *g, wmmp_direction dir)
{
    wmmp_signer s = { g->keys, dir, g->timestamp };
    wmmp_err e = wmmp_msg_finish(&g->w, &s);
    if (e != WMMP_OK)
        die(g, "cannot build message: %s", wmmp_strerror(e));
    return g->w.len;
}

static void send_msg(gen *g, wmmp_direction dir)
{
    size_t len = finish(g, dir);
    emit(g, dir, g->buf, len);
}

/* A message with an empty body or only a result byte. */
static void send_empty(gen *g, wmmp_direction dir, uint16_t command, uint32_t seq, uint8_t flag)
{
    begin(g, command, seq, flag);
    send_msg(g, dir);
}

static void send_result(gen *g, wmmp_direction dir, uint16_t command, uint32_t seq, uint8_t flag, uint8_t result)
{
    wmmp_result_put(begin(g, command, seq, flag), result);
    send_msg(g, dir);
}

static uint16_t ack(uint16_t command)
{
    return (uint16_t)(command | WMMP_ACK_BIT);
}

/* ---- bodies shared by several captures ---- */

static void put_cell(wmmp_writer *w)
{
    wmmp_put_tlv_u32(w, WMMP_TAG_CELL, CELL_LAC << 16 | CELL_CI);
}

/* LOGIN: software version, CRC-32 of the sync TLVs (cell, signal level), the sync TLVs. */
static void put_login(wmmp_writer *w)
{
    uint8_t sync[16];
    wmmp_writer sw;
    wmmp_writer_init(&sw, sync, sizeof sync);
    put_cell(&sw);
    wmmp_put_tlv_u8(&sw, WMMP_TAG_SIGNAL_LEVEL, CSQ);
    wmmp_login login = { SOFTWARE_VERSION, wmmp_login_sync_crc(sync, sw.len) };
    wmmp_login_put(w, &login);
    wmmp_put_bytes(w, sync, sw.len);
}

/* LOGIN and a successful LOGIN_ACK (timestamp LOGIN_TS, heartbeat interval), both with the given flags. */
static void login(gen *g, uint32_t seq, uint8_t login_flag, uint8_t ack_flag)
{
    put_login(begin(g, WMMP_CMD_LOGIN, seq, login_flag));
    send_msg(g, WMMP_UPLINK);
    wmmp_writer *w = begin(g, ack(WMMP_CMD_LOGIN), seq, ack_flag);
    wmmp_login_ack la = { 0, LOGIN_TS };
    wmmp_login_ack_put(w, &la);
    wmmp_put_tlv_u16(w, WMMP_TAG_HEARTBEAT_INTERVAL, HEARTBEAT_INTERVAL);
    g->timestamp = LOGIN_TS; /* the LOGIN_ACK is signed with its own timestamp */
    send_msg(g, WMMP_DOWNLINK);
}

static void put_transparent(wmmp_writer *w, uint16_t dest_tag, const char *dest, const void *data, size_t len)
{
    wmmp_transparent t = { 0, dest_tag, (const uint8_t *)dest, dest ? strlen(dest) : 0, data, len };
    wmmp_transparent_put(w, &t);
}

/* The deterministic ECG test signal: a saw tooth between -200 and 200. */
static int16_t ecg_sample(size_t i)
{
    return (int16_t)((int)((i * 37) % 401) - 200);
}

static void fill_ecg(int16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = ecg_sample(i);
}

static size_t encode_record(const gen *g, const wmmp_health_record *r, uint8_t *out, size_t cap)
{
    wmmp_writer w;
    wmmp_writer_init(&w, out, cap);
    if (wmmp_health_encode(&w, r) != WMMP_OK)
        die(g, "cannot encode the health record: %s", wmmp_strerror(w.err));
    return w.len;
}

/* The firmware image of udp-firmware.pcap: FW_LENGTH deterministic bytes. */
static void firmware_image(uint8_t *out)
{
    static const char magic[] = "HTFW-2.0.1";
    for (size_t i = 0; i < FW_LENGTH; i++)
        out[i] = (uint8_t)(i * 131 + (i >> 8));
    memcpy(out, magic, sizeof magic - 1);
}

static void put_download_info(wmmp_writer *w, const uint8_t *image)
{
    wmmp_put_tlv_str(w, WMMP_TAG_UPDATE_URL, FW_URL);
    wmmp_put_tlv_str(w, WMMP_TAG_FIRMWARE_VERSION_NEW, FW_VERSION);
    wmmp_put_tlv_u32(w, WMMP_TAG_FIRMWARE_LENGTH, FW_LENGTH);
    wmmp_put_tlv_u32(w, WMMP_TAG_FIRMWARE_CRC32, wmmp_crc32(image, FW_LENGTH));
    wmmp_put_tlv_u32(w, WMMP_TAG_UPDATE_TRANSACTION, FW_TRANSACTION);
}

/* FILE_REQ for the block at offset and its FILE_REQ_ACK carrying it. */
static void file_block(gen *g, uint32_t seq, const uint8_t *image, uint32_t offset)
{
    wmmp_file_req rq = { FW_TRANSACTION, 0, offset, FW_BLOCK };
    wmmp_file_req_put(begin(g, WMMP_CMD_FILE_REQ, seq, 0), &rq);
    send_msg(g, WMMP_UPLINK);
    uint32_t left = FW_LENGTH - offset;
    wmmp_file_ack fa = { FW_TRANSACTION, 0, 0, offset, (uint16_t)(left < FW_BLOCK ? left : FW_BLOCK), image + offset };
    wmmp_file_ack_put(begin(g, ack(WMMP_CMD_FILE_REQ), seq, 0), &fa);
    send_msg(g, WMMP_DOWNLINK);
}

/* ---- udp-every-command.pcap: every command of profile section 5 and its ACK, plain ---- */

static void every_command(gen *g)
{
    static const uint16_t get_tags[] = { WMMP_TAG_APN, WMMP_TAG_PLATFORM_IP, WMMP_TAG_PLATFORM_PORT,
                                         WMMP_TAG_REPORT_PERIOD, WMMP_TAG_LOGIN_SYNC_TAGS,
                                         WMMP_TAG_RESPONSE_TIMEOUT, WMMP_TAG_RETRY_COUNT, WMMP_TAG_CELL,
                                         WMMP_TAG_SIGNAL_LEVEL, WMMP_TAG_SYSTEM_TIME, WMMP_TAG_ALARM_CODE,
                                         WMMP_TAG_CONNECT_MODE };
    static const uint16_t req_tags[] = { WMMP_TAG_APN, WMMP_TAG_HEARTBEAT_INTERVAL };
    static const uint8_t sync_list[] = { 0x30, 0x06, 0x30, 0x07 }; /* 0x0025: tags 0x3006, 0x3007 */
    static const uint8_t platform_ip[] = { 10, 0, 0, 1 };
    static uint8_t image[FW_LENGTH];
    uint32_t ts = 1, ps = PLATFORM_SEQ0;
    wmmp_writer *w;
    firmware_image(image);
    capture_open(g, "udp-every-command.pcap");

    /* REGISTER before the terminal has a serial; the ACK assigns it */
    g->serial = NULL;
    wmmp_register rg = { 0, "", "" };
    memcpy(rg.imei, g->keys->imei, sizeof g->keys->imei);
    memcpy(rg.imsi, g->keys->imsi, sizeof g->keys->imsi);
    wmmp_register_put(begin(g, WMMP_CMD_REGISTER, ts, 0), &rg);
    send_msg(g, WMMP_UPLINK);
    wmmp_register_ack ra = { 0, SERIAL };
    wmmp_register_ack_put(begin(g, ack(WMMP_CMD_REGISTER), ts++, 0), &ra);
    send_msg(g, WMMP_DOWNLINK);
    g->serial = SERIAL;

    login(g, ts++, 0, 0);

    wmmp_put_tlv_u8(begin(g, WMMP_CMD_HEART_BEAT, ts, 0), WMMP_TAG_SIGNAL_LEVEL, CSQ);
    send_msg(g, WMMP_UPLINK);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_HEART_BEAT), ts++, 0);

    put_transparent(begin(g, WMMP_CMD_TRANSPARENT_DATA, ts, 0), WMMP_TAG_DEST_SERIAL, DEST_SERIAL, USER_TEXT,
                    strlen(USER_TEXT));
    send_msg(g, WMMP_UPLINK);
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_TRANSPARENT_DATA), ts++, 0, 0);

    /* CONFIG_GET: tags with length 0; the ACK answers with values */
    wmmp_put_tag_list(begin(g, WMMP_CMD_CONFIG_GET, ps, 0), get_tags, sizeof get_tags / sizeof get_tags[0]);
    send_msg(g, WMMP_DOWNLINK);
    w = begin(g, ack(WMMP_CMD_CONFIG_GET), ps++, 0);
    wmmp_result_put(w, 0);
    wmmp_put_tlv_str(w, WMMP_TAG_APN, "CMNET");
    wmmp_put_tlv(w, WMMP_TAG_PLATFORM_IP, platform_ip, sizeof platform_ip);
    wmmp_put_tlv_u32(w, WMMP_TAG_PLATFORM_PORT, PLATFORM_UDP_PORT);
    wmmp_put_tlv_u32(w, WMMP_TAG_REPORT_PERIOD, 300);
    wmmp_put_tlv(w, WMMP_TAG_LOGIN_SYNC_TAGS, sync_list, sizeof sync_list);
    wmmp_put_tlv_u32(w, WMMP_TAG_RESPONSE_TIMEOUT, 3);
    wmmp_put_tlv_u8(w, WMMP_TAG_RETRY_COUNT, 3);
    put_cell(w);
    wmmp_put_tlv_u8(w, WMMP_TAG_SIGNAL_LEVEL, CSQ);
    wmmp_put_tlv_u32(w, WMMP_TAG_SYSTEM_TIME, T0);
    wmmp_put_tlv_u16(w, WMMP_TAG_ALARM_CODE, 0);
    wmmp_put_tlv_u8(w, WMMP_TAG_CONNECT_MODE, 1);
    send_msg(g, WMMP_UPLINK);

    /* CONFIG_SET: the terminal rejects the port (result 8, the tag with length 0) */
    w = begin(g, WMMP_CMD_CONFIG_SET, ps, 0);
    wmmp_put_tlv_u16(w, WMMP_TAG_HEARTBEAT_INTERVAL, 120);
    wmmp_put_tlv_u32(w, WMMP_TAG_PLATFORM_PORT, 9993);
    send_msg(g, WMMP_DOWNLINK);
    w = begin(g, ack(WMMP_CMD_CONFIG_SET), ps++, 0);
    wmmp_result_put(w, 8);
    wmmp_put_tlv(w, WMMP_TAG_PLATFORM_PORT, NULL, 0);
    send_msg(g, WMMP_UPLINK);

    w = begin(g, WMMP_CMD_CONFIG_TRAP, ts, 0);
    put_cell(w);
    wmmp_put_tlv_u8(w, WMMP_TAG_SIGNAL_LEVEL, CSQ);
    wmmp_put_tlv_u32(w, WMMP_TAG_SYSTEM_TIME, T0);
    wmmp_put_tlv_u16(w, WMMP_TAG_ALARM_CODE, 1);
    send_msg(g, WMMP_UPLINK);
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_CONFIG_TRAP), ts++, 0, 0);

    wmmp_put_tag_list(begin(g, WMMP_CMD_CONFIG_REQ, ts, 0), req_tags, sizeof req_tags / sizeof req_tags[0]);
    send_msg(g, WMMP_UPLINK);
    w = begin(g, ack(WMMP_CMD_CONFIG_REQ), ts++, 0);
    wmmp_result_put(w, 0);
    wmmp_put_tlv_str(w, WMMP_TAG_APN, "CMNET");
    wmmp_put_tlv_u16(w, WMMP_TAG_HEARTBEAT_INTERVAL, 120);
    send_msg(g, WMMP_DOWNLINK);

    wmmp_put_tlv_u8(begin(g, WMMP_CMD_REMOTE_CTRL, ps, 0), WMMP_TAG_REMOTE_CTRL_CMD, 2); /* reboot */
    send_msg(g, WMMP_DOWNLINK);
    send_result(g, WMMP_UPLINK, ack(WMMP_CMD_REMOTE_CTRL), ps++, 0, 0);

    put_download_info(begin(g, WMMP_CMD_DOWNLOAD_INFO, ps, 0), image);
    send_msg(g, WMMP_DOWNLINK);
    send_result(g, WMMP_UPLINK, ack(WMMP_CMD_DOWNLOAD_INFO), ps++, 0, 0);

    file_block(g, ts++, image, 0);

    /* SECURITY_CONFIG: operation 1 with the two password expiries (no secret in clear) */
    w = begin(g, WMMP_CMD_SECURITY_CONFIG, ps, 0);
    wmmp_put_u8(w, 1);
    wmmp_put_tlv_u32(w, WMMP_TAG_UPLINK_PASSWORD_EXPIRY, 2592000);
    wmmp_put_tlv_u32(w, WMMP_TAG_DOWNLINK_PASSWORD_EXPIRY, 2592000);
    send_msg(g, WMMP_DOWNLINK);
    send_result(g, WMMP_UPLINK, ack(WMMP_CMD_SECURITY_CONFIG), ps++, 0, 0);

    put_transparent(begin(g, WMMP_CMD_TRANSPARENT_CMD, ps, 0), WMMP_TAG_DEST_EC_CODE, EC_CODE, CMD_TEXT,
                    strlen(CMD_TEXT));
    send_msg(g, WMMP_DOWNLINK);
    send_result(g, WMMP_UPLINK, ack(WMMP_CMD_TRANSPARENT_CMD), ps++, 0, 0);

    /* a TLV no table knows (a user tag in the tests), and a command no table knows */
    w = begin(g, WMMP_CMD_CONFIG_TRAP, ts, 0);
    wmmp_put_tlv_u8(w, WMMP_TAG_SIGNAL_LEVEL, CSQ);
    wmmp_put_tlv_u16(w, UNKNOWN_TAG, UNKNOWN_TAG_VALUE);
    send_msg(g, WMMP_UPLINK);
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_CONFIG_TRAP), ts++, 0, 0);
    wmmp_put_tlv_u8(begin(g, UNKNOWN_COMMAND, ts++, 0), WMMP_TAG_SIGNAL_LEVEL, CSQ);
    send_msg(g, WMMP_UPLINK);

    wmmp_put_u8(begin(g, WMMP_CMD_LOGOUT, ts, 0), 0);
    send_msg(g, WMMP_UPLINK);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_LOGOUT), ts++, 0);
    capture_close(g);
}

/* ---- udp-figure4-digest.pcap: the normal flow of the paper's figure 4, every message signed ---- */

static void figure4(gen *g)
{
    const uint8_t d = WMMP_FLAG_DIGEST;
    uint32_t ts = 1, ps = PLATFORM_SEQ0;
    capture_open(g, "udp-figure4-digest.pcap");
    login(g, ts++, WMMP_FLAG_SECURITY | d, d);

    send_empty(g, WMMP_UPLINK, WMMP_CMD_HEART_BEAT, ts, d);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_HEART_BEAT), ts++, d);

    wmmp_put_tlv_u16(begin(g, WMMP_CMD_CONFIG_SET, ps, d), WMMP_TAG_HEARTBEAT_INTERVAL, 120);
    send_msg(g, WMMP_DOWNLINK);
    send_result(g, WMMP_UPLINK, ack(WMMP_CMD_CONFIG_SET), ps++, d, 0);

    put_transparent(begin(g, WMMP_CMD_TRANSPARENT_DATA, ts, d), WMMP_TAG_DEST_SERIAL, DEST_SERIAL, USER_TEXT,
                    strlen(USER_TEXT));
    send_msg(g, WMMP_UPLINK);
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_TRANSPARENT_DATA), ts++, d, 0);

    send_empty(g, WMMP_UPLINK, WMMP_CMD_HEART_BEAT, ts, d);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_HEART_BEAT), ts++, d);

    wmmp_put_u8(begin(g, WMMP_CMD_LOGOUT, ts, d), 0);
    send_msg(g, WMMP_UPLINK);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_LOGOUT), ts++, d);
    capture_close(g);
}

/* ---- udp-digest-bad.pcap: a signed session whose third message has a wrong digest ---- */

static void digest_bad(gen *g)
{
    const uint8_t d = WMMP_FLAG_DIGEST;
    uint32_t ts = 1;
    capture_open(g, "udp-digest-bad.pcap");
    login(g, ts++, WMMP_FLAG_SECURITY | d, d);

    begin(g, WMMP_CMD_HEART_BEAT, ts, d);
    size_t len = finish(g, WMMP_UPLINK);
    g->buf[len - WMMP_DIGEST_LEN] ^= 0xFF; /* first byte of the MD5 */
    emit(g, WMMP_UPLINK, g->buf, len);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_HEART_BEAT), ts++, d);

    wmmp_put_u8(begin(g, WMMP_CMD_LOGOUT, ts, d), 0);
    send_msg(g, WMMP_UPLINK);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_LOGOUT), ts++, d);
    capture_close(g);
}

/* ---- udp-encrypted.pcap: session key from LOGIN_ACK, then encrypted and fully encrypted messages ---- */

static void encrypted(gen *g)
{
    const uint8_t e0 = 0xE0, f0 = 0xF0, d = WMMP_FLAG_DIGEST;
    const uint8_t *session_key = (const uint8_t *)SESSION_KEY;
    uint8_t inner[64], record[256];
    wmmp_writer iw, *w;
    uint32_t ts = 1;
    capture_open(g, "udp-encrypted.pcap");

    put_login(begin(g, WMMP_CMD_LOGIN, ts, e0));
    send_msg(g, WMMP_UPLINK);
    w = begin(g, ack(WMMP_CMD_LOGIN), ts++, e0);
    wmmp_login_ack la = { 0, LOGIN_TS };
    wmmp_login_ack_put(w, &la);
    wmmp_writer_init(&iw, inner, sizeof inner);
    wmmp_put_tlv(&iw, WMMP_TAG_SESSION_KEY, session_key, WMMP_SESSION_KEY_LEN);
    wmmp_put_tlv_u32(&iw, WMMP_TAG_SESSION_KEY_EXPIRY, SESSION_KEY_EXPIRY);
    wmmp_put_cipher_tlv(w, WMMP_TAG_ENCRYPTED_TLVS, g->keys->base_key, inner, iw.len);
    wmmp_put_tlv_u16(w, WMMP_TAG_HEARTBEAT_INTERVAL, HEARTBEAT_INTERVAL);
    g->timestamp = LOGIN_TS;
    send_msg(g, WMMP_DOWNLINK);

    /* class "encrypted": the signal level in clear, cell and time inside 0xE040 under the base key */
    w = begin(g, WMMP_CMD_CONFIG_TRAP, ts, e0);
    wmmp_put_tlv_u8(w, WMMP_TAG_SIGNAL_LEVEL, CSQ);
    wmmp_writer_init(&iw, inner, sizeof inner);
    put_cell(&iw);
    wmmp_put_tlv_u32(&iw, WMMP_TAG_SYSTEM_TIME, T0);
    wmmp_put_cipher_tlv(w, WMMP_TAG_ENCRYPTED_TLVS, g->keys->base_key, inner, iw.len);
    send_msg(g, WMMP_UPLINK);
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_CONFIG_TRAP), ts++, d, 0);

    /* fully encrypted: the whole body in 0xE042 under the session key */
    wmmp_put_tlv_u8(begin(g, WMMP_CMD_HEART_BEAT, ts, f0), WMMP_TAG_SIGNAL_LEVEL, CSQ);
    wmmp_msg_encrypt_body(&g->w, session_key);
    send_msg(g, WMMP_UPLINK);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_HEART_BEAT), ts++, d);

    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.record_id = 3001;
    r.measured_at = T0 + 30;
    r.present = WMMP_HEALTH_HAS_HEART_RATE | WMMP_HEALTH_HAS_SPO2;
    r.heart_rate = 75;
    r.spo2 = 97;
    size_t rec_len = encode_record(g, &r, record, sizeof record);
    put_transparent(begin(g, WMMP_CMD_TRANSPARENT_DATA, ts, f0), 0, NULL, record, rec_len);
    wmmp_msg_encrypt_body(&g->w, session_key);
    send_msg(g, WMMP_UPLINK);
    wmmp_result_put(begin(g, ack(WMMP_CMD_TRANSPARENT_DATA), ts++, f0), 0);
    wmmp_msg_encrypt_body(&g->w, session_key);
    send_msg(g, WMMP_DOWNLINK);

    wmmp_put_u8(begin(g, WMMP_CMD_LOGOUT, ts, f0), 0);
    wmmp_msg_encrypt_body(&g->w, session_key);
    send_msg(g, WMMP_UPLINK);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_LOGOUT), ts++, d);
    capture_close(g);
}

/* ---- udp-fragmented.pcap: a 3-part TRANSPARENT_DATA with the receiver's fragment-control messages ---- */

static void fragmented(gen *g)
{
    static int16_t ecg[FRAGMENT_ECG_SAMPLES];
    static uint8_t record[4096], body[4096];
    fill_ecg(ecg, FRAGMENT_ECG_SAMPLES);
    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.record_id = 2001;
    r.measured_at = T0 + 60;
    r.present = WMMP_HEALTH_HAS_ECG | WMMP_HEALTH_HAS_HEART_RATE;
    r.ecg = (wmmp_ecg){ ECG_RATE, ECG_LEAD_II, ECG_RESOLUTION, FRAGMENT_ECG_SAMPLES, ecg, NULL };
    r.heart_rate = 72;
    size_t rec_len = encode_record(g, &r, record, sizeof record);

    /* the body the parts carry: everything a single TRANSPARENT_DATA would hold after its header */
    wmmp_writer bw;
    wmmp_writer_init(&bw, body, sizeof body);
    put_transparent(&bw, WMMP_TAG_DEST_SERIAL, DEST_SERIAL, record, rec_len);
    if (bw.err != WMMP_OK)
        die(g, "cannot build the body: %s", wmmp_strerror(bw.err));
    size_t parts = wmmp_fragment_count(bw.len);
    if (parts < 2)
        die(g, "the body (%zu bytes) is too short to be fragmented", bw.len);

    const uint32_t seq = 1;
    const uint8_t frag = WMMP_FLAG_ENCRYPTED_OR_FRAGMENT;
    capture_open(g, "udp-fragmented.pcap");
    for (uint16_t n = 1; n <= parts; n++) {
        wmmp_fragment_put_part(begin(g, WMMP_CMD_TRANSPARENT_DATA, seq, frag), body, bw.len, FRAGMENT_TRANSACTION, n);
        send_msg(g, WMMP_UPLINK);
        if (n < parts) {
            wmmp_fragment_put_control(begin(g, ack(WMMP_CMD_TRANSPARENT_DATA), seq, frag), FRAGMENT_TRANSACTION,
                                      (uint16_t)parts, (uint16_t)(n + 1), WMMP_FRAGMENT_OP_SEND_NEXT);
            send_msg(g, WMMP_DOWNLINK);
        }
    }
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_TRANSPARENT_DATA), seq, 0, 0);
    capture_close(g);
}

/* ---- udp-health-panel.pcap: one health record with every field of profile section 10 ---- */

static void health_panel(gen *g)
{
    static const wmmp_lab_result labs[] = {
        { 1, 1, 142000, 0 }, { 2, 2, 11200, 2 },  { 3, 0, 7400, 0 },  { 4, 3, 40000, 0 }, { 5, 3, 95000, 0 },
        { 6, 2, 140000, 0 }, { 7, 2, 3200, 1 },   { 8, 2, 102000, 0 }, { 9, 2, 1150, 0 }, { 10, 4, 13500, 0 },
        { 11, 0, 1100, 0 },  { 12, 4, 45000, 2 }, { 13, 1, 1200, 3 },  { 14, 0, 0, 0 },
    };
    static const struct {
        uint8_t level;
        const char *text;
    } reminders[] = {
        { 0, "All vital signs recorded" },
        { 1, "Drink more water" },
        { 2, "Glucose above range: repeat the test" },
        { 3, "Fibrinogen critical: see a doctor now" },
    };
    static int16_t ecg[PANEL_ECG_SAMPLES];
    static uint8_t record[2048];
    fill_ecg(ecg, PANEL_ECG_SAMPLES);
    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.record_id = 1001;
    r.measured_at = T0 + 30;
    r.present = WMMP_HEALTH_HAS_SUBJECT | WMMP_HEALTH_HAS_ECG | WMMP_HEALTH_HAS_HEART_RATE |
                WMMP_HEALTH_HAS_TEMPERATURE | WMMP_HEALTH_HAS_BLOOD_PRESSURE | WMMP_HEALTH_HAS_PULSE_RATE |
                WMMP_HEALTH_HAS_SPO2 | WMMP_HEALTH_HAS_RESP_RATE;
    r.subject_id = "110101199003071234";
    r.subject_id_len = strlen(r.subject_id);
    r.ecg = (wmmp_ecg){ ECG_RATE, ECG_LEAD_II, ECG_RESOLUTION, PANEL_ECG_SAMPLES, ecg, NULL };
    r.heart_rate = 72;
    r.temperature_centi = 3685;
    r.bp_systolic = 121;
    r.bp_diastolic = 79;
    r.bp_mean = 93;
    r.pulse_rate = 73;
    r.spo2 = 98;
    r.resp_rate = 16;
    r.lab_count = sizeof labs / sizeof labs[0];
    memcpy(r.labs, labs, sizeof labs);
    r.reminder_count = sizeof reminders / sizeof reminders[0];
    for (size_t i = 0; i < r.reminder_count; i++)
        r.reminders[i] = (wmmp_reminder){ reminders[i].level, reminders[i].text, strlen(reminders[i].text) };
    size_t rec_len = encode_record(g, &r, record, sizeof record);

    capture_open(g, "udp-health-panel.pcap");
    put_transparent(begin(g, WMMP_CMD_TRANSPARENT_DATA, 1, 0), 0, NULL, record, rec_len);
    send_msg(g, WMMP_UPLINK);
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_TRANSPARENT_DATA), 1, 0, 0);
    capture_close(g);
}

/* ---- udp-retransmission.pcap: retransmitted request, duplicate ACK, orphan ACK, unanswered request ---- */

static void retransmission(gen *g)
{
    static const uint16_t req_tags[] = { WMMP_TAG_HEARTBEAT_INTERVAL };
    capture_open(g, "udp-retransmission.pcap");
    send_empty(g, WMMP_UPLINK, WMMP_CMD_HEART_BEAT, 1, 0);
    wait_usec(g, RETRY_USEC - STEP_USEC); /* no ACK within the response timeout: the same request again */
    send_empty(g, WMMP_UPLINK, WMMP_CMD_HEART_BEAT, 1, 0);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_HEART_BEAT), 1, 0);

    wmmp_put_tlv_u8(begin(g, WMMP_CMD_CONFIG_TRAP, 2, 0), WMMP_TAG_SIGNAL_LEVEL, CSQ);
    send_msg(g, WMMP_UPLINK);
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_CONFIG_TRAP), 2, 0, 0);
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_CONFIG_TRAP), 2, 0, 0);

    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_TRANSPARENT_DATA), 99, 0, 0); /* no such request */

    wmmp_put_tag_list(begin(g, WMMP_CMD_CONFIG_REQ, 3, 0), req_tags, 1); /* never answered */
    send_msg(g, WMMP_UPLINK);
    capture_close(g);
}

/* ---- tcp-split-coalesced.pcap: WMMP over TCP, messages split and coalesced across segments ---- */

typedef struct {
    uint8_t bytes[1024];
    size_t len;
} stream_buf;

/* Finishes the message in g->w and appends it to s. */
static void queue(gen *g, stream_buf *s, wmmp_direction dir)
{
    size_t len = finish(g, dir);
    if (len > sizeof s->bytes - s->len)
        die(g, "TCP test message too long");
    memcpy(s->bytes + s->len, g->buf, len);
    s->len += len;
}

static void tcp_segment(gen *g, wmmp_direction dir, const uint8_t *p, size_t len)
{
    check_pcap(g, wmmp_tcp_send(&g->flow, dir == WMMP_UPLINK ? WMMP_TCP_FROM_CLIENT : WMMP_TCP_FROM_SERVER, g->now,
                                p, len));
    wait_usec(g, STEP_USEC);
}

/* Sends s as one segment and empties it. */
static void flush(gen *g, stream_buf *s, wmmp_direction dir)
{
    tcp_segment(g, dir, s->bytes, s->len);
    s->len = 0;
}

static void tcp_split_coalesced(gen *g)
{
    const wmmp_pcap_endpoint client = { TERMINAL_IP, TERMINAL_PORT }, server = { PLATFORM_IP, PLATFORM_TCP_PORT };
    stream_buf s = { { 0 }, 0 };
    capture_open(g, "tcp-split-coalesced.pcap");
    wmmp_tcp_flow_init(&g->flow, &g->pcap, &client, &server, 0x10000000u, 0x20000000u);
    check_pcap(g, wmmp_tcp_handshake(&g->flow, g->now));
    wait_usec(g, STEP_USEC);

    put_login(begin(g, WMMP_CMD_LOGIN, 1, 0));
    queue(g, &s, WMMP_UPLINK);
    flush(g, &s, WMMP_UPLINK);
    wmmp_login_ack la = { 0, LOGIN_TS };
    wmmp_writer *w = begin(g, ack(WMMP_CMD_LOGIN), 1, 0);
    wmmp_login_ack_put(w, &la);
    wmmp_put_tlv_u16(w, WMMP_TAG_HEARTBEAT_INTERVAL, HEARTBEAT_INTERVAL);
    queue(g, &s, WMMP_DOWNLINK);
    flush(g, &s, WMMP_DOWNLINK);

    /* two whole messages in one segment */
    begin(g, WMMP_CMD_HEART_BEAT, 2, 0);
    queue(g, &s, WMMP_UPLINK);
    wmmp_put_tlv_u8(begin(g, WMMP_CMD_CONFIG_TRAP, 3, 0), WMMP_TAG_SIGNAL_LEVEL, CSQ);
    queue(g, &s, WMMP_UPLINK);
    flush(g, &s, WMMP_UPLINK);

    /* one message across three segments: part of the header, the rest of it and some body, the rest */
    put_transparent(begin(g, WMMP_CMD_TRANSPARENT_DATA, 4, 0), WMMP_TAG_DEST_SERIAL, DEST_SERIAL, USER_TEXT,
                    strlen(USER_TEXT));
    queue(g, &s, WMMP_UPLINK);
    tcp_segment(g, WMMP_UPLINK, s.bytes, 10);
    tcp_segment(g, WMMP_UPLINK, s.bytes + 10, 20);
    tcp_segment(g, WMMP_UPLINK, s.bytes + 30, s.len - 30);
    s.len = 0;

    begin(g, ack(WMMP_CMD_HEART_BEAT), 2, 0);
    queue(g, &s, WMMP_DOWNLINK);
    flush(g, &s, WMMP_DOWNLINK);
    wmmp_result_put(begin(g, ack(WMMP_CMD_CONFIG_TRAP), 3, 0), 0);
    queue(g, &s, WMMP_DOWNLINK);
    flush(g, &s, WMMP_DOWNLINK);
    wmmp_result_put(begin(g, ack(WMMP_CMD_TRANSPARENT_DATA), 4, 0), 0);
    queue(g, &s, WMMP_DOWNLINK);
    flush(g, &s, WMMP_DOWNLINK);

    check_pcap(g, wmmp_tcp_close(&g->flow, WMMP_TCP_FROM_CLIENT, g->now));
    capture_close(g);
}

/* ---- udp-firmware.pcap: DOWNLOAD_INFO, then the image in 512-byte FILE_REQ / FILE_REQ_ACK blocks ---- */

static void firmware(gen *g)
{
    static uint8_t image[FW_LENGTH];
    char path[4096];
    firmware_image(image);
    capture_open(g, "udp-firmware.pcap");
    put_download_info(begin(g, WMMP_CMD_DOWNLOAD_INFO, PLATFORM_SEQ0, 0), image);
    send_msg(g, WMMP_DOWNLINK);
    send_result(g, WMMP_UPLINK, ack(WMMP_CMD_DOWNLOAD_INFO), PLATFORM_SEQ0, 0, 0);
    uint32_t ts = 1;
    for (uint32_t off = 0; off < FW_LENGTH; off += FW_BLOCK)
        file_block(g, ts++, image, off);
    capture_close(g);

    /* the image itself, for comparison with what tshark --export-objects writes */
    path_join(g, path, sizeof path, FW_NAME);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(image, FW_LENGTH, 1, f) != 1 || fclose(f) != 0)
        die(g, "%s: %s", path, strerror(errno));
}

/* ---- udp-paper-dialect.pcap: tag 0x0002 as a 1-byte signal level ---- */

static void paper_dialect(gen *g)
{
    capture_open(g, "udp-paper-dialect.pcap");
    wmmp_put_tlv_u8(begin(g, WMMP_CMD_HEART_BEAT, 1, 0), WMMP_TAG_APN, PAPER_SIGNAL);
    send_msg(g, WMMP_UPLINK);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_HEART_BEAT), 1, 0);
    wmmp_writer *w = begin(g, WMMP_CMD_CONFIG_TRAP, 2, 0);
    wmmp_put_tlv_u8(w, WMMP_TAG_APN, PAPER_SIGNAL);
    put_cell(w);
    send_msg(g, WMMP_UPLINK);
    send_result(g, WMMP_DOWNLINK, ack(WMMP_CMD_CONFIG_TRAP), 2, 0, 0);
    capture_close(g);
}

/* ---- udp-malformed.pcap: one defect per datagram, then a good exchange ---- */

/* A header (with the real Total_Length unless length is not 0) followed by body; returns the size. */
static size_t raw_msg(uint8_t *out, uint16_t command, uint32_t seq, uint8_t flag, const uint8_t *body,
                      size_t body_len, uint16_t length)
{
    wmmp_header h;
    wmmp_header_init(&h, command, seq, flag, SERIAL);
    h.total_length = length ? length : (uint16_t)(WMMP_HEADER_LEN + body_len);
    wmmp_header_encode(&h, out);
    if (body_len)
        memcpy(out + WMMP_HEADER_LEN, body, body_len);
    return WMMP_HEADER_LEN + body_len;
}

static void malformed(gen *g)
{
    static const uint8_t signal[] = { 0x30, 0x07, 0x00, 0x01, CSQ };
    static const uint8_t overrun[] = { 0x30, 0x07, 0x00, 0x0A, CSQ };         /* length 10, 1 byte left */
    static const uint8_t cipher[] = { 0xE0, 0x42, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8 };
    static const uint8_t empty_cell[] = { 0x30, 0x06, 0x00, 0x00 };           /* needs 4 bytes */
    static const uint8_t short_register[] = { 0, '8', '6', '0', '0', '0', '0', '0', '0', '0' }; /* 10 of 32 */
    static const uint8_t short_fragment[] = { 0x40, 0x08, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02 }; /* 4 of 7 */
    uint8_t m[128], body[64], record[32];
    uint32_t seq = 1;
    size_t n;
    capture_open(g, "udp-malformed.pcap");

    raw_msg(m, WMMP_CMD_HEART_BEAT, seq++, 0, NULL, 0, 0);
    emit(g, WMMP_UPLINK, m, 10); /* a 10-byte datagram */
    n = raw_msg(m, WMMP_CMD_HEART_BEAT, seq++, 0, NULL, 0, 20);
    emit(g, WMMP_UPLINK, m, n); /* Total_Length 20 */
    n = raw_msg(m, WMMP_CMD_HEART_BEAT, seq++, 0, signal, sizeof signal, 60);
    emit(g, WMMP_UPLINK, m, n); /* Total_Length 60 in a 33-byte datagram */
    n = raw_msg(m, WMMP_CMD_CONFIG_TRAP, seq++, 0, overrun, sizeof overrun, 0);
    emit(g, WMMP_UPLINK, m, n);
    n = raw_msg(m, WMMP_CMD_HEART_BEAT, seq++, WMMP_FLAG_DIGEST, signal, sizeof signal, 0);
    emit(g, WMMP_UPLINK, m, n); /* DIGEST set, no 0xE021 */
    n = raw_msg(m, WMMP_CMD_HEART_BEAT, seq++, WMMP_FLAG_ENCRYPTION | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT, cipher,
                sizeof cipher, 0);
    emit(g, WMMP_UPLINK, m, n); /* 0xE042 without DIGEST */
    n = raw_msg(m, WMMP_CMD_HEART_BEAT, seq++, 0, empty_cell, sizeof empty_cell, 0);
    emit(g, WMMP_UPLINK, m, n);
    n = raw_msg(m, WMMP_CMD_REGISTER, seq++, 0, short_register, sizeof short_register, 0);
    memset(m + 12, 0, WMMP_SERIAL_LEN); /* REGISTER comes before the serial */
    emit(g, WMMP_UPLINK, m, n);
    n = raw_msg(m, WMMP_CMD_TRANSPARENT_DATA, seq++, WMMP_FLAG_ENCRYPTED_OR_FRAGMENT, short_fragment,
                sizeof short_fragment, 0);
    emit(g, WMMP_UPLINK, m, n);

    /* a TRANSPARENT_DATA that is fine itself (CRC right) but carries a health record with a bad TLV */
    wmmp_writer rw, bw;
    wmmp_writer_init(&rw, record, sizeof record);
    wmmp_put_bytes(&rw, "HT", 2);
    wmmp_put_u8(&rw, WMMP_HEALTH_VERSION);
    wmmp_put_u8(&rw, 0);
    wmmp_put_u32(&rw, 4001);
    wmmp_put_u32(&rw, T0);
    wmmp_put_tlv_u8(&rw, WMMP_HT_HEART_RATE, 72); /* heart rate is a uint16: length 1 is wrong */
    wmmp_writer_init(&bw, body, sizeof body);
    put_transparent(&bw, 0, NULL, record, rw.len);
    n = raw_msg(m, WMMP_CMD_TRANSPARENT_DATA, seq++, 0, body, bw.len, 0);
    emit(g, WMMP_UPLINK, m, n);

    /* the capture goes on decoding */
    send_empty(g, WMMP_UPLINK, WMMP_CMD_HEART_BEAT, seq, 0);
    send_empty(g, WMMP_DOWNLINK, ack(WMMP_CMD_HEART_BEAT), seq++, 0);
    capture_close(g);
}

int main(int argc, char **argv)
{
    const char *keys_path = WMMP_DEFAULT_KEYS, *outdir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
            keys_path = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (argv[i][0] != '-' && !outdir) {
            outdir = argv[i];
        } else {
            fprintf(stderr, "wmmp-gen-test-captures: unexpected argument '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (!outdir) {
        fputs(usage, stderr);
        return 2;
    }

    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "wmmp-gen-test-captures: %s: %s\n", outdir, strerror(errno));
        return 1;
    }
    wmmp_keyring kr = { 0 };
    char err[256];
    if (wmmp_keyring_load(&kr, keys_path, err, sizeof err) != WMMP_OK) {
        fprintf(stderr, "wmmp-gen-test-captures: %s\n", err);
        return 2;
    }
    static gen g;
    g.outdir = outdir;
    g.keys = wmmp_keyring_find_serial(&kr, (const uint8_t *)SERIAL);
    if (!g.keys) {
        fprintf(stderr, "wmmp-gen-test-captures: %s: no keys for terminal " SERIAL "\n", keys_path);
        wmmp_keyring_free(&kr);
        return 2;
    }
    wmmp_crypto_init();

    every_command(&g);
    figure4(&g);
    digest_bad(&g);
    encrypted(&g);
    fragmented(&g);
    health_panel(&g);
    retransmission(&g);
    tcp_split_coalesced(&g);
    firmware(&g);
    paper_dialect(&g);
    malformed(&g);

    wmmp_keyring_free(&kr);
    return 0;
}
