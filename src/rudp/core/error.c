/* Text for the library's error codes, so drivers print one clear line per failure. */
#include "rudp/error.h"

const char *rudp_strerror(int code)
{
    switch ((rudp_err_t)code) {
    case RUDP_OK:
        return "success";
    case RUDP_EINVAL:
        return "invalid argument";
    case RUDP_ENOMEM:
        return "out of memory or over a fixed limit";
    case RUDP_EMSGSIZE:
        return "message too large for one datagram";
    case RUDP_EAGAIN:
        return "try again later";
    case RUDP_EMALFORMED:
        return "malformed datagram";
    case RUDP_ECHECKSUM:
        return "checksum mismatch";
    case RUDP_EVERSION:
        return "unsupported protocol version";
    case RUDP_ETIMEDOUT:
        return "peer not answering (timed out)";
    case RUDP_ERESET:
        return "connection reset by peer";
    case RUDP_ECLOSED:
        return "connection closed";
    case RUDP_ESTATE:
        return "operation not valid in this connection state";
    case RUDP_ECOOKIE:
        return "invalid handshake cookie";
    case RUDP_EBUFSIZE:
        return "buffer too small";
    case RUDP_EREFUSED:
        return "connection refused by server";
    case RUDP_ESYS:
        return "system call failed";
    case RUDP_EADDR:
        return "bad or unresolvable address";
    case RUDP_EUNREACH:
        return "peer not reachable";
    case RUDP_ENOTSUP:
        return "not supported (DTLS module or OpenSSL missing)";
    case RUDP_ELIMIT:
        return "connection refused: too many from this address";
    }
    return "unknown error";
}
