/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packet-wmmp-export.c: Export Objects -> WMMP: firmware images reassembled from FILE_REQ_ACK blocks
 * (tap "wmmp_eo").
 *
 *   tshark --export-objects wmmp,DIR
 *
 * The core queues one wmmp_eo_info per DOWNLOAD_INFO (the announcement) and per FILE_REQ_ACK (a block).
 * This file keeps one image per terminal and emits one export object when the image is complete.
 *
 * Rules (the project's interpretation):
 * - Name: the last path component of the announced URL (0x1001, query and fragment removed), else
 *   "firmware-<version>.bin" (0x1005), else "firmware-<terminal>.bin". Characters other than letters,
 *   digits, '.', '-', '_' and '+' become '_'.
 * - Complete: all bytes of the announced length (0x1006) are present. Without a length: the transfer
 *   signalled its end (an ACK with status 2 "transfer complete", an empty block, or a block shorter than
 *   the largest one seen) exactly at the highest block end, and every byte from offset 0 to there is present.
 * - Blocks without any DOWNLOAD_INFO are still assembled, as "firmware-<terminal>.bin" with no length.
 *   A later DOWNLOAD_INFO that differs from the current one starts a new image (the old bytes are lost).
 * - Size: at most WMMP_EO_CAP bytes. An announced length above the cap disables that image; bytes
 *   beyond the length (or the cap) are dropped (a block ending beyond the cap: expert item wmmp.export.limit).
 * - CRC-32 (0x1008): on a mismatch the object is still exported, so the bytes can be examined, but
 *   "-CRC-BAD" goes before the extension ("fw-1.2-CRC-BAD.bin") so that it cannot pass for a good image.
 * - Each image is emitted once; re-sent DOWNLOAD_INFOs and retransmitted blocks change nothing.
 * - Per capture (against forged captures, docs/SECURITY.md): the dissector admits a block only while the
 *   sum over terminals of the highest block end seen stays within the "export_max_mb" preference (default
 *   WMMP_EO_TOTAL_MB_DEFAULT MiB); a block beyond gets the expert item wmmp.export.limit and is not queued.
 *   The exporter itself never holds more than that (plus its bitmaps) in images in progress.
 */
#include <string.h>

#include <epan/packet.h>
#include <epan/export_object.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <wsutil/glib-compat.h>

#include "packet-wmmp-export.h"
#include "wmmp_crc.h"

int wmmp_eo_tap = -1;

#define WMMP_EO_CAP (16u * 1024u * 1024u)
#define WMMP_EO_NAME_MAX 200
#define WMMP_EO_TOTAL_MB_DEFAULT 256

static unsigned pref_export_max_mb = WMMP_EO_TOTAL_MB_DEFAULT;
static expert_field ei_export_limit = EI_INIT;

/* The dissector's side (first pass, file scope): the highest block end per terminal and their sum, and the
   refused blocks by {frame, message}. */
static wmem_map_t *admitted_end;   /* terminal (file-scope string) -> uint32_t * */
static wmem_tree_t *refused_blocks;
static uint64_t admitted_total;

/* The exporter's side: bytes allocated to images in progress (buffers and bitmaps). */
static uint64_t images_allocated;

static uint64_t export_budget(void)
{
    return (uint64_t)pref_export_max_mb * 1024 * 1024;
}

static void export_init(void)
{
    admitted_end = wmem_map_new(wmem_file_scope(), g_str_hash, g_str_equal);
    refused_blocks = wmem_tree_new(wmem_file_scope());
    admitted_total = 0;
}

bool wmmp_export_admit_block(packet_info *pinfo, proto_item *item, unsigned msg_index, const char *terminal,
                             uint32_t offset, uint16_t len)
{
    uint32_t key[2] = { pinfo->num, msg_index };
    wmem_tree_key_t tkey[] = { { 2, key }, { 0, NULL } };
    if (!PINFO_FD_VISITED(pinfo)) {
        if (!terminal)
            terminal = "";
        uint64_t end = MIN((uint64_t)offset + len, (uint64_t)WMMP_EO_CAP);
        uint32_t *seen = (uint32_t *)wmem_map_lookup(admitted_end, terminal);
        uint64_t grow = (seen && *seen >= end) ? 0 : end - (seen ? *seen : 0);
        if ((uint64_t)offset + len > WMMP_EO_CAP) {
            wmem_tree_insert32_array(refused_blocks, tkey, GUINT_TO_POINTER(2));
        } else if (admitted_total + grow > export_budget()) {
            wmem_tree_insert32_array(refused_blocks, tkey, GUINT_TO_POINTER(1));
        } else if (grow > 0) {
            if (!seen) {
                seen = wmem_new0(wmem_file_scope(), uint32_t);
                wmem_map_insert(admitted_end, wmem_strdup(wmem_file_scope(), terminal), seen);
            }
            *seen = (uint32_t)end;
            admitted_total += grow;
        }
    }
    unsigned refused = GPOINTER_TO_UINT(wmem_tree_lookup32_array(refused_blocks, tkey));
    if (!refused)
        return true;
    if (refused == 2) {
        expert_add_info_format(pinfo, item, &ei_export_limit, "Block ends at byte %" PRIu64 ", beyond the %u MiB an "
                               "exported image may hold: not exported", (uint64_t)offset + len, WMMP_EO_CAP >> 20);
        return false;
    }
    expert_add_info_format(pinfo, item, &ei_export_limit,
                           "Export Objects limit of %u MiB reached (preference wmmp.export_max_mb): block at offset "
                           "%u not exported", pref_export_max_mb, offset);
    return false;
}

typedef struct {
    char *signature;     /* the announcement's fields, to recognise a re-sent DOWNLOAD_INFO; NULL if none */
    char *name;
    uint32_t limit;       /* bytes accepted: the announced length, else the cap; 0 disables the image */
    bool has_length, has_crc32;
    uint32_t crc32;
    uint8_t *buf;         /* received bytes, `size` allocated */
    uint8_t *have;        /* one bit per byte of buf: received */
    uint32_t size, present, end;
    uint16_t max_block;
    uint64_t end_at;      /* where the transfer signalled its end (used when no length is known) */
    bool emitted;
} wmmp_image;

/* terminal (string, owned) -> wmmp_image; lives from the first tap call to the reset callback. */
static GHashTable *wmmp_images;

static uint64_t image_allocation(const wmmp_image *img)
{
    return img->buf ? (uint64_t)img->size + (img->size + 7) / 8 : 0;
}

static void image_free(void *p)
{
    wmmp_image *img = (wmmp_image *)p;
    images_allocated -= MIN(images_allocated, image_allocation(img));
    g_free(img->signature);
    g_free(img->name);
    g_free(img->buf);
    g_free(img->have);
    g_free(img);
}

/* Copies s, replacing what is unsafe or odd in a file name. */
static char *safe_name(const char *s, size_t len)
{
    char *out = g_strndup(s, MIN(len, WMMP_EO_NAME_MAX));
    for (char *c = out; *c; c++)
        if (!g_ascii_isalnum(*c) && !strchr(".-_+", *c))
            *c = '_';
    return out;
}

/* "http://host/dir/fw-1.2.bin?x=1" -> "fw-1.2.bin"; NULL when the URL names no file. */
static char *name_from_url(const char *url)
{
    const char *path = strstr(url, "://");
    path = path ? strchr(path + 3, '/') : strchr(url, '/');
    if (!path)
        return NULL; /* a bare host */
    size_t path_len = strcspn(path, "?#");
    const char *last = g_strrstr_len(path, (ssize_t)path_len, "/") + 1;
    size_t len = path_len - (size_t)(last - path);
    if (len == 0 || (len == 1 && last[0] == '.') || (len == 2 && last[0] == '.' && last[1] == '.'))
        return NULL;
    return safe_name(last, len);
}

static char *image_name(const char *url, const char *version, const char *terminal)
{
    char *name = (url && url[0]) ? name_from_url(url) : NULL;
    if (name)
        return name;
    const char *base = (version && version[0]) ? version : (terminal[0] ? terminal : "unknown");
    char *safe = safe_name(base, strlen(base));
    name = g_strdup_printf("firmware-%s.bin", safe);
    g_free(safe);
    return name;
}

static wmmp_image *image_new(char *name, char *signature)
{
    wmmp_image *img = g_new0(wmmp_image, 1);
    img->name = name;
    img->signature = signature;
    img->limit = WMMP_EO_CAP;
    return img;
}

static void on_download_info(const wmmp_eo_info *info, const char *terminal)
{
    char *signature = g_strdup_printf("%s|%s|%d:%u|%d:%u|%d:%u", info->url ? info->url : "",
                                      info->version ? info->version : "", info->has_length, info->length,
                                      info->has_crc32, info->crc32, info->has_transaction, info->transaction_id);
    wmmp_image *old = (wmmp_image *)g_hash_table_lookup(wmmp_images, terminal);
    if (old && old->signature && strcmp(old->signature, signature) == 0) {
        g_free(signature); /* the same announcement again (a retransmission): keep the image */
        return;
    }
    wmmp_image *img = image_new(image_name(info->url, info->version, terminal), signature);
    /* A length of 0 says nothing useful; treat it as absent. */
    if (info->has_length && info->length > 0) {
        img->has_length = true;
        img->limit = info->length <= WMMP_EO_CAP ? info->length : 0;
    }
    img->has_crc32 = info->has_crc32;
    img->crc32 = info->crc32;
    g_hash_table_replace(wmmp_images, g_strdup(terminal), img);
}

/* Makes room for `need` bytes (need <= limit); doubling keeps appends cheap when no length is known, but only
   while the images of the capture stay within the budget. False when even `need` does not fit. */
static bool image_reserve(wmmp_image *img, uint32_t need)
{
    if (need <= img->size)
        return true;
    uint64_t size = img->size ? img->size : 4096;
    while (size < need)
        size *= 2;
    size = MIN(size, (uint64_t)img->limit);
    /* the dissector admits at most the budget in block ends; bitmaps add an eighth */
    uint64_t budget = export_budget() + export_budget() / 8 + 4096, now = image_allocation(img);
    if (images_allocated - now + size + (size + 7) / 8 > budget)
        size = need;
    if (images_allocated - now + size + (size + 7) / 8 > budget)
        return false;
    images_allocated = images_allocated - now + size + (size + 7) / 8;
    size_t old_bits = (img->size + 7) / 8, new_bits = (size_t)(size + 7) / 8;
    img->buf = (uint8_t *)g_realloc(img->buf, (size_t)size);
    img->have = (uint8_t *)g_realloc(img->have, new_bits);
    memset(img->have + old_bits, 0, new_bits - old_bits);
    img->size = (uint32_t)size;
    return true;
}

/* Places one block; returns true when the image is now complete. */
static bool image_add_block(wmmp_image *img, const wmmp_eo_info *info)
{
    uint32_t len = info->block_length;
    uint64_t block_end = (uint64_t)info->offset + len;

    if (len > 0 && !info->data)
        return false; /* the core had no bytes for it */
    /* Where the transfer said it ends; remembered because blocks may arrive out of order (the short last
       block before a missing middle one). A later signal replaces an earlier one. */
    if (info->status == 2 || len == 0 || len < img->max_block)
        img->end_at = block_end;
    img->max_block = MAX(img->max_block, (uint16_t)len);

    if (len > 0 && info->offset < img->limit) {
        uint32_t end = (uint32_t)MIN(block_end, (uint64_t)img->limit);
        if (!image_reserve(img, end))
            return false;
        memcpy(img->buf + info->offset, info->data, end - info->offset);
        /* Count each byte once, so that retransmitted or overlapping blocks do not inflate `present`. */
        for (uint32_t i = info->offset; i < end; i++) {
            if (!(img->have[i / 8] & (1u << (i % 8)))) {
                img->have[i / 8] |= (uint8_t)(1u << (i % 8));
                img->present++;
            }
        }
        img->end = MAX(img->end, end);
    }
    if (img->has_length)
        return img->limit > 0 && img->present == img->limit;
    /* end_at beyond the cap never equals end, so a truncated image is never emitted. */
    return img->end > 0 && img->end_at == img->end && img->present == img->end;
}

static void image_emit(wmmp_image *img, const char *terminal, packet_info *pinfo, export_object_list_t *list)
{
    uint32_t total = img->has_length ? img->limit : img->end;
    export_object_entry_t *entry = g_new0(export_object_entry_t, 1);

    entry->pkt_num = pinfo->num;
    entry->hostname = g_strdup(terminal);
    entry->content_type = g_strdup("application/octet-stream");
    if (img->has_crc32 && wmmp_crc32(img->buf, total) != img->crc32) {
        const char *dot = strrchr(img->name, '.');
        if (dot && dot != img->name)
            entry->filename = g_strdup_printf("%.*s-CRC-BAD%s", (int)(dot - img->name), img->name, dot);
        else
            entry->filename = g_strdup_printf("%s-CRC-BAD", img->name);
    } else {
        entry->filename = g_strdup(img->name);
    }
    /* eo_free_entry() g_free()s every field, so the entry gets its own copy of the bytes. */
    entry->payload_len = total;
    entry->payload_data = (uint8_t *)g_memdup2(img->buf, total);
    list->add_entry(list->gui_data, entry);

    /* Keep only the fact that it was emitted. */
    img->emitted = true;
    images_allocated -= MIN(images_allocated, image_allocation(img));
    g_free(img->buf);
    g_free(img->have);
    img->buf = img->have = NULL;
    img->size = 0;
}

static tap_packet_status wmmp_eo_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_,
                                        const void *data, tap_flags_t flags _U_)
{
    export_object_list_t *list = (export_object_list_t *)tapdata;
    const wmmp_eo_info *info = (const wmmp_eo_info *)data;
    const char *terminal;
    wmmp_image *img;

    if (!info)
        return TAP_PACKET_DONT_REDRAW;
    terminal = info->terminal ? info->terminal : "";
    if (!wmmp_images)
        wmmp_images = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, image_free);

    if (info->kind == WMMP_EO_DOWNLOAD_INFO) {
        on_download_info(info, terminal);
        return TAP_PACKET_DONT_REDRAW;
    }

    img = (wmmp_image *)g_hash_table_lookup(wmmp_images, terminal);
    if (!img) {
        img = image_new(image_name(NULL, NULL, terminal), NULL);
        g_hash_table_insert(wmmp_images, g_strdup(terminal), img);
    }
    if (img->emitted || !image_add_block(img, info))
        return TAP_PACKET_DONT_REDRAW;
    image_emit(img, terminal, pinfo, list);
    return TAP_PACKET_REDRAW;
}

