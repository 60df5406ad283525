/* gen_pcap: writes a pcap (LINKTYPE_RAW, IPv4 + UDP) of rudp datagrams built by the real
 * encoder, rudp_wire_encode, for the Wireshark dissector's test (dissector.sh). It covers
 * every packet type, a SACK, a coalesced DATA, UTF-8 text, a corrupted CRC, a plain UDP
 * datagram the heuristic must leave alone, one DATA on hola's default port 7000, and two
 * broken datagrams there (a stray byte after the CRC, an unknown type).
 * The file is byte-for-byte the same on every run: fixed times, addresses and ports.
 * Usage: gen_pcap OUTPUT.pcap */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "rudp/error.h"
#include "rudp/wire.h"

#define CID 0x0123456789abcdefull
#define CLIENT_IP 0x7f000001u /* 127.0.0.1 */
#define SERVER_IP 0x7f000002u /* 127.0.0.2 */
#define CLIENT_PORT 50001u
#define SERVER_PORT 50002u /* not 7000: these frames are found by the heuristic */
#define DEFAULT_PORT 7000u

static FILE *out;
static unsigned frame_no;

/* The classic pcap global header, little-endian as written by an x86 libpcap; readers
 * tell the byte order from the magic number. */
static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void write_all(const void *p, size_t n)
{
    if (fwrite(p, 1, n, out) != n) {
        perror("gen_pcap: write");
        exit(1);
    }
}

