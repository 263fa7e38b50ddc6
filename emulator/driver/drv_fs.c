/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_fs.h"
#include "emu_files.h"

#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int drv_fs_rmtree(const char *path)
{
    struct stat st;
    DIR *dir;
    struct dirent *e;
    int rc = 0;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    if (!(dir = opendir(path)))
        return -1;
    while ((e = readdir(dir))) {
        char *child;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        child = g_build_filename(path, e->d_name, NULL);
        if (drv_fs_rmtree(child) < 0)
            rc = -1;
        g_free(child);
    }
    closedir(dir);
    return rmdir(path) < 0 ? -1 : rc;
}

char *drv_fs_tempdir(const char *prefix, int shm)
{
    const char *base = shm && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir();
    char *tmpl = g_strdup_printf("%s/%s-XXXXXX", base, prefix);
    if (!g_mkdtemp(tmpl)) {
        g_free(tmpl);
        return NULL;
    }
    return tmpl;
}

/* The nodes' file port (node/emu_files.h). */
int emu_file_read(const char *path, uint8_t **data, size_t *len, char *err, size_t err_len)
{
    gchar *contents = NULL;
    gsize n = 0;
    GError *ge = NULL;
    if (!g_file_get_contents(path, &contents, &n, &ge)) {
        snprintf(err, err_len, "%s", ge->message);
        g_error_free(ge);
        return -1;
    }
    *data = malloc(n ? n : 1);
    if (*data)
        memcpy(*data, contents, n);
    g_free(contents);
    if (!*data) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    *len = n;
    return 0;
}
