/*
 * Internal interface between the files of the WMMP plugin. Each file owns one concern and registers
 * its own fields; plugin.c calls the register/handoff functions declared here.
 *
 *   packet-wmmp.c    protocol, preferences, ports, heuristics, TCP framing, header, class, bodies
 *   wmmp-tlv.c       TLV lists with typed values, the wmmp_tags user table, the paper dialect
 *   wmmp-security.c  the wmmp_keys table, digest verification, session keys, decryption
 *   wmmp-tracking.c  request/ACK matching, response times, retransmissions
 *   wmmp-fragment.c  reassembly of 0x4008 parts
 *   wmmp-health.c    the health-record sub-dissector (heuristic list "wmmp.user_data")
 *   wmmp-stats.c     Statistics -> WMMP tree and service response times (tap "wmmp")
 *   wmmp-export.c    Export Objects -> WMMP: firmware images (tap "wmmp_eo")
 */
#ifndef WMMP_INT_H
#define WMMP_INT_H

#include <epan/packet.h>
#include <epan/expert.h>

/* The protocol and its taps. */
extern int proto_wmmp;  /* packet-wmmp.c */
extern int wmmp_tap;    /* packet-wmmp.c: tap "wmmp", one wmmp_tap_info per dissected message */
extern int wmmp_eo_tap; /* wmmp-export.c: tap "wmmp_eo" from register_export_object(), one wmmp_eo_info
                           per DOWNLOAD_INFO and FILE_REQ_ACK; the core queues to it when >= 0 */

/* Heuristic sub-dissectors for TLV 0x4007 user data (the health record is one). */
#define WMMP_USER_DATA_HEUR_LIST "wmmp.user_data"
/* Decode As table for user data, keyed by nothing (a single "user data" selector). */
#define WMMP_USER_DATA_TABLE "wmmp.user_data"

/* What each dissected message tells the statistics (tap "wmmp"). */
typedef struct {
    guint16 command_id;       /* with the ACK bit */
    guint32 sequence;
    guint8 safe_flag;
    guint msg_class;          /* 0..3, as wmmp.class */
    gboolean has_result;
    guint8 result;
    const char *terminal;     /* printable serial, packet scope */
    gboolean is_request;
    gboolean retransmission;
    gboolean has_response_time; /* set on an ACK whose request was seen */
    nstime_t response_time;
    guint32 request_frame;
} wmmp_tap_info;

/* What the firmware exporter needs (tap "wmmp_eo"). */
typedef enum { WMMP_EO_DOWNLOAD_INFO, WMMP_EO_FILE_BLOCK } wmmp_eo_kind;

typedef struct {
    wmmp_eo_kind kind;
    const char *terminal;      /* printable serial, packet scope */
    /* DOWNLOAD_INFO (TLVs 0x1001, 0x1005, 0x1006, 0x1008, 0x1009); has_* say which were present */
    const char *url;           /* NULL when absent */
    const char *version;       /* NULL when absent */
    gboolean has_length, has_crc32, has_transaction;
    guint32 length, crc32, transaction_id;
    /* FILE_REQ_ACK */
    guint8 status;
    guint32 offset;
    guint16 block_length;
    const guint8 *data;        /* block_length bytes, packet scope */
} wmmp_eo_info;

/* The terminal serial of the message being dissected, for every part (packet scope, printable). */
typedef struct {
    guint16 command_id;
    guint32 sequence;
    guint8 safe_flag;
    guint8 serial[16];
    const char *terminal; /* printable */
    gboolean from_terminal; /* best guess of the sender, for the digest password */
} wmmp_msg_ctx;

/* packet-wmmp.c */
void proto_register_wmmp(void);
void proto_reg_handoff_wmmp(void);

/* wmmp-health.c */
void proto_register_wmmp_health(void);
void proto_reg_handoff_wmmp_health(void);

/* wmmp-stats.c (called from proto_register_wmmp) */
void wmmp_register_stats(void);

/* wmmp-export.c (called from proto_register_wmmp, after proto_wmmp exists) */
void wmmp_register_export_objects(void);

#endif
