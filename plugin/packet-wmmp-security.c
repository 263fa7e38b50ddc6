/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-security.c: the key table wmmp_keys (profile section 11), digest verification with the session's
 * timestamp, and decryption of 0xE040 (base key) and 0xE042 (session key) containers (section 7).
 *
 * What a message needs from the past (the last LOGIN_ACK timestamp, the session key) is taken from the
 * terminal's state when the message is first dissected and stored with the frame, so later passes and
 * GUI re-dissection show exactly what the first pass showed.
 */
#include <wireshark.h>

#include <epan/conversation.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <epan/uat.h>
#include <wsutil/utf8_entities.h>

#include "packet-wmmp.h"
#include "packet-wmmp-memo.h"
#include "packet-wmmp-security.h"
#include "wmmp_header.h"
#include "wmmp_keys.h"
#include "wmmp_security.h"
#include "wmmp_tables.h"

static int hf_digest_status = -1;
static int hf_digest_expected = -1;
static int hf_decrypted = -1;

static expert_field ei_digest_bad = EI_INIT;
static expert_field ei_no_keys = EI_INIT;
static expert_field ei_no_timestamp = EI_INIT;
static expert_field ei_no_session_key = EI_INIT;
static expert_field ei_cipher_length = EI_INIT;

/* ---- the key table ---- */

typedef struct {
    char *serial;
    char *imei;
    char *imsi;
    char *uplink;
    char *downlink;
    char *base_key;
} key_record_t;

static key_record_t *key_records;
static unsigned num_key_records;
static wmmp_keyring keyring;

UAT_CSTRING_CB_DEF(key_records, serial, key_record_t)
UAT_CSTRING_CB_DEF(key_records, imei, key_record_t)
UAT_CSTRING_CB_DEF(key_records, imsi, key_record_t)
UAT_CSTRING_CB_DEF(key_records, uplink, key_record_t)
UAT_CSTRING_CB_DEF(key_records, downlink, key_record_t)
UAT_CSTRING_CB_DEF(key_records, base_key, key_record_t)

/* Rebuilds the record as a keys-file line (every byte escaped) so the codec applies its one set of rules. */
static wmmp_err parse_record(const key_record_t *r, wmmp_terminal_keys *out, char *err, size_t err_len)
{
    const char *fields[] = { r->serial, r->imei, r->imsi, r->uplink, r->downlink, r->base_key };
    GString *line = g_string_new(NULL);
    for (size_t i = 0; i < array_length(fields); i++) {
        g_string_append(line, i ? ",\"" : "\"");
        for (const char *p = fields[i] ? fields[i] : ""; *p; p++)
            g_string_append_printf(line, "\\x%02x", (uint8_t)*p);
        g_string_append_c(line, '"');
    }
    wmmp_err e = wmmp_keys_parse_line(line->str, out, err, err_len);
    g_string_free(line, true);
    return e;
}

static void *key_record_copy(void *dest, const void *source, size_t len _U_)
{
    key_record_t *d = (key_record_t *)dest;
    const key_record_t *s = (const key_record_t *)source;
    d->serial = g_strdup(s->serial);
    d->imei = g_strdup(s->imei);
    d->imsi = g_strdup(s->imsi);
    d->uplink = g_strdup(s->uplink);
    d->downlink = g_strdup(s->downlink);
    d->base_key = g_strdup(s->base_key);
    return d;
}

static wmmp_uat_bool key_record_update(void *record, char **error)
{
    wmmp_terminal_keys k;
    char err[160];
    if (parse_record((const key_record_t *)record, &k, err, sizeof err) != WMMP_OK) {
        *error = g_strdup(err);
        return false;
    }
    return true;
}

static void key_record_free(void *record)
{
    key_record_t *r = (key_record_t *)record;
    g_free(r->serial);
    g_free(r->imei);
    g_free(r->imsi);
    g_free(r->uplink);
    g_free(r->downlink);
    g_free(r->base_key);
}

