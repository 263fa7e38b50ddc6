/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet-wmmp-security.h: keys, digests and decryption (packet-wmmp-security.c); the DAG: packet-wmmp.h. */
#ifndef PACKET_WMMP_SECURITY_H
#define PACKET_WMMP_SECURITY_H

#include <epan/prefs.h>

#include "packet-wmmp.h"

void wmmp_security_register(module_t *module);
/* Verifies the digest TLV at tvb[offset, offset + 20) of the len-byte message tvb[0, len) with the sender's
   password (and no other): wmmp.digest.status Good, Bad (expert item, " [BAD DIGEST]") or Unverified. */
void wmmp_security_digest(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                          wmmp_dissect_state *st);
/* Remembers a successful LOGIN_ACK's timestamp for the rest of the terminal's session (first pass). */
void wmmp_security_login_ack(packet_info *pinfo, wmmp_dissect_state *st, uint8_t result, uint32_t timestamp);
/*
 * Decrypts an 0xE040 (base key) or 0xE042 (session key) value at tvb[offset, offset + len) and returns the
 * plaintext, without padding, as a new data source; NULL (with the reason in tree) when it cannot.
 */
tvbuff_t *wmmp_security_decrypt(tvbuff_t *tvb, int offset, int len, uint16_t tag, packet_info *pinfo,
                                proto_tree *tree, wmmp_dissect_state *st);
/* A session key seen in decrypted TLVs (0xE03B): used for the terminal's later 0xE042 bodies. */
void wmmp_security_session_key(packet_info *pinfo, wmmp_dissect_state *st, tvbuff_t *tvb, int offset);

#endif /* PACKET_WMMP_SECURITY_H */
