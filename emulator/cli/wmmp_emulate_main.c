/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wmmp-emulate: a terminal and a platform in one process on a virtual clock (drv_offline.h), at full speed,
 * playing a scenario (drv_scenarios.h). The same options and --seed give a byte-identical capture.
 * The run uses a fresh spool and (unless --db) a fresh database, both in memory, so record IDs and
 * everything after them are the same every time.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_cli.h"
#include "drv_fs.h"
#include "drv_offline.h"
#include "drv_scenarios.h"
#include "platform.h"
#include "spool.h"
#include "terminal.h"
#include "wmmp_crc.h"
#include "wmmp_keys.h"
#include "wmmp_tables.h"
#include "wmmp_header.h"

static const char *const PROG = "wmmp-emulate";

/* The example terminal of captures/wmmp-keys.txt, used when --keys is not given. */
static const char *const EXAMPLE_KEYS = "\"A00MS8011390002S\",\"860000000000001\",\"460001234567890\",\"12345678\","
                                        "\"87654321\",\"0123456789abcdeffedcba98765432100011223344556677\"";

/* a scenario that has not ended after 6 virtual hours (plus twice its records' measuring time) never will */
#define VIRTUAL_LIMIT_MS (6u * 3600u * 1000u)

enum {
    O_SCENARIO, O_SEED, O_PCAP, O_TCP, O_LOSS, O_DUPLICATE, O_DELAY, O_DB, O_RECORDS, O_SECURITY, O_DIALECT, O_KEYS,
    O_ONE_WAY, O_VERBOSE, O_LIST, O_HELP, O_VERSION,
};

static const drv_opt OPTS[] = {
    [O_SCENARIO] = { "scenario", "NAME", "what to play (see --list; default figure4)" },
    [O_SEED] = { "seed", "N", "seed of the one random generator (default 1): same seed, same capture -- session keys "
                                 "included, so they are predictable: for captures, never for real terminals" },
    [O_PCAP] = { "pcap", "FILE", "write the capture (10.0.0.2:40001 <-> 10.0.0.1:9992, or :9991 with --tcp)" },
    [O_TCP] = { "tcp", NULL, "TCP instead of UDP (a flow with its handshake)" },
    [O_LOSS] = { "loss", "P", "lose each message with probability P (scenario loss: default 0.2)" },
    [O_DUPLICATE] = { "duplicate", "P", "deliver each message twice with probability P" },
    [O_DELAY] = { "delay", "MS[+-J]", "extra delay per message, plus or minus up to J ms" },
    [O_DB] = { "db", "FILE", "the platform's database (default: one in memory)" },
    [O_RECORDS] = { "records", "N", "health records (default: the scenario's)" },
    [O_SECURITY] = { "security", "LEVEL", "plain|digest|encrypted|full (default: plain for figure4, the paper's unsigned flow; digest for the others)" },
    [O_DIALECT] = { "dialect", "D", "wmmp3|paper" },
    [O_KEYS] = { "keys", "FILE", "keys file; its first line is the terminal (default: the example terminal)" },
    [O_ONE_WAY] = { "one-way-ms", "MS", "network delay each way (default 20)" },
    [O_VERBOSE] = { "verbose", NULL, "log both nodes (virtual time stamps)" },
    [O_LIST] = { "list", NULL, "list the scenarios" },
    [O_HELP] = { "help", NULL, "this help (exit 0)" },
    [O_VERSION] = { "version", NULL, "the version (exit 0)" },
    { NULL, NULL, NULL },
};

static const char *const USAGE = "Usage: wmmp-emulate [--scenario NAME] [--seed N] [--pcap FILE] [OPTION...]\n"
                                 "A terminal and a platform in one process on a virtual clock, at full speed.";

static const char *const EXAMPLES =
    "  wmmp-emulate --scenario figure4 --seed 7 --security plain --keys captures/wmmp-keys.txt --pcap /tmp/figure4.pcap\n"
    "  wmmp-emulate --scenario loss --loss 0.3 --seed 3 --tcp --pcap /tmp/loss.pcap\n"
    "  wmmp-emulate --scenario session --records 100 --security full --pcap /tmp/full.pcap\n"
    "  wmmp-emulate --list\n"
    "Exit status: 0 when the scenario showed what it is about (printed as 'check: ok'; also for --help,\n"
    "--version, --list), 1 when not, 2 for bad usage.\n";

