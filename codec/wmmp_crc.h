/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The two checksums of profile section 13. */
#ifndef WMMP_CRC_H
#define WMMP_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR ("123456789" -> 0x29B1). */
uint16_t wmmp_crc16(const uint8_t *data, size_t len);

/* IEEE 802.3 CRC-32 as in zlib ("123456789" -> 0xCBF43926). Pass 0 as crc to start; chain to continue. */
uint32_t wmmp_crc32_update(uint32_t crc, const uint8_t *data, size_t len);
static inline uint32_t wmmp_crc32(const uint8_t *data, size_t len) { return wmmp_crc32_update(0, data, len); }

/* The same checksums a byte at a time (the references the unit tests compare the fast versions with).
   wmmp_crc16_bytewise continues from crc: pass 0xFFFF to start. */
uint16_t wmmp_crc16_bytewise(uint16_t crc, const uint8_t *data, size_t len);
uint32_t wmmp_crc32_update_bytewise(uint32_t crc, const uint8_t *data, size_t len);

#endif
