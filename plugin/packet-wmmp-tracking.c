/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-tracking.c: request/ACK tracking for WMMP (profile sections 2, 5, 8, 9).
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
#include <epan/prefs.h>
#include <epan/proto_data.h>

#include "wmmp_tables.h"
#include "packet-wmmp.h"
#include "packet-wmmp-tracking.h"

/* p_add_proto_data key (packet scope): the number of messages tracked so far in this dissection of the frame. */
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
static expert_field ei_wmmp_track_limit = EI_INIT;

/* What is matched: the direction of the requester (0 when both ends look alike, else 1 or 2), the
   request command, the sequence, and for non-last fragment parts their kind and number. */
enum { KIND_EXCHANGE = 0, KIND_REQUEST_PART = 1, KIND_ACK_PART = 2 };

typedef struct {
    uint32_t sequence;
    uint16_t command;   /* request ID, ACK bit cleared */
    uint16_t part;      /* 0 for KIND_EXCHANGE */
    uint8_t direction;
    uint8_t kind;
} wmmp_track_key;

/*
 * One exchange (or one non-last part). Frame numbers and the request time are written once and never
 * change. Kept compact (a capture holds one per request): times as seconds and nanoseconds, and the
 * conversation's hash chain inside.
 */
typedef struct wmmp_exchange {
    struct wmmp_exchange *chain; /* next in the conversation's bucket */
    wmmp_track_key key;
    uint32_t req_frame;  /* first transmission */
    uint32_t ack_frame;  /* first ACK; 0 = none (yet) */
    int32_t req_nsecs, last_nsecs;
    int64_t req_secs;    /* request time */
    int64_t last_secs;   /* latest message of the exchange, for the reuse window */
} wmmp_exchange;

/* A conversation's exchanges by key: a chained hash table that grows with them. */
typedef struct {
    wmmp_exchange **buckets;
    unsigned size; /* a power of two */
    unsigned count;
} wmmp_exchanges;

typedef enum { ROLE_NONE, ROLE_REQUEST, ROLE_ACK, ROLE_PART, ROLE_LIMIT } wmmp_role;

/*
 * The first-pass decision about one message. The response time of an ACK is not kept: it is the
 * frame's time minus the request's, the same on every pass.
 */
typedef struct {
    wmmp_exchange *exchange; /* NULL: ACK without request */
    uint32_t sequence;        /* to check that later passes look at the same message */
    uint32_t retrans_of;      /* frame of the first transmission (request) or first ACK; 0 if none */
    uint16_t command_id;
    uint8_t role;             /* wmmp_role; ROLE_NONE: no record (yet) */
} wmmp_track_rec;

/*
 * Where the records live: the first message of each frame in pages of a table indexed by frame number
 * (24 bytes a message, no per-record allocation or list); the further messages of a frame (several in
 * one datagram or TCP segment, rare) in a tree keyed by frame and position. Exchanges are carved from
 * slabs. All of it is file scope and forgotten with the capture (track_init()).
 */
#define PAGE_BITS 10
#define PAGE_SIZE (1u << PAGE_BITS)
#define SLAB_SIZE 512

static wmmp_track_rec **pages;
static unsigned n_pages;
static wmem_tree_t *more_recs;
static wmmp_exchange *slab;
static unsigned slab_used = SLAB_SIZE;

/* At most this many exchanges are tracked in a capture (preference wmmp.tracking_max_exchanges). */
#define WMMP_TRACK_MAX_DEFAULT 5000000u
static unsigned pref_track_max = WMMP_TRACK_MAX_DEFAULT;
static unsigned n_exchanges;
static uint64_t hash_key[2]; /* SipHash key of the capture (wmmp_track_hash) */

static void track_init(void)
{
    n_exchanges = 0;
    hash_key[0] = ((uint64_t)g_random_int() << 32) | g_random_int();
    hash_key[1] = ((uint64_t)g_random_int() << 32) | g_random_int();
    pages = NULL;
    n_pages = 0;
    more_recs = wmem_tree_new(wmem_file_scope());
    slab = NULL;
    slab_used = SLAB_SIZE;
}

/*
 * The hash of a key is SipHash-2-4 (Aumasson and Bernstein) of its fields under a random 128-bit key drawn
 * for each capture: sequences, commands and part numbers are chosen by whoever wrote the capture, and with
 * an unkeyed hash they could put every exchange in one bucket (a quadratic decode, issue 13 item 10).
 */