typedef struct {
    const char *scenario, *pcap, *db, *keys;
    uint64_t seed, one_way;
    int tcp, verbose, have_loss, have_records, have_security;
    unsigned records;
    wmmp_security_level security;
    wmmp_dialect dialect;
    drv_faults faults;
} options;

static int parse(int argc, char **argv, options *o)
{
    int pos = 1, i;
    const char *v;
    *o = (options){ .scenario = "figure4", .seed = 1, .one_way = 20, .security = WMMP_SEC_DIGEST };
    while ((i = drv_cli_next(PROG, argc, argv, &pos, OPTS, &v)) >= 0) {
        int bad = 0;
        switch (i) {
        case O_SCENARIO: o->scenario = v; break;
        case O_SEED: bad = drv_cli_u64(PROG, "seed", v, UINT64_MAX, &o->seed); break;
        case O_PCAP: o->pcap = v; break;
        case O_TCP: o->tcp = 1; break;
        case O_LOSS: bad = drv_cli_prob(PROG, "loss", v, &o->faults.loss); o->have_loss = 1; break;
        case O_DUPLICATE: bad = drv_cli_prob(PROG, "duplicate", v, &o->faults.duplicate); break;
        case O_DELAY:
            if (drv_faults_parse_delay(v, &o->faults)) {
                drv_cli_error(PROG, "--delay: '%s' is not MS or MS+-JITTER (milliseconds)", v);
                bad = -1;
            }
            break;
        case O_DB: o->db = v; break;
        case O_RECORDS: bad = drv_cli_unsigned(PROG, "records", v, 10000000, &o->records); o->have_records = 1; break;
        case O_SECURITY: bad = drv_cli_security(PROG, v, &o->security); o->have_security = 1; break;
        case O_DIALECT: bad = drv_cli_dialect(PROG, v, &o->dialect); break;
        case O_KEYS: o->keys = v; break;
        case O_ONE_WAY: bad = drv_cli_u64(PROG, "one-way-ms", v, 60000, &o->one_way); break;
        case O_VERBOSE: o->verbose = 1; break;
        case O_LIST:
            printf("scenarios: %s\n", drv_scenario_names());
            for (size_t k = 0; drv_scenario_at(k); k++)
                printf("  %-11s %s\n", drv_scenario_at(k)->name, drv_scenario_at(k)->what);
            return 1;
        case O_HELP:
            drv_cli_help(stdout, USAGE, OPTS, EXAMPLES);
            printf("\nScenarios: %s\n", drv_scenario_names());
            return 1;
        case O_VERSION: drv_cli_version(stdout, PROG); return 1;
        }
        if (bad)
            return -1;
    }
    return i == -2 ? -1 : 0;
}

static int load_keys(const options *o, wmmp_keyring *kr)
{
    char err[512];
    if (o->keys) {
        if (wmmp_keyring_load(kr, o->keys, err, sizeof err) != WMMP_OK) {
            fprintf(stderr, "%s: %s\n", PROG, err);
            return -1;
        }
        if (kr->count == 0) {
            fprintf(stderr, "%s: %s holds no terminal\n", PROG, o->keys);
            return -1;
        }
        return 0;
    }
    wmmp_terminal_keys k;
    if (wmmp_keys_parse_line(EXAMPLE_KEYS, &k, err, sizeof err) != WMMP_OK || wmmp_keyring_add(kr, &k) != WMMP_OK) {
        fprintf(stderr, "%s: built-in keys: %s\n", PROG, err);
        return -1;
    }
    return 0;
}

/*
 * The firmware scenario's image, 8 KiB, the same every run: what a small microcontroller image looks like.
 * A 64-byte header ("HTFW", format 1, image length, load address, entry point, version, build date), a code
 * section of 16-bit words (pseudo-random, from a fixed LCG), a table of the device's strings, zero fill,
 * and the CRC-32 of everything before it in the last 4 bytes. The platform announces the CRC-32 of the
 * whole file in DOWNLOAD_INFO (0x1008); the terminal checks it after the last block.
 */
