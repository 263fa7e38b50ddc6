/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wmmp-terminal: the integrated health tester on a real socket (UDP, or TCP with --tcp): logs in, sends its
 * health records and heartbeats, logs out. Exit status 0 only when every record was acknowledged. With
 * --load N it runs N terminals in this process over a few UDP sockets (drv_load.h).
 */
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_cli.h"
#include "drv_fs.h"
#include "drv_glib.h"
#include "drv_live.h"
#include "drv_net.h"
#include "drv_load.h"
#include "terminal.h"
#include "wmmp_keys.h"
#include "wmmp_header.h"

static const char *const PROG = "wmmp-terminal";

enum {
    O_PLATFORM, O_TCP, O_KEYS, O_SERIAL, O_RECORDS, O_SECURITY, O_DIALECT, O_LOSS, O_DUPLICATE, O_DELAY, O_SEED,
    O_PCAP, O_SPOOL, O_HEARTBEAT_MS, O_RECORD_INTERVAL_MS, O_ECG_SECONDS, O_RESPONSE_TIMEOUT, O_RETRIES,
    O_FAILURE_THRESHOLD, O_LOGIN_ATTEMPTS, O_BACKOFF_MS, O_SOFTWARE_VERSION, O_TIMEOUT, O_LOAD, O_SOCKETS,
    O_RAMP_MS, O_VERBOSE, O_QUIET, O_HELP, O_VERSION,
};

static const drv_opt OPTS[] = {
    [O_PLATFORM] = { "platform", "HOST:PORT", "the platform (default 127.0.0.1:9992, with --tcp 127.0.0.1:9991)" },
    [O_TCP] = { "tcp", NULL, "use TCP instead of UDP" },
    [O_KEYS] = { "keys", "FILE", "keys file (profile section 11; required)" },
    [O_SERIAL] = { "serial", "SERIAL", "this terminal's line of the keys file (default: the first line)" },
    [O_RECORDS] = { "records", "N", "health records to send (default 10)" },
    [O_SECURITY] = { "security", "LEVEL", "plain|digest|encrypted|full (default digest)" },
    [O_DIALECT] = { "dialect", "D", "wmmp3|paper (paper: signal level as tag 0x0002)" },
    [O_LOSS] = { "loss", "P", "drop each message sent and each received with probability P" },
    [O_DUPLICATE] = { "duplicate", "P", "send each message twice with probability P" },
    [O_DELAY] = { "delay", "MS[+-J]", "delay each sent message by MS ms, plus or minus up to J" },
    [O_SEED] = { "seed", "N", "seed of the random generator (faults, measurements); default: from the clock" },
    [O_PCAP] = { "pcap", "FILE", "record every datagram/segment sent and received" },
    [O_SPOOL] = { "spool", "DIR", "store-and-forward directory: pending records, next record ID (default "
                                          "$XDG_STATE_HOME/wmmp/spool-SERIAL, ~/.local/state/wmmp/spool-SERIAL "
                                          "when unset, wherever it is started; with --load: the base)" },
    [O_HEARTBEAT_MS] = { "heartbeat-ms", "MS", "heartbeat interval until the platform sets one (default 60000)" },
    [O_RECORD_INTERVAL_MS] = { "record-interval-ms", "MS", "between health records (default 2000)" },
    [O_ECG_SECONDS] = { "ecg-seconds", "S",
                        "ECG length of every 5th record (250 Hz); over ~1.7 s it is fragmented (default 8)" },
    [O_RESPONSE_TIMEOUT] = { "response-timeout-ms", "MS", "wait for an ACK before resending (default 3000)" },
    [O_RETRIES] = { "retries", "N", "retransmissions of a request (default 3)" },
    [O_FAILURE_THRESHOLD] = { "failure-threshold", "N", "failed requests in a row that mean failure (default 3)" },
    [O_LOGIN_ATTEMPTS] = { "login-attempts", "N", "failed logins in a row before giving up (default 10)" },
    [O_BACKOFF_MS] = { "backoff-ms", "MS", "wait before logging in again after a failure, doubling (default 5000)" },
    [O_SOFTWARE_VERSION] = { "software-version", "STR", "version sent in LOGIN (default HT-1.0)" },
    [O_TIMEOUT] = { "timeout", "SECONDS", "log out after this long even if records are pending (default: none)" },
    [O_LOAD] = { "load", "N", "load mode: N terminals (serials LOAD000000000001..; platform: --load-terminals N)" },
    [O_SOCKETS] = { "sockets", "N", "load mode: UDP sockets shared by the terminals (default 16)" },
    [O_RAMP_MS] = { "ramp-ms", "MS", "load mode: spread the starts over MS ms (default 2000)" },
    [O_VERBOSE] = { "verbose", NULL, "log debug detail (every message)" },
    [O_QUIET] = { "quiet", NULL, "log errors only (load mode: no per-second lines)" },
    [O_HELP] = { "help", NULL, "this help (exit 0)" },
    [O_VERSION] = { "version", NULL, "the version (exit 0)" },
    { NULL, NULL, NULL },
};

