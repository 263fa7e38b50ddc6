/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files a node reads (the platform's firmware image). Nodes never open files themselves: they call
 * this, and the driver side implements it (driver/drv_fs.c), like the record store (record_store.h) and
 * the terminal's spool (spool.h). The offline, live and load drivers all use that one implementation.
 */
#ifndef EMU_FILES_H
#define EMU_FILES_H

#include <stddef.h>
#include <stdint.h>

/* The whole file at path in *data (malloc'ed, free()) and *len: 0, or -1 with the reason in err. */
int emu_file_read(const char *path, uint8_t **data, size_t *len, char *err, size_t err_len);

#endif
