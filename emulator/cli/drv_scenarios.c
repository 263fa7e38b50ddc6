/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_scenarios.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health_gen.h"
#include "spool.h"
#include "wmmp_header.h"
#include "wmmp_health.h"
#include "wmmp_tables.h"
#include "wmmp_tlv.h"

#define YEAR_S (365u * 86400u)

/* ---- platform actions, run from the event queue ---- */

static void act_config_set(void *arg)
{
    drv_run *r = arg;
    uint8_t tlvs[16];
    wmmp_writer w;
    /* the heartbeat interval the terminal already has: a real CONFIG_SET that changes no timing */
    wmmp_writer_init(&w, tlvs, sizeof tlvs);
    wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, r->heartbeat_s);
    if (platform_config_set(r->p, r->serial, tlvs, w.len) != 0)
        emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_ERROR, "scenario: CONFIG_SET refused");
}

static void act_config_get(void *arg)
{
    drv_run *r = arg;
    static const uint16_t tags[] = { WMMP_TAG_HEARTBEAT_INTERVAL, WMMP_TAG_SIGNAL_LEVEL, WMMP_TAG_CELL };
    if (platform_config_get(r->p, r->serial, tags, sizeof tags / sizeof tags[0]) != 0)
        emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_ERROR, "scenario: CONFIG_GET refused");
}

static void act_remote_ctrl(void *arg)
{
    drv_run *r = arg;
    /* report communication settings: the terminal answers, then reports them by CONFIG_TRAP */
    if (platform_remote_ctrl(r->p, r->serial, 0x8) != 0)
        emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_ERROR, "scenario: REMOTE_CTRL refused");
}

static uint32_t platform_unix_time(drv_run *r)
{
    const emu_env *env = drv_offline_env(r->d, DRV_PLATFORM);
    return env->unix_time(env->ctx);
}

/*
 * SECURITY_CONFIG from the platform: the passwords again with their expiry dates, and the base key's
 * expiry. The values are those of the keys file (the terminal logs them and changes nothing, so every
 * later digest still verifies); under --security encrypted they travel in an 0xE040 container. The
 * profile names no SECURITY_CONFIG operations: 1 ("set parameters") is this scenario's choice.
 */
static void act_security_config(void *arg)
{
    drv_run *r = arg;
    uint8_t tlvs[96];
    wmmp_writer w;
    uint32_t expiry = platform_unix_time(r) + YEAR_S;
    wmmp_writer_init(&w, tlvs, sizeof tlvs);
    wmmp_put_tlv(&w, WMMP_TAG_UPLINK_PASSWORD, r->keys->uplink_password, WMMP_PASSWORD_LEN);
    wmmp_put_tlv_u32(&w, WMMP_TAG_UPLINK_PASSWORD_EXPIRY, expiry);
    wmmp_put_tlv(&w, WMMP_TAG_DOWNLINK_PASSWORD, r->keys->downlink_password, WMMP_PASSWORD_LEN);
    wmmp_put_tlv_u32(&w, WMMP_TAG_DOWNLINK_PASSWORD_EXPIRY, expiry);
    wmmp_put_tlv_u32(&w, WMMP_TAG_BASE_KEY_EXPIRY, expiry);
    if (w.err != WMMP_OK || platform_security_config(r->p, r->serial, 1, tlvs, w.len) != 0)
        emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_ERROR, "scenario: SECURITY_CONFIG refused");
    memset(tlvs, 0, sizeof tlvs);
}

/* MD5 of the encoded TLV (tag, length, value), as 0xE026 / 0xE029 / 0xE03A carry it. */
static void put_tlv_md5(wmmp_writer *w, uint16_t md5_tag, uint16_t tag, const uint8_t *value, size_t len)
{
    uint8_t tlv[64], md5[16];
    gsize md5_len = sizeof md5;
    wmmp_writer t;
    GChecksum *ck = g_checksum_new(G_CHECKSUM_MD5);
    wmmp_writer_init(&t, tlv, sizeof tlv);
    wmmp_put_tlv(&t, tag, value, len);
    g_checksum_update(ck, tlv, t.len);
    g_checksum_get_digest(ck, md5, &md5_len);
    g_checksum_free(ck);
    memset(tlv, 0, sizeof tlv);
    wmmp_put_tlv(w, md5_tag, md5, sizeof md5);
}