static const char *const USAGE =
    "Usage: wmmp-terminal --keys FILE [--platform HOST:PORT] [--tcp] [--serial SERIAL] [OPTION...]\n"
    "The integrated health tester: logs in, sends N health records and heartbeats, logs out.";

static const char *const EXAMPLES =
    "  wmmp-terminal --platform 127.0.0.1:9992 --keys captures/wmmp-keys.txt --serial A00MS8011390002S --records 5\n"
    "  wmmp-terminal --platform 127.0.0.1:9991 --tcp --keys captures/wmmp-keys.txt --security full \\\n"
    "      --pcap /tmp/terminal.pcap --heartbeat-ms 1000 --record-interval-ms 200\n"
    "  wmmp-terminal --keys captures/wmmp-keys.txt --records 20 --loss 0.3 --seed 7 --response-timeout-ms 300\n"
    "  wmmp-terminal --keys captures/wmmp-keys.txt --load 10000 --records 2 --spool /dev/shm/wmmp-load\n"
    "Exit status: 0 every record acknowledged (also for --help, --version), 2 bad usage (option, keys file,\n"
    "spool), 3 login refused, 4 communication failure: no answer to --login-attempts logins in a row\n"
    "(each missed LOGIN, and a refused connection at once, is said on stderr), 5 records not acknowledged\n"
    "(SIGINT/SIGTERM, --timeout: they stay in the spool for the next run).\n";

typedef struct {
    const char *keys, *serial, *pcap, *spool, *software_version;
    char host[256];
    uint16_t port;
    int tcp, have_platform, have_seed, verbose, quiet;
    unsigned records, ecg_seconds, retries, failure_threshold, timeout_s, load, sockets, login_attempts;
    uint64_t backoff_ms, heartbeat_ms, record_interval_ms, response_timeout_ms, ramp_ms, seed;
    wmmp_security_level security;
    wmmp_dialect dialect;
    drv_faults faults;
} options;

