/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the libFuzzer harnesses (fuzz_*.c): the example terminal's keys and a small cursor over the
 * fuzzer's input. Every harness defines LLVMFuzzerTestOneInput; built with clang -fsanitize=fuzzer it is a
 * fuzzer, linked with replay_main.c it replays files (the regression tests of tests/reliability).
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wmmp_keys.h"

/* The terminal of captures/wmmp-keys.txt, the keys of the reference captures the seeds come from. */
#define FUZZ_KEYS_LINE                                                                                      \
    "\"A00MS8011390002S\",\"860000000000001\",\"460001234567890\",\"12345678\",\"87654321\","             \
    "\"0123456789abcdeffedcba98765432100011223344556677\""
#define FUZZ_SERIAL "A00MS8011390002S"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static inline const wmmp_terminal_keys *fuzz_keys(void)
{
    static wmmp_terminal_keys k;
    static int done;
    if (!done) {
        if (wmmp_keys_parse_line(FUZZ_KEYS_LINE, &k, NULL, 0) != WMMP_OK)
            __builtin_trap();
        wmmp_crypto_init();
        done = 1;
    }
    return &k;
}

/* A cursor over the input: bytes taken from the front; 0 / empty once it runs out. */
typedef struct {
    const uint8_t *p;
    size_t left;
} fuzz_in;

static inline uint8_t fuzz_u8(fuzz_in *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(fuzz_in *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)((hi << 8) | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(fuzz_in *in)
{
    uint32_t hi = fuzz_u16(in);
    return (hi << 16) | fuzz_u16(in);
}

/* The next chunk: a 2-byte length then that many bytes (fewer at the end of the input). */
static inline const uint8_t *fuzz_chunk(fuzz_in *in, size_t *len)
{
    size_t n = fuzz_u16(in);
    const uint8_t *p = in->p;
    if (n > in->left)
        n = in->left;
    in->p += n;
    in->left -= n;
    *len = n;
    return p;
}

/* Keeps the compiler from dropping a result. */
static inline void fuzz_use(const void *p, size_t n)
{
    volatile uint8_t sink = 0;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        sink ^= b[i];
    (void)sink;
}

#endif
