/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp.c: the WMMP-T 3.0 protocol (China Mobile's Wireless M2M Protocol, terminal to platform),
 * as fixed by the project's wire profile. This file owns registration, ports and heuristics, TCP framing,
 * the 28-byte header, the derived message class and every command's fixed body prefix. TLVs, security,
 * fragments, tracking, health records, statistics and export live in their own files (packet-wmmp.h).
 */
#include <wireshark.h>

#include <epan/conversation.h>
#include <epan/proto_data.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/tap.h>
#include <epan/dissectors/packet-tcp.h>

#include "packet-wmmp.h"
#include "packet-wmmp-export.h"
#include "packet-wmmp-fragment.h"
#include "packet-wmmp-security.h"
#include "packet-wmmp-stats.h"
#include "packet-wmmp-tlv.h"
#include "packet-wmmp-tracking.h"
#include "packet-wmmp-vals.h"
#include "wmmp_crc.h"
#include "wmmp_fragment.h"
#include "wmmp_header.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"


/* p_add_proto_data key (packet pool): how many messages of this frame were dissected so far. */
#define WMMP_KEY_MSG_COUNT 1

int proto_wmmp = -1;
int wmmp_tap = -1;

static int hf_length = -1;
static int hf_command = -1;
static int hf_sequence = -1;
static int hf_version = -1;
static int hf_safe_flag = -1;
static int hf_safe_flag_security = -1;
static int hf_safe_flag_encryption = -1;
static int hf_safe_flag_digest = -1;
static int hf_safe_flag_enc_or_frag = -1;
static int hf_safe_flag_reserved = -1;
static int hf_reserved = -1;
static int hf_terminal_id = -1;
static int hf_class = -1;
static int hf_result = -1;
static int hf_logout_reason = -1;
static int hf_login_software_version = -1;
static int hf_login_sync_crc = -1;
static int hf_login_timestamp = -1;
static int hf_register_operation = -1;
static int hf_register_serial = -1;
static int hf_crc16 = -1;
static int hf_crc16_status = -1;
static int hf_file_transaction = -1;
static int hf_file_status = -1;
static int hf_file_offset = -1;
static int hf_file_block_size = -1;
static int hf_file_length = -1;
static int hf_file_data = -1;
static int hf_security_operation = -1;
static int hf_fragment_control = -1;

static int ett_wmmp = -1;
static int ett_header = -1;
static int ett_safe_flag = -1;
static int ett_body = -1;

static expert_field ei_truncated_header = EI_INIT;
static expert_field ei_length_too_small = EI_INIT;
static expert_field ei_length_beyond = EI_INIT;
static expert_field ei_bad_version = EI_INIT;
static expert_field ei_reserved = EI_INIT;
static expert_field ei_unknown_command = EI_INIT;
static expert_field ei_flag_mismatch = EI_INIT;
static expert_field ei_digest_missing = EI_INIT;
static expert_field ei_prefix_truncated = EI_INIT;
static expert_field ei_crc_bad = EI_INIT;
static expert_field ei_file_length = EI_INIT;

static dissector_handle_t wmmp_udp_handle;
static dissector_handle_t wmmp_tcp_handle;
static wmmp_pref_bool pref_desegment = true;

static int *const safe_flag_bits[] = {
    &hf_safe_flag_security, &hf_safe_flag_encryption, &hf_safe_flag_digest, &hf_safe_flag_enc_or_frag,
    &hf_safe_flag_reserved, NULL
};

static void format_version(char *buf, uint32_t v)
{
    snprintf(buf, ITEM_LABEL_LENGTH, "%u.%u (0x%04x)", v >> 8, v & 0xFF, v);
}

/* Position of the next message in this frame (several may share a TCP segment or a datagram). */
static unsigned next_message_index(packet_info *pinfo)
{
    unsigned count = GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_wmmp, WMMP_KEY_MSG_COUNT));
    p_add_proto_data(pinfo->pool, pinfo, proto_wmmp, WMMP_KEY_MSG_COUNT, GUINT_TO_POINTER(count + 1));
    return count;
}

static void dissect_tlvs_after(tvbuff_t *tvb, int offset, int end, packet_info *pinfo, proto_tree *tree,
                               wmmp_dissect_state *st)
{
    if (end > offset)
        wmmp_dissect_tlvs(tvb, offset, end - offset, pinfo, tree, st);
}

/* The result byte that starts most ACKs. */
static int dissect_result(tvbuff_t *tvb, int offset, proto_tree *tree, packet_info *pinfo, wmmp_dissect_state *st)
{
    uint32_t result;
    proto_tree_add_item_ret_uint(tree, hf_result, tvb, offset, 1, ENC_BIG_ENDIAN, &result);
    st->ctx->has_result = true;
    st->ctx->result = (uint8_t)result;
    col_append_fstr(pinfo->cinfo, COL_INFO, " result=%s", val_to_str_const(result, wmmp_result_vals, "Unknown"));
    /* An error ACK lists the rejected tags, each with length 0. */
    st->tag_list_context = result != 0;
    return offset + 1;
}