static int parse(int argc, char **argv, options *o)
{
    int pos = 1, i;
    const char *v;
    *o = (options){ .software_version = "HT-1.0", .records = 10, .retries = 3,
                    .failure_threshold = 3, .heartbeat_ms = 60000, .record_interval_ms = 2000,
                    .response_timeout_ms = 3000, .ramp_ms = 2000, .security = WMMP_SEC_DIGEST };
    while ((i = drv_cli_next(PROG, argc, argv, &pos, OPTS, &v)) >= 0) {
        int bad = 0;
        switch (i) {
        case O_PLATFORM:
            bad = drv_cli_hostport(PROG, "platform", v, o->host, sizeof o->host, &o->port);
            o->have_platform = 1;
            break;
        case O_TCP: o->tcp = 1; break;
        case O_KEYS: o->keys = v; break;
        case O_SERIAL: o->serial = v; break;
        case O_RECORDS: bad = drv_cli_unsigned(PROG, "records", v, 1000000, &o->records); break;
        case O_SECURITY: bad = drv_cli_security(PROG, v, &o->security); break;
        case O_DIALECT: bad = drv_cli_dialect(PROG, v, &o->dialect); break;
        case O_LOSS: bad = drv_cli_prob(PROG, "loss", v, &o->faults.loss); break;
        case O_DUPLICATE: bad = drv_cli_prob(PROG, "duplicate", v, &o->faults.duplicate); break;
        case O_DELAY:
            if (drv_faults_parse_delay(v, &o->faults)) {
                drv_cli_error(PROG, "--delay: '%s' is not MS or MS+-JITTER (milliseconds)", v);
                bad = -1;
            }
            break;
        case O_SEED: bad = drv_cli_u64(PROG, "seed", v, UINT64_MAX, &o->seed); o->have_seed = 1; break;
        case O_PCAP: o->pcap = v; break;
        case O_SPOOL: o->spool = v; break;
        case O_HEARTBEAT_MS: bad = drv_cli_u64(PROG, "heartbeat-ms", v, 86400000, &o->heartbeat_ms); break;
        case O_RECORD_INTERVAL_MS:
            bad = drv_cli_u64(PROG, "record-interval-ms", v, 86400000, &o->record_interval_ms);
            break;
        case O_ECG_SECONDS: bad = drv_cli_unsigned(PROG, "ecg-seconds", v, 120, &o->ecg_seconds); break;
        case O_RESPONSE_TIMEOUT:
            bad = drv_cli_u64(PROG, "response-timeout-ms", v, 3600000, &o->response_timeout_ms);
            break;
        case O_RETRIES: bad = drv_cli_unsigned(PROG, "retries", v, 255, &o->retries); break;
        case O_FAILURE_THRESHOLD:
            bad = drv_cli_unsigned(PROG, "failure-threshold", v, 1000, &o->failure_threshold);
            break;
        case O_LOGIN_ATTEMPTS: bad = drv_cli_unsigned(PROG, "login-attempts", v, 100000, &o->login_attempts); break;
        case O_BACKOFF_MS: bad = drv_cli_u64(PROG, "backoff-ms", v, 3600000, &o->backoff_ms); break;
        case O_SOFTWARE_VERSION: o->software_version = v; break;
        case O_TIMEOUT: bad = drv_cli_unsigned(PROG, "timeout", v, 86400, &o->timeout_s); break;
        case O_LOAD: bad = drv_cli_unsigned(PROG, "load", v, 1000000, &o->load); break;
        case O_SOCKETS: bad = drv_cli_unsigned(PROG, "sockets", v, 1024, &o->sockets); break;
        case O_RAMP_MS: bad = drv_cli_u64(PROG, "ramp-ms", v, 3600000, &o->ramp_ms); break;
        case O_VERBOSE: o->verbose = 1; break;
        case O_QUIET: o->quiet = 1; break;
        case O_HELP: drv_cli_help(stdout, USAGE, OPTS, EXAMPLES); return 1;
        case O_VERSION: drv_cli_version(stdout, PROG); return 1;
        }
        if (bad)
            return -1;
    }
    if (i == -2)
        return -1;
    if (!o->keys) {
        drv_cli_error(PROG, "--keys FILE is required");
        return -1;
    }
    if (o->load && o->tcp) {
        drv_cli_error(PROG, "--load runs over UDP only (a few sockets for all terminals); drop --tcp");
        return -1;
    }
    if (o->heartbeat_ms == 0 || o->response_timeout_ms == 0) {
        drv_cli_error(PROG, "--%s must be positive", o->heartbeat_ms == 0 ? "heartbeat-ms" : "response-timeout-ms");
        return -1;
    }
    if (!o->have_platform) {
        snprintf(o->host, sizeof o->host, "127.0.0.1");
        o->port = o->tcp ? WMMP_DEFAULT_TCP_PORT : WMMP_DEFAULT_UDP_PORT;
    }
    return 0;
}

static void fill_config(const options *o, terminal_config *c, char *name, size_t name_len)
{
    memset(c, 0, sizeof *c);
    c->records = o->records;
    c->security = o->security;
    c->dialect = o->dialect;
    c->heartbeat_ms = o->heartbeat_ms;
    c->record_interval_ms = o->record_interval_ms;
    c->ecg_seconds = o->ecg_seconds;
    c->software_version = o->software_version;
    wmmp_link_config_default(&c->link, WMMP_UPLINK);
    c->link.response_timeout_ms = o->response_timeout_ms;
    c->link.retries = o->retries;
    c->link.failure_threshold = o->failure_threshold;
    c->max_login_attempts = o->login_attempts;
    c->backoff_ms = o->backoff_ms;
    c->platform_port = o->port;
    snprintf(name, name_len, "%s:%u", o->host, (unsigned)o->port);
    c->platform_name = name;
    {
        struct sockaddr_in a; /* reported to the platform as the configured address (TLV 0x0009) */
        char err[256];
        if (drv_net_resolve(o->host, o->port, &a, err, sizeof err) == 0)
            c->platform_ipv4 = drv_net_endpoint(&a).addr;
    }
}

