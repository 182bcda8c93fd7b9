/* Board port for the Raspberry Pi Pico (RP2040, Cortex-M0+), register level (RP2040 datasheet, no pico-sdk).
 *
 * Clock: 12 MHz crystal (XOSC) -> clk_ref; PLL_SYS: REFDIV 1, FBDIV 133 -> VCO 1596 MHz, POSTDIV1 6,
 *   POSTDIV2 2 -> 133 MHz = clk_sys (datasheet 2.18.2: VCO 750-1600 MHz); clk_peri = clk_sys.
 * Serial: UART0 (PL011) on GP0 TX / GP1 RX (FUNCSEL 2), TH_BAUD (boards.yaml) 8N1, FIFOs on.  Divisor =
 *   8 * 133 MHz / baud, e.g. 921600: 1154.5 -> IBRD 9, FBRD 1 (datasheet 4.2.7.1), 922,080 baud (+0.05 %).  On a Pico these pins go to a
 *   USB-serial bridge, e.g. the Raspberry Pi Debug Probe's UART.
 * Timer: the Cortex-M0+ has no DWT cycle counter.  SysTick runs from the processor clock (CLKSOURCE = 1) over
 *   its full 24-bit range; its interrupt counts periods of 2^24 cycles (126 ms at 133 MHz) and
 *   th_port_timer_read() combines both into 64-bit clk_sys CYCLES (unit "cycles").  The period interrupt
 *   itself takes some tens of cycles per 2^24 counted (a few ppm), included in the measurement.
 *   (The RP2040's 64-bit TIMER counts microseconds instead; it is not used, so that the unit stays cycles.)
 */
#include <stdint.h>

#include "../th_cortex_m.h"

/* Atomic register aliases (datasheet 2.1.2). */
#define SET_ALIAS 0x2000u
#define CLR_ALIAS 0x3000u

#define RESETS_BASE 0x4000C000u
#define RESETS_RESET TH_REG(RESETS_BASE + 0x0u)
#define RESETS_RESET_DONE TH_REG(RESETS_BASE + 0x8u)
#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_PLL_SYS (1u << 12)
#define RESET_UART0 (1u << 22)

#define XOSC_BASE 0x40024000u
#define XOSC_CTRL TH_REG(XOSC_BASE + 0x00u)
#define XOSC_STATUS TH_REG(XOSC_BASE + 0x04u)
#define XOSC_STARTUP TH_REG(XOSC_BASE + 0x0Cu)
#define XOSC_CTRL_ENABLE_1_15MHZ ((0xFABu << 12) | 0xAA0u)
#define XOSC_STATUS_STABLE (1u << 31)

#define CLOCKS_BASE 0x40008000u
#define CLK_REF_CTRL TH_REG(CLOCKS_BASE + 0x30u)
#define CLK_REF_SELECTED TH_REG(CLOCKS_BASE + 0x38u)
#define CLK_SYS_CTRL TH_REG(CLOCKS_BASE + 0x3Cu)
#define CLK_SYS_SELECTED TH_REG(CLOCKS_BASE + 0x44u)
#define CLK_PERI_CTRL TH_REG(CLOCKS_BASE + 0x48u)
#define CLK_SYS_RESUS_CTRL TH_REG(CLOCKS_BASE + 0x78u)

#define PLL_SYS_BASE 0x40028000u
#define PLL_CS TH_REG(PLL_SYS_BASE + 0x0u)
#define PLL_PWR TH_REG(PLL_SYS_BASE + 0x4u)
#define PLL_PWR_CLR TH_REG(PLL_SYS_BASE + CLR_ALIAS + 0x4u)
#define PLL_FBDIV_INT TH_REG(PLL_SYS_BASE + 0x8u)
#define PLL_PRIM TH_REG(PLL_SYS_BASE + 0xCu)
#define PLL_CS_LOCK (1u << 31)
#define PLL_PWR_PD (1u << 0)
#define PLL_PWR_POSTDIVPD (1u << 3)
#define PLL_PWR_VCOPD (1u << 5)

#define IO_BANK0_GPIO_CTRL(n) TH_REG(0x40014000u + 0x04u + 8u * (n))
#define PADS_BANK0_GPIO(n) TH_REG(0x4001C000u + 0x04u + 4u * (n))
#define FUNCSEL_UART 2u

#define UART0_BASE 0x40034000u
#define UART_DR TH_REG(UART0_BASE + 0x00u)
#define UART_FR TH_REG(UART0_BASE + 0x18u)
#define UART_IBRD TH_REG(UART0_BASE + 0x24u)
#define UART_FBRD TH_REG(UART0_BASE + 0x28u)
#define UART_LCR_H TH_REG(UART0_BASE + 0x2Cu)
#define UART_CR TH_REG(UART0_BASE + 0x30u)
#define UART_FR_RXFE (1u << 4)
#define UART_FR_TXFF (1u << 5)

