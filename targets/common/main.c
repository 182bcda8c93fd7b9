/* tinyhil firmware entry: bring up the board, then serve the serial protocol (targets/PROTOCOL.md). */
#include "th_port.h"
#include "th_protocol.h"

/* Model set-up before the first command (the TFLM backends build their interpreter here); tinyhil's
 * generated code needs none, so the default does nothing. */
__attribute__((weak)) void th_model_init(void) {}

int main(void)
{
    th_port_init();
    th_model_init();
    th_protocol_run();
    return 0;
}
