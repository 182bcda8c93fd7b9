/* Clip crops on the DUT (targets/PROTOCOL.md, "Clip crops"; issue 12, item 8): the host uploads a raw-waveform
 * clip once, already quantized, into a clip buffer outside the tensor arena (`clip load N [P]%`, the frames of
 * `bload`); `clip crop S L F%` then copies clip bytes [S, S+L) into th_model_input[0..L), writing the fill byte F
 * where that range lies outside the clip (the zero padding of the evaluation protocol, already quantized), and
 * answers the CRC-32 of the L bytes written so the host can check the crop equals its own, byte for byte.
 *
 * The buffer: a build may give it a fixed size with -DTH_CLIP_BYTES=<n> (the host DUT); otherwise it is the
 * RAM the linker script leaves free above the stack (symbols __clip_start / __clip_end of
 * targets/boards/cortex-m.ld.in), so its size follows the board's RAM and the model's arena.  A build whose
 * linker script defines neither (ESP-IDF, PlatformIO's registry platforms) has no clip buffer: profile%
 * reports clip_bytes 0 and the host sends host-cut crops (harness/crops.py).
 */
#include <stdint.h>
#include <string.h>

#include "model.h"
#include "th_commands.h"
#include "th_crc32.h"
#include "th_lineio.h"
#include "th_protocol_constants.h"

#ifdef TH_CLIP_BYTES
static uint8_t s_clip_static[TH_CLIP_BYTES];
#define CLIP_BASE s_clip_static
#define CLIP_CAPACITY ((uint32_t)(TH_CLIP_BYTES))
#else
/* Weak: 0 when the linker script does not define them (no clip buffer). */
extern uint8_t __clip_start[] __attribute__((weak));
extern uint8_t __clip_end[] __attribute__((weak));
#define CLIP_BASE __clip_start
#define CLIP_CAPACITY linker_capacity()
static uint32_t linker_capacity(void)
{
    uintptr_t start = (uintptr_t)__clip_start, end = (uintptr_t)__clip_end;
    return (start != 0u && end > start) ? (uint32_t)(end - start) : 0u;
}
#endif

/* The words after "clip " of the two sub-commands ("load", "crop"), from the generated header. */
#define SUBCOMMAND(cmd) ((cmd) + sizeof(TH_CMD_CLIP))

static uint32_t s_clip_bytes; /* bytes of the loaded clip; 0 while none is (or a load was aborted) */

uint32_t th_clip_capacity(void) { return CLIP_CAPACITY; }

static int word_is(const char *args, const char *word, const char **rest)
{
    size_t n = strlen(word);
    if (strncmp(args, word, n) != 0 || (args[n] != ' ' && args[n] != '\0')) return 0;
    *rest = args + n;
    return 1;
}

/* An optional '-' then a decimal (after spaces), magnitude below 2^31; returns 1, or -1 if missing/malformed. */
static int parse_i32(const char **p, int32_t *out)
{
    uint32_t magnitude = 0;
    int negative = 0;
    while (**p == ' ') (*p)++;
    if (**p == '-') {
        negative = 1;
        (*p)++;
        if (**p < '0' || **p > '9') return -1;
    }
    if (th_parse_u32(p, &magnitude) != 1 || magnitude > 0x7FFFFFFFu) return -1;
    *out = negative ? -(int32_t)magnitude : (int32_t)magnitude;
    return 1;
}

static void announce_load(uint32_t n, uint32_t chunk)
{
    th_put(TH_MSG_CLIP_LOAD);
    th_put_u64(n);
    th_put("-");
    th_put_u64(chunk);
    th_end_line();
}

/* The optional payload size P of a load (default and maximum TH_FRAME_PAYLOAD_BYTES) and the start of a load of
 * `bytes` frame bytes: the old clip is dropped (no crops until this load completes) and the load announced.
 * Returns the payload size, or 0 after answering an error. */
