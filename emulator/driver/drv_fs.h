/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File-system helpers of the programs (temporary directories and their removal), and the nodes' file port
 * (emu_file_read, declared in node/emu_files.h). */
#ifndef DRV_FS_H
#define DRV_FS_H

/* Removes path and everything below it (files and directories): 0, or -1 with errno. */
int drv_fs_rmtree(const char *path);
/* A new private directory under $TMPDIR (or /tmp) named prefix-XXXXXX, or under /dev/shm with shm. NULL on failure. */
char *drv_fs_tempdir(const char *prefix, int shm);

#endif
