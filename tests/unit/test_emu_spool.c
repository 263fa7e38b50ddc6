/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store-and-forward spool of the emulated health tester (emulator/node/spool.h, emulator/driver/spool.c). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spool.h"
#include "unit.h"

/* A fresh directory under /tmp; *top is what to remove afterwards. */
static void temp_dir(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/wmmp-spool-test-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(out));
}

/* Removes dir and everything below it (the spool only makes flat directories, tests one level of nesting). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int file_exists(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static spool *open_ok(const char *dir, size_t max)
{
    char err[256] = "";
    spool *s = spool_open(dir, max, err, sizeof err);
    if (!s)
        fprintf(stderr, "spool_open: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

static uint32_t add_text(spool *s, const char *text)
{
    uint32_t id = 0;
    CU_ASSERT_EQUAL_FATAL(spool_take_id(s, &id), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_add(s, id, (const uint8_t *)text, strlen(text)), SPOOL_OK);
    return id;
}

static void check_read(spool *s, uint32_t id, const char *text)
{
    uint8_t *b = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(spool_read(s, id, &b, &len), SPOOL_OK);
    CU_ASSERT(len == strlen(text) && memcmp(b, text, len) == 0);
    free(b);
}

static void test_add_remove_reload_in_order(void)
{
    char dir[64];
    temp_dir(dir, sizeof dir);
    spool *s = open_ok(dir, 0);
    CU_ASSERT_EQUAL(spool_next_id(s), 1);
    CU_ASSERT_STRING_EQUAL(spool_serial(s), "");
    CU_ASSERT_EQUAL(spool_count(s), 0);
    CU_ASSERT_EQUAL(add_text(s, "one"), 1);
    CU_ASSERT_EQUAL(add_text(s, "two"), 2);
    CU_ASSERT_EQUAL(add_text(s, "three"), 3);
    CU_ASSERT_EQUAL(spool_count(s), 3);
    CU_ASSERT_TRUE(file_exists(dir, "0000000002"));
    CU_ASSERT_EQUAL(spool_remove(s, 2), SPOOL_OK);
    CU_ASSERT_FALSE(file_exists(dir, "0000000002"));
    CU_ASSERT_EQUAL(spool_remove(s, 2), SPOOL_ERR_ABSENT); /* a second ACK removes nothing */
    CU_ASSERT_EQUAL(spool_read(s, 2, &(uint8_t *){ NULL }, &(size_t){ 0 }), SPOOL_ERR_ABSENT);
    spool_close(s);

    s = open_ok(dir, 0);
    CU_ASSERT_EQUAL_FATAL(spool_count(s), 2);
    CU_ASSERT_EQUAL(spool_id_at(s, 0), 1);
    CU_ASSERT_EQUAL(spool_id_at(s, 1), 3);
    CU_ASSERT_EQUAL(spool_next_id(s), 4);
    check_read(s, 1, "one");
    check_read(s, 3, "three");
    CU_ASSERT_EQUAL(add_text(s, "four"), 4);
    CU_ASSERT_EQUAL(spool_remove(s, 1), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_id_at(s, 0), 3);
    CU_ASSERT_EQUAL(spool_id_at(s, 1), 4);
    spool_close(s);
    remove_tree(dir);
}

/* Many records acknowledged from the front and the middle keep the index in order. */
static void test_many_records(void)
{
    char dir[64];
    temp_dir(dir, sizeof dir);
    spool *s = open_ok(dir, 0);
    for (int i = 1; i <= 300; i++)
        add_text(s, "x");
    for (uint32_t id = 1; id <= 300; id += 2)
        CU_ASSERT_EQUAL(spool_remove(s, id), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_remove(s, 150), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_count(s), 149);
    for (int i = 0; i < 100; i++)
        add_text(s, "y");
    for (size_t i = 1; i < spool_count(s); i++)
        CU_ASSERT(spool_id_at(s, i - 1) < spool_id_at(s, i));
    CU_ASSERT_EQUAL(spool_id_at(s, spool_count(s) - 1), 400);
    spool_close(s);
    s = open_ok(dir, 0);
    CU_ASSERT_EQUAL(spool_count(s), 249);
    CU_ASSERT_EQUAL(spool_id_at(s, 0), 2);
    CU_ASSERT_FALSE(spool_contains(s, 150));
    spool_close(s);
    remove_tree(dir);
}

