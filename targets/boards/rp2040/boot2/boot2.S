/* tinyhil's RP2040 second-stage loader (our own, not pico-sdk's): the first 256 bytes of flash.
 *
 * The bootrom copies these 256 bytes to SRAM (0x20041F00), checks the CRC-32 of the first 252 against the
 * last 4 and runs them (RP2040 datasheet 2.8.1.3).  This loader uses the bootrom's own flash functions
 * (datasheet 2.8.3.1.3, looked up by their two-letter codes through the ROM function table):
 *   'IF' connect_internal_flash, 'EX' flash_exit_xip, 'CX' flash_enter_cmd_xip,
 * which leave the SSI in serial 03h-read XIP mode: slower than QSPI XIP but supported by every SPI flash,
 * with the 16 KB XIP cache enabled.  Then it points VTOR at the application's vector table (flash + 0x100),
 * loads the stack pointer and jumps to the reset handler.  Position independent (only PC-relative literals).
 *
 * Assembled into boot2_image.c by scripts/make_rp2040_boot2.py, which pads to 252 bytes and appends the
 * CRC-32 (poly 0x04C11DB7, init 0xFFFFFFFF, not reflected, no final XOR).
 */
    .syntax unified
    .cpu cortex-m0plus
    .thumb
    .section .boot2, "ax"
    .global th_boot2_entry
    .type th_boot2_entry, %function
th_boot2_entry:
    movs r0, #0x14
    ldrh r4, [r0]           /* r4 = ROM function table (16-bit pointer at 0x14) */
    movs r0, #0x18
    ldrh r5, [r0]           /* r5 = rom_table_lookup(table, code) (16-bit pointer at 0x18) */

    ldr r1, =0x4649         /* 'I' | 'F' << 8 : connect_internal_flash */
    bl call_rom
    ldr r1, =0x5845         /* 'E' | 'X' << 8 : flash_exit_xip */
    bl call_rom
    ldr r1, =0x5843         /* 'C' | 'X' << 8 : flash_enter_cmd_xip */
    bl call_rom

    ldr r0, =0x10000100     /* application vector table, right after this loader */
    ldr r1, =0xE000ED08     /* VTOR */
    str r0, [r1]
    ldmia r0!, {r1, r2}     /* initial SP, reset handler */
    msr msp, r1
    bx r2

/* call_rom: look up code r1 in the ROM table and call the function (no arguments). */
call_rom:
    push {lr}
    mov r0, r4
    blx r5                  /* r0 = function pointer (Thumb bit set) */
    blx r0
    pop {pc}

    .ltorg
