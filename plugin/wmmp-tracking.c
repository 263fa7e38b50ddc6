/*
 * Request/ACK tracking for WMMP (profile sections 2, 5, 8, 9).
 *
 * A request and its ACK share the request command (ACK bit cleared) and the Sequence_ID chosen by the
 * requester; they are matched per conversation and per requester direction, so that both sides' own
 * sequence counters never mix. Fragment data parts are also keyed by part number; only the last part
 * is answered by the ordinary ACK. Fragment-control messages (send next / abort) are not ACKs.
 *
 * Every decision is taken on the first pass and kept per message (per-frame data), so that later
 * passes and GUI re-dissection show exactly the same thing.
 */
#include <string.h>

#include <epan/packet.h>
#include <epan/conversation.h>
#include <epan/expert.h>
#include <epan/proto_data.h>

#include "wmmp_tables.h"
#include "wmmp-int.h"

/* p_add_proto_data keys (the core uses small keys): the frame's message list (file scope) and the
   number of messages tracked so far in this dissection of the frame (packet scope). */
#define WMMP_TRACK_KEY_RECORDS 100
#define WMMP_TRACK_KEY_COUNTER 101

/* A request that repeats an ANSWERED request more than this long after the last message of that
   exchange is taken as a new exchange (sequence counter restarted), not as a retransmission. Real
   retries come within the response timeout (default 3 s, profile section 9). */
#define WMMP_REUSE_WINDOW_SECS 60

static int hf_wmmp_response_in = -1;
static int hf_wmmp_response_to = -1;
static int hf_wmmp_response_time = -1;
static int hf_wmmp_retransmission = -1;

static expert_field ei_wmmp_retransmission = EI_INIT;
static expert_field ei_wmmp_ack_without_request = EI_INIT;
static expert_field ei_wmmp_no_response = EI_INIT;

/* What is matched: the direction of the requester (0 when both ends look alike, else 1 or 2), the
   request command, the sequence, and for non-last fragment parts their kind and number. */
enum { KIND_EXCHANGE = 0, KIND_REQUEST_PART = 1, KIND_ACK_PART = 2 };

typedef struct {
    guint32 sequence;
    guint16 command;   /* request ID, ACK bit cleared */
    guint16 part;      /* 0 for KIND_EXCHANGE */
    guint8 direction;
    guint8 kind;
} wmmp_track_key;

/* One exchange (or one non-last part). Frame numbers are written once and never change. */
typedef struct {
    wmmp_track_key key; /* the map key points here */
    guint32 req_frame;  /* first transmission */
    nstime_t req_time;
    guint32 ack_frame;  /* first ACK; 0 = none (yet) */
    nstime_t last_time; /* latest message of the exchange, for the reuse window */
} wmmp_exchange;

typedef enum { ROLE_REQUEST, ROLE_ACK, ROLE_PART } wmmp_role;

/* The first-pass decision about one message, kept in the frame's list in message order. */
typedef struct wmmp_track_rec {
    struct wmmp_track_rec *next;
    guint16 command_id;     /* to check that later passes look at the same message */
    guint32 sequence;
    wmmp_role role;
    wmmp_exchange *exchange; /* NULL: ACK without request */
    guint32 retrans_of;      /* frame of the first transmission (request) or first ACK; 0 if none */
    nstime_t response_time;  /* ACK with exchange: from the first transmission of the request */
} wmmp_track_rec;

static guint wmmp_track_hash(gconstpointer k)
{
    const wmmp_track_key *key = (const wmmp_track_key *)k;
    return key->sequence ^ ((guint)key->command << 16) ^ ((guint)key->part << 3) ^
           ((guint)key->direction << 1) ^ key->kind;
}

static gboolean wmmp_track_equal(gconstpointer a, gconstpointer b)
{
    const wmmp_track_key *x = (const wmmp_track_key *)a, *y = (const wmmp_track_key *)b;
    return x->sequence == y->sequence && x->command == y->command && x->part == y->part &&
           x->direction == y->direction && x->kind == y->kind;
}

/* The requester's end, the same for a request (sent by it) and its ACK (sent to it). */
static guint8 requester_direction(const packet_info *pinfo, gboolean is_ack)
{
    int c = cmp_address(&pinfo->src, &pinfo->dst);
    if (c == 0)
        c = (pinfo->srcport > pinfo->destport) - (pinfo->srcport < pinfo->destport);
    if (c == 0)
        return 0; /* both ends look alike: one shared direction */
    return ((c < 0) != is_ack) ? 1 : 2;
}