#define FIRMWARE_NAME "ht-2.0.bin"
#define FIRMWARE_LEN 8192u
#define FIRMWARE_CODE_LEN 5632u

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static char *write_firmware(const char *dir)
{
    static const char *const strings[] = {
        "Integrated health tester HT-2.0", "WMMP-T 3.0 terminal (China Mobile M2M)", "ECG lead II 250 Hz",
        "Body temperature", "Blood pressure", "Pulse rate", "SpO2", "Respiratory rate", "Dry blood biochemistry",
        "Hemoglobin", "Cross matching", "Clotting factors", "Ions", "Blood gas", "ID-document scanner",
        "Medical reminder", "Store and forward spool", "(c) 2026 wmmp-tools example image",
    };
    uint8_t *img = g_malloc0(FIRMWARE_LEN);
    uint32_t lcg = 0x2026u;
    size_t off;
    memcpy(img, "HTFW", 4);
    put_be32(img + 4, 1);               /* header format */
    put_be32(img + 8, FIRMWARE_LEN);    /* image length */
    put_be32(img + 12, 0x08004000u);    /* load address */
    put_be32(img + 16, 0x08004041u);    /* entry point (Thumb) */
    memcpy(img + 20, "HT-2.0", 6);      /* version, 16 bytes NUL-padded */
    memcpy(img + 36, "2026-01-01", 10); /* build date, 16 bytes NUL-padded */
    for (off = 64; off < 64 + FIRMWARE_CODE_LEN; off += 2) {
        lcg = lcg * 1103515245u + 12345u;
        img[off] = (uint8_t)(lcg >> 16);
        img[off + 1] = (uint8_t)(0xB0 | ((lcg >> 24) & 0x0F)); /* Thumb-like opcode high bytes */
    }
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        size_t n = strlen(strings[i]) + 1;
        memcpy(img + off, strings[i], n);
        off += n;
    }
    put_be32(img + FIRMWARE_LEN - 4, wmmp_crc32(img, FIRMWARE_LEN - 4));

    char *path = g_build_filename(dir, FIRMWARE_NAME, NULL);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(img, 1, FIRMWARE_LEN, f) == FIRMWARE_LEN;
    if (f && fclose(f) != 0)
        ok = 0;
    g_free(img);
    if (!ok) {
        g_free(path);
        return NULL;
    }
    return path;
}

static void on_terminal_receive(void *user, emu_peer *from, const uint8_t *msg, size_t len)
{
    (void)from;
    terminal_receive(((drv_run *)user)->t, msg, len);
}

static void on_terminal_closed(void *user, emu_peer *peer)
{
    (void)peer;
    terminal_connection_lost(((drv_run *)user)->t);
}

static void on_platform_receive(void *user, emu_peer *from, const uint8_t *msg, size_t len)
{
    platform_receive(((drv_run *)user)->p, from, msg, len);
}

static void on_platform_closed(void *user, emu_peer *peer) { platform_peer_closed(((drv_run *)user)->p, peer); }

static void start_terminal(void *arg) { terminal_start(((drv_run *)arg)->t); }

