/* CRC-32 IEEE 802.3 (reflected polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF): the value zlib.crc32
 * computes.  Chained like zlib: crc = th_crc32_update(0, a, na); crc = th_crc32_update(crc, b, nb).
 * Implementation: a 16-entry (64-byte, in flash) half-byte table, two lookups per byte -- a middle ground
 * between the bitwise loop (no table, 8 steps per byte) and the 1 KB byte table.
 */
#ifndef TH_CRC32_H
#define TH_CRC32_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint32_t th_crc32_update(uint32_t crc, const uint8_t *data, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* TH_CRC32_H */
