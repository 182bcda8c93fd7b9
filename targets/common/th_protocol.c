/* The DUT side of the tinyhil serial protocol.  Wire format: targets/PROTOCOL.md.
 * Command names and m-/e- replies follow the EEMBC / MLPerf Tiny runner where the two overlap.
 */
#include "th_protocol.h"

#include <string.h>

#include "model.h"
#include "th_crc32.h"
#include "th_port.h"
#include "th_protocol_constants.h"

#ifdef TH_PROFILE_OPS
#include "th_profile.h"
#endif

#define HEX_CHUNK_BYTES 32u /* bytes per write while printing hex */

static char s_line[TH_LINE_MAX_BYTES + 1u];
static uint32_t s_db_expect; /* bytes announced by `db load`, 0 when no hex load is in progress */
static uint32_t s_db_have;

/* ---- output: a small buffer so each reply line leaves in one th_port_write (one packet on a socket) ---- */
#define OUT_BYTES 64u
static uint8_t s_out[OUT_BYTES];
static uint32_t s_out_len;

static void flush(void)
{
    if (s_out_len > 0u) {
        th_port_write(s_out, s_out_len);
        s_out_len = 0;
    }
}

static void put_bytes(const char *s, uint32_t n)
{
    while (n-- > 0u) {
        if (s_out_len == OUT_BYTES) flush();
        s_out[s_out_len++] = (uint8_t)*s++;
    }
}

static void put(const char *s) { put_bytes(s, (uint32_t)strlen(s)); }

static void put_u64(uint64_t v)
{
    char buf[21];
    int i = 20;
    buf[20] = '\0';
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    put(&buf[i]);
}

static void put_hex(const uint8_t *p, uint32_t n)
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

static void end_line(void)
{
    put(TH_LINE_TERMINATOR);
    flush();
}

static void put_line(const char *a, const char *b)
{
    put(a);
    put(b);
    end_line();
}

static void put_kv(const char *key, const char *text, uint64_t number, int is_text)
{
    put(TH_MSG_PROFILE);
    put(key);
    put("-");
    if (is_text) {
        put(text);
    } else {
        put_u64(number);
    }
    end_line();
}

/* ---- parsing ------------------------------------------------------------------------------------------ */
/* Parse an optional decimal after spaces; returns 1 if one was found (and fits u32), 0 if none, -1 if bad. */
static int parse_u32(const char **p, uint32_t *out)
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

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* ---- commands ----------------------------------------------------------------------------------------- */
static void error_line(const char *what, uint64_t number)
{
    put(TH_ERR_PREFIX);
    put(what);
    put_u64(number);
    end_line();
}

static void cmd_profile(void)
{
    uint64_t t0 = th_port_timer_read();
    uint64_t t1 = th_port_timer_read();
    put_kv("protocol", 0, TH_PROTOCOL_VERSION, 0);
    put_kv("board", th_port_board_name(), 0, 1);
    put_kv("kind", th_port_target_kind(), 0, 1);
    put_kv("model", th_model_name, 0, 1);
    put_kv("timer_unit", th_port_timer_unit(), 0, 1);
    put_kv("timer_overhead", 0, t1 - t0, 0);
    put_kv("arena_bytes", 0, TH_MODEL_ARENA_BYTES, 0);
    put_kv("operators", 0, TH_MODEL_NUM_OPERATORS, 0);
    put_kv("input_bytes", 0, TH_MODEL_INPUT_BYTES, 0);
    put_kv("output_bytes", 0, TH_MODEL_OUTPUT_BYTES, 0);
    put_kv("frame_payload_bytes", 0, TH_FRAME_PAYLOAD_BYTES, 0);
    put_kv("line_max_bytes", 0, TH_LINE_MAX_BYTES, 0);
#ifdef TH_PROFILE_OPS
    put_kv("profile_ops", 0, 1, 0);
#else
    put_kv("profile_ops", 0, 0, 0);
#endif
}

