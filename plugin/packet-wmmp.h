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
#include <epan/prefs.h>

#include "wmmp-compat.h"

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
    uint16_t command_id;       /* with the ACK bit */
    uint32_t sequence;
    uint8_t safe_flag;
    unsigned msg_class;          /* 0..3, as wmmp.class */
    bool has_result;
    uint8_t result;
    const char *terminal;     /* printable serial, packet scope */
    bool is_request;
    bool retransmission;
    bool has_response_time; /* set on an ACK whose request was seen */
    nstime_t response_time;
    uint32_t request_frame;
} wmmp_tap_info;

/* What the firmware exporter needs (tap "wmmp_eo"). */
typedef enum { WMMP_EO_DOWNLOAD_INFO, WMMP_EO_FILE_BLOCK } wmmp_eo_kind;

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
    const uint8_t *data;        /* block_length bytes, packet scope */
} wmmp_eo_info;

/*
 * What the core knows about the message being dissected; passed to tracking and, as the `data` argument,
 * to user-data sub-dissectors (which must accept NULL). Packet scope.
 */
typedef struct {
    uint16_t command_id;        /* with the ACK bit */
    uint32_t sequence;
    uint8_t safe_flag;
    const char *terminal;      /* printable serial ("" before registration) */
    bool fragment_part;    /* a 0x4008 data part (operation 0) */
    bool fragment_control; /* a fragment-control message (send next / abort): not an ACK */
    uint16_t fragment_transaction, fragment_total, fragment_number;
    bool has_result;
    uint8_t result;
    bool malformed;        /* an expert item of group Malformed was raised for this message (also by a
                              user-data sub-dissector): " [MALFORMED]" in Info */
} wmmp_msg_ctx;

/* packet-wmmp.c */
void proto_register_wmmp(void);
void proto_reg_handoff_wmmp(void);

/* wmmp-tracking.c */
/* Registers the tracking fields (wmmp.response_in, .response_to, .response_time, .retransmission) and
   expert items; called from proto_register_wmmp. */
void wmmp_tracking_register(module_t *module);
/*
 * Links requests and ACKs of one conversation (requester direction, request command, sequence; fragment
 * parts also by part number), adds the tracking fields under tree, marks retransmissions (field, expert
 * note, " [Retransmission]" in Info), flags an ACK without request and, on the second pass, a request
 * never answered. Fills tap->is_request, retransmission, has_response_time, response_time,
 * request_frame. Returns true for a retransmission.
 */
bool wmmp_track_message(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const wmmp_msg_ctx *ctx,
                            wmmp_tap_info *tap);

/* wmmp-health.c */
void proto_register_wmmp_health(void);
void proto_reg_handoff_wmmp_health(void);

/* wmmp-stats.c (called from proto_register_wmmp) */
void wmmp_register_stats(void);

/* wmmp-export.c (called from proto_register_wmmp, after proto_wmmp exists) */
void wmmp_register_export_objects(module_t *module);

/* ------------------------------------------------------------------------------------------------------
 * Between the core files (packet-wmmp.c, wmmp-tlv.c, wmmp-security.c, wmmp-fragment.c, wmmp-vals.c).
 * ------------------------------------------------------------------------------------------------------ */

/* wmmp-vals.c: value_strings generated from the codec's .def tables (one definition of every name). */
extern const value_string wmmp_command_vals[];
extern const value_string wmmp_result_vals[];
extern const value_string wmmp_logout_reason_vals[];
extern const value_string wmmp_register_op_vals[];
extern const value_string wmmp_file_status_vals[];
extern const value_string wmmp_remote_cmd_vals[];
extern const value_string wmmp_connect_mode_vals[];
extern const value_string wmmp_fragment_op_vals[];
extern const value_string wmmp_class_vals[];
extern const value_string wmmp_digest_status_vals[];
/* Tag names of the dictionary, built at registration (tag lists and wmmp.tlv.tag). */
extern value_string *wmmp_tag_vals;

/* Why a container could not be decrypted (the first reason of a message goes into Info). */
typedef enum {
    WMMP_UNDECRYPTED_NONE = 0,
    WMMP_UNDECRYPTED_NO_KEYS,        /* the wmmp_keys table is empty */
    WMMP_UNDECRYPTED_NO_TERMINAL,    /* no wmmp_keys entry for the message's terminal */
    WMMP_UNDECRYPTED_NO_SESSION_KEY  /* the terminal's session key was not seen (no decryptable LOGIN_ACK) */
} wmmp_undecrypted;

/* wmmp.digest.status */
enum { WMMP_DIGEST_UNVERIFIED = 0, WMMP_DIGEST_GOOD = 1, WMMP_DIGEST_BAD = 2 };

