/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fragmentation (profile section 8): the 0x4008 TLV, splitting a body into parts, telling a
 * fragment-control body from an ordinary one, and reassembly with its error cases.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "wmmp_fragment.h"
#include "wmmp_tables.h"
#include "wmmp_tlv.h"

/* The real abort of a 3-part CONFIG_GET_ACK quoted in profile section 8. */
static const char *const abort_example_hex =
    "0027 8005 00000005 0300 10 00 41485731303030313038414231323334  4008 0007 0000 0003 0003 02";

static void fill_pattern(uint8_t *body, size_t len)
{
    for (size_t i = 0; i < len; i++)
        body[i] = (uint8_t)(i * 7 + i / 256);
}

/* Reads the single 0x4008 TLV a writer produced and decodes its value. */
static void decode_written(const wmmp_writer *w, wmmp_fragment *f)
{
    wmmp_reader r;
    wmmp_tlv t;
    wmmp_reader_init(&r, w->buf, w->len);
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_next(&r, &t), WMMP_OK);
    CU_ASSERT_EQUAL(t.tag, WMMP_TAG_FRAGMENT);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_END);
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_decode(t.value, t.length, f), WMMP_OK);
}

static wmmp_fragment data_part(uint16_t txid, uint16_t total, uint16_t number, const uint8_t *data, size_t len)
{
    wmmp_fragment f = {txid, total, number, WMMP_FRAGMENT_OP_DATA, len ? data : NULL, len};
    return f;
}

/*
 * Splits body_len bytes with put_part, checks every part's size, feeds them to a reassembler and checks
 * the result is byte-identical. expected_sizes lists the data size of each part.
 */
static void split_and_reassemble(size_t body_len, const size_t *expected_sizes, size_t parts)
{
    uint8_t *body = malloc(body_len ? body_len : 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    fill_pattern(body, body_len);
    CU_ASSERT_EQUAL(wmmp_fragment_count(body_len), parts);

    wmmp_reassembly ra;
    wmmp_reassembly_init(&ra);
    for (size_t n = 1; n <= parts; n++) {
        uint8_t out[WMMP_TLV_HEADER_LEN + WMMP_FRAGMENT_HEADER_LEN + WMMP_FRAGMENT_MAX_DATA];
        wmmp_writer w;
        wmmp_fragment f;
        int complete = -1;
        wmmp_writer_init(&w, out, sizeof out);
        CU_ASSERT_EQUAL_FATAL(wmmp_fragment_put_part(&w, body, body_len, 0x0102, (uint16_t)n), WMMP_OK);
        CU_ASSERT_EQUAL(w.len, WMMP_TLV_HEADER_LEN + WMMP_FRAGMENT_HEADER_LEN + expected_sizes[n - 1]);
        decode_written(&w, &f);
        CU_ASSERT_EQUAL(f.transaction_id, 0x0102);
        CU_ASSERT_EQUAL(f.total, parts);
        CU_ASSERT_EQUAL(f.number, n);
        CU_ASSERT_EQUAL(f.operation, WMMP_FRAGMENT_OP_DATA);
        CU_ASSERT_EQUAL(f.data_len, expected_sizes[n - 1]);

        CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &f, &complete), WMMP_OK);
        CU_ASSERT_EQUAL(complete, n == parts);
        CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), n == parts ? 0 : n + 1);
    }
    CU_ASSERT_EQUAL_FATAL(ra.len, body_len);
    if (body_len)
        UNIT_ASSERT_BYTES(ra.buf, body, body_len);

    /* No part beyond the last. */
    uint8_t out[64];
    wmmp_writer w;
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL(wmmp_fragment_put_part(&w, body, body_len, 0x0102, (uint16_t)(parts + 1)),
                    WMMP_ERR_FRAGMENT_BAD_NUMBER);
    CU_ASSERT_EQUAL(w.len, 0);

    wmmp_reassembly_free(&ra);
    free(body);
}

