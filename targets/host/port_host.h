/* The host port's addition to th_port.h: the board name chosen at run time.  The host DUT is built once and
 * started under several names (TH_HOST_BOARD), so instead of a string literal its build defines
 * TH_BOARD_NAME as th_host_board_name() and force-includes this header (-include) for the declaration.
 */
#ifndef TH_PORT_HOST_H
#define TH_PORT_HOST_H

/* TH_HOST_BOARD from the environment at th_port_init(), or "host" when unset or empty. */
const char *th_host_board_name(void);

#endif /* TH_PORT_HOST_H */
