/* The DUT side of the tinyhil serial protocol: the command loop, the dispatcher and the readable commands
 * (name, profile, db load, db, results).  Wire format: targets/PROTOCOL.md.  The other commands live with
 * their concern: th_bulk_load.c (bload frames), th_measure.c (infer, profile-ops, stack); the line I/O they
 * share is th_lineio.c.  Command names and m-/e- replies follow the EEMBC / MLPerf Tiny runner where the two
 * overlap; every name and reply prefix comes from the generated th_protocol_constants.h.
 */
#include "th_protocol.h"

#include <string.h>

#include "model.h"
#include "th_commands.h"
#include "th_lineio.h"
#include "th_port.h"
#include "th_protocol_constants.h"

/* Board identity comes from the build, once for every port, not from port functions: harness/build.py passes
 * both for boards and twins, harness/protocol/hostdut.py for the host DUT.  Each is an expression of type
 * const char * (normally a string literal, e.g. -DTH_BOARD_NAME="stm32f746"). */
#ifndef TH_BOARD_NAME
#error "TH_BOARD_NAME is not defined: build with -DTH_BOARD_NAME=\"<board name from boards.yaml>\""
#endif
#ifndef TH_TARGET_KIND
#error "TH_TARGET_KIND is not defined: build with -DTH_TARGET_KIND=\"twin\" (QEMU twin) or \"board\" (hardware)"
#endif

/* The arguments of a command line that starts with `cmd` and one space (sizeof counts the NUL: one past it). */
#define ARGS_AFTER(line, cmd) ((line) + sizeof(cmd))

static uint32_t s_db_expect; /* bytes announced by `db load`, 0 when no hex load is in progress */
static uint32_t s_db_have;

void th_hex_load_cancel(void) { s_db_expect = 0; }

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One `m-profile-<key>-<value>` line; the value is text when is_text, else the number. */
static void put_kv(const char *key, const char *text, uint64_t number, int is_text)
{
    th_put(TH_MSG_PROFILE);
    th_put(key);
    th_put("-");
    if (is_text) {
        th_put(text);
    } else {
        th_put_u64(number);
    }
    th_end_line();
}

static void cmd_profile(void)
{
    uint64_t t0 = th_port_timer_read();
    uint64_t t1 = th_port_timer_read();
    put_kv("protocol", 0, TH_PROTOCOL_VERSION, 0);
    put_kv("board", TH_BOARD_NAME, 0, 1);
    put_kv("kind", TH_TARGET_KIND, 0, 1);
    put_kv("model", th_model_name, 0, 1);
#ifdef TH_MODEL_SHA
    put_kv("model_sha", TH_MODEL_SHA, 0, 1); /* first hex digits of the .tflite's SHA-256 (harness/orchestrate.py) */
#endif
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
    put_kv("clip_bytes", 0, th_clip_capacity(), 0); /* the clip buffer of `clip load` (th_clip.c); 0: none */
}

static void cmd_db_load(const char *args)
{
    uint32_t n = 0;
    if (th_parse_u32(&args, &n) != 1 || n == 0u || n > TH_MODEL_INPUT_BYTES) {
        s_db_expect = 0;
        th_error_line(TH_ERR_DB_LOAD_SIZE, TH_MODEL_INPUT_BYTES);
        return;
    }
    s_db_expect = n;
    s_db_have = 0;
    th_put(TH_MSG_EXPECTING);
    th_put_u64(n);
    th_put(TH_MSG_EXPECTING_END);
    th_end_line();
}

static void cmd_db_hex(const char *hex)
{
    uint32_t len = (uint32_t)strlen(hex);
    uint32_t i;
    if (s_db_expect == 0u) {
        th_put_line(TH_ERR_DB_NOT_LOADING, "");
        return;
    }
    if ((len & 1u) != 0u || s_db_have + len / 2u > s_db_expect) {
        th_error_line(TH_ERR_DB_OVERFLOW, s_db_expect);
        s_db_expect = 0;
        return;
    }
    for (i = 0; i < len; i += 2u) {
        int hi = hex_value(hex[i]);
        int lo = hex_value(hex[i + 1u]);
        if (hi < 0 || lo < 0) {
            s_db_expect = 0;
            th_error_line(TH_ERR_DB_BAD_HEX, i);
            return;
        }
        th_model_input[s_db_have++] = (uint8_t)((hi << 4) | lo);
    }
    if (s_db_have == s_db_expect) {
        s_db_expect = 0;
        th_put_line(TH_MSG_LOAD_DONE, "");
    }
}

