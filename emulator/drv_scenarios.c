#include "drv_scenarios.h"

#include <stdio.h>
#include <string.h>

#include "wmmp_header.h"
#include "wmmp_tables.h"
#include "wmmp_tlv.h"

/* ---- platform actions, run from the event queue ---- */

static void act_config_set(void *arg)
{
    drv_run *r = arg;
    uint8_t tlvs[16];
    wmmp_writer w;
    /* the heartbeat interval the terminal already has: a real CONFIG_SET that changes no timing */
    wmmp_writer_init(&w, tlvs, sizeof tlvs);
    wmmp_put_tlv_u16(&w, WMMP_TAG_HEARTBEAT_INTERVAL, r->heartbeat_s);
    if (platform_config_set(r->p, r->serial, tlvs, w.len) != 0)
        emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_ERROR, "scenario: CONFIG_SET refused");
}

static void act_config_get(void *arg)
{
    drv_run *r = arg;
    static const uint16_t tags[] = { WMMP_TAG_HEARTBEAT_INTERVAL, WMMP_TAG_SIGNAL_LEVEL, WMMP_TAG_CELL };
    if (platform_config_get(r->p, r->serial, tags, sizeof tags / sizeof tags[0]) != 0)
        emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_ERROR, "scenario: CONFIG_GET refused");
}

static void act_remote_ctrl(void *arg)
{
    drv_run *r = arg;
    if (platform_remote_ctrl(r->p, r->serial, 0x4 /* report statistics */) != 0)
        emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_ERROR, "scenario: REMOTE_CTRL refused");
}

static void act_download_info(void *arg)
{
    drv_run *r = arg;
    if (platform_download_info(r->p, r->serial) != 0)
        emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_ERROR, "scenario: DOWNLOAD_INFO refused");
}

static void act_platform_vanishes(void *arg)
{
    drv_run *r = arg;
    r->platform_down = 1;
    drv_offline_set_down(r->d, DRV_PLATFORM, 1);
    emu_logf(drv_offline_env(r->d, DRV_PLATFORM), EMU_LOG_INFO, "scenario: the platform vanishes");
}

/* ---- triggers ---- */

static int is(uint16_t cmd, uint16_t want) { return cmd == want; }

static void figure4_wire(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len)
{
    (void)msg;
    (void)len;
    /*
     * Figure 4: the platform configures the terminal after the first heartbeat, and the terminal sends its
     * record after that (the scenario gives the terminal a pause before its first record).
     */
    if (r->step == 0 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_HEART_BEAT | WMMP_ACK_BIT)) {
        r->step = 1;
        drv_offline_later(r->d, 1, act_config_set, r);
    }
}

static void config_wire(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len)
{
    (void)msg;
    (void)len;
    if (r->step == 0 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_LOGIN | WMMP_ACK_BIT)) {
        r->step = 1;
        drv_offline_later(r->d, 100, act_config_get, r);
    } else if (r->step == 1 && from == DRV_TERMINAL && is(cmd, WMMP_CMD_CONFIG_GET | WMMP_ACK_BIT)) {
        r->step = 2;
        drv_offline_later(r->d, 100, act_config_set, r);
    } else if (r->step == 2 && from == DRV_TERMINAL && is(cmd, WMMP_CMD_CONFIG_SET | WMMP_ACK_BIT)) {
        r->step = 3;
        drv_offline_later(r->d, 100, act_remote_ctrl, r);
    }
}

static void firmware_wire(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len)
{
    (void)msg;
    (void)len;
    if (r->step == 0 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_LOGIN | WMMP_ACK_BIT)) {
        r->step = 1;
        drv_offline_later(r->d, 100, act_download_info, r);
    }
}

static void failure_wire(drv_run *r, drv_side from, uint16_t cmd, const uint8_t *msg, size_t len)
{
    (void)msg;
    (void)len;
    if (r->step == 0 && from == DRV_PLATFORM && is(cmd, WMMP_CMD_TRANSPARENT_DATA | WMMP_ACK_BIT)) {
        r->step = 1;
        drv_offline_later(r->d, 1, act_platform_vanishes, r);
    }
}

/* ---- checks ---- */

static uint64_t seen(const drv_run *r, uint16_t cmd)
{
    return r->by_cmd[(cmd & WMMP_ACK_BIT) != 0][cmd & 0x0F];
}