static void test_count(void)
{
    CU_ASSERT_EQUAL(wmmp_fragment_count(0), 1);
    CU_ASSERT_EQUAL(wmmp_fragment_count(1), 1);
    CU_ASSERT_EQUAL(wmmp_fragment_count(900), 1);
    CU_ASSERT_EQUAL(wmmp_fragment_count(901), 2);
    CU_ASSERT_EQUAL(wmmp_fragment_count(1800), 2);
    CU_ASSERT_EQUAL(wmmp_fragment_count(1801), 3);
    CU_ASSERT_EQUAL(wmmp_fragment_count(2500), 3);
    CU_ASSERT_EQUAL(wmmp_fragment_count((size_t)65535 * 900), 65535);
    CU_ASSERT_EQUAL(wmmp_fragment_count((size_t)65535 * 900 + 1), 65536);
}

static void test_split_2500(void)
{
    static const size_t sizes[] = {900, 900, 700};
    split_and_reassemble(2500, sizes, 3);
}

static void test_boundaries(void)
{
    static const size_t sizes_900[] = {900};
    static const size_t sizes_901[] = {900, 1};
    static const size_t sizes_1800[] = {900, 900};
    split_and_reassemble(900, sizes_900, 1);
    split_and_reassemble(901, sizes_901, 2);
    split_and_reassemble(1800, sizes_1800, 2);
}

/* Part 2 of a 905-byte body whose byte i is i & 0xFF, transaction 0x1234, written by hand from section 8. */
static void test_known_answer_part(void)
{
    uint8_t body[905];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)i;
    uint8_t expected[32], out[32];
    /* value = 7 + 5 = 12 bytes; bytes 900..904 are 0x84..0x88 (900 = 0x384) */
    size_t n = unit_hex("4008 000c | 1234 0002 0002 00 | 84 85 86 87 88", expected, sizeof expected);
    wmmp_writer w;
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_put_part(&w, body, sizeof body, 0x1234, 2), WMMP_OK);
    CU_ASSERT_EQUAL_FATAL(w.len, n);
    UNIT_ASSERT_BYTES(out, expected, n);

    /* An empty body is one part with no data. */
    n = unit_hex("4008 0007 | beef 0001 0001 00", expected, sizeof expected);
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_put_part(&w, NULL, 0, 0xBEEF, 1), WMMP_OK);
    CU_ASSERT_EQUAL_FATAL(w.len, n);
    UNIT_ASSERT_BYTES(out, expected, n);
}

static void test_known_answer_control(void)
{
    uint8_t expected[64], out[64];
    wmmp_writer w;

    /* Send next: after part 1 of 3, ask for part 2. */
    size_t n = unit_hex("4008 0007 | 1234 0003 0002 01", expected, sizeof expected);
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_put_control(&w, 0x1234, 3, 2, WMMP_FRAGMENT_OP_SEND_NEXT), WMMP_OK);
    CU_ASSERT_EQUAL_FATAL(w.len, n);
    UNIT_ASSERT_BYTES(out, expected, n);

    /* The body of the section-8 abort example. */
    uint8_t msg[64];
    size_t msg_len = unit_hex(abort_example_hex, msg, sizeof msg);
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_put_control(&w, 0, 3, 3, WMMP_FRAGMENT_OP_RECEIVER_ABORT), WMMP_OK);
    CU_ASSERT_EQUAL_FATAL(w.len, msg_len - 28);
    UNIT_ASSERT_BYTES(out, msg + 28, w.len);

    /* Sender abort. */
    n = unit_hex("4008 0007 | ffff 0002 0001 03", expected, sizeof expected);
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_put_control(&w, 0xFFFF, 2, 1, WMMP_FRAGMENT_OP_SENDER_ABORT), WMMP_OK);
    CU_ASSERT_EQUAL_FATAL(w.len, n);
    UNIT_ASSERT_BYTES(out, expected, n);
}

