/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The unit-test runner: with no argument it runs every suite, with names it runs those suites. Exits
 * non-zero when any test fails or a name is unknown, and prints CUnit's run summary either way.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

#define UNIT_SUITE(name) extern CU_TestInfo *unit_suite_##name;
#include "unit_suites.h"
#undef UNIT_SUITE

static const struct {
    const char *name;
    CU_TestInfo **tests;
} suites[] = {
#define UNIT_SUITE(name) { #name, &unit_suite_##name },
#include "unit_suites.h"
#undef UNIT_SUITE
};

static int wanted(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int known = 0;
        for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++)
            known |= strcmp(argv[i], suites[s].name) == 0;
        if (!known) {
            fprintf(stderr, "wmmp_unit_tests: no suite named '%s'\n", argv[i]);
            return 2;
        }
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        if (!wanted(suites[s].name, argc, argv))
            continue;
        CU_pSuite suite = CU_add_suite(suites[s].name, NULL, NULL);
        for (CU_TestInfo *t = *suites[s].tests; t->pName; t++)
            CU_add_test(suite, t->pName, t->pTestFunc);
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
