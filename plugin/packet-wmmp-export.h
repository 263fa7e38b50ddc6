/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet-wmmp-export.h: Export Objects -> WMMP (packet-wmmp-export.c); the DAG: packet-wmmp.h. */
#ifndef PACKET_WMMP_EXPORT_H
#define PACKET_WMMP_EXPORT_H

#include <epan/packet.h>
#include <epan/prefs.h>

#include "wmmp-compat.h"

/* Tap "wmmp_eo" from register_export_object(): one wmmp_eo_info per DOWNLOAD_INFO and FILE_REQ_ACK; the
   core queues to it when >= 0. */
extern int wmmp_eo_tap;

typedef enum { WMMP_EO_DOWNLOAD_INFO, WMMP_EO_FILE_BLOCK } wmmp_eo_kind;

/* What the firmware exporter needs of one message. */
typedef struct {
    wmmp_eo_kind kind;
    const char *terminal;      /* printable serial, packet scope */
    /* DOWNLOAD_INFO (TLVs 0x1001, 0x1005, 0x1006, 0x1008, 0x1009); has_* say which were present */
    const char *url;           /* NULL when absent */
    const char *version;       /* NULL when absent */
    bool has_length, has_crc32, has_transaction;
    uint32_t length, crc32, transaction_id;
    /* FILE_REQ_ACK */
    uint8_t status;
    uint32_t offset;
    uint16_t block_length;
    const uint8_t *data;       /* block_length bytes, packet scope */
} wmmp_eo_info;

/* Registers the tap, the preference export_max_mb and the expert item (after proto_wmmp exists). */
void wmmp_register_export_objects(int proto, module_t *module);

/*
 * Whether a FILE_REQ_ACK block of the terminal (message msg_index of the frame) may go to Export Objects:
 * false (with an expert item on item) once the images of the capture would reserve more than the
 * "export_max_mb" preference. Decided on the first pass and kept per message, so every pass agrees.
 */
bool wmmp_export_admit_block(packet_info *pinfo, proto_item *item, unsigned msg_index, const char *terminal,
                             uint32_t offset, uint16_t len);

#endif /* PACKET_WMMP_EXPORT_H */
