/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet-wmmp-fragment.h: reassembly of 0x4008 parts (packet-wmmp-fragment.c); the DAG: packet-wmmp.h. */
#ifndef PACKET_WMMP_FRAGMENT_H
#define PACKET_WMMP_FRAGMENT_H

#include <epan/prefs.h>

#include "packet-wmmp.h"

void wmmp_fragment_register(module_t *module);
/*
 * Dissects a 0x4008 value at tvb[offset, offset + len) under tree; for a data part, adds it to the
 * reassembly and returns the reassembled body when this part completes it (NULL otherwise).
 */
tvbuff_t *wmmp_fragment_dissect(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                                wmmp_dissect_state *st);

#endif /* PACKET_WMMP_FRAGMENT_H */
