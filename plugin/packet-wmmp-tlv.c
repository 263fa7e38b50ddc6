/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-tlv.c: TLV lists (profile sections 4 and 6). One field per dictionary tag, generated at
 * start-up from codec/wmmp_tags.def (name, type, unit and filter name declared there once); the user table
 * wmmp_tags adds or overrides names; the "dialect" preference reads tag 0x0002 as the paper's signal level.
 * User data (0x4007) goes to the heuristic list and Decode As table made here; decrypted containers and
 * reassembled bodies are dissected here (TLVs) or handed back to the core (bodies: st->dissect_body).
 */
#include <wireshark.h>

#include <epan/decode_as.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/to_str.h>
#include <epan/uat.h>
#include <epan/unit_strings.h>
#include <wsutil/utf8_entities.h>

#include "packet-wmmp.h"
#include "packet-wmmp-fragment.h"
#include "packet-wmmp-security.h"
#include "packet-wmmp-tlv.h"
#include "packet-wmmp-vals.h"
#include "wmmp_tables.h"

/* Decrypted containers and reassembled bodies may hold containers; more than this is an attack, not a message. */
#define WMMP_MAX_DEPTH 3

/* The Info summary of a CONFIG_* / REMOTE_CTRL body names at most this many tags (then "…"), and stops
   adding names once it is this long. */
#define WMMP_INFO_MAX_TAGS 4
#define WMMP_INFO_MAX_CHARS 48

static int pref_dialect = WMMP_DIALECT_WMMP3;

static heur_dissector_list_t user_data_heur_list;
static dissector_table_t user_data_table;

static int hf_tlv_tag = -1;
static int hf_tlv_length = -1;
static int hf_tlv_value = -1;
static int hf_tlv_string = -1;
static int hf_tlv_uint = -1;
static int hf_tlv_ipv4 = -1;
static int hf_tlv_time = -1;
static int hf_signal_dbm = -1;
static int hf_cell_lac = -1;
static int hf_cell_ci = -1;

static int ett_tlv = -1;
static int ett_tlv_value = -1;
static int ett_decrypted = -1;

static expert_field ei_tlv_truncated = EI_INIT;
static expert_field ei_tlv_overrun = EI_INIT;
static expert_field ei_tlv_bad_length = EI_INIT;
static expert_field ei_tlv_unknown = EI_INIT;
static expert_field ei_tlv_depth = EI_INIT;
static expert_field ei_tlv_empty = EI_INIT;
static expert_field ei_apn_dialect = EI_INIT;

/* Field ids of the dictionary, indexed like wmmp_tag_table(); tags of one meaning share one id. */
static int *tag_fields;
static const wmmp_tag_info *tag_table;
static size_t tag_count;
static GHashTable *field_by_name; /* "apn" -> int* */

/* ---- the user table wmmp_tags: tag, name, type ---- */

typedef struct {
    char *tag;
    char *name;
    char *type;
} user_tag_t;

typedef struct {
    char *name;
    wmmp_value_type type;
} user_tag_info;

static user_tag_t *user_tags;
static unsigned num_user_tags;
static GHashTable *user_tag_map; /* tag -> user_tag_info */

static const struct {
    const char *name;
    wmmp_value_type type;
} user_types[] = {
    { "string", WMMP_VT_STRING }, { "uint8", WMMP_VT_UINT8 }, { "uint16", WMMP_VT_UINT16 },
    { "uint32", WMMP_VT_UINT32 }, { "ipv4", WMMP_VT_IPV4 },   { "time", WMMP_VT_TIME },
    { "bytes", WMMP_VT_BYTES },
};

UAT_CSTRING_CB_DEF(user_tags, tag, user_tag_t)
UAT_CSTRING_CB_DEF(user_tags, name, user_tag_t)
UAT_CSTRING_CB_DEF(user_tags, type, user_tag_t)

static bool parse_user_tag(const char *s, uint16_t *tag)
{
    char *end;
    if (!s || !*s)
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    unsigned long v = strtoul(s, &end, 16);
    if (*end || end == s || v > 0xFFFF)
        return false;
    *tag = (uint16_t)v;
    return true;
}

static bool parse_user_type(const char *s, wmmp_value_type *type)
{
    for (size_t i = 0; s && i < array_length(user_types); i++) {
        if (g_ascii_strcasecmp(s, user_types[i].name) == 0) {
            *type = user_types[i].type;
            return true;
        }
    }
    return false;
}

static void *user_tag_copy(void *dest, const void *source, size_t len _U_)
{
    user_tag_t *d = (user_tag_t *)dest;
    const user_tag_t *s = (const user_tag_t *)source;
    d->tag = g_strdup(s->tag);
    d->name = g_strdup(s->name);
    d->type = g_strdup(s->type);
    return d;
}

