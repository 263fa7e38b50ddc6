/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-stats.c: Statistics -> WMMP: a counter tree and service response times, both fed by tap "wmmp"
 * (the wmmp_msg_ctx of every dissected message, queued by packet-wmmp.c).
 *
 *   tshark -z wmmp,tree[,filter]   the stats tree "WMMP/Messages" (abbreviation "wmmp")
 *   tshark -z wmmp,srt[,filter]    the SRT table; Wireshark 4.0 names it "<protocol filter name>,srt"
 */
#include <epan/packet.h>
#include <epan/stats_tree.h>
#include <epan/srt_table.h>

#include "packet-wmmp.h"
#include "packet-wmmp-stats.h"
#include "wmmp_tables.h"

/* Request IDs run 0x0001..0x000F (profile section 5); the SRT row index is the request ID. */
#define WMMP_SRT_ROWS 0x10

static const char st_messages[] = "WMMP messages";
static const char st_retrans[] = "Retransmissions";

/* Node IDs, set by the init callback. Every tree instance creates its nodes in the same order, so the
   IDs are the same for each one. */
static int st_node_messages = -1;
static int st_node_command = -1;
static int st_node_result = -1;
static int st_node_class = -1;
static int st_node_terminal = -1;

static void wmmp_stats_tree_init(stats_tree *st)
{
    st_node_messages = stats_tree_create_node(st, st_messages, 0, STAT_DT_INT, true);
    /* Pivots: a node that counts its ticks and keeps one child per distinct value. */
    st_node_command = stats_tree_create_pivot(st, "By command", st_node_messages);
    st_node_result = stats_tree_create_pivot(st, "By result (ACKs with a result byte)", st_node_messages);
    st_node_class = stats_tree_create_pivot(st, "By class", st_node_messages);
    st_node_terminal = stats_tree_create_pivot(st, "By terminal", st_node_messages);
    /* Created here so that a capture without retransmissions shows 0 rather than nothing. */
    stats_tree_create_node(st, st_retrans, st_node_messages, STAT_DT_INT, false);
}

static tap_packet_status wmmp_stats_tree_packet(stats_tree *st, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
                                                const void *data, tap_flags_t flags _U_)
{
    const wmmp_msg_ctx *ti = (const wmmp_msg_ctx *)data;
    char buf[64];
    const char *name;

    if (!ti)
        return TAP_PACKET_DONT_REDRAW;

    tick_stat_node(st, st_messages, 0, false);

    /* The codec's names tell ACKs apart ("LOGIN" vs "LOGIN_ACK"); unknown IDs keep their value so that
       different unknown commands do not merge into one row. */
    if (wmmp_command_lookup(ti->command_id)) {
        stats_tree_tick_pivot(st, st_node_command, wmmp_command_name(ti->command_id));
    } else {
        g_snprintf(buf, sizeof buf, "%s (0x%04x)", wmmp_command_name(ti->command_id), ti->command_id);
        stats_tree_tick_pivot(st, st_node_command, buf);
    }

    if (ti->has_result) {
        name = wmmp_result_name(ti->result);
        g_snprintf(buf, sizeof buf, "%s (%u)", name ? name : "Unknown", ti->result);
        stats_tree_tick_pivot(st, st_node_result, buf);
    }

    name = wmmp_class_name(ti->msg_class);
    g_snprintf(buf, sizeof buf, "%s (%u)", name ? name : "Unknown", ti->msg_class);
    stats_tree_tick_pivot(st, st_node_class, buf);

    /* The serial is all zeros before registration; the core then passes "". */
    stats_tree_tick_pivot(st, st_node_terminal, (ti->terminal && ti->terminal[0]) ? ti->terminal : "(none)");

    if (ti->retransmission)
        tick_stat_node(st, st_retrans, st_node_messages, false);

    return TAP_PACKET_REDRAW;
}

/* One table, one row per request ID; rows never answered stay hidden (tshark and Qt skip empty rows). */
static void wmmp_srt_init(struct register_srt *srt _U_, GArray *srt_array)
{
    /* The Qt dialog filters a row with "<filter_string>==<row index>", i.e. wmmp.command==<request ID>. */
    srt_stat_table *table = init_srt_table("WMMP Commands", NULL, srt_array, WMMP_SRT_ROWS, "Command",
                                           "wmmp.command", NULL);
    for (int i = 0; i < WMMP_SRT_ROWS; i++) {
        char buf[16];
        const char *name = wmmp_command_lookup((uint16_t)i) ? wmmp_command_name((uint16_t)i) : NULL;
        if (!name) {
            g_snprintf(buf, sizeof buf, "0x%04x", (unsigned)i);
            name = buf;
        }
        init_srt_table_row(table, i, name); /* copies the name */
    }
}

static tap_packet_status wmmp_srt_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_,
                                         const void *data, tap_flags_t flags _U_)
{
    srt_data_t *srt = (srt_data_t *)tapdata;
    const wmmp_msg_ctx *ti = (const wmmp_msg_ctx *)data;
    srt_stat_table *table;
    uint16_t request;
    nstime_t request_time;

    /* Tracking sets has_response_time on the ACK that answers a seen request. A retransmitted ACK
       answers the same request again; counting it would count one exchange twice. */
    if (!ti || !ti->has_response_time || ti->retransmission || !wmmp_is_ack(ti->command_id))
        return TAP_PACKET_DONT_REDRAW;
    request = wmmp_request_of(ti->command_id);
    table = g_array_index(srt->srt_array, srt_stat_table *, 0);
    if (request >= table->num_procs || !wmmp_command_lookup(request))
        return TAP_PACKET_DONT_REDRAW;

    /* add_srt_table_data() wants the request's absolute time; the tap carries the delta. */
    nstime_delta(&request_time, &pinfo->abs_ts, &ti->response_time);
    add_srt_table_data(table, request, &request_time, pinfo);
    return TAP_PACKET_REDRAW;
}

void wmmp_register_stats(void)
{
    /* The _plugin variant marks the tree so that the Qt GUI adds it to the Statistics menu
       (Statistics -> WMMP -> Messages); tshark sees it as -z wmmp,tree either way. Registering during
       proto_register is early enough: tshark and Wireshark build the -z and menu lists after epan_init. */
    stats_tree_register_plugin("wmmp", "wmmp", "WMMP/Messages", 0, wmmp_stats_tree_packet, wmmp_stats_tree_init,
                               NULL);
    register_srt_table(proto_wmmp, "wmmp", 1, wmmp_srt_packet, wmmp_srt_init, NULL);
}
