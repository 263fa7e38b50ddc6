/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-memo.c: first-pass results per message (packet-wmmp-memo.h). Verdicts take one byte per frame
 * in pages indexed by frame number (a million messages: 1 MB); the further messages of a frame (several in
 * one datagram or TCP segment, rare) and plaintexts live in maps keyed by frame, message and position.
 */
#include <wireshark.h>

#include <epan/packet.h>

#include "packet-wmmp-memo.h"

#define PAGE_BITS 12
#define PAGE_SIZE (1u << PAGE_BITS)

typedef struct {
    uint32_t frame;
    uint32_t msg_index;
    uint32_t nth;
} memo_key;

typedef struct {
    unsigned len;
    uint64_t cipher_hash; /* the ciphertext's fingerprint: a later pass uses the plaintext for the same bytes only */
    uint8_t bytes[];
} memo_bytes;

static uint8_t **verdict_pages;
static unsigned n_verdict_pages;
static wmem_map_t *more_verdicts; /* memo_key (nth 0) -> verdict, messages after a frame's first */
static wmem_map_t *plaintexts;    /* memo_key -> memo_bytes */

static unsigned memo_key_hash(const void *k)
{
    const memo_key *key = (const memo_key *)k;
    return key->frame * 2654435761u ^ key->msg_index * 40503u ^ key->nth;
}

static gboolean memo_key_equal(const void *a, const void *b)
{
    const memo_key *x = (const memo_key *)a, *y = (const memo_key *)b;
    return x->frame == y->frame && x->msg_index == y->msg_index && x->nth == y->nth;
}

static memo_key *new_key(const packet_info *pinfo, unsigned msg_index, unsigned nth)
{
    memo_key *k = wmem_new(wmem_file_scope(), memo_key);
    k->frame = pinfo->num;
    k->msg_index = msg_index;
    k->nth = nth;
    return k;
}

uint8_t wmmp_memo_verdict(const packet_info *pinfo, unsigned msg_index)
{
    if (msg_index > 0) {
        memo_key k = { pinfo->num, msg_index, 0 };
        return (uint8_t)GPOINTER_TO_UINT(wmem_map_lookup(more_verdicts, &k));
    }
    unsigned page = pinfo->num >> PAGE_BITS;
    return page < n_verdict_pages && verdict_pages[page] ? verdict_pages[page][pinfo->num & (PAGE_SIZE - 1)] : 0;
}

void wmmp_memo_set_verdict(const packet_info *pinfo, unsigned msg_index, uint8_t verdict)
{
    if (msg_index > 0) {
        wmem_map_insert(more_verdicts, new_key(pinfo, msg_index, 0), GUINT_TO_POINTER(verdict));
        return;
    }
    unsigned page = pinfo->num >> PAGE_BITS;
    if (page >= n_verdict_pages) {
        unsigned n = MAX(page + 1, n_verdict_pages * 2);
        verdict_pages = (uint8_t **)wmem_realloc(wmem_file_scope(), verdict_pages, n * sizeof *verdict_pages);
        memset(verdict_pages + n_verdict_pages, 0, (n - n_verdict_pages) * sizeof *verdict_pages);
        n_verdict_pages = n;
    }
    if (!verdict_pages[page])
        verdict_pages[page] = (uint8_t *)wmem_alloc0(wmem_file_scope(), PAGE_SIZE);
    verdict_pages[page][pinfo->num & (PAGE_SIZE - 1)] = verdict;
}

/* FNV-1a, 64 bits: a few cycles a byte against 3DES's hundreds */
static uint64_t fingerprint(const uint8_t *bytes, unsigned len)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (unsigned i = 0; i < len; i++)
        h = (h ^ bytes[i]) * 0x100000001b3u;
    return h;
}

const uint8_t *wmmp_memo_plaintext(const packet_info *pinfo, unsigned msg_index, unsigned nth,
                                   const uint8_t *cipher, unsigned len)
{
    memo_key k = { pinfo->num, msg_index, nth };
    const memo_bytes *b = (const memo_bytes *)wmem_map_lookup(plaintexts, &k);
    if (!b || b->len != len || b->cipher_hash != fingerprint(cipher, len))
        return NULL;
    return b->bytes;
}

void wmmp_memo_set_plaintext(const packet_info *pinfo, unsigned msg_index, unsigned nth, const uint8_t *cipher,
                             const uint8_t *plain, unsigned len)
{
    memo_bytes *b = (memo_bytes *)wmem_alloc(wmem_file_scope(), sizeof *b + len);
    b->len = len;
    b->cipher_hash = fingerprint(cipher, len);
    memcpy(b->bytes, plain, len);
    wmem_map_insert(plaintexts, new_key(pinfo, msg_index, nth), b);
}

static void memo_init(void)
{
    verdict_pages = NULL;
    n_verdict_pages = 0;
}

void wmmp_memo_register(void)
{
    more_verdicts = wmem_map_new_autoreset(wmem_epan_scope(), wmem_file_scope(), memo_key_hash, memo_key_equal);
    plaintexts = wmem_map_new_autoreset(wmem_epan_scope(), wmem_file_scope(), memo_key_hash, memo_key_equal);
    register_init_routine(memo_init);
}
