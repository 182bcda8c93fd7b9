/* The model seam for the TFLM backends: TensorFlow Lite Micro behind the same th_model_* API as tinyhil's
 * generated code (targets/common calls th_model_init once, then th_model_invoke per inference).
 *
 * The .tflite flatbuffer is a const array in flash (model_data.c), the op resolver holds exactly the model's
 * operators (model_ops.h, generated), the tensor arena is static and sized on the host (TH_MODEL_ARENA_BYTES,
 * model.h).  th_model_input and th_model_output point into the arena at the interpreter's input and output
 * tensors once th_model_init has allocated them (no copies: ACDNet-20 only fits the STM32F746 that way).  As
 * with tinyhil's own planner, TFLM may reuse the input's bytes for later tensors, so the host loads the input
 * before each timed inference.  With TH_PROFILE_OPS a MicroProfilerInterface reports each operator to the
 * per-operator hooks.
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
  th_model_input = interpreter->input(0)->data.uint8;
  th_model_output = interpreter->output(0)->data.uint8;
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