static wmmp_uat_bool user_tag_update(void *record, char **error)
{
    user_tag_t *r = (user_tag_t *)record;
    uint16_t tag;
    wmmp_value_type type;
    if (!parse_user_tag(r->tag, &tag)) {
        *error = g_strdup_printf("Tag \"%s\" is not a hexadecimal number from 0 to FFFF", r->tag ? r->tag : "");
        return false;
    }
    if (!r->name || !*r->name) {
        *error = g_strdup("The name must not be empty");
        return false;
    }
    if (!parse_user_type(r->type, &type)) {
        *error = g_strdup_printf("Type \"%s\" is not one of string, uint8, uint16, uint32, ipv4, time, bytes",
                                 r->type ? r->type : "");
        return false;
    }
    return true;
}

static void user_tag_free(void *record)
{
    user_tag_t *r = (user_tag_t *)record;
    g_free(r->tag);
    g_free(r->name);
    g_free(r->type);
}

static void user_tag_info_free(void *p)
{
    user_tag_info *u = (user_tag_info *)p;
    g_free(u->name);
    g_free(u);
}

static void user_tags_post_update(void)
{
    g_hash_table_remove_all(user_tag_map);
    for (unsigned i = 0; i < num_user_tags; i++) {
        uint16_t tag;
        wmmp_value_type type;
        if (!parse_user_tag(user_tags[i].tag, &tag) || !parse_user_type(user_tags[i].type, &type))
            continue;
        user_tag_info *u = g_new0(user_tag_info, 1);
        u->name = g_strdup(user_tags[i].name);
        u->type = type;
        g_hash_table_insert(user_tag_map, GUINT_TO_POINTER(tag), u);
    }
}

/* ---- value display ---- */

static void format_csq(char *buf, uint32_t csq)
{
    if (csq <= 31)
        snprintf(buf, ITEM_LABEL_LENGTH, "%u (%d dBm)", csq, -113 + 2 * (int)csq);
    else if (csq == 99)
        snprintf(buf, ITEM_LABEL_LENGTH, "99 (unknown)");
    else
        snprintf(buf, ITEM_LABEL_LENGTH, "%u (out of range)", csq);
}

static int tag_index(const wmmp_tag_info *info)
{
    if (info >= tag_table && info < tag_table + tag_count)
        return (int)(info - tag_table);
    return -1;
}

int wmmp_tlv_field(uint16_t tag)
{
    int i = tag_index(wmmp_tag_lookup(tag, WMMP_DIALECT_WMMP3));
    return i < 0 ? -1 : tag_fields[i];
}

/* The field of a lookup result: the dictionary's own, or (paper dialect) the one its filter name shares. */
static int field_of(const wmmp_tag_info *info)
{
    int i = tag_index(info);
    if (i >= 0)
        return tag_fields[i];
    int *hf = (int *)g_hash_table_lookup(field_by_name, info->field);
    return hf ? *hf : -1;
}

static unsigned fixed_width(wmmp_value_type type)
{
    switch (type) {
    case WMMP_VT_UINT8:
    case WMMP_VT_CSQ:
        return 1;
    case WMMP_VT_UINT16:
        return 2;
    case WMMP_VT_UINT32:
    case WMMP_VT_HEX32:
    case WMMP_VT_TIME:
    case WMMP_VT_IPV4:
    case WMMP_VT_CELL:
        return 4;
    default:
        return 0;
    }
}

/* Download announcements feed Export Objects. */
static void note_download_info(tvbuff_t *tvb, int offset, uint16_t tag, uint16_t len, packet_info *pinfo,
                               wmmp_dissect_state *st)
{
    wmmp_eo_info *eo = st->eo;
    if (!st->is_download_info || !eo)
        return;
    eo->kind = WMMP_EO_DOWNLOAD_INFO;
    switch (tag) {
    case WMMP_TAG_UPDATE_URL:
        eo->url = (const char *)tvb_get_string_enc(pinfo->pool, tvb, offset, len, ENC_ASCII);
        break;
    case WMMP_TAG_FIRMWARE_VERSION_NEW:
        eo->version = (const char *)tvb_get_string_enc(pinfo->pool, tvb, offset, len, ENC_ASCII);
        break;
    case WMMP_TAG_FIRMWARE_LENGTH:
        if (len == 4) {
            eo->has_length = true;
            eo->length = tvb_get_ntohl(tvb, offset);
        }
        break;
    case WMMP_TAG_FIRMWARE_CRC32:
        if (len == 4) {
            eo->has_crc32 = true;
            eo->crc32 = tvb_get_ntohl(tvb, offset);
        }
        break;
    case WMMP_TAG_UPDATE_TRANSACTION:
        if (len == 4) {
            eo->has_transaction = true;
            eo->transaction_id = tvb_get_ntohl(tvb, offset);
        }
        break;
    default:
        break;
    }
}