static void cmd_db_load(const char *args)
{
    uint32_t n = 0;
    if (parse_u32(&args, &n) != 1 || n == 0u || n > TH_MODEL_INPUT_BYTES) {
        s_db_expect = 0;
        error_line("db-load-size-max-", TH_MODEL_INPUT_BYTES);
        return;
    }
    s_db_expect = n;
    s_db_have = 0;
    put("m-[Expecting ");
    put_u64(n);
    put(" bytes]");
    end_line();
}

static void cmd_db_hex(const char *hex)
{
    uint32_t len = (uint32_t)strlen(hex);
    uint32_t i;
    if (s_db_expect == 0u) {
        put_line(TH_ERR_PREFIX, "db-not-loading-send-db-load-first");
        return;
    }
    if ((len & 1u) != 0u || s_db_have + len / 2u > s_db_expect) {
        error_line("db-overflow-or-odd-hex-expected-bytes-", s_db_expect);
        s_db_expect = 0;
        return;
    }
    for (i = 0; i < len; i += 2u) {
        int hi = hex_value(hex[i]);
        int lo = hex_value(hex[i + 1u]);
        if (hi < 0 || lo < 0) {
            s_db_expect = 0;
            error_line("db-bad-hex-at-", i);
            return;
        }
        th_model_input[s_db_have++] = (uint8_t)((hi << 4) | lo);
    }
    if (s_db_have == s_db_expect) {
        s_db_expect = 0;
        put_line(TH_MSG_LOAD_DONE, "");
    }
}

static uint8_t get_byte(void) { return (uint8_t)th_port_getc(); }

static void frame_reply(const char *msg, uint16_t seq, const char *reason)
{
    put(msg);
    put_u64(seq);
    if (reason != 0) {
        put("-");
        put(reason);
    }
    end_line();
}

static int header_is(const uint8_t *h, uint16_t seq, uint32_t len)
{
    return h[0] == TH_FRAME_MAGIC && h[1] == (uint8_t)seq && h[2] == (uint8_t)(seq >> 8) &&
           h[3] == (uint8_t)len && h[4] == (uint8_t)(len >> 8);
}

/* Receive `total` bytes in frames of `chunk` payload bytes into th_model_input.  Stop-and-wait: the host
 * sends the next frame after m-ack-<seq>.  A bad header or CRC is NAKed once and the receiver then hunts,
 * byte by byte, for the exact 5-byte header it expects (next seq or a duplicate of the previous one), so
 * leftover bytes of a damaged frame can never be mistaken for data.  Returns 1 when complete, 0 on abort. */
static int bulk_load(uint32_t total, uint32_t chunk)
{
    uint8_t h[TH_FRAME_HEADER_BYTES];
    uint32_t off = 0;
    uint16_t seq = 0;
    int synced = 1;
    int i;
    while (off < total) {
        uint32_t want = total - off < chunk ? total - off : chunk;
        uint32_t len, k, crc_rx = 0, crc;
        uint16_t got_seq;
        uint8_t *dst;
        if (synced) {
            for (i = 0; i < (int)TH_FRAME_HEADER_BYTES; i++) h[i] = get_byte();
        } else {
            memmove(h, h + 1, TH_FRAME_HEADER_BYTES - 1u);
            h[TH_FRAME_HEADER_BYTES - 1u] = get_byte();
        }
        if (header_is(h, seq, want)) {
            got_seq = seq;
            len = want;
            dst = th_model_input + off;
        } else if (off > 0u && header_is(h, (uint16_t)(seq - 1u), chunk)) {
            got_seq = (uint16_t)(seq - 1u); /* duplicate: our ack was lost; check it, re-ack, keep nothing */
            len = chunk;
            dst = 0;
        } else if (header_is(h, TH_FRAME_ABORT_SEQ, 0)) {
            got_seq = TH_FRAME_ABORT_SEQ;
            len = 0;
            dst = 0;
        } else {
            if (synced) frame_reply(TH_MSG_NAK, seq, "header");
            synced = 0;
            continue;
        }
        crc = th_crc32_update(0, h, TH_FRAME_HEADER_BYTES);
        for (k = 0; k < len; k++) {
            uint8_t b = get_byte();
            crc = th_crc32_update(crc, &b, 1);
            if (dst != 0) dst[k] = b;
        }
        for (k = 0; k < TH_FRAME_CRC_BYTES; k++) crc_rx |= (uint32_t)get_byte() << (8u * k);
        if (crc_rx != crc) {
            if (got_seq != TH_FRAME_ABORT_SEQ) frame_reply(TH_MSG_NAK, got_seq, "crc");
            synced = 0;
            continue;
        }
        if (got_seq == TH_FRAME_ABORT_SEQ) {
            put_line("m-bload-abort", "");
            return 0;
        }
        frame_reply(TH_MSG_ACK, got_seq, 0);
        synced = 1;
        if (dst != 0) {
            off += len;
            seq++;
        }
    }
    put_line(TH_MSG_LOAD_DONE, "");
    return 1;
}

