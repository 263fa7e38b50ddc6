/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wmmp-demo-exchange: builds a complete LOGIN -> LOGOUT session with the codec, as a terminal and a
 * platform sharing the keys of captures/wmmp-keys.txt would send it, and prints each message decoded
 * (digests verified, the session key learned from LOGIN_ACK, the encrypted body decrypted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wmmp_body.h"
#include "wmmp_format.h"
#include "wmmp_health.h"
#include "wmmp_keys.h"
#include "wmmp_message.h"

#define LOGIN_TIME 1764028800u /* 2025-11-25 00:00:00 UTC: fixed, so the output is reproducible */

static const char *const usage =
    "usage: wmmp-demo-exchange [--keys FILE] [--serial SERIAL] [--hex]\n"
    "Builds a WMMP-T 3.0 session (LOGIN, HEART_BEAT, an encrypted health record, LOGOUT) with the codec\n"
    "and prints every message decoded. --keys defaults to captures/wmmp-keys.txt; --hex adds hex dumps.\n"
    "example: wmmp-demo-exchange --keys captures/wmmp-keys.txt --hex\n";

typedef struct {
    const wmmp_terminal_keys *keys;
    wmmp_decoder decoder;
    int hex;
    uint32_t timestamp;
    uint8_t session_key[16];
} demo;

static void show(demo *d, const char *arrow, const uint8_t *msg, size_t len)
{
    printf("%s ", arrow);
    wmmp_format_message(stdout, &d->decoder, msg, len);
    if (d->hex) {
        for (size_t i = 0; i < len; i++)
            printf("%s%02x", i % 16 == 0 ? (i ? "\n    " : "    ") : " ", msg[i]);
        printf("\n");
    }
    printf("\n");
}

/* Finishes, checks and prints one message; any codec error ends the demo with its message. */
static void send_msg(demo *d, wmmp_writer *w, wmmp_direction dir, uint32_t timestamp)
{
    wmmp_signer s = { d->keys, dir, timestamp };
    wmmp_err e = wmmp_msg_finish(w, &s);
    if (e != WMMP_OK) {
        fprintf(stderr, "wmmp-demo-exchange: cannot build message: %s\n", wmmp_strerror(e));
        exit(1);
    }
    show(d, dir == WMMP_UPLINK ? "terminal -> platform:" : "platform -> terminal:", w->buf, w->len);
}

static void begin(demo *d, wmmp_writer *w, uint8_t *buf, uint16_t command, uint32_t seq, uint8_t flag)
{
    wmmp_header h;
    wmmp_header_init(&h, command, seq, flag, d->keys->serial);
    wmmp_msg_begin(w, buf, WMMP_MAX_MESSAGE, &h);
}

static size_t health_record(uint8_t *out, size_t cap)
{
    static const int16_t ecg[] = { 0, 12, 40, 95, 20, -60, 900, -150, 30, 60, 110, 80, 20, 0 };
    wmmp_health_record r;
    memset(&r, 0, sizeof r);
    r.record_id = 1;
    r.measured_at = LOGIN_TIME + 30;
    r.present = WMMP_HEALTH_HAS_SUBJECT | WMMP_HEALTH_HAS_ECG | WMMP_HEALTH_HAS_HEART_RATE |
                WMMP_HEALTH_HAS_TEMPERATURE | WMMP_HEALTH_HAS_BLOOD_PRESSURE | WMMP_HEALTH_HAS_PULSE_RATE |
                WMMP_HEALTH_HAS_SPO2 | WMMP_HEALTH_HAS_RESP_RATE;
    r.subject_id = "110101199003071234";
    r.subject_id_len = strlen(r.subject_id);
    r.ecg.rate = 250;
    r.ecg.lead = 1;
    r.ecg.resolution_nv = 1000;
    r.ecg.samples = ecg;
    r.ecg.count = sizeof ecg / sizeof ecg[0];
    r.heart_rate = 72;
    r.temperature_centi = 3685;
    r.bp_systolic = 121;
    r.bp_diastolic = 79;
    r.bp_mean = 93;
    r.pulse_rate = 72;
    r.spo2 = 98;
    r.resp_rate = 16;
    r.labs[0] = (wmmp_lab_result){ 1, 1, 142000, 0 };
    r.lab_count = 1;
    r.reminders[0] = (wmmp_reminder){ 1, "Blood pressure slightly high; measure again tomorrow.", 0 };
    r.reminders[0].text_len = strlen(r.reminders[0].text);
    r.reminder_count = 1;
    wmmp_writer w;
    wmmp_writer_init(&w, out, cap);
    if (wmmp_health_encode(&w, &r) != WMMP_OK) {
        fprintf(stderr, "wmmp-demo-exchange: cannot encode the health record: %s\n", wmmp_strerror(w.err));
        exit(1);
    }
    return w.len;
}

int main(int argc, char **argv)
{
    const char *keys_path = "captures/wmmp-keys.txt", *serial = NULL;
    demo d;
    memset(&d, 0, sizeof d);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
            keys_path = argv[++i];
        } else if (strcmp(argv[i], "--serial") == 0 && i + 1 < argc) {
            serial = argv[++i];
        } else if (strcmp(argv[i], "--hex") == 0) {
            d.hex = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "wmmp-demo-exchange: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    wmmp_keyring kr = { 0 };
    char err[256];
    if (wmmp_keyring_load(&kr, keys_path, err, sizeof err) != WMMP_OK) {
        fprintf(stderr, "wmmp-demo-exchange: %s\n", err);
        return 2;
    }
    if (kr.count == 0) {
        fprintf(stderr, "wmmp-demo-exchange: %s: no terminal in the keys file\n", keys_path);
        return 2;
    }
    d.keys = serial ? wmmp_keyring_find_serial(&kr, (const uint8_t *)serial) : &kr.items[0];
    if (!d.keys || (serial && strlen(serial) != 16)) {
        fprintf(stderr, "wmmp-demo-exchange: terminal '%s' is not in %s\n", serial, keys_path);
        return 2;
    }
    wmmp_decoder_init(&d.decoder, &kr, WMMP_DIALECT_WMMP3);
    static uint8_t buf[WMMP_MAX_MESSAGE], record[2048], inner[64];
    wmmp_writer w, iw;
    uint32_t up_seq = 1, down_seq = 1;

    /* LOGIN with digest (timestamp 0), cell and signal level */
    begin(&d, &w, buf, WMMP_CMD_LOGIN, up_seq, WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST);
    uint8_t sync[16];
    wmmp_writer_init(&iw, sync, sizeof sync);
    wmmp_put_tlv_u32(&iw, WMMP_TAG_CELL, 0x25A01F41);
    wmmp_put_tlv_u8(&iw, WMMP_TAG_SIGNAL_LEVEL, 23);
    wmmp_login login = { "HT-1.0", wmmp_login_sync_crc(sync, iw.len) };
    wmmp_login_put(&w, &login);
    wmmp_put_bytes(&w, sync, iw.len);
    send_msg(&d, &w, WMMP_UPLINK, 0);

    /* LOGIN_ACK: timestamp, session key under the base key */
    const uint8_t session_key[] = "WMMP-session-key"; /* 16 bytes; the NUL is not sent */
    begin(&d, &w, buf, WMMP_CMD_LOGIN | WMMP_ACK_BIT, up_seq++, 0xE0);
    wmmp_login_ack ack = { 0, LOGIN_TIME };
    wmmp_login_ack_put(&w, &ack);
    wmmp_writer_init(&iw, inner, sizeof inner);
    wmmp_put_tlv(&iw, WMMP_TAG_SESSION_KEY, session_key, WMMP_SESSION_KEY_LEN);
    wmmp_put_tlv_u32(&iw, WMMP_TAG_SESSION_KEY_EXPIRY, 86400);
    wmmp_put_cipher_tlv(&w, WMMP_TAG_ENCRYPTED_TLVS, d.keys->base_key, inner, iw.len);
    wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, 60);
    send_msg(&d, &w, WMMP_DOWNLINK, LOGIN_TIME);

    /* HEART_BEAT with digest, and its ACK */
    begin(&d, &w, buf, WMMP_CMD_HEART_BEAT, up_seq, WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST);
    wmmp_put_tlv_u8(&w, WMMP_TAG_SIGNAL_LEVEL, 22);
    send_msg(&d, &w, WMMP_UPLINK, LOGIN_TIME);
    begin(&d, &w, buf, WMMP_CMD_HEART_BEAT | WMMP_ACK_BIT, up_seq++, WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST);
    send_msg(&d, &w, WMMP_DOWNLINK, LOGIN_TIME);

    /* CONFIG_SET from the platform: heartbeat interval and APN */
    begin(&d, &w, buf, WMMP_CMD_CONFIG_SET, down_seq, WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST);
    wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, 120);
    wmmp_put_tlv_str(&w, WMMP_TAG_APN, "CMNET");
    send_msg(&d, &w, WMMP_DOWNLINK, LOGIN_TIME);
    begin(&d, &w, buf, WMMP_CMD_CONFIG_SET | WMMP_ACK_BIT, down_seq++, WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST);
    wmmp_result_put(&w, 0);
    send_msg(&d, &w, WMMP_UPLINK, LOGIN_TIME);

    /* TRANSPARENT_DATA carrying a health record, fully encrypted under the session key */
    begin(&d, &w, buf, WMMP_CMD_TRANSPARENT_DATA, up_seq, 0xF0);
    size_t rec_len = health_record(record, sizeof record);
    wmmp_transparent td = { 0, 0, NULL, 0, record, rec_len };
    wmmp_transparent_put(&w, &td);
    wmmp_msg_encrypt_body(&w, session_key);
    send_msg(&d, &w, WMMP_UPLINK, LOGIN_TIME);
    begin(&d, &w, buf, WMMP_CMD_TRANSPARENT_DATA | WMMP_ACK_BIT, up_seq++, WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST);
    wmmp_result_put(&w, 0);
    send_msg(&d, &w, WMMP_DOWNLINK, LOGIN_TIME);

    /* LOGOUT (normal) and its ACK */
    begin(&d, &w, buf, WMMP_CMD_LOGOUT, up_seq, WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST);
    wmmp_put_u8(&w, 0);
    send_msg(&d, &w, WMMP_UPLINK, LOGIN_TIME);
    begin(&d, &w, buf, WMMP_CMD_LOGOUT | WMMP_ACK_BIT, up_seq++, WMMP_FLAG_SECURITY | WMMP_FLAG_DIGEST);
    send_msg(&d, &w, WMMP_DOWNLINK, LOGIN_TIME);

    wmmp_keyring_free(&kr);
    return 0;
}