#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3)                                                            \
    do {                                                                                     \
        v0 += v1; v1 = SIP_ROTL(v1, 13); v1 ^= v0; v0 = SIP_ROTL(v0, 32);                    \
        v2 += v3; v3 = SIP_ROTL(v3, 16); v3 ^= v2;                                           \
        v0 += v3; v3 = SIP_ROTL(v3, 21); v3 ^= v0;                                           \
        v2 += v1; v1 = SIP_ROTL(v1, 17); v1 ^= v2; v2 = SIP_ROTL(v2, 32);                    \
    } while (0)

/* SipHash-2-4 of the 16-byte message m[0], m[1] (little-endian words) under hash_key. */
static uint64_t siphash_2words(uint64_t m0, uint64_t m1)
{
    uint64_t v0 = 0x736f6d6570736575ull ^ hash_key[0], v1 = 0x646f72616e646f6dull ^ hash_key[1];
    uint64_t v2 = 0x6c7967656e657261ull ^ hash_key[0], v3 = 0x7465646279746573ull ^ hash_key[1];
    uint64_t words[3] = { m0, m1, (uint64_t)16 << 56 };
    for (int i = 0; i < 3; i++) {
        v3 ^= words[i];
        SIP_ROUND(v0, v1, v2, v3);
        SIP_ROUND(v0, v1, v2, v3);
        v0 ^= words[i];
    }
    v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

static unsigned wmmp_track_hash(const wmmp_track_key *key)
{
    uint64_t m0 = (uint64_t)key->sequence | ((uint64_t)key->command << 32) | ((uint64_t)key->part << 48);
    uint64_t m1 = (uint64_t)key->direction | ((uint64_t)key->kind << 8);
    return (unsigned)siphash_2words(m0, m1);
}

static bool wmmp_track_equal(const wmmp_track_key *x, const wmmp_track_key *y)
{
    return x->sequence == y->sequence && x->command == y->command && x->part == y->part &&
           x->direction == y->direction && x->kind == y->kind;
}

/* The requester's end, the same for a request (sent by it) and its ACK (sent to it). */
static uint8_t requester_direction(const packet_info *pinfo, bool is_ack)
{
    int c = cmp_address(&pinfo->src, &pinfo->dst);
    if (c == 0)
        c = (pinfo->srcport > pinfo->destport) - (pinfo->srcport < pinfo->destport);
    if (c == 0)
        return 0; /* both ends look alike: one shared direction */
    return ((c < 0) != is_ack) ? 1 : 2;
}

static wmmp_exchanges *conversation_exchanges(packet_info *pinfo)
{
    conversation_t *conv = find_or_create_conversation(pinfo);
    wmmp_exchanges *map = (wmmp_exchanges *)conversation_get_proto_data(conv, proto_wmmp);
    if (!map) {
        map = wmem_new0(wmem_file_scope(), wmmp_exchanges);
        map->size = 16;
        map->buckets = wmem_alloc0_array(wmem_file_scope(), wmmp_exchange *, map->size);
        conversation_add_proto_data(conv, proto_wmmp, map);
    }
    return map;
}

/* The exchange now in use for key (the latest one made with it), or NULL. */
static wmmp_exchange *lookup_exchange(const wmmp_exchanges *map, const wmmp_track_key *key)
{
    for (wmmp_exchange *ex = map->buckets[wmmp_track_hash(key) & (map->size - 1)]; ex; ex = ex->chain)
        if (wmmp_track_equal(&ex->key, key))
            return ex;
    return NULL;
}

static void grow(wmmp_exchanges *map)
{
    unsigned size = map->size * 2;
    wmmp_exchange **buckets = wmem_alloc0_array(wmem_file_scope(), wmmp_exchange *, size);
    for (unsigned i = 0; i < map->size; i++) {
        wmmp_exchange *ex = map->buckets[i];
        while (ex) {
            wmmp_exchange *next = ex->chain;
            unsigned b = wmmp_track_hash(&ex->key) & (size - 1);
            ex->chain = buckets[b];
            buckets[b] = ex;
            ex = next;
        }
    }
    wmem_free(wmem_file_scope(), map->buckets);
    map->buckets = buckets;
    map->size = size;
}

static wmmp_exchange *new_exchange(wmmp_exchanges *map, const wmmp_track_key *key, packet_info *pinfo)
{
    wmmp_exchange *ex;
    if (slab_used == SLAB_SIZE) {
        slab = wmem_alloc_array(wmem_file_scope(), wmmp_exchange, SLAB_SIZE);
        slab_used = 0;
    }
    ex = &slab[slab_used++];
    memset(ex, 0, sizeof *ex);
    ex->key = *key;
    ex->req_frame = pinfo->num;
    ex->req_secs = ex->last_secs = pinfo->abs_ts.secs;
    ex->req_nsecs = ex->last_nsecs = pinfo->abs_ts.nsecs;
    /* Replaces an older exchange with the same key, which stays valid for its frames. */
    unsigned b = wmmp_track_hash(key) & (map->size - 1);
    wmmp_exchange **link = &map->buckets[b];
    while (*link && !wmmp_track_equal(&(*link)->key, key))
        link = &(*link)->chain;
    if (*link) {
        ex->chain = (*link)->chain;
        *link = ex;
        return ex;
    }
    ex->chain = map->buckets[b];
    map->buckets[b] = ex;
    if (++map->count > map->size)
        grow(map);
    return ex;
}

static nstime_t req_time(const wmmp_exchange *ex)
{
    nstime_t t;
    t.secs = (time_t)ex->req_secs;
    t.nsecs = ex->req_nsecs;
    return t;
}

/* First pass: decide what this message is and update the conversation state. */
static void track_first_pass(packet_info *pinfo, const wmmp_msg_ctx *ctx, wmmp_track_rec *rec)
{
    bool is_ack = wmmp_is_ack(ctx->command_id);
    bool last_part = !ctx->fragment_part || ctx->fragment_number == ctx->fragment_total;
    wmmp_track_key key;
    wmmp_exchange *ex;
    wmmp_exchanges *map = conversation_exchanges(pinfo);

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
    ex = lookup_exchange(map, &key);

    if (rec->role == ROLE_ACK) {
        rec->exchange = ex;
        if (!ex)
            return; /* ACK without request */
        if (ex->ack_frame == 0)
            ex->ack_frame = pinfo->num;
        else
            rec->retrans_of = ex->ack_frame; /* duplicate ACK */
        ex->last_secs = pinfo->abs_ts.secs;
        ex->last_nsecs = pinfo->abs_ts.nsecs;
        return;
    }

    if (ex && ex->ack_frame != 0) {
        nstime_t since, last;
        last.secs = (time_t)ex->last_secs;
        last.nsecs = ex->last_nsecs;
        nstime_delta(&since, &pinfo->abs_ts, &last);
        if (since.secs >= WMMP_REUSE_WINDOW_SECS)
            ex = NULL; /* a new exchange reusing the sequence number */
    }
    if (!ex) {
        if (n_exchanges >= pref_track_max) {
            rec->role = ROLE_LIMIT; /* not tracked: the capture has too many exchanges */
            return;
        }
        n_exchanges++;
        ex = new_exchange(map, &key, pinfo);
    } else {
        rec->retrans_of = ex->req_frame; /* also after the ACK: the ACK was lost */
        ex->last_secs = pinfo->abs_ts.secs;
        ex->last_nsecs = pinfo->abs_ts.nsecs;
    }
    rec->exchange = ex;
}

/* The slot of the n-th tracked message of frame num; NULL when absent and not to be created. */
static wmmp_track_rec *record_slot(uint32_t num, unsigned n, bool create)
{
    if (n > 0) {
        uint32_t k[2] = { num, n };
        wmem_tree_key_t key[] = { { 2, k }, { 0, NULL } };
        wmmp_track_rec *rec = (wmmp_track_rec *)wmem_tree_lookup32_array(more_recs, key);
        if (!rec && create) {
            rec = wmem_new0(wmem_file_scope(), wmmp_track_rec);
            wmem_tree_insert32_array(more_recs, key, rec);
        }
        return rec;
    }
    unsigned page = num >> PAGE_BITS;
    if (page >= n_pages) {
        if (!create)
            return NULL;
        unsigned grown = MAX(page + 1, n_pages * 2);
        pages = (wmmp_track_rec **)wmem_realloc(wmem_file_scope(), pages, grown * sizeof *pages);
        memset(pages + n_pages, 0, (grown - n_pages) * sizeof *pages);
        n_pages = grown;
    }
    if (!pages[page]) {
        if (!create)
            return NULL;
        pages[page] = wmem_alloc0_array(wmem_file_scope(), wmmp_track_rec, PAGE_SIZE);
    }
    return &pages[page][num & (PAGE_SIZE - 1)];
}

/* The record of the n-th tracked message of this frame, creating it on the first pass. */
static wmmp_track_rec *message_record(packet_info *pinfo, const wmmp_msg_ctx *ctx)
{
    unsigned n = GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_wmmp, WMMP_TRACK_KEY_COUNTER));
    bool first = !PINFO_FD_VISITED(pinfo);
    wmmp_track_rec *rec;

    p_set_proto_data(pinfo->pool, pinfo, proto_wmmp, WMMP_TRACK_KEY_COUNTER, GUINT_TO_POINTER(n + 1));
    rec = record_slot(pinfo->num, n, first);
    if (rec && rec->role != ROLE_NONE) /* found */
        return (rec->command_id == ctx->command_id && rec->sequence == ctx->sequence) ? rec : NULL;
    if (!first)
        return NULL; /* not seen on the first pass (e.g. preferences differ): show nothing */

    rec->command_id = ctx->command_id;
    rec->sequence = ctx->sequence;
    track_first_pass(pinfo, ctx, rec);
    return rec;
}

