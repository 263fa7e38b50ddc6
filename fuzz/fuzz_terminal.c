/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The terminal node (emulator/node/terminal.c with its wmmp_link and spool), as a hostile or broken platform
 * reaches it. The first input byte picks the security level, the records to send and the ECG length (a long
 * one is fragmented); a platform-side link logs the terminal in (a good LOGIN_ACK) unless told not to. Then
 * each operation is one of
 *   0  a platform request through the platform-side link (good digest, encryption, fragments) with a
 *      fuzzed command and body: CONFIG_GET/SET, REMOTE_CTRL, DOWNLOAD_INFO, ...;
 *   1  the answer to the terminal's last request, with a fuzzed body (results, LOGIN_ACK, FILE_REQ_ACK);
 *   2  raw bytes;
 *   3  time passing;  4  the connection lost;  5  stop (log out).
 * The spool lives in one directory per process, emptied before each input.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_env.h"
#include "fuzz_common.h"
#include "terminal.h"
#include "wmmp_body.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

static wmmp_keyring kr;
static char spool_dir[128];
static char addrs[2]; /* [0] towards the platform, [1] towards the terminal */
#define TO_PLATFORM ((emu_peer *)&addrs[0])
#define TO_TERMINAL ((emu_peer *)&addrs[1])

static const uint16_t requests[] = {
    WMMP_CMD_CONFIG_GET, WMMP_CMD_CONFIG_SET, WMMP_CMD_REMOTE_CTRL, WMMP_CMD_DOWNLOAD_INFO,
    WMMP_CMD_SECURITY_CONFIG, WMMP_CMD_TRANSPARENT_DATA, WMMP_CMD_TRANSPARENT_CMD, WMMP_CMD_LOGOUT,
    WMMP_CMD_HEART_BEAT, WMMP_CMD_LOGIN, WMMP_CMD_FILE_REQ, WMMP_CMD_CONFIG_TRAP, 0x0009, 0x0010, 0x7FFF,
    WMMP_CMD_REGISTER,
};

typedef struct {
    fake_env fe; /* first */
    terminal *t;
    wmmp_link *pl; /* the platform side */
    int auto_answer;
    wmmp_header last; /* the terminal's last request */
    int have_last;
} harness;

static void p_request(void *user, wmmp_link *l, const wmmp_rx *rx)
{
    harness *h = user;
    h->last = rx->hdr;
    h->have_last = 1;
    if (!h->auto_answer)
        return;
    uint8_t body[96];
    wmmp_writer w;
    wmmp_writer_init(&w, body, sizeof body);
    switch (rx->hdr.command_id) {
    case WMMP_CMD_LOGIN: {
        uint32_t ts = h->fe.env.unix_time(h->fe.env.ctx);
        wmmp_login_ack la = { 0, ts };
        uint8_t key[WMMP_SESSION_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
        int encrypted = (rx->hdr.safe_flag & WMMP_FLAG_ENCRYPTION) != 0;
        wmmp_login_ack_put(&w, &la);
        wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, 30);
        if (encrypted) {
            uint8_t plain[24];
            wmmp_writer pw;
            wmmp_writer_init(&pw, plain, sizeof plain);
            wmmp_put_tlv(&pw, WMMP_TAG_SESSION_KEY, key, sizeof key);
            wmmp_put_cipher_tlv(&w, WMMP_TAG_ENCRYPTED_TLVS, kr.items[0].base_key, plain, pw.len);
        }
        wmmp_link_set_session_key(l, NULL);
        wmmp_link_set_security(l, encrypted ? WMMP_SEC_FULL : (rx->has_digest ? WMMP_SEC_DIGEST : WMMP_SEC_PLAIN));
        wmmp_link_set_timestamp(l, ts);
        wmmp_link_answer(l, &rx->hdr, body, w.len);
        if (encrypted)
            wmmp_link_set_session_key(l, key);
        return;
    }
    case WMMP_CMD_REGISTER: {
        wmmp_register_ack ra = { 0, FUZZ_SERIAL };
        wmmp_register_ack_put(&w, &ra);
        break;
    }
    case WMMP_CMD_LOGOUT:
    case WMMP_CMD_HEART_BEAT:
        break;
    default:
        wmmp_put_u8(&w, 0);
    }
    wmmp_link_answer(l, &rx->hdr, body, w.len);
}

static void p_ack(void *user, wmmp_link *l, const wmmp_rx *rx, void *ctx) { (void)user, (void)l, (void)rx, (void)ctx; }
static void p_failed(void *user, wmmp_link *l, uint16_t cmd, uint32_t seq, void *ctx)
{
    (void)user, (void)l, (void)cmd, (void)seq, (void)ctx;
}
static void p_failure(void *user, wmmp_link *l) { (void)user, (void)l; }
static const wmmp_link_callbacks p_cb = { p_request, p_ack, p_failed, p_failure, NULL };

