/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers on top of the driver's emu_env functions. */
#include "emu_env.h"

#include <stdio.h>

void emu_logf(const emu_env *env, emu_log_level level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!env || !env->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    env->log(env->ctx, level, line);
}

double emu_random_unit(const emu_env *env)
{
    /* 32 random bits scaled to [0, 1): enough resolution for loss probabilities and noise. */
    return env->random(env->ctx) / 4294967296.0;
}