static emu_log_level log_level(const options *o)
{
    return o->verbose ? EMU_LOG_DEBUG : o->quiet ? EMU_LOG_ERROR : EMU_LOG_WARN;
}

static int run_load(const options *o, const wmmp_terminal_keys *tmpl)
{
    wmmp_keyring kr = { 0 };
    drv_load_options lo;
    char err[512], name[300];
    int rc;
    memset(&lo, 0, sizeof lo);
    if (drv_load_keyring(tmpl, o->load, &kr) != WMMP_OK) {
        fprintf(stderr, "%s: cannot make %u terminals\n", PROG, o->load);
        return DRV_EXIT_USAGE;
    }
    /* without --spool the terminals' spools are thrown away at the end: they live in memory (spool.h) */
    lo.prog = PROG;
    lo.seed = o->have_seed ? o->seed : drv_glib_default_seed();
    lo.log_level = log_level(o);
    lo.faults = o->faults;
    lo.host = o->host;
    lo.port = o->port;
    lo.sockets = o->sockets;
    lo.ramp_ms = o->ramp_ms;
    lo.spool_base = o->spool; /* NULL: in memory */
    lo.keys = &kr;
    fill_config(o, &lo.tmpl, name, sizeof name);
    lo.max_run_ms = (emu_ms)o->timeout_s * 1000;
    lo.pcap_path = o->pcap;
    lo.quiet = o->quiet;
    drv_cli_warn_keys_mode(PROG, o->keys);
    rc = drv_load_run(&lo, stdout, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        rc = DRV_EXIT_USAGE;
    }
    wmmp_keyring_free(&kr);
    return rc;
}

typedef struct {
    terminal *t;
    int signals;
} app;

static void on_receive(void *user, emu_peer *from, const uint8_t *msg, size_t len)
{
    (void)from;
    terminal_receive(((app *)user)->t, msg, len);
}

static void on_closed(void *user, emu_peer *peer)
{
    (void)peer;
    terminal_connection_lost(((app *)user)->t);
}

static gboolean on_signal(gpointer data)
{
    app *a = data;
    if (a->signals++ == 0)
        terminal_stop(a->t); /* log out after what is in flight */
    return G_SOURCE_CONTINUE;
}

static gboolean wake(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE;
}

/*
 * The spool of a terminal run without --spool: one per serial in the user's state folder (XDG base
 * directories), so that its record IDs go on whatever folder the terminal is started from.
 */
static char *default_spool(const char *serial)
{
    const char *state = getenv("XDG_STATE_HOME");
    char *name = g_strdup_printf("spool-%s", serial), *dir;
    if (state && g_path_is_absolute(state)) /* the specification ignores a relative one */
        dir = g_build_filename(state, "wmmp", name, NULL);
    else
        dir = g_build_filename(g_get_home_dir(), ".local", "state", "wmmp", name, NULL);
    g_free(name);
    return dir;
}

