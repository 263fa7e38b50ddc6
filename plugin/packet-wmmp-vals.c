/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-vals.c: value_strings for the plugin, expanded from the codec's declaration tables so that every command,
 * result and reason is named in exactly one place (codec/wmmp_commands.def, codec/wmmp_values.def).
 */
#include <wireshark.h>

#include "packet-wmmp-vals.h"
#include "wmmp_tables.h"

const value_string wmmp_command_vals[] = {
#define WMMP_COMMAND(id, sym, name, sender, req, ack) { id, name }, { (id) | WMMP_ACK_BIT, name "_ACK" },
#include "wmmp_commands.def"
    { 0, NULL }
};

/* One array per value table: each includes the .def with only its own macro defined (it #undefs them). */

const value_string wmmp_result_vals[] = {
#define WMMP_RESULT(v, n) { v, n },
#include "wmmp_values.def"
    { 0, NULL }
};

const value_string wmmp_logout_reason_vals[] = {
#define WMMP_LOGOUT_REASON(v, n) { v, n },
#include "wmmp_values.def"
    { 0, NULL }
};

const value_string wmmp_register_op_vals[] = {
#define WMMP_REGISTER_OP(v, n) { v, n },
#include "wmmp_values.def"
    { 0, NULL }
};

const value_string wmmp_file_status_vals[] = {
#define WMMP_FILE_STATUS(v, n) { v, n },
#include "wmmp_values.def"
    { 0, NULL }
};

const value_string wmmp_remote_cmd_vals[] = {
#define WMMP_REMOTE_CMD(v, n) { v, n },
#include "wmmp_values.def"
    { 0, NULL }
};

const value_string wmmp_connect_mode_vals[] = {
#define WMMP_CONNECT_MODE(v, n) { v, n },
#include "wmmp_values.def"
    { 0, NULL }
};

const value_string wmmp_fragment_op_vals[] = {
#define WMMP_FRAGMENT_OP(v, n) { v, n },
#include "wmmp_values.def"
    { 0, NULL }
};

const value_string wmmp_class_vals[] = {
#define WMMP_MSG_CLASS(v, n) { v, n },
#include "wmmp_values.def"
    { 0, NULL }
};

value_string *wmmp_tag_vals;