/* User data (0x4007): Decode As first, then the heuristic list (the health record is one); the message
   context goes along as `data`. */
static void dissect_user_data(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, wmmp_dissect_state *st)
{
    heur_dtbl_entry_t *hdtbl_entry;
    if (tvb_reported_length(tvb) == 0)
        return;
    if (dissector_try_payload_with_data(user_data_table, tvb, pinfo, tree, true, st->ctx))
        return;
    dissector_try_heuristic(user_data_heur_list, tvb, pinfo, tree, &hdtbl_entry, st->ctx);
}

static void dissect_cipher(tvbuff_t *tvb, int offset, uint16_t tag, uint16_t len, packet_info *pinfo,
                           proto_tree *tlv_tree, proto_item *tlv_item, wmmp_dissect_state *st)
{
    if (st->depth >= WMMP_MAX_DEPTH) {
        expert_add_info(pinfo, tlv_item, &ei_tlv_depth);
        st->ctx->malformed = true;
        return;
    }
    tvbuff_t *plain = wmmp_security_decrypt(tvb, offset, len, tag, pinfo, tlv_tree, st);
    if (!plain)
        return;
    int plain_len = tvb_reported_length(plain);
    proto_tree *dtree = proto_tree_add_subtree_format(tlv_tree, plain, 0, plain_len, ett_decrypted, NULL,
                                                      "Decrypted %s (%d bytes)",
                                                      tag == WMMP_TAG_ENCRYPTED_BODY ? "body" : "TLVs", plain_len);
    increment_dissection_depth(pinfo);
    st->depth++;
    if (tag == WMMP_TAG_ENCRYPTED_BODY)
        st->dissect_body(plain, 0, plain_len, pinfo, dtree, st);
    else
        wmmp_dissect_tlvs(plain, 0, plain_len, pinfo, dtree, st);
    st->depth--;
    decrement_dissection_depth(pinfo);
}

/* A string value for the TLV's summary, up to its first NUL, control characters as \xNN: written here
 * because Wireshark's own display of them differs between releases (4.0 drops or octal-escapes them). */
static const char *escaped_string(wmem_allocator_t *scope, tvbuff_t *tvb, int offset, int len)
{
    const char *s = (const char *)tvb_get_stringzpad(scope, tvb, offset, len, ENC_ASCII);
    wmem_strbuf_t *b = wmem_strbuf_new(scope, "");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            wmem_strbuf_append_printf(b, "\\x%02x", c);
        else
            wmem_strbuf_append_c(b, (char)c);
    }
    return wmem_strbuf_get_str(b);
}