static uint32_t start_load(const char *args, uint32_t bytes)
{
    uint32_t chunk = TH_FRAME_PAYLOAD_BYTES;
    if (th_parse_u32(&args, &chunk) < 0 || chunk == 0u || chunk > TH_FRAME_PAYLOAD_BYTES) {
        th_error_line(TH_ERR_BLOAD_PAYLOAD, TH_FRAME_PAYLOAD_BYTES);
        return 0u;
    }
    th_hex_load_cancel();
    s_clip_bytes = 0;
    announce_load(bytes, chunk);
    return chunk;
}

static void clip_load(const char *args)
{
    uint32_t n = 0, chunk = 0;
    if (th_parse_u32(&args, &n) != 1 || n == 0u || n > CLIP_CAPACITY) {
        th_error_line(TH_ERR_CLIP_SIZE, CLIP_CAPACITY);
        return;
    }
    chunk = start_load(args, n);
    if (chunk != 0u && th_bulk_receive(CLIP_BASE, n, chunk)) s_clip_bytes = n;
}

/* The bit reader of `clip pack` streams: bits MSB first. */
typedef struct {
    const uint8_t *p, *end;
    uint32_t acc;  /* the next `have` bits, left-aligned */
    uint32_t have;
} bit_reader;

/* The next `count` (0..8) bits as a number; 0 and *ok = 0 past the end of the stream. */
static uint32_t read_bits(bit_reader *br, uint32_t count, int *ok)
{
    uint32_t v;
    if (count == 0u) return 0u;
    while (br->have < count) {
        if (br->p == br->end) {
            *ok = 0;
            return 0u;
        }
        br->acc |= (uint32_t)(*br->p++) << (24u - br->have);
        br->have += 8u;
    }
    v = br->acc >> (32u - count);
    br->acc <<= count;
    br->have -= count;
    return v;
}

/* Decoding of `clip pack` (format: harness/protocol/clip_pack.py and targets/PROTOCOL.md, "Clip crops"):
 * per block of TH_CLIP_PACK_BLOCK samples a 6-bit header (predictor order 0..2, code 0..9), then per sample
 * a Rice code (k = code 0..7), 8 raw bits (code 8) or nothing (code 9: residual 0); prediction and residual
 * modulo 256.  Returns 1 when `in` decodes to exactly n bytes with fewer than 8 bits left over, else 0. */
static int pack_decode(const uint8_t *in, uint32_t e, uint8_t *out, uint32_t n, uint8_t z)
{
    bit_reader br = {in, in + e, 0u, 0u};
    uint32_t o = 0u;
    uint8_t x1 = z, x2 = z;
    int ok = 1;
    while (o < n && ok) {
        uint32_t header = read_bits(&br, 6u, &ok), order = header >> 4, code = header & 15u;
        uint32_t m = n - o < TH_CLIP_PACK_BLOCK ? n - o : TH_CLIP_PACK_BLOCK;
        if (order > 2u || code > 9u) return 0;
        for (; m > 0u && ok; --m) {
            uint32_t u = 0u;
            uint8_t p = order == 0u ? z : (order == 1u ? x1 : (uint8_t)(2u * x1 - x2));
            if (code == 8u) {
                u = read_bits(&br, 8u, &ok);
            } else if (code < 8u) {
                uint32_t q = 0u;
                while (read_bits(&br, 1u, &ok) == 0u && ok) {
                    if (++q > (255u >> code)) return 0;
                }
                u = (q << code) | read_bits(&br, code, &ok);
            }
            x2 = x1;
            x1 = (uint8_t)(p + (uint8_t)((u & 1u) ? ~(u >> 1) : (u >> 1)));
            out[o++] = x1;
        }
    }
    return ok && o == n && br.p == br.end && br.have < 8u;
}

/* `clip pack Z N E [P]`: E packed bytes (zero point Z) received into the buffer after the clip's N bytes, then
 * decoded in front of them; the frames and their rules are those of `clip load` (announced as
 * m-clip-load-E-P).  N + E must fit the buffer. */