static void key_records_post_update(void)
{
    wmmp_keyring_free(&keyring);
    for (unsigned i = 0; i < num_key_records; i++) {
        wmmp_terminal_keys k;
        char err[160];
        if (parse_record(&key_records[i], &k, err, sizeof err) == WMMP_OK)
            wmmp_keyring_add(&keyring, &k);
    }
}

/* ---- per-terminal session state, as each message saw it ---- */

typedef struct {
    bool have_timestamp;
    uint32_t timestamp;
    bool have_session_key;
    uint8_t session_key[WMMP_SESSION_KEY_LEN];
} session_state;

/* A message that changed its terminal's state (a LOGIN_ACK, a session key), and the state after it. */
typedef struct {
    uint32_t frame;
    uint32_t msg_index;
    session_state after;
} state_change;

/*
 * A terminal's state changes only at a few messages, so instead of a snapshot per message (which cost
 * 80 bytes a message) the changes are kept in first-pass order, i.e. ascending (frame, message index), and
 * a message sees the state after the last change before it. That is what it saw on the first pass, so
 * later passes and GUI re-dissection show the same.
 */
typedef struct {
    session_state now;     /* first pass: after the last message dissected */
    wmem_array_t *changes; /* state_change */
} terminal_sessions;

static wmem_map_t *sessions; /* printable serial -> terminal_sessions, file scope */

static terminal_sessions *terminal_of(const char *serial)
{
    terminal_sessions *t = (terminal_sessions *)wmem_map_lookup(sessions, serial);
    if (!t) {
        t = wmem_new0(wmem_file_scope(), terminal_sessions);
        t->changes = wmem_array_new(wmem_file_scope(), sizeof(state_change));
        wmem_map_insert(sessions, wmem_strdup(wmem_file_scope(), serial), t);
    }
    return t;
}

