/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The integrated health tester node (terminal.h).
 *
 * States: IDLE -> (REGISTERING) -> LOGGING_IN -> ONLINE -> LOGGING_OUT -> DONE, with BACKOFF between a
 * failure and the next login. Decisions the interface leaves open, as implemented here:
 *
 *   - Records are measured every record_interval_ms from terminal_start() on, whether or not the
 *     platform is reachable, and spooled at once (store and forward). While ONLINE the oldest spooled
 *     record is sent, one at a time, after the session's first HEART_BEAT was answered (figure 4:
 *     LOGIN, HEART_BEAT, then TRANSPARENT_DATA). A record in flight when the link fails stays spooled and
 *     is sent again after the next login with the same record ID (and the same bytes).
 *   - A record answered with a result other than 0 is sent again; after MAX_REFUSALS such answers (or an
 *     ACK without the digest the platform otherwise gives) it stays spooled but is not offered again in
 *     this run, which then ends UNACKED. Result 9 (not logged in) makes the terminal log in again.
 *   - The run finishes when `records` records were measured and no sendable record is left: a last
 *     HEART_BEAT, then LOGOUT reason 0 (figure 4 ends HEART_BEAT, LOGOUT). Exit code: OK when the spool is
 *     empty, else UNACKED. COMM_FAILURE when max_login_attempts REGISTER/LOGIN attempts in a row got no
 *     answer (or platform busy), whatever is spooled; LOGIN_REFUSED for an error result, or when the
 *     platform's LOGIN_ACKs only ever failed the digest check.
 *   - Communication failure (the link's failure callback, or nothing heard for 3 heartbeat intervals):
 *     LOGOUT reason 1 (reason 4 for the silent connection) on a reset link, waiting one response timeout
 *     at most, then a back-off (backoff_ms doubling up to backoff_max_ms) and a new login.
 *   - Digests: a platform request with a bad digest is answered with result 3 and not processed. An ACK or
 *     control below the terminal's security level (no digest at DIGEST and above, not in 0xE042 at FULL)
 *     never counts (the link drops it, wmmp_link.h): the first of a login or session is logged as an error,
 *     the request is retried as for a lost ACK (profile section 9) -- never a downgrade. A platform whose
 *     signed LOGIN_ACK delivers no session key is logged and the session stays signed.
 *   - LOGIN carries System time (0x3009) among its sync TLVs, so under the digest: one second newer than
 *     the last LOGIN at least, so that the platform can refuse a replayed copy (docs/PROTOCOL-NOTES.md).
 *   - CONFIG_GET without tags reports the whole parameter table. CONFIG_SET is all or nothing: one
 *     unknown, read-only or out-of-range parameter rejects the request (result 8 + those tags) and applies
 *     none. 0x0011 and 0x4004 both set the heartbeat interval.
 *   - REMOTE_CTRL: 0 suspend / 1 resume sending records, 2 reboot (LOGOUT reason 0, LOGIN at once),
 *     3 log in (already), 4 report statistics (logged), 5 reset statistics (the report's baseline; the
 *     run's own counters keep counting), 8 report communication settings and 0xB report sync TLVs (both by
 *     CONFIG_TRAP); the others: result 8 with tag 0x4001.
 *   - DOWNLOAD_INFO needs 0x1006, 0x1008 and 0x1009 (else result 8 with the missing tags) and at most
 *     16 MiB. Blocks of 512 bytes; a block with a bad CRC-16 is asked for again (3 times). A good image
 *     becomes the firmware version (0x1005; also LOGIN's software version from the next login on) and is
 *     reported by CONFIG_TRAP 0x100C; a bad CRC-32 is answered with FILE_REQ status 3. A download does not
 *     survive the end of its session.
 *   - SECURITY_CONFIG is acknowledged with result 0 and logged (operation and tags, never values) but not
 *     applied: the keys file is the one source of passwords and keys for the terminal, the platform and
 *     Wireshark, and switching alone would break every later digest.
 *   - Under the ENCRYPTED level the signal level of HEART_BEAT and the IMSI of CONFIG_TRAP travel in an
 *     0xE040 container under the base key, so every session has "encrypted" class messages.
 */
#include "terminal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health_gen.h"
#include "spool.h"
#include "wmmp_body.h"
#include "wmmp_crc.h"
#include "wmmp_header.h"
#include "wmmp_tlv.h"

#define DEFAULT_HEARTBEAT_MS 60000
#define DEFAULT_RECORD_INTERVAL_MS 5000
#define DEFAULT_ECG_SECONDS 8
#define DEFAULT_SOFTWARE_VERSION "HT-1.0"
#define DEFAULT_MAX_LOGIN_ATTEMPTS 10
#define DEFAULT_BACKOFF_MS 5000
#define DEFAULT_BACKOFF_MAX_MS 60000
#define DEFAULT_PLATFORM_PORT WMMP_DEFAULT_UDP_PORT
#define DEFAULT_APN "CMNET"
#define PROTOCOL_VERSION "3.0"
#define APN_MAX 63
#define FW_VERSION_MAX 32
#define MAX_REFUSALS 3       /* non-zero results for one record before this run stops offering it */
#define SILENT_HEARTBEATS 3  /* profile section 9: the logical connection ends after 3 silent intervals */
#define FILE_BLOCK 512
#define FILE_BLOCK_RETRIES 3
#define MAX_FIRMWARE (16u << 20)
#define MAX_CONFIG_TAGS 128
#define MAX_GEN_FAILURES 3   /* spool writes failing in a row before measuring stops */
#define PUMP_ROUNDS 8


typedef enum { ST_IDLE, ST_REGISTERING, ST_LOGGING_IN, ST_ONLINE, ST_LOGGING_OUT, ST_BACKOFF, ST_DONE } t_state;
typedef enum { OUT_FINISH, OUT_REBOOT, OUT_FAILURE } t_logout;

/* A firmware download in progress (allocated by DOWNLOAD_INFO, freed when it ends). */
typedef struct {
    int active;
    uint32_t transaction, length, crc32, offset;
    unsigned bad_blocks;
    char version[FW_VERSION_MAX + 1];
    uint8_t *image;
} download;

/* What most terminals never use, allocated at the first that is (one pointer in the terminal, not five). */
typedef struct {
    char firmware[FW_VERSION_MAX + 1]; /* after a download; else the configuration's software version */
    char apn[APN_MAX + 1];             /* after CONFIG_SET; else DEFAULT_APN */
    uint8_t has_firmware, has_apn, has_stats_base;
    terminal_stats stats_base;         /* REMOTE_CTRL "reset statistics"; else zero */
    download *dl;                      /* a download in progress */
    uint32_t *refused;                 /* records not offered again in this run */
    uint32_t n_refused, cap_refused;
} terminal_rare;

/*
 * Kept small: a load generator runs one per simulated terminal. What most terminals never change lives out
 * of line (terminal_rare) or is the configuration's (keys, software version, platform name: referenced,
 * terminal.h).
 */
struct terminal {
    const emu_env *env;
    const wmmp_terminal_keys *keys;
    wmmp_link *link;
    spool *spool;
    const char *software_version; /* the firmware version until a download replaces it (firmware) */
    const char *platform_name;
    terminal_rare *rare;          /* NULL: none of it used yet */
    emu_ms last_heard;
    emu_timer gen_timer, hb_timer, backoff_timer, logout_timer, flow_timer;
    health_gen gen;
    terminal_stats stats;

    /* configuration */
    unsigned records;
    unsigned max_attempts;
    uint32_t record_interval_ms, backoff_first, backoff_max, first_record_delay_ms;

    /* the parameter table (CONFIG_GET / CONFIG_SET) */
    uint32_t heartbeat_ms, timeout_ms;
    uint8_t platform_ip[4];
    uint16_t platform_port;
    uint16_t lac, cell;
    uint8_t csq;
    uint8_t connect_mode;
    uint8_t retries;

    /* session */
    uint32_t login_time; /* System time (0x3009) of our last LOGIN: each one newer (its freshness) */
    uint32_t rec_id;
    uint32_t backoff;
    uint32_t bad_digests_at_login;
    unsigned failed_attempts;
    uint16_t unanswered; /* the REGISTER or LOGIN that just went unanswered (0: none), for the log */

    /* records */
    uint32_t generated;
    uint32_t lost; /* measured but never spooled (disk errors) */
    uint32_t refuse_id;
    uint8_t refuse_count;
    uint8_t gen_failures;

    uint8_t security;   /* wmmp_security_level */
    uint8_t dialect;    /* wmmp_dialect */
    uint8_t state;      /* t_state */
    uint8_t logout_why; /* t_logout; its address marks the LOGOUT request */
    uint8_t exit_code;
    uint8_t hb_outstanding, rec_inflight; /* their addresses mark the HEART_BEAT and the record in flight */
    uint8_t peer_signs;
    uint8_t class_logged; /* an answer below our security class was reported as an error (once per login) */
    uint8_t records_enabled, suspended, finishing, stop_requested, reregistered;
    uint8_t resetting, pumping, pump_again, full_warned;
    char serial[WMMP_SERIAL_LEN + 1];
};

/* ---- small helpers ---- */

static void tlog(const terminal *t, emu_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void tlog(const terminal *t, emu_log_level level, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (t->serial[0])
        emu_logf(t->env, level, "terminal %s: %s", t->serial, line);
    else
        emu_logf(t->env, level, "terminal IMEI %s: %s", t->keys->imei, line);
}

static emu_ms now(const terminal *t) { return t->env->now(t->env->ctx); }

static void timer_stop(terminal *t, emu_timer *id)
{
    if (*id)
        t->env->timer_cancel(t->env->ctx, *id);
    *id = 0;
}

static void timer_set(terminal *t, emu_timer *id, emu_ms delay, void (*fire)(void *))
{
    timer_stop(t, id);
    *id = t->env->timer_start(t->env->ctx, delay, fire, t);
}

/* Milliseconds kept in 32 bits (49 days): longer is never meant. */
static uint32_t ms32(emu_ms v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

static void sync_pending(terminal *t) { t->stats.records_pending = spool_count(t->spool); }

static const char *result_text(unsigned r)
{
    const char *n = wmmp_result_name(r);
    return n ? n : "unknown result";
}

/* ctx marks which of our requests a link callback is about (the link does not own it). */
static int send_request(terminal *t, uint16_t cmd, const uint8_t *body, size_t len, void *ctx)
{
    wmmp_err e = wmmp_link_request(t->link, cmd, body, len, ctx, NULL);
    if (e != WMMP_OK) {
        tlog(t, EMU_LOG_ERROR, "cannot send %s: %s", wmmp_command_name(cmd), wmmp_strerror(e));
        return -1;
    }
    return 0;
}

static void answer(terminal *t, const wmmp_rx *rx, const uint8_t *body, size_t len)
{
    wmmp_err e = wmmp_link_answer(t->link, &rx->hdr, body, len);
    if (e != WMMP_OK)
        tlog(t, EMU_LOG_ERROR, "cannot answer %s: %s", wmmp_command_name(rx->hdr.command_id), wmmp_strerror(e));
}

static void answer_result(terminal *t, const wmmp_rx *rx, uint8_t result) { answer(t, rx, &result, 1); }

/* A result with the tags it concerns, each with length 0 (profile section 4). */
static void answer_tags(terminal *t, const wmmp_rx *rx, uint8_t result, const uint16_t *tags, size_t n)
{
    uint8_t body[1 + MAX_CONFIG_TAGS * WMMP_TLV_HEADER_LEN];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_u8(&w, result);
    wmmp_put_tag_list(&w, tags, n < MAX_CONFIG_TAGS ? n : MAX_CONFIG_TAGS);
    answer(t, rx, body, w.len);
}

/* The digest timestamp's session rules live in the link; this is about whether to trust the sender. */
static int request_authentic(const terminal *t, const wmmp_rx *rx)
{
    if (rx->has_digest)
        return rx->digest_ok;
    return t->security == WMMP_SEC_PLAIN || !t->peer_signs;
}

static void set_identity(terminal *t)
{
    uint8_t serial[WMMP_SERIAL_LEN] = { 0 }; /* all zero before registration (profile section 2) */
    memcpy(serial, t->serial, strlen(t->serial));
    wmmp_link_use_identity(t->link, serial, t->keys); /* the configuration's keys outlive the terminal */
}

/* ---- the parameter table ---- */

/* The rare part, allocated when first needed (NULL when out of memory). */
static terminal_rare *rare(terminal *t)
{
    if (!t->rare)
        t->rare = calloc(1, sizeof *t->rare);
    return t->rare;
}

static const char *firmware(const terminal *t)
{
    return t->rare && t->rare->has_firmware ? t->rare->firmware : t->software_version;
}

static const char *apn(const terminal *t) { return t->rare && t->rare->has_apn ? t->rare->apn : DEFAULT_APN; }

static download *dl_of(const terminal *t) { return t->rare ? t->rare->dl : NULL; }

/* A string parameter of at most max characters (a shared default is not truncated where it lives). */
static void put_str_param(wmmp_writer *w, uint16_t tag, const char *v, size_t max)
{
    wmmp_put_tlv(w, tag, v, strnlen(v, max));
}

static uint16_t signal_tag(const terminal *t)
{
    return t->dialect == WMMP_DIALECT_PAPER ? WMMP_TAG_APN : WMMP_TAG_SIGNAL_LEVEL;
}

static void put_cell(const terminal *t, wmmp_writer *w)
{
    uint8_t v[4];
    wmmp_store16(v, t->lac);
    wmmp_store16(v + 2, t->cell);
    wmmp_put_tlv(w, WMMP_TAG_CELL, v, sizeof v);
}

static void put_sync_list(const terminal *t, wmmp_writer *w)
{
    uint8_t v[4];
    wmmp_store16(v, WMMP_TAG_CELL);
    wmmp_store16(v + 2, signal_tag(t));
    wmmp_put_tlv(w, WMMP_TAG_LOGIN_SYNC_TAGS, v, sizeof v);
}

/* Writes the parameter's TLV; 0 when the terminal has no such parameter. */
static int param_put(const terminal *t, uint16_t tag, wmmp_writer *w)
{
    uint32_t hb_s = (uint32_t)(t->heartbeat_ms / 1000);
    switch (tag) {
    case WMMP_TAG_APN:
        if (t->dialect == WMMP_DIALECT_PAPER)
            wmmp_put_tlv_u8(w, tag, t->csq); /* the paper's signal level */
        else
            wmmp_put_tlv_str(w, tag, apn(t));
        return 1;
    case WMMP_TAG_PLATFORM_IP: wmmp_put_tlv(w, tag, t->platform_ip, 4); return 1;
    case WMMP_TAG_PLATFORM_PORT: wmmp_put_tlv_u32(w, tag, t->platform_port); return 1;
    case WMMP_TAG_REPORT_PERIOD: wmmp_put_tlv_u32(w, tag, hb_s); return 1;
    case WMMP_TAG_LOGIN_SYNC_TAGS: put_sync_list(t, w); return 1;
    case WMMP_TAG_RESPONSE_TIMEOUT: wmmp_put_tlv_u32(w, tag, (uint32_t)(t->timeout_ms / 1000)); return 1;
    case WMMP_TAG_RETRY_COUNT: wmmp_put_tlv_u8(w, tag, (uint8_t)t->retries); return 1;
    case WMMP_TAG_FIRMWARE_VERSION_CUR:
    case WMMP_TAG_FIRMWARE_VERSION: put_str_param(w, tag, firmware(t), FW_VERSION_MAX); return 1;
    case WMMP_TAG_PROTOCOL_VERSION: wmmp_put_tlv_str(w, tag, PROTOCOL_VERSION); return 1;
    case WMMP_TAG_TERMINAL_SERIAL: wmmp_put_tlv(w, tag, t->serial, strlen(t->serial)); return 1;
    case WMMP_TAG_IMSI_INFO: wmmp_put_tlv_str(w, tag, t->keys->imsi); return 1;
    case WMMP_TAG_CELL: put_cell(t, w); return 1;
    case WMMP_TAG_SIGNAL_LEVEL: wmmp_put_tlv_u8(w, tag, t->csq); return 1;
    case WMMP_TAG_SYSTEM_TIME: wmmp_put_tlv_u32(w, tag, t->env->unix_time(t->env->ctx)); return 1;
    case WMMP_TAG_ALARM_CODE: wmmp_put_tlv_u16(w, tag, 0); return 1; /* no alarm */
    case WMMP_TAG_CONNECT_MODE: wmmp_put_tlv_u8(w, tag, t->connect_mode); return 1;
    case WMMP_TAG_HEARTBEAT_INTERVAL: wmmp_put_tlv_u16(w, tag, (uint16_t)(hb_s > 0xFFFF ? 0xFFFF : hb_s)); return 1;
    default: return 0;
    }
}

/* Every parameter, for a CONFIG_GET without tags. */
static const uint16_t all_params[] = {
    WMMP_TAG_APN, WMMP_TAG_PLATFORM_IP, WMMP_TAG_PLATFORM_PORT, WMMP_TAG_REPORT_PERIOD,
    WMMP_TAG_LOGIN_SYNC_TAGS, WMMP_TAG_RESPONSE_TIMEOUT, WMMP_TAG_RETRY_COUNT, WMMP_TAG_FIRMWARE_VERSION_CUR,
    WMMP_TAG_PROTOCOL_VERSION, WMMP_TAG_TERMINAL_SERIAL, WMMP_TAG_IMSI_INFO, WMMP_TAG_FIRMWARE_VERSION,
    WMMP_TAG_CELL, WMMP_TAG_SIGNAL_LEVEL, WMMP_TAG_SYSTEM_TIME, WMMP_TAG_ALARM_CODE, WMMP_TAG_CONNECT_MODE,
    WMMP_TAG_HEARTBEAT_INTERVAL,
};

static int printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7E)
            return 0;
    return 1;
}

static int u32_in(const wmmp_tlv *tlv, uint32_t lo, uint32_t hi)
{
    uint32_t v;
    return wmmp_tlv_u32(tlv, &v) == WMMP_OK && v >= lo && v <= hi;
}

/* May CONFIG_SET write this value? */
static int param_settable(const terminal *t, const wmmp_tlv *tlv)
{
    uint8_t u8;
    uint16_t u16;
    switch (tlv->tag) {
    case WMMP_TAG_APN:
        return t->dialect != WMMP_DIALECT_PAPER && tlv->length >= 1 && tlv->length <= APN_MAX &&
               printable(tlv->value, tlv->length);
    case WMMP_TAG_PLATFORM_IP: return tlv->length == 4;
    case WMMP_TAG_PLATFORM_PORT: return u32_in(tlv, 1, 65535);
    case WMMP_TAG_REPORT_PERIOD: return u32_in(tlv, 1, 65535);
    case WMMP_TAG_RESPONSE_TIMEOUT: return u32_in(tlv, 1, 3600);
    case WMMP_TAG_RETRY_COUNT: return wmmp_tlv_u8(tlv, &u8) == WMMP_OK && u8 <= 10;
    case WMMP_TAG_CONNECT_MODE: return wmmp_tlv_u8(tlv, &u8) == WMMP_OK && u8 <= 4;
    case WMMP_TAG_HEARTBEAT_INTERVAL: return wmmp_tlv_u16(tlv, &u16) == WMMP_OK && u16 >= 1;
    default: return 0; /* unknown or read-only */
    }
}

static void on_hb_timer(void *arg);

static void set_heartbeat(terminal *t, uint32_t seconds)
{
    t->heartbeat_ms = ms32((emu_ms)seconds * 1000);
    if (t->state == ST_ONLINE)
        timer_set(t, &t->hb_timer, t->heartbeat_ms, on_hb_timer);
}

static void param_apply(terminal *t, const wmmp_tlv *tlv)
{
    uint32_t u32 = 0;
    uint16_t u16 = 0;
    switch (tlv->tag) {
    case WMMP_TAG_APN:
        if (!rare(t))
            break; /* out of memory: the APN stays */
        memcpy(t->rare->apn, tlv->value, tlv->length);
        t->rare->apn[tlv->length] = '\0';
        t->rare->has_apn = 1;
        break;
    case WMMP_TAG_PLATFORM_IP: memcpy(t->platform_ip, tlv->value, 4); break;
    case WMMP_TAG_PLATFORM_PORT: wmmp_tlv_u32(tlv, &u32); t->platform_port = (uint16_t)u32; break; /* 1-65535 */
    case WMMP_TAG_REPORT_PERIOD: wmmp_tlv_u32(tlv, &u32); set_heartbeat(t, u32); break;
    case WMMP_TAG_HEARTBEAT_INTERVAL: wmmp_tlv_u16(tlv, &u16); set_heartbeat(t, u16); break;
    case WMMP_TAG_RESPONSE_TIMEOUT:
        wmmp_tlv_u32(tlv, &u32);
        t->timeout_ms = ms32((emu_ms)u32 * 1000);
        wmmp_link_set_timing(t->link, t->timeout_ms, t->retries);
        break;
    case WMMP_TAG_RETRY_COUNT:
        t->retries = tlv->value[0];
        wmmp_link_set_timing(t->link, t->timeout_ms, t->retries);
        break;
    case WMMP_TAG_CONNECT_MODE: t->connect_mode = tlv->value[0]; break;
    default: break;
    }
}

/* ---- encrypted TLVs (0xE040, under the base key) ---- */

/* Appends plain TLVs: inside an 0xE040 under the ENCRYPTED level, in clear otherwise. */
static void put_maybe_sealed(const terminal *t, wmmp_writer *w, const uint8_t *plain, size_t len)
{
    if (len == 0)
        return;
    if (t->security == WMMP_SEC_ENCRYPTED)
        wmmp_put_cipher_tlv(w, WMMP_TAG_ENCRYPTED_TLVS, t->keys->base_key, plain, len);
    else
        wmmp_put_bytes(w, plain, len);
}

static int decrypt_into(const terminal *t, const wmmp_tlv *c, wmmp_writer *w)
{
    return wmmp_put_opened_tlvs(w, t->keys->base_key, c->value, c->length) == WMMP_OK ? 0 : -1;
}

/*
 * A request's TLVs with every 0xE040 container replaced by the TLVs inside it, so the handlers read one
 * flat list whatever the platform chose to encrypt. malloc'ed; NULL when they do not parse or decrypt.
 */
static uint8_t *open_tlvs(const terminal *t, const uint8_t *p, size_t len, size_t *out_len)
{
    uint8_t *out = malloc(len ? len : 1); /* a container's plaintext is never longer than its ciphertext */
    if (!out)
        return NULL;
    wmmp_writer w;
    wmmp_reader r;
    wmmp_tlv tlv;
    wmmp_err e;
    wmmp_writer_init(&w, out, len ? len : 1);
    wmmp_reader_init(&r, p, len);
    while ((e = wmmp_tlv_next(&r, &tlv)) == WMMP_OK) {
        if (tlv.tag == WMMP_TAG_ENCRYPTED_TLVS) {
            if (decrypt_into(t, &tlv, &w) < 0)
                break;
        } else {
            wmmp_put_bytes(&w, p + tlv.offset, WMMP_TLV_HEADER_LEN + tlv.length);
        }
    }
    if (e != WMMP_END || w.err != WMMP_OK) {
        free(out);
        return NULL;
    }
    *out_len = w.len;
    return out;
}

/* ---- CONFIG_TRAP ---- */

static void send_trap(terminal *t, const uint16_t *tags, size_t n, const uint16_t *secret, size_t ns)
{
    uint8_t body[1024], inner[256];
    wmmp_writer w, wi;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_writer_init(&wi, inner, sizeof inner);
    for (size_t i = 0; i < n; i++)
        param_put(t, tags[i], &w);
    for (size_t i = 0; i < ns; i++)
        param_put(t, secret[i], &wi);
    put_maybe_sealed(t, &w, inner, wi.len);
    if (w.err == WMMP_OK)
        send_request(t, WMMP_CMD_CONFIG_TRAP, body, w.len, NULL);
}

/* LOGIN_ACK result 1 and REMOTE_CTRL 0xB: the login sync parameters. */
static void send_sync_trap(terminal *t)
{
    const uint16_t tags[] = { WMMP_TAG_CELL, signal_tag(t), WMMP_TAG_FIRMWARE_VERSION };
    const uint16_t secret[] = { WMMP_TAG_IMSI_INFO };
    send_trap(t, tags, 3, secret, 1);
}

static void send_firmware_trap(terminal *t)
{
    const uint16_t tags[] = { WMMP_TAG_FIRMWARE_VERSION_CUR, WMMP_TAG_FIRMWARE_VERSION };
    send_trap(t, tags, 2, NULL, 0);
}

static void send_comm_trap(terminal *t)
{
    const uint16_t tags[] = { WMMP_TAG_PLATFORM_IP, WMMP_TAG_PLATFORM_PORT, WMMP_TAG_CONNECT_MODE,
                              WMMP_TAG_RESPONSE_TIMEOUT, WMMP_TAG_RETRY_COUNT, WMMP_TAG_HEARTBEAT_INTERVAL,
                              WMMP_TAG_APN /* last: not in the paper dialect, where 0x0002 is the signal */ };
    send_trap(t, tags, t->dialect == WMMP_DIALECT_PAPER ? 6 : 7, NULL, 0);
}

/* ---- refused records ---- */

static int is_refused(const terminal *t, uint32_t id)
{
    for (size_t i = 0; t->rare && i < t->rare->n_refused; i++)
        if (t->rare->refused[i] == id)
            return 1;
    return 0;
}

static void refuse_for_run(terminal *t, uint32_t id)
{
    if (is_refused(t, id))
        return;
    terminal_rare *x = rare(t);
    if (!x)
        return;
    if (x->n_refused == x->cap_refused) {
        uint32_t cap = x->cap_refused ? x->cap_refused * 2 : 8;
        uint32_t *r = realloc(x->refused, cap * sizeof *r);
        if (!r)
            return;
        x->refused = r;
        x->cap_refused = cap;
    }
    x->refused[x->n_refused++] = id;
}

static void refusal(terminal *t, uint32_t id)
{
    if (t->refuse_id != id) {
        t->refuse_id = id;
        t->refuse_count = 0;
    }
    if (++t->refuse_count >= MAX_REFUSALS) {
        tlog(t, EMU_LOG_ERROR, "record %u refused %u times: kept in the spool, not offered again in this run",
             (unsigned)id, t->refuse_count);
        refuse_for_run(t, id);
    }
}

/* The oldest spooled record this run may still send. */
static int next_record(const terminal *t, uint32_t *id)
{
    size_t n = spool_count(t->spool);
    for (size_t i = 0; i < n; i++) {
        uint32_t v = spool_id_at(t->spool, i);
        if (!is_refused(t, v)) {
            *id = v;
            return 1;
        }
    }
    return 0;
}

static int final_code(const terminal *t)
{
    return spool_count(t->spool) == 0 && t->lost == 0 ? TERMINAL_OK : TERMINAL_EXIT_UNACKED;
}

/* ---- ending the run and sessions ---- */

static void dl_free(terminal *t)
{
    download *dl = dl_of(t);
    if (!dl)
        return;
    free(dl->image);
    free(dl);
    t->rare->dl = NULL;
}

static int dl_active(const terminal *t) { return dl_of(t) && dl_of(t)->active; }

/* Drops whatever the link still has (reported through request_failed, ignored meanwhile). */
static void session_end(terminal *t)
{
    timer_stop(t, &t->hb_timer);
    timer_stop(t, &t->flow_timer);
    t->resetting = 1;
    wmmp_link_reset(t->link);
    t->resetting = 0;
    t->rec_inflight = t->hb_outstanding = t->records_enabled = t->finishing = 0;
    dl_free(t);
}

static void finish(terminal *t, int code)
{
    if (t->state == ST_DONE)
        return;
    timer_stop(t, &t->gen_timer);
    timer_stop(t, &t->backoff_timer);
    timer_stop(t, &t->logout_timer);
    session_end(t);
    t->state = ST_DONE;
    t->exit_code = code;
    sync_pending(t);
    tlog(t, code == TERMINAL_OK ? EMU_LOG_INFO : EMU_LOG_WARN,
         "run ended with code %d: %llu records measured, %llu acknowledged, %llu waiting in the spool", code,
         (unsigned long long)t->stats.records_generated, (unsigned long long)t->stats.records_acked,
         (unsigned long long)t->stats.records_pending);
}

static void do_register(terminal *t, uint8_t operation);
static void do_login(terminal *t);

static void connect_platform(terminal *t)
{
    if (t->serial[0])
        do_login(t);
    else
        do_register(t, 0);
}

static void on_backoff(void *arg)
{
    terminal *t = arg;
    t->backoff_timer = 0;
    if (t->state == ST_BACKOFF)
        connect_platform(t);
}

static void schedule_login(terminal *t)
{
    t->state = ST_BACKOFF;
    if (t->unanswered) /* nobody answers: the operator hears of it without --verbose */
        tlog(t, EMU_LOG_WARN, "no answer from %s to %s (%u tries, %g s each); retrying in %g s (attempt %u of %u, "
             "%zu records waiting)", t->platform_name, wmmp_command_name(t->unanswered), (unsigned)t->retries + 1,
             (double)t->timeout_ms / 1000.0, (double)t->backoff / 1000.0, t->failed_attempts + 1, t->max_attempts,
             spool_count(t->spool));
    else
        tlog(t, EMU_LOG_INFO, "logging in again in %llu ms (%zu records waiting)", (unsigned long long)t->backoff,
             spool_count(t->spool));
    timer_set(t, &t->backoff_timer, t->backoff, on_backoff);
    t->backoff = (emu_ms)t->backoff * 2 > t->backoff_max ? t->backoff_max : t->backoff * 2;
}

/* A REGISTER or LOGIN got no (usable) answer. */
static void attempt_failed(terminal *t)
{
    t->failed_attempts++;
    uint64_t bad = wmmp_link_get_stats(t->link)->bad_digests - t->bad_digests_at_login;
    if (t->state == ST_LOGGING_IN && bad > 0) {
        tlog(t, EMU_LOG_ERROR, "the platform's LOGIN_ACKs fail the digest check (wrong downlink password?)");
        finish(t, TERMINAL_EXIT_LOGIN_REFUSED);
    } else if (t->stop_requested) {
        finish(t, final_code(t));
    } else if (t->failed_attempts >= t->max_attempts) {
        tlog(t, EMU_LOG_ERROR, "no answer from %s to %u attempts to log in: giving up (exit %d)", t->platform_name,
             t->failed_attempts, TERMINAL_EXIT_COMM_FAILURE);
        finish(t, TERMINAL_EXIT_COMM_FAILURE);
    } else {
        schedule_login(t);
    }
}

static void on_logout_timer(void *arg);

static void start_logout(terminal *t, t_logout why, uint8_t reason)
{
    uint8_t body[1] = { reason };
    t->state = ST_LOGGING_OUT;
    t->logout_why = why;
    timer_stop(t, &t->hb_timer);
    /* after a failure the link is presumed dead: do not wait long for LOGOUT_ACK (profile section 9) */
    emu_ms wait = why == OUT_FAILURE ? t->timeout_ms : (t->retries + 2) * t->timeout_ms;
    timer_set(t, &t->logout_timer, wait, on_logout_timer);
    const char *name = wmmp_logout_reason_name(reason);
    tlog(t, EMU_LOG_INFO, "logging out (reason %u: %s)", reason, name ? name : "unknown");
    if (send_request(t, WMMP_CMD_LOGOUT, body, 1, &t->logout_why) < 0)
        on_logout_timer(t);
}

/* LOGOUT_ACK, or no answer in time. */
static void logout_done(terminal *t)
{
    if (t->state != ST_LOGGING_OUT)
        return;
    timer_stop(t, &t->logout_timer);
    session_end(t);
    if (t->logout_why == OUT_FINISH || t->stop_requested) {
        finish(t, final_code(t));
    } else if (t->logout_why == OUT_REBOOT) {
        tlog(t, EMU_LOG_INFO, "rebooted");
        connect_platform(t);
    } else {
        schedule_login(t);
    }
}

static void on_logout_timer(void *arg)
{
    terminal *t = arg;
    t->logout_timer = 0;
    logout_done(t);
}

static void comm_failure(terminal *t, uint8_t reason)
{
    t->stats.failures++;
    tlog(t, EMU_LOG_WARN, "communication failure: %zu records stay spooled for the next login",
         spool_count(t->spool));
    session_end(t); /* LOGOUT must not wait behind requests that will not get through */
    start_logout(t, OUT_FAILURE, reason);
}

/* The platform lost our session (result 9): log in again at once. */
static void relogin(terminal *t)
{
    tlog(t, EMU_LOG_WARN, "the platform says this terminal is not logged in: logging in again");
    session_end(t);
    do_login(t);
}

/* ---- records ---- */

static void send_heartbeat(terminal *t);

static void send_record(terminal *t, uint32_t id)
{
    uint8_t *rec = NULL, *body = NULL;
    size_t len = 0;
    if (spool_read(t->spool, id, &rec, &len) != SPOOL_OK) {
        tlog(t, EMU_LOG_ERROR, "cannot read spooled record %u: not offered again in this run", (unsigned)id);
        refuse_for_run(t, id);
        t->pump_again = 1;
        return;
    }
    size_t cap = len + 2 + WMMP_TLV_HEADER_LEN;
    wmmp_writer w;
    wmmp_transparent tp = { .user_data = rec, .user_data_len = len };
    body = malloc(cap);
    if (body) {
        wmmp_writer_init(&w, body, cap);
        wmmp_transparent_put(&w, &tp);
    }
    free(rec);
    t->rec_inflight = 1; /* before the request: the link may report on it from inside the call */
    t->rec_id = id;
    wmmp_err e = body && w.err == WMMP_OK ? wmmp_link_request(t->link, WMMP_CMD_TRANSPARENT_DATA, body, w.len,
                                                              &t->rec_inflight, NULL)
                                          : WMMP_ERR_NO_SPACE;
    free(body);
    if (e != WMMP_OK) {
        t->rec_inflight = 0;
        tlog(t, EMU_LOG_ERROR, "record %u cannot be sent (%s): not offered again in this run", (unsigned)id,
             wmmp_strerror(e));
        refuse_for_run(t, id);
        t->pump_again = 1;
        return;
    }
    t->stats.records_sent++;
}

static int can_finish(const terminal *t)
{
    uint32_t id;
    if (t->finishing || t->rec_inflight)
        return 0;
    if (t->stop_requested)
        return 1;
    return !dl_active(t) && t->generated >= t->records && !next_record(t, &id);
}

/* Figure 4 ends HEART_BEAT, LOGOUT; a stop goes straight to LOGOUT. */
static void begin_finish(terminal *t)
{
    t->finishing = 1;
    if (t->stop_requested)
        start_logout(t, OUT_FINISH, WMMP_LOGOUT_REASON_NORMAL);
    else if (!t->hb_outstanding)
        send_heartbeat(t);
}

static void pump_once(terminal *t)
{
    uint32_t id;
    if (t->state != ST_ONLINE || !t->records_enabled || t->rec_inflight)
        return;
    if (!t->stop_requested && !t->suspended && next_record(t, &id))
        send_record(t, id);
    else if (can_finish(t))
        begin_finish(t);
}

/* Decides what goes out next; re-entrant calls (from link callbacks inside a request) only ask for another round. */
static void pump(terminal *t)
{
    if (t->pumping) {
        t->pump_again = 1;
        return;
    }
    t->pumping = 1;
    for (int i = 0; i < PUMP_ROUNDS; i++) {
        t->pump_again = 0;
        pump_once(t);
        if (!t->pump_again)
            break;
    }
    t->pumping = 0;
}

static void record_acked(terminal *t, uint32_t id)
{
    spool_status st = spool_remove(t->spool, id);
    if (st == SPOOL_OK) {
        t->stats.records_acked++;
        tlog(t, EMU_LOG_DEBUG, "record %u acknowledged", (unsigned)id);
    } else if (st == SPOOL_ERR_IO) {
        /* acknowledged but still on disk: the next run resends it and the platform drops the duplicate */
        t->stats.records_acked++;
        tlog(t, EMU_LOG_ERROR, "cannot remove acknowledged record %u: %s", (unsigned)id, spool_error(t->spool));
        refuse_for_run(t, id);
    }
    if (t->refuse_id == id)
        t->refuse_count = 0;
    sync_pending(t);
}

/*
 * TRANSPARENT_DATA_ACK result 8 (rejected parameter): the platform already stored another record under this
 * record ID (its ID state was lost: another spool, a wiped one). The record is not lost: it gets the next
 * free ID of the spool and is sent again (docs/PROTOCOL-NOTES.md).
 */
static void renumber(terminal *t, uint32_t id)
{
    uint8_t *rec = NULL;
    size_t len = 0;
    uint32_t fresh;
    if (!spool_contains(t->spool, id))
        return; /* acknowledged meanwhile */
    if (spool_read(t->spool, id, &rec, &len) != SPOOL_OK || len < 8 || spool_take_id(t->spool, &fresh) != SPOOL_OK) {
        free(rec);
        tlog(t, EMU_LOG_ERROR, "record %u already stored by the platform (another record with that ID), and it "
             "cannot be renumbered: %s; kept in the spool", (unsigned)id, spool_error(t->spool));
        refuse_for_run(t, id);
        return;
    }
    wmmp_store32(rec + 4, fresh); /* health record: "HT", version, flags, record ID (profile section 10) */
    /* the new copy first: a crash in between leaves the record twice in the spool, never none */
    if (spool_add(t->spool, fresh, rec, len) != SPOOL_OK) {
        tlog(t, EMU_LOG_ERROR, "record %u already stored by the platform (another record with that ID), and it "
             "cannot be renumbered: %s; kept in the spool", (unsigned)id, spool_error(t->spool));
        refuse_for_run(t, id);
    } else {
        spool_remove(t->spool, id);
        tlog(t, EMU_LOG_WARN, "record %u already stored by the platform (another record with that ID: this "
             "terminal's record IDs started again, e.g. in a new spool); sending it as record %u", (unsigned)id,
             (unsigned)fresh);
    }
    free(rec);
    sync_pending(t);
}

static void on_record_ack(terminal *t, const wmmp_rx *rx)
{
    uint32_t id = t->rec_id;
    uint8_t result = WMMP_RESULT_MALFORMED;
    wmmp_reader r;
    t->rec_inflight = 0;
    wmmp_reader_init(&r, rx->body, rx->body_len);
    wmmp_result_get(&r, &result);
    /* the link passes only ACKs of our security class: a restarted platform's unsigned "not logged in" is
       retried until the link declares communication failure, then we log in again (profile section 9) */
    if (result == WMMP_RESULT_OK) {
        record_acked(t, id);
    } else if (result == WMMP_RESULT_NOT_LOGGED_IN && t->state == ST_ONLINE) {
        relogin(t);
        return;
    } else if (result == WMMP_RESULT_REJECTED) {
        renumber(t, id);
    } else {
        tlog(t, EMU_LOG_WARN, "record %u refused: result %u (%s)", (unsigned)id, result, result_text(result));
        refusal(t, id);
    }
    pump(t);
}

/* Measures one record and spools it (store and forward: whether online or not). */
static void measure(terminal *t)
{
    uint32_t id;
    health_gen_record r;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (spool_full(t->spool)) {
        if (!t->full_warned)
            tlog(t, EMU_LOG_WARN, "spool full (%zu records): measuring waits", spool_count(t->spool));
        t->full_warned = 1;
        return;
    }
    t->full_warned = 0;
    if (spool_take_id(t->spool, &id) != SPOOL_OK) {
        tlog(t, EMU_LOG_ERROR, "cannot take a record ID: %s", spool_error(t->spool));
        t->gen_failures++;
        return;
    }
    int ok = health_gen_next(&t->gen, id, t->env->unix_time(t->env->ctx), &r) == 0;
    ok = ok && health_gen_encode(&r, &bytes, &len) == 0 && spool_add(t->spool, id, bytes, len) == SPOOL_OK;
    int ecg = ok && (r.rec.present & WMMP_HEALTH_HAS_ECG);
    health_gen_record_free(&r);
    free(bytes);
    if (!ok) {
        tlog(t, EMU_LOG_ERROR, "cannot spool record %u: %s", (unsigned)id, spool_error(t->spool));
        t->gen_failures++;
        return;
    }
    t->gen_failures = 0;
    t->generated++;
    t->stats.records_generated++;
    sync_pending(t);
    tlog(t, EMU_LOG_DEBUG, "record %u measured (%zu bytes%s)", (unsigned)id, len, ecg ? ", with ECG" : "");
}

static void on_gen_timer(void *arg)
{
    terminal *t = arg;
    t->gen_timer = 0;
    if (t->state == ST_DONE || t->stop_requested)
        return;
    measure(t);
    if (t->gen_failures >= MAX_GEN_FAILURES) {
        /* the disk refuses: count the rest as lost so the run cannot end OK */
        tlog(t, EMU_LOG_ERROR, "the spool keeps failing: measuring stops");
        t->lost += t->records - t->generated;
        t->generated = t->records;
    }
    if (t->generated < t->records)
        timer_set(t, &t->gen_timer, t->record_interval_ms, on_gen_timer);
    pump(t);
}

/* ---- heartbeats ---- */

static void send_heartbeat(terminal *t)
{
    uint8_t body[64], inner[16];
    wmmp_writer w, wi;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_writer_init(&wi, inner, sizeof inner);
    /* the signal level wanders a little, as a real modem's does */
    int csq = (int)t->csq + (int)(t->env->random(t->env->ctx) % 3) - 1;
    t->csq = (uint8_t)(csq < 10 ? 10 : csq > 31 ? 31 : csq);
    put_cell(t, &w);
    wmmp_put_tlv_u8(&wi, signal_tag(t), t->csq);
    put_maybe_sealed(t, &w, inner, wi.len);
    t->hb_outstanding = 1;
    if (w.err != WMMP_OK || send_request(t, WMMP_CMD_HEART_BEAT, body, w.len, &t->hb_outstanding) < 0) {
        t->hb_outstanding = 0;
        return;
    }
    t->stats.heartbeats++;
}

static void on_hb_timer(void *arg)
{
    terminal *t = arg;
    t->hb_timer = 0;
    if (t->state != ST_ONLINE)
        return;
    if (now(t) - t->last_heard >= SILENT_HEARTBEATS * t->heartbeat_ms) {
        tlog(t, EMU_LOG_WARN, "nothing heard for %d heartbeat intervals: the logical connection timed out",
             SILENT_HEARTBEATS);
        comm_failure(t, WMMP_LOGOUT_REASON_TIMEOUT);
        return;
    }
    if (!t->hb_outstanding && !t->finishing)
        send_heartbeat(t);
    timer_set(t, &t->hb_timer, t->heartbeat_ms, on_hb_timer);
}

static void on_flow_timer(void *arg)
{
    terminal *t = arg;
    t->flow_timer = 0;
    if (t->state != ST_ONLINE)
        return;
    t->records_enabled = 1;
    pump(t);
}

/* HEART_BEAT_ACK, or the heartbeat failed: records may flow (figure 4), or the last one before LOGOUT. */
static void heartbeat_done(terminal *t)
{
    t->hb_outstanding = 0;
    if (t->state != ST_ONLINE)
        return;
    if (!t->records_enabled && t->first_record_delay_ms && !t->finishing) {
        /* Figure 4: the platform may configure the terminal before the first record of a session. */
        if (!t->flow_timer)
            timer_set(t, &t->flow_timer, t->first_record_delay_ms, on_flow_timer);
        return;
    }
    t->records_enabled = 1;
    if (t->finishing) {
        start_logout(t, OUT_FINISH, WMMP_LOGOUT_REASON_NORMAL);
        return;
    }
    pump(t);
}

/* ---- REGISTER and LOGIN ---- */

static void do_register(terminal *t, uint8_t operation)
{
    uint8_t body[64];
    wmmp_writer w;
    wmmp_register rg;
    memset(&rg, 0, sizeof rg);
    rg.operation = operation;
    memcpy(rg.imei, t->keys->imei, sizeof t->keys->imei);
    memcpy(rg.imsi, t->keys->imsi, sizeof t->keys->imsi);
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_register_put(&w, &rg);
    t->state = ST_REGISTERING;
    set_identity(t);
    wmmp_link_set_security(t->link, t->security); /* REGISTER itself is never signed */
    tlog(t, EMU_LOG_INFO, "registering (operation %u)", operation);
    if (send_request(t, WMMP_CMD_REGISTER, body, w.len, NULL) < 0)
        attempt_failed(t);
}

static void on_register_ack(terminal *t, const wmmp_rx *rx)
{
    wmmp_reader r;
    wmmp_register_ack a;
    if (t->state != ST_REGISTERING)
        return;
    wmmp_reader_init(&r, rx->body, rx->body_len);
    if (wmmp_register_ack_get(&r, &a) != WMMP_OK) {
        tlog(t, EMU_LOG_ERROR, "malformed REGISTER_ACK");
        finish(t, TERMINAL_EXIT_LOGIN_REFUSED);
        return;
    }
    if (a.result != WMMP_RESULT_OK || strlen(a.serial) == 0) {
        tlog(t, EMU_LOG_ERROR, "registration refused: result %u (%s)", a.result, result_text(a.result));
        finish(t, TERMINAL_EXIT_LOGIN_REFUSED);
        return;
    }
    snprintf(t->serial, sizeof t->serial, "%s", a.serial);
    if (spool_set_serial(t->spool, t->serial) != SPOOL_OK)
        tlog(t, EMU_LOG_ERROR, "cannot store the serial: %s", spool_error(t->spool));
    t->stats.registrations++;
    tlog(t, EMU_LOG_INFO, "registered");
    do_login(t);
}

static void do_login(terminal *t)
{
    uint8_t tlvs[32], body[64];
    wmmp_writer wt, w;
    wmmp_login lg;
    /* newer than our last LOGIN, also across a restart (the spool keeps it) */
    uint32_t at = t->env->unix_time(t->env->ctx), last = spool_login_time(t->spool);
    t->login_time = last > t->login_time ? last : t->login_time;
    t->login_time = at > t->login_time ? at : t->login_time + 1;
    if (spool_set_login_time(t->spool, t->login_time) != SPOOL_OK)
        tlog(t, EMU_LOG_WARN, "cannot store the LOGIN time: %s", spool_error(t->spool));
    wmmp_writer_init(&wt, tlvs, sizeof tlvs);
    put_cell(t, &wt);
    wmmp_put_tlv_u8(&wt, signal_tag(t), t->csq);
    wmmp_put_tlv_u32(&wt, WMMP_TAG_SYSTEM_TIME, t->login_time); /* freshness, under the digest */
    memset(&lg, 0, sizeof lg);
    snprintf(lg.software_version, sizeof lg.software_version, "%.8s", firmware(t));
    lg.sync_crc = wmmp_login_sync_crc(tlvs, wt.len);
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_login_put(&w, &lg);
    wmmp_put_bytes(&w, tlvs, wt.len);

    t->state = ST_LOGGING_IN;
    set_identity(t);
    wmmp_link_set_session_key(t->link, NULL); /* the LOGIN_ACK brings this session's */
    wmmp_link_set_security(t->link, t->security);
    t->bad_digests_at_login = wmmp_link_get_stats(t->link)->bad_digests;
    t->class_logged = 0;
    tlog(t, EMU_LOG_INFO, "logging in (security level %d)", (int)t->security);
    if (send_request(t, WMMP_CMD_LOGIN, body, w.len, NULL) < 0)
        attempt_failed(t);
}

/* LOGIN_ACK TLVs: the session key (0xE040) and the heartbeat interval (0x4004). 1 when a key came. */
static int apply_login_tlvs(terminal *t, wmmp_reader *r)
{
    wmmp_tlv tlv;
    uint16_t hb;
    int keyed = 0;
    while (wmmp_tlv_next(r, &tlv) == WMMP_OK) {
        if (tlv.tag == WMMP_TAG_HEARTBEAT_INTERVAL && wmmp_tlv_u16(&tlv, &hb) == WMMP_OK && hb > 0) {
            t->heartbeat_ms = (uint32_t)hb * 1000;
        } else if (tlv.tag == WMMP_TAG_ENCRYPTED_TLVS) {
            uint8_t key[WMMP_SESSION_KEY_LEN];
            uint32_t expiry = 0;
            wmmp_err e = wmmp_session_key_from_e040(tlv.value, tlv.length, t->keys->base_key, key, &expiry);
            if (e == WMMP_OK) {
                wmmp_link_set_session_key(t->link, key);
                keyed = 1;
                tlog(t, EMU_LOG_INFO, "session key received (expiry %u)", (unsigned)expiry);
            } else {
                tlog(t, EMU_LOG_WARN, "no session key in the LOGIN_ACK's 0xE040: %s", wmmp_strerror(e));
            }
            memset(key, 0, sizeof key);
        }
    }
    return keyed;
}

static void session_begin(terminal *t, const wmmp_rx *rx, const wmmp_login_ack *a, wmmp_reader *r)
{
    wmmp_link_set_timestamp(t->link, a->timestamp);
    t->peer_signs = rx->has_digest;
    if (t->security != WMMP_SEC_PLAIN && !rx->has_digest)
        tlog(t, EMU_LOG_WARN, "the platform does not sign its messages");
    if (!apply_login_tlvs(t, r) && t->security >= WMMP_SEC_ENCRYPTED)
        tlog(t, EMU_LOG_WARN, "the platform delivered no session key (security %s asked): this session is "
             "signed, not encrypted", wmmp_security_level_name(t->security));
    t->state = ST_ONLINE;
    t->class_logged = 0;
    t->stats.logins++;
    t->failed_attempts = 0;
    t->backoff = t->backoff_first;
    t->reregistered = 0;
    t->last_heard = now(t);
    tlog(t, EMU_LOG_INFO, "logged in (result %u, heartbeat %llu s, %zu records waiting)", a->result,
         (unsigned long long)(t->heartbeat_ms / 1000), spool_count(t->spool));
    if (a->result == WMMP_RESULT_OK_SYNC)
        send_sync_trap(t);
    send_heartbeat(t);
    timer_set(t, &t->hb_timer, t->heartbeat_ms, on_hb_timer);
}

static void on_login_ack(terminal *t, const wmmp_rx *rx)
{
    wmmp_reader r;
    wmmp_login_ack a;
    if (t->state != ST_LOGGING_IN)
        return;
    wmmp_reader_init(&r, rx->body, rx->body_len);
    if (wmmp_login_ack_get(&r, &a) != WMMP_OK) {
        tlog(t, EMU_LOG_ERROR, "malformed LOGIN_ACK");
        finish(t, TERMINAL_EXIT_LOGIN_REFUSED);
        return;
    }
    if (a.result == WMMP_RESULT_OK || a.result == WMMP_RESULT_OK_SYNC) {
        session_begin(t, rx, &a, &r);
    } else if (a.result == WMMP_RESULT_NOT_REGISTERED && !t->reregistered) {
        t->reregistered = 1;
        tlog(t, EMU_LOG_WARN, "not registered (result 6): registering again");
        do_register(t, t->serial[0] ? 1 : 0);
    } else if (a.result == WMMP_RESULT_BUSY) {
        tlog(t, EMU_LOG_WARN, "platform busy (result 7)");
        attempt_failed(t);
    } else {
        tlog(t, EMU_LOG_ERROR, "login refused: result %u (%s)", a.result, result_text(a.result));
        finish(t, TERMINAL_EXIT_LOGIN_REFUSED);
    }
}

/* ---- firmware download (DOWNLOAD_INFO, FILE_REQ loop) ---- */

static void dl_file_req(terminal *t, uint8_t status, uint16_t block, void *ctx)
{
    uint8_t body[16];
    wmmp_writer w;
    const download *dl = dl_of(t);
    wmmp_file_req fr = { dl->transaction, status, dl->offset, block };
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_file_req_put(&w, &fr);
    if (send_request(t, WMMP_CMD_FILE_REQ, body, w.len, ctx) < 0 && ctx) {
        dl_free(t);
        pump(t);
    }
}

static void dl_abort(terminal *t, const char *why)
{
    tlog(t, EMU_LOG_WARN, "firmware download aborted: %s", why);
    dl_file_req(t, WMMP_FILE_STATUS_ABORT, 0, NULL); /* its ACK is not awaited */
    dl_free(t);
    pump(t);
}

static void dl_complete(terminal *t)
{
    download *dl = dl_of(t);
    uint32_t crc = wmmp_crc32(dl->image, dl->length);
    if (crc != dl->crc32) {
        char why[96];
        snprintf(why, sizeof why, "CRC-32 %08x, announced %08x", (unsigned)crc, (unsigned)dl->crc32);
        dl_abort(t, why);
        return;
    }
    snprintf(t->rare->firmware, sizeof t->rare->firmware, "%s", dl->version[0] ? dl->version : "updated");
    t->rare->has_firmware = 1;
    tlog(t, EMU_LOG_INFO, "firmware %s received (%u bytes, CRC-32 good): now running it", firmware(t),
         (unsigned)dl->length);
    dl_free(t);
    send_firmware_trap(t);
    pump(t);
}

static void on_file_ack(terminal *t, const wmmp_rx *rx)
{
    wmmp_reader r;
    wmmp_file_ack a;
    wmmp_reader_init(&r, rx->body, rx->body_len);
    wmmp_err e = wmmp_file_ack_get(&r, &a);
    download *dl = dl_of(t);
    if (e == WMMP_ERR_CRC_MISMATCH && ++dl->bad_blocks <= FILE_BLOCK_RETRIES) {
        tlog(t, EMU_LOG_WARN, "firmware block at %u damaged: asking again", (unsigned)dl->offset);
        dl_file_req(t, WMMP_FILE_STATUS_BLOCK, FILE_BLOCK, dl);
        return;
    }
    if (e != WMMP_OK) {
        dl_abort(t, wmmp_strerror(e));
        return;
    }
    if (a.status == WMMP_FILE_STATUS_ABORT) {
        tlog(t, EMU_LOG_WARN, "the platform aborted the firmware download");
        dl_free(t);
        pump(t);
        return;
    }
    if (a.transaction_id != dl->transaction || a.offset != dl->offset || a.length == 0 ||
        a.length > dl->length - dl->offset) {
        dl_abort(t, "unexpected block");
        return;
    }
    memcpy(dl->image + dl->offset, a.data, a.length);
    dl->offset += a.length;
    dl->bad_blocks = 0;
    if (dl->offset < dl->length)
        dl_file_req(t, WMMP_FILE_STATUS_BLOCK, FILE_BLOCK, dl);
    else
        dl_complete(t);
}

/* ---- platform requests ---- */

static void on_config_get(terminal *t, const wmmp_rx *rx)
{
    size_t n = 0, count = 0, n_unknown = 0;
    uint16_t tags[MAX_CONFIG_TAGS], unknown[MAX_CONFIG_TAGS];
    wmmp_reader r;
    uint8_t *list = open_tlvs(t, rx->body, rx->body_len, &n);
    if (list)
        wmmp_reader_init(&r, list, n);
    if (!list || wmmp_tag_list_get(&r, tags, MAX_CONFIG_TAGS, &count) != WMMP_OK) {
        free(list);
        answer_result(t, rx, WMMP_RESULT_MALFORMED);
        return;
    }
    free(list);
    if (count == 0) { /* no tags: the whole table */
        count = sizeof all_params / sizeof all_params[0];
        memcpy(tags, all_params, sizeof all_params);
    }
    size_t cap = 1 + MAX_CONFIG_TAGS * (WMMP_TLV_HEADER_LEN + APN_MAX + 1);
    uint8_t *body = malloc(cap);
    if (!body)
        return;
    wmmp_writer w;
    wmmp_writer_init(&w, body, cap);
    wmmp_put_u8(&w, WMMP_RESULT_OK);
    for (size_t i = 0; i < count; i++)
        if (!param_put(t, tags[i], &w))
            unknown[n_unknown++] = tags[i];
    wmmp_put_tag_list(&w, unknown, n_unknown); /* unknown tags with length 0 */
    body[0] = n_unknown ? WMMP_RESULT_REJECTED : WMMP_RESULT_OK;
    answer(t, rx, body, w.len);
    free(body);
    tlog(t, EMU_LOG_INFO, "CONFIG_GET of %zu parameters (%zu unknown)", count, n_unknown);
}

static void on_config_set(terminal *t, const wmmp_rx *rx)
{
    size_t n = 0, total = 0, n_rejected = 0;
    uint16_t rejected[MAX_CONFIG_TAGS];
    wmmp_reader r;
    wmmp_tlv tlv;
    uint8_t *tlvs = open_tlvs(t, rx->body, rx->body_len, &n);
    if (!tlvs) {
        answer_result(t, rx, WMMP_RESULT_MALFORMED);
        return;
    }
    wmmp_reader_init(&r, tlvs, n);
    while (wmmp_tlv_next(&r, &tlv) == WMMP_OK) {
        total++;
        if (!param_settable(t, &tlv) && n_rejected < MAX_CONFIG_TAGS)
            rejected[n_rejected++] = tlv.tag;
    }
    if (n_rejected) { /* all or nothing */
        answer_tags(t, rx, WMMP_RESULT_REJECTED, rejected, n_rejected);
        tlog(t, EMU_LOG_WARN, "CONFIG_SET: %zu of %zu parameters rejected, none applied", n_rejected, total);
    } else {
        wmmp_reader_init(&r, tlvs, n);
        while (wmmp_tlv_next(&r, &tlv) == WMMP_OK)
            param_apply(t, &tlv);
        answer_result(t, rx, WMMP_RESULT_OK);
        tlog(t, EMU_LOG_INFO, "CONFIG_SET: %zu parameters applied", total);
    }
    free(tlvs);
}

static void log_stats(terminal *t)
{
    static const terminal_stats never_reset;
    const terminal_stats *s = &t->stats;
    const terminal_stats *b = t->rare && t->rare->has_stats_base ? &t->rare->stats_base : &never_reset;
    tlog(t, EMU_LOG_INFO,
         "statistics since the last reset: %llu records measured, %llu sent, %llu acknowledged, %llu heartbeats, "
         "%llu logins, %llu failures",
         (unsigned long long)(s->records_generated - b->records_generated),
         (unsigned long long)(s->records_sent - b->records_sent),
         (unsigned long long)(s->records_acked - b->records_acked), (unsigned long long)(s->heartbeats - b->heartbeats),
         (unsigned long long)(s->logins - b->logins), (unsigned long long)(s->failures - b->failures));
}

static void on_remote_ctrl(terminal *t, const wmmp_rx *rx)
{
    const uint16_t cmd_tag = WMMP_TAG_REMOTE_CTRL_CMD;
    size_t n = 0;
    wmmp_tlv tlv;
    uint8_t cmd;
    uint8_t *tlvs = open_tlvs(t, rx->body, rx->body_len, &n);
    int ok = tlvs && wmmp_tlv_find(tlvs, n, cmd_tag, &tlv) == WMMP_OK && wmmp_tlv_u8(&tlv, &cmd) == WMMP_OK;
    free(tlvs);
    if (!ok) {
        answer_result(t, rx, WMMP_RESULT_MALFORMED);
        return;
    }
    const char *name = wmmp_remote_cmd_name(cmd);
    tlog(t, EMU_LOG_INFO, "REMOTE_CTRL %u (%s)", cmd, name ? name : "unknown");
    switch (cmd) {
    case WMMP_REMOTE_CMD_SUSPEND: t->suspended = 1; break;
    case WMMP_REMOTE_CMD_RESUME: t->suspended = 0; break;
    case WMMP_REMOTE_CMD_REBOOT:
    case WMMP_REMOTE_CMD_LOGIN: break;
    case WMMP_REMOTE_CMD_REPORT_STATS: log_stats(t); break;
    case WMMP_REMOTE_CMD_RESET_STATS:
        if (rare(t)) {
            t->rare->stats_base = t->stats;
            t->rare->has_stats_base = 1;
        }
        break;
    case WMMP_REMOTE_CMD_REPORT_COMM:
    case WMMP_REMOTE_CMD_REPORT_SYNC: break;
    default:
        answer_tags(t, rx, WMMP_RESULT_REJECTED, &cmd_tag, 1);
        return;
    }
    answer_result(t, rx, WMMP_RESULT_OK);
    /* what follows the answer: reports and the reboot's LOGOUT */
    if (cmd == WMMP_REMOTE_CMD_REPORT_COMM)
        send_comm_trap(t);
    else if (cmd == WMMP_REMOTE_CMD_REPORT_SYNC)
        send_sync_trap(t);
    else if (cmd == WMMP_REMOTE_CMD_REBOOT && t->state == ST_ONLINE)
        start_logout(t, OUT_REBOOT, WMMP_LOGOUT_REASON_NORMAL);
    else
        pump(t);
}

/* The announcement's TLVs; returns how many required ones are missing (listed in missing). */
static size_t read_download_info(terminal *t, const uint8_t *tlvs, size_t n, uint16_t missing[3])
{
    static const uint16_t required[3] = { WMMP_TAG_FIRMWARE_LENGTH, WMMP_TAG_FIRMWARE_CRC32,
                                          WMMP_TAG_UPDATE_TRANSACTION };
    download *dl = dl_of(t);
    uint32_t *dest[3] = { &dl->length, &dl->crc32, &dl->transaction };
    size_t n_missing = 0;
    wmmp_tlv tlv;
    for (int i = 0; i < 3; i++)
        if (wmmp_tlv_find(tlvs, n, required[i], &tlv) != WMMP_OK || wmmp_tlv_u32(&tlv, dest[i]) != WMMP_OK)
            missing[n_missing++] = required[i];
    if (wmmp_tlv_find(tlvs, n, WMMP_TAG_FIRMWARE_VERSION_NEW, &tlv) == WMMP_OK) {
        size_t len = tlv.length < FW_VERSION_MAX ? tlv.length : FW_VERSION_MAX;
        memcpy(dl->version, tlv.value, len);
        dl->version[len] = '\0';
    }
    return n_missing;
}

static void on_download_info(terminal *t, const wmmp_rx *rx)
{
    const uint16_t length_tag = WMMP_TAG_FIRMWARE_LENGTH;
    uint16_t missing[3];
    size_t n = 0;
    uint8_t *tlvs = open_tlvs(t, rx->body, rx->body_len, &n);
    if (!tlvs) {
        answer_result(t, rx, WMMP_RESULT_MALFORMED);
        return;
    }
    dl_free(t); /* a new announcement replaces a download in progress */
    if (!rare(t) || !(t->rare->dl = calloc(1, sizeof *t->rare->dl))) {
        free(tlvs);
        answer_result(t, rx, WMMP_RESULT_BUSY);
        return;
    }
    download *dl = t->rare->dl;
    size_t n_missing = read_download_info(t, tlvs, n, missing);
    free(tlvs);
    if (n_missing) {
        answer_tags(t, rx, WMMP_RESULT_REJECTED, missing, n_missing);
    } else if (dl->length == 0 || dl->length > MAX_FIRMWARE) {
        answer_tags(t, rx, WMMP_RESULT_REJECTED, &length_tag, 1);
    } else if (t->state != ST_ONLINE) {
        answer_result(t, rx, WMMP_RESULT_BUSY);
    } else if (!(dl->image = malloc(dl->length))) {
        answer_result(t, rx, WMMP_RESULT_BUSY);
    } else {
        answer_result(t, rx, WMMP_RESULT_OK);
        dl->active = 1;
        tlog(t, EMU_LOG_INFO, "firmware %s announced (%u bytes, CRC-32 %08x): downloading",
             dl->version[0] ? dl->version : "(no version)", (unsigned)dl->length, (unsigned)dl->crc32);
        dl_file_req(t, WMMP_FILE_STATUS_BLOCK, FILE_BLOCK, dl);
        return;
    }
    dl_free(t);
}

static void on_security_config(terminal *t, const wmmp_rx *rx)
{
    size_t n = 0, count = 0;
    uint8_t op = rx->body_len ? rx->body[0] : 0;
    uint8_t *tlvs = rx->body_len ? open_tlvs(t, rx->body + 1, rx->body_len - 1, &n) : NULL;
    if (!tlvs) {
        answer_result(t, rx, WMMP_RESULT_MALFORMED);
        return;
    }
    wmmp_tlv_validate(tlvs, n, &count);
    free(tlvs);
    answer_result(t, rx, WMMP_RESULT_OK);
    tlog(t, EMU_LOG_INFO, "SECURITY_CONFIG operation %u with %zu parameters acknowledged (keys stay those of the "
         "keys file)", op, count);
}

static void on_platform_logout(terminal *t, const wmmp_rx *rx)
{
    uint8_t reason = rx->body_len ? rx->body[0] : 0;
    const char *name = wmmp_logout_reason_name(reason);
    uint32_t id;
    answer(t, rx, NULL, 0);
    tlog(t, EMU_LOG_INFO, "logged out by the platform (reason %u: %s)", reason, name ? name : "unknown");
    if (t->state != ST_ONLINE)
        return;
    session_end(t);
    if (t->stop_requested || (t->generated >= t->records && !next_record(t, &id)))
        finish(t, final_code(t));
    else
        schedule_login(t);
}

static void on_downlink_data(terminal *t, const wmmp_rx *rx)
{
    wmmp_reader r;
    wmmp_transparent tp;
    wmmp_reader_init(&r, rx->body, rx->body_len);
    if (wmmp_transparent_get(&r, &tp) != WMMP_OK) {
        answer_result(t, rx, WMMP_RESULT_MALFORMED);
        return;
    }
    answer_result(t, rx, WMMP_RESULT_OK);
    tlog(t, EMU_LOG_INFO, "%s with %zu bytes of user data", wmmp_command_name(rx->hdr.command_id),
         tp.user_data_len);
}

/* ---- link callbacks ---- */

static void cb_request(void *user, wmmp_link *l, const wmmp_rx *rx)
{
    terminal *t = user;
    uint16_t cmd = rx->hdr.command_id;
    (void)l;
    if (t->state == ST_DONE)
        return;
    t->last_heard = now(t);
    if (!request_authentic(t, rx)) {
        tlog(t, EMU_LOG_WARN, "%s with a bad or missing digest: refused", wmmp_command_name(cmd));
        if (cmd != WMMP_CMD_LOGOUT) /* LOGOUT_ACK has no result byte */
            answer_result(t, rx, WMMP_RESULT_AUTH_FAILED);
        return;
    }
    switch (cmd) {
    case WMMP_CMD_CONFIG_GET: on_config_get(t, rx); break;
    case WMMP_CMD_CONFIG_SET: on_config_set(t, rx); break;
    case WMMP_CMD_REMOTE_CTRL: on_remote_ctrl(t, rx); break;
    case WMMP_CMD_DOWNLOAD_INFO: on_download_info(t, rx); break;
    case WMMP_CMD_SECURITY_CONFIG: on_security_config(t, rx); break;
    case WMMP_CMD_LOGOUT: on_platform_logout(t, rx); break;
    case WMMP_CMD_TRANSPARENT_DATA:
    case WMMP_CMD_TRANSPARENT_CMD: on_downlink_data(t, rx); break;
    default:
        tlog(t, EMU_LOG_WARN, "unexpected %s from the platform", wmmp_command_name(cmd));
        answer_result(t, rx, WMMP_RESULT_REJECTED);
        break;
    }
}

static void on_trap_ack(terminal *t, const wmmp_rx *rx)
{
    uint8_t result = WMMP_RESULT_MALFORMED;
    wmmp_reader r;
    wmmp_reader_init(&r, rx->body, rx->body_len);
    wmmp_result_get(&r, &result);
    if (result == WMMP_RESULT_NOT_LOGGED_IN && t->state == ST_ONLINE)
        relogin(t);
    else if (result != WMMP_RESULT_OK)
        tlog(t, EMU_LOG_WARN, "CONFIG_TRAP answered with result %u (%s)", result, result_text(result));
}

static void cb_ack(void *user, wmmp_link *l, const wmmp_rx *rx, void *ctx)
{
    terminal *t = user;
    (void)l;
    if (t->state == ST_DONE)
        return;
    t->last_heard = now(t);
    switch (wmmp_request_of(rx->hdr.command_id)) {
    case WMMP_CMD_REGISTER: on_register_ack(t, rx); break;
    case WMMP_CMD_LOGIN: on_login_ack(t, rx); break;
    case WMMP_CMD_HEART_BEAT:
        if (ctx == &t->hb_outstanding)
            heartbeat_done(t);
        break;
    case WMMP_CMD_TRANSPARENT_DATA:
        if (ctx == &t->rec_inflight)
            on_record_ack(t, rx);
        break;
    case WMMP_CMD_LOGOUT:
        if (ctx == &t->logout_why)
            logout_done(t);
        break;
    case WMMP_CMD_CONFIG_TRAP: on_trap_ack(t, rx); break;
    case WMMP_CMD_FILE_REQ:
        if (ctx && ctx == dl_of(t) && dl_active(t))
            on_file_ack(t, rx);
        break;
    default: break;
    }
}

static void cb_request_failed(void *user, wmmp_link *l, uint16_t command_id, uint32_t sequence, void *req_ctx)
{
    terminal *t = user;
    (void)l;
    (void)sequence;
    if (req_ctx == &t->rec_inflight)
        t->rec_inflight = 0; /* the record stays spooled */
    if (req_ctx == &t->hb_outstanding)
        t->hb_outstanding = 0;
    if (t->resetting || t->state == ST_DONE)
        return;
    tlog(t, EMU_LOG_INFO, "%s not answered", wmmp_command_name(command_id));
    switch (command_id) {
    case WMMP_CMD_REGISTER:
    case WMMP_CMD_LOGIN:
        if (t->state == (command_id == WMMP_CMD_LOGIN ? ST_LOGGING_IN : ST_REGISTERING)) {
            t->unanswered = command_id;
            attempt_failed(t);
            t->unanswered = 0;
        }
        break;
    case WMMP_CMD_HEART_BEAT:
        if (req_ctx == &t->hb_outstanding)
            heartbeat_done(t);
        break;
    case WMMP_CMD_TRANSPARENT_DATA: pump(t); break; /* sent again, same record ID */
    case WMMP_CMD_LOGOUT:
        if (req_ctx == &t->logout_why)
            logout_done(t);
        break;
    case WMMP_CMD_FILE_REQ:
        if (req_ctx && req_ctx == dl_of(t) && dl_active(t)) {
            dl_free(t);
            pump(t);
        }
        break;
    default: break;
    }
}

static void cb_failure(void *user, wmmp_link *l)
{
    terminal *t = user;
    (void)l;
    if (t->state == ST_ONLINE)
        comm_failure(t, WMMP_LOGOUT_REASON_COMM_FAILURE);
}

/* An ACK or control below our security class (the link dropped it): an error once, for the operator. */
static void below_class(terminal *t, const uint8_t *msg, size_t len)
{
    wmmp_header h;
    if (wmmp_header_decode(msg, len, &h) != WMMP_OK)
        return;
    int signed_ = (h.safe_flag & WMMP_FLAG_DIGEST) != 0;
    tlog(t, t->class_logged ? EMU_LOG_DEBUG : EMU_LOG_ERROR,
         "%s refused: %s, below this terminal's security level %s; not downgrading, the request is retried "
         "(a forged answer, or a platform with less security?)",
         wmmp_command_name(h.command_id), signed_ ? "not encrypted" : "unsigned (no digest)",
         wmmp_security_level_name(t->security));
    t->class_logged = 1;
}

static void cb_rejected(void *user, wmmp_link *l, const uint8_t *msg, size_t len, wmmp_err why)
{
    terminal *t = user;
    (void)l;
    if (why == WMMP_ERR_SECURITY_CLASS)
        below_class(t, msg, len);
    else
        tlog(t, EMU_LOG_DEBUG, "dropped %zu bytes from the platform: %s", len, wmmp_strerror(why));
}

/* ---- the interface ---- */

static void apply_defaults(terminal *t, const terminal_config *cfg)
{
    t->keys = cfg->keys;
    t->security = (uint8_t)cfg->security;
    t->dialect = (uint8_t)cfg->dialect;
    t->records = cfg->records;
    t->heartbeat_ms = ms32(cfg->heartbeat_ms ? cfg->heartbeat_ms : DEFAULT_HEARTBEAT_MS);
    t->record_interval_ms = ms32(cfg->record_interval_ms ? cfg->record_interval_ms : DEFAULT_RECORD_INTERVAL_MS);
    t->first_record_delay_ms = ms32(cfg->first_record_delay_ms);
    t->max_attempts = cfg->max_login_attempts ? cfg->max_login_attempts : DEFAULT_MAX_LOGIN_ATTEMPTS;
    t->backoff_first = ms32(cfg->backoff_ms ? cfg->backoff_ms : DEFAULT_BACKOFF_MS);
    t->backoff_max = ms32(cfg->backoff_max_ms ? cfg->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS);
    if (t->backoff_max < t->backoff_first)
        t->backoff_max = t->backoff_first;
    t->backoff = t->backoff_first;
    t->software_version =
        cfg->software_version && *cfg->software_version ? cfg->software_version : DEFAULT_SOFTWARE_VERSION;
    wmmp_store32(t->platform_ip, cfg->platform_ipv4);
    t->platform_port = cfg->platform_port ? cfg->platform_port : DEFAULT_PLATFORM_PORT;
    t->connect_mode = WMMP_CONNECT_MODE_UDP_LONG;
    t->platform_name = cfg->platform_name ? cfg->platform_name : "the platform";
}

static wmmp_link *make_link(terminal *t, emu_peer *peer, const terminal_config *cfg)
{
    static const wmmp_link_callbacks cb = { cb_request, cb_ack, cb_request_failed, cb_failure, cb_rejected };
    wmmp_link_config lc = cfg->link;
    if (lc.response_timeout_ms == 0) /* an unset config: the profile's defaults */
        wmmp_link_config_default(&lc, WMMP_UPLINK);
    lc.side = WMMP_UPLINK;
    t->timeout_ms = ms32(lc.response_timeout_ms);
    t->retries = (uint8_t)(lc.retries > UINT8_MAX ? UINT8_MAX : lc.retries);
    return wmmp_link_new(t->env, peer, &lc, &cb, t);
}

terminal *terminal_new(const emu_env *env, emu_peer *platform_peer, const terminal_config *cfg, char *err,
                       size_t err_len)
{
    if (!env || !cfg || !cfg->keys) {
        snprintf(err, err_len, "no environment, configuration or keys");
        return NULL;
    }
    if (cfg->serial && strlen(cfg->serial) > WMMP_SERIAL_LEN) {
        snprintf(err, err_len, "serial \"%s\" is longer than %d characters", cfg->serial, WMMP_SERIAL_LEN);
        return NULL;
    }
    terminal *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    t->env = env;
    apply_defaults(t, cfg);
    if (!(t->spool = spool_open(cfg->spool_dir, cfg->spool_max, err, err_len))) {
        free(t);
        return NULL;
    }
    /* a configured serial wins; else the one REGISTER gave an earlier run */
    snprintf(t->serial, sizeof t->serial, "%s", cfg->serial && *cfg->serial ? cfg->serial : spool_serial(t->spool));
    if (!(t->link = make_link(t, platform_peer, cfg))) {
        snprintf(err, err_len, "out of memory");
        spool_close(t->spool);
        free(t);
        return NULL;
    }
    health_gen_init(&t->gen, env, HEALTH_GEN_DEFAULT_ECG_EVERY, cfg->ecg_seconds ? cfg->ecg_seconds : DEFAULT_ECG_SECONDS);
    t->lac = (uint16_t)(0x1000 + env->random(env->ctx) % 0x4000);
    t->cell = (uint16_t)(1 + env->random(env->ctx) % 0xFFFE);
    t->csq = (uint8_t)(16 + env->random(env->ctx) % 12);
    t->state = ST_IDLE;
    sync_pending(t);
    return t;
}

void terminal_free(terminal *t)
{
    if (!t)
        return;
    t->state = ST_DONE; /* nothing reacts any more */
    timer_stop(t, &t->gen_timer);
    timer_stop(t, &t->hb_timer);
    timer_stop(t, &t->flow_timer);
    timer_stop(t, &t->backoff_timer);
    timer_stop(t, &t->logout_timer);
    wmmp_link_free(t->link);
    spool_close(t->spool);
    dl_free(t);
    if (t->rare)
        free(t->rare->refused);
    free(t->rare);
    free(t);
}

void terminal_start(terminal *t)
{
    if (t->state != ST_IDLE)
        return;
    tlog(t, EMU_LOG_INFO, "starting: %u records to measure, %zu waiting in %s (next record ID %u)", t->records,
         spool_count(t->spool), spool_dir(t->spool), (unsigned)spool_next_id(t->spool));
    if (t->records > 0)
        on_gen_timer(t); /* the first measurement now, the next ones every record_interval_ms */
    connect_platform(t);
}

void terminal_receive(terminal *t, const uint8_t *msg, size_t len) { wmmp_link_receive(t->link, msg, len); }

void terminal_connection_lost(terminal *t)
{
    switch (t->state) {
    case ST_ONLINE:
        t->stats.failures++;
        tlog(t, EMU_LOG_WARN, "connection lost");
        session_end(t);
        if (t->stop_requested)
            finish(t, final_code(t));
        else
            schedule_login(t);
        break;
    case ST_REGISTERING:
    case ST_LOGGING_IN:
        tlog(t, EMU_LOG_WARN, "connection lost");
        session_end(t);
        attempt_failed(t);
        break;
    case ST_LOGGING_OUT: logout_done(t); break;
    default: break;
    }
}

void terminal_stop(terminal *t)
{
    if (t->state == ST_DONE)
        return;
    t->stop_requested = 1;
    timer_stop(t, &t->gen_timer);
    if (t->state == ST_ONLINE)
        pump(t); /* logs out once nothing is in flight */
    else if (t->state != ST_LOGGING_OUT)
        finish(t, final_code(t));
}

int terminal_done(const terminal *t, int *code)
{
    if (t->state != ST_DONE)
        return 0;
    if (code)
        *code = t->exit_code;
    return 1;
}

const terminal_stats *terminal_get_stats(const terminal *t) { return &t->stats; }

wmmp_link *terminal_link(const terminal *t) { return t->link; }
