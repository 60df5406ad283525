/* rudp error codes. Every library function that returns int returns 0, or a count or a
 * length, on success and one of these negative values on failure; the function's comment
 * lists which ones it can return. docs/api.md has a table with typical causes.
 * Thread-safety: rudp_strerror() is thread-safe (it only returns string constants). */
#ifndef RUDP_ERROR_H
#define RUDP_ERROR_H

#include "rudp/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rudp_err {
    RUDP_OK = 0,
    RUDP_EINVAL = -1,     /* an argument is out of its documented range */
    RUDP_ENOMEM = -2,     /* the allocator failed, or a fixed cap is reached */
    RUDP_EMSGSIZE = -3,   /* message larger than RUDP_MAX_PAYLOAD; never cut */
    RUDP_EAGAIN = -4,     /* nothing to do now (window full, no datagram ready) */
    RUDP_EMALFORMED = -5, /* a datagram failed the wire checks (length, type) */
    RUDP_ECHECKSUM = -6,  /* the CRC32C does not match */
    RUDP_EVERSION = -7,   /* unknown protocol version */
    RUDP_ETIMEDOUT = -8,  /* the peer stopped answering (dead-peer limit, idle timeout);
                             rudp_cookie_check(): the cookie expired */
    RUDP_ERESET = -9,     /* the peer reset the connection */
    RUDP_ECLOSED = -10,   /* the connection is closing or closed */
    RUDP_ESTATE = -11,    /* the call does not fit the connection's state */
    RUDP_ECOOKIE = -12,   /* a handshake cookie is forged, expired or from another address */
    RUDP_EBUFSIZE = -13,  /* the caller's buffer is too small for the datagram */
    RUDP_EREFUSED = -14,  /* the server refused the connection (full) */
    RUDP_ESYS = -15,      /* a system call failed; errno tells which */
    RUDP_EADDR = -16,     /* an address could not be resolved or used */
    RUDP_EUNREACH = -17,  /* the peer is not reachable (ICMP port unreachable) */
    RUDP_ENOTSUP = -18,   /* not available here: DTLS without its module (rudp-dtls.so)
                             or OpenSSL 3, or a librudp built without DTLS */
    RUDP_ELIMIT = -19,    /* the server refused the connection: too many from this
                             source address (RESET with reason SOURCE) */
} rudp_err_t;

/* A short English phrase for `code` ("checksum mismatch"), for messages; "unknown error"
 * for a value that is not an rudp_err_t. Never NULL; the string is static (do not free
 * it) and stays valid for the life of the program. */
RUDP_API const char *rudp_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
