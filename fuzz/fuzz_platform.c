/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The platform node (emulator/node/platform.c with its wmmp_link), as a hostile or broken terminal reaches it.
 * The input's first byte picks the platform's security level and whether the example terminal logs in
 * first; then each operation is one of
 *   0  a request through a terminal-side link (so it carries a good digest, encryption, fragments) with
 *      a fuzzed command and body: the platform's body parsers behind security;
 *   1  raw bytes, from the terminal's address or another one;
 *   2  raw bytes fixed up to pass the outer checks: Total_Length, the serial, a fresh digest;
 *   3  time passing (retransmissions, session timeouts).
 * A record-store database in memory per input; the invariant is no crash, leak or sanitizer report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_env.h"
#include "fuzz_common.h"
#include "platform.h"
#include "wmmp_body.h"
#include "wmmp_message.h"
#include "wmmp_tables.h"

static wmmp_keyring kr;
static char fw_path[64];
static char addrs[3]; /* [0] towards the platform, [1] the terminal's address, [2] a stranger's */
#define TO_PLATFORM ((emu_peer *)&addrs[0])
#define TERMINAL ((emu_peer *)&addrs[1])
#define STRANGER ((emu_peer *)&addrs[2])

static const uint16_t requests[] = {
    WMMP_CMD_LOGIN, WMMP_CMD_LOGOUT, WMMP_CMD_HEART_BEAT, WMMP_CMD_TRANSPARENT_DATA, WMMP_CMD_CONFIG_TRAP,
    WMMP_CMD_REGISTER, WMMP_CMD_CONFIG_REQ, WMMP_CMD_FILE_REQ, WMMP_CMD_SECURITY_CONFIG, WMMP_CMD_TRANSPARENT_CMD,
    WMMP_CMD_CONFIG_GET, WMMP_CMD_CONFIG_SET, WMMP_CMD_REMOTE_CTRL, WMMP_CMD_DOWNLOAD_INFO, 0x0009, 0x7FFF,
};

typedef struct {
    fake_env fe; /* first */
    platform *p;
    wmmp_link *l;
    uint32_t ts;
} harness;

static void t_request(void *user, wmmp_link *l, const wmmp_rx *rx)
{
    uint8_t ok = 0;
    (void)user;
    wmmp_link_answer(l, &rx->hdr, &ok, rx->hdr.command_id == WMMP_CMD_LOGOUT ? 0 : 1);
}

/* A successful LOGIN_ACK gives the terminal side its timestamp and session key, as the real terminal does. */
static void t_ack(void *user, wmmp_link *l, const wmmp_rx *rx, void *ctx)
{
    harness *h = user;
    wmmp_tlv e040;
    (void)ctx;
    if (rx->hdr.command_id != (WMMP_CMD_LOGIN | WMMP_ACK_BIT) || rx->body_len < 5 || rx->body[0] > 1)
        return;
    h->ts = wmmp_load32(rx->body + 1);
    wmmp_link_set_timestamp(l, h->ts);
    if (wmmp_tlv_find(rx->body + 5, rx->body_len - 5, WMMP_TAG_ENCRYPTED_TLVS, &e040) == WMMP_OK) {
        uint8_t key[WMMP_SESSION_KEY_LEN];
        uint32_t expiry;
        if (wmmp_session_key_from_e040(e040.value, e040.length, kr.items[0].base_key, key, &expiry) == WMMP_OK)
            wmmp_link_set_session_key(l, key);
    }
}

static void t_failed(void *user, wmmp_link *l, uint16_t cmd, uint32_t seq, void *ctx)
{
    (void)user, (void)l, (void)cmd, (void)seq, (void)ctx;
}

static void t_failure(void *user, wmmp_link *l) { (void)user, (void)l; }

static const wmmp_link_callbacks t_cb = { t_request, t_ack, t_failed, t_failure, NULL };

/* A sent message to its destination (messages to the stranger are dropped). */
static void deliver(void *ctx, const fake_sent *s)
{
    harness *h = ctx;
    if (s->peer == TO_PLATFORM)
        platform_receive(h->p, TERMINAL, s->msg, s->len);
    else if (s->peer == TERMINAL)
        wmmp_link_receive(h->l, s->msg, s->len);
}

static void pump(harness *h) { fake_env_deliver(&h->fe, deliver, h); }

/* Time passes in steps of up to 250 ms, what was sent meanwhile delivered after each step. */
static void advance(harness *h, emu_ms ms) { fake_env_advance_delivering(&h->fe, ms, 250, deliver, h); }

