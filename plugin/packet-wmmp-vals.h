/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet-wmmp-vals.h: value_strings generated from the codec's .def tables (packet-wmmp-vals.c), one
   definition of every name; the DAG: packet-wmmp.h. */
#ifndef PACKET_WMMP_VALS_H
#define PACKET_WMMP_VALS_H

#include <epan/packet.h> /* value_string: epan/value_string.h up to 4.4, wsutil/ from 4.6 */

#include "wmmp-compat.h"

extern const value_string wmmp_command_vals[];
extern const value_string wmmp_result_vals[];
extern const value_string wmmp_logout_reason_vals[];
extern const value_string wmmp_register_op_vals[];
extern const value_string wmmp_file_status_vals[];
extern const value_string wmmp_remote_cmd_vals[];
extern const value_string wmmp_connect_mode_vals[];
extern const value_string wmmp_fragment_op_vals[];
extern const value_string wmmp_class_vals[];
/* Tag names of the dictionary, built at registration by packet-wmmp-tlv.c (tag lists and wmmp.tlv.tag). */
extern value_string *wmmp_tag_vals;

#endif /* PACKET_WMMP_VALS_H */