/*
 * The terminal node sends no SECURITY_CONFIG and no CONFIG_REQ of its own; these scenario actions put
 * them on its link (which signs, encrypts and retransmits them like any of its requests) and the node
 * ignores their ACKs.
 */
static void terminal_request(drv_run *r, uint16_t cmd, const uint8_t *body, size_t len)
{
    if (wmmp_link_request(terminal_link(r->t), cmd, body, len, NULL, NULL) != WMMP_OK)
        emu_logf(drv_offline_env(r->d, DRV_TERMINAL), EMU_LOG_ERROR, "scenario: cannot send %s",
                 wmmp_command_name(cmd));
}

/* The terminal reports the digests of its security parameters (operation 3, as REGISTER's operation 3). */
static void act_security_report(void *arg)
{
    drv_run *r = arg;
    uint8_t body[80];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_u8(&w, 3);
    put_tlv_md5(&w, WMMP_TAG_UPLINK_PASSWORD_MD5, WMMP_TAG_UPLINK_PASSWORD, r->keys->uplink_password,
                WMMP_PASSWORD_LEN);
    put_tlv_md5(&w, WMMP_TAG_DOWNLINK_PASSWORD_MD5, WMMP_TAG_DOWNLINK_PASSWORD, r->keys->downlink_password,
                WMMP_PASSWORD_LEN);
    put_tlv_md5(&w, WMMP_TAG_BASE_KEY_MD5, WMMP_TAG_BASE_KEY, r->keys->base_key, WMMP_BASE_KEY_LEN);
    if (w.err == WMMP_OK)
        terminal_request(r, WMMP_CMD_SECURITY_CONFIG, body, w.len);
}

/* The terminal asks the platform for its settings (every tag the platform knows: result 0). */
static void act_config_req(void *arg)
{
    drv_run *r = arg;
    static const uint16_t tags[] = { WMMP_TAG_HEARTBEAT_INTERVAL, WMMP_TAG_RESPONSE_TIMEOUT, WMMP_TAG_RETRY_COUNT,
                                     WMMP_TAG_SYSTEM_TIME,        WMMP_TAG_PLATFORM_IP,     WMMP_TAG_PLATFORM_PORT };
    uint8_t body[64];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_put_tag_list(&w, tags, sizeof tags / sizeof tags[0]);
    if (w.err == WMMP_OK)
        terminal_request(r, WMMP_CMD_CONFIG_REQ, body, w.len);
}

static void act_download_info(void *arg)
{
    drv_run *r = arg;
    if (platform_download_info(r->p, r->serial) != 0)
        emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_ERROR, "scenario: DOWNLOAD_INFO refused");
}

static void act_platform_vanishes(void *arg)
{
    drv_run *r = arg;
    r->platform_down = 1;
    drv_offline_set_down(r->d, DRV_PLATFORM, 1);
    emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_INFO, "scenario: the platform vanishes");
}

/* ---- triggers ---- */

static int is(uint16_t cmd, uint16_t want) { return cmd == want; }

static void figure4_wire(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len)
{
    (void)msg;
    (void)len;
    /*
     * Figure 4: the platform configures the terminal after the first heartbeat, and the terminal sends its
     * record after that (the scenario gives the terminal a pause before its first record).
     */
    if (r->step == 0 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_HEART_BEAT | WMMP_ACK_BIT)) {
        r->step = 1;
        drv_offline_later(r->d, 1, act_config_set, r);
    }
}