static void test_control_rejects(void)
{
    uint8_t out[64];
    wmmp_writer w;
    static const uint8_t bad_ops[] = {WMMP_FRAGMENT_OP_DATA, 4, 0xFF};
    for (size_t i = 0; i < sizeof bad_ops; i++) {
        wmmp_writer_init(&w, out, sizeof out);
        CU_ASSERT_EQUAL(wmmp_fragment_put_control(&w, 1, 3, 2, bad_ops[i]), WMMP_ERR_INVALID_ARGUMENT);
        CU_ASSERT_EQUAL(w.len, 0);
        CU_ASSERT_EQUAL(w.err, WMMP_ERR_INVALID_ARGUMENT);
    }
    static const uint16_t bad_numbers[][2] = {{0, 0}, {0, 1}, {3, 0}, {3, 4}, {1, 0xFFFF}};
    for (size_t i = 0; i < sizeof bad_numbers / sizeof bad_numbers[0]; i++) {
        wmmp_writer_init(&w, out, sizeof out);
        CU_ASSERT_EQUAL(wmmp_fragment_put_control(&w, 1, bad_numbers[i][0], bad_numbers[i][1],
                                                  WMMP_FRAGMENT_OP_SEND_NEXT),
                        WMMP_ERR_FRAGMENT_BAD_NUMBER);
        CU_ASSERT_EQUAL(w.len, 0);
    }
    /* The writer's error is sticky: a later valid call writes nothing. */
    CU_ASSERT_EQUAL(wmmp_fragment_put_control(&w, 1, 3, 2, WMMP_FRAGMENT_OP_SEND_NEXT),
                    WMMP_ERR_FRAGMENT_BAD_NUMBER);
    CU_ASSERT_EQUAL(w.len, 0);
}

static void test_abort_example(void)
{
    uint8_t msg[64];
    size_t len = unit_hex(abort_example_hex, msg, sizeof msg);
    CU_ASSERT_EQUAL_FATAL(len, 0x27); /* Total_Length */
    const uint8_t safe_flag = msg[10];
    const uint8_t *body = msg + 28;
    size_t body_len = len - 28;
    CU_ASSERT_EQUAL(safe_flag, 0x10);

    wmmp_reader r;
    wmmp_tlv t;
    wmmp_fragment f;
    wmmp_reader_init(&r, body, body_len);
    CU_ASSERT_EQUAL_FATAL(wmmp_tlv_next(&r, &t), WMMP_OK);
    CU_ASSERT_EQUAL(t.tag, WMMP_TAG_FRAGMENT);
    CU_ASSERT_EQUAL(t.length, 7);
    CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), WMMP_END);
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_decode(body + 4, 7, &f), WMMP_OK);
    CU_ASSERT_EQUAL(f.transaction_id, 0);
    CU_ASSERT_EQUAL(f.total, 3);
    CU_ASSERT_EQUAL(f.number, 3);
    CU_ASSERT_EQUAL(f.operation, WMMP_FRAGMENT_OP_RECEIVER_ABORT);
    CU_ASSERT_EQUAL(f.data_len, 0);
    CU_ASSERT_PTR_NULL(f.data);
    CU_ASSERT_STRING_EQUAL(wmmp_fragment_op_name(f.operation), "Receiver abort");

    CU_ASSERT_TRUE(wmmp_is_fragment_control(safe_flag, body, body_len));
    CU_ASSERT_TRUE(wmmp_is_fragment_control(0x30, body, body_len)); /* with DIGEST, body before the digest */
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x00, body, body_len));
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x20, body, body_len));

    /* The abort ends a transfer in progress with the same transaction. */
    uint8_t data[900] = {0};
    wmmp_fragment part1 = data_part(0, 3, 1, data, sizeof data);
    wmmp_reassembly ra;
    wmmp_reassembly_init(&ra);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &part1, NULL), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &f, NULL), WMMP_ERR_FRAGMENT_ABORTED);
    CU_ASSERT_FALSE(ra.active);
    wmmp_reassembly_free(&ra);
}

static void test_is_fragment_control(void)
{
    uint8_t b[64];
    size_t n;

    n = unit_hex("00", b, sizeof b); /* an ACK's result byte */
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x10, b, n));
    n = unit_hex("00 4008 0007 0000 0003 0002 01", b, sizeof b); /* result byte, then a TLV */
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x10, b, n));
    n = unit_hex("4008 0008 0000 0003 0002 00 aa", b, sizeof b); /* a data part */
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x10, b, n));
    n = unit_hex("4008 0007 0000 0003 0002 01 4008 0007 0000 0003 0002 01", b, sizeof b); /* two TLVs */
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x10, b, n));
    n = unit_hex("4009 0007 0000 0003 0002 01", b, sizeof b); /* another tag */
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x10, b, n));
    n = unit_hex("4008 0007 0000 0003 0002", b, sizeof b); /* truncated */
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x10, b, n));
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x10, NULL, 0));
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0x10, b, 0));

    n = unit_hex("4008 0007 0000 0003 0002 01", b, sizeof b); /* send next */
    CU_ASSERT_TRUE(wmmp_is_fragment_control(0x10, b, n));
    CU_ASSERT_TRUE(wmmp_is_fragment_control(0xB0, b, n));
    CU_ASSERT_FALSE(wmmp_is_fragment_control(0xA0, b, n));
}