/* A value of a known type; the caller has checked fixed widths. */
static void dissect_typed(tvbuff_t *tvb, int offset, uint16_t len, wmmp_value_type type, int hf, uint16_t tag,
                          packet_info *pinfo, proto_tree *tree, proto_item *tlv_item, wmmp_dissect_state *st)
{
    proto_item *pi;
    switch (type) {
    case WMMP_VT_STRING:
        proto_tree_add_item(tree, hf, tvb, offset, len, ENC_ASCII);
        if (wmmp_tree_shown(tree))
            proto_item_append_text(tlv_item, ": %s", escaped_string(pinfo->pool, tvb, offset, len));
        break;
    case WMMP_VT_IPV4:
        proto_tree_add_item(tree, hf, tvb, offset, 4, ENC_BIG_ENDIAN);
        if (wmmp_tree_shown(tree))
            proto_item_append_text(tlv_item, ": %s", tvb_ip_to_str(pinfo->pool, tvb, offset));
        break;
    case WMMP_VT_UINT8:
    case WMMP_VT_UINT16:
    case WMMP_VT_UINT32:
    case WMMP_VT_HEX32:
        pi = proto_tree_add_item(tree, hf, tvb, offset, len, ENC_BIG_ENDIAN);
        if (wmmp_tree_shown(tree))
            proto_item_append_text(tlv_item, ": %s", proto_item_get_display_repr(pinfo->pool, pi));
        break;
    case WMMP_VT_TIME:
        pi = proto_tree_add_item(tree, hf, tvb, offset, 4, ENC_TIME_SECS | ENC_BIG_ENDIAN);
        if (wmmp_tree_shown(tree))
            proto_item_append_text(tlv_item, ": %s", proto_item_get_display_repr(pinfo->pool, pi));
        break;
    case WMMP_VT_CSQ: {
        uint32_t csq;
        pi = proto_tree_add_item_ret_uint(tree, hf, tvb, offset, 1, ENC_BIG_ENDIAN, &csq);
        if (wmmp_tree_shown(tree))
            proto_item_append_text(tlv_item, ": %s", proto_item_get_display_repr(pinfo->pool, pi));
        if (csq <= 31) {
            pi = proto_tree_add_int(tree, hf_signal_dbm, tvb, offset, 1, -113 + 2 * (int32_t)csq);
            proto_item_set_generated(pi);
        }
        break;
    }
    case WMMP_VT_CELL: {
        proto_tree *ctree;
        uint32_t lac, ci;
        pi = proto_tree_add_item(tree, hf, tvb, offset, 4, ENC_NA);
        ctree = proto_item_add_subtree(pi, ett_tlv_value);
        proto_tree_add_item_ret_uint(ctree, hf_cell_lac, tvb, offset, 2, ENC_BIG_ENDIAN, &lac);
        proto_tree_add_item_ret_uint(ctree, hf_cell_ci, tvb, offset + 2, 2, ENC_BIG_ENDIAN, &ci);
        proto_item_append_text(tlv_item, ": LAC %u, CI %u", lac, ci);
        break;
    }
    case WMMP_VT_TAG_LIST:
        for (int i = 0; i + 2 <= len; i += 2)
            proto_tree_add_item(tree, hf, tvb, offset + i, 2, ENC_BIG_ENDIAN);
        if (len % 2) {
            proto_tree_add_expert_format(tree, pinfo, &ei_tlv_bad_length, tvb, offset + len - 1, 1,
                                         "A tag list has an odd length (%u)", len);
            st->ctx->malformed = true;
        }
        proto_item_append_text(tlv_item, ": %u tags", len / 2);
        break;
    case WMMP_VT_FRAGMENT: {
        proto_tree_add_item(tree, hf, tvb, offset, len, ENC_NA);
        tvbuff_t *whole = wmmp_fragment_dissect(tvb, offset, len, pinfo, tree, st);
        if (whole) {
            if (st->depth >= WMMP_MAX_DEPTH) {
                expert_add_info(pinfo, tlv_item, &ei_tlv_depth);
                st->ctx->malformed = true;
                break;
            }
            /* Wireshark's own recursion bound (gui.max_tree_depth) on top of ours. */
            increment_dissection_depth(pinfo);
            st->depth++;
            st->reassembled++;
            st->dissect_body(whole, 0, tvb_reported_length(whole), pinfo, tree, st);
            st->reassembled--;
            st->depth--;
            decrement_dissection_depth(pinfo);
        }
        break;
    }
    case WMMP_VT_CIPHER:
        proto_tree_add_item(tree, hf, tvb, offset, len, ENC_NA);
        dissect_cipher(tvb, offset, tag, len, pinfo, tree, tlv_item, st);
        break;
    case WMMP_VT_BYTES:
    default:
        if (len > 0)
            proto_tree_add_item(tree, hf, tvb, offset, len, ENC_NA);
        if (tag == WMMP_TAG_USER_DATA) {
            dissect_user_data(tvb_new_subset_length(tvb, offset, len), pinfo, tree, st);
        } else if (tag == WMMP_TAG_SESSION_KEY && len == 16) {
            wmmp_security_session_key(pinfo, st, tvb, offset);
        }
        break;
    }
}

static int generic_field(wmmp_value_type type)
{
    switch (type) {
    case WMMP_VT_STRING:
        return hf_tlv_string;
    case WMMP_VT_UINT8:
    case WMMP_VT_UINT16:
    case WMMP_VT_UINT32:
        return hf_tlv_uint;
    case WMMP_VT_IPV4:
        return hf_tlv_ipv4;
    case WMMP_VT_TIME:
        return hf_tlv_time;
    default:
        return hf_tlv_value;
    }
}

/* What the user table (first) or the dictionary says about a tag; both NULL for an unknown tag. */
static const char *tag_name(uint16_t tag, const user_tag_info **user, const wmmp_tag_info **info)
{
    *user = (const user_tag_info *)g_hash_table_lookup(user_tag_map, GUINT_TO_POINTER(tag));
    *info = *user ? NULL : wmmp_tag_lookup(tag, (wmmp_dialect)pref_dialect);
    return *user ? (*user)->name : *info ? (*info)->name : "Unknown";
}

/* An APN is labels of letters, digits and hyphens separated by dots (3GPP TS 23.003; "_" is seen too). */
static bool looks_like_apn(tvbuff_t *tvb, int offset, uint16_t len)
{
    if (len < 2) /* no APN is one character long; the paper's signal level is one byte */
        return false;
    for (int i = 0; i < len; i++) {
        uint8_t c = tvb_get_uint8(tvb, offset + i);
        if (!g_ascii_isalnum(c) && c != '.' && c != '-' && c != '_')
            return false;
    }
    return true;
}