static void config_wire(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len)
{
    (void)msg;
    (void)len;
    if (r->step == 0 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_LOGIN | WMMP_ACK_BIT)) {
        r->step = 1;
        drv_offline_later(r->d, 100, act_config_get, r);
    } else if (r->step == 1 && from == DRV_TERMINAL && is(cmd, WMMP_CMD_CONFIG_GET | WMMP_ACK_BIT)) {
        r->step = 2;
        drv_offline_later(r->d, 100, act_config_set, r);
    } else if (r->step == 2 && from == DRV_TERMINAL && is(cmd, WMMP_CMD_CONFIG_SET | WMMP_ACK_BIT)) {
        r->step = 3;
        drv_offline_later(r->d, 100, act_remote_ctrl, r);
    } else if (r->step == 3 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_CONFIG_TRAP | WMMP_ACK_BIT)) {
        r->step = 4; /* the CONFIG_TRAP that REMOTE_CTRL 8 asked for was answered */
        drv_offline_later(r->d, 100, act_config_req, r);
    }
}

static void security_wire(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len)
{
    (void)msg;
    (void)len;
    if (r->step == 0 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_LOGIN | WMMP_ACK_BIT)) {
        r->step = 1;
        drv_offline_later(r->d, 100, act_security_config, r);
    } else if (r->step == 1 && from == DRV_TERMINAL && is(cmd, WMMP_CMD_SECURITY_CONFIG | WMMP_ACK_BIT)) {
        r->step = 2;
        drv_offline_later(r->d, 100, act_security_report, r);
    }
}

static void firmware_wire(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len)
{
    (void)msg;
    (void)len;
    if (r->step == 0 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_LOGIN | WMMP_ACK_BIT)) {
        r->step = 1;
        drv_offline_later(r->d, 100, act_download_info, r);
    }
}

static void failure_wire(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len)
{
    (void)msg;
    (void)len;
    if (r->step == 0 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_TRANSPARENT_DATA | WMMP_ACK_BIT)) {
        r->step = 1;
        drv_offline_later(r->d, 1, act_platform_vanishes, r);
    }
}

/* ---- checks ---- */

static uint64_t seen(const drv_run *r, uint16_t cmd)
{
    return r->by_cmd[(cmd & WMMP_ACK_BIT) != 0][cmd & 0x0F];
}

static int stored_all(const drv_run *r, char *why, size_t n)
{
    const platform_stats *ps = platform_get_stats(r->p);
    if (ps->records_stored != r->records) {
        snprintf(why, n, "the platform stored %llu of %u records", (unsigned long long)ps->records_stored, r->records);
        return -1;
    }
    return 0;
}

static int figure4_check(const drv_run *r, char *why, size_t n)
{
    static const uint16_t want[] = { 0x0001, 0x8001, 0x0003, 0x8003, 0x0006, 0x8006,
                                     0x0004, 0x8004, 0x0003, 0x8003, 0x0002, 0x8002 };
    size_t k = sizeof want / sizeof want[0];
    if (r->n_wire != k) {
        snprintf(why, n, "%zu messages on the wire, figure 4 has %zu", r->n_wire, k);
        return -1;
    }
    for (size_t i = 0; i < k; i++)
        if (r->wire[i] != want[i]) {
            snprintf(why, n, "message %zu is %s, figure 4 has %s", i + 1, wmmp_command_name(r->wire[i]),
                     wmmp_command_name(want[i]));
            return -1;
        }
    return stored_all(r, why, n);
}

static int fragmented_check(const drv_run *r, char *why, size_t n)
{
    if (r->fragments == 0) {
        snprintf(why, n, "no fragmented message went over the wire");
        return -1;
    }
    return stored_all(r, why, n);
}

static int firmware_check(const drv_run *r, char *why, size_t n)
{
    /* the 5000-byte image takes 10 blocks of 512; the terminal reports the new version by CONFIG_TRAP */
    if (!seen(r, WMMP_CMD_DOWNLOAD_INFO | WMMP_ACK_BIT) || seen(r, WMMP_CMD_FILE_REQ | WMMP_ACK_BIT) < 10 ||
        !seen(r, WMMP_CMD_CONFIG_TRAP)) {
        snprintf(why, n, "no DOWNLOAD_INFO -> FILE_REQ exchange (DOWNLOAD_INFO_ACK %llu, FILE_REQ %llu)",
                 (unsigned long long)seen(r, WMMP_CMD_DOWNLOAD_INFO | WMMP_ACK_BIT),
                 (unsigned long long)seen(r, WMMP_CMD_FILE_REQ));
        return -1;
    }
    return stored_all(r, why, n);
}