static void login(harness *h)
{
    uint8_t tlvs[16], body[32];
    wmmp_writer w;
    wmmp_writer_init(&w, tlvs, sizeof tlvs);
    wmmp_put_tlv_u8(&w, WMMP_TAG_SIGNAL_LEVEL, 21);
    /* fresh, or a signed LOGIN is refused (docs/PROTOCOL-NOTES.md) */
    wmmp_put_tlv_u32(&w, WMMP_TAG_SYSTEM_TIME, h->fe.env.unix_time(h->fe.env.ctx));
    size_t tl = w.len;
    wmmp_login lg = { "HT-1.0", wmmp_login_sync_crc(tlvs, tl) };
    wmmp_writer_init(&w, body, sizeof body);
    wmmp_login_put(&w, &lg);
    wmmp_put_bytes(&w, tlvs, tl);
    wmmp_link_request(h->l, WMMP_CMD_LOGIN, body, w.len, NULL, NULL);
    pump(h);
}

/* Makes raw bytes pass the outer checks: Total_Length, the terminal's serial, a digest that verifies. */
static void fix_up(harness *h, uint8_t *m, size_t len)
{
    if (len < WMMP_HEADER_LEN)
        return;
    wmmp_store16(m, (uint16_t)len);
    memcpy(m + 12, FUZZ_SERIAL, WMMP_SERIAL_LEN);
    if ((m[10] & WMMP_FLAG_DIGEST) && len >= WMMP_HEADER_LEN + WMMP_DIGEST_TLV_LEN) {
        uint8_t *t = m + len - WMMP_DIGEST_TLV_LEN;
        wmmp_store16(t, WMMP_TAG_DIGEST);
        wmmp_store16(t + 2, WMMP_DIGEST_LEN);
        uint16_t cmd = wmmp_load16(m + 2);
        wmmp_digest_compute(m, len - WMMP_DIGEST_TLV_LEN, cmd == WMMP_CMD_LOGIN ? 0 : h->ts, &kr.items[0],
                            WMMP_UPLINK, t + 4);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (wmmp_keyring_add(&kr, fuzz_keys()) != WMMP_OK)
        __builtin_trap();
    snprintf(fw_path, sizeof fw_path, "/tmp/wmmp-fuzz-fw-%ld.bin", (long)getpid());
    FILE *f = fopen(fw_path, "wb");
    if (f) {
        for (int i = 0; i < 3000; i++)
            fputc(i * 7, f);
        fclose(f);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static harness h;
    fuzz_in in = { data, size };
    char err[256];
    if (!kr.count)
        LLVMFuzzerInitialize(NULL, NULL);
    uint8_t mode = fuzz_u8(&in);
    fake_env_init(&h.fe, 7);
    h.fe.recycle = 1;
    h.ts = 0;
    platform_config pc = { 0 };
    pc.keys = &kr;
    pc.db_path = ":memory:";
    pc.firmware_path = fw_path;
    pc.firmware_version = "HT-2.0";
    pc.security = (wmmp_security_level)(mode & 3);
    pc.heartbeat_interval_s = 30;
    pc.platform_ipv4 = 0x7F000001;
    pc.platform_port = 9992;
    wmmp_link_config_default(&pc.link, WMMP_DOWNLINK);
    pc.link.response_timeout_ms = 500;
    if (!(h.p = platform_new(&h.fe.env, &pc, err, sizeof err))) {
        fprintf(stderr, "platform_new: %s\n", err);
        __builtin_trap();
    }
    wmmp_link_config lc;
    wmmp_link_config_default(&lc, WMMP_UPLINK);
    lc.response_timeout_ms = 500;
    h.l = wmmp_link_new(&h.fe.env, TO_PLATFORM, &lc, &t_cb, &h);
    wmmp_link_set_identity(h.l, (const uint8_t *)FUZZ_SERIAL, &kr.items[0]);
    wmmp_link_set_security(h.l, (wmmp_security_level)((mode >> 2) & 3));
    if (mode & 0x10)
        login(&h);

    for (int ops = 0; in.left && ops < 64; ops++) {
        uint8_t op = fuzz_u8(&in);
        size_t len;
        const uint8_t *chunk;
        switch (op % 4) {
        case 0: {
            uint16_t cmd = requests[(op >> 2) % (sizeof requests / sizeof requests[0])];
            chunk = fuzz_chunk(&in, &len);
            wmmp_link_request(h.l, cmd, chunk, len, NULL, NULL);
            pump(&h);
            break;
        }
        case 1:
            chunk = fuzz_chunk(&in, &len);
            platform_receive(h.p, (op & 4) ? STRANGER : TERMINAL, chunk, len);
            pump(&h);
            break;
        case 2: {
            chunk = fuzz_chunk(&in, &len);
            uint8_t *m = malloc(len ? len : 1);
            memcpy(m, chunk, len);
            fix_up(&h, m, len);
            platform_receive(h.p, TERMINAL, m, len);
            free(m);
            pump(&h);
            break;
        }
        case 3:
            advance(&h, (emu_ms)fuzz_u16(&in) * 4);
            break;
        }
    }
    if (mode & 0x20) { /* shutdown: LOGOUT reason 2 to a logged-in terminal */
        platform_shutdown(h.p);
        advance(&h, 2000);
    }
    platform_free(h.p);
    wmmp_link_free(h.l);
    fake_env_free(&h.fe);
    return 0;
}
