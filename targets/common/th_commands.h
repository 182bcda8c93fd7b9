/* Internal to targets/common: the command handlers that live outside the dispatcher (th_protocol.c), one file
 * per concern, and the one piece of dispatcher state they touch.  Each handler prints its reply lines but not
 * the trailing m-ready.  Not part of the public API (th_protocol.h).
 */
#ifndef TH_COMMANDS_H
#define TH_COMMANDS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* th_protocol.c: cancel a readable `db load` in progress (a `bload` replaces it). */
void th_hex_load_cancel(void);

/* th_bulk_load.c: `bload N [P]` (args = the text after "bload"): CRC-32 frames into th_model_input. */
void th_cmd_bload(const char *args);

/* th_bulk_load.c: receive `total` bytes in CRC-32 frames of `chunk` payload bytes into base[0..total) (after the
 * caller's announcement line); prints m-load-done or m-bload-abort.  Returns 1 when complete, 0 on abort. */
int th_bulk_receive(uint8_t *base, uint32_t total, uint32_t chunk);

/* th_clip.c: `clip load N [P]` / `clip crop S L F` (args = the text after "clip"): a clip buffer outside the
 * tensor arena, loaded once, and crops of it copied into th_model_input. */
void th_cmd_clip(const char *args);

/* th_clip.c: bytes the clip buffer holds (0: this build has none), reported by profile% as clip_bytes. */
uint32_t th_clip_capacity(void);

/* th_measure.c: `infer [N [W]]` (args = the text after "infer"): timed inferences, one m-lap- line each. */
void th_cmd_infer(const char *args);

/* th_measure.c: `stack`: paint the free stack, run one inference, report the peak depth. */
void th_cmd_stack(void);

#ifdef TH_PROFILE_OPS
/* th_measure.c: `profile-ops`: one inference timed per operator (hooks of th_profile.h). */
void th_cmd_profile_ops(void);
#endif

/* th_mlperf.c: `infer` records its timed window (timer at the loop's start, sum of the lap counts, number of
 * timed inferences; laps = 0: none) for the MLPerf Tiny runner's m-lap-us lines. */
void th_mlperf_note_window(uint64_t start, uint64_t total, uint32_t laps);

/* th_mlperf.c: after a command that came without a CRC suffix, the extra lines the official MLPerf Tiny runner
 * parses (firmware built with TH_MLPERF_ID; otherwise nothing).  line = the executed command. */
void th_mlperf_plain_reply(const char *line);

#ifdef __cplusplus
}
#endif

#endif /* TH_COMMANDS_H */
