/*
 * wmmp-fragment.c: the 0x4008 fragment TLV and the reassembly of fragmented bodies (profile section 8).
 * Parts are joined with Wireshark's reassembly tables, keyed by addresses, ports, command and
 * transaction ID; the whole body is dissected in the frame of the last part.
 */
#include <wireshark.h>

#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/reassemble.h>

#include "wmmp-int.h"
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

static reassembly_table wmmp_reassembly_table;

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
    /* One transfer per sender, command and transaction ID. */
    uint32_t id = ((uint32_t)wmmp_request_of(ctx->command_id) << 16) | f.transaction_id;
    if (wmmp_is_ack(ctx->command_id))
        id ^= 0x80000000u;
    bool save_fragmented = pinfo->fragmented;
    pinfo->fragmented = true;
    fragment_head *head = fragment_add_seq_check(&wmmp_reassembly_table, tvb, offset + 7, pinfo, id, NULL,
                                                 (uint32_t)(f.number - 1), (uint32_t)f.data_len, f.number < f.total);
    tvbuff_t *whole = process_reassembled_data(tvb, offset + 7, pinfo, "Reassembled WMMP body", head,
                                               &wmmp_fragment_items, NULL, tree);
    pinfo->fragmented = save_fragmented;
    if (whole)
        col_append_str(pinfo->cinfo, COL_INFO, " [reassembled]");
    return whole;
}

void wmmp_fragment_register(void)
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
    };
    proto_register_field_array(proto_wmmp, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert_register_protocol(proto_wmmp), ei, array_length(ei));
    reassembly_table_register(&wmmp_reassembly_table, &addresses_ports_reassembly_table_functions);
}