/* The state this message saw when first dissected (before the message itself changes it). */
static session_state snapshot(packet_info *pinfo, wmmp_dissect_state *st)
{
    session_state none;
    const terminal_sessions *t = (const terminal_sessions *)wmem_map_lookup(sessions, st->ctx->terminal);
    unsigned lo = 0, hi = t ? wmem_array_get_count(t->changes) : 0;
    memset(&none, 0, sizeof none);
    while (lo < hi) { /* the first change not before this message */
        unsigned mid = lo + (hi - lo) / 2;
        const state_change *c = (const state_change *)wmem_array_index(t->changes, mid);
        if (c->frame < pinfo->num || (c->frame == pinfo->num && c->msg_index < st->msg_index))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? ((const state_change *)wmem_array_index(t->changes, lo - 1))->after : none;
}

/* First pass: the terminal's state after this message (several changes by one message make one entry). */
static session_state *change_state(packet_info *pinfo, wmmp_dissect_state *st)
{
    terminal_sessions *t = terminal_of(st->ctx->terminal);
    unsigned n = wmem_array_get_count(t->changes);
    state_change *last = n ? (state_change *)wmem_array_index(t->changes, n - 1) : NULL;
    if (!last || last->frame != pinfo->num || last->msg_index != st->msg_index) {
        state_change c;
        memset(&c, 0, sizeof c);
        c.frame = pinfo->num;
        c.msg_index = st->msg_index;
        wmem_array_append_one(t->changes, c);
        last = (state_change *)wmem_array_index(t->changes, n);
    }
    return &last->after;
}

static const wmmp_terminal_keys *keys_of(wmmp_dissect_state *st)
{
    return wmmp_keyring_find_serial(&keyring, st->serial);
}

/* Whether the wmmp_keys table holds no usable entry (expert items then say how to add keys). */
static bool no_keys(void)
{
    return keyring.count == 0;
}

/* What an item says when the terminal has no keys: with an empty table, how to add keys at all. */
#define NO_KEYS_TABLE_MSG "No wmmp_keys entries: add your keys (Edit " UTF8_RIGHTWARDS_ARROW " Preferences " \
    UTF8_RIGHTWARDS_ARROW " Protocols " UTF8_RIGHTWARDS_ARROW " WMMP, or -o uat:wmmp_keys:...)"

static const char *no_keys_msg(packet_info *pinfo, const wmmp_dissect_state *st)
{
    if (no_keys())
        return NO_KEYS_TABLE_MSG;
    return wmem_strdup_printf(pinfo->pool, "No keys for terminal %s in the wmmp_keys table", st->ctx->terminal);
}

void wmmp_security_login_ack(packet_info *pinfo, wmmp_dissect_state *st, uint8_t result, uint32_t timestamp)
{
    if (PINFO_FD_VISITED(pinfo) || (result != 0 && result != 1))
        return;
    terminal_sessions *t = terminal_of(st->ctx->terminal);
    session_state *after = change_state(pinfo, st);
    t->now.have_timestamp = true;
    t->now.timestamp = timestamp;
    *after = t->now;
}

void wmmp_security_session_key(packet_info *pinfo, wmmp_dissect_state *st, tvbuff_t *tvb, int offset)
{
    if (PINFO_FD_VISITED(pinfo))
        return;
    uint8_t key[WMMP_SESSION_KEY_LEN];
    tvb_memcpy(tvb, key, offset, WMMP_SESSION_KEY_LEN); /* may throw: before anything changes */
    terminal_sessions *t = terminal_of(st->ctx->terminal);
    session_state *after = change_state(pinfo, st);
    memcpy(t->now.session_key, key, WMMP_SESSION_KEY_LEN);
    t->now.have_session_key = true;
    *after = t->now;
}

/* ---- digest ---- */

/*
 * Which end of a conversation is the terminal, learned on the first pass from the first signed message whose
 * command only one side sends (LOGIN, HEART_BEAT, their ACKs, ...). Messages either side sends
 * (TRANSPARENT_DATA, LOGOUT, ...) are then signed by whoever sent them, whatever the ports. Kept with the
 * message that taught it, so that the messages before it go by port on every pass, as on the first.
 */
typedef struct {
    uint32_t frame, msg_index; /* the message it was learned from */
    address addr;              /* the terminal's address and port */
    uint32_t port;
} terminal_end;

static wmem_map_t *terminal_ends; /* conversation_t * -> terminal_end, file scope */

/* Whether the message went to the platform by the ports: the platform listens on the WMMP ports (the
   preferences udp.port and tcp.port), a terminal talks from an ephemeral one. */
static bool sent_to_platform(packet_info *pinfo)
{
    range_t *range = prefs_get_range_value("wmmp", pinfo->ptype == PT_TCP ? "tcp.port" : "udp.port");
    if (range)
        return value_is_in_range(range, pinfo->destport) && !value_is_in_range(range, pinfo->srcport);
    return pinfo->destport == (pinfo->ptype == PT_TCP ? WMMP_DEFAULT_TCP_PORT : WMMP_DEFAULT_UDP_PORT);
}

/* First pass: the conversation's terminal end, from a message whose sender the command tells. */
static void learn_terminal_end(packet_info *pinfo, const wmmp_dissect_state *st, bool terminal_sends)
{
    if (PINFO_FD_VISITED(pinfo) || pinfo->flags.in_error_pkt)
        return;
    conversation_t *conv = find_or_create_conversation(pinfo);
    if (wmem_map_lookup(terminal_ends, conv))
        return;
    terminal_end *t = wmem_new0(wmem_file_scope(), terminal_end);
    t->frame = pinfo->num;
    t->msg_index = st->msg_index;
    copy_address_wmem(wmem_file_scope(), &t->addr, terminal_sends ? &pinfo->src : &pinfo->dst);
    t->port = terminal_sends ? pinfo->srcport : pinfo->destport;
    wmem_map_insert(terminal_ends, conv, t);
}

/* Whether the terminal sent a message of a command either side sends: by the conversation's terminal end
   when a message before this one taught it, else by the ports. */
static bool terminal_sent(packet_info *pinfo, const wmmp_dissect_state *st)
{
    conversation_t *conv = find_conversation_pinfo(pinfo, 0);
    const terminal_end *t = conv ? (const terminal_end *)wmem_map_lookup(terminal_ends, conv) : NULL;
    if (t && (pinfo->num > t->frame || (pinfo->num == t->frame && st->msg_index > t->msg_index)))
        return addresses_equal(&t->addr, &pinfo->src) && t->port == pinfo->srcport;
    return sent_to_platform(pinfo);
}

/* Who signs: the sender, with its own password (docs/PROTOCOL-NOTES.md). */
static wmmp_direction expected_direction(packet_info *pinfo, const wmmp_dissect_state *st, uint16_t cmd)
{
    const wmmp_command_info *info = wmmp_command_lookup(cmd);
    if (!info || info->sender == WMMP_SENDER_BOTH)
        return terminal_sent(pinfo, st) ? WMMP_UPLINK : WMMP_DOWNLINK;
    bool terminal_sends = (info->sender == WMMP_SENDER_TERMINAL) != (wmmp_is_ack(cmd) != 0);
    learn_terminal_end(pinfo, st, terminal_sends);
    return terminal_sends ? WMMP_UPLINK : WMMP_DOWNLINK;
}

/* A digest verdict as packet-wmmp-memo.c keeps it. */
enum { VERDICT_SEEN = 1, VERDICT_GOOD = 2, VERDICT_DOWNLINK = 4 };

void wmmp_security_digest(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                          wmmp_dissect_state *st)
{
    session_state snap = snapshot(pinfo, st);
    uint16_t cmd = st->ctx->command_id;

    const wmmp_terminal_keys *keys = keys_of(st);
    uint32_t timestamp = 0;
    bool have_timestamp = true;
    if (cmd == (WMMP_CMD_LOGIN | WMMP_ACK_BIT) && len >= WMMP_HEADER_LEN + 5)
        timestamp = tvb_get_ntohl(tvb, WMMP_HEADER_LEN + 1); /* signed with its own timestamp */
    else if (cmd != WMMP_CMD_LOGIN) {
        have_timestamp = snap.have_timestamp;
        timestamp = snap.timestamp;
    }

    proto_item *pi;
    if (!keys || !have_timestamp) {
        pi = proto_tree_add_uint(tree, hf_digest_status, tvb, offset, WMMP_DIGEST_TLV_LEN,
                                 PROTO_CHECKSUM_E_UNVERIFIED);
        proto_item_set_generated(pi);
        if (!keys)
            expert_add_info_format(pinfo, pi, &ei_no_keys, "%s", no_keys_msg(pinfo, st));
        else
            expert_add_info(pinfo, pi, &ei_no_timestamp);
        return;
    }

    /* Only the sender's password: a digest made with the other direction's is Bad, not Good. The first
       pass's verdict is kept, so later passes do not compute the MD5 again. */
    const uint8_t *msg = tvb_get_ptr(tvb, 0, len);
    wmmp_direction dir;
    bool good;
    uint8_t verdict = wmmp_memo_verdict(pinfo, st->msg_index);
    if (verdict & VERDICT_SEEN) {
        dir = verdict & VERDICT_DOWNLINK ? WMMP_DOWNLINK : WMMP_UPLINK;
        good = verdict & VERDICT_GOOD;
    } else {
        dir = expected_direction(pinfo, st, cmd);
        good = wmmp_digest_verify(msg, (size_t)len, timestamp, keys, dir) == WMMP_OK;
        wmmp_memo_set_verdict(pinfo, st->msg_index,
                              VERDICT_SEEN | (good ? VERDICT_GOOD : 0) | (dir == WMMP_DOWNLINK ? VERDICT_DOWNLINK : 0));
    }
    pi = proto_tree_add_uint(tree, hf_digest_status, tvb, offset, WMMP_DIGEST_TLV_LEN,
                             good ? PROTO_CHECKSUM_E_GOOD : PROTO_CHECKSUM_E_BAD);
    proto_item_set_generated(pi);
    if (good) {
        proto_item_append_text(pi, " (%s password, timestamp %u)", dir == WMMP_UPLINK ? "uplink" : "downlink",
                               timestamp);
        return;
    }
    uint8_t expected[WMMP_DIGEST_LEN];
    wmmp_digest_compute(msg, (size_t)(len - WMMP_DIGEST_TLV_LEN), timestamp, keys, dir, expected);
    proto_item *exp_item = proto_tree_add_bytes(tree, hf_digest_expected, tvb, offset + 4, WMMP_DIGEST_LEN, expected);
    proto_item_set_generated(exp_item);
    expert_add_info_format(pinfo, pi, &ei_digest_bad, "Digest does not match (%s password, timestamp %u)",
                           dir == WMMP_UPLINK ? "uplink" : "downlink", timestamp);
    col_append_str(pinfo->cinfo, COL_INFO, " [BAD DIGEST]");
}

/* ---- decryption ---- */

/* The first reason a container of the message stayed encrypted (for its Info). */
static void note_undecrypted(wmmp_dissect_state *st, wmmp_undecrypted why)
{
    if (st->undecrypted == WMMP_UNDECRYPTED_NONE)
        st->undecrypted = why;
}

tvbuff_t *wmmp_security_decrypt(tvbuff_t *tvb, int offset, int len, uint16_t tag, packet_info *pinfo,
                                proto_tree *tree, wmmp_dissect_state *st)
{
    session_state snap = snapshot(pinfo, st);
    const wmmp_terminal_keys *keys = keys_of(st);
    const uint8_t *key;
    if (len == 0)
        return NULL;
    if (len % 8 != 0) {
        proto_tree_add_expert_format(tree, pinfo, &ei_cipher_length, tvb, offset, len,
                                     "Ciphertext length %d is not a multiple of 8", len);
        st->ctx->malformed = true;
        return NULL;
    }
    if (tag == WMMP_TAG_ENCRYPTED_BODY) {
        if (!snap.have_session_key) {
            /* The session key comes in the LOGIN_ACK under the base key: without keys, that is the reason. */
            if (!keys) {
                proto_tree_add_expert_format(tree, pinfo, &ei_no_keys, tvb, offset, len, "%s", no_keys_msg(pinfo, st));
                note_undecrypted(st, no_keys() ? WMMP_UNDECRYPTED_NO_KEYS : WMMP_UNDECRYPTED_NO_TERMINAL);
            } else {
                proto_tree_add_expert(tree, pinfo, &ei_no_session_key, tvb, offset, len);
                note_undecrypted(st, WMMP_UNDECRYPTED_NO_SESSION_KEY);
            }
            return NULL;
        }
        key = snap.session_key;
    } else {
        if (!keys) {
            proto_tree_add_expert_format(tree, pinfo, &ei_no_keys, tvb, offset, len, "%s", no_keys_msg(pinfo, st));
            note_undecrypted(st, no_keys() ? WMMP_UNDECRYPTED_NO_KEYS : WMMP_UNDECRYPTED_NO_TERMINAL);
            return NULL;
        }
        key = keys->base_key; /* first 16 bytes: K1 | K2 */
    }

    /* 3DES once per container: later passes take the first pass's plaintext. */
    unsigned nth = st->decrypted_count++;
    const uint8_t *cipher = tvb_get_ptr(tvb, offset, len);
    const uint8_t *plain = wmmp_memo_plaintext(pinfo, st->msg_index, nth, cipher, (unsigned)len);
    if (!plain) {
        uint8_t *fresh = (uint8_t *)wmem_alloc(pinfo->pool, len);
        if (wmmp_decrypt(key, cipher, (size_t)len, fresh) != WMMP_OK)
            return NULL;
        wmmp_memo_set_plaintext(pinfo, st->msg_index, nth, cipher, fresh, (unsigned)len);
        plain = fresh;
    }
    size_t plain_len;
    if (tag == WMMP_TAG_ENCRYPTED_BODY) {
        /* the codec's rule: prefix, then TLVs (or FILE_REQ_ACK's data block) up to the zero padding; a
           truncated body is shown as far as it goes, and its dissection reports what is missing */
        (void)wmmp_unpadded_body_len(st->ctx->command_id, plain, (size_t)len, &plain_len);
    } else {
        plain_len = wmmp_unpadded_tlv_len(plain, (size_t)len);
    }
    tvbuff_t *child = tvb_new_child_real_data(tvb, plain, (unsigned)plain_len, (int)plain_len);
    add_new_data_source(pinfo, child, tag == WMMP_TAG_ENCRYPTED_BODY ? "Decrypted WMMP body" : "Decrypted WMMP TLVs");
    proto_item *pi = proto_tree_add_boolean(tree, hf_decrypted, tvb, offset, len, true);
    proto_item_set_generated(pi);
    st->decrypted = true;
    return child;
}

void wmmp_security_register(module_t *module)
{
    static hf_register_info hf[] = {
        /* Wireshark's checksum status (PROTO_CHECKSUM_E_*): wmmp.digest.status == "Bad" as for every protocol */
        { &hf_digest_status, { "Digest status", "wmmp.digest.status", FT_UINT8, BASE_NONE,
                               VALS(proto_checksum_vals), 0,
                               "Good, Bad (made without the sender's password), or Unverified without keys or "
                               "without the session's LOGIN_ACK", HFILL } },
        { &hf_digest_expected, { "Expected digest", "wmmp.digest.expected", FT_BYTES, BASE_NONE, NULL, 0,
                                 "The MD5 the keys give", HFILL } },
        { &hf_decrypted, { "Decrypted", "wmmp.decrypted", FT_BOOLEAN, BASE_NONE, NULL, 0,
                           "An encrypted container was decrypted with the terminal's keys", HFILL } },
    };
    static ei_register_info ei[] = {
        { &ei_digest_bad, { "wmmp.digest.bad", PI_CHECKSUM, PI_ERROR, "Digest does not match", EXPFILL } },
        { &ei_no_keys, { "wmmp.keys.missing", PI_DECRYPTION, PI_NOTE, "No keys for this terminal", EXPFILL } },
        { &ei_no_timestamp, { "wmmp.digest.no_timestamp", PI_DECRYPTION, PI_NOTE,
                              "No LOGIN_ACK of this session in the capture: digest timestamp unknown", EXPFILL } },
        { &ei_no_session_key, { "wmmp.session_key.missing", PI_DECRYPTION, PI_NOTE,
                                "Session key unknown (no decryptable LOGIN_ACK of this session)", EXPFILL } },
        { &ei_cipher_length, { "wmmp.cipher.bad_length", PI_MALFORMED, PI_ERROR,
                               "Ciphertext length is not a multiple of 8", EXPFILL } },
    };
    static uat_field_t key_fields[] = {
        UAT_FLD_CSTRING(key_records, serial, "Terminal serial", "16 characters, e.g. A00MS8011390002S"),
        UAT_FLD_CSTRING(key_records, imei, "IMEI", "15 digits"),
        UAT_FLD_CSTRING(key_records, imsi, "IMSI", "15 digits"),
        UAT_FLD_CSTRING(key_records, uplink, "Uplink password", "8 bytes (\\xNN escapes allowed)"),
        UAT_FLD_CSTRING(key_records, downlink, "Downlink password", "8 bytes (\\xNN escapes allowed)"),
        UAT_FLD_CSTRING(key_records, base_key, "Base key", "48 hexadecimal digits"),
        UAT_END_FIELDS
    };

    proto_register_field_array(proto_wmmp, hf, array_length(hf));
    expert_register_field_array(expert_register_protocol(proto_wmmp), ei, array_length(ei));
    wmmp_crypto_init();
    /* resets itself with each capture file */
    sessions = wmem_map_new_autoreset(wmem_epan_scope(), wmem_file_scope(), g_str_hash, g_str_equal);
    terminal_ends = wmem_map_new_autoreset(wmem_epan_scope(), wmem_file_scope(), g_direct_hash, g_direct_equal);

    uat_t *uat = uat_new("WMMP keys", sizeof(key_record_t), "wmmp_keys", true, &key_records, &num_key_records,
                         UAT_AFFECTS_DISSECTION, NULL, key_record_copy, key_record_update, key_record_free,
                         key_records_post_update, NULL, key_fields);
    prefs_register_uat_preference(module, "keys", "Terminal keys",
                                  "Per terminal: serial, IMEI, IMSI, uplink and downlink passwords, base key. "
                                  "Used to verify digests and decrypt 0xE040/0xE042 containers.",
                                  uat);
    wmmp_memo_register();
}