static void print_summary(const options *o, const drv_run *r, int code, const char *check_why, int check_ok)
{
    const drv_offline_stats *ds = drv_offline_get_stats(r->d);
    const terminal_stats *ts = terminal_get_stats(r->t);
    const platform_stats *ps = platform_get_stats(r->p);
    emu_ms now = drv_offline_now(r->d);
    printf("%s: scenario %s, seed %llu, %s, security %s: %zu messages on the wire (terminal %llu, platform %llu), "
           "%llu lost, %llu duplicated, virtual time %llu.%03llu s\n",
           PROG, r->sc->name, (unsigned long long)o->seed, o->tcp ? "TCP" : "UDP", drv_cli_security_name(o->security),
           (size_t)(ds->sent[DRV_TERMINAL] + ds->sent[DRV_PLATFORM]), (unsigned long long)ds->sent[DRV_TERMINAL], (unsigned long long)ds->sent[DRV_PLATFORM],
           (unsigned long long)ds->lost, (unsigned long long)ds->duplicated, (unsigned long long)(now / 1000),
           (unsigned long long)(now % 1000));
    printf("terminal: exit %d; records generated %llu, sent %llu, acknowledged %llu, pending %llu; heartbeats %llu, "
           "logins %llu, failures %llu\n",
           code, (unsigned long long)ts->records_generated, (unsigned long long)ts->records_sent,
           (unsigned long long)ts->records_acked, (unsigned long long)ts->records_pending,
           (unsigned long long)ts->heartbeats, (unsigned long long)ts->logins, (unsigned long long)ts->failures);
    printf("platform: logins %llu, logouts %llu, records stored %llu (duplicates %llu), bad digests %llu, "
           "malformed %llu\n",
           (unsigned long long)ps->logins, (unsigned long long)ps->logouts, (unsigned long long)ps->records_stored,
           (unsigned long long)ps->records_duplicate, (unsigned long long)ps->rejected_bad_digest,
           (unsigned long long)ps->rejected_malformed);
    printf("wire:");
    for (size_t i = 0; i < r->n_wire && i < 40; i++)
        printf(" %s%s", r->wire_from[i] == DRV_TERMINAL ? ">" : "<", wmmp_command_name(r->wire[i]));
    printf("%s\n", r->n_wire > 40 ? " ..." : "");
    if (o->pcap)
        printf("pcap: %s\n", o->pcap);
    printf("check: %s%s%s\n", check_ok ? "ok" : "FAILED", check_ok ? "" : ": ", check_ok ? "" : check_why);
}