/* Whether side sent cmd. */
static int sent_by(const drv_run *r, drv_side side, uint16_t cmd)
{
    for (size_t i = 0; i < r->n_wire; i++)
        if (r->wire[i] == cmd && r->wire_from[i] == side)
            return 1;
    return 0;
}

static int need_all(const drv_run *r, const uint16_t *need, const drv_side *by, size_t k, char *why, size_t n)
{
    for (size_t i = 0; i < k; i++)
        if (!sent_by(r, by[i], need[i])) {
            snprintf(why, n, "no %s from the %s on the wire", wmmp_command_name(need[i]),
                     by[i] == DRV_TERMINAL ? "terminal" : "platform");
            return -1;
        }
    return stored_all(r, why, n);
}

static int config_check(const drv_run *r, char *why, size_t n)
{
    static const uint16_t need[] = { WMMP_CMD_CONFIG_GET | WMMP_ACK_BIT, WMMP_CMD_CONFIG_SET | WMMP_ACK_BIT,
                                     WMMP_CMD_REMOTE_CTRL | WMMP_ACK_BIT, WMMP_CMD_CONFIG_TRAP | WMMP_ACK_BIT,
                                     WMMP_CMD_CONFIG_REQ | WMMP_ACK_BIT };
    static const drv_side by[] = { DRV_TERMINAL, DRV_TERMINAL, DRV_TERMINAL, DRV_PLATFORM, DRV_PLATFORM };
    return need_all(r, need, by, sizeof need / sizeof need[0], why, n);
}

static int security_check(const drv_run *r, char *why, size_t n)
{
    static const uint16_t need[] = { WMMP_CMD_SECURITY_CONFIG, WMMP_CMD_SECURITY_CONFIG | WMMP_ACK_BIT,
                                     WMMP_CMD_SECURITY_CONFIG, WMMP_CMD_SECURITY_CONFIG | WMMP_ACK_BIT };
    static const drv_side by[] = { DRV_PLATFORM, DRV_TERMINAL, DRV_TERMINAL, DRV_PLATFORM };
    return need_all(r, need, by, sizeof need / sizeof need[0], why, n);
}

static int register_check(const drv_run *r, char *why, size_t n)
{
    if (!sent_by(r, DRV_TERMINAL, WMMP_CMD_REGISTER) || !sent_by(r, DRV_PLATFORM, WMMP_CMD_REGISTER | WMMP_ACK_BIT) ||
        terminal_get_stats(r->t)->registrations != 1) {
        snprintf(why, n, "the terminal did not register (REGISTER / REGISTER_ACK)");
        return -1;
    }
    if (r->wire[0] != WMMP_CMD_REGISTER || r->n_wire < 3 || r->wire[2] != WMMP_CMD_LOGIN) {
        snprintf(why, n, "the run does not start REGISTER, REGISTER_ACK, LOGIN");
        return -1;
    }
    return stored_all(r, why, n);
}

/* ---- the health panel: one record with every measurement of profile section 10 ---- */

#define PANEL_ECG_SAMPLES 125 /* 0.5 s at 250 Hz: the record stays in one message (body under 900 bytes) */
#define PANEL_SUBJECT "310104198506120238"

static uint32_t fixed_random(void *ctx)
{
    (void)ctx;
    return 0x5EED0042u;
}

/* The usual unit of an analyte (wmmp_health.def). */
static uint8_t lab_unit(uint16_t analyte)
{
    switch (analyte) {
#define WMMP_LAB_ANALYTE(v, sym, name, u) \
    case v: return u;
#include "wmmp_health.def"
    default: return 0;
    }
}

