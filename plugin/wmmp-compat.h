/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one place that knows which Wireshark release the plugin is built against (4.0, 4.2, 4.4, 4.6).
 *
 * The dissector code is written in the newest API's spelling (C99 types, bool, tvb_get_uint8, ...);
 * this header maps those names back for the older releases that lack them. Nothing else in the plugin
 * tests a Wireshark version. How each boundary was checked: docs/PLUGIN.md, "Wireshark versions".
 */
#ifndef WMMP_COMPAT_H
#define WMMP_COMPAT_H

#include <wireshark.h>
#include <ws_version.h>

#define WMMP_WS_AT_LEAST(major, minor) \
    (WIRESHARK_VERSION_MAJOR > (major) || (WIRESHARK_VERSION_MAJOR == (major) && WIRESHARK_VERSION_MINOR >= (minor)))

/* plugin_describe() and WS_PLUGIN_DESC_* (wsutil/plugins.h) came with 4.4; the loader treats it as optional. */
#if WMMP_WS_AT_LEAST(4, 4)
#include <wsutil/plugins.h>
#define WMMP_WS_PLUGIN_DESCRIBE 1
#endif

/* The g-free tvb accessors came with 4.4, which deprecates tvb_get_guint8; the old names exist up to 4.6. */
#if !WMMP_WS_AT_LEAST(4, 4)
#define tvb_get_uint8 tvb_get_guint8
#endif

/* 4.6 renames dissector_try_payload_new (same arguments); the old name exists, deprecated, in 4.6. */
#if !WMMP_WS_AT_LEAST(4, 6)
#define dissector_try_payload_with_data dissector_try_payload_new
#endif

/* UNS() (a unit_name_string as a field's strings) is not in 4.0's proto.h. */
#ifndef UNS
#define UNS(x) (cast_same(const struct unit_name_string *, (x)))
#endif

/*
 * Booleans that Wireshark reads through a pointer or a callback's return type: gboolean (int) in 4.0,
 * C99 bool later, but not all at once. A variable or function of the wrong one of the two is an
 * incompatible pointer (an error with GCC 14), so each follows the release that changed it.
 */
#if WMMP_WS_AT_LEAST(4, 2)
typedef bool wmmp_uat_bool;    /* return type of a uat_update_cb_t: bool from 4.2 */
#else
typedef gboolean wmmp_uat_bool;
#endif
#if WMMP_WS_AT_LEAST(4, 4)
typedef bool wmmp_pref_bool;   /* prefs_register_bool_preference(..., wmmp_pref_bool *): bool from 4.4 */
typedef bool wmmp_heur_bool;   /* return type of a heur_dissector_t: bool from 4.4 */
#else
typedef gboolean wmmp_pref_bool;
typedef gboolean wmmp_heur_bool;
#endif

#endif /* WMMP_COMPAT_H */