/* CRC-16 of the user data of TRANSPARENT_DATA / TRANSPARENT_CMD: found in the 0x4007 TLV. */
static void check_transparent_crc(tvbuff_t *tvb, uint32_t crc, int crc_offset, int tlv_offset, int end,
                                  packet_info *pinfo, proto_tree *tree, wmmp_dissect_state *st)
{
    int off = tlv_offset;
    while (end - off >= 4) {
        uint16_t tag = tvb_get_ntohs(tvb, off);
        uint16_t len = tvb_get_ntohs(tvb, off + 2);
        if (len > end - off - 4)
            break;
        if (tag == WMMP_TAG_USER_DATA) {
            uint16_t computed = wmmp_crc16(tvb_get_ptr(tvb, off + 4, len), len);
            proto_item *pi = proto_tree_add_uint(tree, hf_crc16_status, tvb, crc_offset, 2,
                                                 computed == crc ? PROTO_CHECKSUM_E_GOOD : PROTO_CHECKSUM_E_BAD);
            proto_item_set_generated(pi);
            if (computed != crc) {
                expert_add_info_format(pinfo, pi, &ei_crc_bad, "CRC-16 0x%04x does not match the user data (0x%04x)",
                                       crc, computed);
                st->bad_crc = true;
            }
            return;
        }
        off += 4 + len;
    }
}

static int dissect_file_req_ack(tvbuff_t *tvb, int offset, int end, packet_info *pinfo, proto_tree *tree,
                                wmmp_dissect_state *st)
{
    uint32_t transaction, status, crc, file_offset, block_len;
    proto_tree_add_item_ret_uint(tree, hf_file_transaction, tvb, offset, 4, ENC_BIG_ENDIAN, &transaction);
    proto_tree_add_item_ret_uint(tree, hf_file_status, tvb, offset + 4, 1, ENC_BIG_ENDIAN, &status);
    proto_item *crc_item = proto_tree_add_item_ret_uint(tree, hf_crc16, tvb, offset + 5, 2, ENC_BIG_ENDIAN, &crc);
    proto_tree_add_item_ret_uint(tree, hf_file_offset, tvb, offset + 7, 4, ENC_BIG_ENDIAN, &file_offset);
    proto_item *len_item = proto_tree_add_item_ret_uint(tree, hf_file_length, tvb, offset + 11, 2, ENC_BIG_ENDIAN,
                                                        &block_len);
    col_append_fstr(pinfo->cinfo, COL_INFO, " offset=%u length=%u", file_offset, block_len);
    offset += 13;
    if (block_len > (uint32_t)(end - offset)) {
        expert_add_info_format(pinfo, len_item, &ei_file_length, "Block length %u exceeds the %d bytes left",
                               block_len, end - offset);
        st->ctx->malformed = true;
        block_len = (uint32_t)(end - offset);
    }
    if (block_len > 0)
        proto_tree_add_item(tree, hf_file_data, tvb, offset, block_len, ENC_NA);
    uint16_t computed = wmmp_crc16(tvb_get_ptr(tvb, offset, (int)block_len), block_len);
    proto_item *pi = proto_tree_add_uint(tree, hf_crc16_status, tvb, offset - 8, 2,
                                         computed == crc ? PROTO_CHECKSUM_E_GOOD : PROTO_CHECKSUM_E_BAD);
    proto_item_set_generated(pi);
    if (computed != crc) {
        expert_add_info_format(pinfo, crc_item, &ei_crc_bad, "CRC-16 0x%04x does not match the block (0x%04x)",
                               crc, computed);
        st->bad_crc = true;
    }
    if (st->eo && !wmmp_export_admit_block(pinfo, len_item, st->msg_index, st->ctx->terminal, file_offset,
                                           (uint16_t)block_len))
        st->eo_refused = true;
    if (st->eo) {
        st->eo->kind = WMMP_EO_FILE_BLOCK;
        st->eo->status = (uint8_t)status;
        st->eo->offset = file_offset;
        st->eo->block_length = (uint16_t)block_len;
        st->eo->data = tvb_memdup(pinfo->pool, tvb, offset, block_len);
        st->eo->transaction_id = transaction;
        st->eo->has_transaction = true;
    }
    return offset + (int)block_len;
}

