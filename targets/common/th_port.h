/* The board port: the few fixed-name functions every board (or twin) implements, one file per board
 * (targets/boards/<board>/port.c).  Everything above this seam is board-independent.
 * Pattern: TFLM's micro_time.h / debug_log.h ports and MLPerf Tiny's submitter_implemented.h.
 *
 * The board's identity is not a port function: the build defines TH_BOARD_NAME (the name in boards.yaml,
 * e.g. "stm32f746") and TH_TARGET_KIND ("twin" for a QEMU twin, "board" for hardware, "host" for the host
 * DUT) as C strings for all of the firmware, and th_protocol.c stops with #error when one is missing.
 */
#ifndef TH_PORT_H
#define TH_PORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clocks, caches, UART (the board's serial settings), timer.  Called once from main(). */
void th_port_init(void);

/* Block until one byte arrives on the serial link; returns it (0..255). */
int th_port_getc(void);

/* Send len bytes on the serial link (blocking until queued in the UART). */
void th_port_write(const uint8_t *buf, uint32_t len);

/* Monotonic 64-bit timer, in the unit named by th_port_timer_unit(): "instructions" on emulated twins
 * (exact, from QEMU -icount), "cycles" on hardware (DWT CYCCNT or equivalent). */
uint64_t th_port_timer_read(void);
const char *th_port_timer_unit(void);

/* Timestamp pulse on the board's energy-monitor GPIO (MLPerf Tiny energy mode); a no-op on twins.
 * Idle level high, the pulse drives the pin low then high again (the monitor detects the falling edge).
 * Hold it low for at least 20 us so that the slowest supported monitor sees it in two samples
 * (PPK2 logic inputs: 100 kS/s; Joulescope JS110/JS220 GPI: 2 MS/s / 1 MS/s; LPM01A event input D7). */
void th_port_timestamp(void);

#ifdef __cplusplus
}
#endif

#endif /* TH_PORT_H */
