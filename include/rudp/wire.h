/* rudp wire format v1: one fixed 36-byte header, a SACK bitmap, the payload and a
 * CRC32C trailer, all in network byte order. docs/protocol.md is the normative text.
 * Applications need only the constants; the functions serve drivers, dissectors and
 * tests. They keep no state and allocate nothing, so they are all thread-safe. */
#ifndef RUDP_WIRE_H
#define RUDP_WIRE_H

#include "rudp/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUDP_VERSION 1u
#define RUDP_HEADER_SIZE 36u
#define RUDP_TRAILER_SIZE 4u   /* CRC32C */
#define RUDP_MAX_PAYLOAD 1200u /* one message per datagram; larger is RUDP_EMSGSIZE */
#define RUDP_MAX_WINDOW 1024u  /* packets; the SACK bitmap covers a whole window */
#define RUDP_MAX_SACK_BYTES (RUDP_MAX_WINDOW / 8u)
#define RUDP_COOKIE_SIZE 16u
#define RUDP_MAX_DATAGRAM \
    (RUDP_HEADER_SIZE + RUDP_MAX_SACK_BYTES + RUDP_MAX_PAYLOAD + RUDP_TRAILER_SIZE)

typedef enum rudp_type {
    RUDP_T_INITIAL = 1, /* client -> server: open, optionally echoing a cookie */
    RUDP_T_RETRY = 2,   /* server -> client: stateless cookie challenge */
    RUDP_T_ACCEPT = 3,  /* server -> client: connection created */
    RUDP_T_DATA = 4,    /* one message, one sequence number */
    RUDP_T_ACK = 5,     /* acknowledgement only */
    RUDP_T_FIN = 6,     /* end of this direction's stream; takes a sequence number */
    RUDP_T_RESET = 7,   /* the connection is gone; payload is one reason byte */
} rudp_type_t;

#define RUDP_F_ACK 0x01u /* ack, sack, ts_echo and ack_delay carry meaning */
#define RUDP_F_COALESCED \
    0x02u /* DATA only: the payload is records of (u16 length,
             bytes), one message each, taking consecutive
             sequence numbers from seq on */
#define RUDP_F_KNOWN (RUDP_F_ACK | RUDP_F_COALESCED)
#define RUDP_RECORD_HEADER 2u /* the length prefix of a coalesced record */

/* Reasons carried by RESET. */
typedef enum rudp_reset_reason {
    RUDP_RESET_UNKNOWN = 0, /* no connection with this ID */
    RUDP_RESET_FULL = 1,    /* the server is at its client limit */
    RUDP_RESET_ABORT = 2,   /* the peer aborted (dead-peer limit, protocol error) */
    RUDP_RESET_CLOSED = 3,  /* the peer finished but could not deliver its FIN: seq is
                               the FIN's number, ack what the peer received (all of
                               ours, our FIN included); a receiver holding everything
                               below seq takes it as that FIN */
    RUDP_RESET_SOURCE = 4,  /* the server holds its limit of connections from the
                               client's source address */
} rudp_reset_reason_t;

/* One datagram, decoded. `sack` and `payload` are borrowed pointers: rudp_wire_encode()
 * reads sack_len and payload_len bytes from them; rudp_wire_decode() points them into the
 * datagram it was given, so they are valid only as long as that buffer is. */
typedef struct rudp_hdr {
    uint8_t version;
    uint8_t type;
    uint8_t flags;
    uint8_t sack_len;   /* bytes of SACK bitmap, 0..RUDP_MAX_SACK_BYTES */
    uint64_t cid;       /* connection ID, chosen at random by the client */
    uint32_t seq;       /* DATA/FIN: this packet's sequence; INITIAL/ACCEPT: the ISN */
    uint32_t ack;       /* next sequence expected from the peer (cumulative) */
    uint32_t ts;        /* sender's clock, microseconds, low 32 bits */
    uint32_t ts_echo;   /* ts of the packet that triggered this ACK */
    uint32_t ack_delay; /* microseconds between that packet's arrival and this ACK */
    uint16_t rwnd;      /* packets the receiver can still take from seq `ack` on */
    uint16_t payload_len;
    const uint8_t *sack; /* bit i (MSB first) set: seq ack+1+i received */
    const uint8_t *payload;
} rudp_hdr_t;

/* Size in bytes of the datagram rudp_wire_encode() would write for h: header, sack_len,
 * payload_len and trailer. h is not checked. */
RUDP_API size_t rudp_wire_size(const rudp_hdr_t *h);

/* Writes h (with version forced to RUDP_VERSION) and its CRC into buf[0..cap); h is only
 * read.
 * Returns the length, or RUDP_EINVAL (bad type/flags/sack_len/payload for the type),
 * RUDP_EMSGSIZE (payload over RUDP_MAX_PAYLOAD), RUDP_EBUFSIZE (cap too small). */
RUDP_API int rudp_wire_encode(const rudp_hdr_t *h, uint8_t *buf, size_t cap);

/* Parses and checks the datagram buf[0..len): length fields against the real length,
 * version, type, flags, per-type payload rules, CRC. On success *h is filled and
 * h->sack/h->payload point into buf (nothing is copied); on failure *h is unspecified.
 * Returns 0, RUDP_EMALFORMED, RUDP_EVERSION or RUDP_ECHECKSUM. */
RUDP_API int rudp_wire_decode(rudp_hdr_t *h, const uint8_t *buf, size_t len);

/* Walks the records of a decoded DATA datagram with RUDP_F_COALESCED (decode has
 * already checked that they fill the payload exactly). Start with *off = 0; each call
 * advances it. Returns 1 and sets *msg (pointing into h->payload) and *len for the next
 * record, 0 when there are no more. All pointers must be valid. */
RUDP_API int rudp_wire_record(const rudp_hdr_t *h, size_t *off, const uint8_t **msg, size_t *len);

/* Reads the connection ID into *cid without any other check (not even the CRC), for
 * demultiplexing before rudp_conn_input() or rudp_listener_input() check the rest.
 * Returns 0, or RUDP_EMALFORMED when len is shorter than a header and trailer. */
RUDP_API int rudp_wire_peek_cid(const uint8_t *buf, size_t len, uint64_t *cid);

/* A short name for a packet type ("DATA"), "?" when unknown. Never NULL; static. */
RUDP_API const char *rudp_wire_type_name(unsigned type);

#ifdef __cplusplus
}
#endif
#endif
