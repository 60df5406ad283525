/* librudp, the whole public interface: reliable, ordered messages over UDP.
 *   rudp/conn.h    the I/O-free engine (one connection: input, prepare, timers)
 *   rudp/listen.h  the server's stateless handshake front door
 *   rudp/sock.h    the engine on real UDP sockets (client, many-client server)
 *   rudp/sim.h     the seeded simulated link and netem-style impairment
 *   rudp/wire.h    the datagram format (docs/protocol.md)
 *   rudp/error.h   error codes and rudp_strerror() */
#ifndef RUDP_RUDP_H
#define RUDP_RUDP_H

#include "rudp/conn.h"
#include "rudp/error.h"
#include "rudp/export.h"
#include "rudp/listen.h"
#include "rudp/sim.h"
#include "rudp/sock.h"
#include "rudp/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version as "MAJOR.MINOR.PATCH" (the wire format has its own,
 * RUDP_VERSION). Never NULL. */
RUDP_API const char *rudp_version(void);

#ifdef __cplusplus
}
#endif
#endif