static int stored_all(const drv_run *r, char *why, size_t n)
{
    const platform_stats *ps = platform_get_stats(r->p);
    if (ps->records_stored != r->records) {
        snprintf(why, n, "the platform stored %llu of %u records", (unsigned long long)ps->records_stored, r->records);
        return -1;
    }
    return 0;
}

static int figure4_check(const drv_run *r, char *why, size_t n)
{
    static const uint16_t want[] = { 0x0001, 0x8001, 0x0003, 0x8003, 0x0006, 0x8006,
                                     0x0004, 0x8004, 0x0003, 0x8003, 0x0002, 0x8002 };
    size_t k = sizeof want / sizeof want[0];
    if (r->n_wire != k) {
        snprintf(why, n, "%zu messages on the wire, figure 4 has %zu", r->n_wire, k);
        return -1;
    }
    for (size_t i = 0; i < k; i++)
        if (r->wire[i] != want[i]) {
            snprintf(why, n, "message %zu is %s, figure 4 has %s", i + 1, wmmp_command_name(r->wire[i]),
                     wmmp_command_name(want[i]));
            return -1;
        }
    return stored_all(r, why, n);
}

static int fragmented_check(const drv_run *r, char *why, size_t n)
{
    if (r->fragments == 0) {
        snprintf(why, n, "no fragmented message went over the wire");
        return -1;
    }
    return stored_all(r, why, n);
}

static int firmware_check(const drv_run *r, char *why, size_t n)
{
    /* the 5000-byte image takes 10 blocks of 512; the terminal reports the new version by CONFIG_TRAP */
    if (!seen(r, WMMP_CMD_DOWNLOAD_INFO | WMMP_ACK_BIT) || seen(r, WMMP_CMD_FILE_REQ | WMMP_ACK_BIT) < 10 ||
        !seen(r, WMMP_CMD_CONFIG_TRAP)) {
        snprintf(why, n, "no DOWNLOAD_INFO -> FILE_REQ exchange (DOWNLOAD_INFO_ACK %llu, FILE_REQ %llu)",
                 (unsigned long long)seen(r, WMMP_CMD_DOWNLOAD_INFO | WMMP_ACK_BIT),
                 (unsigned long long)seen(r, WMMP_CMD_FILE_REQ));
        return -1;
    }
    return stored_all(r, why, n);
}

static int config_check(const drv_run *r, char *why, size_t n)
{
    static const uint16_t need[] = { WMMP_CMD_CONFIG_GET | WMMP_ACK_BIT, WMMP_CMD_CONFIG_SET | WMMP_ACK_BIT,
                                     WMMP_CMD_REMOTE_CTRL | WMMP_ACK_BIT };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!seen(r, need[i])) {
            snprintf(why, n, "no %s on the wire", wmmp_command_name(need[i]));
            return -1;
        }
    return stored_all(r, why, n);
}

static int failure_check(const drv_run *r, char *why, size_t n)
{
    if (!r->logouts_after_down || terminal_get_stats(r->t)->failures == 0) {
        snprintf(why, n, "the terminal did not detect the failure and log out");
        return -1;
    }
    /* with --security full the body (and the reason) is encrypted: the failure count says enough */
    if (r->terminal_logout_reason != 1 && r->terminal_logout_reason != DRV_REASON_SEALED) {
        snprintf(why, n, "the terminal did not send LOGOUT with reason 1 (communication failure)");
        return -1;
    }
    return 0;
}

static void wrap_setup(drv_run *r)
{
    /* LOGIN gets 0xFFFFFFFD: the session's requests cross 0xFFFFFFFF -> 0 (profile section 9) */
    wmmp_link_set_next_sequence(terminal_link(r->t), 0xFFFFFFFDu);
}

static int wrap_check(const drv_run *r, char *why, size_t n)
{
    if (!r->wrapped) {
        snprintf(why, n, "the terminal's Sequence_ID did not wrap from 0xFFFFFFFF to 0");
        return -1;
    }
    return stored_all(r, why, n);
}

/* name, what, records, heartbeat, record interval, ECG s, loss, firmware, exit, timeout, retries, logins,
   backoff, setup, on_wire, check, first-record delay */
