/* Classic pcap writer for the socket driver's --pcap: each UDP datagram is recorded with
 * a synthesized IPv4 or IPv6 header and a UDP header (LINKTYPE_RAW), so tshark and
 * Wireshark show the real addresses and ports. Private to librudp. */
#ifndef RUDP_PCAP_H
#define RUDP_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RUDP_PCAP_MAGIC 0xa1b2c3d4u
#define RUDP_PCAP_LINKTYPE_RAW 101u
#define RUDP_PCAP_IP4_OVERHEAD 28u /* IPv4 header (20) + UDP header (8) */
#define RUDP_PCAP_IP6_OVERHEAD 48u /* IPv6 header (40) + UDP header (8) */

typedef struct rudp_pcap rudp_pcap_t;

/* Creates (truncates) path and writes the global header.
 * Returns 0, RUDP_EINVAL, RUDP_ENOMEM or RUDP_ESYS (errno tells). */
int rudp_pcap_open(rudp_pcap_t **out, const char *path);

/* Flushes and closes; NULL is fine. Returns 0 or RUDP_ESYS if a write ever failed. */
int rudp_pcap_close(rudp_pcap_t *p);

/* Builds the IP + UDP packet for one datagram from src to dst into out (cap bytes):
 * IPv4 when both addresses are IPv4 (or IPv4-mapped IPv6), IPv6 otherwise. The IPv4
 * header checksum and the UDP checksum (mandatory over IPv6, RFC 8200 §8.1) are
 * computed. Returns the packet length, or RUDP_EINVAL / RUDP_EMSGSIZE. */
int rudp_pcap_frame(const struct sockaddr *src, const struct sockaddr *dst, const uint8_t *data,
                    size_t len, uint16_t ip_id, uint8_t *out, size_t cap);

/* Appends one record stamped with CLOCK_REALTIME. Returns 0 or a negative RUDP_E*;
 * after a write error the file stays closed for writing and later calls do nothing. */
int rudp_pcap_write(rudp_pcap_t *p, const struct sockaddr *src, const struct sockaddr *dst,
                    const uint8_t *data, size_t len);

/* Pushes buffered records to the file, so a capture is readable while the program
 * runs. Returns 0 or RUDP_ESYS. */
int rudp_pcap_flush(rudp_pcap_t *p);

#endif