int main(int argc, char **argv)
{
    options o;
    wmmp_keyring kr = { 0 };
    const drv_scenario *sc;
    char err[512], why[256] = "", *tmp = NULL, *spool_dir = NULL, *db = NULL, *firmware = NULL;
    drv_offline *d = NULL;
    drv_run *r = NULL;
    int rc = parse(argc, argv, &o), code = -1, ok = 0;
    if (rc)
        return rc > 0 ? 0 : DRV_EXIT_USAGE;
    if (!(sc = drv_scenario_find(o.scenario))) {
        fprintf(stderr, "%s: unknown scenario '%s'; scenarios: %s\n", PROG, o.scenario, drv_scenario_names());
        return DRV_EXIT_USAGE;
    }
    if (load_keys(&o, &kr) < 0)
        return DRV_EXIT_USAGE;
    if (!o.have_loss)
        o.faults.loss = sc->loss;
    if (!o.have_security)
        o.security = sc->plain ? WMMP_SEC_PLAIN : WMMP_SEC_DIGEST;
    if (!(tmp = drv_fs_tempdir("wmmp-emulate", 0))) {
        fprintf(stderr, "%s: cannot create a temporary directory\n", PROG);
        wmmp_keyring_free(&kr);
        return 1;
    }
    /* thrown away after the run: kept in memory, no files to sync; a scenario that fills it before the
       terminal starts (drv_scenario.preload) gets a directory in tmp */
    spool_dir = sc->preload ? g_build_filename(tmp, "spool", NULL) : g_strdup(SPOOL_MEMORY);
    db = g_strdup(o.db ? o.db : ":memory:");
    if (sc->needs_firmware && !(firmware = write_firmware(tmp))) {
        fprintf(stderr, "%s: cannot write the firmware image\n", PROG);
        rc = 1;
        goto out;
    }

    drv_offline_options oo = { PROG, o.seed, o.tcp, o.faults, o.one_way, 0, o.pcap,
                               o.verbose ? EMU_LOG_DEBUG : EMU_LOG_ERROR };
    if (!(d = drv_offline_new(&oo, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        rc = DRV_EXIT_USAGE;
        goto out;
    }
    r = g_new0(drv_run, 1);
    r->sc = sc;
    r->d = d;
    r->serial = kr.items[0].serial;
    r->keys = &kr.items[0];
    r->records = o.have_records ? o.records : sc->records;
    r->heartbeat_s = (uint16_t)(sc->heartbeat_ms / 1000);
    r->terminal_logout_reason = -1;

    platform_config pc = { 0 };
    pc.keys = &kr;
    pc.db_path = db;
    pc.firmware_path = firmware;
    pc.firmware_version = "HT-2.0";
    pc.security = o.security; /* a LOGIN without a digest is accepted only by a PLAIN platform */
    pc.heartbeat_interval_s = r->heartbeat_s;
    pc.platform_ipv4 = 0x0A000001u;
    pc.platform_port = o.tcp ? WMMP_DEFAULT_TCP_PORT : WMMP_DEFAULT_UDP_PORT;
    wmmp_link_config_default(&pc.link, WMMP_DOWNLINK);
    if (!(r->p = platform_new(drv_offline_env(d, DRV_PLATFORM), &pc, err, sizeof err))) {
        fprintf(stderr, "%s: platform: %s\n", PROG, err);
        rc = 1;
        goto out;
    }

    if (sc->preload) {
        int n = sc->preload(r, spool_dir, DRV_OFFLINE_EPOCH, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "%s: scenario %s: %s\n", PROG, sc->name, err);
            rc = 1;
            goto out;
        }
        r->preloaded = (unsigned)n;
    }

    terminal_config tc;
    memset(&tc, 0, sizeof tc);
    tc.keys = &kr.items[0];
    tc.serial = sc->unregistered ? "" : kr.items[0].serial; /* no serial: the terminal registers first */
    tc.spool_dir = spool_dir;
    tc.records = r->records > r->preloaded ? r->records - r->preloaded : 0; /* preloaded records count */
    tc.security = o.security;
    tc.dialect = o.dialect;
    tc.heartbeat_ms = sc->heartbeat_ms;
    tc.record_interval_ms = sc->record_interval_ms;
    tc.first_record_delay_ms = sc->first_record_delay_ms;
    tc.ecg_seconds = sc->ecg_seconds;
    tc.software_version = "HT-1.0";
    wmmp_link_config_default(&tc.link, WMMP_UPLINK);
    if (sc->response_timeout_ms)
        tc.link.response_timeout_ms = sc->response_timeout_ms;
    if (sc->retries)
        tc.link.retries = sc->retries;
    tc.max_login_attempts = sc->max_login_attempts;
    tc.backoff_ms = sc->backoff_ms;
    tc.platform_ipv4 = 0x0A000001u;
    tc.platform_port = o.tcp ? WMMP_DEFAULT_TCP_PORT : WMMP_DEFAULT_UDP_PORT;
    if (!(r->t = terminal_new(drv_offline_env(d, DRV_TERMINAL), drv_offline_peer(d, DRV_TERMINAL), &tc, err,
                              sizeof err))) {
        fprintf(stderr, "%s: terminal: %s\n", PROG, err);
        rc = 1;
        goto out;
    }
    drv_offline_set_handler(d, DRV_TERMINAL, &(drv_offline_handler){ on_terminal_receive, on_terminal_closed, r });
    drv_offline_set_handler(d, DRV_PLATFORM, &(drv_offline_handler){ on_platform_receive, on_platform_closed, r });
    drv_offline_set_observer(d, drv_run_observe, r);

    if (sc->setup)
        sc->setup(r);
    emu_ms limit_ms = VIRTUAL_LIMIT_MS + 2 * (emu_ms)r->records * sc->record_interval_ms;
    drv_offline_later(d, 0, start_terminal, r);
    while (drv_offline_step(d)) {
        if (terminal_done(r->t, &code) && (r->platform_down || platform_idle(r->p)))
            break;
        if (drv_offline_now(d) > limit_ms) {
            snprintf(why, sizeof why, "still running after %llu virtual hours",
                     (unsigned long long)(limit_ms / 3600000u));
            break;
        }
    }
    if (!terminal_done(r->t, &code)) {
        code = -1;
        if (!why[0])
            snprintf(why, sizeof why, "the terminal never finished");
    } else if (code != sc->expected_exit)
        snprintf(why, sizeof why, "the terminal exited with %d, the scenario expects %d", code, sc->expected_exit);
    else if (sc->check(r, why, sizeof why) == 0)
        ok = 1;
    if (drv_offline_close_pcap(d, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        ok = 0;
        snprintf(why, sizeof why, "the capture is incomplete");
    }
    print_summary(&o, r, code, why, ok);
    rc = ok ? 0 : 1;

out:
    if (r && r->t)
        terminal_free(r->t);
    if (r && r->p)
        platform_free(r->p);
    drv_offline_free(d);
    g_free(r);
    drv_fs_rmtree(tmp);
    g_free(tmp);
    g_free(spool_dir);
    g_free(db);
    g_free(firmware);
    wmmp_keyring_free(&kr);
    return rc;
}
