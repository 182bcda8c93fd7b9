/* The fake model of the host port: Fletcher-16 per input slice.  See model.h. */
#include "model.h"

#include "th_profile.h"

static uint8_t s_input[TH_MODEL_INPUT_BYTES];
static uint8_t s_output[TH_MODEL_OUTPUT_BYTES];

uint8_t *const th_model_input = s_input;
const uint8_t *const th_model_output = s_output;
const char *const th_model_name = "fake";
uint64_t th_fake_ticks;

void th_model_invoke(void)
{
    uint32_t c, i;
    const uint32_t slice = TH_MODEL_INPUT_BYTES / TH_FAKE_CHUNKS;
    TH_OP_BEGIN(0);
    for (c = 0; c < TH_FAKE_CHUNKS; c++) {
        uint32_t a = 0, b = 0;
        uint32_t end = c + 1u == TH_FAKE_CHUNKS ? TH_MODEL_INPUT_BYTES : (c + 1u) * slice;
        for (i = c * slice; i < end; i++) {
            a = (a + s_input[i]) % 255u;
            b = (b + a) % 255u;
        }
        s_output[2u * c] = (uint8_t)a;
        s_output[2u * c + 1u] = (uint8_t)b;
    }
    th_fake_ticks += TH_MODEL_INPUT_BYTES;
    TH_OP_END(0);
}