static int panel_preload(drv_run *r, const char *spool_dir, uint32_t measured_at, char *why, size_t n)
{
    static const struct {
        uint16_t analyte;
        int32_t milli;
    } labs[] = {
        { 1, 142000 }, /* hemoglobin g/L, normal */
        { 2, 11200 },  /* glucose mmol/L, high */
        { 3, 7400 },   /* pH, normal */
        { 4, 41000 },  /* pCO2 mmHg, normal */
        { 5, 62000 },  /* pO2 mmHg, low */
        { 6, 139000 }, /* Na+ mmol/L, normal */
        { 7, 6800 },   /* K+ mmol/L, critical */
        { 8, 101000 }, /* Cl- mmol/L, normal */
        { 9, 1020 },   /* ionized Ca2+ mmol/L, low */
        { 10, 12500 }, /* prothrombin time s, normal */
        { 11, 1050 },  /* INR, normal */
        { 12, 31000 }, /* APTT s, normal */
        { 13, 2900 },  /* fibrinogen g/L, normal */
        { 14, 0 },     /* cross-match: compatible */
    };
    static const struct {
        uint8_t level;
        const char *text;
    } reminders[] = {
        { 0, "Panel complete: 6 vitals, ECG, 14 lab results; 36.85 \xc2\xb0" "C" },
        { 1, "Glucose 11.2 mmol/L is above the reference range, repeat fasting" },
        { 2, "pO2 62 mmHg and Ca2+ 1.02 mmol/L are low" },
        { 3, "Critical K+: 6.8 mmol/L, seek medical care now" },
    };
    emu_env stub = { .random = fixed_random };
    health_gen g;
    int16_t ecg[PANEL_ECG_SAMPLES];
    wmmp_health_record rec;
    uint8_t buf[2048];
    wmmp_writer w;
    uint32_t id;
    spool *sp;

    (void)r;
    health_gen_init(&g, &stub, 1, 1);
    health_gen_ecg(&g, 72.0, 1.0, ecg, PANEL_ECG_SAMPLES);
    memset(&rec, 0, sizeof rec);
    rec.measured_at = measured_at;
    rec.present = WMMP_HEALTH_HAS_SUBJECT | WMMP_HEALTH_HAS_ECG | WMMP_HEALTH_HAS_HEART_RATE |
                  WMMP_HEALTH_HAS_TEMPERATURE | WMMP_HEALTH_HAS_BLOOD_PRESSURE | WMMP_HEALTH_HAS_PULSE_RATE |
                  WMMP_HEALTH_HAS_SPO2 | WMMP_HEALTH_HAS_RESP_RATE;
    rec.subject_id = PANEL_SUBJECT;
    rec.subject_id_len = strlen(PANEL_SUBJECT);
    rec.ecg = (wmmp_ecg){ .rate = HEALTH_GEN_ECG_RATE, .lead = HEALTH_GEN_ECG_LEAD_II,
                          .resolution_nv = HEALTH_GEN_ECG_RESOLUTION_NV, .count = PANEL_ECG_SAMPLES, .samples = ecg };
    rec.heart_rate = 72;
    rec.temperature_centi = 3685;
    rec.bp_systolic = 121;
    rec.bp_diastolic = 79;
    rec.bp_mean = 93;
    rec.pulse_rate = 73;
    rec.spo2 = 98;
    rec.resp_rate = 16;
    for (size_t i = 0; i < sizeof labs / sizeof labs[0]; i++) {
        wmmp_lab_result *lr = &rec.labs[rec.lab_count++];
        lr->analyte = labs[i].analyte;
        lr->unit = lab_unit(lr->analyte);
        lr->value_milli = labs[i].milli;
        lr->flag = health_gen_lab_flag(lr->analyte, lr->value_milli);
    }
    for (size_t i = 0; i < sizeof reminders / sizeof reminders[0]; i++) {
        wmmp_reminder *m = &rec.reminders[rec.reminder_count++];
        m->level = reminders[i].level;
        m->text = reminders[i].text;
        m->text_len = strlen(reminders[i].text);
    }
    if (!(sp = spool_open(spool_dir, 0, why, n)))
        return -1;
    if (spool_take_id(sp, &id) != SPOOL_OK) {
        snprintf(why, n, "cannot take a record ID: %s", spool_error(sp));
        spool_close(sp);
        return -1;
    }
    rec.record_id = id;
    wmmp_writer_init(&w, buf, sizeof buf);
    if (wmmp_health_encode(&w, &rec) != WMMP_OK || w.err != WMMP_OK) {
        snprintf(why, n, "the panel record does not encode");
        spool_close(sp);
        return -1;
    }
    if (spool_add(sp, id, buf, w.len) != SPOOL_OK) {
        snprintf(why, n, "cannot spool the panel record: %s", spool_error(sp));
        spool_close(sp);
        return -1;
    }
    spool_close(sp);
    return 1;
}

