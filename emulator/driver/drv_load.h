/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Load mode (wmmp-terminal --load N): N terminal nodes in one process over a few UDP sockets (not one per
 * terminal) on GLib's main loop. Terminal i sends from socket i % sockets; an answer is routed to its
 * terminal by the Terminal_Serial of its header, whose number is the terminal's (the keys must be
 * drv_load_keyring's). Starts are spread over ramp_ms so N LOGINs do not arrive in one burst.
 *
 * Measured at the driver from the headers it passes (no hook into the nodes): a request sent again with the
 * Sequence_ID of the one still unanswered is a retransmission; a request followed by a new one without an
 * ACK in between is a timeout (given up); an ACK's latency is from the request's first transmission.
 * A stats line goes to stderr each second, a JSON summary to the given stream at the end.
 * Faults: --loss where a terminal sends and where a datagram arrives, --duplicate and --delay on sending.
 *
 * The N terminals' keys are synthesized from one template (drv_load_keyring), deterministically, so the
 * platform can be given the same keys with wmmp-platform --load-terminals N.
 */
#ifndef DRV_LOAD_H
#define DRV_LOAD_H

#include <stdint.h>
#include <stdio.h>

#include "drv_faults.h"
#include "terminal.h"
#include "wmmp_keys.h"

/*
 * Adds n terminals to kr, numbered 1..n: serial "LOAD" + 12 digits, IMEI "86" + 13 digits, IMSI "46000" +
 * 10 digits, passwords and base key of tmpl. WMMP_OK or the keyring's error.
 */
wmmp_err drv_load_keyring(const wmmp_terminal_keys *tmpl, unsigned n, wmmp_keyring *kr);

typedef struct {
    const char *prog;
    uint64_t seed;
    emu_log_level log_level;
    drv_faults faults;
    const char *host;
    uint16_t port;
    unsigned sockets;           /* 0: 16 */
    emu_ms ramp_ms;             /* starts spread over this long */
    const char *spool_base;     /* one spool directory per terminal below it; NULL: spools in memory */
    const wmmp_keyring *keys;   /* every entry is one terminal: drv_load_keyring's (routing reads the serial) */
    terminal_config tmpl;       /* keys, serial and spool_dir are set per terminal */
    emu_ms max_run_ms;          /* then the terminals are asked to log out (0: no bound) */
    const char *pcap_path;
    int quiet;                  /* no per-second lines */
} drv_load_options;

/* Runs until every terminal is done (or interrupted): the exit status (0 when all are TERMINAL_OK, else
   the first non-zero terminal code), the JSON summary on json. -1 with err for a setup failure. */
int drv_load_run(const drv_load_options *o, FILE *json, char *err, size_t err_len);

#endif
