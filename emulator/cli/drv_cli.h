/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Option parsing shared by the programs: a table of long options (the same table prints --help, so the
 * help lists every option), value parsers, and one-line errors "PROG: problem (try PROG --help)".
 */
#ifndef DRV_CLI_H
#define DRV_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wmmp_link.h"
#include "wmmp_tables.h"

typedef struct {
    const char *name; /* without "--" */
    const char *arg;  /* NULL: a flag */
    const char *help;
} drv_opt;

/* Exit status of a usage error (bad option, keys file, busy port). */
#define DRV_EXIT_USAGE 2

/*
 * Next option from argv[*pos] on: its index in opts (the table ends with a NULL name), *value its argument
 * (--name VALUE or --name=VALUE); "-h" is "--help". -1 at the end; -2 after printing a one-line error.
 */
int drv_cli_next(const char *prog, int argc, char **argv, int *pos, const drv_opt *opts, const char **value);

/* The table's "help" option is shown as "-h, --help" (drv_cli_next() takes -h for it). */
void drv_cli_help(FILE *out, const char *usage, const drv_opt *opts, const char *examples);
/* "PROG (WMMP tools) VERSION": the project's version (CMake project(wmmp VERSION ...)). */
void drv_cli_version(FILE *out, const char *prog);

/* Prints "PROG: MESSAGE (try PROG --help)" to stderr. */
void drv_cli_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parsers: 0 on success, else -1 after a one-line error naming the option. */
int drv_cli_u64(const char *prog, const char *opt, const char *s, uint64_t max, uint64_t *out);
int drv_cli_unsigned(const char *prog, const char *opt, const char *s, unsigned max, unsigned *out);
int drv_cli_prob(const char *prog, const char *opt, const char *s, double *out);
int drv_cli_security(const char *prog, const char *s, wmmp_security_level *out);
int drv_cli_dialect(const char *prog, const char *s, wmmp_dialect *out);
/* HOST:PORT; host is copied into host (host_len bytes). */
int drv_cli_hostport(const char *prog, const char *opt, const char *s, char *host, size_t host_len, uint16_t *port);

const char *drv_cli_security_name(wmmp_security_level l);

/*
 * The keys file holds passwords and base keys: when group or others may read or write it, prints one
 * warning line "PROG: warning: keys file F is readable by group/others (mode 0644); chmod 600 F" to stderr
 * and returns 1; else 0 (also when it cannot be checked, and for a file of public example keys: one whose
 * leading comment lines include DRV_EXAMPLE_KEYS_MARK, as captures/wmmp-keys.txt does).
 */
#define DRV_EXAMPLE_KEYS_MARK "# example keys: public, not secret"
int drv_cli_warn_keys_mode(const char *prog, const char *path);

#endif
