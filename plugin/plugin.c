/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The entry points Wireshark looks for in a dissector plugin, for the release it is built against. */
#include <wireshark.h>

#include <epan/packet.h>
#include <epan/proto.h>

#include "packet-wmmp.h"
#include "packet-wmmp-health.h"

#ifndef WMMP_PLUGIN_VERSION
#define WMMP_PLUGIN_VERSION "0.0.0"
#endif

/* Wireshark loads a plugin only into the major.minor release it was built for (the ABI changes between). */
WS_DLL_PUBLIC_DEF const char plugin_version[] = WMMP_PLUGIN_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);

void plugin_register(void)
{
    static proto_plugin wmmp = { proto_register_wmmp, proto_reg_handoff_wmmp };
    static proto_plugin health = { proto_register_wmmp_health, proto_reg_handoff_wmmp_health };
    proto_register_plugin(&wmmp);
    proto_register_plugin(&health);
}

#ifdef WMMP_WS_PLUGIN_DESCRIBE
/* 4.4 and later ask what kind of plugin this is (tshark -G plugins shows it). */
WS_DLL_PUBLIC uint32_t plugin_describe(void);

uint32_t plugin_describe(void)
{
    return WS_PLUGIN_DESC_DISSECTOR;
}
#endif
