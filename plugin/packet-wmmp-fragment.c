/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-fragment.c: the 0x4008 fragment TLV and the reassembly of fragmented bodies (profile section 8).
 * Parts are joined with Wireshark's reassembly tables, keyed by addresses, ports, command and
 * transaction ID; the whole body is dissected in the frame of the last part.
 *
 * Against hostile captures (docs/SECURITY.md, "Plugin"):
 * - a 0x4008 TLV inside a reassembled body is shown but never reassembled again (a body could otherwise
 *   reassemble into itself without end: issue 13, item 1);
 * - a part is not added to a transfer in progress when it repeats a part number with other bytes, announces
 *   another total, or is unsigned while the transfer's first part was signed (item 8): the transfer goes on;
 * - one transfer holds at most WMMP_FRAGMENT_MAX_BODY bytes, all transfers in progress together at most the
 *   "reassembly_max_mb" preference; a part beyond is not added.
 * Each refusal is an expert item; the decision is taken on the first pass and kept for every later one.
 */
#include <wireshark.h>

#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <epan/reassemble.h>

#include "packet-wmmp.h"
#include "packet-wmmp-fragment.h"
#include "packet-wmmp-vals.h"
#include "wmmp_fragment.h"
#include "wmmp_tables.h"

static int hf_transaction = -1;
static int hf_total = -1;
static int hf_part = -1;
static int hf_operation = -1;
static int hf_data = -1;

static int hf_fragments = -1;
static int hf_fragment = -1;
static int hf_fragment_overlap = -1;
static int hf_fragment_overlap_conflicts = -1;
static int hf_fragment_multiple_tails = -1;
static int hf_fragment_too_long = -1;
static int hf_fragment_error = -1;
static int hf_fragment_count = -1;
static int hf_reassembled_in = -1;
static int hf_reassembled_length = -1;
static int hf_reassembled_data = -1;

static int ett_fragment = -1;
static int ett_fragments = -1;

static expert_field ei_fragment_truncated = EI_INIT;
static expert_field ei_fragment_number = EI_INIT;
static expert_field ei_fragment_abort = EI_INIT;
static expert_field ei_fragment_nested = EI_INIT;
static expert_field ei_fragment_refused = EI_INIT;
static expert_field ei_fragment_cap = EI_INIT;

static reassembly_table wmmp_reassembly_table;

/* All transfers in progress together hold at most this many MiB (preference wmmp.reassembly_max_mb). */
#define WMMP_REASSEMBLY_MAX_MB_DEFAULT 64
static unsigned pref_reassembly_max_mb = WMMP_REASSEMBLY_MAX_MB_DEFAULT;

/* What the plugin knows of a transfer in progress, by its fragment_head (file scope). */
typedef struct {
    uint32_t first_frame; /* the frame of its first part */
    uint32_t bytes;       /* data added so far */
    uint16_t total;       /* parts announced by its first part */
    bool is_signed;       /* its first part carried a digest */
} wmmp_transfer;

/* The first pass's refusal of a part, by {frame, message, fragment TLV of the message} (file scope). */
typedef struct {
    expert_field *ei;
    const char *reason;   /* file scope */
} wmmp_refusal;

static wmem_map_t *transfers;  /* fragment_head * -> wmmp_transfer */
static wmem_tree_t *refusals;  /* {frame, msg_index, nth} -> wmmp_refusal */
static uint64_t bytes_in_progress;

/* p_add_proto_data key (packet pool): fragment TLVs of this frame's messages seen so far. */
#define WMMP_FRAGMENT_KEY_COUNTER 201

static void fragment_init(void)
{
    transfers = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    refusals = wmem_tree_new(wmem_file_scope());
    bytes_in_progress = 0;
}