/* Tag 0x0002 read as the APN (WMMP 3.0 dialect) whose value is no APN: most likely the seed paper's signal
   level, so say which preference reads it as that. */
static void check_apn(tvbuff_t *tvb, int offset, uint16_t len, packet_info *pinfo, proto_item *tlv_item)
{
    if (len == 0 || looks_like_apn(tvb, offset, len))
        return;
    uint8_t v = tvb_get_uint8(tvb, offset);
    if (len == 1 && (v <= 31 || v == 99)) {
        char csq[ITEM_LABEL_LENGTH];
        format_csq(csq, v);
        expert_add_info_format(pinfo, tlv_item, &ei_apn_dialect,
                               "Tag 0x0002 holds the single byte %u, not an APN: in the seed paper's dialect it is "
                               "the signal level, CSQ %s; decode with the preference wmmp.dialect: paper", v, csq);
    } else {
        expert_add_info_format(pinfo, tlv_item, &ei_apn_dialect,
                               "Tag 0x0002 (%u bytes) does not look like an APN: if the terminal speaks the seed "
                               "paper's dialect (0x0002 = signal level), decode with the preference wmmp.dialect: "
                               "paper", len);
    }
}

/* The commands whose Info names the tags of their body. */
static bool summarises_tags(uint16_t cmd)
{
    switch (wmmp_request_of(cmd)) {
    case WMMP_CMD_CONFIG_GET:
    case WMMP_CMD_CONFIG_SET:
    case WMMP_CMD_CONFIG_TRAP:
    case WMMP_CMD_CONFIG_REQ:
    case WMMP_CMD_REMOTE_CTRL:
        return true;
    default:
        return false;
    }
}

/* Notes one TLV of the body for the Info summary (name: its short name, e.g. the filter name "apn"; cmd:
   for 0x4001, the command's name, else NULL). */
static void info_add_tag(packet_info *pinfo, wmmp_dissect_state *st, uint16_t tag, const char *name, const char *cmd)
{
    uint16_t command = st->ctx->command_id;
    /* the digest, containers (their plaintext is noted instead) and fragments are no configuration */
    if (!summarises_tags(command) || tag == WMMP_TAG_DIGEST || tag == WMMP_TAG_ENCRYPTED_TLVS ||
        tag == WMMP_TAG_ENCRYPTED_BODY || tag == WMMP_TAG_FRAGMENT)
        return;
    if (cmd && command == WMMP_CMD_REMOTE_CTRL) {
        if (!st->info_remote_cmd)
            st->info_remote_cmd = cmd;
        return;
    }
    if (!st->info_tags)
        st->info_tags = wmem_strbuf_new(pinfo->pool, "");
    st->info_tag_count++;
    if (st->info_tags_shown >= WMMP_INFO_MAX_TAGS || wmem_strbuf_get_len(st->info_tags) >= WMMP_INFO_MAX_CHARS)
        return;
    if (st->info_tags_shown++ > 0)
        wmem_strbuf_append_c(st->info_tags, ',');
    wmem_strbuf_append(st->info_tags, name);
}

/* "cmd=Reboot", "tags=apn,heartbeat_interval", "rejected=apn" (tags an error ACK lists), after the body. */
void wmmp_tlv_append_info(packet_info *pinfo, wmmp_dissect_state *st)
{
    if (st->info_remote_cmd) {
        col_append_fstr(pinfo->cinfo, COL_INFO, " cmd=%s", st->info_remote_cmd);
        st->info_remote_cmd = NULL;
    }
    if (!st->info_tags)
        return;
    bool rejected = wmmp_is_ack(st->ctx->command_id) && st->ctx->has_result && st->ctx->result != 0;
    if (st->info_tags_shown < st->info_tag_count)
        col_append_fstr(pinfo->cinfo, COL_INFO, " %s=%s," UTF8_HORIZONTAL_ELLIPSIS " (%u tags)",
                        rejected ? "rejected" : "tags", wmem_strbuf_get_str(st->info_tags), st->info_tag_count);
    else
        col_append_fstr(pinfo->cinfo, COL_INFO, " %s=%s", rejected ? "rejected" : "tags",
                        wmem_strbuf_get_str(st->info_tags));
    st->info_tags = NULL;
    st->info_tag_count = st->info_tags_shown = 0;
}

/* The TLV's name for the Info summary of CONFIG_* and REMOTE_CTRL: the filter name of a dictionary tag
   ("apn"), the name a user gave, else the tag number; for 0x4001 also the command. */