static void cmd_bload(const char *args)
{
    uint32_t n = 0, chunk = TH_FRAME_PAYLOAD_BYTES;
    if (parse_u32(&args, &n) != 1 || n == 0u || n > TH_MODEL_INPUT_BYTES) {
        error_line("bload-size-max-", TH_MODEL_INPUT_BYTES);
        return;
    }
    if (parse_u32(&args, &chunk) < 0 || chunk == 0u || chunk > TH_FRAME_PAYLOAD_BYTES) {
        error_line("bload-payload-max-", TH_FRAME_PAYLOAD_BYTES);
        return;
    }
    s_db_expect = 0;
    put("m-bload-");
    put_u64(n);
    put("-");
    put_u64(chunk);
    end_line();
    (void)bulk_load(n, chunk);
}

static void cmd_infer(const char *args)
{
    uint32_t n = 1, warmup = 0, i;
    if (parse_u32(&args, &n) < 0 || parse_u32(&args, &warmup) < 0 || n == 0u) {
        put_line(TH_ERR_PREFIX, "infer-usage-infer-N-W");
        return;
    }
    for (i = 0; i < warmup; i++) th_model_invoke();
    th_port_timestamp();
    for (i = 0; i < n; i++) {
        uint64_t t0 = th_port_timer_read();
        uint64_t t1;
        th_model_invoke();
        t1 = th_port_timer_read();
        put(TH_MSG_LAP);
        put(th_port_timer_unit());
        put("-");
        put_u64(t1 - t0);
        end_line();
    }
    th_port_timestamp();
    put_line(TH_MSG_INFER_DONE, "");
}

#ifdef TH_PROFILE_OPS
/* Per-operator timer deltas of the last `profile-ops` inference (hooks from th_profile.h). */
static uint64_t s_op_t0;
static uint64_t s_op_count[TH_MODEL_NUM_OPERATORS];

void th_profile_op_begin(int op_index)
{
    (void)op_index;
    s_op_t0 = th_port_timer_read();
}

void th_profile_op_end(int op_index)
{
    if (op_index >= 0 && op_index < (int)TH_MODEL_NUM_OPERATORS) {
        s_op_count[op_index] = th_port_timer_read() - s_op_t0;
    }
}

static void cmd_profile_ops(void)
{
    uint32_t i;
    uint64_t t0 = th_port_timer_read();
    uint64_t total;
    th_model_invoke();
    total = th_port_timer_read() - t0;
    for (i = 0; i < TH_MODEL_NUM_OPERATORS; i++) {
        put("m-op-");
        put_u64(i);
        put("-");
        put(th_port_timer_unit());
        put("-");
        put_u64(s_op_count[i]);
        end_line();
    }
    put("m-op-total-");
    put(th_port_timer_unit());
    put("-");
    put_u64(total);
    end_line();
}
#endif

/* ---- peak stack: paint the free stack, run one inference, find the lowest word that changed ----------
 * The stack bounds are the linker script's __stack_limit / __stack_top (targets/boards/cortex-m.ld.in).
 * They are weak references, so a port whose linker script lacks them still links and answers
 * e-stack-unknown.  Only memory below the current stack pointer is painted: nothing lives there (no
 * interrupts are enabled while a command runs). */
extern uint8_t __stack_limit[] __attribute__((weak));
extern uint8_t __stack_top[] __attribute__((weak));
#define STACK_PAINT 0xC5A3E1F7u
#define STACK_PAINT_MARGIN_BYTES 64u /* left unpainted below the painter's own frame */

