/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The declaration tables and their look-ups. */
#include <string.h>

#include "unit.h"
#include "wmmp_tables.h"

static void test_command_names(void)
{
    CU_ASSERT_STRING_EQUAL(wmmp_command_name(0x0001), "LOGIN");
    CU_ASSERT_STRING_EQUAL(wmmp_command_name(0x8001), "LOGIN_ACK");
    CU_ASSERT_STRING_EQUAL(wmmp_command_name(0x800F), "TRANSPARENT_CMD_ACK");
    CU_ASSERT_STRING_EQUAL(wmmp_command_name(0x0009), "UNKNOWN");
    CU_ASSERT_STRING_EQUAL(wmmp_command_name(0x8009), "UNKNOWN_ACK");
    CU_ASSERT_PTR_NULL(wmmp_command_lookup(0x0000));
    CU_ASSERT_PTR_NULL(wmmp_command_lookup(0x0010));
}

static void test_every_command_is_known(void)
{
    /* profile section 5: 0x0001-0x000F except 0x0009 */
    for (unsigned id = 1; id <= 0x0F; id++) {
        const wmmp_command_info *c = wmmp_command_lookup((uint16_t)id);
        if (id == 9) {
            CU_ASSERT_PTR_NULL(c);
            continue;
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(c->id, id);
        CU_ASSERT_EQUAL(strncmp(c->ack_name, c->name, strlen(c->name)), 0);
    }
}

static void test_prefix_lengths(void)
{
    CU_ASSERT_EQUAL(wmmp_command_prefix_len(WMMP_CMD_LOGIN), 12);
    CU_ASSERT_EQUAL(wmmp_command_prefix_len(WMMP_CMD_LOGIN | WMMP_ACK_BIT), 5);
    CU_ASSERT_EQUAL(wmmp_command_prefix_len(WMMP_CMD_REGISTER), 32);
    CU_ASSERT_EQUAL(wmmp_command_prefix_len(WMMP_CMD_REGISTER | WMMP_ACK_BIT), 17);
    CU_ASSERT_EQUAL(wmmp_command_prefix_len(WMMP_CMD_FILE_REQ), 11);
    CU_ASSERT_EQUAL(wmmp_command_prefix_len(WMMP_CMD_FILE_REQ | WMMP_ACK_BIT), 13);
    CU_ASSERT_EQUAL(wmmp_command_prefix_len(WMMP_CMD_HEART_BEAT | WMMP_ACK_BIT), 0);
    CU_ASSERT_EQUAL(wmmp_command_prefix_len(WMMP_CMD_CONFIG_GET | WMMP_ACK_BIT), 1);
    CU_ASSERT_EQUAL(wmmp_command_prefix_len(0x0009), -1);
}

static void test_tags_and_dialect(void)
{
    const wmmp_tag_info *t = wmmp_tag_lookup(0x0002, WMMP_DIALECT_WMMP3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->type, WMMP_VT_STRING);
    t = wmmp_tag_lookup(0x0002, WMMP_DIALECT_PAPER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->type, WMMP_VT_CSQ);
    t = wmmp_tag_lookup(WMMP_TAG_SIGNAL_LEVEL, WMMP_DIALECT_PAPER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->fixed_len, 1);
    CU_ASSERT_PTR_NULL(wmmp_tag_lookup(0x7777, WMMP_DIALECT_WMMP3));
    CU_ASSERT_EQUAL(wmmp_tag_lookup(WMMP_TAG_DIGEST, WMMP_DIALECT_WMMP3)->fixed_len, 16);
    CU_ASSERT_EQUAL(wmmp_tag_lookup(WMMP_TAG_BASE_KEY, WMMP_DIALECT_WMMP3)->fixed_len, 24);

    size_t n;
    const wmmp_tag_info *all = wmmp_tag_table(&n);
    CU_ASSERT_EQUAL(n, 48); /* the 48 tags of profile section 6 */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            CU_ASSERT_NOT_EQUAL(all[i].tag, all[j].tag);
}

static void test_value_names(void)
{
    CU_ASSERT_STRING_EQUAL(wmmp_result_name(0), "Success");
    CU_ASSERT_STRING_EQUAL(wmmp_result_name(3), "Authentication failed");
    CU_ASSERT_PTR_NULL(wmmp_result_name(10));
    CU_ASSERT_STRING_EQUAL(wmmp_logout_reason_name(1), "Communication failure");
    CU_ASSERT_STRING_EQUAL(wmmp_logout_reason_name(0x0A), "SIM or security parameters updated");
    CU_ASSERT_PTR_NULL(wmmp_logout_reason_name(5));
    CU_ASSERT_STRING_EQUAL(wmmp_register_op_name(4), "Clear parameters");
    CU_ASSERT_STRING_EQUAL(wmmp_file_status_name(2), "Transfer complete");
    CU_ASSERT_STRING_EQUAL(wmmp_remote_cmd_name(0xD), "Log in again with encryption");
    CU_ASSERT_PTR_NULL(wmmp_remote_cmd_name(0xE));
    CU_ASSERT_STRING_EQUAL(wmmp_connect_mode_name(4), "SMS");
    CU_ASSERT_STRING_EQUAL(wmmp_fragment_op_name(2), "Receiver abort");
    CU_ASSERT_STRING_EQUAL(wmmp_class_name(3), "Fully encrypted");
}

static CU_TestInfo tests[] = {
    { "command names", test_command_names },
    { "every command of section 5 is declared", test_every_command_is_known },
    { "fixed body prefix lengths", test_prefix_lengths },
    { "tags, types and the paper dialect", test_tags_and_dialect },
    { "value names", test_value_names },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(tables, tests)
