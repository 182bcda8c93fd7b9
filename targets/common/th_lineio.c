/* Line I/O of the serial protocol: buffered reply lines, decimal and hex formatting, argument parsing and
 * reading one '%'-terminated command (targets/PROTOCOL.md, "Lines").  API and contracts: th_lineio.h.
 */
#include "th_lineio.h"

#include <string.h>

#include "th_crc32.h"
#include "th_port.h"
#include "th_protocol_constants.h"

#define HEX_CHUNK_BYTES 32u /* bytes per write while printing hex */

/* ---- output: a small buffer so each reply line leaves in one th_port_write (one packet on a socket) ---- */
#define OUT_BYTES 64u
static uint8_t s_out[OUT_BYTES];
static uint32_t s_out_len;
static uint32_t s_line_crc; /* CRC-32 of the current reply line's text so far (protocol v2 line CRC) */

static char s_line[TH_LINE_MAX_BYTES + 1u];

static void flush(void)
{
    if (s_out_len > 0u) {
        th_port_write(s_out, s_out_len);
        s_out_len = 0;
    }
}

static void put_raw(const char *s, uint32_t n)
{
    while (n-- > 0u) {
        if (s_out_len == OUT_BYTES) flush();
        s_out[s_out_len++] = (uint8_t)*s++;
    }
}

static void put_bytes(const char *s, uint32_t n)
{
    s_line_crc = th_crc32_update(s_line_crc, (const uint8_t *)s, n);
    while (n-- > 0u) {
        if (s_out_len == OUT_BYTES) flush();
        s_out[s_out_len++] = (uint8_t)*s++;
    }
}

void th_put(const char *s) { put_bytes(s, (uint32_t)strlen(s)); }

void th_put_u64(uint64_t v)
{
    char buf[21];
    int i = 20;
    buf[20] = '\0';
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    th_put(&buf[i]);
}

void th_put_hex(const uint8_t *p, uint32_t n)
{
    static const char kDigits[] = "0123456789abcdef";
    char buf[2u * HEX_CHUNK_BYTES];
    while (n > 0u) {
        uint32_t k = n < HEX_CHUNK_BYTES ? n : HEX_CHUNK_BYTES;
        uint32_t i;
        for (i = 0; i < k; i++) {
            buf[2u * i] = kDigits[p[i] >> 4];
            buf[2u * i + 1u] = kDigits[p[i] & 0x0fu];
        }
        put_bytes(buf, 2u * k);
        p += k;
        n -= k;
    }
}

static const char kHexDigits[] = "0123456789abcdef";

void th_end_line(void)
{
    char mark[1u + TH_LINE_CRC_DIGITS];
    uint32_t i;
    mark[0] = TH_CRC_MARK;
    for (i = 0; i < TH_LINE_CRC_DIGITS; i++) mark[1u + i] = kHexDigits[(s_line_crc >> (28u - 4u * i)) & 0x0fu];
    put_raw(mark, sizeof mark);
    th_end_line_plain();
}

void th_end_line_plain(void)
{
    put_raw(TH_LINE_TERMINATOR, (uint32_t)strlen(TH_LINE_TERMINATOR));
    s_line_crc = 0;
    flush();
}

int th_strip_command_crc(char *line)
{
    uint32_t n = (uint32_t)strlen(line), i, want = 0;
    char *mark = strrchr(line, TH_CRC_MARK);
    if (mark == 0) return 0;
    if ((uint32_t)(line + n - mark) != 1u + TH_LINE_CRC_DIGITS) return -1;
    for (i = 1; i <= TH_LINE_CRC_DIGITS; i++) {
        const char *d = strchr(kHexDigits, mark[i]);
        if (d == 0 || *d == '\0') return -1;
        want = (want << 4) | (uint32_t)(d - kHexDigits);
    }
    if (th_crc32_update(0, (const uint8_t *)line, (uint32_t)(mark - line)) != want) return -1;
    *mark = '\0';
    return 1;
}

void th_put_line(const char *a, const char *b)
{
    th_put(a);
    th_put(b);
    th_end_line();
}

void th_error_line(const char *prefix, uint64_t number)
{
    th_put(prefix);
    th_put_u64(number);
    th_end_line();
}

/* ---- input ----------------------------------------------------------------------------------------------- */
int th_parse_u32(const char **p, uint32_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    while (*s == ' ') {
        s++;
    }
    if (*s == '\0') {
        *p = s;
        return 0;
    }
    if (*s < '0' || *s > '9') {
        return -1;
    }
    while (*s >= '0' && *s <= '9') {
        v = v * 10u + (uint64_t)(*s++ - '0');
        if (v > 0xffffffffu) {
            return -1;
        }
    }
    if (*s != '\0' && *s != ' ') {
        return -1;
    }
    *out = (uint32_t)v;
    *p = s;
    return 1;
}

char *th_read_command(void)
{
    uint32_t n = 0;
    int fits = 1;
    for (;;) {
        int c = th_port_getc();
        if (c == TH_COMMAND_TERMINATOR) break;
        if (c == '\r' || c == '\n' || c == 0) continue; /* NUL: the host's fill after frames or a resync */
        if (n < TH_LINE_MAX_BYTES) {
            s_line[n++] = (char)c;
        } else {
            fits = 0;
        }
    }
    s_line[n] = '\0';
    return fits ? s_line : 0;
}