/* First pass: why this part must not join the transfer in progress (NULL: it may). */
static const char *refuse_part(tvbuff_t *tvb, int offset, packet_info *pinfo, const wmmp_fragment *f,
                               const wmmp_dissect_state *st, fragment_head *head, const wmmp_transfer *tr,
                               expert_field **ei)
{
    *ei = &ei_fragment_refused;
    if (head && tr && !(head->flags & FD_DEFRAGMENTED)) {
        if (tr->is_signed && !st->has_digest)
            return wmem_strdup_printf(wmem_file_scope(), "Unsigned part %u of signed transfer %u (first part in "
                                      "frame %u): not reassembled", f->number, f->transaction_id, tr->first_frame);
        if (f->total != tr->total)
            return wmem_strdup_printf(wmem_file_scope(), "Part %u announces %u parts, transfer %u has %u (frame %u): "
                                      "not reassembled", f->number, f->total, f->transaction_id, tr->total,
                                      tr->first_frame);
        for (fragment_item *fd = head->next; fd; fd = fd->next) {
            if (fd->offset != (uint32_t)(f->number - 1u) || fd->frame == pinfo->num)
                continue;
            if (fd->len != f->data_len || !fd->tvb_data ||
                tvb_memeql(fd->tvb_data, 0, tvb_get_ptr(tvb, offset, (int)f->data_len), f->data_len) != 0)
                return wmem_strdup_printf(wmem_file_scope(), "Part %u of transfer %u differs from the one in "
                                          "frame %u: not reassembled", f->number, f->transaction_id, fd->frame);
            break; /* the same bytes again: a retransmission, which the reassembly accepts */
        }
        if (tr->bytes + f->data_len > WMMP_FRAGMENT_MAX_BODY) {
            *ei = &ei_fragment_cap;
            return wmem_strdup_printf(wmem_file_scope(), "Transfer %u would exceed %u bytes, the largest body: "
                                      "part %u not reassembled", f->transaction_id, WMMP_FRAGMENT_MAX_BODY, f->number);
        }
    }
    if (bytes_in_progress + f->data_len > (uint64_t)pref_reassembly_max_mb * 1024 * 1024) {
        *ei = &ei_fragment_cap;
        return wmem_strdup_printf(wmem_file_scope(), "Reassembly limit of %u MiB in transfers in progress reached "
                                  "(preference wmmp.reassembly_max_mb): part %u of transfer %u not reassembled",
                                  pref_reassembly_max_mb, f->number, f->transaction_id);
    }
    return NULL;
}

static const fragment_items wmmp_fragment_items = {
    &ett_fragment, &ett_fragments, &hf_fragments, &hf_fragment, &hf_fragment_overlap,
    &hf_fragment_overlap_conflicts, &hf_fragment_multiple_tails, &hf_fragment_too_long, &hf_fragment_error,
    &hf_fragment_count, &hf_reassembled_in, &hf_reassembled_length, &hf_reassembled_data, "WMMP fragments"
};

