/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wmmp-platform: the M2M platform on real sockets (UDP and TCP), until SIGINT/SIGTERM; then it logs every
 * terminal out (LOGOUT reason 2), waits for them (bounded), prints its counters and exits 0.
 */
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_cli.h"
#include "drv_glib.h"
#include "drv_live.h"
#include "drv_net.h"
#include "drv_load.h"
#include "platform.h"
#include "wmmp_keys.h"
#include "wmmp_header.h"

static const char *const PROG = "wmmp-platform";

enum {
    O_LISTEN, O_UDP_PORT, O_TCP_PORT, O_KEYS, O_DB, O_PCAP, O_FIRMWARE, O_FIRMWARE_VERSION, O_SECURITY, O_HEARTBEAT,
    O_RESPONSE_TIMEOUT, O_RETRIES, O_LOSS, O_DUPLICATE, O_DELAY, O_SEED, O_LOAD_TERMINALS, O_MAX_CONNECTIONS,
    O_RATE_LIMIT, O_MAX_PER_ADDRESS, O_MAX_UDP_PEERS, O_SHUTDOWN_TIMEOUT, O_VERBOSE, O_QUIET, O_HELP,
    O_VERSION,
};

static const drv_opt OPTS[] = {
    [O_LISTEN] = { "listen", "ADDR", "IPv4 address (or host name) to listen on (default 127.0.0.1)" },
    [O_UDP_PORT] = { "udp-port", "N", "UDP port (default 9992; 0: no UDP)" },
    [O_TCP_PORT] = { "tcp-port", "N", "TCP port (default 9991; 0: no TCP)" },
    [O_KEYS] = { "keys", "FILE", "keys file of the known terminals (profile section 11; required)" },
    [O_DB] = { "db", "FILE", "SQLite database of records, sessions, counters (required; created when missing)" },
    [O_PCAP] = { "pcap", "FILE", "record every datagram/segment sent and received" },
    [O_FIRMWARE] = { "firmware", "FILE", "firmware image served by FILE_REQ" },
    [O_FIRMWARE_VERSION] = { "firmware-version", "STR", "version announced in DOWNLOAD_INFO (default HT-2.0)" },
    [O_SECURITY] = { "security", "LEVEL",
                     "most security offered: plain|digest|encrypted|full (default full; only plain accepts "
                     "a LOGIN without digest)" },
    [O_HEARTBEAT] = { "heartbeat", "SECONDS", "heartbeat interval given in LOGIN_ACK (default 60)" },
    [O_RESPONSE_TIMEOUT] = { "response-timeout-ms", "MS", "wait for an ACK before resending (default 3000)" },
    [O_RETRIES] = { "retries", "N", "retransmissions of a request (default 3)" },
    [O_LOSS] = { "loss", "P", "drop each message sent and each received with probability P" },
    [O_DUPLICATE] = { "duplicate", "P", "send each message twice with probability P" },
    [O_DELAY] = { "delay", "MS[+-J]", "delay each sent message by MS ms, plus or minus up to J" },
    [O_SEED] = { "seed", "N", "seed of the random generator (faults); default: from the clock. Session keys never "
                       "come from it but from the system's CSPRNG" },
    [O_LOAD_TERMINALS] = { "load-terminals", "N",
                           "also accept the N terminals of wmmp-terminal --load N (keys made from the first entry)" },
    [O_MAX_CONNECTIONS] = { "max-connections", "N", "TCP connections open at once (default 1024)" },
    [O_MAX_PER_ADDRESS] = { "max-connections-per-address", "N",
                            "TCP connections open at once from one IP address (default 32)" },
    [O_RATE_LIMIT] = { "rate-limit", "N[:BURST]",
                       "per source IP address: at most N datagrams, TCP messages and new connections a second "
                       "(bursts of BURST, default 2N); the excess is dropped and counted (default 100:200; "
                       "0: no limit; with --load-terminals no limit unless given)" },
    [O_MAX_UDP_PEERS] = { "max-udp-peers", "N",
                          "UDP source addresses remembered at once; the least recently heard is forgotten "
                          "(default 16384)" },
    [O_SHUTDOWN_TIMEOUT] = { "shutdown-timeout", "SECONDS", "wait for LOGOUT_ACKs at shutdown (default 10)" },
    [O_VERBOSE] = { "verbose", NULL, "log debug detail (every message)" },
    [O_QUIET] = { "quiet", NULL, "log errors only" },
    [O_HELP] = { "help", NULL, "this help (exit 0)" },
    [O_VERSION] = { "version", NULL, "the version (exit 0)" },
    { NULL, NULL, NULL },
};

static const char *const USAGE = "Usage: wmmp-platform --keys FILE --db FILE [OPTION...]\n"
                                 "The WMMP M2M platform: accepts the health testers of the keys file over UDP and\n"
                                 "TCP, stores their health records in SQLite exactly once, runs until SIGINT/SIGTERM.";