/* Called when the tap is reset (a new capture, a retap, the dialog closing): forget everything, so that
   the next pass over the packets emits each image again, once. */
static void wmmp_eo_reset(void)
{
    if (wmmp_images) {
        g_hash_table_destroy(wmmp_images);
        wmmp_images = NULL;
    }
    images_allocated = 0;
}

void wmmp_register_export_objects(int proto, module_t *module)
{
    static ei_register_info ei[] = {
        { &ei_export_limit, { "wmmp.export.limit", PI_UNDECODED, PI_WARN,
                              "Export Objects limit reached (a block beyond the 16 MiB of an image, or the preference "
                              "wmmp.export_max_mb): firmware block not exported", EXPFILL } },
    };
    /* Registers tap "wmmp_eo" (the protocol's filter name + "_eo") and the --export-objects name "wmmp". */
    wmmp_eo_tap = register_export_object(proto, wmmp_eo_packet, wmmp_eo_reset);
    expert_register_field_array(expert_register_protocol(proto), ei, array_length(ei));
    register_init_routine(export_init);
    prefs_register_uint_preference(module, "export_max_mb", "Export Objects limit (MiB)",
                                   "Firmware images of a capture together reserve at most this many MiB (the sum "
                                   "over terminals of the highest block end); further blocks are not exported "
                                   "(expert item wmmp.export.limit)", 10, &pref_export_max_mb);
}