#define TH_CLK_SYS_HZ 133000000u
#ifndef TH_BAUD /* from boards.yaml serial.baudrate (harness/build.py) */
#define TH_BAUD 115200u
#endif
#define SYSTICK_PERIOD (1u << 24)

static volatile uint32_t systick_periods;

void th_systick_handler(void) { ++systick_periods; }

static void unreset(uint32_t bits) {
    TH_REG(RESETS_BASE + CLR_ALIAS + 0x0u) = bits;
    while ((RESETS_RESET_DONE & bits) != bits) {
    }
}

static void clock_init(void) {
    CLK_SYS_RESUS_CTRL = 0;
    XOSC_STARTUP = ((12000000u / 1000u) + 128u) / 256u; /* ~1 ms start-up delay, datasheet 2.16.3 */
    XOSC_CTRL = XOSC_CTRL_ENABLE_1_15MHZ;
    while (!(XOSC_STATUS & XOSC_STATUS_STABLE)) {
    }
    /* clk_sys off any aux source (glitchless mux to clk_ref), then clk_ref onto the crystal. */
    CLK_SYS_CTRL &= ~1u;
    while (CLK_SYS_SELECTED != 1u) {
    }
    CLK_REF_CTRL = 2u; /* SRC = xosc_clksrc */
    while (CLK_REF_SELECTED != (1u << 2)) {
    }
    /* PLL_SYS to 133 MHz (datasheet 2.18.2.1 programming sequence). */
    TH_REG(RESETS_BASE + SET_ALIAS + 0x0u) = RESET_PLL_SYS;
    unreset(RESET_PLL_SYS);
    PLL_CS = 1u; /* REFDIV */
    PLL_FBDIV_INT = 133u;
    PLL_PWR_CLR = PLL_PWR_PD | PLL_PWR_VCOPD;
    while (!(PLL_CS & PLL_CS_LOCK)) {
    }
    PLL_PRIM = (6u << 16) | (2u << 12);
    PLL_PWR_CLR = PLL_PWR_POSTDIVPD;
    /* clk_sys = clksrc_clk_sys_aux (AUXSRC 0 = pll_sys); clk_peri = clk_sys, enabled. */
    CLK_SYS_CTRL = (0u << 5);
    CLK_SYS_CTRL = (0u << 5) | 1u;
    while (CLK_SYS_SELECTED != (1u << 1)) {
    }
    CLK_PERI_CTRL = (1u << 11) | (0u << 5);
}

static void uart_init(void) {
    unreset(RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0);
    uint32_t div = (8u * TH_CLK_SYS_HZ) / TH_BAUD;
    UART_IBRD = div >> 7;
    UART_FBRD = ((div & 0x7Fu) + 1u) / 2u;
    UART_LCR_H = (3u << 5) | (1u << 4); /* 8 bits, FIFOs enabled (writing LCR_H latches the divisors) */
    UART_CR = (1u << 9) | (1u << 8) | 1u; /* RXE, TXE, UARTEN */
    IO_BANK0_GPIO_CTRL(0) = FUNCSEL_UART;
    IO_BANK0_GPIO_CTRL(1) = FUNCSEL_UART;
    PADS_BANK0_GPIO(1) |= (1u << 6); /* IE on the RX pad (the reset value, made explicit) */
}

static void timer_init(void) {
    systick_periods = 0;
    TH_SYST_RVR = SYSTICK_PERIOD - 1u;
    TH_SYST_CVR = 0;
    TH_SYST_CSR = (1u << 2) | (1u << 1) | 1u; /* CLKSOURCE = processor clock, TICKINT, ENABLE */
}

void th_port_init(void) {
    clock_init();
    uart_init();
    timer_init();
}

int th_port_getc(void) {
    while (UART_FR & UART_FR_RXFE) {
    }
    return (int)(UART_DR & 0xFFu); /* error bits 8-11 dropped: the protocol's CRC catches corrupt bytes */
}

void th_port_write(const uint8_t *buf, uint32_t len) {
    for (uint32_t i = 0; i < len; ++i) {
        while (UART_FR & UART_FR_TXFF) {
        }
        UART_DR = buf[i];
    }
}

/* Cycles since timer_init: periods * 2^24 + (2^24 - 1 - SysTick current value).  Interrupts are masked while
 * reading; a wrap whose interrupt is still pending (ICSR.PENDSTSET) is counted here, with the value re-read
 * after the wrap. */
uint64_t th_port_timer_read(void) {
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    uint32_t periods = systick_periods;
    uint32_t value = TH_SYST_CVR;
    if (TH_SCB_ICSR & TH_ICSR_PENDSTSET) {
        value = TH_SYST_CVR;
        ++periods;
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return (uint64_t)periods * SYSTICK_PERIOD + (SYSTICK_PERIOD - 1u - value);
}

const char *th_port_timer_unit(void) { return "cycles"; }

void th_port_timestamp(void) {}
