/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-memo.h: what the first pass worked out for a message, kept for the capture so that later
 * passes (tshark -2, GUI re-dissection) show it without redoing the work: the digest verdict (an MD5) and
 * decrypted containers (3DES). File scope; forgotten with the capture.
 */
#ifndef PACKET_WMMP_MEMO_H
#define PACKET_WMMP_MEMO_H

#include <epan/packet.h>

#include "packet-wmmp.h"

/* One byte per message (0: nothing kept yet). One byte a frame for the first message of each frame. */
uint8_t wmmp_memo_verdict(const packet_info *pinfo, unsigned msg_index);
void wmmp_memo_set_verdict(const packet_info *pinfo, unsigned msg_index, uint8_t verdict);

/* The plaintext kept for the message's nth decrypted container when it was made from these len bytes of
   ciphertext (a fingerprint of them is kept too), else NULL; the plaintext has len bytes. */
const uint8_t *wmmp_memo_plaintext(const packet_info *pinfo, unsigned msg_index, unsigned nth,
                                   const uint8_t *cipher, unsigned len);
void wmmp_memo_set_plaintext(const packet_info *pinfo, unsigned msg_index, unsigned nth, const uint8_t *cipher,
                             const uint8_t *plain, unsigned len);

/* Registers the init routine that starts each capture with nothing kept. */
void wmmp_memo_register(void);

#endif /* PACKET_WMMP_MEMO_H */