static const char *const EXAMPLES =
    "  wmmp-platform --keys captures/wmmp-keys.txt --db /tmp/wmmp.db\n"
    "  wmmp-platform --listen 0.0.0.0 --udp-port 9992 --tcp-port 9991 --keys captures/wmmp-keys.txt \\\n"
    "      --db /tmp/wmmp.db --pcap /tmp/platform.pcap --heartbeat 5 --verbose\n"
    "  wmmp-platform --keys captures/wmmp-keys.txt --db /dev/shm/load.db --load-terminals 10000 --quiet\n"
    "  wmmp-platform --keys captures/wmmp-keys.txt --db /tmp/wmmp.db --loss 0.1 --seed 7\n"
    "  wmmp-platform --listen 0.0.0.0 --keys /etc/wmmp/keys.txt --db /var/lib/wmmp.db --rate-limit 50\n"
    "Exit status: 0 after SIGINT/SIGTERM (also for --help, --version), 1 when the database or capture\n"
    "fails, 2 for bad usage (option, keys file, busy port).\n";

typedef struct {
    const char *listen, *keys, *db, *pcap, *firmware, *firmware_version;
    unsigned udp_port, tcp_port, heartbeat, response_timeout, retries, load_terminals, max_connections;
    unsigned shutdown_timeout, max_udp_peers, max_per_address;
    double rate_limit, rate_burst;
    int have_rate;
    uint64_t seed;
    int have_seed, verbose, quiet;
    wmmp_security_level security;
    drv_faults faults;
} options;

/* --rate-limit N[:BURST] */
static int parse_rate(const char *v, options *o)
{
    char *end;
    double n, b = 0;
    n = strtod(v, &end);
    if (end != v && *end == ':') {
        const char *bs = end + 1;
        b = strtod(bs, &end);
        if (end == bs)
            end = (char *)v; /* no number after ':' */
    }
    if (end == v || *end || !(n >= 0 && n <= 1e9) || !(b >= 0 && b <= 1e9) || (n > 0 && b > 0 && b < 1)) {
        drv_cli_error(PROG, "--rate-limit: '%s' is not N or N:BURST (messages a second, 0: no limit)", v);
        return -1;
    }
    o->rate_limit = n;
    o->rate_burst = b;
    o->have_rate = 1;
    return 0;
}

/* 0: go on, 1: --help printed, -1: error printed */
static int parse(int argc, char **argv, options *o)
{
    int pos = 1, i;
    const char *v;
    *o = (options){ .listen = "127.0.0.1", .firmware_version = "HT-2.0", .udp_port = WMMP_DEFAULT_UDP_PORT, .tcp_port = WMMP_DEFAULT_TCP_PORT,
                    .heartbeat = 60, .response_timeout = 3000, .retries = 3, .shutdown_timeout = 10,
                    .security = WMMP_SEC_FULL };
    while ((i = drv_cli_next(PROG, argc, argv, &pos, OPTS, &v)) >= 0) {
        int bad = 0;
        switch (i) {
        case O_LISTEN: o->listen = v; break;
        case O_UDP_PORT: bad = drv_cli_unsigned(PROG, "udp-port", v, 65535, &o->udp_port); break;
        case O_TCP_PORT: bad = drv_cli_unsigned(PROG, "tcp-port", v, 65535, &o->tcp_port); break;
        case O_KEYS: o->keys = v; break;
        case O_DB: o->db = v; break;
        case O_PCAP: o->pcap = v; break;
        case O_FIRMWARE: o->firmware = v; break;
        case O_FIRMWARE_VERSION: o->firmware_version = v; break;
        case O_SECURITY: bad = drv_cli_security(PROG, v, &o->security); break;
        case O_HEARTBEAT: bad = drv_cli_unsigned(PROG, "heartbeat", v, 65535, &o->heartbeat); break;
        case O_RESPONSE_TIMEOUT:
            bad = drv_cli_unsigned(PROG, "response-timeout-ms", v, 3600000, &o->response_timeout);
            break;
        case O_RETRIES: bad = drv_cli_unsigned(PROG, "retries", v, 255, &o->retries); break;
        case O_LOSS: bad = drv_cli_prob(PROG, "loss", v, &o->faults.loss); break;
        case O_DUPLICATE: bad = drv_cli_prob(PROG, "duplicate", v, &o->faults.duplicate); break;
        case O_DELAY:
            if (drv_faults_parse_delay(v, &o->faults)) {
                drv_cli_error(PROG, "--delay: '%s' is not MS or MS+-JITTER (milliseconds)", v);
                bad = -1;
            }
            break;
        case O_SEED: bad = drv_cli_u64(PROG, "seed", v, UINT64_MAX, &o->seed); o->have_seed = 1; break;
        case O_LOAD_TERMINALS: bad = drv_cli_unsigned(PROG, "load-terminals", v, 1000000, &o->load_terminals); break;
        case O_MAX_CONNECTIONS: bad = drv_cli_unsigned(PROG, "max-connections", v, 1000000, &o->max_connections); break;
        case O_RATE_LIMIT: bad = parse_rate(v, o); break;
        case O_MAX_PER_ADDRESS:
            bad = drv_cli_unsigned(PROG, "max-connections-per-address", v, 1000000, &o->max_per_address);
            break;
        case O_MAX_UDP_PEERS: bad = drv_cli_unsigned(PROG, "max-udp-peers", v, 10000000, &o->max_udp_peers); break;
        case O_SHUTDOWN_TIMEOUT: bad = drv_cli_unsigned(PROG, "shutdown-timeout", v, 3600, &o->shutdown_timeout); break;
        case O_VERBOSE: o->verbose++; break;
        case O_QUIET: o->quiet = 1; break;
        case O_HELP: drv_cli_help(stdout, USAGE, OPTS, EXAMPLES); return 1;
        case O_VERSION: drv_cli_version(stdout, PROG); return 1;
        }
        if (bad)
            return -1;
    }
    if (i == -2)
        return -1;
    if (!o->keys || !o->db) {
        drv_cli_error(PROG, "%s is required", !o->keys ? "--keys FILE" : "--db FILE");
        return -1;
    }
    if (!o->udp_port && !o->tcp_port) {
        drv_cli_error(PROG, "--udp-port 0 and --tcp-port 0: nothing to listen on");
        return -1;
    }
    if (o->heartbeat == 0) {
        drv_cli_error(PROG, "--heartbeat must be at least 1 second");
        return -1;
    }
    return 0;
}

