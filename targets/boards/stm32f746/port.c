/* Board port for the NUCLEO-F746ZG (STM32F746ZG), register level (RM0385 Rev 8, no vendor HAL).
 *
 * Clock: HSE in bypass mode from the ST-LINK's 8 MHz MCO -> PLL (M=4, N=216, P=2, Q=9): 2 MHz VCO input,
 *   432 MHz VCO, SYSCLK 216 MHz, 48 MHz on PLLQ.  Voltage scale 1 with over-drive (required above 180 MHz,
 *   RM0385 4.1.4), flash 7 wait states with ART and prefetch (table 7: 210-216 MHz at 2.7-3.6 V).
 *   AHB 216 MHz, APB1 54 MHz (/4), APB2 108 MHz (/2).
 * Serial: USART3 on PD8 (TX) / PD9 (RX), AF7, wired to the ST-LINK virtual COM port on the NUCLEO-144;
 *   TH_BAUD 8N1 (boards.yaml), oversampling by 16: BRR = round(54 MHz / baud), e.g. 921600 -> 59 (-0.7 %).  Overrun detection is
 *   disabled (CR3.OVRDIS) so that a lost byte never wedges reception; the protocol's CRC catches it.
 * Caches: L1 I-cache and D-cache enabled (invalidate, then enable; ARMv7-M ARM B2.2.7, the CMSIS sequence).
 * Timer: DWT CYCCNT, core cycles at 216 MHz, extended to 64 bits in software (th_cortex_m.h); unit "cycles".
 */
#include <stdint.h>

#include "../th_cortex_m.h"

#define RCC_BASE 0x40023800u
#define RCC_CR TH_REG(RCC_BASE + 0x00u)
#define RCC_PLLCFGR TH_REG(RCC_BASE + 0x04u)
#define RCC_CFGR TH_REG(RCC_BASE + 0x08u)
#define RCC_AHB1ENR TH_REG(RCC_BASE + 0x30u)
#define RCC_APB1ENR TH_REG(RCC_BASE + 0x40u)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)

#define PWR_CR1 TH_REG(0x40007000u)
#define PWR_CSR1 TH_REG(0x40007004u)
#define PWR_CR1_VOS_SCALE1 (3u << 14)
#define PWR_CR1_ODEN (1u << 16)
#define PWR_CR1_ODSWEN (1u << 17)
#define PWR_CSR1_ODRDY (1u << 16)
#define PWR_CSR1_ODSWRDY (1u << 17)

#define FLASH_ACR TH_REG(0x40023C00u)
#define FLASH_ACR_LATENCY_7WS 7u
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ARTEN (1u << 9)

#define GPIOD_BASE 0x40020C00u
#define GPIOD_MODER TH_REG(GPIOD_BASE + 0x00u)
#define GPIOD_OSPEEDR TH_REG(GPIOD_BASE + 0x08u)
#define GPIOD_AFRH TH_REG(GPIOD_BASE + 0x24u)

#define USART3_BASE 0x40004800u
#define USART3_CR1 TH_REG(USART3_BASE + 0x00u)
#define USART3_CR3 TH_REG(USART3_BASE + 0x08u)
#define USART3_BRR TH_REG(USART3_BASE + 0x0Cu)
#define USART3_ISR TH_REG(USART3_BASE + 0x1Cu)
#define USART3_ICR TH_REG(USART3_BASE + 0x20u)
#define USART3_RDR TH_REG(USART3_BASE + 0x24u)
#define USART3_TDR TH_REG(USART3_BASE + 0x28u)
#define USART_ISR_RXNE (1u << 5)
#define USART_ISR_TXE (1u << 7)
#define USART_ICR_ALL 0x00121B5Fu

#define SCB_CSSELR TH_REG(0xE000ED84u)
#define SCB_CCSIDR TH_REG(0xE000ED80u)
#define SCB_ICIALLU TH_REG(0xE000EF50u)
#define SCB_DCISW TH_REG(0xE000EF60u)
#define SCB_CCR_DC (1u << 16)
#define SCB_CCR_IC (1u << 17)

#define TH_APB1_HZ 54000000u
#ifndef TH_BAUD /* from boards.yaml serial.baudrate (harness/build.py) */
#define TH_BAUD 115200u
#endif

static uint32_t timer_last, timer_wraps;

