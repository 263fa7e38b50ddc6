/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp.h: what the files of the WMMP plugin share about the message being dissected: the protocol,
 * its tap, the per-message context and the dissection state. Each concern has its own file and header:
 *
 *   packet-wmmp.c           protocol, preferences, ports, heuristics, TCP framing, header, class, bodies
 *   packet-wmmp-tlv.c       TLV lists with typed values, the wmmp_tags table, the paper dialect, user data
 *   packet-wmmp-security.c  the wmmp_keys table, digest verification, session keys, decryption
 *   packet-wmmp-fragment.c  reassembly of 0x4008 parts
 *   packet-wmmp-tracking.c  request/ACK matching, response times, retransmissions
 *   packet-wmmp-memo.c      first-pass digest verdicts and plaintexts, kept for later passes
 *   packet-wmmp-health.c    the health-record sub-dissector (heuristic list "wmmp.user_data")
 *   packet-wmmp-stats.c     Statistics -> WMMP tree and service response times (tap "wmmp")
 *   packet-wmmp-export.c    Export Objects -> WMMP: firmware images (tap "wmmp_eo")
 *   packet-wmmp-vals.c      value_strings generated from the codec's .def tables
 *   plugin.c                the entry points Wireshark looks for
 *
 * Who calls whom (an arrow: calls functions of; nothing calls back up the graph):
 *
 *   plugin.c ---------------> packet-wmmp.c, packet-wmmp-health.c
 *   packet-wmmp.c ----------> packet-wmmp-tlv.c, -security.c, -fragment.c (registration), -tracking.c,
 *                             -stats.c (registration), -export.c, -vals.c
 *   packet-wmmp-tlv.c ------> packet-wmmp-security.c, -fragment.c, -vals.c
 *   packet-wmmp-fragment.c -> packet-wmmp-vals.c
 *   packet-wmmp-security.c -> packet-wmmp-memo.c
 *   packet-wmmp-memo.c, -tracking.c, -stats.c, -export.c, -health.c, -vals.c: none
 *
 * Decrypted and reassembled bodies are bodies again: the TLV code hands them to the core through the
 * dissect_body callback of the dissection state, set by packet-wmmp.c, so the TLV file never calls the
 * core. Every file may include this header (data and types only, no calls) and the headers of the files
 * it calls; this header includes only packet-wmmp-export.h (the Export Objects record) and wmmp-compat.h.
 */
#ifndef PACKET_WMMP_H
#define PACKET_WMMP_H

#include <epan/packet.h>

#include "packet-wmmp-export.h"
#include "wmmp-compat.h"

/* The protocol and its tap (packet-wmmp.c). */
extern int proto_wmmp;
extern int wmmp_tap; /* tap "wmmp": one const wmmp_msg_ctx per dissected message */

/* The default ports (preferences udp.port and tcp.port of the protocol): the platform listens on them. */

/* Heuristic sub-dissectors for TLV 0x4007 user data (the health record is one), and the Decode As table
   for it (a single "user data" selector); both made by packet-wmmp-tlv.c. */
#define WMMP_USER_DATA_HEUR_LIST "wmmp.user_data"
#define WMMP_USER_DATA_TABLE "wmmp.user_data"

/*
 * The one per-message context: what the message is (the core), what its TLVs said (fragments, result,
 * malformed), and how tracking saw it. Passed to tracking, queued to tap "wmmp" (statistics) and given as
 * the `data` argument to user-data sub-dissectors (which must accept NULL). Packet scope.
 */
typedef struct {
    uint16_t command_id;    /* with the ACK bit */
    uint32_t sequence;
    uint8_t safe_flag;
    unsigned msg_class;     /* 0..3, as wmmp.class */
    const char *terminal;   /* printable serial ("" before registration) */
    bool fragment_part;     /* a 0x4008 data part (operation 0) */
    bool fragment_control;  /* a fragment-control message (send next / abort): not an ACK */
    uint16_t fragment_transaction, fragment_total, fragment_number;
    bool has_result;
    uint8_t result;
    bool malformed;         /* an expert item of group Malformed was raised for this message (also by a
                               user-data sub-dissector): " [MALFORMED]" in Info */
    /* filled by wmmp_track_message() */
    bool is_request;
    bool retransmission;
    bool has_response_time; /* set on an ACK whose request was seen */
    nstime_t response_time;
    uint32_t request_frame;
} wmmp_msg_ctx;

/* Why a container could not be decrypted (the first reason of a message goes into Info). */
typedef enum {
    WMMP_UNDECRYPTED_NONE = 0,
    WMMP_UNDECRYPTED_NO_KEYS,        /* the wmmp_keys table is empty */
    WMMP_UNDECRYPTED_NO_TERMINAL,    /* no wmmp_keys entry for the message's terminal */
    WMMP_UNDECRYPTED_NO_SESSION_KEY  /* the terminal's session key was not seen (no decryptable LOGIN_ACK) */
} wmmp_undecrypted;

typedef struct wmmp_dissect_state wmmp_dissect_state;

/* Dissects a body: the command's fixed prefix, then its TLVs (packet-wmmp.c; also used on decrypted and
   reassembled bodies). */
typedef void (*wmmp_body_dissector)(tvbuff_t *tvb, int offset, int len, packet_info *pinfo, proto_tree *tree,
                                    wmmp_dissect_state *st);

/* What one message's dissection shares between the files (packet scope). */
struct wmmp_dissect_state {
    wmmp_msg_ctx *ctx;
    wmmp_body_dissector dissect_body; /* the core's body dissector, for decrypted and reassembled bodies */
    unsigned msg_index;       /* position of the message in its frame: keys per-message stored data */
    int depth;                /* containers decrypted and bodies reassembled so far (bounds recursion) */
    unsigned reassembled;     /* > 0 while a reassembled body is dissected: its 0x4008 TLVs are not reassembled */
    bool has_digest;          /* the message ends with a digest TLV (signed) */
    uint8_t serial[16];       /* header serial, raw */
    bool tag_list_context;    /* zero-length TLVs name requested or rejected tags */
    bool decrypted;           /* a container was decrypted */
    unsigned decrypted_count; /* containers decrypted so far: keys their plaintexts for later passes */
    bool is_download_info;
    wmmp_eo_info *eo;         /* DOWNLOAD_INFO / FILE_REQ_ACK details for Export Objects, or NULL */
    bool eo_refused;          /* the FILE_REQ_ACK block is over the Export Objects cap: not queued */
    /* Info column, appended once the message is dissected */
    bool bad_crc;             /* " [BAD CRC-16]" */
    wmmp_undecrypted undecrypted; /* " [UNDECRYPTED: why]" */
    wmem_strbuf_t *info_tags; /* CONFIG_* / REMOTE_CTRL: the body's tags ("tags=" or "rejected="), NULL else */
    unsigned info_tag_count;  /* tags of the body */
    unsigned info_tags_shown; /* of which named in info_tags */
    const char *info_remote_cmd; /* REMOTE_CTRL: the 0x4001 command's name */
};

/* Whether labels are worth making: a visible tree (-V, -T fields, the GUI's details). Hidden and faked items
   of a filtering pass, and a NULL tree, show no label, so the texts that only go into labels are skipped. */
static inline bool wmmp_tree_shown(proto_tree *tree)
{
    return tree && PTREE_DATA(tree)->visible;
}

/* packet-wmmp.c, called from plugin.c */
void proto_register_wmmp(void);
void proto_reg_handoff_wmmp(void);

#endif /* PACKET_WMMP_H */
