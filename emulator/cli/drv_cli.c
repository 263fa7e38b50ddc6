/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "drv_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void drv_cli_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try %s --help)\n", prog);
}

int drv_cli_next(const char *prog, int argc, char **argv, int *pos, const drv_opt *opts, const char **value)
{
    const char *a, *eq;
    size_t name_len;
    *value = NULL;
    if (*pos >= argc)
        return -1;
    a = argv[(*pos)++];
    if (!strcmp(a, "-h")) /* the one short option, as GOption programs have it */
        a = "--help";
    else if (a[0] == '-' && a[1] != '-' && a[1] != '\0') {
        drv_cli_error(prog, "unknown option %s", a);
        return -2;
    }
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
        drv_cli_error(prog, "unexpected argument '%s'", a);
        return -2;
    }
    a += 2;
    eq = strchr(a, '=');
    name_len = eq ? (size_t)(eq - a) : strlen(a);
    for (int i = 0; opts[i].name; i++) {
        if (strlen(opts[i].name) != name_len || strncmp(opts[i].name, a, name_len) != 0)
            continue;
        if (!opts[i].arg) {
            if (eq) {
                drv_cli_error(prog, "option --%s takes no value", opts[i].name);
                return -2;
            }
            return i;
        }
        if (eq)
            *value = eq + 1;
        else if (*pos < argc)
            *value = argv[(*pos)++];
        else {
            drv_cli_error(prog, "option --%s needs a value (%s)", opts[i].name, opts[i].arg);
            return -2;
        }
        return i;
    }
    drv_cli_error(prog, "unknown option --%.*s", (int)name_len, a);
    return -2;
}

void drv_cli_help(FILE *out, const char *usage, const drv_opt *opts, const char *examples)
{
    fprintf(out, "%s\nOptions:\n", usage);
    for (int i = 0; opts[i].name; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s--%s%s%s", strcmp(opts[i].name, "help") ? "" : "-h, ", opts[i].name,
                 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        fprintf(out, "  %-26s %s\n", left, opts[i].help);
    }
    if (examples)
        fprintf(out, "\nExamples:\n%s", examples);
}

void drv_cli_version(FILE *out, const char *prog)
{
    fprintf(out, "%s (WMMP tools) %s\n", prog, WMMP_VERSION);
}

int drv_cli_u64(const char *prog, const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X'); /* decimal, or 0x...: "010" is ten */
    errno = 0;
    v = strtoull(s, &end, hex ? 16 : 10);
    if (!*s || !((s[0] >= '0' && s[0] <= '9')) || *end || errno || v > max) {
        drv_cli_error(prog, "--%s: '%s' is not a number from 0 to %llu", opt, s, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int drv_cli_unsigned(const char *prog, const char *opt, const char *s, unsigned max, unsigned *out)
{
    uint64_t v;
    if (drv_cli_u64(prog, opt, s, max, &v))
        return -1;
    *out = (unsigned)v;
    return 0;
}

int drv_cli_prob(const char *prog, const char *opt, const char *s, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= 0.0 && v <= 1.0)) {
        drv_cli_error(prog, "--%s: '%s' is not a probability from 0 to 1", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

static const char *const security_names[] = { "plain", "digest", "encrypted", "full" };

const char *drv_cli_security_name(wmmp_security_level l)
{
    return (unsigned)l < 4 ? security_names[l] : "?";
}

int drv_cli_security(const char *prog, const char *s, wmmp_security_level *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, security_names[i])) {
            *out = (wmmp_security_level)i;
            return 0;
        }
    drv_cli_error(prog, "--security: '%s' is not one of plain, digest, encrypted, full", s);
    return -1;
}

int drv_cli_dialect(const char *prog, const char *s, wmmp_dialect *out)
{
    if (!strcmp(s, "wmmp3"))
        *out = WMMP_DIALECT_WMMP3;
    else if (!strcmp(s, "paper"))
        *out = WMMP_DIALECT_PAPER;
    else {
        drv_cli_error(prog, "--dialect: '%s' is not one of wmmp3, paper", s);
        return -1;
    }
    return 0;
}

int drv_cli_hostport(const char *prog, const char *opt, const char *s, char *host, size_t host_len, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    unsigned p;
    if (!colon || colon == s || (size_t)(colon - s) >= host_len) {
        drv_cli_error(prog, "--%s: '%s' is not HOST:PORT", opt, s);
        return -1;
    }
    if (drv_cli_unsigned(prog, opt, colon + 1, 65535, &p))
        return -1;
    if (p == 0) {
        drv_cli_error(prog, "--%s: port 0 in '%s'", opt, s);
        return -1;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* A comment line of the file's leading comments is DRV_EXAMPLE_KEYS_MARK. */
static int marked_example(const char *path)
{
    char line[512];
    int found = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f) && line[0] == '#') {
        line[strcspn(line, "\r\n")] = '\0';
        found = !strcmp(line, DRV_EXAMPLE_KEYS_MARK);
    }
    fclose(f);
    return found;
}

int drv_cli_warn_keys_mode(const char *prog, const char *path)
{
    struct stat st;
    const char *who;
    if (!path || stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & (S_IRWXG | S_IRWXO)))
        return 0;
    if (marked_example(path))
        return 0; /* published keys: nothing to protect */
    who = (st.st_mode & S_IRWXG) && (st.st_mode & S_IRWXO) ? "group and others"
          : (st.st_mode & S_IRWXG)                          ? "group"
                                                            : "others";
    fprintf(stderr, "%s: warning: keys file %s is open to %s (mode %04o): it holds passwords and keys; chmod 600 %s\n",
            prog, path, who, (unsigned)(st.st_mode & 07777), path);
    return 1;
}
