/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet-wmmp-stats.h: Statistics -> WMMP (packet-wmmp-stats.c), fed by tap "wmmp"; the DAG: packet-wmmp.h. */
#ifndef PACKET_WMMP_STATS_H
#define PACKET_WMMP_STATS_H

/* The stats tree and the SRT table; called from proto_register_wmmp. */
void wmmp_register_stats(void);

#endif /* PACKET_WMMP_STATS_H */
