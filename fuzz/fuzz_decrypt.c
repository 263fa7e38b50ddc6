/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Security (profile section 7): 3DES-ECB decryption of 0xE040 / 0xE042 containers, zero-padding removal,
 * session-key extraction and digest verification on arbitrary bytes; encryption round trips.
 */
#include <stdlib.h>

#include "fuzz_common.h"
#include "wmmp_security.h"
#include "wmmp_tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const wmmp_terminal_keys *k = fuzz_keys();
    if (size < 1)
        return 0;
    uint8_t which = data[0];
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    uint8_t *plain = malloc(wmmp_cipher_len(len) + 8);
    uint8_t *back = malloc(wmmp_cipher_len(len) + 8);
    if (!plain || !back)
        abort();
    switch (which % 4) {
    case 0:   /* an 0xE040 value under the base key */
    case 1: { /* an 0xE042 value under a session key taken from the input */
        uint8_t key[WMMP_DES_KEY_LEN];
        const uint8_t *c = in;
        size_t clen = len;
        if (which % 4 == 0) {
            memcpy(key, k->base_key, sizeof key);
        } else {
            if (len < sizeof key)
                break;
            memcpy(key, in, sizeof key);
            c += sizeof key;
            clen -= sizeof key;
        }
        wmmp_err e = wmmp_decrypt(key, c, clen, plain);
        if ((e == WMMP_OK) != (clen % 8 == 0))
            __builtin_trap();
        if (e != WMMP_OK)
            break;
        size_t n = wmmp_unpadded_tlv_len(plain, clen);
        if (n > clen || clen - n >= 8)
            __builtin_trap();
        wmmp_tlv_validate(plain, n, NULL);
        if (wmmp_encrypt(key, plain, clen, back) != WMMP_OK || memcmp(back, c, clen) != 0)
            __builtin_trap();
        break;
    }
    case 2: { /* session key out of a LOGIN_ACK's 0xE040 */
        uint8_t sk[WMMP_SESSION_KEY_LEN];
        uint32_t expiry = 0;
        if (wmmp_session_key_from_e040(in, len, k->base_key, sk, &expiry) == WMMP_OK)
            fuzz_use(sk, sizeof sk);
        break;
    }
    case 3: { /* a message's digest, both directions, timestamp from the input */
        uint32_t ts = len >= 4 ? wmmp_load32(in) : 0;
        wmmp_err up = wmmp_digest_verify(in, len, ts, k, WMMP_UPLINK);
        wmmp_err down = wmmp_digest_verify(in, len, ts, k, WMMP_DOWNLINK);
        if ((up == WMMP_ERR_DIGEST_MISSING) != !wmmp_has_digest_tlv(in, len) ||
            (down == WMMP_ERR_DIGEST_MISSING) != (up == WMMP_ERR_DIGEST_MISSING))
            __builtin_trap();
        /* encrypt then decrypt any plaintext */
        if (wmmp_encrypt(k->base_key, in, len, plain) != WMMP_OK ||
            wmmp_decrypt(k->base_key, plain, wmmp_cipher_len(len), back) != WMMP_OK || memcmp(back, in, len) != 0)
            __builtin_trap();
        for (size_t i = len; i < wmmp_cipher_len(len); i++)
            if (back[i] != 0)
                __builtin_trap();
        break;
    }
    }
    free(plain);
    free(back);
    return 0;
}