static wmem_map_t *conversation_exchanges(packet_info *pinfo)
{
    conversation_t *conv = find_or_create_conversation(pinfo);
    wmem_map_t *map = (wmem_map_t *)conversation_get_proto_data(conv, proto_wmmp);
    if (!map) {
        map = wmem_map_new(wmem_file_scope(), wmmp_track_hash, wmmp_track_equal);
        conversation_add_proto_data(conv, proto_wmmp, map);
    }
    return map;
}

static wmmp_exchange *new_exchange(wmem_map_t *map, const wmmp_track_key *key, packet_info *pinfo)
{
    wmmp_exchange *ex = wmem_new0(wmem_file_scope(), wmmp_exchange);
    ex->key = *key;
    ex->req_frame = pinfo->num;
    ex->req_time = pinfo->abs_ts;
    ex->last_time = pinfo->abs_ts;
    /* Replaces an older exchange with the same key; that one stays valid for its frames. */
    wmem_map_insert(map, &ex->key, ex);
    return ex;
}

/* First pass: decide what this message is and update the conversation state. */
static void track_first_pass(packet_info *pinfo, const wmmp_msg_ctx *ctx, wmmp_track_rec *rec)
{
    gboolean is_ack = wmmp_is_ack(ctx->command_id);
    gboolean last_part = !ctx->fragment_part || ctx->fragment_number == ctx->fragment_total;
    wmmp_track_key key;
    wmmp_exchange *ex;
    wmem_map_t *map = conversation_exchanges(pinfo);

    memset(&key, 0, sizeof key);
    key.sequence = ctx->sequence;
    key.command = wmmp_request_of(ctx->command_id);
    key.direction = requester_direction(pinfo, is_ack);
    if (!last_part) {
        /* Answered by fragment control, not by an ACK: only retransmissions are detected. */
        key.kind = is_ack ? KIND_ACK_PART : KIND_REQUEST_PART;
        key.part = ctx->fragment_number;
        rec->role = ROLE_PART;
    } else {
        rec->role = is_ack ? ROLE_ACK : ROLE_REQUEST;
    }
    ex = (wmmp_exchange *)wmem_map_lookup(map, &key);

    if (rec->role == ROLE_ACK) {
        rec->exchange = ex;
        if (!ex)
            return; /* ACK without request */
        if (ex->ack_frame == 0)
            ex->ack_frame = pinfo->num;
        else
            rec->retrans_of = ex->ack_frame; /* duplicate ACK */
        nstime_delta(&rec->response_time, &pinfo->abs_ts, &ex->req_time);
        ex->last_time = pinfo->abs_ts;
        return;
    }

    if (ex && ex->ack_frame != 0) {
        nstime_t since;
        nstime_delta(&since, &pinfo->abs_ts, &ex->last_time);
        if (since.secs >= WMMP_REUSE_WINDOW_SECS)
            ex = NULL; /* a new exchange reusing the sequence number */
    }
    if (!ex) {
        ex = new_exchange(map, &key, pinfo);
    } else {
        rec->retrans_of = ex->req_frame; /* also after the ACK: the ACK was lost */
        ex->last_time = pinfo->abs_ts;
    }
    rec->exchange = ex;
}

/* The record of the n-th tracked message of this frame, creating it on the first pass. */
static wmmp_track_rec *message_record(packet_info *pinfo, const wmmp_msg_ctx *ctx)
{
    guint n = GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_wmmp, WMMP_TRACK_KEY_COUNTER));
    wmmp_track_rec *rec = (wmmp_track_rec *)p_get_proto_data(wmem_file_scope(), pinfo, proto_wmmp,
                                                              WMMP_TRACK_KEY_RECORDS);
    wmmp_track_rec *last = NULL;
    guint i;

    p_set_proto_data(pinfo->pool, pinfo, proto_wmmp, WMMP_TRACK_KEY_COUNTER, GUINT_TO_POINTER(n + 1));
    for (i = 0; rec && i < n; i++) {
        last = rec;
        rec = rec->next;
    }
    if (rec || i < n) /* found, or the list is shorter than expected */
        return (rec && rec->command_id == ctx->command_id && rec->sequence == ctx->sequence) ? rec : NULL;
    if (PINFO_FD_VISITED(pinfo))
        return NULL; /* not seen on the first pass (e.g. preferences differ): show nothing */

    rec = wmem_new0(wmem_file_scope(), wmmp_track_rec);
    rec->command_id = ctx->command_id;
    rec->sequence = ctx->sequence;
    track_first_pass(pinfo, ctx, rec);
    if (last)
        last->next = rec;
    else
        p_add_proto_data(wmem_file_scope(), pinfo, proto_wmmp, WMMP_TRACK_KEY_RECORDS, rec);
    return rec;
}