/* The fixed prefix of profile section 5; returns where the TLVs start, or -1 when the body is too short. */
static int dissect_prefix(tvbuff_t *tvb, int offset, int end, packet_info *pinfo, proto_tree *tree,
                          wmmp_dissect_state *st)
{
    uint16_t cmd = st->ctx->command_id;
    int need = wmmp_command_prefix_len(cmd);
    if (need <= 0)
        return offset;
    if (end - offset < need) {
        proto_tree_add_expert_format(tree, pinfo, &ei_prefix_truncated, tvb, offset, end - offset,
                                     "%s needs a %d-byte prefix; the body has %d bytes",
                                     wmmp_command_name(cmd), need, end - offset);
        st->ctx->malformed = true;
        return -1;
    }
    switch (cmd) {
    case WMMP_CMD_LOGIN:
        proto_tree_add_item(tree, hf_login_software_version, tvb, offset, 8, ENC_ASCII);
        proto_tree_add_item(tree, hf_login_sync_crc, tvb, offset + 8, 4, ENC_BIG_ENDIAN);
        return offset + 12;
    case WMMP_CMD_LOGIN | WMMP_ACK_BIT:
        dissect_result(tvb, offset, tree, pinfo, st);
        st->tag_list_context = false;
        proto_tree_add_item(tree, hf_login_timestamp, tvb, offset + 1, 4, ENC_TIME_SECS | ENC_BIG_ENDIAN);
        wmmp_security_login_ack(pinfo, st, st->ctx->result, tvb_get_ntohl(tvb, offset + 1));
        return offset + 5;
    case WMMP_CMD_LOGOUT: {
        uint32_t reason;
        proto_tree_add_item_ret_uint(tree, hf_logout_reason, tvb, offset, 1, ENC_BIG_ENDIAN, &reason);
        col_append_fstr(pinfo->cinfo, COL_INFO, " reason=%s",
                        val_to_str_const(reason, wmmp_logout_reason_vals, "Unknown"));
        return offset + 1;
    }
    case WMMP_CMD_TRANSPARENT_DATA:
    case WMMP_CMD_TRANSPARENT_CMD: {
        uint32_t crc;
        proto_tree_add_item_ret_uint(tree, hf_crc16, tvb, offset, 2, ENC_BIG_ENDIAN, &crc);
        check_transparent_crc(tvb, crc, offset, offset + 2, end, pinfo, tree, st);
        return offset + 2;
    }
    case WMMP_CMD_REGISTER:
        proto_tree_add_item(tree, hf_register_operation, tvb, offset, 1, ENC_BIG_ENDIAN);
        proto_tree_add_item(tree, wmmp_tlv_field(WMMP_TAG_IMEI), tvb, offset + 1, 16, ENC_ASCII);
        proto_tree_add_item(tree, wmmp_tlv_field(WMMP_TAG_IMSI), tvb, offset + 17, 15, ENC_ASCII);
        return offset + 32;
    case WMMP_CMD_REGISTER | WMMP_ACK_BIT:
        dissect_result(tvb, offset, tree, pinfo, st);
        proto_tree_add_item(tree, hf_register_serial, tvb, offset + 1, 16, ENC_ASCII);
        return offset + 17;
    case WMMP_CMD_FILE_REQ: {
        uint32_t file_offset;
        proto_tree_add_item(tree, hf_file_transaction, tvb, offset, 4, ENC_BIG_ENDIAN);
        proto_tree_add_item(tree, hf_file_status, tvb, offset + 4, 1, ENC_BIG_ENDIAN);
        proto_tree_add_item_ret_uint(tree, hf_file_offset, tvb, offset + 5, 4, ENC_BIG_ENDIAN, &file_offset);
        proto_tree_add_item(tree, hf_file_block_size, tvb, offset + 9, 2, ENC_BIG_ENDIAN);
        col_append_fstr(pinfo->cinfo, COL_INFO, " offset=%u", file_offset);
        return offset + 11;
    }
    case WMMP_CMD_FILE_REQ | WMMP_ACK_BIT:
        return dissect_file_req_ack(tvb, offset, end, pinfo, tree, st);
    case WMMP_CMD_SECURITY_CONFIG:
        proto_tree_add_item(tree, hf_security_operation, tvb, offset, 1, ENC_BIG_ENDIAN);
        return offset + 1;
    default:
        if (need == 1 && wmmp_is_ack(cmd))
            return dissect_result(tvb, offset, tree, pinfo, st);
        /* No other prefix is declared; a new .def entry needs a case here. */
        return offset + need;
    }
}

static bool is_fragment_part_body(uint8_t flag, tvbuff_t *tvb, int offset, int len)
{
    /* Bit 0x10 without ENCRYPTION marks a part; its body is one 0x4008 TLV (profile section 8). */
    return (flag & WMMP_FLAG_ENCRYPTED_OR_FRAGMENT) && !(flag & WMMP_FLAG_ENCRYPTION) && len >= 4 &&
           tvb_get_ntohs(tvb, offset) == WMMP_TAG_FRAGMENT && tvb_get_ntohs(tvb, offset + 2) == len - 4;
}