/* `sync <token>`: echo the token (the host's resync marker, targets/PROTOCOL.md "Recovery"). */
static void cmd_sync(const char *token)
{
    uint32_t n = (uint32_t)strlen(token), i;
    if (n == 0u || n > TH_SYNC_TOKEN_MAX) {
        th_put_line(TH_ERR_SYNC_USAGE, "");
        return;
    }
    for (i = 0; i < n; i++) {
        if (token[i] <= 0x20 || token[i] >= 0x7f) {
            th_put_line(TH_ERR_SYNC_USAGE, "");
            return;
        }
    }
    th_put_line(TH_MSG_SYNC, token);
}

static void cmd_unknown(const char *line)
{
    char shown[33];
    uint32_t i;
    for (i = 0; i < sizeof shown - 1u && line[i] != '\0'; i++) {
        shown[i] = (line[i] >= 0x20 && line[i] < 0x7f) ? line[i] : '?';
    }
    shown[i] = '\0';
    th_put_line(TH_ERR_UNKNOWN_COMMAND, shown);
}

void th_protocol_execute(char *line)
{
    if (line[0] == '\0') {
        return; /* an empty command is a ping: only m-ready */
    } else if (strcmp(line, TH_CMD_NAME) == 0) {
        th_put(TH_MSG_NAME);
        th_put(TH_BOARD_NAME);
        th_put("-");
        th_put_line(th_model_name, "");
    } else if (strcmp(line, TH_CMD_PROFILE) == 0) {
        cmd_profile();
    } else if (starts_with(line, TH_CMD_DB_LOAD " ")) {
        cmd_db_load(ARGS_AFTER(line, TH_CMD_DB_LOAD));
    } else if (starts_with(line, TH_CMD_DB " ")) {
        cmd_db_hex(ARGS_AFTER(line, TH_CMD_DB));
    } else if (starts_with(line, TH_CMD_BLOAD " ")) {
        th_cmd_bload(ARGS_AFTER(line, TH_CMD_BLOAD));
    } else if (strcmp(line, TH_CMD_INFER) == 0 || starts_with(line, TH_CMD_INFER " ")) {
        th_cmd_infer(line + strlen(TH_CMD_INFER)); /* "" or " N W": the arguments are optional */
    } else if (starts_with(line, TH_CMD_CLIP " ")) {
        th_cmd_clip(ARGS_AFTER(line, TH_CMD_CLIP)); /* clip load / clip crop: th_clip.c */
    } else if (starts_with(line, TH_CMD_SYNC " ")) {
        cmd_sync(ARGS_AFTER(line, TH_CMD_SYNC));
    } else if (strcmp(line, TH_CMD_STACK) == 0) {
        th_cmd_stack();
    } else if (strcmp(line, TH_CMD_RESULTS) == 0) {
        th_put(TH_MSG_RESULTS_HEX);
        th_put_hex(th_model_output, TH_MODEL_OUTPUT_BYTES);
        th_end_line();
#ifdef TH_PROFILE_OPS
    } else if (strcmp(line, TH_CMD_PROFILE_OPS) == 0) {
        th_cmd_profile_ops();
#endif
    } else {
        cmd_unknown(line);
    }
}

static void ready(void)
{
    th_put(TH_MSG_READY);
    th_end_line_plain();
}

void th_protocol_run(void)
{
    ready();
    for (;;) {
        char *line = th_read_command();
        if (line == 0) {
            s_db_expect = 0;
            th_error_line(TH_ERR_LINE_TOO_LONG, TH_LINE_MAX_BYTES);
        } else {
            int crc = th_strip_command_crc(line);
            if (crc < 0) {
                th_put_line(TH_ERR_COMMAND_CRC, ""); /* corrupted on the way: nothing done, the host re-sends */
            } else {
                th_protocol_execute(line);
                if (crc == 0) th_mlperf_plain_reply(line); /* no CRC: a person or the MLPerf Tiny runner */
            }
        }
        ready();
    }
}
