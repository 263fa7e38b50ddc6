/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lookups over the declaration tables (wmmp_commands.def, wmmp_tags.def, wmmp_values.def). */
#ifndef WMMP_TABLES_H
#define WMMP_TABLES_H

#include <stddef.h>
#include <stdint.h>

#define WMMP_ACK_BIT 0x8000u

typedef enum {
    WMMP_SENDER_TERMINAL = 1,
    WMMP_SENDER_PLATFORM = 2,
    WMMP_SENDER_BOTH = 3,
} wmmp_sender;

/* Command IDs as constants: WMMP_CMD_LOGIN, ... (requests; the ACK is | WMMP_ACK_BIT). */
enum {
#define WMMP_COMMAND(id, sym, name, sender, req, ack) WMMP_CMD_##sym = id,
#include "wmmp_commands.def"
};

/* Tags as constants: WMMP_TAG_APN, ... */
enum {
#define WMMP_TAG(tag, sym, name, type, len, unit, field) WMMP_TAG_##sym = tag,
#include "wmmp_tags.def"
};

/* The profile's values as constants (wmmp_values.def): WMMP_RESULT_OK, WMMP_LOGOUT_REASON_TIMEOUT, ... */
enum {
#define WMMP_RESULT_SYM(v, sym, n) WMMP_RESULT_##sym = v,
#include "wmmp_values.def"
};
enum {
#define WMMP_LOGOUT_REASON_SYM(v, sym, n) WMMP_LOGOUT_REASON_##sym = v,
#include "wmmp_values.def"
};
enum {
#define WMMP_REGISTER_OP_SYM(v, sym, n) WMMP_REGISTER_OP_##sym = v,
#include "wmmp_values.def"
};
enum {
#define WMMP_FILE_STATUS_SYM(v, sym, n) WMMP_FILE_STATUS_##sym = v,
#include "wmmp_values.def"
};
enum {
#define WMMP_REMOTE_CMD_SYM(v, sym, n) WMMP_REMOTE_CMD_##sym = v,
#include "wmmp_values.def"
};
enum {
#define WMMP_CONNECT_MODE_SYM(v, sym, n) WMMP_CONNECT_MODE_##sym = v,
#include "wmmp_values.def"
};

/* How a TLV value is typed (profile section 6). */
typedef enum {
    WMMP_VT_BYTES,    /* raw bytes */
    WMMP_VT_STRING,   /* ASCII, may be NUL-padded */
    WMMP_VT_IPV4,     /* 4 bytes */
    WMMP_VT_UINT8,
    WMMP_VT_UINT16,
    WMMP_VT_UINT32,
    WMMP_VT_HEX32,    /* uint32 best shown in hex (CRCs) */
    WMMP_VT_TIME,     /* uint32 Unix seconds */
    WMMP_VT_TAG_LIST, /* list of uint16 tags */
    WMMP_VT_CELL,     /* LAC (2) + Cell ID (2) */
    WMMP_VT_CSQ,      /* uint8 CSQ 0-31, 99 unknown */
    WMMP_VT_FRAGMENT, /* profile section 8 */
    WMMP_VT_CIPHER,   /* 3DES ciphertext container */
} wmmp_value_type;

/* Dialects: tag 0x0002 is the APN in WMMP 3.0 and the signal level in the seed paper. */
typedef enum { WMMP_DIALECT_WMMP3 = 0, WMMP_DIALECT_PAPER = 1 } wmmp_dialect;

typedef struct {
    uint16_t id;
    const char *name;        /* request name, e.g. "LOGIN" */
    const char *ack_name;    /* e.g. "LOGIN_ACK" */
    wmmp_sender sender;
    uint16_t request_prefix; /* fixed body bytes before the TLVs */
    uint16_t ack_prefix;
} wmmp_command_info;

typedef struct {
    uint16_t tag;
    const char *name;
    wmmp_value_type type;
    uint16_t fixed_len; /* 0 = variable */
    const char *unit;   /* "" when none */
    const char *field;  /* display-filter name under "wmmp.", e.g. "apn" */
} wmmp_tag_info;

static inline int wmmp_is_ack(uint16_t command_id) { return (command_id & WMMP_ACK_BIT) != 0; }
static inline uint16_t wmmp_request_of(uint16_t command_id) { return command_id & 0x7FFFu; }
/* FILE_REQ_ACK carries a data block after its fixed prefix (its last 2 bytes are the block's length), not TLVs. */
static inline int wmmp_carries_data_block(uint16_t command_id)
{
    return command_id == (WMMP_CMD_FILE_REQ | WMMP_ACK_BIT);
}

/* NULL when the request ID (ACK bit ignored) is not a known command. */
const wmmp_command_info *wmmp_command_lookup(uint16_t command_id);
/* "LOGIN", "LOGIN_ACK", or "UNKNOWN". */
const char *wmmp_command_name(uint16_t command_id);
/* Fixed body-prefix length of this command or ACK; -1 when unknown. */
int wmmp_command_prefix_len(uint16_t command_id);

/* NULL when the tag is not in the dictionary; honours the dialect for tag 0x0002. */
const wmmp_tag_info *wmmp_tag_lookup(uint16_t tag, wmmp_dialect dialect);
const wmmp_tag_info *wmmp_tag_table(size_t *count);

/* A (value, name) table built from a .def file, and its search; NULL when v has no name. */
typedef struct {
    unsigned value;
    const char *name;
} wmmp_value_name;
const char *wmmp_value_name_find(const wmmp_value_name *t, size_t n, unsigned v);
#define WMMP_VALUE_NAME_PAIR(v, n) { v, n },
#define WMMP_VALUE_NAME_LOOKUP(fn, table) \
    const char *fn(unsigned v) { return wmmp_value_name_find(table, sizeof table / sizeof table[0], v); }

/* Value names; NULL when the value has no name. */
const char *wmmp_result_name(unsigned v);
const char *wmmp_logout_reason_name(unsigned v);
const char *wmmp_register_op_name(unsigned v);
const char *wmmp_file_status_name(unsigned v);
const char *wmmp_remote_cmd_name(unsigned v);
const char *wmmp_connect_mode_name(unsigned v);
const char *wmmp_fragment_op_name(unsigned v);
const char *wmmp_class_name(unsigned v);

#endif
