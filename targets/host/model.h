/* A fake model for the host port (same API as the generated model.h): the output is, for each of
 * TH_FAKE_CHUNKS equal slices of the input, a Fletcher-16 checksum (2 bytes, little endian), so the host
 * can check every input byte arrived in place.  Sizes can be overridden with -D at build time.
 */
#ifndef TH_MODEL_H
#define TH_MODEL_H

#include <stdint.h>

#ifndef TH_FAKE_INPUT_BYTES
#define TH_FAKE_INPUT_BYTES 30720u /* 30 KB: a spectrogram-sized input tensor */
#endif
#define TH_FAKE_CHUNKS 8u

#define TH_MODEL_ARENA_BYTES 0u
#define TH_MODEL_NUM_OPERATORS 1u
#define TH_MODEL_INPUT_BYTES TH_FAKE_INPUT_BYTES
#define TH_MODEL_OUTPUT_BYTES (2u * TH_FAKE_CHUNKS)

extern uint8_t *const th_model_input;
extern const uint8_t *const th_model_output;
extern const char *const th_model_name;
void th_model_invoke(void);

/* Work done by the fake model, in "ticks" (one per input byte); the host port's default timer reads it. */
extern uint64_t th_fake_ticks;

#endif /* TH_MODEL_H */
