/* The lines the official MLPerf Tiny runner parses (targets/PROTOCOL.md, "The official MLPerf Tiny runner").
 *
 * Only in firmware built with -DTH_MLPERF_ID="kws01" (the MLPerf Tiny benchmark id; harness/protocol/mlperf.py
 * computes it and the other TH_MLPERF_* defines below), and only after a command that arrived WITHOUT a CRC
 * suffix (typed by hand, or sent by the runner): tinyhil's own client always sends the suffix and never sees
 * them.  They follow the v2 lines of the same reply, carry no line CRC (the runner's regular expressions end
 * at ']' or at the digits) and are built with integer arithmetic only (no printf, no floats):
 *   name%     m-name-dut-[<board>-<model>]
 *   profile%  m-profile-[tinyhil protocol <version>]  and  m-model-[<TH_MLPERF_ID>]
 *   infer N W m-lap-us-<t0>  m-lap-us-<t1>  m-results-[<v>,...]   (the output of the last timed inference)
 *   results%  m-results-[<v>,...]
 * t0 is the timer at the start of the timed loop, t1 = t0 + the sum of the N lap counts (the printing between
 * inferences is not in the window), both in microseconds: count * TH_MLPERF_US_NUM / TH_MLPERF_US_DEN, i.e.
 * cycles / MHz on a board (measured) and instructions * CPI / MHz on a twin (an ESTIMATE, CPI from boards.yaml).
 * <v> = scale * (q - zero_point) of the output tensor, scale = TH_MLPERF_OUT_MULT / 2^TH_MLPERF_OUT_SHIFT
 * exactly (the float32 scale's mantissa and exponent), printed with 6 decimals rounded half to even: the text
 * C's or Python's "%.6f" gives for that exact value.
 */
#include <stdint.h>
#include <string.h>

#include "model.h"
#include "th_commands.h"
#include "th_lineio.h"
#include "th_protocol_constants.h"

static uint64_t s_t0;    /* timer at the start of the last `infer`'s timed loop */
static uint64_t s_total; /* sum of its lap counts */
static uint32_t s_laps;  /* its timed inferences; 0: no valid window (usage error, or none yet) */

void th_mlperf_note_window(uint64_t start, uint64_t total, uint32_t laps)
{
    s_t0 = start;
    s_total = total;
    s_laps = laps;
}

#ifdef TH_MLPERF_ID

#if !defined(TH_MLPERF_US_NUM) || !defined(TH_MLPERF_US_DEN) || !defined(TH_MLPERF_OUT_DTYPE) || \
    !defined(TH_MLPERF_OUT_ZERO_POINT) || !defined(TH_MLPERF_OUT_MULT) || !defined(TH_MLPERF_OUT_SHIFT)
#error "TH_MLPERF_ID needs the TH_MLPERF_* defines of harness.protocol.mlperf.mlperf_defines()"
#endif
#if TH_MLPERF_OUT_SHIFT > 60
#error "TH_MLPERF_OUT_SHIFT must be at most 60"
#endif

/* Output element types (TH_MLPERF_OUT_DTYPE), as harness/protocol/mlperf.py numbers them. */
#define OUT_INT8 1
#define OUT_UINT8 2
#define OUT_INT16 3
#if TH_MLPERF_OUT_DTYPE == OUT_INT16
#define OUT_ELEMENT_BYTES 2u
#else
#define OUT_ELEMENT_BYTES 1u
#endif

#define FRACTION_DIGITS 6u
#define FRACTION_SCALE 1000000u /* 10^FRACTION_DIGITS */

/* Timer counts to microseconds without overflowing 64 bits (NUM and DEN are below 2^32). */
static uint64_t to_us(uint64_t count)
{
    return (count / TH_MLPERF_US_DEN) * TH_MLPERF_US_NUM + ((count % TH_MLPERF_US_DEN) * TH_MLPERF_US_NUM) /
                                                               TH_MLPERF_US_DEN;
}