static void test_state_persisted(void)
{
    char dir[64];
    temp_dir(dir, sizeof dir);
    spool *s = open_ok(dir, 0);
    CU_ASSERT_EQUAL(spool_set_serial(s, "A00MS8011390002S"), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_login_time(s), 0);
    CU_ASSERT_EQUAL(spool_set_login_time(s, 1767225601u), SPOOL_OK);
    uint32_t id = add_text(s, "r");
    CU_ASSERT_EQUAL(spool_remove(s, id), SPOOL_OK);
    spool_close(s);

    /* nothing pending, yet the next ID continues: IDs never repeat across restarts */
    s = open_ok(dir, 0);
    CU_ASSERT_STRING_EQUAL(spool_serial(s), "A00MS8011390002S");
    CU_ASSERT_EQUAL(spool_count(s), 0);
    CU_ASSERT_EQUAL(spool_next_id(s), 2);
    CU_ASSERT_EQUAL(spool_login_time(s), 1767225601u); /* a restarted terminal's next LOGIN is newer */
    CU_ASSERT_EQUAL(spool_set_serial(s, "a serial that is far too long"), SPOOL_ERR_IO);
    CU_ASSERT_STRING_EQUAL(spool_serial(s), "A00MS8011390002S");
    spool_close(s);
    remove_tree(dir);
}

static void test_atomic_files(void)
{
    char dir[64], path[128];
    temp_dir(dir, sizeof dir);
    spool *s = open_ok(dir, 0);
    add_text(s, "kept");
    add_text(s, "kept too");
    CU_ASSERT_FALSE(file_exists(dir, ".tmp-0000000001"));
    CU_ASSERT_FALSE(file_exists(dir, ".tmp-state"));
    spool_close(s);

    /* a crash while writing record 3 left its temporary file; a crash lost the state file */
    write_file(dir, ".tmp-0000000003", "half a rec");
    snprintf(path, sizeof path, "%s/state", dir);
    CU_ASSERT_EQUAL(unlink(path), 0);
    write_file(dir, "README", "not a record");
    write_file(dir, "123", "not a record name either");
    s = open_ok(dir, 0);
    CU_ASSERT_FALSE(file_exists(dir, ".tmp-0000000003"));
    CU_ASSERT_EQUAL(spool_count(s), 2);
    CU_ASSERT_EQUAL(spool_next_id(s), 3); /* above every pending record */
    CU_ASSERT_EQUAL(add_text(s, "three"), 3);
    spool_close(s);

    /* the state file is text */
    FILE *f = fopen(path, "r");
    char text[128] = "";
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT(fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "next_record_id 4\n"));

    write_file(dir, "state", "next_record_id many\n");
    char err[256] = "";
    CU_ASSERT_PTR_NULL(spool_open(dir, 0, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "state"));
    remove_tree(dir);
}

static void test_bound(void)
{
    char dir[64];
    temp_dir(dir, sizeof dir);
    spool *s = open_ok(dir, 3);
    add_text(s, "1");
    add_text(s, "2");
    CU_ASSERT_FALSE(spool_full(s));
    add_text(s, "3");
    CU_ASSERT_TRUE(spool_full(s));
    uint32_t id;
    CU_ASSERT_EQUAL(spool_take_id(s, &id), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_add(s, id, (const uint8_t *)"4", 1), SPOOL_ERR_FULL);
    CU_ASSERT_EQUAL(spool_count(s), 3);
    CU_ASSERT_EQUAL(spool_remove(s, 1), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_add(s, id, (const uint8_t *)"4", 1), SPOOL_OK);
    CU_ASSERT_EQUAL(spool_add(s, id, (const uint8_t *)"4", 1), SPOOL_ERR_FULL);
    spool_close(s);
    remove_tree(dir);
}

static void test_directory_created_and_locked(void)
{
    char dir[64], nested[128];
    temp_dir(dir, sizeof dir);
    snprintf(nested, sizeof nested, "%s/a/b/spool", dir);
    spool *s = open_ok(nested, 0);
    CU_ASSERT_STRING_EQUAL(spool_dir(s), nested);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) { /* another process must not use the same spool */
        char err[256];
        spool *other = spool_open(nested, 0, err, sizeof err);
        int refused = other == NULL && strstr(err, "in use") != NULL;
        spool_close(other);
        spool_close(s); /* the child's copy: the lock belongs to the parent, closing here does not free it */
        _exit(refused ? 0 : 1);
    }
    int status = -1;
    CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    spool_close(s);

    char err[256] = "";
    write_file(dir, "plain-file", "x");
    snprintf(nested, sizeof nested, "%s/plain-file", dir);
    CU_ASSERT_PTR_NULL(spool_open(nested, 0, err, sizeof err));
    CU_ASSERT_PTR_NULL(spool_open("", 0, err, sizeof err));
    remove_tree(dir);
}

static CU_TestInfo tests[] = {
    { "add, remove, reload in ID order", test_add_remove_reload_in_order },
    { "many records, index stays ordered", test_many_records },
    { "next record ID, serial and LOGIN time persisted", test_state_persisted },
    { "atomic files, crash leftovers, lost state", test_atomic_files },
    { "bounded", test_bound },
    { "directory created, locked against other processes", test_directory_created_and_locked },
    CU_TEST_INFO_NULL,
};

UNIT_SUITE_TESTS(emu_spool, tests)