/* Every prefix of a fragment TLV, each copied to a buffer of exactly that size so an over-read is caught. */
static void test_truncated_every_length(void)
{
    uint8_t tlv[32];
    size_t n = unit_hex("4008 000c 1234 0002 0002 00 84 85 86 87 88", tlv, sizeof tlv);
    const uint8_t *value = tlv + WMMP_TLV_HEADER_LEN;
    size_t value_len = n - WMMP_TLV_HEADER_LEN;

    for (size_t len = 0; len <= value_len; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
        memcpy(copy, value, len);
        wmmp_fragment f;
        memset(&f, 0xA5, sizeof f);
        wmmp_err e = wmmp_fragment_decode(copy, len, &f);
        if (len < WMMP_FRAGMENT_HEADER_LEN) {
            CU_ASSERT_EQUAL(e, WMMP_ERR_FRAGMENT_TRUNCATED);
        } else {
            CU_ASSERT_EQUAL(e, WMMP_OK);
            CU_ASSERT_EQUAL(f.transaction_id, 0x1234);
            CU_ASSERT_EQUAL(f.total, 2);
            CU_ASSERT_EQUAL(f.number, 2);
            CU_ASSERT_EQUAL(f.data_len, len - WMMP_FRAGMENT_HEADER_LEN);
            if (f.data_len)
                CU_ASSERT_PTR_EQUAL(f.data, copy + WMMP_FRAGMENT_HEADER_LEN);
        }
        free(copy);
    }

    /* The TLV around it, cut short: the TLV layer reports it before the fragment decoder is reached. */
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
        memcpy(copy, tlv, len);
        wmmp_reader r;
        wmmp_tlv t;
        wmmp_reader_init(&r, copy, len);
        wmmp_err expected = len == 0 ? WMMP_END : len < 4 ? WMMP_ERR_TLV_TRUNCATED : WMMP_ERR_TLV_OVERRUN;
        CU_ASSERT_EQUAL(wmmp_tlv_next(&r, &t), expected);
        CU_ASSERT_FALSE(wmmp_is_fragment_control(0x10, copy, len));
        free(copy);
    }
}

