/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet-wmmp-tlv.h: TLV lists (packet-wmmp-tlv.c); the DAG: packet-wmmp.h. */
#ifndef PACKET_WMMP_TLV_H
#define PACKET_WMMP_TLV_H

#include <epan/prefs.h>

#include "packet-wmmp.h"

/* Registers the TLV fields (one per dictionary tag), the wmmp_tags table, the dialect preference, and the
   heuristic list and Decode As table for user data (WMMP_USER_DATA_HEUR_LIST, WMMP_USER_DATA_TABLE). */
void wmmp_tlv_register(module_t *module);
/* The field of a dictionary tag (e.g. wmmp.imei for 0xE00E), also used for body prefixes. */
int wmmp_tlv_field(uint16_t tag);
/* Dissects the TLVs in tvb[offset, offset + len); every TLV gets its subtree; never reads beyond. Decrypted
   and reassembled bodies go to st->dissect_body. */
void wmmp_dissect_tlvs(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                       wmmp_dissect_state *st);
/* Once the body is dissected: " cmd=Reboot", " tags=apn,heartbeat_interval" or " rejected=apn" in Info for
   CONFIG_* and REMOTE_CTRL messages, from the TLVs the body held. */
void wmmp_tlv_append_info(packet_info *pinfo, wmmp_dissect_state *st);

#endif /* PACKET_WMMP_TLV_H */