gboolean wmmp_track_message(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const wmmp_msg_ctx *ctx,
                            wmmp_tap_info *tap)
{
    wmmp_track_rec *rec;
    proto_item *it;
    gboolean is_ack;

    if (!ctx)
        return FALSE;
    is_ack = wmmp_is_ack(ctx->command_id);
    if (tap) {
        tap->is_request = !is_ack && !ctx->fragment_control;
        tap->retransmission = FALSE;
        tap->has_response_time = FALSE;
        tap->request_frame = 0;
        nstime_set_zero(&tap->response_time);
    }
    /* Fragment control is neither request nor ACK; a copy quoted in an ICMP error is not traffic. */
    if (ctx->fragment_control || pinfo->flags.in_error_pkt)
        return FALSE;

    rec = message_record(pinfo, ctx);
    if (!rec)
        return FALSE;

    switch (rec->role) {
    case ROLE_REQUEST:
        if (rec->exchange->ack_frame) {
            it = proto_tree_add_uint(tree, hf_wmmp_response_in, tvb, 0, 0, rec->exchange->ack_frame);
            proto_item_set_generated(it);
        } else if (PINFO_FD_VISITED(pinfo) && !rec->retrans_of) {
            /* Only known once the whole capture was read (tshark -2, or the GUI); flagged once, on
               the first transmission. */
            it = proto_tree_add_expert(tree, pinfo, &ei_wmmp_no_response, tvb, 0, 0);
            proto_item_set_generated(it);
        }
        break;
    case ROLE_ACK:
        if (!rec->exchange) {
            it = proto_tree_add_expert(tree, pinfo, &ei_wmmp_ack_without_request, tvb, 0, 0);
            proto_item_set_generated(it);
            break;
        }
        it = proto_tree_add_uint(tree, hf_wmmp_response_to, tvb, 0, 0, rec->exchange->req_frame);
        proto_item_set_generated(it);
        it = proto_tree_add_time(tree, hf_wmmp_response_time, tvb, 0, 0, &rec->response_time);
        proto_item_set_generated(it);
        if (tap) {
            tap->has_response_time = TRUE;
            tap->response_time = rec->response_time;
            tap->request_frame = rec->exchange->req_frame;
        }
        break;
    case ROLE_PART:
        break;
    }

    if (rec->retrans_of) {
        it = proto_tree_add_uint(tree, hf_wmmp_retransmission, tvb, 0, 0, rec->retrans_of);
        proto_item_set_generated(it);
        expert_add_info_format(pinfo, it, &ei_wmmp_retransmission, "Retransmission of frame %u",
                               rec->retrans_of);
        col_append_str(pinfo->cinfo, COL_INFO, " [Retransmission]");
        if (tap)
            tap->retransmission = TRUE;
    }
    return rec->retrans_of != 0;
}

void wmmp_tracking_register(void)
{
    static hf_register_info hf[] = {
        { &hf_wmmp_response_in,
          { "Response in", "wmmp.response_in", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE),
            0x0, "The ACK to this request is in this frame", HFILL } },
        { &hf_wmmp_response_to,
          { "Response to", "wmmp.response_to", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_REQUEST),
            0x0, "This is an ACK to the request in this frame (its first transmission)", HFILL } },
        { &hf_wmmp_response_time,
          { "Response time", "wmmp.response_time", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "Time between request and ACK, from the first transmission of the request", HFILL } },
        { &hf_wmmp_retransmission,
          { "Retransmission of frame", "wmmp.retransmission", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_PREV), 0x0,
            "This message repeats an earlier one (same direction, command, sequence and part) first sent "
            "in this frame", HFILL } },
    };
    static ei_register_info ei[] = {
        { &ei_wmmp_retransmission,
          { "wmmp.retransmission.expert", PI_SEQUENCE, PI_NOTE, "Retransmission of an earlier message",
            EXPFILL } },
        { &ei_wmmp_ack_without_request,
          { "wmmp.ack_without_request", PI_SEQUENCE, PI_WARN,
            "ACK without a matching request (request not captured, or wrong sequence)", EXPFILL } },
        { &ei_wmmp_no_response,
          { "wmmp.no_response", PI_SEQUENCE, PI_WARN, "Request never answered: no ACK in the capture",
            EXPFILL } },
    };
    expert_module_t *expert = expert_register_protocol(proto_wmmp);

    proto_register_field_array(proto_wmmp, hf, array_length(hf));
    expert_register_field_array(expert, ei, array_length(ei));
}