/* The body dissector (st->dissect_body): also called back by the TLV code for decrypted and reassembled bodies. */
static void dissect_body(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                         wmmp_dissect_state *st)
{
    int end = offset + len;
    uint16_t cmd = st->ctx->command_id;
    /* Requests that ask for values list tags with length 0. */
    st->tag_list_context = cmd == WMMP_CMD_CONFIG_GET || cmd == WMMP_CMD_CONFIG_REQ;
    if (len <= 0)
        return;
    /* A fully encrypted body (one 0xE042) and fragment parts have no clear prefix. */
    if (len >= 4 && tvb_get_ntohs(tvb, offset) == WMMP_TAG_ENCRYPTED_BODY &&
        tvb_get_ntohs(tvb, offset + 2) == len - 4) {
        wmmp_dissect_tlvs(tvb, offset, len, pinfo, tree, st);
        return;
    }
    if (st->ctx->fragment_control || is_fragment_part_body(st->ctx->safe_flag, tvb, offset, len)) {
        wmmp_dissect_tlvs(tvb, offset, len, pinfo, tree, st);
        return;
    }
    int tlvs = dissect_prefix(tvb, offset, end, pinfo, tree, st);
    if (tlvs < 0)
        return;
    if (cmd == WMMP_CMD_DOWNLOAD_INFO)
        st->is_download_info = true;
    dissect_tlvs_after(tvb, tlvs, end, pinfo, tree, st);
}

/* Classifies the message with the codec (one definition of the profile's class and mismatch rules). */
static void add_class(tvbuff_t *tvb, int msg_len, int body_end, bool has_digest, packet_info *pinfo,
                      proto_tree *tree, wmmp_msg_ctx *ctx)
{
    wmmp_message m;
    memset(&m, 0, sizeof m);
    const uint8_t *bytes = tvb_get_ptr(tvb, 0, msg_len);
    wmmp_header_decode(bytes, (size_t)msg_len, &m.hdr);
    m.msg = bytes;
    m.body = bytes + WMMP_HEADER_LEN;
    m.body_len = (size_t)(body_end - WMMP_HEADER_LEN);
    m.digest = has_digest ? bytes + body_end + 4 : NULL;
    wmmp_msg_class cls;
    wmmp_err err = wmmp_message_classify(&m, &cls);
    proto_item *pi = proto_tree_add_uint(tree, hf_class, tvb, 10, 1, cls);
    proto_item_set_generated(pi);
    ctx->msg_class = cls;
    if (err == WMMP_ERR_FLAG_CONTENT_MISMATCH) {
        expert_add_info(pinfo, pi, &ei_flag_mismatch);
        ctx->malformed = true;
    }
}

/* What went wrong with the message, at the end of its Info: " [MALFORMED]", " [BAD CRC-16]",
   " [UNDECRYPTED: why]" (" [BAD DIGEST]" and " [Retransmission]" come before, from their own files). */
static void append_problems_info(packet_info *pinfo, const wmmp_dissect_state *st)
{
    if (st->ctx->malformed)
        col_append_str(pinfo->cinfo, COL_INFO, " [MALFORMED]");
    if (st->bad_crc)
        col_append_str(pinfo->cinfo, COL_INFO, " [BAD CRC-16]");
    switch (st->undecrypted) {
    case WMMP_UNDECRYPTED_NO_KEYS:
        col_append_str(pinfo->cinfo, COL_INFO, " [UNDECRYPTED: wmmp_keys empty]");
        break;
    case WMMP_UNDECRYPTED_NO_TERMINAL:
        col_append_str(pinfo->cinfo, COL_INFO, " [UNDECRYPTED: terminal not in wmmp_keys]");
        break;
    case WMMP_UNDECRYPTED_NO_SESSION_KEY:
        col_append_str(pinfo->cinfo, COL_INFO, " [UNDECRYPTED: session key unknown]");
        break;
    default:
        break;
    }
}

static void queue_taps(packet_info *pinfo, wmmp_dissect_state *st)
{
    if (have_tap_listener(wmmp_tap))
        tap_queue_packet(wmmp_tap, pinfo, st->ctx);
    if (wmmp_eo_tap >= 0 && st->eo && have_tap_listener(wmmp_eo_tap)) {
        if (st->is_download_info || (st->eo->kind == WMMP_EO_FILE_BLOCK && !st->eo_refused))
            tap_queue_packet(wmmp_eo_tap, pinfo, st->eo);
    }
}