bool wmmp_track_message(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, wmmp_msg_ctx *ctx)
{
    wmmp_track_rec *rec;
    proto_item *it;
    bool is_ack;

    if (!ctx)
        return false;
    is_ack = wmmp_is_ack(ctx->command_id);
    ctx->is_request = !is_ack && !ctx->fragment_control;
    ctx->retransmission = false;
    ctx->has_response_time = false;
    ctx->request_frame = 0;
    nstime_set_zero(&ctx->response_time);
    /* Fragment control is neither request nor ACK; a copy quoted in an ICMP error is not traffic. */
    if (ctx->fragment_control || pinfo->flags.in_error_pkt)
        return false;

    rec = message_record(pinfo, ctx);
    if (!rec)
        return false;

    switch (rec->role) {
    case ROLE_LIMIT:
        it = proto_tree_add_expert_format(tree, pinfo, &ei_wmmp_track_limit, tvb, 0, 0,
                                          "Tracking limit of %u exchanges reached (preference "
                                          "wmmp.tracking_max_exchanges): request not tracked", pref_track_max);
        proto_item_set_generated(it);
        return false;
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
    case ROLE_ACK: {
        if (!rec->exchange) {
            it = proto_tree_add_expert(tree, pinfo, &ei_wmmp_ack_without_request, tvb, 0, 0);
            proto_item_set_generated(it);
            break;
        }
        nstime_t requested = req_time(rec->exchange), response_time;
        nstime_delta(&response_time, &pinfo->abs_ts, &requested);
        it = proto_tree_add_uint(tree, hf_wmmp_response_to, tvb, 0, 0, rec->exchange->req_frame);
        proto_item_set_generated(it);
        it = proto_tree_add_time(tree, hf_wmmp_response_time, tvb, 0, 0, &response_time);
        proto_item_set_generated(it);
        ctx->has_response_time = true;
        ctx->response_time = response_time;
        ctx->request_frame = rec->exchange->req_frame;
        break;
    }
    default: /* ROLE_PART */
        break;
    }

    if (rec->retrans_of) {
        it = proto_tree_add_uint(tree, hf_wmmp_retransmission, tvb, 0, 0, rec->retrans_of);
        proto_item_set_generated(it);
        expert_add_info_format(pinfo, it, &ei_wmmp_retransmission, "Retransmission of frame %u",
                               rec->retrans_of);
        col_append_str(pinfo->cinfo, COL_INFO, " [Retransmission]");
        ctx->retransmission = true;
    }
    return rec->retrans_of != 0;
}

void wmmp_tracking_register(module_t *module)
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
        { &ei_wmmp_track_limit,
          { "wmmp.tracking.limit", PI_UNDECODED, PI_WARN, "Tracking limit reached: request not tracked",
            EXPFILL } },
    };
    expert_module_t *expert = expert_register_protocol(proto_wmmp);

    proto_register_field_array(proto_wmmp, hf, array_length(hf));
    expert_register_field_array(expert, ei, array_length(ei));
    register_init_routine(track_init);
    prefs_register_uint_preference(module, "tracking_max_exchanges", "Request tracking limit (exchanges)",
                                   "At most this many request/ACK exchanges of a capture are tracked (about 50 bytes "
                                   "each); later requests are not (expert item wmmp.tracking.limit)", 10,
                                   &pref_track_max);
}
