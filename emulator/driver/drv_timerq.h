/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A timer queue: events ordered by (due time, creation order), so equal times fire in the order they were
 * started and a virtual-clock run is reproducible. Ids are never reused. The offline driver runs it on its
 * virtual clock; the live and load drivers run it from one GLib source (drv_glib.h), so thousands of
 * sessions' timers cost one poll timeout rather than thousands of GLib sources.
 */
#ifndef DRV_TIMERQ_H
#define DRV_TIMERQ_H

#include <stddef.h>

#include "emu_env.h"

typedef struct drv_timerq drv_timerq;

drv_timerq *drv_timerq_new(void);
/* Frees the queue; pending events are dropped without firing (their args are the callers'). */
void drv_timerq_free(drv_timerq *q);

emu_timer drv_timerq_add(drv_timerq *q, emu_ms due, void (*fire)(void *arg), void *arg);
/* No-op for 0, an unknown id or one that already fired. */
void drv_timerq_cancel(drv_timerq *q, emu_timer id);

/* 1 and the earliest due time in *due when an event is pending, else 0. */
int drv_timerq_next_due(const drv_timerq *q, emu_ms *due);
/* Fires the earliest event if it is due at now: 1 when one fired. */
int drv_timerq_fire_one(drv_timerq *q, emu_ms now);
size_t drv_timerq_size(const drv_timerq *q);
/* Removes every pending event without firing it, handing each to drop (to free its arg). */
void drv_timerq_drain(drv_timerq *q, void (*drop)(void (*fire)(void *arg), void *arg, void *user), void *user);

#endif
