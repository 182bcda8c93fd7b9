/* The model seam for the TFLM backends: TensorFlow Lite Micro behind the same th_model_* API as tinyhil's
 * generated code (targets/common calls th_model_init once, then th_model_invoke per inference).
 *
 * The .tflite flatbuffer is a const array in flash (model_data.c), the op resolver holds exactly the model's
 * operators (model_ops.h, generated), the tensor arena is static and sized on the host (TH_MODEL_ARENA_BYTES,
 * model.h).  th_model_output points into the arena at the interpreter's output tensor once th_model_init has
 * allocated it.  TFLM's planner reuses the input tensor's bytes for later tensors (there is no API to keep a
 * graph input alive), so the loaded input lives in its own buffer (th_model_input) and th_model_prepare(),
 * which the firmware calls before every inference outside the timed region (targets/common/th_measure.c),
 * copies it into the interpreter's input tensor: `infer N W` then runs every inference on the same input, and
 * the counts exclude the copy.  When the arena plus that copy do not fit the board's RAM (TH_RAM_FOR_DATA_BYTES
 * from the build, less TH_TFLM_RAM_RESERVE_BYTES for the runtime: e.g. ACDNet-20 on the STM32F746, 309 KB
 * arena + 30 KB input in 320 KB), there is no copy: th_model_input points at the interpreter's input tensor as
 * before and only the first inference after a load sees the loaded input (TH_TFLM_KEEPS_INPUT is 0).
 * With TH_PROFILE_OPS a MicroProfilerInterface reports each operator to the per-operator hooks.
 * No libstdc++ is linked: the few C++ runtime symbols the interpreter's virtual classes need are defined here.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <new>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
#include "model.h"
#include "th_port.h"
#ifdef TH_PROFILE_OPS
#include "th_profile.h"
#endif
}
#include "model_ops.h" /* TH_TFLM_OP_TYPES, th_tflm_add_operators() */

extern "C" const unsigned char th_tflm_model_data[];

alignas(16) static uint8_t arena[TH_MODEL_ARENA_BYTES];
extern "C" {
uint8_t *th_model_input;
const uint8_t *th_model_output;
const char *const th_model_name = TH_MODEL_NAME;
}

/* Static RAM the firmware needs besides the arena, the input copy, stack and heap (protocol buffers, interpreter,
 * resolver, runtime): 899 B in the TFLM + CMSIS-NN builds of raw_mini for the M7 and M0+ twins; 4 KB of margin. */
#define TH_TFLM_RAM_RESERVE_BYTES 4096u
#if !defined(TH_RAM_FOR_DATA_BYTES) || \
    (TH_MODEL_ARENA_BYTES + TH_MODEL_INPUT_BYTES + TH_TFLM_RAM_RESERVE_BYTES <= TH_RAM_FOR_DATA_BYTES)
#define TH_TFLM_KEEPS_INPUT 1
alignas(16) static uint8_t input_copy[TH_MODEL_INPUT_BYTES];
#else
#define TH_TFLM_KEEPS_INPUT 0
#endif

using Resolver = tflite::MicroMutableOpResolver<TH_TFLM_OP_TYPES>;
alignas(Resolver) static unsigned char resolver_mem[sizeof(Resolver)];
alignas(tflite::MicroInterpreter) static unsigned char interpreter_mem[sizeof(tflite::MicroInterpreter)];
static tflite::MicroInterpreter *interpreter;

#ifdef TH_PROFILE_OPS
/* Operators are invoked in model order, one event each: the event handle is the operator index. */
class OperatorProfiler : public tflite::MicroProfilerInterface {
 public:
  uint32_t BeginEvent(const char *) override {
    th_profile_op_begin((int)next_);
    return next_++;
  }
  void EndEvent(uint32_t handle) override { th_profile_op_end((int)handle); }
  void Reset() { next_ = 0; }

 private:
  uint32_t next_ = 0;
};
alignas(OperatorProfiler) static unsigned char profiler_mem[sizeof(OperatorProfiler)];
static OperatorProfiler *profiler;
#endif

static void fail(const char *message) {
  /* No m-ready follows: the host reports the missing ready line and points at serial.log. */
  th_port_write((const uint8_t *)message, (uint32_t)strlen(message));
  for (;;) {
  }
}

extern "C" void th_model_init(void) {
  const tflite::Model *model = tflite::GetModel(th_tflm_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) fail("e-tflm: model schema version not supported\r\n");
  Resolver *resolver = new (resolver_mem) Resolver();
  if (th_tflm_add_operators(*resolver) != kTfLiteOk) fail("e-tflm: operator registration failed\r\n");
  tflite::MicroProfilerInterface *events = nullptr;
#ifdef TH_PROFILE_OPS
  profiler = new (profiler_mem) OperatorProfiler();
  events = profiler;
#endif
  interpreter = new (interpreter_mem) tflite::MicroInterpreter(model, *resolver, arena, sizeof arena, nullptr, events);
  if (interpreter->AllocateTensors() != kTfLiteOk) fail("e-tflm: AllocateTensors failed: tensor arena too small\r\n");
  if (interpreter->input(0)->bytes != TH_MODEL_INPUT_BYTES || interpreter->output(0)->bytes != TH_MODEL_OUTPUT_BYTES)
    fail("e-tflm: input/output tensor sizes differ from model.h\r\n");
#if TH_TFLM_KEEPS_INPUT
  th_model_input = input_copy;
#else
  th_model_input = interpreter->input(0)->data.uint8;
#endif
  th_model_output = interpreter->output(0)->data.uint8;
}

/* Before every inference, untimed: restore the loaded input the previous inference may have overwritten. */
extern "C" void th_model_prepare(void) {
#if TH_TFLM_KEEPS_INPUT
  memcpy(interpreter->input(0)->data.uint8, input_copy, TH_MODEL_INPUT_BYTES);
#endif
}

extern "C" void th_model_invoke(void) {
#ifdef TH_PROFILE_OPS
  profiler->Reset();
#endif
  interpreter->Invoke();
}

/* C++ runtime without libstdc++ (-fno-exceptions -fno-rtti): nothing is ever deleted or destroyed at exit. */
extern "C" void __cxa_pure_virtual(void) { fail("e-tflm: pure virtual call\r\n"); }
extern "C" int __cxa_atexit(void (*)(void *), void *, void *) { return 0; }
void *__dso_handle = nullptr;
void operator delete(void *) noexcept {}
void operator delete(void *, size_t) noexcept {}
