/* libFuzzer entry point: the DUT's command parser and frame receiver (targets/common: th_protocol.c,
 * th_lineio.c, th_bulk_load.c, th_measure.c ...) built for the host with ASan/UBSan, fed one fuzz input as the
 * bytes arriving on the serial link.  `make -C targets/host fuzz` builds and runs it; see the Makefile.
 *
 * This file is also the board port (th_port.h) and the model (model.h, the host's fake-model API) of that
 * build, kept thin: th_port_getc serves the input and ends the run (longjmp back here) when it is used up;
 * th_port_write reads every byte it is given (so ASan sees an out-of-bounds reply) and drops it; the timer is a
 * counter; th_model_invoke touches the whole input and output tensors and ends the run after
 * TH_FUZZ_MAX_INVOKES calls, so `infer 4000000000 4000000000%` is a bounded run, not a fuzzer timeout.  State
 * kept in the protocol code's statics carries from one input to the next, as on a DUT receiving one stream.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "port_host.h"
#include "th_port.h"
#include "th_protocol.h"

#ifndef TH_FUZZ_MAX_INVOKES
#define TH_FUZZ_MAX_INVOKES 64u
#endif

static const uint8_t *s_data;
static size_t s_size, s_pos;
static uint64_t s_ticks;
static uint32_t s_invokes;
static jmp_buf s_end;
volatile uint8_t th_fuzz_sink;

static uint8_t s_input[TH_MODEL_INPUT_BYTES];
static uint8_t s_output[TH_MODEL_OUTPUT_BYTES];
uint8_t *const th_model_input = s_input;
const uint8_t *const th_model_output = s_output;
const char *const th_model_name = "fuzz";
uint64_t th_fake_ticks;

void th_model_invoke(void)
{
    uint32_t i;
    uint8_t x = 0;
    if (++s_invokes > TH_FUZZ_MAX_INVOKES) longjmp(s_end, 1);
    for (i = 0; i < TH_MODEL_INPUT_BYTES; i++) x = (uint8_t)(x + s_input[i]);
    for (i = 0; i < TH_MODEL_OUTPUT_BYTES; i++) s_output[i] = (uint8_t)(x + i);
    th_fake_ticks += TH_MODEL_INPUT_BYTES;
}

void th_model_prepare(void) {} /* the firmware's hook before each timed inference (main.c's weak default) */

void th_port_init(void) {}

int th_port_getc(void)
{
    if (s_pos >= s_size) longjmp(s_end, 1);
    return s_data[s_pos++];
}

void th_port_write(const uint8_t *buf, uint32_t len)
{
    uint8_t x = 0;
    uint32_t i;
    for (i = 0; i < len; i++) x ^= buf[i];
    th_fuzz_sink = x;
}

uint64_t th_port_timer_read(void) { return ++s_ticks; }

const char *th_port_timer_unit(void) { return "ticks"; }
void th_port_timestamp(void) {}
const char *th_host_board_name(void) { return "fuzz"; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef TH_FUZZ_CANARY /* the fuzz test's check that a planted overflow is reported (never in a real build) */
    static const char canary[] = "canary!";
    if (size >= 7 && data[0] == 'c' && data[1] == 'a' && data[2] == 'n' && data[3] == 'a' && data[4] == 'r' &&
        data[5] == 'y' && data[6] == '!') {
        th_fuzz_sink = (uint8_t)canary[size]; /* reads past the array for any size >= 8 */
    }
#endif
    s_data = data;
    s_size = size;
    s_pos = 0;
    s_invokes = 0;
    if (setjmp(s_end) == 0) th_protocol_run();
    return 0;
}
