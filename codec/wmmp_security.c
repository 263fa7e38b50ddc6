/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_security.h"

#include <gcrypt.h>
#include <stdlib.h>
#include <string.h>

#include "wmmp_md5.h"
#include "wmmp_tables.h"

void wmmp_crypto_init(void)
{
    if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
        return;
    gcry_check_version(NULL);
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
}

void wmmp_digest_compute(const uint8_t *msg, size_t covered_len, uint32_t timestamp,
                         const wmmp_terminal_keys *keys, wmmp_direction dir, uint8_t out[WMMP_DIGEST_LEN])
{
    /* timestamp (4) || IMEI (16) || IMSI (15) || password (8) */
    uint8_t trailer[4 + WMMP_IMEI_LEN + WMMP_IMSI_LEN + WMMP_PASSWORD_LEN];
    wmmp_store32(trailer, timestamp);
    memcpy(trailer + 4, keys->imei, WMMP_IMEI_LEN);
    memcpy(trailer + 4 + WMMP_IMEI_LEN, keys->imsi, WMMP_IMSI_LEN);
    memcpy(trailer + 4 + WMMP_IMEI_LEN + WMMP_IMSI_LEN,
           dir == WMMP_UPLINK ? keys->uplink_password : keys->downlink_password, WMMP_PASSWORD_LEN);

    /* the codec's own MD5: libgcrypt's set-up per call cost more than hashing a message (wmmp_md5.h) */
    wmmp_md5_ctx md5;
    wmmp_md5_init(&md5);
    wmmp_md5_update(&md5, msg, covered_len);
    wmmp_md5_update(&md5, trailer, sizeof trailer);
    wmmp_md5_final(&md5, out);
}

int wmmp_has_digest_tlv(const uint8_t *msg, size_t len)
{
    if (len < WMMP_DIGEST_TLV_LEN)
        return 0;
    const uint8_t *t = msg + len - WMMP_DIGEST_TLV_LEN;
    return wmmp_load16(t) == WMMP_TAG_DIGEST && wmmp_load16(t + 2) == WMMP_DIGEST_LEN;
}

wmmp_err wmmp_digest_verify(const uint8_t *msg, size_t len, uint32_t timestamp, const wmmp_terminal_keys *keys,
                            wmmp_direction dir)
{
    if (!wmmp_has_digest_tlv(msg, len))
        return WMMP_ERR_DIGEST_MISSING;
    uint8_t md5[WMMP_DIGEST_LEN];
    wmmp_digest_compute(msg, len - WMMP_DIGEST_TLV_LEN, timestamp, keys, dir, md5);
    return memcmp(md5, msg + len - WMMP_DIGEST_LEN, WMMP_DIGEST_LEN) == 0 ? WMMP_OK : WMMP_ERR_DIGEST_MISMATCH;
}

static wmmp_err des_ede(const uint8_t key[WMMP_DES_KEY_LEN], int encrypt, const uint8_t *in, size_t len,
                        uint8_t *out)
{
    gcry_cipher_hd_t h;
    uint8_t k3[24];
    memcpy(k3, key, 16);
    memcpy(k3 + 16, key, 8); /* K3 = K1: two-key triple DES */
    wmmp_crypto_init();
    if (gcry_cipher_open(&h, GCRY_CIPHER_3DES, GCRY_CIPHER_MODE_ECB, 0))
        return WMMP_ERR_CRYPTO;
    /* A weak DES key is still a key the peer may use: tell libgcrypt to accept it. */
    gcry_cipher_ctl(h, GCRYCTL_SET_ALLOW_WEAK_KEY, NULL, 1);
    gcry_error_t e = gcry_cipher_setkey(h, k3, sizeof k3);
    if (e && gcry_err_code(e) != GPG_ERR_WEAK_KEY) {
        gcry_cipher_close(h);
        return WMMP_ERR_CRYPTO;
    }
    if (in != out)
        memmove(out, in, len);
    e = encrypt ? gcry_cipher_encrypt(h, out, len, NULL, 0) : gcry_cipher_decrypt(h, out, len, NULL, 0);
    gcry_cipher_close(h);
    return e ? WMMP_ERR_CRYPTO : WMMP_OK;
}