tvbuff_t *wmmp_fragment_dissect(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                                wmmp_dissect_state *st)
{
    if (len < WMMP_FRAGMENT_HEADER_LEN) {
        proto_tree_add_expert_format(tree, pinfo, &ei_fragment_truncated, tvb, offset, len,
                                     "Fragment TLV of %d bytes: its header needs 7", len);
        st->ctx->malformed = true;
        return NULL;
    }
    wmmp_fragment f;
    wmmp_err err = wmmp_fragment_decode(tvb_get_ptr(tvb, offset, len), (size_t)len, &f);
    proto_tree_add_item(tree, hf_transaction, tvb, offset, 2, ENC_BIG_ENDIAN);
    proto_tree_add_item(tree, hf_total, tvb, offset + 2, 2, ENC_BIG_ENDIAN);
    proto_item *part_item = proto_tree_add_item(tree, hf_part, tvb, offset + 4, 2, ENC_BIG_ENDIAN);
    proto_item *op_item = proto_tree_add_item(tree, hf_operation, tvb, offset + 6, 1, ENC_BIG_ENDIAN);
    if (f.data_len > 0)
        proto_tree_add_item(tree, hf_data, tvb, offset + 7, len - 7, ENC_NA);

    wmmp_msg_ctx *ctx = st->ctx;
    ctx->fragment_transaction = f.transaction_id;
    ctx->fragment_total = f.total;
    ctx->fragment_number = f.number;
    if (err == WMMP_ERR_FRAGMENT_BAD_NUMBER) {
        expert_add_info_format(pinfo, part_item, &ei_fragment_number, "Part %u of %u is not a valid part number",
                               f.number, f.total);
        ctx->malformed = true;
        return NULL;
    }
    if (f.operation != WMMP_FRAGMENT_OP_DATA) {
        const char *op = val_to_str_const(f.operation, wmmp_fragment_op_vals, "Unknown operation");
        if (f.operation == WMMP_FRAGMENT_OP_SEND_NEXT)
            col_append_fstr(pinfo->cinfo, COL_INFO, " [send part %u/%u]", f.number, f.total);
        else
            col_append_fstr(pinfo->cinfo, COL_INFO, " [%s]", op);
        if (f.operation == WMMP_FRAGMENT_OP_RECEIVER_ABORT || f.operation == WMMP_FRAGMENT_OP_SENDER_ABORT)
            expert_add_info_format(pinfo, op_item, &ei_fragment_abort, "%s of transfer %u", op, f.transaction_id);
        return NULL;
    }

    ctx->fragment_part = true;
    col_append_fstr(pinfo->cinfo, COL_INFO, " [part %u/%u]", f.number, f.total);
    if (st->reassembled > 0) {
        /* A reassembled body that is itself a part: reassembling it would feed the reassembly its own
           result, again and again. Shown, never reassembled. */
        expert_add_info_format(pinfo, part_item, &ei_fragment_nested,
                               "Fragment TLV (transfer %u, part %u/%u) inside a reassembled body: not reassembled "
                               "again", f.transaction_id, f.number, f.total);
        ctx->malformed = true;
        return NULL;
    }
    /* One transfer per sender, command and transaction ID. */
    uint32_t id = ((uint32_t)wmmp_request_of(ctx->command_id) << 16) | f.transaction_id;
    if (wmmp_is_ack(ctx->command_id))
        id ^= 0x80000000u;

    unsigned nth = GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_wmmp, WMMP_FRAGMENT_KEY_COUNTER));
    p_add_proto_data(pinfo->pool, pinfo, proto_wmmp, WMMP_FRAGMENT_KEY_COUNTER, GUINT_TO_POINTER(nth + 1));
    uint32_t rkey[3] = { pinfo->num, st->msg_index, nth };
    wmem_tree_key_t refusal_key[] = { { 3, rkey }, { 0, NULL } };
    wmmp_refusal *refusal = (wmmp_refusal *)wmem_tree_lookup32_array(refusals, refusal_key);
    fragment_head *in_progress = NULL;
    wmmp_transfer *tr = NULL;
    if (!PINFO_FD_VISITED(pinfo)) {
        expert_field *ei;
        in_progress = fragment_get(&wmmp_reassembly_table, pinfo, id, NULL);
        tr = in_progress ? (wmmp_transfer *)wmem_map_lookup(transfers, in_progress) : NULL;
        const char *reason = refuse_part(tvb, offset + 7, pinfo, &f, st, in_progress, tr, &ei);
        if (reason) {
            refusal = wmem_new(wmem_file_scope(), wmmp_refusal);
            refusal->ei = ei;
            refusal->reason = reason;
            wmem_tree_insert32_array(refusals, refusal_key, refusal);
        }
    }
    if (refusal) {
        expert_add_info_format(pinfo, part_item, refusal->ei, "%s", refusal->reason);
        return NULL;
    }
    bool save_fragmented = pinfo->fragmented;
    pinfo->fragmented = true;
    fragment_head *head = fragment_add_seq_check(&wmmp_reassembly_table, tvb, offset + 7, pinfo, id, NULL,
                                                 (uint32_t)(f.number - 1), (uint32_t)f.data_len, f.number < f.total);
    tvbuff_t *whole = process_reassembled_data(tvb, offset + 7, pinfo, "Reassembled WMMP body", head,
                                               &wmmp_fragment_items, NULL, tree);
    pinfo->fragmented = save_fragmented;
    if (!PINFO_FD_VISITED(pinfo)) {
        /* Account for the part in its transfer (which the first part has just made). */
        fragment_head *cur = head ? head : fragment_get(&wmmp_reassembly_table, pinfo, id, NULL);
        if (!tr && cur && !(cur->flags & FD_DEFRAGMENTED)) {
            tr = wmem_new0(wmem_file_scope(), wmmp_transfer);
            tr->first_frame = pinfo->num;
            tr->total = f.total;
            tr->is_signed = st->has_digest;
            wmem_map_insert(transfers, cur, tr);
        }
        if (tr) {
            tr->bytes += f.data_len;
            bytes_in_progress += f.data_len;
        }
        if (head && (head->flags & FD_DEFRAGMENTED)) {
            /* complete: its bytes no longer wait (Wireshark keeps them, as for every reassembly) */
            tr = (wmmp_transfer *)wmem_map_remove(transfers, head);
            if (tr)
                bytes_in_progress -= MIN(bytes_in_progress, (uint64_t)tr->bytes);
        }
    }
    if (whole)
        col_append_str(pinfo->cinfo, COL_INFO, " [reassembled]");
    return whole;
}