typedef struct {
    platform *p;
    int stop;
} app;

static void on_receive(void *user, emu_peer *from, const uint8_t *msg, size_t len)
{
    platform_receive(((app *)user)->p, from, msg, len);
}

static void on_closed(void *user, emu_peer *peer) { platform_peer_closed(((app *)user)->p, peer); }

static gboolean on_signal(gpointer data)
{
    ((app *)data)->stop = 1;
    return G_SOURCE_CONTINUE;
}

/* Wakes the loop now and then while it waits for something other than sockets and timers. */
static gboolean wake(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE;
}

static void print_stats(const platform_stats *s, const drv_live_stats *ls)
{
    printf("%s: registrations %llu, logins %llu (refused %llu), logouts %llu, session timeouts %llu, "
           "communication failures %llu, records stored %llu (duplicates %llu, IDs reused %llu), rejected: bad digest %llu, "
           "unknown terminal %llu, not logged in %llu, malformed %llu; messages received %llu, sent %llu; "
           "wire: sent %llu, received %llu, dropped by --loss %llu out %llu in, rate-limited %llu (%llu sources), "
           "UDP addresses forgotten %llu, TCP connections refused %llu (per address %llu), closed on protocol errors %llu, "
           "idle %llu; hostile: stale logins %llu, replays dropped %llu, answers withheld %llu\n",
           PROG, (unsigned long long)s->registrations, (unsigned long long)s->logins,
           (unsigned long long)s->logins_refused, (unsigned long long)s->logouts,
           (unsigned long long)s->session_timeouts, (unsigned long long)s->comm_failures,
           (unsigned long long)s->records_stored, (unsigned long long)s->records_duplicate,
           (unsigned long long)s->records_id_reused,
           (unsigned long long)s->rejected_bad_digest, (unsigned long long)s->rejected_unknown_terminal,
           (unsigned long long)s->rejected_not_logged_in, (unsigned long long)s->rejected_malformed,
           (unsigned long long)s->messages_received, (unsigned long long)s->messages_sent,
           (unsigned long long)ls->sent, (unsigned long long)ls->received, (unsigned long long)ls->dropped_out,
           (unsigned long long)ls->dropped_in, (unsigned long long)ls->rate_limited,
           (unsigned long long)ls->rate_limited_sources, (unsigned long long)ls->udp_peers_evicted,
           (unsigned long long)ls->tcp_refused, (unsigned long long)ls->tcp_refused_per_address,
           (unsigned long long)ls->tcp_protocol_errors, (unsigned long long)ls->tcp_idle_closed,
           (unsigned long long)s->logins_stale, (unsigned long long)s->replays_dropped,
           (unsigned long long)s->answers_withheld);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    options o;
    wmmp_keyring kr = { 0 };
    char err[512];
    drv_live *d = NULL;
    platform *p = NULL;
    app a = { 0 };
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : DRV_EXIT_USAGE;
    if (wmmp_keyring_load(&kr, o.keys, err, sizeof err) != WMMP_OK) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return DRV_EXIT_USAGE;
    }
    if (kr.count == 0) {
        fprintf(stderr, "%s: %s holds no terminal\n", PROG, o.keys);
        wmmp_keyring_free(&kr);
        return DRV_EXIT_USAGE;
    }
    if (o.load_terminals) {
        wmmp_terminal_keys tmpl = kr.items[0];
        if (drv_load_keyring(&tmpl, o.load_terminals, &kr) != WMMP_OK) {
            fprintf(stderr, "%s: cannot make %u load-test terminals\n", PROG, o.load_terminals);
            wmmp_keyring_free(&kr);
            return DRV_EXIT_USAGE;
        }
    }

    drv_live_options lo = { .prog = PROG, .seed = o.have_seed ? o.seed : drv_glib_default_seed(),
                            .log_level = EMU_LOG_INFO, .faults = o.faults, .pcap_path = o.pcap,
                            .max_connections = o.max_connections, .rate_limit = o.rate_limit,
                            .rate_burst = o.rate_burst, .max_udp_peers = o.max_udp_peers,
                            .max_per_address = o.max_per_address };
    /* limited by default (a flood from one address, reflection); load mode sends everything from one address */
    if (!o.have_rate && !o.load_terminals)
        lo.rate_limit = DRV_LIVE_DEFAULT_RATE_LIMIT;
    /* a TCP connection silent for longer than a session lives (3 heartbeat intervals) serves nobody */
    lo.idle_timeout_ms = (emu_ms)o.heartbeat * 3000 + 30000;
    if (o.quiet)
        lo.log_level = EMU_LOG_ERROR;
    if (o.verbose)
        lo.log_level = EMU_LOG_DEBUG;
    if (!(d = drv_live_new(&lo, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        wmmp_keyring_free(&kr);
        return DRV_EXIT_USAGE;
    }
    if ((o.udp_port && drv_live_listen_udp(d, o.listen, (uint16_t)o.udp_port, err, sizeof err) < 0) ||
        (o.tcp_port && drv_live_listen_tcp(d, o.listen, (uint16_t)o.tcp_port, err, sizeof err) < 0)) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        drv_live_free(d);
        wmmp_keyring_free(&kr);
        return DRV_EXIT_USAGE;
    }

    platform_config pc = { 0 };
    pc.keys = &kr;
    pc.db_path = o.db;
    pc.firmware_path = o.firmware;
    pc.firmware_version = o.firmware_version;
    pc.security = o.security;
    pc.heartbeat_interval_s = (uint16_t)o.heartbeat;
    wmmp_link_config_default(&pc.link, WMMP_DOWNLINK);
    pc.link.response_timeout_ms = o.response_timeout;
    pc.link.retries = o.retries;
    pc.platform_port = o.udp_port ? o.udp_port : o.tcp_port;
    pc.group_commit = 1; /* records and heartbeats that arrive together share a commit; ACKs after it */
    {
        struct sockaddr_in la; /* CONFIG_REQ asks for the platform's address */
        if (drv_net_resolve(o.listen, 0, &la, err, sizeof err) == 0)
            pc.platform_ipv4 = drv_net_endpoint(&la).addr;
    }
    if (!(p = platform_new(drv_live_env(d), &pc, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        drv_live_free(d);
        wmmp_keyring_free(&kr);
        return 1;
    }
    a.p = p;
    drv_live_set_handler(d, &(drv_live_handler){ on_receive, on_closed, &a });
    guint s1 = g_unix_signal_add(SIGINT, on_signal, &a), s2 = g_unix_signal_add(SIGTERM, on_signal, &a);
    fprintf(stderr, "%s: listening on %s (UDP %u, TCP %u), %zu terminals known, database %s\n", PROG, o.listen,
                o.udp_port, o.tcp_port, kr.count, o.db);
    drv_cli_warn_keys_mode(PROG, o.keys);

    while (!a.stop)
        drv_live_iterate(d, 1);

    /* shutdown: LOGOUT reason 2 to everyone, then wait (bounded) for their LOGOUT_ACKs */
    platform_shutdown(p);
    guint w = g_timeout_add(100, wake, NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)o.shutdown_timeout * G_USEC_PER_SEC;
    while (!platform_idle(p) && g_get_monotonic_time() < deadline)
        drv_live_iterate(d, 1);
    g_source_remove(w);
    g_source_remove(s1);
    g_source_remove(s2);
    if (!platform_idle(p))
        fprintf(stderr, "%s: %zu sessions still open after %u s; exiting anyway\n", PROG, platform_sessions(p),
                o.shutdown_timeout);
    print_stats(platform_get_stats(p), drv_live_get_stats(d));
    platform_free(p);
    rc = 0;
    if (drv_live_close_pcap(d, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        rc = 1;
    }
    drv_live_free(d);
    wmmp_keyring_free(&kr);
    return rc;
}
