/* Board port for the nRF52840-DK (nRF52840, Cortex-M4F at 64 MHz), register level (nRF52840 PS v1.7, no nrfx).
 *
 * Clock: the CPU always runs at 64 MHz; the high-frequency clock source is switched from the internal RC
 *   oscillator to the 32 MHz crystal (HFXO: CLOCK TASKS_HFCLKSTART, wait EVENTS_HFCLKSTARTED) so that the
 *   UART baud rate and the cycle counter are crystal-accurate.
 * Serial: UARTE0 (EasyDMA UART) on P0.06 TX / P0.08 RX, wired to the J-Link OB virtual COM port of the DK;
 *   TH_BAUD (boards.yaml; 115200 -> BAUDRATE 0x01D7E000) 8N1, no flow control.  Polled use with one-byte EasyDMA transfers, the way
 *   Zephyr's uart_nrfx_uarte poll_in/poll_out do: reception is kept started on a one-byte RAM buffer
 *   (EVENTS_ENDRX -> read the byte, clear, STARTRX again); bytes arriving meanwhile wait in the UARTE's
 *   six-byte RX FIFO.  EasyDMA can only read RAM, so transmitted bytes are copied into a RAM buffer first.
 * Timer: DWT CYCCNT, core cycles at 64 MHz, extended to 64 bits in software (th_cortex_m.h); unit "cycles".
 */
#include <stdint.h>

#include "../th_cortex_m.h"

#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART TH_REG(CLOCK_BASE + 0x000u)
#define CLOCK_EVENTS_HFCLKSTARTED TH_REG(CLOCK_BASE + 0x100u)

#define UARTE0_BASE 0x40002000u
#define UARTE_TASKS_STARTRX TH_REG(UARTE0_BASE + 0x000u)
#define UARTE_TASKS_STARTTX TH_REG(UARTE0_BASE + 0x008u)
#define UARTE_EVENTS_ENDRX TH_REG(UARTE0_BASE + 0x110u)
#define UARTE_EVENTS_ENDTX TH_REG(UARTE0_BASE + 0x120u)
#define UARTE_EVENTS_ERROR TH_REG(UARTE0_BASE + 0x124u)
#define UARTE_ERRORSRC TH_REG(UARTE0_BASE + 0x480u)
#define UARTE_ENABLE TH_REG(UARTE0_BASE + 0x500u)
#define UARTE_PSEL_RTS TH_REG(UARTE0_BASE + 0x508u)
#define UARTE_PSEL_TXD TH_REG(UARTE0_BASE + 0x50Cu)
#define UARTE_PSEL_CTS TH_REG(UARTE0_BASE + 0x510u)
#define UARTE_PSEL_RXD TH_REG(UARTE0_BASE + 0x514u)
#define UARTE_BAUDRATE TH_REG(UARTE0_BASE + 0x524u)
#define UARTE_RXD_PTR TH_REG(UARTE0_BASE + 0x534u)
#define UARTE_RXD_MAXCNT TH_REG(UARTE0_BASE + 0x538u)
#define UARTE_TXD_PTR TH_REG(UARTE0_BASE + 0x544u)
#define UARTE_TXD_MAXCNT TH_REG(UARTE0_BASE + 0x548u)
#define UARTE_CONFIG TH_REG(UARTE0_BASE + 0x56Cu)
#define UARTE_ENABLE_ON 8u
#ifndef TH_BAUD /* from boards.yaml serial.baudrate (harness/build.py) */
#define TH_BAUD 115200u
#endif
/* BAUDRATE register = round(baud * 2^32 / 16 MHz) with the low 12 bits cleared: reproduces the Product
 * Specification's UARTE table (115200 -> 0x01D7E000, 921600 -> 0x0EBED000, 1M -> 0x10000000). */
#define UARTE_BAUD_VALUE ((uint32_t)(((((uint64_t)(TH_BAUD) << 32) + 8000000u) / 16000000u) & 0xFFFFF000u))
#define PSEL_DISCONNECTED 0xFFFFFFFFu

#define P0_BASE 0x50000000u
#define P0_OUTSET TH_REG(P0_BASE + 0x508u)
#define P0_PIN_CNF(n) TH_REG(P0_BASE + 0x700u + 4u * (n))
#define PIN_TX 6u
#define PIN_RX 8u

#define TX_CHUNK 64u

static volatile uint8_t rx_byte;
static uint8_t tx_buf[TX_CHUNK];
static uint32_t timer_last, timer_wraps;

void th_port_init(void) {
    CLOCK_EVENTS_HFCLKSTARTED = 0;
    CLOCK_TASKS_HFCLKSTART = 1;
    while (CLOCK_EVENTS_HFCLKSTARTED == 0u) {
    }

    P0_OUTSET = 1u << PIN_TX;
    P0_PIN_CNF(PIN_TX) = 1u; /* output, input buffer disconnected */
    P0_PIN_CNF(PIN_RX) = 0u; /* input, buffer connected, no pull */
    UARTE_PSEL_TXD = PIN_TX;
    UARTE_PSEL_RXD = PIN_RX;
    UARTE_PSEL_RTS = PSEL_DISCONNECTED;
    UARTE_PSEL_CTS = PSEL_DISCONNECTED;
    UARTE_BAUDRATE = UARTE_BAUD_VALUE;
    UARTE_CONFIG = 0; /* 8N1, no hardware flow control */
    UARTE_ENABLE = UARTE_ENABLE_ON;

    UARTE_RXD_PTR = (uint32_t)(uintptr_t)&rx_byte;
    UARTE_RXD_MAXCNT = 1;
    UARTE_EVENTS_ENDRX = 0;
    UARTE_TASKS_STARTRX = 1;

    th_cm_dwt_start();
    timer_last = 0;
    timer_wraps = 0;
}

int th_port_getc(void) {
    while (UARTE_EVENTS_ENDRX == 0u) {
        if (UARTE_EVENTS_ERROR != 0u) { /* framing/overrun: clear and keep receiving */
            UARTE_ERRORSRC = UARTE_ERRORSRC;
            UARTE_EVENTS_ERROR = 0;
        }
        (void)th_port_timer_read(); /* keep the 64-bit extension current while idle */
    }
    uint8_t c = rx_byte;
    UARTE_EVENTS_ENDRX = 0;
    UARTE_TASKS_STARTRX = 1;
    return (int)c;
}

void th_port_write(const uint8_t *buf, uint32_t len) {
    while (len > 0u) {
        uint32_t n = len < TX_CHUNK ? len : TX_CHUNK;
        for (uint32_t i = 0; i < n; ++i) {
            tx_buf[i] = buf[i];
        }
        UARTE_TXD_PTR = (uint32_t)(uintptr_t)tx_buf;
        UARTE_TXD_MAXCNT = n;
        UARTE_EVENTS_ENDTX = 0;
        UARTE_TASKS_STARTTX = 1;
        while (UARTE_EVENTS_ENDTX == 0u) {
        }
        buf += n;
        len -= n;
    }
}

uint64_t th_port_timer_read(void) { return th_cm_dwt_read64(&timer_last, &timer_wraps); }

const char *th_port_timer_unit(void) { return "cycles"; }

void th_port_timestamp(void) {}