static void test_decode_bad_numbers(void)
{
    uint8_t v[16];
    wmmp_fragment f;

    unit_hex("0001 0000 0000 00", v, sizeof v); /* total 0 */
    CU_ASSERT_EQUAL(wmmp_fragment_decode(v, 7, &f), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    unit_hex("0001 0003 0000 00", v, sizeof v); /* number 0 */
    CU_ASSERT_EQUAL(wmmp_fragment_decode(v, 7, &f), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    CU_ASSERT_EQUAL(f.total, 3); /* still filled, for display */
    unit_hex("0001 0003 0004 01", v, sizeof v); /* number above total, even for send next */
    CU_ASSERT_EQUAL(wmmp_fragment_decode(v, 7, &f), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    CU_ASSERT_EQUAL(f.number, 4);
    CU_ASSERT_EQUAL(f.operation, WMMP_FRAGMENT_OP_SEND_NEXT);

    unit_hex("0001 0003 0003 00", v, sizeof v);
    CU_ASSERT_EQUAL(wmmp_fragment_decode(v, 7, &f), WMMP_OK);
    unit_hex("ffff ffff ffff 09", v, sizeof v); /* unknown operation: decoded, not rejected */
    CU_ASSERT_EQUAL(wmmp_fragment_decode(v, 7, &f), WMMP_OK);
    CU_ASSERT_EQUAL(f.transaction_id, 0xFFFF);
    CU_ASSERT_EQUAL(f.number, 0xFFFF);
    CU_ASSERT_EQUAL(f.operation, 9);

    CU_ASSERT_EQUAL(wmmp_fragment_decode(NULL, 7, &f), WMMP_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wmmp_fragment_decode(v, 7, NULL), WMMP_ERR_INVALID_ARGUMENT);
}

static void test_put_roundtrip_and_limits(void)
{
    uint8_t data[5] = {1, 2, 3, 4, 5};
    wmmp_fragment in = {0xA55A, 7, 7, WMMP_FRAGMENT_OP_DATA, data, sizeof data}, out_f;
    uint8_t out[64];
    wmmp_writer w;
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_put(&w, &in), WMMP_OK);
    decode_written(&w, &out_f);
    CU_ASSERT_EQUAL(out_f.transaction_id, in.transaction_id);
    CU_ASSERT_EQUAL(out_f.total, in.total);
    CU_ASSERT_EQUAL(out_f.number, in.number);
    CU_ASSERT_EQUAL(out_f.operation, in.operation);
    CU_ASSERT_EQUAL_FATAL(out_f.data_len, sizeof data);
    UNIT_ASSERT_BYTES(out_f.data, data, sizeof data);

    /* Too small a buffer: nothing at all is written. */
    wmmp_writer_init(&w, out, 4 + 7 + sizeof data - 1);
    CU_ASSERT_EQUAL(wmmp_fragment_put(&w, &in), WMMP_ERR_NO_SPACE);
    CU_ASSERT_EQUAL(w.len, 0);

    wmmp_fragment bad = in;
    bad.number = 8;
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL(wmmp_fragment_put(&w, &bad), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    bad = in;
    bad.data = NULL;
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL(wmmp_fragment_put(&w, &bad), WMMP_ERR_INVALID_ARGUMENT);

    /* The value length is 16 bits: 7 + 65528 fits, one more does not. */
    size_t big_len = 0xFFFF - WMMP_FRAGMENT_HEADER_LEN;
    uint8_t *big = calloc(big_len + 1, 1);
    uint8_t *big_out = malloc(4 + 0xFFFF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big_out);
    wmmp_fragment large = {1, 1, 1, WMMP_FRAGMENT_OP_DATA, big, big_len};
    wmmp_writer_init(&w, big_out, 4 + 0xFFFF);
    CU_ASSERT_EQUAL(wmmp_fragment_put(&w, &large), WMMP_OK);
    CU_ASSERT_EQUAL(w.len, 4 + 0xFFFF);
    large.data_len++;
    wmmp_writer_init(&w, big_out, 4 + 0xFFFF);
    CU_ASSERT_EQUAL(wmmp_fragment_put(&w, &large), WMMP_ERR_TOO_LONG);
    CU_ASSERT_EQUAL(w.len, 0);
    free(big_out);
    free(big);
}

static void test_put_part_limits(void)
{
    uint8_t out[WMMP_TLV_HEADER_LEN + WMMP_FRAGMENT_HEADER_LEN + WMMP_FRAGMENT_MAX_DATA];
    wmmp_writer w;
    uint8_t body[2500];
    fill_pattern(body, sizeof body);

    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL(wmmp_fragment_put_part(&w, body, sizeof body, 1, 0), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL(wmmp_fragment_put_part(&w, body, sizeof body, 1, 4), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL(wmmp_fragment_put_part(&w, NULL, sizeof body, 1, 1), WMMP_ERR_INVALID_ARGUMENT);
    wmmp_writer_init(&w, out, sizeof out - 1);
    CU_ASSERT_EQUAL(wmmp_fragment_put_part(&w, body, sizeof body, 1, 1), WMMP_ERR_NO_SPACE);
    CU_ASSERT_EQUAL(w.len, 0);

    /* 65535 parts is the most the 16-bit total can count. */
    size_t most = (size_t)WMMP_FRAGMENT_MAX_PARTS * WMMP_FRAGMENT_MAX_DATA;
    uint8_t *huge = calloc(most + 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(huge);
    huge[most - 1] = 0x5A;
    wmmp_fragment f;
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL_FATAL(wmmp_fragment_put_part(&w, huge, most, 9, 0xFFFF), WMMP_OK);
    decode_written(&w, &f);
    CU_ASSERT_EQUAL(f.total, 0xFFFF);
    CU_ASSERT_EQUAL(f.number, 0xFFFF);
    CU_ASSERT_EQUAL_FATAL(f.data_len, WMMP_FRAGMENT_MAX_DATA);
    CU_ASSERT_EQUAL(f.data[WMMP_FRAGMENT_MAX_DATA - 1], 0x5A);
    wmmp_writer_init(&w, out, sizeof out);
    CU_ASSERT_EQUAL(wmmp_fragment_put_part(&w, huge, most + 1, 9, 1), WMMP_ERR_TOO_LONG);
    CU_ASSERT_EQUAL(w.len, 0);
    free(huge);
}

static void test_reassembly_out_of_order(void)
{
    uint8_t a[900], b[900], c[10];
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    memset(c, 'c', sizeof c);
    wmmp_fragment p1 = data_part(7, 3, 1, a, sizeof a);
    wmmp_fragment p2 = data_part(7, 3, 2, b, sizeof b);
    wmmp_fragment p3 = data_part(7, 3, 3, c, sizeof c);
    wmmp_reassembly ra;
    int complete = -1;
    wmmp_reassembly_init(&ra);

    /* Nothing started: only part 1 is acceptable. */
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p2, &complete), WMMP_ERR_FRAGMENT_OUT_OF_ORDER);
    CU_ASSERT_EQUAL(complete, 0);
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 0);

    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p1, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p3, &complete), WMMP_ERR_FRAGMENT_OUT_OF_ORDER);
    CU_ASSERT_EQUAL(ra.len, 900);
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 2);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p2, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(complete, 0);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p3, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(complete, 1);
    CU_ASSERT_EQUAL_FATAL(ra.len, 1810);
    CU_ASSERT_EQUAL(ra.buf[0], 'a');
    CU_ASSERT_EQUAL(ra.buf[899], 'a');
    CU_ASSERT_EQUAL(ra.buf[900], 'b');
    CU_ASSERT_EQUAL(ra.buf[1799], 'b');
    CU_ASSERT_EQUAL(ra.buf[1800], 'c');
    CU_ASSERT_EQUAL(ra.buf[1809], 'c');

    /* After completion, a middle part is out of order, not a new transfer. */
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p2, &complete), WMMP_ERR_FRAGMENT_OUT_OF_ORDER);
    wmmp_reassembly_free(&ra);
}

