/* The binary bulk loader: `bload N [P]%`, then CRC-32 frames written straight into th_model_input
 * (targets/PROTOCOL.md, "Binary bulk load": frame layout, ack/nak, hunting, duplicates, abort).
 * No RAM copy of a payload: bytes go from th_port_getc to their place in the input tensor.
 */
#include <string.h>

#include "model.h"
#include "th_commands.h"
#include "th_crc32.h"
#include "th_lineio.h"
#include "th_port.h"
#include "th_protocol_constants.h"

static uint8_t get_byte(void) { return (uint8_t)th_port_getc(); }

static void frame_reply(const char *msg, uint16_t seq, const char *reason)
{
    th_put(msg);
    th_put_u64(seq);
    if (reason != 0) {
        th_put("-");
        th_put(reason);
    }
    th_end_line();
}

static int header_is(const uint8_t *h, uint16_t seq, uint32_t len)
{
    return h[0] == TH_FRAME_MAGIC && h[1] == (uint8_t)seq && h[2] == (uint8_t)(seq >> 8) &&
           h[3] == (uint8_t)len && h[4] == (uint8_t)(len >> 8);
}

/* Receive `total` bytes in frames of `chunk` payload bytes into base[0..total).  Stop-and-wait: the host
 * sends the next frame after m-ack-<seq>.  The host follows each frame with a few zero bytes: when the link
 * dropped bytes of the frame they complete it at once (its CRC fails: NAK now, not after a host timeout);
 * otherwise they are skipped here while waiting for the next header (a header starts with the magic, never 0).  A bad header or CRC is NAKed once and the receiver then hunts,
 * byte by byte, for the exact 5-byte header it expects (next seq or a duplicate of the previous one), so
 * leftover bytes of a damaged frame can never be mistaken for data.  Returns 1 when complete, 0 on abort. */
int th_bulk_receive(uint8_t *base, uint32_t total, uint32_t chunk)
{
    uint8_t h[TH_FRAME_HEADER_BYTES];
    uint32_t off = 0;
    uint16_t seq = 0;
    int synced = 1;
    int i;
    while (off < total) {
        uint32_t want = total - off < chunk ? total - off : chunk;
        uint32_t len, k, crc_rx = 0, crc;
        uint16_t got_seq;
        uint8_t *dst;
        if (synced) {
            do { /* zero bytes between frames are idle fill (the host's tail after each frame): skipped */
                h[0] = get_byte();
            } while (h[0] == 0u);
            for (i = 1; i < (int)TH_FRAME_HEADER_BYTES; i++) h[i] = get_byte();
        } else {
            memmove(h, h + 1, TH_FRAME_HEADER_BYTES - 1u);
            h[TH_FRAME_HEADER_BYTES - 1u] = get_byte();
        }
        if (header_is(h, seq, want)) {
            got_seq = seq;
            len = want;
            dst = base + off;
        } else if (off > 0u && header_is(h, (uint16_t)(seq - 1u), chunk)) {
            got_seq = (uint16_t)(seq - 1u); /* duplicate: our ack was lost; check it, re-ack, keep nothing */
            len = chunk;
            dst = 0;
        } else if (header_is(h, TH_FRAME_ABORT_SEQ, 0)) {
            got_seq = TH_FRAME_ABORT_SEQ;
            len = 0;
            dst = 0;
        } else {
            if (synced) frame_reply(TH_MSG_NAK, seq, TH_NAK_HEADER);
            synced = 0;
            continue;
        }
        crc = th_crc32_update(0, h, TH_FRAME_HEADER_BYTES);
        for (k = 0; k < len; k++) {
            uint8_t b = get_byte();
            crc = th_crc32_update(crc, &b, 1);
            if (dst != 0) dst[k] = b;
        }
        for (k = 0; k < TH_FRAME_CRC_BYTES; k++) crc_rx |= (uint32_t)get_byte() << (8u * k);
        if (crc_rx != crc) {
            if (got_seq != TH_FRAME_ABORT_SEQ) frame_reply(TH_MSG_NAK, got_seq, TH_NAK_CRC);
            synced = 0;
            continue;
        }
        if (got_seq == TH_FRAME_ABORT_SEQ) {
            th_put_line(TH_MSG_BLOAD_ABORT, "");
            return 0;
        }
        frame_reply(TH_MSG_ACK, got_seq, 0);
        synced = 1;
        if (dst != 0) {
            off += len;
            seq++;
        }
    }
    th_put_line(TH_MSG_LOAD_DONE, "");
    return 1;
}

void th_cmd_bload(const char *args)
{
    uint32_t n = 0, chunk = TH_FRAME_PAYLOAD_BYTES;
    if (th_parse_u32(&args, &n) != 1 || n == 0u || n > TH_MODEL_INPUT_BYTES) {
        th_error_line(TH_ERR_BLOAD_SIZE, TH_MODEL_INPUT_BYTES);
        return;
    }
    if (th_parse_u32(&args, &chunk) < 0 || chunk == 0u || chunk > TH_FRAME_PAYLOAD_BYTES) {
        th_error_line(TH_ERR_BLOAD_PAYLOAD, TH_FRAME_PAYLOAD_BYTES);
        return;
    }
    th_hex_load_cancel();
    th_put(TH_MSG_BLOAD);
    th_put_u64(n);
    th_put("-");
    th_put_u64(chunk);
    th_end_line();
    (void)th_bulk_receive(th_model_input, n, chunk);
}
