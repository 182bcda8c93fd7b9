/* Measurements on the device (targets/PROTOCOL.md, "Timing" and the `infer`, `profile-ops`, `stack`
 * commands): timed inferences between two energy-monitor timestamps, per-operator timer hooks, and the peak
 * stack by painting.  Everything here brackets th_model_invoke(); printing stays outside the timed regions.
 */
#include <stdint.h>

#include "model.h"
#include "th_commands.h"
#include "th_lineio.h"
#include "th_port.h"
#include "th_protocol_constants.h"

#ifdef TH_PROFILE_OPS
#include "th_profile.h"
#endif

/* Restores the loaded input if the backend's inference overwrites it; untimed (weak no-op in main.c). */
void th_model_prepare(void);

/* ---- infer: one timer window per inference, inside one timestamp window (MLPerf Tiny energy mode) ---- */
void th_cmd_infer(const char *args)
{
    uint32_t n = 1, warmup = 0, i;
    uint64_t start, total = 0;
    th_mlperf_note_window(0, 0, 0);
    if (th_parse_u32(&args, &n) < 0 || th_parse_u32(&args, &warmup) < 0 || n == 0u) {
        th_put_line(TH_ERR_INFER_USAGE, "");
        return;
    }
    th_put_line(TH_MSG_INFER_START, ""); /* the command arrived: the host's short wait for it ends here */
    for (i = 0; i < warmup; i++) {
        th_model_prepare();
        th_model_invoke();
    }
    th_port_timestamp();
    start = th_port_timer_read();
    for (i = 0; i < n; i++) {
        uint64_t t0, t1;
        th_model_prepare();
        t0 = th_port_timer_read();
        th_model_invoke();
        t1 = th_port_timer_read();
        th_put(TH_MSG_LAP);
        th_put(th_port_timer_unit());
        th_put("-");
        th_put_u64(t1 - t0);
        th_end_line();
        total += t1 - t0;
    }
    th_port_timestamp();
    th_mlperf_note_window(start, total, n);
    th_put_line(TH_MSG_INFER_DONE, "");
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

void th_cmd_profile_ops(void)
{
    uint32_t i;
    uint64_t t0, total;
    th_model_prepare();
    t0 = th_port_timer_read();
    th_model_invoke();
    total = th_port_timer_read() - t0;
    for (i = 0; i < TH_MODEL_NUM_OPERATORS; i++) {
        th_put(TH_MSG_OP);
        th_put_u64(i);
        th_put("-");
        th_put(th_port_timer_unit());
        th_put("-");
        th_put_u64(s_op_count[i]);
        th_end_line();
    }
    th_put(TH_MSG_OP_TOTAL);
    th_put(th_port_timer_unit());
    th_put("-");
    th_put_u64(total);
    th_end_line();
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

void th_cmd_stack(void)
{
    uintptr_t lo = ((uintptr_t)__stack_limit + 3u) & ~(uintptr_t)3u;
    uintptr_t top = (uintptr_t)__stack_top;
    uintptr_t sp, p;
    if (__stack_limit == 0 || __stack_top == 0 || top <= lo) {
        th_put_line(TH_ERR_STACK_UNKNOWN, "");
        return;
    }
    th_model_prepare();
    sp = stack_pointer();
    stack_paint(lo, sp - STACK_PAINT_MARGIN_BYTES);
    th_model_invoke();
    for (p = lo; p < top && *(volatile uint32_t *)p == STACK_PAINT; p += 4u) {
    }
    if (p == lo) {
        th_error_line(TH_ERR_STACK_OVERFLOW, (uint64_t)(top - lo));
        return;
    }
    th_put(TH_MSG_STACK_SIZE);
    th_put_u64((uint64_t)(top - lo));
    th_end_line();
    th_put(TH_MSG_STACK_BASE);
    th_put_u64((uint64_t)(top - sp));
    th_end_line();
    th_put(TH_MSG_STACK_PEAK);
    th_put_u64((uint64_t)(top - p));
    th_end_line();
}