static void clock_init(void) {
    RCC_APB1ENR |= (1u << 28); /* PWREN */
    (void)RCC_APB1ENR;
    PWR_CR1 = (PWR_CR1 & ~(3u << 14)) | PWR_CR1_VOS_SCALE1;
    RCC_CR |= RCC_CR_HSEBYP; /* bypass: the ST-LINK drives an 8 MHz clock into OSC_IN */
    RCC_CR |= RCC_CR_HSEON;
    while (!(RCC_CR & RCC_CR_HSERDY)) {
    }
    RCC_PLLCFGR = 4u                /* PLLM */
                  | (216u << 6)     /* PLLN */
                  | (0u << 16)      /* PLLP = /2 */
                  | (1u << 22)      /* PLLSRC = HSE */
                  | (9u << 24);     /* PLLQ */
    RCC_CR |= RCC_CR_PLLON;
    PWR_CR1 |= PWR_CR1_ODEN; /* over-drive, RM0385 4.1.4: after PLLON, before switching SYSCLK */
    while (!(PWR_CSR1 & PWR_CSR1_ODRDY)) {
    }
    PWR_CR1 |= PWR_CR1_ODSWEN;
    while (!(PWR_CSR1 & PWR_CSR1_ODSWRDY)) {
    }
    FLASH_ACR = FLASH_ACR_LATENCY_7WS | FLASH_ACR_PRFTEN | FLASH_ACR_ARTEN;
    while ((FLASH_ACR & 0xFu) != FLASH_ACR_LATENCY_7WS) {
    }
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }
    RCC_CFGR = (RCC_CFGR & ~0xFCF0u) | (0u << 4) /* HPRE /1 */ | (5u << 10) /* PPRE1 /4 */ | (4u << 13); /* PPRE2 /2 */
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u; /* SW = PLL */
    while (((RCC_CFGR >> 2) & 3u) != 2u) {
    }
}

static void cache_init(void) {
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    SCB_ICIALLU = 0;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    TH_SCB_CCR |= SCB_CCR_IC;
    __asm__ volatile("dsb\n\tisb" ::: "memory");

    SCB_CSSELR = 0; /* level 1 data cache */
    __asm__ volatile("dsb" ::: "memory");
    uint32_t ccsidr = SCB_CCSIDR;
    uint32_t sets = (ccsidr >> 13) & 0x7FFFu;
    uint32_t ways = (ccsidr >> 3) & 0x3FFu;
    do { /* invalidate by set/way; Cortex-M7 line size 32 B (shift 5), 4 ways (shift 30) */
        uint32_t w = ways;
        do {
            SCB_DCISW = (sets << 5) | (w << 30);
        } while (w-- != 0u);
    } while (sets-- != 0u);
    __asm__ volatile("dsb" ::: "memory");
    TH_SCB_CCR |= SCB_CCR_DC;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

static void uart_init(void) {
    RCC_AHB1ENR |= (1u << 3);  /* GPIODEN */
    RCC_APB1ENR |= (1u << 18); /* USART3EN */
    (void)RCC_APB1ENR;
    GPIOD_MODER = (GPIOD_MODER & ~(0xFu << 16)) | (0xAu << 16);   /* PD8, PD9: alternate function */
    GPIOD_OSPEEDR = (GPIOD_OSPEEDR & ~(0xFu << 16)) | (0xAu << 16); /* high speed */
    GPIOD_AFRH = (GPIOD_AFRH & ~0xFFu) | 0x77u;                     /* AF7 = USART3 */
    USART3_CR1 = 0;
    USART3_BRR = (TH_APB1_HZ + TH_BAUD / 2u) / TH_BAUD;
    USART3_CR3 = (1u << 12); /* OVRDIS */
    USART3_CR1 = (1u << 3) | (1u << 2) | 1u; /* TE, RE, UE */
}

void th_port_init(void) {
    clock_init();
    cache_init();
    uart_init();
    th_cm_dwt_start();
    timer_last = 0;
    timer_wraps = 0;
}

int th_port_getc(void) {
    while (!(USART3_ISR & USART_ISR_RXNE)) {
        USART3_ICR = USART_ICR_ALL; /* framing/noise errors must not block reception */
        (void)th_port_timer_read(); /* keep the 64-bit extension current while idle */
    }
    return (int)(USART3_RDR & 0xFFu);
}

void th_port_write(const uint8_t *buf, uint32_t len) {
    for (uint32_t i = 0; i < len; ++i) {
        while (!(USART3_ISR & USART_ISR_TXE)) {
        }
        USART3_TDR = buf[i];
    }
}

uint64_t th_port_timer_read(void) { return th_cm_dwt_read64(&timer_last, &timer_wraps); }

const char *th_port_timer_unit(void) { return "cycles"; }

void th_port_timestamp(void) {}
