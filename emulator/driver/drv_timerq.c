/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Binary min-heap of events with an id index for cancellation. */
#include "drv_timerq.h"

#include <glib.h>

typedef struct {
    emu_ms due;
    emu_timer id; /* also the tie-breaker: ids grow with creation order */
    size_t pos;   /* index in the heap */
    void (*fire)(void *arg);
    void *arg;
} tq_event;

/*
 * Events done with are kept for the next ones (at most SPARE_MAX): the offline driver makes and frees two
 * or three per message (its delivery, the link's timers), at a million messages a second's worth of malloc.
 */
#define SPARE_MAX 256

struct drv_timerq {
    tq_event **heap;
    size_t len, cap;
    GHashTable *by_id; /* &event->id -> event */
    emu_timer next_id;
    tq_event *spare[SPARE_MAX];
    size_t n_spare;
};

static tq_event *event_new(drv_timerq *q) { return q->n_spare ? q->spare[--q->n_spare] : g_new(tq_event, 1); }

static void event_free(drv_timerq *q, tq_event *e)
{
    if (q->n_spare < SPARE_MAX)
        q->spare[q->n_spare++] = e;
    else
        g_free(e);
}

static int before(const tq_event *a, const tq_event *b)
{
    return a->due < b->due || (a->due == b->due && a->id < b->id);
}

static void place(drv_timerq *q, size_t i, tq_event *e)
{
    q->heap[i] = e;
    e->pos = i;
}

static void sift_up(drv_timerq *q, size_t i)
{
    tq_event *e = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(e, q->heap[parent]))
            break;
        place(q, i, q->heap[parent]);
        i = parent;
    }
    place(q, i, e);
}

static void sift_down(drv_timerq *q, size_t i)
{
    tq_event *e = q->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->len)
            break;
        if (c + 1 < q->len && before(q->heap[c + 1], q->heap[c]))
            c++;
        if (!before(q->heap[c], e))
            break;
        place(q, i, q->heap[c]);
        i = c;
    }
    place(q, i, e);
}

/* Takes e out of the heap and the index; the caller frees it. */
static void unlink_event(drv_timerq *q, tq_event *e)
{
    size_t i = e->pos;
    g_hash_table_remove(q->by_id, &e->id);
    q->len--;
    if (i == q->len)
        return;
    tq_event *moved = q->heap[q->len];
    place(q, i, moved);
    sift_down(q, i);
    sift_up(q, moved->pos);
}

drv_timerq *drv_timerq_new(void)
{
    drv_timerq *q = g_new0(drv_timerq, 1);
    q->by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
    q->next_id = 1;
    return q;
}

void drv_timerq_free(drv_timerq *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->len; i++)
        g_free(q->heap[i]);
    for (size_t i = 0; i < q->n_spare; i++)
        g_free(q->spare[i]);
    g_free(q->heap);
    g_hash_table_destroy(q->by_id);
    g_free(q);
}

emu_timer drv_timerq_add(drv_timerq *q, emu_ms due, void (*fire)(void *arg), void *arg)
{
    tq_event *e = event_new(q);
    e->due = due;
    e->id = q->next_id++;
    e->fire = fire;
    e->arg = arg;
    if (q->len == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->heap = g_renew(tq_event *, q->heap, q->cap);
    }
    place(q, q->len++, e);
    sift_up(q, e->pos);
    g_hash_table_insert(q->by_id, &e->id, e);
    return e->id;
}

void drv_timerq_cancel(drv_timerq *q, emu_timer id)
{
    tq_event *e;
    if (id == 0 || !(e = g_hash_table_lookup(q->by_id, &id)))
        return;
    unlink_event(q, e);
    event_free(q, e);
}

int drv_timerq_next_due(const drv_timerq *q, emu_ms *due)
{
    if (q->len == 0)
        return 0;
    *due = q->heap[0]->due;
    return 1;
}

int drv_timerq_fire_one(drv_timerq *q, emu_ms now)
{
    tq_event *e;
    void (*fire)(void *);
    void *arg;
    if (q->len == 0 || q->heap[0]->due > now)
        return 0;
    e = q->heap[0];
    unlink_event(q, e);
    fire = e->fire;
    arg = e->arg;
    event_free(q, e); /* before firing: the callback may start timers (and reuse it) */
    fire(arg);
    return 1;
}

size_t drv_timerq_size(const drv_timerq *q) { return q->len; }

void drv_timerq_drain(drv_timerq *q, void (*drop)(void (*fire)(void *arg), void *arg, void *user), void *user)
{
    while (q->len > 0) {
        tq_event *e = q->heap[q->len - 1]; /* the last leaf: no sifting needed */
        g_hash_table_remove(q->by_id, &e->id);
        q->len--;
        drop(e->fire, e->arg, user);
        event_free(q, e);
    }
}
