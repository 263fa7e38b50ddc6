/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wmmp_header.h"

#include <string.h>

#include "wmmp_tables.h"
#include "wmmp_tlv.h"

wmmp_err wmmp_header_decode(const uint8_t *buf, size_t len, wmmp_header *h)
{
    if (!buf || len < WMMP_HEADER_LEN)
        return WMMP_ERR_TRUNCATED_HEADER;
    h->total_length = wmmp_load16(buf);
    h->command_id = wmmp_load16(buf + 2);
    h->sequence_id = wmmp_load32(buf + 4);
    h->version = wmmp_load16(buf + 8);
    h->safe_flag = buf[10];
    h->reserved = buf[11];
    memcpy(h->terminal_serial, buf + 12, WMMP_SERIAL_LEN);
    if (h->total_length < WMMP_HEADER_LEN)
        return WMMP_ERR_LENGTH_TOO_SMALL;
    if (h->total_length > len)
        return WMMP_ERR_LENGTH_BEYOND_BUFFER;
    return WMMP_OK;
}

void wmmp_header_encode(const wmmp_header *h, uint8_t out[WMMP_HEADER_LEN])
{
    wmmp_store16(out, h->total_length);
    wmmp_store16(out + 2, h->command_id);
    wmmp_store32(out + 4, h->sequence_id);
    wmmp_store16(out + 8, h->version);
    out[10] = h->safe_flag;
    out[11] = h->reserved;
    memcpy(out + 12, h->terminal_serial, WMMP_SERIAL_LEN);
}

void wmmp_header_init(wmmp_header *h, uint16_t command_id, uint32_t sequence_id, uint8_t safe_flag,
                      const char *serial)
{
    memset(h, 0, sizeof *h);
    h->total_length = WMMP_HEADER_LEN;
    h->command_id = command_id;
    h->sequence_id = sequence_id;
    h->version = WMMP_VERSION_3_0;
    h->safe_flag = safe_flag;
    if (serial)
        memcpy(h->terminal_serial, serial, strnlen(serial, WMMP_SERIAL_LEN));
}

void wmmp_serial_str(const uint8_t serial[WMMP_SERIAL_LEN], char out[WMMP_SERIAL_LEN + 1])
{
    memcpy(out, serial, WMMP_SERIAL_LEN);
    out[WMMP_SERIAL_LEN] = '\0';
}

int wmmp_header_plausible(const uint8_t *buf, size_t len)
{
    if (!buf || len < WMMP_HEADER_LEN)
        return 0;
    uint16_t total = wmmp_load16(buf);
    uint8_t major = buf[8];
    return total >= WMMP_HEADER_LEN && total <= len && (major == 0x02 || major == 0x03) && buf[11] == 0 &&
           wmmp_command_lookup(wmmp_load16(buf + 2)) != NULL;
}