static int panel_check(const drv_run *r, char *why, size_t n)
{
    if (r->preloaded != 1) {
        snprintf(why, n, "the panel record was not spooled");
        return -1;
    }
    return stored_all(r, why, n);
}

static int failure_check(const drv_run *r, char *why, size_t n)
{
    if (!r->logouts_after_down || terminal_get_stats(r->t)->failures == 0) {
        snprintf(why, n, "the terminal did not detect the failure and log out");
        return -1;
    }
    /* with --security full the body (and the reason) is encrypted: the failure count says enough */
    if (r->terminal_logout_reason != WMMP_LOGOUT_REASON_COMM_FAILURE && r->terminal_logout_reason != DRV_REASON_SEALED) {
        snprintf(why, n, "the terminal did not send LOGOUT with reason 1 (communication failure)");
        return -1;
    }
    return 0;
}

static void wrap_setup(drv_run *r)
{
    /* LOGIN gets 0xFFFFFFFD: the session's requests cross 0xFFFFFFFF -> 0 (profile section 9) */
    wmmp_link_set_next_sequence(terminal_link(r->t), 0xFFFFFFFDu);
}

static int wrap_check(const drv_run *r, char *why, size_t n)
{
    if (!r->wrapped) {
        snprintf(why, n, "the terminal's Sequence_ID did not wrap from 0xFFFFFFFF to 0");
        return -1;
    }
    return stored_all(r, why, n);
}

/* Times in ms; fields left out are 0 (defaults). */
static const drv_scenario SCENARIOS[] = {
    { .name = "figure4",
      .what = "the paper's figure 4: LOGIN, HEART_BEAT, CONFIG_SET, TRANSPARENT_DATA, HEART_BEAT, LOGOUT",
      .records = 1, .heartbeat_ms = 10000, .record_interval_ms = 10000, .ecg_seconds = 1, .expected_exit = TERMINAL_OK,
      .on_wire = figure4_wire, .check = figure4_check, .first_record_delay_ms = 200, .plain = 1 },
    { .name = "register", .what = "a terminal without a serial: REGISTER / REGISTER_ACK, then LOGIN and a record",
      .records = 1, .heartbeat_ms = 10000, .record_interval_ms = 1000, .ecg_seconds = 1,
      .expected_exit = TERMINAL_OK, .check = register_check, .unregistered = 1 },
    { .name = "session", .what = "N health records with heartbeats", .records = 5, .heartbeat_ms = 3000,
      .record_interval_ms = 1000, .ecg_seconds = 1, .expected_exit = TERMINAL_OK, .check = stored_all },
    { .name = "loss", .what = "a session with --loss (default 0.2): retransmissions, duplicates answered",
      .records = 10, .heartbeat_ms = 3000, .record_interval_ms = 1000, .ecg_seconds = 1, .loss = 0.2,
      .expected_exit = TERMINAL_OK, .retries = 6, .check = stored_all },
    { .name = "fragmented", .what = "a long ECG record (10 s) sent in 0x4008 parts", .records = 1,
      .heartbeat_ms = 10000, .record_interval_ms = 1000, .ecg_seconds = 10, .expected_exit = TERMINAL_OK,
      .check = fragmented_check },
    { .name = "firmware", .what = "DOWNLOAD_INFO, then the FILE_REQ loop with CRC-32 check (an 8 KiB image)",
      .records = 2, .heartbeat_ms = 10000, .record_interval_ms = 3000, .ecg_seconds = 1, .needs_firmware = 1,
      .expected_exit = TERMINAL_OK, .on_wire = firmware_wire, .check = firmware_check },
    { .name = "config",
      .what = "CONFIG_GET, CONFIG_SET, REMOTE_CTRL (report settings) from the platform; CONFIG_TRAP and CONFIG_REQ "
              "from the terminal",
      .records = 2, .heartbeat_ms = 10000, .record_interval_ms = 2000, .ecg_seconds = 1,
      .expected_exit = TERMINAL_OK, .on_wire = config_wire, .check = config_check },
    { .name = "security",
      .what = "SECURITY_CONFIG both ways: passwords and expiries from the platform (0xE040 with --security "
              "encrypted), parameter digests from the terminal",
      .records = 2, .heartbeat_ms = 10000, .record_interval_ms = 1000, .ecg_seconds = 1,
      .expected_exit = TERMINAL_OK, .on_wire = security_wire, .check = security_check },
    { .name = "panel",
      .what = "one health record with every vital, a 0.5 s ECG, all 14 lab analytes and a reminder of each level",
      .records = 1, .heartbeat_ms = 10000, .record_interval_ms = 1000, .ecg_seconds = 1,
      .expected_exit = TERMINAL_OK, .check = panel_check, .preload = panel_preload },
    { .name = "failure", .what = "the platform vanishes: failure detection, LOGOUT reason 1, failed logins",
      .records = 5, .heartbeat_ms = 10000, .record_interval_ms = 1000, .ecg_seconds = 1,
      .expected_exit = TERMINAL_EXIT_COMM_FAILURE, .response_timeout_ms = 500, .retries = 1,
      .max_login_attempts = 2, .backoff_ms = 1000, .on_wire = failure_wire, .check = failure_check },
    { .name = "wrap", .what = "Sequence_IDs starting near 0xFFFFFFFF wrap to 0", .records = 3, .heartbeat_ms = 3000,
      .record_interval_ms = 1000, .ecg_seconds = 1, .expected_exit = TERMINAL_OK, .setup = wrap_setup,
      .check = wrap_check },
};