static void test_reassembly_duplicate(void)
{
    uint8_t a[900], b[900], c[3] = {'x', 'y', 'z'};
    memset(a, 1, sizeof a);
    memset(b, 2, sizeof b);
    wmmp_fragment p1 = data_part(0x55, 3, 1, a, sizeof a);
    wmmp_fragment p2 = data_part(0x55, 3, 2, b, sizeof b);
    wmmp_fragment p3 = data_part(0x55, 3, 3, c, sizeof c);
    wmmp_reassembly ra;
    int complete = -1;
    wmmp_reassembly_init(&ra);

    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p1, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p1, &complete), WMMP_ERR_FRAGMENT_DUPLICATE);
    CU_ASSERT_EQUAL(ra.len, 900);
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 2);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p2, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p2, &complete), WMMP_ERR_FRAGMENT_DUPLICATE);
    CU_ASSERT_EQUAL(ra.len, 1800);
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 3);

    /* Part 1 after part 2 is no repeat: it restarts the transfer. */
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p1, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(ra.len, 900);
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 2);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p2, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p3, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(complete, 1);
    CU_ASSERT_EQUAL(ra.len, 1803);

    /* A retransmitted last part (the final ACK was lost) keeps the completed body. */
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p3, &complete), WMMP_ERR_FRAGMENT_DUPLICATE);
    CU_ASSERT_EQUAL(complete, 0);
    CU_ASSERT_EQUAL_FATAL(ra.len, 1803);
    CU_ASSERT_EQUAL(ra.buf[1802], 'z');
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 0);

    /* A one-part transfer completes at once; its repeat is a duplicate too. */
    wmmp_fragment only = data_part(0x56, 1, 1, c, sizeof c);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &only, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(complete, 1);
    CU_ASSERT_EQUAL(ra.len, 3);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &only, &complete), WMMP_ERR_FRAGMENT_DUPLICATE);
    CU_ASSERT_EQUAL(ra.len, 3);
    wmmp_reassembly_free(&ra);
}

