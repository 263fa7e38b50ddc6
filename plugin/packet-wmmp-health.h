/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet-wmmp-health.h: the health-record sub-dissector (packet-wmmp-health.c), a protocol of its own
   registered from plugin.c; the DAG: packet-wmmp.h. */
#ifndef PACKET_WMMP_HEALTH_H
#define PACKET_WMMP_HEALTH_H

void proto_register_wmmp_health(void);
void proto_reg_handoff_wmmp_health(void);

#endif /* PACKET_WMMP_HEALTH_H */