void wmmp_fragment_register(module_t *module)
{
    static hf_register_info hf[] = {
        { &hf_transaction, { "Transaction ID", "wmmp.fragment.transaction_id", FT_UINT16, BASE_DEC, NULL, 0, NULL,
                             HFILL } },
        { &hf_total, { "Total parts", "wmmp.fragment.total", FT_UINT16, BASE_DEC, NULL, 0, NULL, HFILL } },
        { &hf_part, { "Part number", "wmmp.fragment.part", FT_UINT16, BASE_DEC, NULL, 0,
                      "This part, or the part wanted next in a send-next control", HFILL } },
        { &hf_operation, { "Operation", "wmmp.fragment.operation", FT_UINT8, BASE_DEC, VALS(wmmp_fragment_op_vals),
                           0, NULL, HFILL } },
        { &hf_data, { "Data", "wmmp.fragment.data", FT_BYTES, BASE_NONE, NULL, 0, NULL, HFILL } },
        { &hf_fragments, { "Fragments", "wmmp.reassembly.fragments", FT_NONE, BASE_NONE, NULL, 0, NULL, HFILL } },
        { &hf_fragment, { "Fragment", "wmmp.reassembly.fragment", FT_FRAMENUM, BASE_NONE, NULL, 0, NULL,
                          HFILL } },
        { &hf_fragment_overlap, { "Fragment overlap", "wmmp.reassembly.fragment.overlap", FT_BOOLEAN, BASE_NONE,
                                  NULL, 0, NULL, HFILL } },
        { &hf_fragment_overlap_conflicts, { "Fragment overlapping with conflicting data",
                                            "wmmp.reassembly.fragment.overlap.conflicts", FT_BOOLEAN, BASE_NONE,
                                            NULL, 0, NULL, HFILL } },
        { &hf_fragment_multiple_tails, { "Message has multiple tail fragments",
                                         "wmmp.reassembly.fragment.multiple_tails", FT_BOOLEAN, BASE_NONE, NULL, 0,
                                         NULL, HFILL } },
        { &hf_fragment_too_long, { "Fragment too long", "wmmp.reassembly.fragment.too_long_fragment", FT_BOOLEAN,
                                   BASE_NONE, NULL, 0, NULL, HFILL } },
        { &hf_fragment_error, { "Reassembly error", "wmmp.reassembly.fragment.error", FT_FRAMENUM, BASE_NONE, NULL,
                                0, NULL, HFILL } },
        { &hf_fragment_count, { "Fragment count", "wmmp.reassembly.fragment.count", FT_UINT32, BASE_DEC, NULL, 0,
                                NULL, HFILL } },
        { &hf_reassembled_in, { "Reassembled in", "wmmp.reassembled_in", FT_FRAMENUM, BASE_NONE, NULL, 0, NULL,
                                HFILL } },
        { &hf_reassembled_length, { "Reassembled body length", "wmmp.reassembled.length", FT_UINT32, BASE_DEC,
                                    NULL, 0, NULL, HFILL } },
        { &hf_reassembled_data, { "Reassembled body", "wmmp.reassembled.data", FT_BYTES, BASE_NONE, NULL, 0, NULL,
                                  HFILL } },
    };
    static int *ett[] = { &ett_fragment, &ett_fragments };
    static ei_register_info ei[] = {
        { &ei_fragment_truncated, { "wmmp.fragment.truncated", PI_MALFORMED, PI_ERROR,
                                    "Fragment TLV shorter than its 7-byte header", EXPFILL } },
        { &ei_fragment_number, { "wmmp.fragment.bad_number", PI_MALFORMED, PI_ERROR,
                                 "Fragment number is 0 or above the total", EXPFILL } },
        { &ei_fragment_abort, { "wmmp.fragment.abort", PI_SEQUENCE, PI_WARN, "Fragmented transfer aborted",
                                EXPFILL } },
        { &ei_fragment_nested, { "wmmp.fragment.nested", PI_MALFORMED, PI_ERROR,
                                 "Fragment TLV inside a reassembled body: not reassembled again", EXPFILL } },
        { &ei_fragment_refused, { "wmmp.fragment.refused", PI_SECURITY, PI_WARN,
                                  "Part conflicts with the transfer in progress (other bytes, other total, or "
                                  "unsigned in a signed transfer): not reassembled", EXPFILL } },
        { &ei_fragment_cap, { "wmmp.fragment.limit", PI_UNDECODED, PI_WARN,
                              "Reassembly limit reached (a transfer beyond the largest body, or the preference "
                              "wmmp.reassembly_max_mb): part not reassembled", EXPFILL } },
    };
    proto_register_field_array(proto_wmmp, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert_register_protocol(proto_wmmp), ei, array_length(ei));
    reassembly_table_register(&wmmp_reassembly_table, &addresses_ports_reassembly_table_functions);
    register_init_routine(fragment_init);
    prefs_register_uint_preference(module, "reassembly_max_mb", "Reassembly limit (MiB)",
                                   "At most this many MiB of fragment data wait in unfinished transfers of a "
                                   "capture; further parts are not reassembled (expert item wmmp.fragment.limit)",
                                   10, &pref_reassembly_max_mb);
}
