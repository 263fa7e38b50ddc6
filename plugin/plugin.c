/* The entry points Wireshark 4.0 looks for in a dissector plugin. */
#include <wireshark.h>

#include <epan/packet.h>
#include <epan/proto.h>

#include "wmmp-int.h"

#ifndef WMMP_PLUGIN_VERSION
#define WMMP_PLUGIN_VERSION "0.0.0"
#endif

WS_DLL_PUBLIC_DEF const gchar plugin_version[] = WMMP_PLUGIN_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = 4;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = 0;

WS_DLL_PUBLIC void plugin_register(void);

void plugin_register(void)
{
    static proto_plugin wmmp = { proto_register_wmmp, proto_reg_handoff_wmmp };
    static proto_plugin health = { proto_register_wmmp_health, proto_reg_handoff_wmmp_health };
    proto_register_plugin(&wmmp);
    proto_register_plugin(&health);
}