static void put_decimal(int64_t num)
{
    char digits[FRACTION_DIGITS + 1u];
    const uint64_t one = (uint64_t)1 << TH_MLPERF_OUT_SHIFT;
    uint64_t mag = num < 0 ? (uint64_t)(-num) : (uint64_t)num;
    uint64_t whole = mag >> TH_MLPERF_OUT_SHIFT, rest = mag & (one - 1u), frac = 0;
    uint32_t i;
    for (i = 0; i < FRACTION_DIGITS; i++) { /* exact: rest < 2^60, so 10 * rest fits */
        rest *= 10u;
        frac = frac * 10u + (rest >> TH_MLPERF_OUT_SHIFT);
        rest &= one - 1u;
    }
    if (2u * rest > one || (2u * rest == one && (frac & 1u) != 0u)) { /* round half to even */
        if (++frac == FRACTION_SCALE) {
            frac = 0;
            whole++;
        }
    }
    if (num < 0) th_put("-");
    th_put_u64(whole);
    th_put(".");
    digits[FRACTION_DIGITS] = '\0';
    for (i = FRACTION_DIGITS; i > 0u; i--) {
        digits[i - 1u] = (char)('0' + (int)(frac % 10u));
        frac /= 10u;
    }
    th_put(digits);
}

static int32_t output_q(uint32_t i)
{
#if TH_MLPERF_OUT_DTYPE == OUT_INT8
    return (int32_t)(int8_t)th_model_output[i];
#elif TH_MLPERF_OUT_DTYPE == OUT_UINT8
    return (int32_t)th_model_output[i];
#else
    return (int32_t)(int16_t)(uint16_t)(th_model_output[2u * i] | (th_model_output[2u * i + 1u] << 8));
#endif
}

static void put_results(void)
{
    uint32_t i, n = TH_MODEL_OUTPUT_BYTES / OUT_ELEMENT_BYTES;
    th_put(TH_MSG_MLPERF_RESULTS);
    for (i = 0; i < n; i++) {
        if (i > 0u) th_put(",");
        put_decimal((int64_t)(output_q(i) - (int32_t)(TH_MLPERF_OUT_ZERO_POINT)) * (int64_t)(TH_MLPERF_OUT_MULT));
    }
    th_put(TH_MSG_MLPERF_LIST_END);
    th_end_line_plain();
}

static void put_lap_us(uint64_t count)
{
    th_put(TH_MSG_MLPERF_LAP_US);
    th_put_u64(to_us(count));
    th_end_line_plain();
}

void th_mlperf_plain_reply(const char *line)
{
    if (strcmp(line, TH_CMD_NAME) == 0) {
        th_put(TH_MSG_MLPERF_NAME);
        th_put(TH_BOARD_NAME);
        th_put("-");
        th_put(th_model_name);
        th_put(TH_MSG_MLPERF_LIST_END);
        th_end_line_plain();
    } else if (strcmp(line, TH_CMD_PROFILE) == 0) {
        th_put(TH_MSG_MLPERF_PROFILE);
        th_put("tinyhil protocol ");
        th_put_u64(TH_PROTOCOL_VERSION);
        th_put(TH_MSG_MLPERF_LIST_END);
        th_end_line_plain();
        th_put(TH_MSG_MLPERF_MODEL);
        th_put(TH_MLPERF_ID);
        th_put(TH_MSG_MLPERF_LIST_END);
        th_end_line_plain();
    } else if (strncmp(line, TH_CMD_INFER, sizeof TH_CMD_INFER - 1u) == 0 &&
               (line[sizeof TH_CMD_INFER - 1u] == '\0' || line[sizeof TH_CMD_INFER - 1u] == ' ')) {
        if (s_laps == 0u) return; /* refused (e-infer-usage...): nothing was timed */
        put_lap_us(s_t0);
        put_lap_us(s_t0 + s_total);
        put_results();
    } else if (strcmp(line, TH_CMD_RESULTS) == 0) {
        put_results();
    }
}

#else /* !TH_MLPERF_ID: a plain tinyhil build prints nothing extra */

void th_mlperf_plain_reply(const char *line) { (void)line; }

#endif
