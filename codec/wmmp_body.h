/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fixed body prefixes of profile section 5 (the bytes before a command's TLVs), the result byte of
 * ACKs, tag lists and the TRANSPARENT_DATA / FILE_REQ bodies. Each *_put appends to a writer; each *_get
 * consumes from a reader and leaves it at the TLVs that follow.
 */
#ifndef WMMP_BODY_H
#define WMMP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "wmmp_errors.h"
#include "wmmp_security.h"
#include "wmmp_tlv.h"

#define WMMP_SOFTWARE_VERSION_LEN 8

/* LOGIN: software version (8, NUL-padded ASCII) + CRC-32 of the login sync TLVs. */
typedef struct {
    char software_version[WMMP_SOFTWARE_VERSION_LEN + 1];
    uint32_t sync_crc;
} wmmp_login;

/* LOGIN_ACK: result + timestamp (Unix seconds; the digest timestamp of the session). */
typedef struct {
    uint8_t result;
    uint32_t timestamp;
} wmmp_login_ack;

/* REGISTER: operation + IMEI (16: 15 digits + 0x00) + IMSI (15). */
typedef struct {
    uint8_t operation;
    char imei[WMMP_IMEI_LEN + 1];
    char imsi[WMMP_IMSI_LEN + 1];
} wmmp_register;

/* REGISTER_ACK: result + assigned terminal serial (16). */
typedef struct {
    uint8_t result;
    char serial[17];
} wmmp_register_ack;

/* FILE_REQ: transaction ID + status + offset + block size. */
typedef struct {
    uint32_t transaction_id;
    uint8_t status;
    uint32_t offset;
    uint16_t block_size;
} wmmp_file_req;

/* FILE_REQ_ACK: transaction ID + status + CRC-16 of data + offset + length + data. */
typedef struct {
    uint32_t transaction_id;
    uint8_t status;
    uint16_t crc16;
    uint32_t offset;
    uint16_t length;
    const uint8_t *data; /* decode: points into the body; encode: the block to send */
} wmmp_file_ack;

/* TRANSPARENT_DATA / TRANSPARENT_CMD: CRC-16 of the user data + destination TLV + user data TLV. */
typedef struct {
    uint16_t crc16;
    uint16_t dest_tag;      /* 0x4012 (terminal serial) or 0x4014 (EC code); 0 when absent */
    const uint8_t *dest;
    size_t dest_len;
    const uint8_t *user_data;
    size_t user_data_len;
} wmmp_transparent;

wmmp_err wmmp_login_put(wmmp_writer *w, const wmmp_login *b);
wmmp_err wmmp_login_get(wmmp_reader *r, wmmp_login *b);
wmmp_err wmmp_login_ack_put(wmmp_writer *w, const wmmp_login_ack *b);
wmmp_err wmmp_login_ack_get(wmmp_reader *r, wmmp_login_ack *b);
wmmp_err wmmp_register_put(wmmp_writer *w, const wmmp_register *b);
wmmp_err wmmp_register_get(wmmp_reader *r, wmmp_register *b);
wmmp_err wmmp_register_ack_put(wmmp_writer *w, const wmmp_register_ack *b);
wmmp_err wmmp_register_ack_get(wmmp_reader *r, wmmp_register_ack *b);
wmmp_err wmmp_file_req_put(wmmp_writer *w, const wmmp_file_req *b);
wmmp_err wmmp_file_req_get(wmmp_reader *r, wmmp_file_req *b);
/* Computes crc16 from the data; the decoder checks length and CRC (WMMP_ERR_CRC_MISMATCH). */
wmmp_err wmmp_file_ack_put(wmmp_writer *w, const wmmp_file_ack *b);
wmmp_err wmmp_file_ack_get(wmmp_reader *r, wmmp_file_ack *b);
/* Computes the CRC-16; the decoder needs the 0x4007 TLV and checks the CRC (WMMP_ERR_CRC_MISMATCH). */
wmmp_err wmmp_transparent_put(wmmp_writer *w, const wmmp_transparent *b);
wmmp_err wmmp_transparent_get(wmmp_reader *r, wmmp_transparent *b);

/* One-byte prefixes: the result of most ACKs, LOGOUT's reason, SECURITY_CONFIG's operation. */
static inline wmmp_err wmmp_result_put(wmmp_writer *w, uint8_t v) { return wmmp_put_u8(w, v); }
static inline wmmp_err wmmp_result_get(wmmp_reader *r, uint8_t *v) { return wmmp_get_u8(r, v); }

/* Reads a list of tags each with length 0; WMMP_ERR_TLV_BAD_LENGTH when one has a value, NO_SPACE beyond max. */
wmmp_err wmmp_tag_list_get(wmmp_reader *r, uint16_t *tags, size_t max, size_t *count);

/* CRC-32 of the login sync TLVs, as carried in LOGIN (project choice: over their encoded bytes, in order). */
uint32_t wmmp_login_sync_crc(const uint8_t *tlvs, size_t len);

#endif