const drv_scenario *drv_scenario_find(const char *name)
{
    for (size_t i = 0; i < sizeof SCENARIOS / sizeof SCENARIOS[0]; i++)
        if (!strcmp(SCENARIOS[i].name, name))
            return &SCENARIOS[i];
    return NULL;
}

const char *drv_scenario_names(void)
{
    return "figure4, register, session, loss, fragmented, firmware, config, security, panel, failure, wrap";
}

const drv_scenario *drv_scenario_at(size_t i)
{
    return i < sizeof SCENARIOS / sizeof SCENARIOS[0] ? &SCENARIOS[i] : NULL;
}

void drv_run_observe(void *run, drv_side from, const uint8_t *msg, size_t len)
{
    drv_run *r = run;
    uint16_t cmd;
    if (len < WMMP_HEADER_LEN)
        return;
    cmd = (uint16_t)(msg[2] << 8 | msg[3]);
    if (r->n_wire < DRV_RUN_MAX_WIRE) {
        r->wire[r->n_wire] = cmd;
        r->wire_from[r->n_wire] = from;
        r->n_wire++;
    }
    r->by_cmd[(cmd & WMMP_ACK_BIT) != 0][cmd & 0x0F]++;
    if ((msg[10] & WMMP_FLAG_ENCRYPTED_OR_FRAGMENT) && !(msg[10] & WMMP_FLAG_ENCRYPTION))
        r->fragments++;
    if (from == DRV_TERMINAL && !(cmd & WMMP_ACK_BIT)) {
        uint32_t seq = (uint32_t)msg[4] << 24 | (uint32_t)msg[5] << 16 | (uint32_t)msg[6] << 8 | msg[7];
        if (r->last_seq == 0xFFFFFFFFu && seq == 0)
            r->wrapped = 1;
        r->last_seq = seq;
    }
    if (from == DRV_TERMINAL && cmd == WMMP_CMD_LOGOUT && len > WMMP_HEADER_LEN) {
        int sealed = (msg[10] & (WMMP_FLAG_ENCRYPTION | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT)) ==
                     (WMMP_FLAG_ENCRYPTION | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT); /* 0xE042: reason unreadable */
        r->terminal_logout_reason = sealed ? DRV_REASON_SEALED : msg[WMMP_HEADER_LEN];
        if (r->platform_down)
            r->logouts_after_down++;
    }
    if (r->sc->on_wire)
        r->sc->on_wire(r, from, cmd, msg, len);
}