static void test_reassembly_mismatch(void)
{
    uint8_t a[900] = {0}, b[900] = {0};
    wmmp_fragment p1 = data_part(5, 3, 1, a, sizeof a);
    wmmp_fragment other_txid = data_part(6, 3, 2, b, sizeof b);
    wmmp_fragment other_total = data_part(5, 4, 2, b, sizeof b);
    wmmp_reassembly ra;
    wmmp_reassembly_init(&ra);

    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p1, NULL), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &other_txid, NULL), WMMP_ERR_FRAGMENT_MISMATCH);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &other_total, NULL), WMMP_ERR_FRAGMENT_MISMATCH);
    CU_ASSERT_EQUAL(ra.transaction_id, 5);
    CU_ASSERT_EQUAL(ra.total, 3);
    CU_ASSERT_EQUAL(ra.len, 900);
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 2);

    /* Part 1 of another transaction discards the unfinished one. */
    wmmp_fragment new_p1 = data_part(6, 2, 1, a, 10);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &new_p1, NULL), WMMP_OK);
    CU_ASSERT_EQUAL(ra.transaction_id, 6);
    CU_ASSERT_EQUAL(ra.total, 2);
    CU_ASSERT_EQUAL(ra.len, 10);
    wmmp_reassembly_free(&ra);
}

static void test_reassembly_bad_numbers(void)
{
    uint8_t a[900] = {0};
    wmmp_fragment p1 = data_part(5, 3, 1, a, sizeof a);
    wmmp_fragment zero_number = data_part(5, 3, 0, a, 1);
    wmmp_fragment zero_total = data_part(5, 0, 1, a, 1);
    wmmp_fragment over_total = data_part(5, 3, 4, a, 1);
    wmmp_reassembly ra;
    wmmp_reassembly_init(&ra);

    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &zero_total, NULL), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    CU_ASSERT_FALSE(ra.active);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p1, NULL), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &zero_number, NULL), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &zero_total, NULL), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &over_total, NULL), WMMP_ERR_FRAGMENT_BAD_NUMBER);
    CU_ASSERT_TRUE(ra.active);
    CU_ASSERT_EQUAL(ra.len, 900);
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 2);

    /* Send next is the receiver's message, not a data part; unknown operations neither. */
    wmmp_fragment send_next = {5, 3, 2, WMMP_FRAGMENT_OP_SEND_NEXT, NULL, 0};
    wmmp_fragment unknown = {5, 3, 2, 4, a, 1};
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &send_next, NULL), WMMP_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &unknown, NULL), WMMP_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(ra.len, 900);
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 2);
    wmmp_reassembly_free(&ra);
}

static void test_reassembly_abort(void)
{
    uint8_t a[900] = {0};
    wmmp_fragment p1 = data_part(9, 3, 1, a, sizeof a);
    wmmp_fragment p2 = data_part(9, 3, 2, a, sizeof a);
    wmmp_fragment receiver_abort = {9, 3, 2, WMMP_FRAGMENT_OP_RECEIVER_ABORT, NULL, 0};
    wmmp_fragment sender_abort = {9, 3, 3, WMMP_FRAGMENT_OP_SENDER_ABORT, NULL, 0};
    wmmp_fragment stray_abort = {8, 3, 2, WMMP_FRAGMENT_OP_SENDER_ABORT, NULL, 0};
    wmmp_reassembly ra;
    int complete = -1;
    wmmp_reassembly_init(&ra);

    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p1, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &receiver_abort, &complete), WMMP_ERR_FRAGMENT_ABORTED);
    CU_ASSERT_EQUAL(complete, 0);
    CU_ASSERT_FALSE(ra.active);
    CU_ASSERT_EQUAL(ra.len, 0);
    CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 0);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p2, &complete), WMMP_ERR_FRAGMENT_OUT_OF_ORDER);

    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p1, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p2, &complete), WMMP_OK);
    /* An abort of another transaction leaves this one alone. */
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &stray_abort, &complete), WMMP_ERR_FRAGMENT_MISMATCH);
    CU_ASSERT_TRUE(ra.active);
    CU_ASSERT_EQUAL(ra.len, 1800);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &sender_abort, &complete), WMMP_ERR_FRAGMENT_ABORTED);
    CU_ASSERT_FALSE(ra.active);
    /* The retransmitted part 2 of the aborted transfer is no duplicate any more. */
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &p2, &complete), WMMP_ERR_FRAGMENT_OUT_OF_ORDER);

    /* With nothing in progress an abort is still reported. */
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &stray_abort, &complete), WMMP_ERR_FRAGMENT_ABORTED);
    wmmp_reassembly_free(&ra);
}