static void pcap_header(void)
{
    uint8_t h[24];
    put_le32(h, 0xa1b2c3d4u);
    put_le16(h + 4, 2);
    put_le16(h + 6, 4);
    put_le32(h + 8, 0);      /* thiszone */
    put_le32(h + 12, 0);     /* sigfigs */
    put_le32(h + 16, 65535); /* snaplen */
    put_le32(h + 20, 101);   /* LINKTYPE_RAW: the packet starts at the IP header */
    write_all(h, sizeof h);
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* One record: IPv4 header, UDP header (checksum 0: "not computed", legal over IPv4)
 * and the datagram. */
static void udp_frame(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                      const uint8_t *data, size_t len)
{
    uint8_t pkt[20 + 8 + RUDP_MAX_DATAGRAM];
    if (len > RUDP_MAX_DATAGRAM) {
        fprintf(stderr, "gen_pcap: datagram too long\n");
        exit(1);
    }
    size_t total = 28 + len;
    memset(pkt, 0, 28);
    pkt[0] = 0x45; /* IPv4, 5 words of header */
    rudp_put16(pkt + 2, (uint16_t)total);
    rudp_put16(pkt + 4, (uint16_t)(frame_no + 1)); /* identification */
    pkt[6] = 0x40;                                 /* don't fragment */
    pkt[8] = 64;                                   /* TTL */
    pkt[9] = 17;                                   /* UDP */
    rudp_put32(pkt + 12, src);
    rudp_put32(pkt + 16, dst);
    rudp_put16(pkt + 10, ip_checksum(pkt, 20));
    rudp_put16(pkt + 20, sport);
    rudp_put16(pkt + 22, dport);
    rudp_put16(pkt + 24, (uint16_t)(8 + len));
    memcpy(pkt + 28, data, len);

    uint8_t rec[16];
    put_le32(rec, 1700000000u);          /* 2023-11-14, any fixed time */
    put_le32(rec + 4, 1000u * frame_no); /* one millisecond apart */
    put_le32(rec + 8, (uint32_t)total);
    put_le32(rec + 12, (uint32_t)total);
    write_all(rec, sizeof rec);
    write_all(pkt, total);
    frame_no++;
}

/* Encodes h with the library and writes it from the client (up) or the server (down).
 * corrupt: flip one bit of the CRC trailer after encoding. */
static void rudp_frame(const rudp_hdr_t *h, int up, uint16_t server_port, int corrupt)
{
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n = rudp_wire_encode(h, buf, sizeof buf);
    if (n < 0) {
        fprintf(stderr, "gen_pcap: rudp_wire_encode (frame %u): %d\n", frame_no + 1, n);
        exit(1);
    }
    if (corrupt)
        buf[n - 1] ^= 0x01;
    if (up)
        udp_frame(CLIENT_IP, CLIENT_PORT, SERVER_IP, server_port, buf, (size_t)n);
    else
        udp_frame(SERVER_IP, server_port, CLIENT_IP, CLIENT_PORT, buf, (size_t)n);
}

/* Appends one coalesced record (u16 length, bytes) to p at *off. */
static void record(uint8_t *p, size_t *off, const char *msg)
{
    size_t n = strlen(msg);
    rudp_put16(p + *off, (uint16_t)n);
    memcpy(p + *off + 2, msg, n);
    *off += 2 + n;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_pcap OUTPUT.pcap\n");
        return 2;
    }
    out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    pcap_header();

    static const uint8_t cookie[RUDP_COOKIE_SIZE] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x43, 0x3a, /* issued 1000250 µs */
        0x38, 0xdf, 0x9e, 0x55, 0xf6, 0x84, 0xe0, 0x55, /* MAC */
    };

    /* 1: INITIAL without cookie, client ISN 1000. */
    rudp_frame(
        &(rudp_hdr_t){ .type = RUDP_T_INITIAL, .cid = CID, .seq = 1000, .ts = 1000000, .rwnd = 64 },
        1, SERVER_PORT, 0);
    /* 2: RETRY with the cookie. */
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_RETRY,
                              .flags = RUDP_F_ACK,
                              .cid = CID,
                              .ts = 1000250,
                              .ts_echo = 1000000,
                              .payload_len = RUDP_COOKIE_SIZE,
                              .payload = cookie },
               0, SERVER_PORT, 0);
    /* 3: INITIAL echoing the cookie. */
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_INITIAL,
                              .cid = CID,
                              .seq = 1000,
                              .ts = 1000500,
                              .rwnd = 64,
                              .payload_len = RUDP_COOKIE_SIZE,
                              .payload = cookie },
               1, SERVER_PORT, 0);
    /* 4: ACCEPT, server ISN 5000. */
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_ACCEPT,
                              .flags = RUDP_F_ACK,
                              .cid = CID,
                              .seq = 5000,
                              .ack = 1000,
                              .ts = 1000750,
                              .ts_echo = 1000500,
                              .rwnd = 64 },
               0, SERVER_PORT, 0);
    /* 5: DATA, one UTF-8 message. */
    static const char julian[] = "Julián Alcibar Zubillaga";
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_DATA,
                              .flags = RUDP_F_ACK,
                              .cid = CID,
                              .seq = 1000,
                              .ack = 5000,
                              .ts = 1001000,
                              .ts_echo = 1000750,
                              .rwnd = 64,
                              .payload_len = (uint16_t)strlen(julian),
                              .payload = (const uint8_t *)julian },
               1, SERVER_PORT, 0);
    /* 6: DATA, coalesced: three records on 1001..1003, one of them empty. */
    uint8_t recs[64];
    size_t rlen = 0;
    record(recs, &rlen, "Ana");
    record(recs, &rlen, "");
    record(recs, &rlen, "Ñandú");
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_DATA,
                              .flags = RUDP_F_ACK | RUDP_F_COALESCED,
                              .cid = CID,
                              .seq = 1001,
                              .ack = 5000,
                              .ts = 1001100,
                              .ts_echo = 1000750,
                              .rwnd = 64,
                              .payload_len = (uint16_t)rlen,
                              .payload = recs },
               1, SERVER_PORT, 0);
    /* 7: ACK from the server: everything before 1002 arrived, and past the gap bits 1, 2,
     * 3 and 10 (MSB first) say 1004..1006 and 1013 did too. */
    static const uint8_t sack[2] = { 0x70, 0x20 };
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_ACK,
                              .flags = RUDP_F_ACK,
                              .cid = CID,
                              .seq = 5000,
                              .ack = 1002,
                              .ts = 1001300,
                              .ts_echo = 1001100,
                              .ack_delay = 200,
                              .rwnd = 60,
                              .sack_len = sizeof sack,
                              .sack = sack },
               0, SERVER_PORT, 0);
    /* 8: DATA from the server, carrying a SACK too. */
    static const char hola[] = "Hola Julián Alcibar Zubillaga";
    static const uint8_t sack1[1] = { 0x80 };
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_DATA,
                              .flags = RUDP_F_ACK,
                              .cid = CID,
                              .seq = 5000,
                              .ack = 1002,
                              .ts = 1001400,
                              .ts_echo = 1001100,
                              .ack_delay = 300,
                              .rwnd = 61,
                              .sack_len = 1,
                              .sack = sack1,
                              .payload_len = (uint16_t)strlen(hola),
                              .payload = (const uint8_t *)hola },
               0, SERVER_PORT, 0);
    /* 9: FIN from the client. */
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_FIN,
                              .flags = RUDP_F_ACK,
                              .cid = CID,
                              .seq = 1004,
                              .ack = 5001,
                              .ts = 1002000,
                              .ts_echo = 1001400,
                              .ack_delay = 600,
                              .rwnd = 64 },
               1, SERVER_PORT, 0);
    /* 10: RESET(FULL). */
    static const uint8_t full = RUDP_RESET_FULL;
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_RESET,
                              .cid = 0xfedcba9876543210ull,
                              .ts = 2000000,
                              .payload_len = 1,
                              .payload = &full },
               0, SERVER_PORT, 0);
    /* 11: DATA whose CRC was damaged on the way. */
    static const char yanina[] = "Yanina De Luna Ocampo";
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_DATA,
                              .flags = RUDP_F_ACK,
                              .cid = CID,
                              .seq = 1005,
                              .ack = 5001,
                              .ts = 1002100,
                              .ts_echo = 1001400,
                              .rwnd = 64,
                              .payload_len = (uint16_t)strlen(yanina),
                              .payload = (const uint8_t *)yanina },
               1, SERVER_PORT, 1);
    /* 12: plain UDP hola, not rudp: the heuristic must not claim it. */
    static const char plain[] = "Hola Ana, this is plain UDP and not rudp at all\n";
    udp_frame(CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, (const uint8_t *)plain,
              strlen(plain));
    /* 13: DATA on hola's default port, found by the port preference alone. */
    static const char jacob[] = "Jacob Salinas Velázquez";
    rudp_frame(&(rudp_hdr_t){ .type = RUDP_T_DATA,
                              .flags = RUDP_F_ACK,
                              .cid = CID,
                              .seq = 1006,
                              .ack = 5001,
                              .ts = 1002200,
                              .ts_echo = 1001400,
                              .rwnd = 64,
                              .payload_len = (uint16_t)strlen(jacob),
                              .payload = (const uint8_t *)jacob },
               1, DEFAULT_PORT, 0);

    /* 14, 15: broken datagrams on port 7000 (the heuristic would rightly not claim them):
     * the DATA above with one stray byte after its CRC, and then with type 9. */
    uint8_t bad[RUDP_MAX_DATAGRAM];
    int n = rudp_wire_encode(&(rudp_hdr_t){ .type = RUDP_T_DATA,
                                            .flags = RUDP_F_ACK,
                                            .cid = CID,
                                            .seq = 1007,
                                            .ack = 5001,
                                            .rwnd = 64,
                                            .payload_len = 3,
                                            .payload = (const uint8_t *)"Ana" },
                             bad, sizeof bad);
    if (n < 0) {
        fprintf(stderr, "gen_pcap: rudp_wire_encode (broken frames): %d\n", n);
        return 1;
    }
    bad[n] = 0x00;
    udp_frame(CLIENT_IP, CLIENT_PORT, SERVER_IP, DEFAULT_PORT, bad, (size_t)n + 1);
    bad[1] = 9;
    udp_frame(CLIENT_IP, CLIENT_PORT, SERVER_IP, DEFAULT_PORT, bad, (size_t)n);

    if (fclose(out) != 0) {
        perror("gen_pcap: close");
        return 1;
    }
    return 0;
}
