/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_tables.h"

static const wmmp_command_info commands[] = {
#define WMMP_COMMAND(id, sym, name, sender, req, ack) { id, name, name "_ACK", sender, req, ack },
#include "wmmp_commands.def"
};

static const wmmp_tag_info tags[] = {
#define WMMP_TAG(tag, sym, name, type, len, unit, field) { tag, name, type, len, unit, field },
#include "wmmp_tags.def"
};

/* The seed paper names tag 0x0002 as the signal intensity (profile section 6, "paper" dialect). */
static const wmmp_tag_info paper_signal_level = { 0x0002, "Signal level (paper dialect)", WMMP_VT_CSQ, 1, "", "signal_level" };

const wmmp_command_info *wmmp_command_lookup(uint16_t command_id)
{
    uint16_t id = wmmp_request_of(command_id);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].id == id)
            return &commands[i];
    return NULL;
}

const char *wmmp_command_name(uint16_t command_id)
{
    const wmmp_command_info *c = wmmp_command_lookup(command_id);
    if (!c)
        return wmmp_is_ack(command_id) ? "UNKNOWN_ACK" : "UNKNOWN";
    return wmmp_is_ack(command_id) ? c->ack_name : c->name;
}

int wmmp_command_prefix_len(uint16_t command_id)
{
    const wmmp_command_info *c = wmmp_command_lookup(command_id);
    if (!c)
        return -1;
    return wmmp_is_ack(command_id) ? c->ack_prefix : c->request_prefix;
}

const wmmp_tag_info *wmmp_tag_lookup(uint16_t tag, wmmp_dialect dialect)
{
    if (tag == 0x0002 && dialect == WMMP_DIALECT_PAPER)
        return &paper_signal_level;
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        if (tags[i].tag == tag)
            return &tags[i];
    return NULL;
}

const wmmp_tag_info *wmmp_tag_table(size_t *count)
{
    *count = sizeof tags / sizeof tags[0];
    return tags;
}

/* The value tables of wmmp_values.def as (value, name) arrays. */
const char *wmmp_value_name_find(const wmmp_value_name *t, size_t n, unsigned v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].value == v)
            return t[i].name;
    return NULL;
}

#define PAIR WMMP_VALUE_NAME_PAIR
#define LOOKUP WMMP_VALUE_NAME_LOOKUP

static const wmmp_value_name result_names[] = {
#define WMMP_RESULT PAIR
#include "wmmp_values.def"
};
LOOKUP(wmmp_result_name, result_names)

static const wmmp_value_name logout_reason_names[] = {
#define WMMP_LOGOUT_REASON PAIR
#include "wmmp_values.def"
};
LOOKUP(wmmp_logout_reason_name, logout_reason_names)

static const wmmp_value_name register_op_names[] = {
#define WMMP_REGISTER_OP PAIR
#include "wmmp_values.def"
};
LOOKUP(wmmp_register_op_name, register_op_names)

static const wmmp_value_name file_status_names[] = {
#define WMMP_FILE_STATUS PAIR
#include "wmmp_values.def"
};
LOOKUP(wmmp_file_status_name, file_status_names)

static const wmmp_value_name remote_cmd_names[] = {
#define WMMP_REMOTE_CMD PAIR
#include "wmmp_values.def"
};
LOOKUP(wmmp_remote_cmd_name, remote_cmd_names)

static const wmmp_value_name connect_mode_names[] = {
#define WMMP_CONNECT_MODE PAIR
#include "wmmp_values.def"
};
LOOKUP(wmmp_connect_mode_name, connect_mode_names)

static const wmmp_value_name fragment_op_names[] = {
#define WMMP_FRAGMENT_OP PAIR
#include "wmmp_values.def"
};
LOOKUP(wmmp_fragment_op_name, fragment_op_names)

static const wmmp_value_name class_names[] = {
#define WMMP_MSG_CLASS PAIR
#include "wmmp_values.def"
};
LOOKUP(wmmp_class_name, class_names)
