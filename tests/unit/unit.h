/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared helpers for the CUnit unit tests. */
#ifndef WMMP_UNIT_H
#define WMMP_UNIT_H

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdint.h>

#include "wmmp_security.h"

/* Each test_<name>.c ends with UNIT_SUITE_TESTS(name, tests), tests being a CU_TestInfo array. */
#define UNIT_SUITE_TESTS(name, tests) CU_TestInfo *unit_suite_##name = tests;

/* Parses hex digits into out, skipping spaces, newlines and '|'; returns the byte count (aborts on a typo). */
size_t unit_hex(const char *hex, uint8_t *out, size_t cap);

/* The example terminal of captures/wmmp-keys.txt, as a keys-file line and parsed. */
#define UNIT_KEYS_LINE                                                                                       \
    "\"A00MS8011390002S\",\"860000000000001\",\"460001234567890\",\"12345678\",\"87654321\","                  \
    "\"0123456789abcdeffedcba98765432100011223344556677\""
wmmp_terminal_keys unit_example_keys(void);

#define UNIT_ASSERT_BYTES(actual, expected, n) CU_ASSERT_EQUAL(memcmp((actual), (expected), (n)), 0)

#endif
