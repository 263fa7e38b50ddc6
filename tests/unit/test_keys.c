/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The keys file of section 11. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "wmmp_keys.h"

#define GOOD UNIT_KEYS_LINE /* a valid line */

static void test_parse_good_line(void)
{
    wmmp_terminal_keys k;
    CU_ASSERT_EQUAL_FATAL(wmmp_keys_parse_line(GOOD "\n", &k, NULL, 0), WMMP_OK);
    CU_ASSERT_STRING_EQUAL(k.serial, "A00MS8011390002S");
    CU_ASSERT_STRING_EQUAL(k.imei, "860000000000001");
    CU_ASSERT_EQUAL(k.imei[15], '\0'); /* the digest uses 15 digits + 0x00 */
    CU_ASSERT_STRING_EQUAL(k.imsi, "460001234567890");
    UNIT_ASSERT_BYTES(k.uplink_password, "12345678", 8);
    UNIT_ASSERT_BYTES(k.downlink_password, "87654321", 8);
    CU_ASSERT_EQUAL(k.base_key[0], 0x01);
    CU_ASSERT_EQUAL(k.base_key[23], 0x77);
}

static void test_blank_comment_and_spacing(void)
{
    wmmp_terminal_keys k;
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("", &k, NULL, 0), WMMP_END);
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("   \r\n", &k, NULL, 0), WMMP_END);
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("# serial,imei,...", &k, NULL, 0), WMMP_END);
    CU_ASSERT_EQUAL(wmmp_keys_parse_line(" \"A00MS8011390002S\" , 860000000000001,\"460001234567890\","
                                         "\"12345678\",\"87654321\",0123456789ABCDEFFEDCBA98765432100011223344556677",
                                         &k, NULL, 0),
                    WMMP_OK);
    CU_ASSERT_EQUAL(k.base_key[1], 0x23);
}

static void test_escapes(void)
{
    wmmp_terminal_keys k;
    CU_ASSERT_EQUAL_FATAL(
        wmmp_keys_parse_line("\"A00MS8011390002S\",\"860000000000001\",\"460001234567890\",\"12\\x22\\\\5678\","
                             "\"\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\",\"0123456789abcdeffedcba98765432100011223344556677\"",
                             &k, NULL, 0),
        WMMP_OK);
    UNIT_ASSERT_BYTES(k.uplink_password, "12\"\\5678", 8);
    CU_ASSERT_EQUAL(k.downlink_password[0], 0);
    CU_ASSERT_EQUAL(k.downlink_password[7], 7);

    char line[256];
    CU_ASSERT_EQUAL(wmmp_keys_format_line(&k, line, sizeof line), WMMP_OK);
    wmmp_terminal_keys back;
    CU_ASSERT_EQUAL(wmmp_keys_parse_line(line, &back, NULL, 0), WMMP_OK);
    CU_ASSERT_EQUAL(memcmp(&k, &back, sizeof k), 0);
    CU_ASSERT_EQUAL(wmmp_keys_format_line(&k, line, 20), WMMP_ERR_NO_SPACE);
}

static void test_errors_say_what_is_wrong(void)
{
    wmmp_terminal_keys k;
    char err[200];
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("\"A00MS8011390002S\",\"860000000000001\"", &k, err, sizeof err),
                    WMMP_ERR_KEYS_SYNTAX);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "expected 6 fields"));
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("\"A00MS8011390002S,\"1\"", &k, err, sizeof err), WMMP_ERR_KEYS_SYNTAX);
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("\"abc", &k, err, sizeof err), WMMP_ERR_KEYS_SYNTAX);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "closing quote"));
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("\"A00MS801139000\",\"860000000000001\",\"460001234567890\",\"12345678\","
                                         "\"87654321\",\"0123456789abcdeffedcba98765432100011223344556677\"",
                                         &k, err, sizeof err),
                    WMMP_ERR_KEYS_FIELD);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "serial"));
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("\"A00MS8011390002S\",\"86000000000000X\",\"460001234567890\",\"12345678\","
                                         "\"87654321\",\"0123456789abcdeffedcba98765432100011223344556677\"",
                                         &k, err, sizeof err),
                    WMMP_ERR_KEYS_FIELD);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "IMEI"));
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("\"A00MS8011390002S\",\"860000000000001\",\"460001234567890\",\"1234567\","
                                         "\"87654321\",\"0123456789abcdeffedcba98765432100011223344556677\"",
                                         &k, err, sizeof err),
                    WMMP_ERR_KEYS_FIELD);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "password"));
    CU_ASSERT_EQUAL(wmmp_keys_parse_line("\"A00MS8011390002S\",\"860000000000001\",\"460001234567890\",\"12345678\","
                                         "\"87654321\",\"0123456789abcdeffedcba98765432100011223344556g77\"",
                                         &k, err, sizeof err),
                    WMMP_ERR_KEYS_FIELD);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "base key"));
    CU_ASSERT_EQUAL(wmmp_keys_parse_line(GOOD ",\"x\"", &k, err, sizeof err), WMMP_ERR_KEYS_SYNTAX);
}

static void test_load_file(void)
{
    char path[] = "/tmp/wmmp_keys_test_XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# test keys\n%s\n\n", GOOD);
    fprintf(f, "\"B00MS8011390003S\",\"860000000000002\",\"460001234567891\",\"12345678\",\"12345678\","
               "\"000000000000000000000000000000000000000000000000\"\n");
    fclose(f);
    wmmp_keyring kr = { 0 };
    char err[256];
    CU_ASSERT_EQUAL(wmmp_keyring_load(&kr, path, err, sizeof err), WMMP_OK);
    CU_ASSERT_EQUAL(kr.count, 2);
    CU_ASSERT_PTR_NOT_NULL(wmmp_keyring_find_serial(&kr, (const uint8_t *)"B00MS8011390003S"));
    CU_ASSERT_PTR_NULL(wmmp_keyring_find_serial(&kr, (const uint8_t *)"C00MS8011390003S"));
    const wmmp_terminal_keys *k = wmmp_keyring_find_imei(&kr, "860000000000001");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT_STRING_EQUAL(k->serial, "A00MS8011390002S");
    wmmp_keyring_free(&kr);

    f = fopen(path, "w");
    fprintf(f, "%s\n\"broken\n", GOOD);
    fclose(f);
    CU_ASSERT_EQUAL(wmmp_keyring_load(&kr, path, err, sizeof err), WMMP_ERR_KEYS_SYNTAX);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2: "));
    wmmp_keyring_free(&kr);
    unlink(path);

    CU_ASSERT_EQUAL(wmmp_keyring_load(&kr, "/nonexistent/keys.txt", err, sizeof err), WMMP_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
}

static CU_TestInfo tests[] = {
    { "a good line", test_parse_good_line },
    { "blank lines, comments, spaces, unquoted fields", test_blank_comment_and_spacing },
    { "UAT escapes and the writer round trip", test_escapes },
    { "errors say what is wrong", test_errors_say_what_is_wrong },
    { "load a file, find by serial and IMEI", test_load_file },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(keys, tests)
