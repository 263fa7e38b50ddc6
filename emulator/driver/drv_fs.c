#include "drv_fs.h"

#include <dirent.h>
#include <errno.h>
#include <glib.h>
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
