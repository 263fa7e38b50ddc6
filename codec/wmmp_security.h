/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * WMMP security (profile section 7): the MD5 digest with its timestamp rules, and two-key triple DES in
 * ECB mode with zero padding for the 0xE040 / 0xE042 containers. 3DES through libgcrypt; MD5 is the
 * codec's own (wmmp_md5.h).
 */
#ifndef WMMP_SECURITY_H
#define WMMP_SECURITY_H

#include <stddef.h>
#include <stdint.h>

#include "wmmp_errors.h"
#include "wmmp_tlv.h"

#define WMMP_DIGEST_LEN 16
#define WMMP_DIGEST_TLV_LEN 20 /* E021 0010 <16-byte MD5> */
#define WMMP_IMEI_LEN 16       /* 15 digits + 0x00 on the wire */
#define WMMP_IMSI_LEN 15
#define WMMP_PASSWORD_LEN 8
#define WMMP_BASE_KEY_LEN 24
#define WMMP_DES_KEY_LEN 16    /* K1 | K2; K3 = K1 */
#define WMMP_SESSION_KEY_LEN 16

/* What both sides share about one terminal (one line of the keys file, profile section 11). */
typedef struct {
    char serial[17];                     /* 16 characters + NUL */
    char imei[WMMP_IMEI_LEN];            /* 15 digits + NUL: exactly the 16 bytes the digest uses */
    char imsi[WMMP_IMSI_LEN + 1];        /* 15 digits + NUL */
    uint8_t uplink_password[WMMP_PASSWORD_LEN];
    uint8_t downlink_password[WMMP_PASSWORD_LEN];
    uint8_t base_key[WMMP_BASE_KEY_LEN];
} wmmp_terminal_keys;

/* Who sent the message: the terminal signs with the uplink password, the platform with the downlink one. */
typedef enum { WMMP_UPLINK = 0, WMMP_DOWNLINK = 1 } wmmp_direction;

/* Initialises libgcrypt once if nobody has (safe to call repeatedly, also inside Wireshark). */
void wmmp_crypto_init(void);

/*
 * MD5 over msg[0, covered_len) || timestamp (4) || IMEI (16) || IMSI (15) || password (8).
 * covered_len is Total_Length - 20, and the header's Total_Length must already be final.
 */
void wmmp_digest_compute(const uint8_t *msg, size_t covered_len, uint32_t timestamp,
                         const wmmp_terminal_keys *keys, wmmp_direction dir, uint8_t out[WMMP_DIGEST_LEN]);

/*
 * Checks the digest TLV that ends the len-byte message: WMMP_OK, WMMP_ERR_DIGEST_MISSING when the message
 * does not end with E021 0010 + 16 bytes, WMMP_ERR_DIGEST_MISMATCH when the MD5 differs.
 */
wmmp_err wmmp_digest_verify(const uint8_t *msg, size_t len, uint32_t timestamp, const wmmp_terminal_keys *keys,
                            wmmp_direction dir);

/* True when the len-byte message ends with a well-formed digest TLV. */
int wmmp_has_digest_tlv(const uint8_t *msg, size_t len);

static inline size_t wmmp_cipher_len(size_t plain_len) { return (plain_len + 7) & ~(size_t)7; }

/*
 * Two-key 3DES-ECB. Encryption pads with 0x00 to a multiple of 8 (out must hold wmmp_cipher_len(len));
 * decryption needs a multiple of 8 (WMMP_ERR_CIPHER_LENGTH otherwise). in and out may be the same buffer.
 */
wmmp_err wmmp_encrypt(const uint8_t key[WMMP_DES_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out);
wmmp_err wmmp_decrypt(const uint8_t key[WMMP_DES_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out);

/*
 * The zero-padding rule of decrypted data (docs/PROTOCOL-NOTES.md, "Security"), in one place: 3DES pads
 * the plaintext with fewer than 8 0x00 bytes, which are dropped again after decryption.
 */
/* The length of a decrypted TLV sequence without its zero padding (fewer than 8 trailing 0x00 bytes). */
size_t wmmp_unpadded_tlv_len(const uint8_t *plain, size_t len);

/*
 * The length of a decrypted message body (the plaintext of its 0xE042) without the padding: the command's
 * fixed prefix, then the data block whose length ends the prefix (FILE_REQ_ACK) or the TLVs up to the
 * padding (every other command). WMMP_ERR_BODY_TRUNCATED when the prefix or the data block runs past len;
 * *out is then the best guess for showing the body (the TLVs of the whole plaintext, or all of it).
 */
wmmp_err wmmp_unpadded_body_len(uint16_t command_id, const uint8_t *plain, size_t len, size_t *out);

/*
 * Appends the TLVs inside one 0xE040 value (cipher, len bytes) decrypted under key, without the padding.
 * WMMP_ERR_CIPHER_LENGTH when len is not a multiple of 8, the TLV errors when the plaintext is not a TLV
 * sequence; w's sticky error on lack of space. On any failure w holds what it held before (or has its error
 * set). An empty value appends nothing.
 */
wmmp_err wmmp_put_opened_tlvs(wmmp_writer *w, const uint8_t key[WMMP_DES_KEY_LEN], const uint8_t *cipher, size_t len);

/* Appends a container TLV (0xE040 or 0xE042) holding plain encrypted under key. */
wmmp_err wmmp_put_cipher_tlv(wmmp_writer *w, uint16_t tag, const uint8_t key[WMMP_DES_KEY_LEN],
                             const uint8_t *plain, size_t len);

/*
 * Decrypts an 0xE040 value under the base key and picks out the session key (0xE03B) and its expiry
 * (0xE03D, 0 when absent). WMMP_ERR_TLV_MISSING when the plaintext holds no session key.
 */
wmmp_err wmmp_session_key_from_e040(const uint8_t *cipher, size_t len, const uint8_t base_key[WMMP_BASE_KEY_LEN],
                                    uint8_t session_key[WMMP_SESSION_KEY_LEN], uint32_t *expiry);

#endif
