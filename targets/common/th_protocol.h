/* The DUT side of the tinyhil serial protocol (targets/PROTOCOL.md): readable '%'-terminated commands
 * compatible with the EEMBC / MLPerf Tiny runner (name, profile, db load, db, infer, results; m-ready after
 * each) plus `bload`, CRC-checked binary frames written straight into th_model_input.
 *
 * Portable C99, no malloc, no stdio.  RAM: one TH_LINE_MAX_BYTES+1 line buffer, a 64-byte output buffer and a
 * few counters; frame payloads are not buffered.  Talks only through th_port.h and the generated model.h.
 * Sources: th_protocol.c (dispatch), th_lineio.c, th_bulk_load.c, th_measure.c, th_crc32.c; the build must
 * define TH_BOARD_NAME and TH_TARGET_KIND (see th_port.h).
 */
#ifndef TH_PROTOCOL_H
#define TH_PROTOCOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Print m-ready, then read and execute commands forever.  Call after th_port_init(). */
void th_protocol_run(void);

/* Execute one command line (without its '%'), printing its reply lines but not the trailing m-ready. */
void th_protocol_execute(char *line);

#ifdef __cplusplus
}
#endif

#endif /* TH_PROTOCOL_H */
