/* Board port for the ESP32-DevKitC (ESP32-D0WD, Xtensa LX6 at 240 MHz) under ESP-IDF (PlatformIO env esp32).
 *
 * Built only on machines with Espressif's toolchain (PlatformIO platform espressif32); not built or run here.
 * Entry: ESP-IDF calls app_main() from its main task; it runs the same firmware main() as every board.
 * Clock: CPU at 240 MHz (sdkconfig.defaults: CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ_240).
 * Serial: UART0 (GPIO1 TX / GPIO3 RX) on the board's CP2102 USB bridge, TH_BAUD (boards.yaml) 8N1, through ESP-IDF's UART
 *   driver with a 4 KB receive buffer.  ESP-IDF's log output is turned off (sdkconfig.defaults) so that only
 *   the protocol uses UART0 after boot; the ROM/bootloader banner before `m-ready` is skipped by the host.
 * Timer: the CCOUNT special register (core cycles, 32 bits, wraps every 17.9 s at 240 MHz) extended to 64 bits
 *   by wrap detection (read at least once per wrap period: th_port_getc reads it while idle); unit "cycles".
 *   The task watchdog is disabled (sdkconfig.defaults) so that a long inference is not interrupted.
 */
#include <stdint.h>

#include "driver/uart.h"
#include "esp_cpu.h"
#include "th_port.h"

#define TH_UART UART_NUM_0
#ifndef TH_BAUD /* from boards.yaml serial.baudrate (harness/build.py) */
#define TH_BAUD 115200
#endif
#define TH_RX_BUFFER 4096

extern int main(void);

static uint32_t timer_last, timer_wraps;

void app_main(void) { (void)main(); }

void th_port_init(void) {
    const uart_config_t cfg = {
        .baud_rate = TH_BAUD,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    uart_driver_install(TH_UART, TH_RX_BUFFER, 0, 0, NULL, 0);
    uart_param_config(TH_UART, &cfg);
    timer_last = 0;
    timer_wraps = 0;
}

int th_port_getc(void) {
    uint8_t c;
    while (uart_read_bytes(TH_UART, &c, 1, 1) != 1) { /* 1-tick timeout: keep the timer extension current */
        (void)th_port_timer_read();
    }
    return (int)c;
}

void th_port_write(const uint8_t *buf, uint32_t len) {
    uart_write_bytes(TH_UART, (const char *)buf, len);
    uart_wait_tx_done(TH_UART, portMAX_DELAY);
}

uint64_t th_port_timer_read(void) {
    uint32_t now = (uint32_t)esp_cpu_get_cycle_count();
    if (now < timer_last) {
        ++timer_wraps;
    }
    timer_last = now;
    return ((uint64_t)timer_wraps << 32) | now;
}

const char *th_port_timer_unit(void) { return "cycles"; }

void th_port_timestamp(void) {}