static int run_one(const options *o, const wmmp_terminal_keys *keys)
{
    char err[512], name[300], *spool = NULL;
    drv_live_options lo = { .prog = PROG, .seed = o->have_seed ? o->seed : drv_glib_default_seed(),
                            .log_level = log_level(o), .faults = o->faults, .pcap_path = o->pcap };
    drv_live *d;
    emu_peer *peer;
    terminal_config cfg;
    app a = { 0 };
    int code = TERMINAL_EXIT_COMM_FAILURE;
    if (!(d = drv_live_new(&lo, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return DRV_EXIT_USAGE;
    }
    peer = o->tcp ? drv_live_tcp_client(d, o->host, o->port, err, sizeof err)
                  : drv_live_udp_client(d, o->host, o->port, err, sizeof err);
    if (!peer) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        drv_live_free(d);
        return DRV_EXIT_USAGE;
    }
    fill_config(o, &cfg, name, sizeof name);
    cfg.keys = keys;
    cfg.serial = keys->serial;
    spool = o->spool ? g_strdup(o->spool) : default_spool(keys->serial);
    cfg.spool_dir = spool;
    if (!(a.t = terminal_new(drv_live_env(d), peer, &cfg, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        drv_live_free(d);
        g_free(spool);
        return DRV_EXIT_USAGE;
    }
    drv_cli_warn_keys_mode(PROG, o->keys);
    drv_live_set_handler(d, &(drv_live_handler){ on_receive, on_closed, &a });
    guint s1 = g_unix_signal_add(SIGINT, on_signal, &a), s2 = g_unix_signal_add(SIGTERM, on_signal, &a);
    guint w = g_timeout_add(250, wake, NULL); /* re-checks the bounds below */
    gint64 start = g_get_monotonic_time(), bound = (gint64)o->timeout_s * G_USEC_PER_SEC, grace = 0;

    terminal_start(a.t);
    while (!terminal_done(a.t, &code)) {
        gint64 now = g_get_monotonic_time();
        if (a.signals > 1)
            break; /* a second signal: leave now */
        if (bound && !grace && now - start >= bound) {
            fprintf(stderr, "%s: --timeout %u s reached; logging out\n", PROG, o->timeout_s);
            terminal_stop(a.t);
            grace = now + 15 * G_USEC_PER_SEC;
        }
        if (grace && now >= grace)
            break;
        drv_live_iterate(d, 1);
    }
    if (!terminal_done(a.t, &code))
        code = TERMINAL_EXIT_COMM_FAILURE;
    g_source_remove(w);
    g_source_remove(s1);
    g_source_remove(s2);
    {
        const terminal_stats *st = terminal_get_stats(a.t);
        const drv_live_stats *ls = drv_live_get_stats(d);
        const wmmp_link_stats *lk = wmmp_link_get_stats(terminal_link(a.t));
        printf("%s: %s: records generated %llu, sent %llu, acknowledged %llu, pending %llu; heartbeats %llu, "
               "logins %llu, failures %llu; link: requests %llu, retransmissions %llu, failed %llu, duplicates "
               "answered %llu; wire: sent %llu, received %llu, dropped by --loss %llu out %llu in; exit %d\n",
               PROG, keys->serial, (unsigned long long)st->records_generated, (unsigned long long)st->records_sent,
               (unsigned long long)st->records_acked, (unsigned long long)st->records_pending,
               (unsigned long long)st->heartbeats, (unsigned long long)st->logins, (unsigned long long)st->failures,
               (unsigned long long)lk->requests_sent, (unsigned long long)lk->retransmissions,
               (unsigned long long)lk->requests_failed, (unsigned long long)lk->duplicates_answered,
               (unsigned long long)ls->sent, (unsigned long long)ls->received, (unsigned long long)ls->dropped_out,
               (unsigned long long)ls->dropped_in, code);
        fflush(stdout);
    }
    terminal_free(a.t);
    if (drv_live_close_pcap(d, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        if (code == 0)
            code = TERMINAL_EXIT_COMM_FAILURE;
    }
    drv_live_free(d);
    g_free(spool);
    return code;
}

int main(int argc, char **argv)
{
    options o;
    wmmp_keyring kr = { 0 };
    const wmmp_terminal_keys *keys;
    char err[512];
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : DRV_EXIT_USAGE;
    if (wmmp_keyring_load(&kr, o.keys, err, sizeof err) != WMMP_OK) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return DRV_EXIT_USAGE;
    }
    keys = kr.count ? &kr.items[0] : NULL;
    if (o.serial) {
        uint8_t s[WMMP_SERIAL_LEN] = { 0 };
        memcpy(s, o.serial, strnlen(o.serial, WMMP_SERIAL_LEN));
        keys = strlen(o.serial) == WMMP_SERIAL_LEN ? wmmp_keyring_find_serial(&kr, s) : NULL;
    }
    if (!keys) {
        if (o.serial)
            fprintf(stderr, "%s: serial '%s' is not in %s\n", PROG, o.serial, o.keys);
        else
            fprintf(stderr, "%s: %s holds no terminal\n", PROG, o.keys);
        wmmp_keyring_free(&kr);
        return DRV_EXIT_USAGE;
    }
    rc = o.load ? run_load(&o, keys) : run_one(&o, keys);
    wmmp_keyring_free(&kr);
    return rc;
}
