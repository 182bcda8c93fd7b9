/* CRC-32 IEEE 802.3, half-byte table.  See th_crc32.h. */
#include "th_crc32.h"

/* crc of each 4-bit value shifted through the reflected polynomial 0xEDB88320. */
static const uint32_t kNibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
    0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t th_crc32_update(uint32_t crc, const uint8_t *data, uint32_t len)
{
    crc = ~crc;
    while (len--) {
        crc ^= *data++;
        crc = (crc >> 4) ^ kNibble[crc & 0x0fu];
        crc = (crc >> 4) ^ kNibble[crc & 0x0fu];
    }
    return ~crc;
}
