/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_errors.h"

static const char *const messages[] = {
#define WMMP_ERROR(sym, msg) msg,
#include "wmmp_errors.def"
};

const char *wmmp_strerror(wmmp_err err)
{
    if ((unsigned)err >= WMMP_ERR__COUNT)
        return "unknown error";
    return messages[err];
}