static __attribute__((noinline)) uintptr_t stack_pointer(void)
{
    volatile uint32_t marker = 0;
    return (uintptr_t)&marker; /* within a few words of SP: good enough for the base and the paint limit */
}

static __attribute__((noinline)) void stack_paint(uintptr_t lo, uintptr_t hi)
{
    volatile uint32_t *p = (volatile uint32_t *)lo;
    while ((uintptr_t)p < hi) *p++ = STACK_PAINT;
}

static void cmd_stack(void)
{
    uintptr_t lo = ((uintptr_t)__stack_limit + 3u) & ~(uintptr_t)3u;
    uintptr_t top = (uintptr_t)__stack_top;
    uintptr_t sp, p;
    if (__stack_limit == 0 || __stack_top == 0 || top <= lo) {
        put_line(TH_ERR_PREFIX, "stack-unknown-define-__stack_limit-and-__stack_top-in-the-linker-script");
        return;
    }
    sp = stack_pointer();
    stack_paint(lo, sp - STACK_PAINT_MARGIN_BYTES);
    th_model_invoke();
    for (p = lo; p < top && *(volatile uint32_t *)p == STACK_PAINT; p += 4u) {
    }
    if (p == lo) {
        error_line("stack-overflow-size-", (uint64_t)(top - lo));
        return;
    }
    put("m-stack-size-");
    put_u64((uint64_t)(top - lo));
    end_line();
    put("m-stack-base-");
    put_u64((uint64_t)(top - sp));
    end_line();
    put("m-stack-peak-");
    put_u64((uint64_t)(top - p));
    end_line();
}

static void cmd_unknown(const char *line)
{
    char shown[33];
    uint32_t i;
    for (i = 0; i < sizeof shown - 1u && line[i] != '\0'; i++) {
        shown[i] = (line[i] >= 0x20 && line[i] < 0x7f) ? line[i] : '?';
    }
    shown[i] = '\0';
    put_line(TH_ERR_PREFIX "unknown-command-", shown);
}

void th_protocol_execute(char *line)
{
    if (line[0] == '\0') {
        return; /* an empty command is a ping: only m-ready */
    } else if (strcmp(line, "name") == 0) {
        put(TH_MSG_NAME);
        put(th_port_board_name());
        put("-");
        put_line(th_model_name, "");
    } else if (strcmp(line, "profile") == 0) {
        cmd_profile();
    } else if (starts_with(line, "db load ")) {
        cmd_db_load(line + 8);
    } else if (starts_with(line, "db ")) {
        cmd_db_hex(line + 3);
    } else if (starts_with(line, "bload ")) {
        cmd_bload(line + 6);
    } else if (strcmp(line, "infer") == 0 || starts_with(line, "infer ")) {
        cmd_infer(line + 5);
    } else if (strcmp(line, "stack") == 0) {
        cmd_stack();
    } else if (strcmp(line, "results") == 0) {
        put(TH_MSG_RESULTS_HEX);
        put_hex(th_model_output, TH_MODEL_OUTPUT_BYTES);
        end_line();
#ifdef TH_PROFILE_OPS
    } else if (strcmp(line, "profile-ops") == 0) {
        cmd_profile_ops();
#endif
    } else {
        cmd_unknown(line);
    }
}

/* Read one command up to '%' (CR/LF ignored).  Returns 0 if it did not fit the line buffer. */
static int read_command(void)
{
    uint32_t n = 0;
    int fits = 1;
    for (;;) {
        int c = th_port_getc();
        if (c == TH_COMMAND_TERMINATOR) break;
        if (c == '\r' || c == '\n') continue;
        if (n < TH_LINE_MAX_BYTES) {
            s_line[n++] = (char)c;
        } else {
            fits = 0;
        }
    }
    s_line[n] = '\0';
    return fits;
}

void th_protocol_run(void)
{
    put_line(TH_MSG_READY, "");
    for (;;) {
        if (read_command()) {
            th_protocol_execute(s_line);
        } else {
            s_db_expect = 0;
            error_line("line-too-long-max-", TH_LINE_MAX_BYTES);
        }
        put_line(TH_MSG_READY, "");
    }
}