/* A sent message to its destination. */
static void deliver(void *ctx, const fake_sent *s)
{
    harness *h = ctx;
    if (s->peer == TO_PLATFORM)
        wmmp_link_receive(h->pl, s->msg, s->len);
    else if (s->peer == TO_TERMINAL)
        terminal_receive(h->t, s->msg, s->len);
}

static void pump(harness *h) { fake_env_deliver(&h->fe, deliver, h); }

/* Time passes in steps of up to 250 ms, what was sent meanwhile delivered after each step. */
static void advance(harness *h, emu_ms ms) { fake_env_advance_delivering(&h->fe, ms, 250, deliver, h); }

static void empty_spool(void)
{
    DIR *d = opendir(spool_dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        char p[512];
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
            continue;
        snprintf(p, sizeof p, "%s/%s", spool_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static void remove_spool(void)
{
    empty_spool();
    rmdir(spool_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (wmmp_keyring_add(&kr, fuzz_keys()) != WMMP_OK)
        __builtin_trap();
    /* tmpfs when there is one: the spool fsyncs every record */
    snprintf(spool_dir, sizeof spool_dir, "%s/wmmp-fuzz-spool-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(spool_dir))
        __builtin_trap();
    atexit(remove_spool);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static harness h;
    fuzz_in in = { data, size };
    char err[256];
    if (!kr.count)
        LLVMFuzzerInitialize(NULL, NULL);
    empty_spool();
    uint8_t mode = fuzz_u8(&in);
    fake_env_init(&h.fe, 11);
    h.fe.recycle = 1;
    h.auto_answer = !(mode & 0x80);
    h.have_last = 0;

    wmmp_link_config lc;
    wmmp_link_config_default(&lc, WMMP_DOWNLINK);
    lc.response_timeout_ms = 300;
    h.pl = wmmp_link_new(&h.fe.env, TO_TERMINAL, &lc, &p_cb, &h);
    wmmp_link_set_identity(h.pl, (const uint8_t *)FUZZ_SERIAL, &kr.items[0]);

    terminal_config c;
    memset(&c, 0, sizeof c);
    c.keys = &kr.items[0];
    c.serial = (mode & 0x40) ? "" : FUZZ_SERIAL; /* "": registers first */
    c.spool_dir = spool_dir;
    c.records = 1 + ((mode >> 2) & 3);
    c.security = (wmmp_security_level)(mode & 3);
    c.heartbeat_ms = 1000;
    c.record_interval_ms = 100;
    c.ecg_seconds = (mode & 0x20) ? 4 : 1; /* 4 s: fragmented */
    c.software_version = "HT-1.0";
    wmmp_link_config_default(&c.link, WMMP_UPLINK);
    c.link.response_timeout_ms = 300;
    c.max_login_attempts = 3;
    c.backoff_ms = 200;
    c.platform_ipv4 = 0x7F000001;
    if (!(h.t = terminal_new(&h.fe.env, TO_PLATFORM, &c, err, sizeof err))) {
        fprintf(stderr, "terminal_new: %s\n", err);
        __builtin_trap();
    }
    terminal_start(h.t);
    pump(&h);
    advance(&h, 100);

    for (int ops = 0; in.left && ops < 64; ops++) {
        uint8_t op = fuzz_u8(&in);
        size_t len;
        const uint8_t *chunk;
        switch (op % 6) {
        case 0: {
            uint16_t cmd = requests[(op >> 3) % (sizeof requests / sizeof requests[0])];
            chunk = fuzz_chunk(&in, &len);
            wmmp_link_request(h.pl, cmd, chunk, len, NULL, NULL);
            pump(&h);
            break;
        }
        case 1:
            chunk = fuzz_chunk(&in, &len);
            if (h.have_last)
                wmmp_link_answer(h.pl, &h.last, chunk, len);
            pump(&h);
            break;
        case 2:
            chunk = fuzz_chunk(&in, &len);
            terminal_receive(h.t, chunk, len);
            pump(&h);
            break;
        case 3:
            advance(&h, (emu_ms)fuzz_u16(&in) * 2);
            break;
        case 4:
            terminal_connection_lost(h.t);
            pump(&h);
            break;
        case 5:
            terminal_stop(h.t);
            pump(&h);
            break;
        }
    }
    int code;
    terminal_done(h.t, &code);
    terminal_free(h.t);
    wmmp_link_free(h.pl);
    fake_env_free(&h.fe);
    return 0;
}