static void note_info_tag(tvbuff_t *tvb, int offset, uint16_t tag, uint16_t len, packet_info *pinfo,
                          wmmp_dissect_state *st, const user_tag_info *user, const wmmp_tag_info *info)
{
    const char *name = user ? user->name : info ? info->field : wmem_strdup_printf(pinfo->pool, "0x%04x", tag);
    const char *cmd = NULL;
    if (!user && tag == WMMP_TAG_REMOTE_CTRL_CMD && len == 1)
        cmd = val_to_str_const(tvb_get_uint8(tvb, offset), wmmp_remote_cmd_vals, "Unknown");
    info_add_tag(pinfo, st, tag, name, cmd);
}

/* One TLV whose value lies in the buffer; its item is labelled, tag and length items are in tree. */
static void dissect_value(tvbuff_t *tvb, int offset, uint16_t tag, uint16_t len, packet_info *pinfo,
                          proto_tree *tree, proto_item *tlv_item, wmmp_dissect_state *st, const user_tag_info *user,
                          const wmmp_tag_info *info, const char *name)
{
    wmmp_value_type type = user ? user->type : info ? info->type : WMMP_VT_BYTES;
    int hf = user ? generic_field(type) : info ? field_of(info) : hf_tlv_value;
    unsigned width = user ? fixed_width(type) : info ? info->fixed_len : 0;

    if (!user && !info) {
        if (len > 0)
            proto_tree_add_item(tree, hf_tlv_value, tvb, offset, len, ENC_NA);
        expert_add_info_format(pinfo, tlv_item, &ei_tlv_unknown, "Unknown tag 0x%04x", tag);
        return;
    }
    if (len == 0 && width > 0) {
        /* CONFIG_GET/CONFIG_REQ ask for tags, error ACKs name rejected ones: both without a value. */
        if (st->tag_list_context)
            proto_item_append_text(tlv_item, " (no value)");
        else
            expert_add_info_format(pinfo, tlv_item, &ei_tlv_empty, "%s has no value", name);
        return;
    }
    if (width > 0 && len != width) {
        expert_add_info_format(pinfo, tlv_item, &ei_tlv_bad_length, "%s must be %u bytes long, not %u", name,
                               width, len);
        st->ctx->malformed = true;
        proto_tree_add_item(tree, hf_tlv_value, tvb, offset, len, ENC_NA);
        return;
    }
    dissect_typed(tvb, offset, len, type, hf, tag, pinfo, tree, tlv_item, st);
    note_download_info(tvb, offset, tag, len, pinfo, st);
    if (!user && info->tag == WMMP_TAG_APN && info->type == WMMP_VT_STRING)
        check_apn(tvb, offset, len, pinfo, tlv_item);
}

void wmmp_dissect_tlvs(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                       wmmp_dissect_state *st)
{
    int end = offset + len;
    while (offset < end) {
        int left = end - offset;
        if (left < 4) {
            proto_tree_add_expert_format(tree, pinfo, &ei_tlv_truncated, tvb, offset, left,
                                         "%d trailing bytes cannot hold a TLV header", left);
            st->ctx->malformed = true;
            return;
        }
        uint16_t tag = tvb_get_ntohs(tvb, offset);
        uint16_t vlen = tvb_get_ntohs(tvb, offset + 2);
        bool overrun = vlen > left - 4;
        const user_tag_info *user = NULL;
        const wmmp_tag_info *info = NULL;
        const char *name = overrun ? NULL : tag_name(tag, &user, &info);
        proto_item *tlv_item;
        /* labelled once, when it is made (a visible tree formats every label) */
        proto_tree *tlv_tree = overrun ? proto_tree_add_subtree_format(tree, tvb, offset, left, ett_tlv, &tlv_item,
                                                                       "TLV 0x%04x (truncated)", tag)
                                       : proto_tree_add_subtree_format(tree, tvb, offset, 4 + vlen, ett_tlv, &tlv_item,
                                                                       "%s (0x%04x)", name, tag);
        proto_tree_add_item(tlv_tree, hf_tlv_tag, tvb, offset, 2, ENC_BIG_ENDIAN);
        proto_item *len_item = proto_tree_add_item(tlv_tree, hf_tlv_length, tvb, offset + 2, 2, ENC_BIG_ENDIAN);
        if (overrun) {
            if (left > 4)
                proto_tree_add_item(tlv_tree, hf_tlv_value, tvb, offset + 4, left - 4, ENC_NA);
            expert_add_info_format(pinfo, len_item, &ei_tlv_overrun, "Length %u runs past the end (%d bytes left)",
                                   vlen, left - 4);
            st->ctx->malformed = true;
            return;
        }
        dissect_value(tvb, offset + 4, tag, vlen, pinfo, tlv_tree, tlv_item, st, user, info, name);
        note_info_tag(tvb, offset + 4, tag, vlen, pinfo, st, user, info);
        offset += 4 + vlen;
    }
}

