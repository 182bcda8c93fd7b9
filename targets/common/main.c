/* tinyhil firmware entry: bring up the board, then serve the serial protocol (targets/PROTOCOL.md). */
#include "th_port.h"
#include "th_protocol.h"

/* Model set-up before the first command (the TFLM backends build their interpreter here); tinyhil's
 * generated code needs none, so the default does nothing. */
__attribute__((weak)) void th_model_init(void) {}

/* Called before every inference, outside the timed region (th_measure.c): a backend whose inference may
 * overwrite the loaded input restores it here (targets/tflm/th_tflm_model.cc).  tinyhil's generated code keeps
 * its input tensor alive for the whole inference, so the default does nothing. */
__attribute__((weak)) void th_model_prepare(void) {}

int main(void)
{
    th_port_init();
    th_model_init();
    th_protocol_run();
    return 0;
}
