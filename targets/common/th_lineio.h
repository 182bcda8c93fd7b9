/* Internal to targets/common: the line I/O of the serial protocol (targets/PROTOCOL.md, "Lines"), shared by the
 * command dispatcher (th_protocol.c), the binary bulk loader (th_bulk_load.c) and the measurements
 * (th_measure.c).  Replies are built piecewise with th_put* and leave in th_end_line, so each reply line goes
 * out in as few th_port_write calls as the 64-byte buffer allows (one packet on a socket for short lines).
 * Not part of the public API (th_protocol.h).
 */
#ifndef TH_LINEIO_H
#define TH_LINEIO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Append text, a decimal number, or n bytes as lowercase hex digits to the current reply line. */
void th_put(const char *s);
void th_put_u64(uint64_t v);
void th_put_hex(const uint8_t *p, uint32_t n);

/* Terminate the current reply line and send what is buffered: protocol v2 appends TH_CRC_MARK and the CRC-32
 * of the line's text as 8 lowercase hex digits before TH_LINE_TERMINATOR (targets/PROTOCOL.md, "Lines"). */
void th_end_line(void);

/* Terminate the current line without a CRC (only m-ready, which carries no data). */
void th_end_line_plain(void);

/* A command may end in TH_CRC_MARK + 8 hex digits (CRC-32 of the text before the mark): returns 1 and cuts the
 * suffix off when it matches, 0 when there is no mark (a hand-typed or MLPerf runner command), -1 when the
 * suffix is malformed or does not match (the link corrupted the command: do not execute it). */
int th_strip_command_crc(char *line);

/* A whole reply line: a, then b (often ""), then the terminator. */
void th_put_line(const char *a, const char *b);

/* A whole error line: the full prefix (a TH_ERR_... constant ending in '-'), then the number. */
void th_error_line(const char *prefix, uint64_t number);

/* Parse an optional decimal after spaces, advancing *p past it; returns 1 if one was found (and fits u32),
 * 0 if none (end of line), -1 if malformed. */
int th_parse_u32(const char **p, uint32_t *out);

/* Read one command up to TH_COMMAND_TERMINATOR (CR/LF ignored) into a static buffer; returns it,
 * NUL-terminated, or 0 if the command did not fit TH_LINE_MAX_BYTES (the excess was read and dropped). */
char *th_read_command(void);

#ifdef __cplusplus
}
#endif

#endif /* TH_LINEIO_H */
