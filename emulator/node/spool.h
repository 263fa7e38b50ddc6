/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Store and forward on disk: the health records that wait for their TRANSPARENT_DATA_ACK.
 *
 * A directory holds one file per pending record, named by its record ID in ten decimal digits
 * ("0000000042", so a directory listing is in ID order) and holding the encoded record bytes, and a
 * "state" file with the next record ID and the serial assigned by REGISTER. Every file is written
 * atomically: to a ".tmp-" name, fsync, rename, fsync of the directory. Leftover ".tmp-" files (a crash
 * while writing) are removed when the spool is opened. A "lock" file is locked (fcntl) while the spool
 * is open, so two processes cannot use one spool.
 *
 * Record IDs start at 1 and never repeat, also across restarts: spool_take_id() persists the next ID
 * before the caller writes the record, so a crash leaves at most a gap. A record leaves the spool only
 * through spool_remove(), when the platform acknowledged it with result 0.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_DEFAULT_MAX 100000
/*
 * The directory name of a spool kept in memory only (no files, no lock, nothing survives the process):
 * for runs whose spool is thrown away anyway (wmmp-emulate, load mode). Same behaviour otherwise.
 */
#define SPOOL_MEMORY ":memory:"
#define SPOOL_SERIAL_LEN 16

typedef struct spool spool;

typedef enum {
    SPOOL_OK = 0,
    SPOOL_ERR_IO = -1,     /* a file could not be written, read or removed (errno-based message logged by caller) */
    SPOOL_ERR_FULL = -2,   /* max records pending */
    SPOOL_ERR_ABSENT = -3, /* no such record */
    SPOOL_ERR_IDS = -4,    /* record IDs exhausted (2^32 - 1 of them) */
} spool_status;

/*
 * Opens (creating the directory, with its parents, when missing) and loads the pending record IDs.
 * max_records: the bound (0: SPOOL_DEFAULT_MAX). NULL with a one-line reason in err.
 */
spool *spool_open(const char *dir, size_t max_records, char *err, size_t err_len);
void spool_close(spool *s);

/* The ID the next record gets (1 in a new spool). */
uint32_t spool_next_id(const spool *s);
/* Reserves the next record ID and persists the state before returning it (SPOOL_OK or an error). */
spool_status spool_take_id(spool *s, uint32_t *id);

/* The serial from REGISTER_ACK; "" when none was stored. */
const char *spool_serial(const spool *s);
spool_status spool_set_serial(spool *s, const char *serial);

/* System time (0x3009) of the terminal's last LOGIN, so that a restarted terminal's next one is newer
   (its freshness, docs/PROTOCOL-NOTES.md); 0 when none was stored. */
uint32_t spool_login_time(const spool *s);
spool_status spool_set_login_time(spool *s, uint32_t t);

/* Stores a record under id (from spool_take_id()): SPOOL_OK, SPOOL_ERR_FULL or SPOOL_ERR_IO. */
spool_status spool_add(spool *s, uint32_t id, const uint8_t *bytes, size_t len);
/* Reads a pending record into a malloc'd buffer. */
spool_status spool_read(const spool *s, uint32_t id, uint8_t **bytes, size_t *len);
/* Deletes an acknowledged record (SPOOL_ERR_ABSENT when it is not pending, e.g. a second ACK). */
spool_status spool_remove(spool *s, uint32_t id);

/* Pending records, and the i-th in ID order (i < spool_count()). */
size_t spool_count(const spool *s);
uint32_t spool_id_at(const spool *s, size_t i);
int spool_contains(const spool *s, uint32_t id);
int spool_full(const spool *s);
const char *spool_dir(const spool *s);

/* The last I/O error, as "path: strerror" (for logs). */
const char *spool_error(const spool *s);

#endif
