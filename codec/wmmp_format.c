/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_format.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "wmmp_body.h"
#include "wmmp_fragment.h"
#include "wmmp_health.h"
#include "wmmp_message.h"

#define INDENT "    "

void wmmp_decoder_init(wmmp_decoder *d, const wmmp_keyring *keys, wmmp_dialect dialect)
{
    memset(d, 0, sizeof *d);
    d->keys = keys;
    d->dialect = dialect;
}

static const char *or_unknown(const char *name)
{
    return name ? name : "Unknown";
}

/* Prints bytes as text when they are printable ASCII (NUL padding dropped), as hex otherwise. */
static void print_text_or_hex(FILE *out, const uint8_t *p, size_t n)
{
    size_t len = n;
    while (len && p[len - 1] == 0)
        len--;
    int printable = 1;
    for (size_t i = 0; i < len; i++)
        printable &= isprint(p[i]) != 0;
    if (printable) {
        fprintf(out, "\"%.*s\"", (int)len, (const char *)p);
        return;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", p[i]);
}

static void print_hex(FILE *out, const uint8_t *p, size_t n, size_t max)
{
    for (size_t i = 0; i < n && i < max; i++)
        fprintf(out, "%02x", p[i]);
    if (n > max)
        fprintf(out, "... (%zu bytes)", n);
}

void wmmp_format_summary(char *out, size_t out_len, const uint8_t *msg, size_t len)
{
    wmmp_header h;
    if (!out_len)
        return;
    wmmp_err e = wmmp_header_decode(msg, len, &h);
    if (e == WMMP_ERR_TRUNCATED_HEADER) {
        snprintf(out, out_len, "[%s]", wmmp_strerror(e));
        return;
    }
    char serial[WMMP_SERIAL_LEN + 1];
    wmmp_serial_str(h.terminal_serial, serial);
    for (int i = 0; i < WMMP_SERIAL_LEN; i++)
        if (serial[i] && !isprint((unsigned char)serial[i]))
            serial[i] = '?';
    int n = snprintf(out, out_len, "%s seq=%u %s", wmmp_command_name(h.command_id), h.sequence_id,
                     serial[0] ? serial : "(unregistered)");
    if (n < 0 || (size_t)n >= out_len)
        return;
    /* The result byte leads most ACK bodies; fragment-control and empty ACKs have none. */
    int prefix = wmmp_command_prefix_len(h.command_id);
    size_t body_len = e == WMMP_OK ? h.total_length - WMMP_HEADER_LEN : 0;
    const uint8_t *body = msg + WMMP_HEADER_LEN;
    if (wmmp_is_ack(h.command_id) && prefix > 0 && !wmmp_carries_data_block(h.command_id) &&
        body_len >= 1 && !wmmp_is_fragment_control(h.safe_flag, body, body_len))
        snprintf(out + n, out_len - (size_t)n, " result=%s", or_unknown(wmmp_result_name(body[0])));
    else if (h.command_id == WMMP_CMD_LOGOUT && body_len >= 1)
        snprintf(out + n, out_len - (size_t)n, " reason=%s", or_unknown(wmmp_logout_reason_name(body[0])));
    if (e != WMMP_OK) {
        size_t used = strlen(out);
        snprintf(out + used, out_len - used, " [%s]", wmmp_strerror(e));
    }
}

static void print_health(FILE *out, const uint8_t *p, size_t n, const char *indent)
{
    wmmp_health_record r;
    wmmp_err e = wmmp_health_decode(p, n, &r);
    if (e != WMMP_OK) {
        fprintf(out, "%shealth record: malformed: %s\n", indent, wmmp_strerror(e));
        return;
    }
    fprintf(out, "%shealth record #%u measured at %u\n", indent, r.record_id, r.measured_at);
    if (r.present & WMMP_HEALTH_HAS_SUBJECT)
        fprintf(out, "%s  subject ID: %.*s\n", indent, (int)r.subject_id_len, r.subject_id);
    if (r.present & WMMP_HEALTH_HAS_ECG)
        fprintf(out, "%s  ECG: lead %s, %u Hz, %u nV/LSB, %zu samples\n", indent,
                or_unknown(wmmp_ecg_lead_name(r.ecg.lead)), r.ecg.rate, r.ecg.resolution_nv, r.ecg.count);
    if (r.present & WMMP_HEALTH_HAS_HEART_RATE)
        fprintf(out, "%s  heart rate: %u bpm\n", indent, r.heart_rate);
    if (r.present & WMMP_HEALTH_HAS_TEMPERATURE)
        fprintf(out, "%s  temperature: %.2f C\n", indent, r.temperature_centi / 100.0);
    if (r.present & WMMP_HEALTH_HAS_BLOOD_PRESSURE)
        fprintf(out, "%s  blood pressure: %u/%u mmHg (MAP %u)\n", indent, r.bp_systolic, r.bp_diastolic,
                r.bp_mean);
    if (r.present & WMMP_HEALTH_HAS_PULSE_RATE)
        fprintf(out, "%s  pulse rate: %u bpm\n", indent, r.pulse_rate);
    if (r.present & WMMP_HEALTH_HAS_SPO2)
        fprintf(out, "%s  SpO2: %u %%\n", indent, r.spo2);
    if (r.present & WMMP_HEALTH_HAS_RESP_RATE)
        fprintf(out, "%s  respiratory rate: %u /min\n", indent, r.resp_rate);
    for (size_t i = 0; i < r.lab_count; i++)
        fprintf(out, "%s  lab: %s %.3f %s (%s)\n", indent, or_unknown(wmmp_lab_analyte_name(r.labs[i].analyte)),
                r.labs[i].value_milli / 1000.0, or_unknown(wmmp_lab_unit_name(r.labs[i].unit)),
                or_unknown(wmmp_lab_flag_name(r.labs[i].flag)));
    for (size_t i = 0; i < r.reminder_count; i++)
        fprintf(out, "%s  reminder (%s): %.*s\n", indent, or_unknown(wmmp_reminder_level_name(r.reminders[i].level)),
                (int)r.reminders[i].text_len, r.reminders[i].text);
}

static void print_tlvs(FILE *out, wmmp_decoder *d, const uint8_t *p, size_t n, const char *indent);

/* One TLV's typed value. */
static void print_value(FILE *out, wmmp_decoder *d, const wmmp_tlv *t, const wmmp_tag_info *info,
                        const char *indent)
{
    const uint8_t *v = t->value;
    size_t n = t->length;
    if (!info) {
        print_hex(out, v, n, 64);
        fputc('\n', out);
        return;
    }
    if (info->fixed_len && n != info->fixed_len) {
        fprintf(out, "[%s: expected %u bytes] ", wmmp_strerror(WMMP_ERR_TLV_BAD_LENGTH), info->fixed_len);
        print_hex(out, v, n, 64);
        fputc('\n', out);
        return;
    }
    if (n == 0) {
        fprintf(out, "(requested)\n");
        return;
    }
    switch (info->type) {
    case WMMP_VT_STRING:
        print_text_or_hex(out, v, n);
        break;
    case WMMP_VT_IPV4:
        fprintf(out, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
        break;
    case WMMP_VT_UINT8:
        fprintf(out, "%u", v[0]);
        if (t->tag == WMMP_TAG_REMOTE_CTRL_CMD)
            fprintf(out, " (%s)", or_unknown(wmmp_remote_cmd_name(v[0])));
        if (t->tag == WMMP_TAG_CONNECT_MODE)
            fprintf(out, " (%s)", or_unknown(wmmp_connect_mode_name(v[0])));
        break;
    case WMMP_VT_UINT16:
        fprintf(out, "%u", wmmp_load16(v));
        break;
    case WMMP_VT_UINT32:
    case WMMP_VT_TIME:
        fprintf(out, "%u", wmmp_load32(v));
        break;
    case WMMP_VT_HEX32:
        fprintf(out, "0x%08x", wmmp_load32(v));
        break;
    case WMMP_VT_CELL:
        fprintf(out, "LAC 0x%04x, Cell ID 0x%04x", wmmp_load16(v), wmmp_load16(v + 2));
        break;
    case WMMP_VT_CSQ:
        if (v[0] <= 31)
            fprintf(out, "CSQ %u (%d dBm)", v[0], -113 + 2 * v[0]);
        else
            fprintf(out, "CSQ %u (%s)", v[0], v[0] == 99 ? "unknown" : "out of range");
        break;
    case WMMP_VT_TAG_LIST:
        for (size_t i = 0; i + 1 < n; i += 2)
            fprintf(out, "%s0x%04x", i ? ", " : "", wmmp_load16(v + i));
        if (n % 2)
            fprintf(out, " [odd length]");
        break;
    case WMMP_VT_FRAGMENT: {
        wmmp_fragment f;
        wmmp_err e = wmmp_fragment_decode(v, n, &f);
        if (e != WMMP_OK)
            fprintf(out, "[%s]", wmmp_strerror(e));
        else
            fprintf(out, "transaction %u, part %u of %u, %s, %zu data bytes", f.transaction_id, f.number, f.total,
                    or_unknown(wmmp_fragment_op_name(f.operation)), f.data_len);
        break;
    }
    case WMMP_VT_CIPHER: {
        fprintf(out, "%zu bytes of ciphertext", n);
        const uint8_t *key = NULL;
        if (t->tag == WMMP_TAG_ENCRYPTED_BODY && d->have_session_key)
            key = d->session_key;
        if (t->tag == WMMP_TAG_ENCRYPTED_TLVS && d->terminal)
            key = d->terminal->base_key;
        if (!key || n % 8) {
            fputc('\n', out);
            return;
        }
        uint8_t *plain = malloc(n);
        if (plain && wmmp_decrypt(key, v, n, plain) == WMMP_OK) {
            fprintf(out, ", decrypted:\n");
            char deeper[64];
            snprintf(deeper, sizeof deeper, "%s  ", indent);
            print_tlvs(out, d, plain, wmmp_unpadded_tlv_len(plain, n), deeper);
        } else {
            fputc('\n', out);
        }
        free(plain);
        return;
    }
    case WMMP_VT_BYTES:
        print_hex(out, v, n, 64);
        if (t->tag == WMMP_TAG_USER_DATA && wmmp_health_is_record(v, n)) {
            fputc('\n', out);
            char deeper[64];
            snprintf(deeper, sizeof deeper, "%s  ", indent);
            print_health(out, v, n, deeper);
            return;
        }
        break;
    }
    if (info->unit[0])
        fprintf(out, " %s", info->unit);
    fputc('\n', out);
}

static void print_tlvs(FILE *out, wmmp_decoder *d, const uint8_t *p, size_t n, const char *indent)
{
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_err e;
    wmmp_reader_init(&r, p, n);
    while ((e = wmmp_tlv_next(&r, &t)) == WMMP_OK) {
        const wmmp_tag_info *info = wmmp_tag_lookup(t.tag, d->dialect);
        fprintf(out, "%sTLV 0x%04x %s (%u): ", indent, t.tag, info ? info->name : "Unknown tag", t.length);
        print_value(out, d, &t, info, indent);
    }
    if (e != WMMP_END)
        fprintf(out, "%s[malformed at body offset %zu: %s]\n", indent, r.pos, wmmp_strerror(e));
}

/* The fixed prefix of the body; returns how many bytes it took (0 when it did not parse). */
static size_t print_prefix(FILE *out, wmmp_decoder *d, const wmmp_message *m)
{
    uint16_t id = m->hdr.command_id;
    int ack = wmmp_is_ack(id);
    wmmp_reader r;
    wmmp_reader_init(&r, m->body, m->body_len);
    wmmp_err e = WMMP_OK;
    switch (wmmp_request_of(id)) {
    case WMMP_CMD_LOGIN:
        if (!ack) {
            wmmp_login b;
            if ((e = wmmp_login_get(&r, &b)) == WMMP_OK)
                fprintf(out, INDENT "software version: \"%s\"\n" INDENT "sync CRC-32: 0x%08x\n", b.software_version,
                        b.sync_crc);
        } else {
            wmmp_login_ack b;
            if ((e = wmmp_login_ack_get(&r, &b)) == WMMP_OK) {
                fprintf(out, INDENT "result: %u (%s)\n" INDENT "timestamp: %u\n", b.result,
                        or_unknown(wmmp_result_name(b.result)), b.timestamp);
                if (b.result == WMMP_RESULT_OK || b.result == WMMP_RESULT_OK_SYNC)
                    d->timestamp = b.timestamp;
            }
        }
        break;
    case WMMP_CMD_REGISTER:
        if (!ack) {
            wmmp_register b;
            if ((e = wmmp_register_get(&r, &b)) == WMMP_OK)
                fprintf(out, INDENT "operation: %u (%s)\n" INDENT "IMEI: %s\n" INDENT "IMSI: %s\n", b.operation,
                        or_unknown(wmmp_register_op_name(b.operation)), b.imei, b.imsi);
        } else {
            wmmp_register_ack b;
            if ((e = wmmp_register_ack_get(&r, &b)) == WMMP_OK)
                fprintf(out, INDENT "result: %u (%s)\n" INDENT "assigned serial: %s\n", b.result,
                        or_unknown(wmmp_result_name(b.result)), b.serial);
        }
        break;
    case WMMP_CMD_FILE_REQ:
        if (!ack) {
            wmmp_file_req b;
            if ((e = wmmp_file_req_get(&r, &b)) == WMMP_OK)
                fprintf(out, INDENT "transaction %u, status %u (%s), offset %u, block size %u\n", b.transaction_id,
                        b.status, or_unknown(wmmp_file_status_name(b.status)), b.offset, b.block_size);
        } else {
            wmmp_file_ack b;
            e = wmmp_file_ack_get(&r, &b);
            if (e == WMMP_OK || e == WMMP_ERR_CRC_MISMATCH)
                fprintf(out, INDENT "transaction %u, status %u (%s), CRC-16 0x%04x%s, offset %u, %u data bytes\n",
                        b.transaction_id, b.status, or_unknown(wmmp_file_status_name(b.status)), b.crc16,
                        e == WMMP_OK ? " (good)" : " (BAD)", b.offset, b.length);
            if (e == WMMP_ERR_CRC_MISMATCH)
                e = WMMP_OK;
        }
        return e == WMMP_OK ? m->body_len : 0; /* the rest is the data block, not TLVs */
    case WMMP_CMD_LOGOUT:
        if (!ack) {
            uint8_t reason;
            if ((e = wmmp_get_u8(&r, &reason)) == WMMP_OK)
                fprintf(out, INDENT "reason: %u (%s)\n", reason, or_unknown(wmmp_logout_reason_name(reason)));
        }
        break;
    case WMMP_CMD_TRANSPARENT_DATA:
    case WMMP_CMD_TRANSPARENT_CMD:
        if (!ack) {
            uint16_t crc;
            if ((e = wmmp_get_u16(&r, &crc)) == WMMP_OK) {
                wmmp_reader check;
                wmmp_transparent t;
                wmmp_reader_init(&check, m->body, m->body_len);
                wmmp_err c = wmmp_transparent_get(&check, &t);
                fprintf(out, INDENT "user-data CRC-16: 0x%04x%s\n", crc,
                        c == WMMP_OK ? " (good)" : c == WMMP_ERR_CRC_MISMATCH ? " (BAD)" : "");
            }
            break;
        }
        /* fall through - the ACK carries a result */
    default: {
        int prefix = wmmp_command_prefix_len(id);
        if (prefix == 1) {
            uint8_t v;
            if ((e = wmmp_get_u8(&r, &v)) == WMMP_OK) {
                if (wmmp_request_of(id) == WMMP_CMD_SECURITY_CONFIG && !ack)
                    fprintf(out, INDENT "operation: %u\n", v);
                else
                    fprintf(out, INDENT "result: %u (%s)\n", v, or_unknown(wmmp_result_name(v)));
            }
        }
    }
    }
    if (e != WMMP_OK) {
        fprintf(out, INDENT "[%s]\n", wmmp_strerror(e));
        return 0;
    }
    return r.pos;
}

/* Verifies the digest with the terminal's keys, trying the password of the likely sender first. */
static const char *digest_status(const wmmp_decoder *d, const wmmp_message *m)
{
    const wmmp_terminal_keys *k = d->terminal;
    if (!d->keys)
        return "unverified (no keys)";
    if (!k)
        return "unverified (terminal not in keys)";
    uint32_t ts = d->timestamp;
    if (m->hdr.command_id == WMMP_CMD_LOGIN)
        ts = 0;
    else if (m->hdr.command_id == (WMMP_CMD_LOGIN | WMMP_ACK_BIT) && m->body_len >= 5)
        ts = wmmp_load32(m->body + 1); /* a LOGIN_ACK is signed with its own timestamp */
    if (wmmp_digest_verify(m->msg, m->hdr.total_length, ts, k, WMMP_UPLINK) == WMMP_OK)
        return "good (uplink password)";
    if (wmmp_digest_verify(m->msg, m->hdr.total_length, ts, k, WMMP_DOWNLINK) == WMMP_OK)
        return "good (downlink password)";
    return "BAD";
}

/* LOGIN_ACK delivers the session key inside 0xE040 under the base key. */
static void learn_session_key(wmmp_decoder *d, const wmmp_message *m, const uint8_t *tlvs, size_t n)
{
    const wmmp_terminal_keys *k = d->terminal;
    if (m->hdr.command_id != (WMMP_CMD_LOGIN | WMMP_ACK_BIT))
        return;
    wmmp_tlv t;
    uint32_t expiry;
    if (k && wmmp_tlv_find(tlvs, n, WMMP_TAG_ENCRYPTED_TLVS, &t) == WMMP_OK &&
        wmmp_session_key_from_e040(t.value, t.length, k->base_key, d->session_key, &expiry) == WMMP_OK)
        d->have_session_key = 1;
}

/* The body of a message in clear: its fixed prefix, then its TLVs (or a fragment-control TLV). */
static void print_body(FILE *out, wmmp_decoder *d, const wmmp_message *m)
{
    if (wmmp_is_fragment_control(m->hdr.safe_flag, m->body, m->body_len)) {
        print_tlvs(out, d, m->body, m->body_len, INDENT);
        return;
    }
    size_t used = print_prefix(out, d, m);
    int prefix = wmmp_command_prefix_len(m->hdr.command_id);
    if (used != (size_t)(prefix < 0 ? 0 : prefix) || used > m->body_len)
        return; /* the prefix did not parse, or the rest is a data block */
    print_tlvs(out, d, m->body + used, m->body_len - used, INDENT);
    learn_session_key(d, m, m->body + used, m->body_len - used);
}

/* A fully encrypted body (one 0xE042) decrypted under the session key and described like a clear one. */
static void print_decrypted_body(FILE *out, wmmp_decoder *d, const wmmp_message *m)
{
    wmmp_tlv t;
    wmmp_reader r;
    wmmp_reader_init(&r, m->body, m->body_len);
    if (wmmp_tlv_next(&r, &t) != WMMP_OK || t.length % 8 || t.length == 0) {
        print_tlvs(out, d, m->body, m->body_len, INDENT);
        return;
    }
    uint8_t *plain = malloc(t.length);
    if (!plain || wmmp_decrypt(d->session_key, t.value, t.length, plain) != WMMP_OK) {
        free(plain);
        print_tlvs(out, d, m->body, m->body_len, INDENT);
        return;
    }
    wmmp_message clear = *m;
    clear.body = plain;
    (void)wmmp_unpadded_body_len(m->hdr.command_id, plain, t.length, &clear.body_len); /* a best guess if short */
    fprintf(out, INDENT "0xE042 encrypted body (%u bytes), decrypted with the session key:\n", t.length);
    print_body(out, d, &clear);
    free(plain);
}

void wmmp_format_message(FILE *out, wmmp_decoder *d, const uint8_t *msg, size_t len)
{
    char summary[160];
    wmmp_format_summary(summary, sizeof summary, msg, len);
    fprintf(out, "%s\n", summary);

    wmmp_message m;
    wmmp_err e = wmmp_message_parse(msg, len, &m);
    if (e != WMMP_OK && e != WMMP_ERR_DIGEST_MISSING)
        return; /* the summary already names the header error */
    d->terminal = d->keys ? wmmp_keyring_find_serial(d->keys, m.hdr.terminal_serial) : NULL;
    fprintf(out, INDENT "length %u, command 0x%04x, sequence %u, version %u.%u, safe flag 0x%02x, terminal ",
            m.hdr.total_length, m.hdr.command_id, m.hdr.sequence_id, m.hdr.version >> 8, m.hdr.version & 0xFF,
            m.hdr.safe_flag);
    print_text_or_hex(out, m.hdr.terminal_serial, WMMP_SERIAL_LEN);
    fputc('\n', out);
    wmmp_msg_class cls;
    wmmp_err consistency = wmmp_message_classify(&m, &cls);
    fprintf(out, INDENT "class: %s%s%s\n", wmmp_class_name(cls), consistency == WMMP_OK ? "" : " - ",
            consistency == WMMP_OK ? "" : wmmp_strerror(consistency));
    if (e != WMMP_OK)
        fprintf(out, INDENT "[%s]\n", wmmp_strerror(e));

    if (cls == WMMP_CLASS_FULLY_ENCRYPTED && d->have_session_key)
        print_decrypted_body(out, d, &m);
    else if (cls == WMMP_CLASS_FULLY_ENCRYPTED)
        print_tlvs(out, d, m.body, m.body_len, INDENT);
    else
        print_body(out, d, &m);
    if (m.digest) {
        fprintf(out, INDENT "digest: ");
        print_hex(out, m.digest, WMMP_DIGEST_LEN, WMMP_DIGEST_LEN);
        fprintf(out, " %s\n", digest_status(d, &m));
    }
}