/* ---- registration ---- */

/* A tag's field type, display and value strings, from its value type in the tag table. */
typedef struct {
    enum ftenum type;
    int display;
    const void *strings;
} tag_field_kind;

static tag_field_kind tag_field_kind_of(const wmmp_tag_info *t)
{
    switch (t->type) {
    case WMMP_VT_STRING:
        return (tag_field_kind){ FT_STRINGZPAD, BASE_NONE, NULL };
    case WMMP_VT_IPV4:
        return (tag_field_kind){ FT_IPv4, BASE_NONE, NULL };
    case WMMP_VT_UINT8:
    case WMMP_VT_UINT16:
    case WMMP_VT_UINT32: {
        enum ftenum type = t->type == WMMP_VT_UINT8 ? FT_UINT8 : t->type == WMMP_VT_UINT16 ? FT_UINT16 : FT_UINT32;
        if (t->tag == WMMP_TAG_REMOTE_CTRL_CMD)
            return (tag_field_kind){ type, BASE_DEC, VALS(wmmp_remote_cmd_vals) };
        if (t->tag == WMMP_TAG_CONNECT_MODE)
            return (tag_field_kind){ type, BASE_DEC, VALS(wmmp_connect_mode_vals) };
        if (t->unit[0]) {
            unit_name_string *u = g_new0(unit_name_string, 1);
            u->singular = g_strconcat(" ", t->unit, NULL);
            return (tag_field_kind){ type, BASE_DEC | BASE_UNIT_STRING, u };
        }
        return (tag_field_kind){ type, BASE_DEC, NULL };
    }
    case WMMP_VT_HEX32:
        return (tag_field_kind){ FT_UINT32, BASE_HEX, NULL };
    case WMMP_VT_TIME:
        return (tag_field_kind){ FT_ABSOLUTE_TIME, ABSOLUTE_TIME_UTC, NULL };
    case WMMP_VT_TAG_LIST:
        return (tag_field_kind){ FT_UINT16, BASE_HEX, VALS(wmmp_tag_vals) };
    case WMMP_VT_CSQ:
        return (tag_field_kind){ FT_UINT8, BASE_CUSTOM, CF_FUNC(format_csq) };
    default:
        return (tag_field_kind){ FT_BYTES, BASE_NONE, NULL };
    }
}

/* One field per display-filter name of the tag table (tags that share a name share the field), built as
 * ordinary hf_register_info entries (HFILL) so that Wireshark's own registration fills in the rest. */
static void register_tag_fields(int proto)
{
    tag_table = wmmp_tag_table(&tag_count);
    tag_fields = g_new(int, tag_count);
    field_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    hf_register_info *hf = g_new0(hf_register_info, tag_count);
    size_t n = 0;

    wmmp_tag_vals = g_new0(value_string, tag_count + 1);
    for (size_t i = 0; i < tag_count; i++) {
        const wmmp_tag_info *t = &tag_table[i];
        wmmp_tag_vals[i].value = t->tag;
        wmmp_tag_vals[i].strptr = t->name;
    }
    for (size_t i = 0; i < tag_count; i++) {
        const wmmp_tag_info *t = &tag_table[i];
        if (g_hash_table_lookup(field_by_name, t->field)) {
            tag_fields[i] = -1; /* fixed up after registration */
            continue;
        }
        int *id = g_new(int, 1);
        *id = -1;
        g_hash_table_insert(field_by_name, (void *)t->field, id);
        tag_field_kind k = tag_field_kind_of(t);
        hf[n++] = (hf_register_info){ id, { t->name, g_strconcat("wmmp.", t->field, NULL), k.type, k.display,
                                            k.strings, 0, g_strdup_printf("TLV 0x%04x", t->tag), HFILL } };
    }
    proto_register_field_array(proto, hf, (int)n);
    for (size_t i = 0; i < tag_count; i++)
        tag_fields[i] = *(int *)g_hash_table_lookup(field_by_name, tag_table[i].field);
}