static const drv_scenario SCENARIOS[] = {
    { "figure4", "the paper's figure 4: LOGIN, HEART_BEAT, CONFIG_SET, TRANSPARENT_DATA, HEART_BEAT, LOGOUT", 1,
      10000, 10000, 1, 0, 0, TERMINAL_OK, 0, 0, 0, 0, NULL, figure4_wire, figure4_check, 200 },
    { "session", "N health records with heartbeats", 5, 3000, 1000, 1, 0, 0, TERMINAL_OK, 0, 0, 0, 0, NULL, NULL,
      stored_all, 0 },
    { "loss", "a session with --loss (default 0.2): retransmissions, duplicates answered", 10, 3000, 1000, 1, 0.2,
      0, TERMINAL_OK, 0, 6, 0, 0, NULL, NULL, stored_all, 0 },
    { "fragmented", "a long ECG record (10 s) sent in 0x4008 parts", 1, 10000, 1000, 10, 0, 0, TERMINAL_OK, 0, 0, 0,
      0, NULL, NULL, fragmented_check, 0 },
    { "firmware", "DOWNLOAD_INFO, then the FILE_REQ loop with CRC-32 check", 2, 10000, 3000, 1, 0, 1, TERMINAL_OK,
      0, 0, 0, 0, NULL, firmware_wire, firmware_check, 0 },
    { "config", "CONFIG_GET, CONFIG_SET and REMOTE_CTRL from the platform", 2, 10000, 2000, 1, 0, 0, TERMINAL_OK, 0,
      0, 0, 0, NULL, config_wire, config_check, 0 },
    { "failure", "the platform vanishes: failure detection, LOGOUT reason 1, failed logins", 5, 10000, 1000, 1, 0, 0,
      TERMINAL_EXIT_COMM_FAILURE, 500, 1, 2, 1000, NULL, failure_wire, failure_check, 0 },
    { "wrap", "Sequence_IDs starting near 0xFFFFFFFF wrap to 0", 3, 3000, 1000, 1, 0, 0, TERMINAL_OK, 0, 0, 0, 0,
      wrap_setup, NULL, wrap_check, 0 },
};

const drv_scenario *drv_scenario_find(const char *name)
{
    for (size_t i = 0; i < sizeof SCENARIOS / sizeof SCENARIOS[0]; i++)
        if (!strcmp(SCENARIOS[i].name, name))
            return &SCENARIOS[i];
    return NULL;
}

const char *drv_scenario_names(void)
{
    return "figure4, session, loss, fragmented, firmware, config, failure, wrap";
}

void drv_run_observe(void *run, drv_side from, const uint8_t *msg, size_t len)
{
    drv_run *r = run;
    uint16_t cmd;
    if (len < WMMP_HEADER_LEN)
        return;
    cmd = (uint16_t)(msg[2] << 8 | msg[3]);
    if (r->n_wire < DRV_RUN_MAX_WIRE) {
        r->wire[r->n_wire] = cmd;
        r->wire_from[r->n_wire] = from;
        r->n_wire++;
    }
    r->by_cmd[(cmd & WMMP_ACK_BIT) != 0][cmd & 0x0F]++;
    if ((msg[10] & WMMP_FLAG_ENCRYPTED_OR_FRAGMENT) && !(msg[10] & WMMP_FLAG_ENCRYPTION))
        r->fragments++;
    if (from == DRV_TERMINAL && !(cmd & WMMP_ACK_BIT)) {
        uint32_t seq = (uint32_t)msg[4] << 24 | (uint32_t)msg[5] << 16 | (uint32_t)msg[6] << 8 | msg[7];
        if (r->last_seq == 0xFFFFFFFFu && seq == 0)
            r->wrapped = 1;
        r->last_seq = seq;
    }
    if (from == DRV_TERMINAL && cmd == WMMP_CMD_LOGOUT && len > WMMP_HEADER_LEN) {
        int sealed = (msg[10] & (WMMP_FLAG_ENCRYPTION | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT)) ==
                     (WMMP_FLAG_ENCRYPTION | WMMP_FLAG_ENCRYPTED_OR_FRAGMENT); /* 0xE042: reason unreadable */
        r->terminal_logout_reason = sealed ? DRV_REASON_SEALED : msg[WMMP_HEADER_LEN];
        if (r->platform_down)
            r->logouts_after_down++;
    }
    if (r->sc->on_wire)
        r->sc->on_wire(r, from, cmd, msg, len);
}