/* One whole message, tvb[0, tvb length); Total_Length may say more or less. */
static int dissect_wmmp_message(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree)
{
    int avail = tvb_reported_length(tvb);
    unsigned msg_index = next_message_index(pinfo);
    col_set_str(pinfo->cinfo, COL_PROTOCOL, "WMMP");
    if (msg_index == 0)
        col_clear(pinfo->cinfo, COL_INFO);
    else
        col_append_str(pinfo->cinfo, COL_INFO, " | ");

    proto_item *ti = proto_tree_add_item(tree, proto_wmmp, tvb, 0, -1, ENC_NA);
    proto_tree *wmmp_tree = proto_item_add_subtree(ti, ett_wmmp);
    if (avail < WMMP_HEADER_LEN || tvb_captured_length(tvb) < WMMP_HEADER_LEN) {
        col_append_str(pinfo->cinfo, COL_INFO, "Truncated WMMP header [MALFORMED]");
        proto_tree_add_expert_format(wmmp_tree, pinfo, &ei_truncated_header, tvb, 0, -1,
                                     "Truncated header: %d bytes, 28 needed", avail);
        return avail;
    }

    /* Header */
    uint32_t total, cmd, seq, version, flag, reserved;
    proto_tree *htree = proto_tree_add_subtree(wmmp_tree, tvb, 0, WMMP_HEADER_LEN, ett_header, NULL, "Header");
    proto_item *len_item = proto_tree_add_item_ret_uint(htree, hf_length, tvb, 0, 2, ENC_BIG_ENDIAN, &total);
    proto_item *cmd_item = proto_tree_add_item_ret_uint(htree, hf_command, tvb, 2, 2, ENC_BIG_ENDIAN, &cmd);
    proto_tree_add_item_ret_uint(htree, hf_sequence, tvb, 4, 4, ENC_BIG_ENDIAN, &seq);
    proto_item *ver_item = proto_tree_add_item_ret_uint(htree, hf_version, tvb, 8, 2, ENC_BIG_ENDIAN, &version);
    uint64_t flag_bits;
    proto_tree_add_bitmask_ret_uint64(htree, tvb, 10, hf_safe_flag, ett_safe_flag, safe_flag_bits, ENC_BIG_ENDIAN,
                                      &flag_bits);
    flag = (uint32_t)flag_bits;
    proto_item *res_item = proto_tree_add_item_ret_uint(htree, hf_reserved, tvb, 11, 1, ENC_BIG_ENDIAN, &reserved);
    proto_tree_add_item(htree, hf_terminal_id, tvb, 12, 16, ENC_ASCII);
    if (!wmmp_command_lookup((uint16_t)cmd))
        expert_add_info(pinfo, cmd_item, &ei_unknown_command);
    if ((version >> 8) != 2 && (version >> 8) != 3)
        expert_add_info(pinfo, ver_item, &ei_bad_version);
    if (reserved != 0)
        expert_add_info(pinfo, res_item, &ei_reserved);

    wmmp_msg_ctx *ctx = wmem_new0(pinfo->pool, wmmp_msg_ctx);
    wmmp_dissect_state *st = wmem_new0(pinfo->pool, wmmp_dissect_state);
    ctx->command_id = (uint16_t)cmd;
    ctx->sequence = seq;
    ctx->safe_flag = (uint8_t)flag;
    tvb_memcpy(tvb, st->serial, 12, 16);
    char serial[17];
    wmmp_serial_str(st->serial, serial);
    for (int i = 0; serial[i]; i++)
        if (!g_ascii_isprint(serial[i]))
            serial[i] = '?';
    ctx->terminal = wmem_strdup(pinfo->pool, serial);
    st->ctx = ctx;
    st->dissect_body = dissect_body;
    st->msg_index = msg_index;
    if (cmd == WMMP_CMD_DOWNLOAD_INFO || cmd == (WMMP_CMD_FILE_REQ | WMMP_ACK_BIT)) {
        st->eo = wmem_new0(pinfo->pool, wmmp_eo_info);
        st->eo->terminal = ctx->terminal;
    }

    col_append_fstr(pinfo->cinfo, COL_INFO, "%s seq=%u %s", wmmp_command_name((uint16_t)cmd), seq,
                    serial[0] ? serial : "(unregistered)");
    proto_item_append_text(ti, ", %s, Seq: %u", wmmp_command_name((uint16_t)cmd), seq);

    int msg_len = (int)total;
    if (total < WMMP_HEADER_LEN) {
        expert_add_info_format(pinfo, len_item, &ei_length_too_small, "Total_Length %u is below the 28-byte header",
                               total);
        ctx->malformed = true;
        msg_len = WMMP_HEADER_LEN;
    } else if ((int)total > avail) {
        expert_add_info_format(pinfo, len_item, &ei_length_beyond, "Total_Length %u exceeds the %d bytes available",
                               total, avail);
        ctx->malformed = true;
        msg_len = avail;
    }
    proto_item_set_len(ti, msg_len);
    if ((unsigned)msg_len > tvb_captured_length(tvb))
        msg_len = tvb_captured_length(tvb); /* snapped capture: dissect what is there */

    /* Where the body ends: before the digest TLV when DIGEST is set and it is there. */
    int body_end = msg_len;
    bool has_digest = false;
    if (flag & WMMP_FLAG_DIGEST) {
        if (msg_len >= WMMP_HEADER_LEN + WMMP_DIGEST_TLV_LEN &&
            tvb_get_ntohs(tvb, msg_len - 20) == WMMP_TAG_DIGEST && tvb_get_ntohs(tvb, msg_len - 18) == 16) {
            has_digest = true;
            body_end = msg_len - WMMP_DIGEST_TLV_LEN;
        } else {
            proto_tree_add_expert(wmmp_tree, pinfo, &ei_digest_missing, tvb, 10, 1);
            ctx->malformed = true;
        }
    }
    st->has_digest = has_digest;
    int body_len = body_end - WMMP_HEADER_LEN;
    ctx->fragment_control = body_len > 0 &&
                            wmmp_is_fragment_control(flag, tvb_get_ptr(tvb, WMMP_HEADER_LEN, body_len), (size_t)body_len);
    add_class(tvb, msg_len, body_end, has_digest, pinfo, htree, ctx);
    if (ctx->fragment_control) {
        proto_item *pi = proto_tree_add_boolean(wmmp_tree, hf_fragment_control, tvb, WMMP_HEADER_LEN, body_len, true);
        proto_item_set_generated(pi);
    }

    if (body_len > 0) {
        proto_tree *btree = proto_tree_add_subtree(wmmp_tree, tvb, WMMP_HEADER_LEN, body_len, ett_body, NULL, "Body");
        dissect_body(tvb, WMMP_HEADER_LEN, body_len, pinfo, btree, st);
        wmmp_tlv_append_info(pinfo, st);
    }
    if (has_digest) {
        wmmp_dissect_tlvs(tvb, body_end, WMMP_DIGEST_TLV_LEN, pinfo, wmmp_tree, st);
        wmmp_security_digest(tvb, body_end, msg_len, pinfo, wmmp_tree, st);
    }

    wmmp_track_message(tvb, pinfo, wmmp_tree, ctx);
    append_problems_info(pinfo, st);
    queue_taps(pinfo, st);
    return msg_len;
}

