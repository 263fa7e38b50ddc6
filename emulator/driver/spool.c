/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Store and forward on disk (spool.h). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define ID_DIGITS 10
#define TMP_PREFIX ".tmp-"
#define STATE_NAME "state"
#define LOCK_NAME "lock"
#define PATH_CAP 4096

/* A pending record: its ID and, in a memory spool, its bytes (a file spool keeps them in the file). */
typedef struct {
    uint32_t id;
    uint32_t len;
    uint8_t *bytes;
} entry;

/* Kept small: a load generator has one per simulated terminal. */
struct spool {
    char *dir;      /* SPOOL_MEMORY itself (not a copy) for a memory spool */
    entry *e;       /* pending records, ascending IDs, at e[head .. head + count) */
    uint32_t max;
    uint32_t next_id; /* 0 once all 2^32 - 1 IDs are used */
    uint32_t login_time; /* of the terminal's last LOGIN (spool_login_time) */
    uint32_t head, count, cap;
    int lock_fd;
    uint8_t memory; /* SPOOL_MEMORY: no files, no lock; the records' bytes in e[] */
    char serial[SPOOL_SERIAL_LEN + 1];
    char *err; /* the last error, allocated at the first (a load generator has thousands of spools) */
};

#define ERR_CAP (PATH_CAP + 128)

static void set_err_text(spool *s, const char *what, const char *why)
{
    if (!s->err && !(s->err = malloc(ERR_CAP)))
        return;
    if (why)
        snprintf(s->err, ERR_CAP, "%s: %s", what, why);
    else
        snprintf(s->err, ERR_CAP, "%s", what);
}

static void set_err(spool *s, const char *what, int errnum) { set_err_text(s, what, strerror(errnum)); }

static void fail(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* dir/name into out; -1 when it does not fit. */
static int path_of(const spool *s, const char *name, char out[PATH_CAP])
{
    int n = snprintf(out, PATH_CAP, "%s/%s", s->dir, name);
    return n < 0 || n >= PATH_CAP ? -1 : 0;
}

static void id_name(uint32_t id, char out[ID_DIGITS + 1]) { snprintf(out, ID_DIGITS + 1, "%010lu", (unsigned long)id); }

/* ---- atomic files ---- */

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes a rename or unlink in the directory durable. */
static int sync_dir(const spool *s)
{
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* Writes name in one piece: a reader (or a restart after a crash) sees the old content or the new, never half. */
static int write_atomic(spool *s, const char *name, const uint8_t *data, size_t len)
{
    char tmp_name[64], tmp[PATH_CAP], final[PATH_CAP];
    snprintf(tmp_name, sizeof tmp_name, TMP_PREFIX "%s", name);
    if (path_of(s, tmp_name, tmp) < 0 || path_of(s, name, final) < 0) {
        set_err(s, s->dir, ENAMETOOLONG);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        set_err(s, tmp, errno);
        return -1;
    }
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        set_err(s, tmp, errno);
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, final) < 0) {
        set_err(s, final, errno);
        unlink(tmp);
        return -1;
    }
    if (sync_dir(s) < 0) {
        set_err(s, s->dir, errno);
        return -1;
    }
    return 0;
}

/* ---- state file: "next_record_id N", "serial S" and "login_time T" lines ---- */

static int save_state(spool *s)
{
    if (s->memory)
        return 0;
    char text[160];
    int n = snprintf(text, sizeof text, "next_record_id %lu\nserial %s\nlogin_time %lu\n", (unsigned long)s->next_id,
                     s->serial, (unsigned long)s->login_time);
    return write_atomic(s, STATE_NAME, (const uint8_t *)text, (size_t)n);
}

static int parse_state_line(spool *s, char *line)
{
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = '\0';
    if (strncmp(line, "next_record_id ", 15) == 0) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(line + 15, &end, 10);
        if (errno || *end || end == line + 15 || v > UINT32_MAX)
            return -1;
        s->next_id = (uint32_t)v;
    } else if (strncmp(line, "login_time ", 11) == 0) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(line + 11, &end, 10);
        if (errno || *end || end == line + 11 || v > UINT32_MAX)
            return -1;
        s->login_time = (uint32_t)v;
    } else if (strncmp(line, "serial ", 7) == 0) {
        if (strlen(line + 7) > SPOOL_SERIAL_LEN)
            return -1;
        strcpy(s->serial, line + 7);
    }
    return 0; /* other lines: written by a later version, ignored */
}