wmmp_err wmmp_encrypt(const uint8_t key[WMMP_DES_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out)
{
    size_t padded = wmmp_cipher_len(len);
    if (in != out)
        memmove(out, in, len);
    memset(out + len, 0, padded - len);
    return des_ede(key, 1, out, padded, out);
}

wmmp_err wmmp_decrypt(const uint8_t key[WMMP_DES_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out)
{
    if (len % 8)
        return WMMP_ERR_CIPHER_LENGTH;
    return des_ede(key, 0, in, len, out);
}

size_t wmmp_unpadded_tlv_len(const uint8_t *plain, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        size_t left = len - pos;
        if (left < 8) {
            size_t i = pos;
            while (i < len && plain[i] == 0)
                i++;
            if (i == len)
                return pos; /* only zero padding remains */
        }
        if (left < WMMP_TLV_HEADER_LEN)
            return len;
        size_t next = pos + WMMP_TLV_HEADER_LEN + wmmp_load16(plain + pos + 2);
        if (next > len)
            return len;
        pos = next;
    }
    return len;
}

wmmp_err wmmp_unpadded_body_len(uint16_t command_id, const uint8_t *plain, size_t len, size_t *out)
{
    int p = wmmp_command_prefix_len(command_id);
    size_t prefix = p > 0 ? (size_t)p : 0;
    if (prefix > len) {
        *out = wmmp_unpadded_tlv_len(plain, len);
        return WMMP_ERR_BODY_TRUNCATED;
    }
    if (wmmp_carries_data_block(command_id) && prefix >= 2) {
        size_t n = prefix + wmmp_load16(plain + prefix - 2);
        *out = n > len ? len : n;
        return n > len ? WMMP_ERR_BODY_TRUNCATED : WMMP_OK;
    }
    *out = prefix + wmmp_unpadded_tlv_len(plain + prefix, len - prefix);
    return WMMP_OK;
}

wmmp_err wmmp_put_opened_tlvs(wmmp_writer *w, const uint8_t key[WMMP_DES_KEY_LEN], const uint8_t *cipher, size_t len)
{
    if (len % 8)
        return WMMP_ERR_CIPHER_LENGTH;
    if (len == 0)
        return w->err;
    size_t before = w->len;
    uint8_t *plain = wmmp_put_reserve(w, len);
    if (!plain)
        return w->err;
    wmmp_err e = wmmp_decrypt(key, cipher, len, plain);
    size_t n = e == WMMP_OK ? wmmp_unpadded_tlv_len(plain, len) : 0;
    if (e == WMMP_OK)
        e = wmmp_tlv_validate(plain, n, NULL);
    w->len = e == WMMP_OK ? before + n : before; /* drop the padding, or everything */
    return e;
}

wmmp_err wmmp_put_cipher_tlv(wmmp_writer *w, uint16_t tag, const uint8_t key[WMMP_DES_KEY_LEN],
                             const uint8_t *plain, size_t len)
{
    size_t clen = wmmp_cipher_len(len);
    if (clen > 0xFFFF) {
        if (w->err == WMMP_OK)
            w->err = WMMP_ERR_TOO_LONG;
        return w->err;
    }
    wmmp_put_u16(w, tag);
    wmmp_put_u16(w, (uint16_t)clen);
    uint8_t *p = wmmp_put_reserve(w, clen);
    if (!p)
        return w->err;
    wmmp_err e = wmmp_encrypt(key, plain, len, p);
    if (e != WMMP_OK)
        w->err = e;
    return w->err;
}

wmmp_err wmmp_session_key_from_e040(const uint8_t *cipher, size_t len, const uint8_t base_key[WMMP_BASE_KEY_LEN],
                                    uint8_t session_key[WMMP_SESSION_KEY_LEN], uint32_t *expiry)
{
    if (len % 8)
        return WMMP_ERR_CIPHER_LENGTH;
    uint8_t *plain = malloc(len ? len : 1);
    if (!plain)
        return WMMP_ERR_NO_SPACE;
    wmmp_err e = wmmp_decrypt(base_key, cipher, len, plain);
    size_t plen = e == WMMP_OK ? wmmp_unpadded_tlv_len(plain, len) : 0;
    wmmp_tlv t;
    if (e == WMMP_OK)
        e = wmmp_tlv_find(plain, plen, WMMP_TAG_SESSION_KEY, &t);
    if (e == WMMP_OK && t.length != WMMP_SESSION_KEY_LEN)
        e = WMMP_ERR_TLV_BAD_LENGTH;
    if (e == WMMP_OK) {
        memcpy(session_key, t.value, WMMP_SESSION_KEY_LEN);
        *expiry = 0;
        if (wmmp_tlv_find(plain, plen, WMMP_TAG_SESSION_KEY_EXPIRY, &t) == WMMP_OK)
            wmmp_tlv_u32(&t, expiry);
    }
    free(plain);
    return e;
}