void wmmp_tlv_register(module_t *module)
{
    static hf_register_info hf[] = {
        { &hf_tlv_tag, { "Tag", "wmmp.tlv.tag", FT_UINT16, BASE_HEX, NULL, 0, NULL, HFILL } },
        { &hf_tlv_length, { "Length", "wmmp.tlv.length", FT_UINT16, BASE_DEC, NULL, 0, NULL, HFILL } },
        { &hf_tlv_value, { "Value", "wmmp.tlv.value", FT_BYTES, BASE_NONE, NULL, 0,
                           "Raw value of an unknown tag or of a value whose length is wrong", HFILL } },
        { &hf_tlv_string, { "Value", "wmmp.tlv.string", FT_STRINGZPAD, BASE_NONE, NULL, 0,
                            "String value of a tag from the wmmp_tags table", HFILL } },
        { &hf_tlv_uint, { "Value", "wmmp.tlv.uint", FT_UINT32, BASE_DEC, NULL, 0,
                          "Integer value of a tag from the wmmp_tags table", HFILL } },
        { &hf_tlv_ipv4, { "Value", "wmmp.tlv.ipv4", FT_IPv4, BASE_NONE, NULL, 0,
                          "IPv4 value of a tag from the wmmp_tags table", HFILL } },
        { &hf_tlv_time, { "Value", "wmmp.tlv.time", FT_ABSOLUTE_TIME, ABSOLUTE_TIME_UTC, NULL, 0,
                          "Time value of a tag from the wmmp_tags table", HFILL } },
        { &hf_signal_dbm, { "Signal strength", "wmmp.signal_dbm", FT_INT32, BASE_DEC | BASE_UNIT_STRING,
                            &units_dbm, 0, "-113 + 2 x CSQ", HFILL } },
        { &hf_cell_lac, { "LAC", "wmmp.cell.lac", FT_UINT16, BASE_DEC, NULL, 0, "Location area code", HFILL } },
        { &hf_cell_ci, { "Cell ID", "wmmp.cell.ci", FT_UINT16, BASE_DEC, NULL, 0, NULL, HFILL } },
    };
    static int *ett[] = { &ett_tlv, &ett_tlv_value, &ett_decrypted };
    static ei_register_info ei[] = {
        { &ei_tlv_truncated, { "wmmp.tlv.truncated", PI_MALFORMED, PI_ERROR, "TLV header truncated", EXPFILL } },
        { &ei_tlv_overrun, { "wmmp.tlv.overrun", PI_MALFORMED, PI_ERROR, "TLV value runs past the end", EXPFILL } },
        { &ei_tlv_bad_length, { "wmmp.tlv.bad_length", PI_MALFORMED, PI_WARN, "TLV length wrong for its type",
                                EXPFILL } },
        { &ei_tlv_unknown, { "wmmp.tlv.unknown", PI_UNDECODED, PI_NOTE, "Unknown tag", EXPFILL } },
        { &ei_tlv_depth, { "wmmp.tlv.too_deep", PI_MALFORMED, PI_ERROR, "Encrypted containers nested too deeply",
                           EXPFILL } },
        { &ei_tlv_empty, { "wmmp.tlv.empty", PI_PROTOCOL, PI_WARN, "TLV without the value its tag needs",
                           EXPFILL } },
        { &ei_apn_dialect, { "wmmp.apn.dialect_hint", PI_PROTOCOL, PI_NOTE,
                             "Tag 0x0002 does not look like an APN: the seed paper's dialect? (preference "
                             "wmmp.dialect: paper)", EXPFILL } },
    };
    static const enum_val_t dialects[] = {
        { "wmmp3", "WMMP 3.0 (0x0002 is the APN)", WMMP_DIALECT_WMMP3 },
        { "paper", "Seed paper (0x0002 is the signal level)", WMMP_DIALECT_PAPER },
        { NULL, NULL, -1 }
    };
    static uat_field_t user_tag_fields[] = {
        UAT_FLD_CSTRING(user_tags, tag, "Tag", "Tag in hexadecimal, e.g. 9001"),
        UAT_FLD_CSTRING(user_tags, name, "Name", "Name shown for the TLV"),
        UAT_FLD_CSTRING(user_tags, type, "Type", "string, uint8, uint16, uint32, ipv4, time or bytes"),
        UAT_END_FIELDS
    };

    proto_register_field_array(proto_wmmp, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert_register_protocol(proto_wmmp), ei, array_length(ei));
    register_tag_fields(proto_wmmp);

    user_data_heur_list = register_heur_dissector_list(WMMP_USER_DATA_HEUR_LIST, proto_wmmp);
    user_data_table = register_decode_as_next_proto(proto_wmmp, WMMP_USER_DATA_TABLE, "WMMP user data", NULL);

    prefs_register_enum_preference(module, "dialect", "TLV dialect",
                                   "How tag 0x0002 is read: the APN (WMMP 3.0) or the signal level (seed paper)",
                                   &pref_dialect, dialects, false);

    user_tag_map = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, user_tag_info_free);
    uat_t *uat = uat_new("WMMP tags", sizeof(user_tag_t), "wmmp_tags", true, &user_tags, &num_user_tags,
                         UAT_AFFECTS_DISSECTION, NULL, user_tag_copy, user_tag_update, user_tag_free,
                         user_tags_post_update, NULL, user_tag_fields);
    prefs_register_uat_preference(module, "tags", "TLV tags",
                                  "Names and types for further TLV tags; they also override the built-in names",
                                  uat);
}