/* Missing state: a new spool (next ID 1, no serial). */
static int load_state(spool *s, char *err, size_t err_len)
{
    char path[PATH_CAP], line[256];
    s->next_id = 1;
    if (path_of(s, STATE_NAME, path) < 0) {
        fail(err, err_len, "spool directory name too long");
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        fail(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    int bad = 0;
    while (!bad && fgets(line, sizeof line, f))
        bad = parse_state_line(s, line) < 0;
    fclose(f);
    if (bad)
        fail(err, err_len, "%s: unreadable state (expected \"next_record_id N\" and \"serial S\")", path);
    return bad ? -1 : 0;
}

/* ---- the index of pending IDs ---- */

/* A memory spool starts with room for 2 (one record in flight, the next measured meanwhile), files for 64. */
#define FIRST_CAP(s) ((s)->memory ? 2u : 64u)

static int index_push(spool *s, uint32_t id)
{
    if (s->head + s->count == s->cap) {
        if (s->head > 0) { /* reuse the room left by records acknowledged from the front */
            memmove(s->e, s->e + s->head, s->count * sizeof *s->e);
            s->head = 0;
        } else {
            uint32_t cap = s->cap ? s->cap * 2 : FIRST_CAP(s);
            entry *e = realloc(s->e, cap * sizeof *e);
            if (!e)
                return -1;
            s->e = e;
            s->cap = cap;
        }
    }
    s->e[s->head + s->count++] = (entry){ id, 0, NULL };
    return 0;
}

/* Position of id among the pending ones, or -1. */
static long index_find(const spool *s, uint32_t id)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t v = s->e[s->head + mid].id;
        if (v == id)
            return (long)mid;
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ACKs come in ID order, so the usual removal is at the front and costs nothing. */
static void index_remove_at(spool *s, size_t i)
{
    entry *base = s->e + s->head;
    free(base[i].bytes);
    if (i == 0)
        s->head++;
    else
        memmove(base + i, base + i + 1, (s->count - i - 1) * sizeof *base);
    s->count--;
    if (s->count == 0)
        s->head = 0;
    if (s->count == 0 && s->memory) { /* the usual state between two records: no array at all */
        free(s->e);
        s->e = NULL;
        s->cap = 0;
    }
}

static int cmp_id(const void *a, const void *b)
{
    uint32_t x = ((const entry *)a)->id, y = ((const entry *)b)->id;
    return x < y ? -1 : x > y;
}

/* A pending record's file name: exactly ten digits, not 0. */
static int parse_id_name(const char *name, uint32_t *id)
{
    if (strlen(name) != ID_DIGITS)
        return -1;
    unsigned long long v = 0;
    for (int i = 0; i < ID_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(name[i] - '0');
    }
    if (v == 0 || v > UINT32_MAX)
        return -1;
    *id = (uint32_t)v;
    return 0;
}

static int load_records(spool *s, char *err, size_t err_len)
{
    DIR *d = opendir(s->dir);
    if (!d) {
        fail(err, err_len, "%s: %s", s->dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    uint32_t id;
    char path[PATH_CAP];
    int r = 0;
    while (r == 0 && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
            if (path_of(s, e->d_name, path) == 0)
                unlink(path); /* a write interrupted by a crash: its rename never happened */
        } else if (parse_id_name(e->d_name, &id) == 0) {
            r = index_push(s, id);
        }
    }
    closedir(d);
    if (r < 0) {
        fail(err, err_len, "out of memory loading the spool");
        return -1;
    }
    if (s->count > 1)
        qsort(s->e, s->count, sizeof *s->e, cmp_id);
    /* never hand out an ID that is still pending, even if the state file was lost */
    if (s->count > 0 && s->next_id != 0 && s->e[s->count - 1].id >= s->next_id)
        s->next_id = s->e[s->count - 1].id + 1;
    return 0;
}

/* ---- opening ---- */

static int mkdir_p(const char *dir)
{
    char path[PATH_CAP];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int take_lock(spool *s, char *err, size_t err_len)
{
    char path[PATH_CAP];
    if (path_of(s, LOCK_NAME, path) < 0) {
        fail(err, err_len, "spool directory name too long");
        return -1;
    }
    s->lock_fd = open(path, O_RDWR | O_CREAT, 0600);
    if (s->lock_fd < 0) {
        fail(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(s->lock_fd, F_SETLK, &fl) < 0) {
        fail(err, err_len, "spool %s is in use by another process", s->dir);
        return -1;
    }
    return 0;
}

spool *spool_open(const char *dir, size_t max_records, char *err, size_t err_len)
{
    if (!dir || !*dir) {
        fail(err, err_len, "no spool directory given");
        return NULL;
    }
    int memory = strcmp(dir, SPOOL_MEMORY) == 0;
    spool *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = memory ? (char *)SPOOL_MEMORY : strdup(dir))) {
        free(s);
        fail(err, err_len, "out of memory");
        return NULL;
    }
    s->lock_fd = -1;
    s->max = max_records == 0 ? SPOOL_DEFAULT_MAX : max_records > UINT32_MAX ? UINT32_MAX : (uint32_t)max_records;
    if (memory) { /* nothing on disk: a new spool every time */
        s->memory = 1;
        s->next_id = 1;
        return s;
    }
    if (mkdir_p(dir) < 0) {
        fail(err, err_len, "cannot create spool directory %s: %s", dir, strerror(errno));
    } else if (take_lock(s, err, err_len) == 0 && load_state(s, err, err_len) == 0 &&
               load_records(s, err, err_len) == 0) {
        return s;
    }
    spool_close(s);
    return NULL;
}

void spool_close(spool *s)
{
    if (!s)
        return;
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the lock */
    for (size_t i = 0; i < s->count; i++)
        free(s->e[s->head + i].bytes);
    free(s->e);
    free(s->err);
    if (!s->memory)
        free(s->dir);
    free(s);
}

/* ---- IDs and serial ---- */

uint32_t spool_next_id(const spool *s) { return s->next_id; }

spool_status spool_take_id(spool *s, uint32_t *id)
{
    if (s->next_id == 0)
        return SPOOL_ERR_IDS;
    uint32_t taken = s->next_id;
    s->next_id = taken + 1; /* wraps to 0 after 0xFFFFFFFF: exhausted, never reused */
    if (save_state(s) < 0) {
        s->next_id = taken;
        return SPOOL_ERR_IO;
    }
    *id = taken;
    return SPOOL_OK;
}

const char *spool_serial(const spool *s) { return s->serial; }

uint32_t spool_login_time(const spool *s) { return s->login_time; }

spool_status spool_set_login_time(spool *s, uint32_t t)
{
    uint32_t old = s->login_time;
    s->login_time = t;
    if (save_state(s) < 0) {
        s->login_time = old;
        return SPOOL_ERR_IO;
    }
    return SPOOL_OK;
}

spool_status spool_set_serial(spool *s, const char *serial)
{
    char old[sizeof s->serial];
    if (strlen(serial) > SPOOL_SERIAL_LEN || strchr(serial, '\n'))
        return SPOOL_ERR_IO;
    memcpy(old, s->serial, sizeof old);
    strcpy(s->serial, serial);
    if (save_state(s) < 0) {
        memcpy(s->serial, old, sizeof old);
        return SPOOL_ERR_IO;
    }
    return SPOOL_OK;
}

/* ---- records ---- */

spool_status spool_add(spool *s, uint32_t id, const uint8_t *bytes, size_t len)
{
    char name[ID_DIGITS + 1];
    if (spool_full(s))
        return SPOOL_ERR_FULL;
    if (id == 0 || spool_contains(s, id) || (s->count && id < s->e[s->head + s->count - 1].id))
        return SPOOL_ERR_IO; /* IDs come from spool_take_id(): new and increasing */
    if (s->memory) {
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy || len > UINT32_MAX || index_push(s, id) < 0) {
            free(copy);
            set_err_text(s, "out of memory", NULL);
            return SPOOL_ERR_IO;
        }
        memcpy(copy, bytes, len);
        s->e[s->head + s->count - 1] = (entry){ id, (uint32_t)len, copy };
        return SPOOL_OK;
    }
    id_name(id, name);
    if (write_atomic(s, name, bytes, len) < 0)
        return SPOOL_ERR_IO;
    if (index_push(s, id) < 0) {
        set_err_text(s, "out of memory", NULL);
        return SPOOL_ERR_IO;
    }
    return SPOOL_OK;
}

spool_status spool_read(const spool *s, uint32_t id, uint8_t **bytes, size_t *len)
{
    char name[ID_DIGITS + 1], path[PATH_CAP];
    long at = index_find(s, id);
    if (at < 0)
        return SPOOL_ERR_ABSENT;
    if (s->memory) {
        const entry *m = &s->e[s->head + (size_t)at];
        uint8_t *buf = malloc(m->len ? m->len : 1);
        if (!buf)
            return SPOOL_ERR_IO;
        memcpy(buf, m->bytes, m->len);
        *bytes = buf;
        *len = m->len;
        return SPOOL_OK;
    }
    id_name(id, name);
    if (path_of(s, name, path) < 0)
        return SPOOL_ERR_IO;
    FILE *f = fopen(path, "rb");
    if (!f)
        return SPOOL_ERR_IO;
    uint8_t *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc(size ? (size_t)size : 1);
    int ok = buf && fread(buf, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!ok) {
        free(buf);
        return SPOOL_ERR_IO;
    }
    *bytes = buf;
    *len = (size_t)size;
    return SPOOL_OK;
}

spool_status spool_remove(spool *s, uint32_t id)
{
    char name[ID_DIGITS + 1], path[PATH_CAP];
    long i = index_find(s, id);
    if (i < 0)
        return SPOOL_ERR_ABSENT;
    if (s->memory) {
        index_remove_at(s, (size_t)i);
        return SPOOL_OK;
    }
    id_name(id, name);
    if (path_of(s, name, path) < 0 || (unlink(path) < 0 && errno != ENOENT)) {
        set_err(s, path, errno);
        return SPOOL_ERR_IO;
    }
    /* no directory fsync: a removal lost in a crash only resends the record, which the platform dedupes */
    index_remove_at(s, (size_t)i);
    return SPOOL_OK;
}

size_t spool_count(const spool *s) { return s->count; }
uint32_t spool_id_at(const spool *s, size_t i) { return i < s->count ? s->e[s->head + i].id : 0; }
int spool_contains(const spool *s, uint32_t id) { return index_find(s, id) >= 0; }
int spool_full(const spool *s) { return s->count >= s->max; }
const char *spool_dir(const spool *s) { return s->dir; }
const char *spool_error(const spool *s) { return s->err ? s->err : ""; }