/* What one message's dissection shares between the core files (packet scope). */
typedef struct {
    wmmp_msg_ctx *ctx;
    unsigned msg_index;          /* position of the message in its frame: keys per-message stored data */
    int depth;                /* containers decrypted and bodies reassembled so far (bounds recursion) */
    unsigned reassembled;     /* > 0 while a reassembled body is dissected: its 0x4008 TLVs are not reassembled */
    bool has_digest;      /* the message ends with a digest TLV (signed) */
    uint8_t serial[16];        /* header serial, raw */
    bool tag_list_context;/* zero-length TLVs name requested or rejected tags */
    bool decrypted;       /* a container was decrypted */
    bool is_download_info;
    wmmp_eo_info *eo;         /* DOWNLOAD_INFO / FILE_REQ_ACK details for Export Objects, or NULL */
    bool eo_refused;      /* the FILE_REQ_ACK block is over the Export Objects cap: not queued */
    proto_item *wmmp_item;    /* the protocol item, for the summary */
    /* Info column, appended once the message is dissected */
    bool bad_crc;             /* " [BAD CRC-16]" */
    wmmp_undecrypted undecrypted; /* " [UNDECRYPTED: why]" */
    wmem_strbuf_t *info_tags; /* CONFIG_* / REMOTE_CTRL: the body's tags ("tags=" or "rejected="), NULL else */
    unsigned info_tag_count;  /* tags of the body */
    unsigned info_tags_shown; /* of which named in info_tags */
    const char *info_remote_cmd; /* REMOTE_CTRL: the 0x4001 command's name */
} wmmp_dissect_state;

/* packet-wmmp.c */
/* Dissects a body: the command's fixed prefix, then its TLVs (also used on decrypted and reassembled bodies). */
void wmmp_dissect_body(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                       wmmp_dissect_state *st);
/* Hands TLV 0x4007 to the user-data sub-dissectors (heuristic list, then Decode As). */
void wmmp_dissect_user_data(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, wmmp_dissect_state *st);
/* The user's port preferences, for guessing who sent a message. */
bool wmmp_sent_to_platform(packet_info *pinfo);
/* Notes one TLV of the body for the Info summary of CONFIG_* and REMOTE_CTRL messages (name: its short
   name, e.g. the filter name "apn"; cmd: for 0x4001, the command's name, else NULL). */
void wmmp_info_note_tag(packet_info *pinfo, wmmp_dissect_state *st, uint16_t tag, const char *name,
                        const char *cmd);

/* wmmp-tlv.c */
extern int wmmp_pref_dialect; /* wmmp_dialect */
void wmmp_tlv_register(module_t *module);
/* The field of a dictionary tag (e.g. wmmp.imei for 0xE00E), also used for body prefixes. */
int wmmp_tlv_field(uint16_t tag);
/* Dissects the TLVs in tvb[offset, offset + len); every TLV gets its subtree; never reads beyond. */
void wmmp_dissect_tlvs(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                       wmmp_dissect_state *st);

/* wmmp-security.c */
void wmmp_security_register(module_t *module);
/* Whether the wmmp_keys table holds no usable entry (expert items then say how to add keys). */
bool wmmp_security_no_keys(void);
/* Verifies the digest TLV at tvb[offset, offset + 20) of the len-byte message tvb[0, len). */
void wmmp_security_digest(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                          wmmp_dissect_state *st);
/* Remembers a successful LOGIN_ACK's timestamp for the rest of the terminal's session (first pass). */
void wmmp_security_login_ack(packet_info *pinfo, wmmp_dissect_state *st, uint8_t result, uint32_t timestamp);
/*
 * Decrypts an 0xE040 (base key) or 0xE042 (session key) value at tvb[offset, offset + len) and returns the
 * plaintext, without padding, as a new data source; NULL (with the reason in tree) when it cannot.
 */
tvbuff_t *wmmp_security_decrypt(tvbuff_t *tvb, int offset, int len, uint16_t tag, packet_info *pinfo,
                                proto_tree *tree, wmmp_dissect_state *st);
/* A session key seen in decrypted TLVs (0xE03B): used for the terminal's later 0xE042 bodies. */
void wmmp_security_session_key(packet_info *pinfo, wmmp_dissect_state *st, tvbuff_t *tvb, int offset);

/* wmmp-export.c */
/*
 * Whether a FILE_REQ_ACK block of the terminal may go to Export Objects: false (with an expert item on item)
 * once the images of the capture would reserve more than the "export_max_mb" preference. Decided on the
 * first pass and kept per message, so every pass agrees.
 */
bool wmmp_export_admit_block(packet_info *pinfo, proto_item *item, const wmmp_dissect_state *st, uint32_t offset,
                             uint16_t len);

/* wmmp-fragment.c */
void wmmp_fragment_register(module_t *module);
/*
 * Dissects a 0x4008 value at tvb[offset, offset + len) under tree; for a data part, adds it to the
 * reassembly and returns the reassembled body when this part completes it (NULL otherwise).
 */
tvbuff_t *wmmp_fragment_dissect(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                                wmmp_dissect_state *st);

#endif