/* UDP: one datagram may hold several messages back to back; each is framed by its Total_Length. */
static int dissect_wmmp_udp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    int offset = 0;
    int len = tvb_reported_length(tvb);
    while (offset < len) {
        int left = len - offset;
        int msg_len = left;
        if (left >= WMMP_HEADER_LEN && tvb_bytes_exist(tvb, offset, 2)) {
            uint16_t total = tvb_get_ntohs(tvb, offset);
            if (total >= WMMP_HEADER_LEN && total < left)
                msg_len = total;
        }
        tvbuff_t *msg = tvb_new_subset_length(tvb, offset, msg_len);
        dissect_wmmp_message(msg, pinfo, tree);
        offset += msg_len;
    }
    return len;
}

static unsigned get_wmmp_pdu_len(packet_info *pinfo _U_, tvbuff_t *tvb, int offset, void *data _U_)
{
    unsigned total = tvb_get_ntohs(tvb, offset);
    /* A length below the header cannot frame the stream: show the header as one malformed message. */
    return total < WMMP_HEADER_LEN ? WMMP_HEADER_LEN : total;
}

static int dissect_wmmp_tcp_pdu(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    return dissect_wmmp_message(tvb, pinfo, tree);
}

static int dissect_wmmp_tcp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    tcp_dissect_pdus(tvb, pinfo, tree, pref_desegment, 2, get_wmmp_pdu_len, dissect_wmmp_tcp_pdu, data);
    return tvb_reported_length(tvb);
}

static bool looks_like_wmmp(tvbuff_t *tvb, unsigned available)
{
    if (tvb_captured_length(tvb) < WMMP_HEADER_LEN)
        return false;
    return wmmp_header_plausible(tvb_get_ptr(tvb, 0, WMMP_HEADER_LEN), available) != 0;
}

static wmmp_heur_bool dissect_wmmp_heur_udp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    if (!looks_like_wmmp(tvb, tvb_reported_length(tvb)))
        return false;
    dissect_wmmp_udp(tvb, pinfo, tree, data);
    return true;
}

static wmmp_heur_bool dissect_wmmp_heur_tcp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    /* A TCP segment may hold only the start of a message: any length up to the 16-bit maximum is plausible. */
    if (!looks_like_wmmp(tvb, WMMP_MAX_MESSAGE))
        return false;
    conversation_t *conv = find_or_create_conversation(pinfo);
    conversation_set_dissector(conv, wmmp_tcp_handle);
    dissect_wmmp_tcp(tvb, pinfo, tree, data);
    return true;
}

