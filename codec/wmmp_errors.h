/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Status codes returned by every codec function (declared in wmmp_errors.def). */
#ifndef WMMP_ERRORS_H
#define WMMP_ERRORS_H

typedef enum {
#define WMMP_ERROR(sym, msg) WMMP_ERR_##sym,
#include "wmmp_errors.def"
    WMMP_ERR__COUNT
} wmmp_err;

/* Short aliases for the two non-error codes. */
#define WMMP_OK  WMMP_ERR_OK
#define WMMP_END WMMP_ERR_END

/* A constant English message for any code; never NULL. */
const char *wmmp_strerror(wmmp_err err);

#endif
