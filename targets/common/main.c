/* tinyhil firmware entry: bring up the board, then serve the serial protocol (targets/PROTOCOL.md). */
#include "th_port.h"
#include "th_protocol.h"

int main(void)
{
    th_port_init();
    th_protocol_run();
    return 0;
}
