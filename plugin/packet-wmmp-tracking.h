/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet-wmmp-tracking.h: request/ACK tracking (packet-wmmp-tracking.c); the DAG: packet-wmmp.h. */
#ifndef PACKET_WMMP_TRACKING_H
#define PACKET_WMMP_TRACKING_H

#include <epan/prefs.h>

#include "packet-wmmp.h"

/* Registers the tracking fields (wmmp.response_in, .response_to, .response_time, .retransmission), expert
   items and the preference tracking_max_exchanges; called from proto_register_wmmp. */
void wmmp_tracking_register(module_t *module);
/*
 * Links requests and ACKs of one conversation (requester direction, request command, sequence; fragment
 * parts also by part number), adds the tracking fields under tree, marks retransmissions (field, expert
 * note, " [Retransmission]" in Info), flags an ACK without request and, on the second pass, a request
 * never answered. Fills ctx->is_request, retransmission, has_response_time, response_time and
 * request_frame. Returns true for a retransmission.
 */
bool wmmp_track_message(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, wmmp_msg_ctx *ctx);

#endif /* PACKET_WMMP_TRACKING_H */
