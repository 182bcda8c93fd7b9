/* Host port (POSIX): th_port.h over stdin/stdout, so the real protocol code runs on the build machine,
 * driven by the Python client through a socket or a pty handed to the process as fd 0/1.
 * Environment: TH_HOST_BOARD (default "host"; the build's TH_BOARD_NAME is th_host_board_name(), see
 * port_host.h); TH_HOST_TIMER=ns for CLOCK_MONOTONIC nanoseconds, else the deterministic "ticks" counter of
 * the fake model (one tick per input byte processed).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "port_host.h"
#include "th_port.h"

static uint8_t s_rx[4096];
static size_t s_rx_len, s_rx_pos;
static int s_use_ns;
static const char *s_board = "host";

void th_port_init(void)
{
    const char *timer = getenv("TH_HOST_TIMER");
    const char *board = getenv("TH_HOST_BOARD");
    signal(SIGPIPE, SIG_IGN);
    s_use_ns = timer != NULL && strcmp(timer, "ns") == 0;
    if (board != NULL && board[0] != '\0') s_board = board;
}

int th_port_getc(void)
{
    while (s_rx_pos == s_rx_len) {
        ssize_t n = read(0, s_rx, sizeof s_rx);
        if (n > 0) {
            s_rx_len = (size_t)n;
            s_rx_pos = 0;
        } else if (n == 0 || errno != EINTR) {
            exit(0); /* the host closed the link: power off */
        }
    }
    return s_rx[s_rx_pos++];
}

void th_port_write(const uint8_t *buf, uint32_t len)
{
    while (len > 0u) {
        ssize_t n = write(1, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            exit(0);
        }
        buf += n;
        len -= (uint32_t)n;
    }
}

uint64_t th_port_timer_read(void)
{
    if (s_use_ns) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    return th_fake_ticks;
}

const char *th_port_timer_unit(void) { return s_use_ns ? "ns" : "ticks"; }
void th_port_timestamp(void) {}
const char *th_host_board_name(void) { return s_board; }