void proto_register_wmmp(void)
{
    static hf_register_info hf[] = {
        { &hf_length, { "Total length", "wmmp.length", FT_UINT16, BASE_DEC, NULL, 0,
                        "Whole message: header, body and digest", HFILL } },
        { &hf_command, { "Command", "wmmp.command", FT_UINT16, BASE_HEX, VALS(wmmp_command_vals), 0,
                         "Command_ID; bit 15 set for an ACK", HFILL } },
        { &hf_sequence, { "Sequence", "wmmp.sequence", FT_UINT32, BASE_DEC, NULL, 0,
                          "Sequence_ID chosen by the requester and echoed by the ACK", HFILL } },
        { &hf_version, { "Protocol version", "wmmp.version", FT_UINT16, BASE_CUSTOM, CF_FUNC(format_version), 0,
                         NULL, HFILL } },
        { &hf_safe_flag, { "Safe flag", "wmmp.safe_flag", FT_UINT8, BASE_HEX, NULL, 0, NULL, HFILL } },
        { &hf_safe_flag_security, { "Security", "wmmp.safe_flag.security", FT_BOOLEAN, 8, NULL,
                                    WMMP_FLAG_SECURITY, "Security mechanism in use", HFILL } },
        { &hf_safe_flag_encryption, { "Encryption", "wmmp.safe_flag.encryption", FT_BOOLEAN, 8, NULL,
                                      WMMP_FLAG_ENCRYPTION, "Encryption enabled for this session", HFILL } },
        { &hf_safe_flag_digest, { "Digest", "wmmp.safe_flag.digest", FT_BOOLEAN, 8, NULL, WMMP_FLAG_DIGEST,
                                  "The body ends with the 0xE021 digest TLV", HFILL } },
        { &hf_safe_flag_enc_or_frag, { "Encrypted or fragment", "wmmp.safe_flag.encrypted_or_fragment",
                                       FT_BOOLEAN, 8, NULL, WMMP_FLAG_ENCRYPTED_OR_FRAGMENT,
                                       "Body encrypted (with the encryption bit) or one part of a fragmented message",
                                       HFILL } },
        { &hf_safe_flag_reserved, { "Reserved bits", "wmmp.safe_flag.reserved", FT_UINT8, BASE_HEX, NULL,
                                    WMMP_FLAG_RESERVED_MASK, NULL, HFILL } },
        { &hf_reserved, { "Reserved", "wmmp.reserved", FT_UINT8, BASE_HEX, NULL, 0, NULL, HFILL } },
        { &hf_terminal_id, { "Terminal serial", "wmmp.terminal_id", FT_STRINGZPAD, BASE_NONE, NULL, 0,
                             "Terminal_Serial; all zero before registration", HFILL } },
        { &hf_class, { "Message class", "wmmp.class", FT_UINT8, BASE_DEC, VALS(wmmp_class_vals), 0,
                       "Derived from Safe_Flag and content (profile section 3)", HFILL } },
        { &hf_result, { "Result", "wmmp.result", FT_UINT8, BASE_DEC, VALS(wmmp_result_vals), 0, NULL, HFILL } },
        { &hf_logout_reason, { "Logout reason", "wmmp.logout.reason", FT_UINT8, BASE_HEX,
                               VALS(wmmp_logout_reason_vals), 0, NULL, HFILL } },
        { &hf_login_software_version, { "Software version", "wmmp.login.software_version", FT_STRINGZPAD,
                                        BASE_NONE, NULL, 0, NULL, HFILL } },
        { &hf_login_sync_crc, { "Sync TLVs CRC-32", "wmmp.login.sync_crc", FT_UINT32, BASE_HEX, NULL, 0,
                                "CRC-32 of the login sync TLVs", HFILL } },
        { &hf_login_timestamp, { "Timestamp", "wmmp.login.timestamp", FT_ABSOLUTE_TIME, ABSOLUTE_TIME_UTC, NULL,
                                 0, "The digest timestamp of the session", HFILL } },
        { &hf_register_operation, { "Operation", "wmmp.register.operation", FT_UINT8, BASE_DEC,
                                    VALS(wmmp_register_op_vals), 0, NULL, HFILL } },
        { &hf_register_serial, { "Assigned serial", "wmmp.register.serial", FT_STRINGZPAD, BASE_NONE, NULL, 0,
                                 NULL, HFILL } },
        { &hf_crc16, { "CRC-16", "wmmp.crc16", FT_UINT16, BASE_HEX, NULL, 0, "CRC-16/CCITT-false of the data",
                       HFILL } },
        { &hf_crc16_status, { "CRC-16 status", "wmmp.crc16.status", FT_UINT8, BASE_NONE, VALS(proto_checksum_vals),
                              0, "Wireshark's checksum status: Bad 0, Good 1", HFILL } },
        { &hf_file_transaction, { "Transaction ID", "wmmp.file.transaction_id", FT_UINT32, BASE_DEC, NULL, 0,
                                  NULL, HFILL } },
        { &hf_file_status, { "Status", "wmmp.file.status", FT_UINT8, BASE_DEC, VALS(wmmp_file_status_vals), 0,
                             NULL, HFILL } },
        { &hf_file_offset, { "Offset", "wmmp.file.offset", FT_UINT32, BASE_DEC, NULL, 0, NULL, HFILL } },
        { &hf_file_block_size, { "Block size", "wmmp.file.block_size", FT_UINT16, BASE_DEC, NULL, 0, NULL,
                                 HFILL } },
        { &hf_file_length, { "Length", "wmmp.file.length", FT_UINT16, BASE_DEC, NULL, 0, NULL, HFILL } },
        { &hf_file_data, { "Data", "wmmp.file.data", FT_BYTES, BASE_NONE, NULL, 0, NULL, HFILL } },
        { &hf_security_operation, { "Operation", "wmmp.security.operation", FT_UINT8, BASE_DEC, NULL, 0, NULL,
                                    HFILL } },
        { &hf_fragment_control, { "Fragment control", "wmmp.fragment_control", FT_BOOLEAN, BASE_NONE, NULL, 0,
                                  "A send-next or abort message of a fragmented transfer, not an ACK", HFILL } },
    };
    static int *ett[] = { &ett_wmmp, &ett_header, &ett_safe_flag, &ett_body };
    static ei_register_info ei[] = {
        { &ei_truncated_header, { "wmmp.header.truncated", PI_MALFORMED, PI_ERROR,
                                  "Truncated header: fewer than 28 bytes", EXPFILL } },
        { &ei_length_too_small, { "wmmp.length.too_small", PI_MALFORMED, PI_ERROR,
                                  "Total_Length below the 28-byte header", EXPFILL } },
        { &ei_length_beyond, { "wmmp.length.beyond", PI_MALFORMED, PI_ERROR,
                               "Total_Length beyond the bytes available", EXPFILL } },
        { &ei_bad_version, { "wmmp.version.unsupported", PI_PROTOCOL, PI_WARN, "Unsupported Protocol_Version",
                             EXPFILL } },
        { &ei_reserved, { "wmmp.reserved.nonzero", PI_PROTOCOL, PI_NOTE, "Reserved byte is not zero", EXPFILL } },
        { &ei_unknown_command, { "wmmp.command.unknown", PI_UNDECODED, PI_WARN, "Unknown command", EXPFILL } },
        { &ei_flag_mismatch, { "wmmp.class.mismatch", PI_MALFORMED, PI_ERROR,
                               "Safe_Flag and message content disagree", EXPFILL } },
        { &ei_digest_missing, { "wmmp.digest.missing", PI_MALFORMED, PI_ERROR,
                                "DIGEST flag set but the message does not end with the 0xE021 digest TLV",
                                EXPFILL } },
        { &ei_prefix_truncated, { "wmmp.body.truncated", PI_MALFORMED, PI_ERROR,
                                  "Body shorter than its command's fixed prefix", EXPFILL } },
        { &ei_crc_bad, { "wmmp.crc16.bad", PI_CHECKSUM, PI_ERROR, "CRC-16 does not match", EXPFILL } },
        { &ei_file_length, { "wmmp.file.length.bad", PI_MALFORMED, PI_ERROR, "Block length beyond the body",
                             EXPFILL } },
    };

    proto_wmmp = proto_register_protocol("Wireless M2M Protocol", "WMMP", "wmmp");
    proto_register_field_array(proto_wmmp, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_module_t *expert = expert_register_protocol(proto_wmmp);
    expert_register_field_array(expert, ei, array_length(ei));

    module_t *module = prefs_register_protocol(proto_wmmp, NULL);
    prefs_register_bool_preference(module, "desegment", "Reassemble WMMP messages spanning TCP segments",
                                   "Needs TCP's \"Allow subdissectors to reassemble TCP streams\"", &pref_desegment);

    wmmp_udp_handle = register_dissector("wmmp.udp", dissect_wmmp_udp, proto_wmmp);
    wmmp_tcp_handle = register_dissector("wmmp.tcp", dissect_wmmp_tcp, proto_wmmp);
    wmmp_tap = register_tap("wmmp");

    wmmp_tlv_register(module);
    wmmp_security_register(module);
    wmmp_fragment_register(module);
    wmmp_tracking_register(module);
    wmmp_register_stats();
    wmmp_register_export_objects(proto_wmmp, module);
}

void proto_reg_handoff_wmmp(void)
{
    dissector_add_uint_with_preference("udp.port", WMMP_DEFAULT_UDP_PORT, wmmp_udp_handle);
    dissector_add_uint_with_preference("tcp.port", WMMP_DEFAULT_TCP_PORT, wmmp_tcp_handle);
    heur_dissector_add("udp", dissect_wmmp_heur_udp, "WMMP over UDP", "wmmp_udp", proto_wmmp, HEURISTIC_ENABLE);
    heur_dissector_add("tcp", dissect_wmmp_heur_tcp, "WMMP over TCP", "wmmp_tcp", proto_wmmp, HEURISTIC_ENABLE);
}