static void clip_pack(const char *args)
{
    uint32_t z = 0, n = 0, e = 0, chunk = 0;
    if (th_parse_u32(&args, &z) != 1 || z > 0xFFu || th_parse_u32(&args, &n) != 1 ||
        th_parse_u32(&args, &e) != 1) {
        th_put_line(TH_ERR_CLIP_USAGE, "");
        return;
    }
    if (n == 0u || e == 0u || n > CLIP_CAPACITY || e > CLIP_CAPACITY - n) {
        th_error_line(TH_ERR_CLIP_SIZE, CLIP_CAPACITY);
        return;
    }
    chunk = start_load(args, e);
    if (chunk != 0u && th_bulk_receive(CLIP_BASE + n, e, chunk) && pack_decode(CLIP_BASE + n, e, CLIP_BASE, n, (uint8_t)z)) {
        s_clip_bytes = n; /* else no clip: `clip crop` answers e-clip-empty and the host loads it again */
    }
}

static void put_crc_hex(uint32_t crc)
{
    uint8_t be[4];
    be[0] = (uint8_t)(crc >> 24);
    be[1] = (uint8_t)(crc >> 16);
    be[2] = (uint8_t)(crc >> 8);
    be[3] = (uint8_t)crc;
    th_put_hex(be, 4);
}

/* Copy clip[start .. start+len) into the input tensor, `fill` where the range lies outside the clip. */
static void clip_crop(const char *args)
{
    int32_t start = 0;
    uint32_t len = 0, fill = 0, i = 0;
    if (parse_i32(&args, &start) != 1 || th_parse_u32(&args, &len) != 1 || th_parse_u32(&args, &fill) != 1 ||
        fill > 0xFFu || th_parse_u32(&args, &i) != 0) {
        th_put_line(TH_ERR_CLIP_USAGE, "");
        return;
    }
    if (len == 0u || len > TH_MODEL_INPUT_BYTES) {
        th_error_line(TH_ERR_CLIP_CROP_SIZE, TH_MODEL_INPUT_BYTES);
        return;
    }
    if (s_clip_bytes == 0u) {
        th_put_line(TH_ERR_CLIP_EMPTY, "");
        return;
    }
    /* Three runs: fill before the clip, clip bytes, fill after.  64-bit positions: start + len cannot wrap. */
    {
        int64_t lo = start, hi = (int64_t)start + (int64_t)len, clip_end = (int64_t)s_clip_bytes;
        int64_t from = lo < 0 ? 0 : (lo > clip_end ? clip_end : lo);
        int64_t to = hi < 0 ? 0 : (hi > clip_end ? clip_end : hi);
        uint32_t before = (uint32_t)(from > lo ? from - lo : 0);
        uint32_t copied = (uint32_t)(to > from ? to - from : 0);
        if (before > len) before = len;
        memset(th_model_input, (int)fill, before);
        if (copied > 0u) memcpy(th_model_input + before, CLIP_BASE + from, copied);
        memset(th_model_input + before + copied, (int)fill, len - before - copied);
    }
    th_put(TH_MSG_CLIP_CROP);
    put_crc_hex(th_crc32_update(0, th_model_input, len));
    th_end_line();
}

void th_cmd_clip(const char *args)
{
    const char *rest = 0;
    if (word_is(args, SUBCOMMAND(TH_CMD_CLIP_LOAD), &rest)) {
        clip_load(rest);
    } else if (word_is(args, SUBCOMMAND(TH_CMD_CLIP_CROP), &rest)) {
        clip_crop(rest);
    } else if (word_is(args, SUBCOMMAND(TH_CMD_CLIP_PACK), &rest)) {
        clip_pack(rest);
    } else {
        th_put_line(TH_ERR_CLIP_USAGE, "");
    }
}