/* 72 full parts + 687 bytes is exactly 65535 - 28 - 20 = 65487 bytes; one byte more is too long. */
static void test_reassembly_too_long(void)
{
    static uint8_t data[900];
    wmmp_reassembly ra;
    int complete = -1;
    CU_ASSERT_EQUAL(WMMP_FRAGMENT_MAX_BODY, 65487);

    for (size_t last = 687; last <= 688; last++) {
        wmmp_reassembly_init(&ra);
        for (uint16_t n = 1; n <= 72; n++) {
            data[0] = (uint8_t)n;
            wmmp_fragment f = data_part(1, 73, n, data, sizeof data);
            CU_ASSERT_EQUAL_FATAL(wmmp_reassembly_add(&ra, &f, &complete), WMMP_OK);
        }
        wmmp_fragment f = data_part(1, 73, 73, data, last);
        if (last == 687) {
            CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &f, &complete), WMMP_OK);
            CU_ASSERT_EQUAL(complete, 1);
            CU_ASSERT_EQUAL_FATAL(ra.len, 65487);
            CU_ASSERT_EQUAL(ra.buf[71 * 900], 72);
        } else {
            CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &f, &complete), WMMP_ERR_TOO_LONG);
            CU_ASSERT_EQUAL(complete, 0);
            CU_ASSERT_FALSE(ra.active);
            CU_ASSERT_EQUAL(wmmp_reassembly_wanted(&ra), 0);
        }
        wmmp_reassembly_free(&ra);
    }

    /* A single oversized part is refused at once. */
    uint8_t *big = calloc(65488, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    wmmp_fragment f = data_part(2, 1, 1, big, 65488);
    wmmp_reassembly_init(&ra);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &f, &complete), WMMP_ERR_TOO_LONG);
    wmmp_reassembly_free(&ra);
    free(big);
}

/* After free the reassembler is reusable, and free is safe on a fresh one. */
static void test_reassembly_reuse(void)
{
    uint8_t a[4] = {1, 2, 3, 4};
    wmmp_reassembly ra;
    int complete = 0;
    wmmp_reassembly_init(&ra);
    wmmp_reassembly_free(&ra);
    wmmp_fragment f = data_part(3, 1, 1, a, sizeof a);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &f, &complete), WMMP_OK);
    CU_ASSERT_EQUAL(complete, 1);
    wmmp_reassembly_free(&ra);
    CU_ASSERT_PTR_NULL(ra.buf);
    CU_ASSERT_EQUAL(ra.len, 0);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, &f, &complete), WMMP_OK);
    CU_ASSERT_EQUAL_FATAL(ra.len, 4);
    UNIT_ASSERT_BYTES(ra.buf, a, 4);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(NULL, &f, &complete), WMMP_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(wmmp_reassembly_add(&ra, NULL, &complete), WMMP_ERR_INVALID_ARGUMENT);
    wmmp_reassembly_free(&ra);
}

static CU_TestInfo tests[] = {
    {"count", test_count},
    {"split 2500 into 900/900/700 and reassemble", test_split_2500},
    {"boundaries 900, 901, 1800", test_boundaries},
    {"known answer: data part", test_known_answer_part},
    {"known answer: control bodies", test_known_answer_control},
    {"control rejects bad operation and numbers", test_control_rejects},
    {"section 8 abort example", test_abort_example},
    {"fragment-control detection", test_is_fragment_control},
    {"truncated at every length", test_truncated_every_length},
    {"decode rejects bad numbers", test_decode_bad_numbers},
    {"put round trip and limits", test_put_roundtrip_and_limits},
    {"put_part limits", test_put_part_limits},
    {"reassembly out of order", test_reassembly_out_of_order},
    {"reassembly duplicate", test_reassembly_duplicate},
    {"reassembly mismatch", test_reassembly_mismatch},
    {"reassembly bad numbers and operations", test_reassembly_bad_numbers},
    {"reassembly abort", test_reassembly_abort},
    {"reassembly too long", test_reassembly_too_long},
    {"reassembly reuse", test_reassembly_reuse},
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(fragment, tests)
