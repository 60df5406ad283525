/* librudp, the whole public interface: reliable, ordered messages over UDP.
 * Include this one header and link with `pkg-config --cflags --libs rudp`:
 *   rudp/conn.h    the I/O-free engine (one connection: input, prepare, timers)
 *   rudp/listen.h  the server's stateless handshake front door
 *   rudp/sock.h    the engine on real UDP sockets (client, many-client server)
 *   rudp/dtls.h    DTLS 1.2 sessions under the driver (a build with -Ddtls)
 *   rudp/random.h  the system's random source, for IDs and keys
 *   rudp/sim.h     the seeded simulated link
 *   rudp/impair.h  netem-style impairment settings and their parser
 *   rudp/prng.h    the seeded PRNG behind the simulated link
 *   rudp/wire.h    the datagram format (docs/protocol.md)
 *   rudp/error.h   error codes and rudp_strerror()
 * Conventions (docs/api.md): times are microseconds of a monotonic clock; int results are
 * 0 or a count on success, a negative RUDP_E* code on failure; every object is used by one
 * thread at a time, and the library has no global mutable state. */
#ifndef RUDP_RUDP_H
#define RUDP_RUDP_H

#include "rudp/conn.h"
#include "rudp/dtls.h"
#include "rudp/error.h"
#include "rudp/export.h"
#include "rudp/impair.h"
#include "rudp/listen.h"
#include "rudp/prng.h"
#include "rudp/random.h"
#include "rudp/sim.h"
#include "rudp/sock.h"
#include "rudp/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version as "MAJOR.MINOR.PATCH", the same as `pkg-config --modversion
 * rudp`. The shared library's soname is librudp.so.MAJOR: MAJOR changes when the ABI does.
 * The wire format has its own version, RUDP_VERSION. Never NULL; a static string;
 * thread-safe. */
RUDP_API const char *rudp_version(void);

#ifdef __cplusplus
}
#endif
#endif
