/* netopts.h: the options both programs take beyond the practice's own: rudp's engine
 * settings (--window, --cc, --max-retries, --dead-timeout, --max-clients), what to show
 * of it (--trace, --pcap), and the built-in impairment (--loss, --delay, ...) that makes
 * this process's outgoing datagrams suffer like a bad network, in tc-netem's words. */
#ifndef HOLA_NETOPTS_H
#define HOLA_NETOPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "rudp/conn.h"
#include "rudp/sim.h"
#include "rudp/sock.h"

#include "error.h"
#include "opts.h"

enum hola_trace_mode {
    HOLA_TRACE_OFF,
    HOLA_TRACE_TEXT, /* --trace: one aligned line per engine event */
    HOLA_TRACE_JSON, /* --trace=json: one JSON object per line */
};

/* getopt_long codes of these options: above every short option's character. */
enum {
    HOLA_OPT_WINDOW = 0x100,
    HOLA_OPT_CC,
    HOLA_OPT_MAX_RETRIES,
    HOLA_OPT_DEAD_TIMEOUT,
    HOLA_OPT_MAX_CLIENTS,
    HOLA_OPT_TRACE,
    HOLA_OPT_PCAP,
    HOLA_OPT_LOSS,
    HOLA_OPT_LOSS_BURST,
    HOLA_OPT_DELAY,
    HOLA_OPT_DUP,
    HOLA_OPT_REORDER,
    HOLA_OPT_CORRUPT,
    HOLA_OPT_RATE,
    HOLA_OPT_SEED,
    HOLA_OPT_COALESCE,
    HOLA_OPT_NO_GSO,
    HOLA_OPT_HANDSHAKE_RATE,
    HOLA_OPT_SECURE,
    HOLA_OPT_CERT,
    HOLA_OPT_KEY,
    HOLA_OPT_CA,
    HOLA_OPT_FINGERPRINT,
    HOLA_OPT_PSK,
    HOLA_OPT_PSK_IDENTITY,
    HOLA_OPT_PSK_FILE,
};

/* Entries for both programs' struct option tables. */
#define HOLA_NETOPTS_LONGOPTS                                               \
    { "window", required_argument, NULL, HOLA_OPT_WINDOW },                 \
        { "cc", required_argument, NULL, HOLA_OPT_CC },                     \
        { "max-retries", required_argument, NULL, HOLA_OPT_MAX_RETRIES },   \
        { "dead-timeout", required_argument, NULL, HOLA_OPT_DEAD_TIMEOUT }, \
        { "trace", optional_argument, NULL, HOLA_OPT_TRACE },               \
        { "pcap", required_argument, NULL, HOLA_OPT_PCAP },                 \
        { "loss", required_argument, NULL, HOLA_OPT_LOSS },                 \
        { "loss-burst", required_argument, NULL, HOLA_OPT_LOSS_BURST },     \
        { "delay", required_argument, NULL, HOLA_OPT_DELAY },               \
        { "dup", required_argument, NULL, HOLA_OPT_DUP },                   \
        { "reorder", required_argument, NULL, HOLA_OPT_REORDER },           \
        { "corrupt", required_argument, NULL, HOLA_OPT_CORRUPT },           \
        { "rate", required_argument, NULL, HOLA_OPT_RATE },                 \
        { "seed", required_argument, NULL, HOLA_OPT_SEED },                 \
        { "coalesce", no_argument, NULL, HOLA_OPT_COALESCE },               \
        { "no-gso", no_argument, NULL, HOLA_OPT_NO_GSO },                   \
        { "secure", no_argument, NULL, HOLA_OPT_SECURE },                   \
        { "psk", required_argument, NULL, HOLA_OPT_PSK },                   \
        { "psk-file", required_argument, NULL, HOLA_OPT_PSK_FILE },         \
    {                                                                       \
        "psk-identity", required_argument, NULL, HOLA_OPT_PSK_IDENTITY      \
    }

/* --secure's credentials: a server's certificate, a client's ways to check it. */
#define HOLA_NETOPTS_SERVER_SECURE_LONGOPTS             \
    { "cert", required_argument, NULL, HOLA_OPT_CERT }, \
    {                                                   \
        "key", required_argument, NULL, HOLA_OPT_KEY    \
    }
#define HOLA_NETOPTS_CLIENT_SECURE_LONGOPTS                          \
    { "ca", required_argument, NULL, HOLA_OPT_CA },                  \
    {                                                                \
        "fingerprint", required_argument, NULL, HOLA_OPT_FINGERPRINT \
    }

/* Only hola-server has a client limit. */
#define HOLA_NETOPTS_SERVER_LONGOPTS                                       \
    { "max-clients", required_argument, NULL, HOLA_OPT_MAX_CLIENTS },      \
    {                                                                      \
        "handshake-rate", required_argument, NULL, HOLA_OPT_HANDSHAKE_RATE \
    }

/* rudp's max_message in both programs: a name is at most 512 bytes (HOLA_NAME_MAX) and
 * a reply at most 518 ("Hola " + name + a newline); 520 instead of the library's 1200
 * shrinks every connection's buffers (2·window + send_queue + 1 of them) by more than
 * half. Both ends must agree: a longer message is dropped by the engine, never cut. */
#define HOLA_RUDP_MAX_MESSAGE 520u
/* --coalesce's window when --window is not given (netopts.c says why not 1024). */
#define HOLA_COALESCE_WINDOW 256u

#define HOLA_MAX_RETRIES_MAX 100
#define HOLA_DEAD_TIMEOUT_MAX 3600000UL /* ms: an hour */

struct hola_netopts {
    /* rudp's engine; the rest of rudp_config_t keeps the library's defaults, except
     * max_message (HOLA_RUDP_MAX_MESSAGE). */
    rudp_config_t engine;
    uint32_t max_clients;    /* server, tcp and rudp: default RUDP_SOCK_DEFAULT_MAX_CLIENTS */
    uint32_t handshake_rate; /* server: per source; default
                                RUDP_SOCK_DEFAULT_HANDSHAKE_RATE, 0 = no limit */
    enum hola_trace_mode trace;
    const char *pcap; /* NULL: none */
    /* The impairment of this process's outgoing datagrams. */
    bool impair_on;
    rudp_impair_t impair;
    uint64_t seed; /* 0: not given (a random one is drawn and printed) */
    /* The first option given that only rudp has, and the first impairment option: named
     * in the message when the protocol cannot honour them. */
    const char *rudp_only;
    const char *impairment;
    const char *not_udp; /* the first option given that needs connections: tcp or rudp */
    bool window_set;     /* --window given: --coalesce leaves the window alone */
    bool no_gso;         /* --no-gso: one datagram per send (rudp_sock_config_t.gso = 0) */
    /* --secure (DTLS 1.2, udp and rudp; see secure.h) and its credentials. */
    bool secure;
    const char *secure_only; /* the first credential option given, for messages */
    const char *cert, *key;  /* server: PEM files; none: the self-signed one */
    const char *ca;          /* client: verify the server's chain and name */
    uint8_t fingerprint[32]; /* client: pin the server's certificate */
    bool fingerprint_set;
    uint8_t psk[64]; /* both: a pre-shared key instead of certificates */
    size_t psk_len;
    const char *psk_from; /* where it came from: "--psk", "--psk-file", HOLA_PSK */
    const char *psk_identity;
};

/* Fills o with the defaults: rudp_config_default() with max_message
 * HOLA_RUDP_MAX_MESSAGE, no coalescing, 1024 clients, no trace, no pcap, no impairment. */
void hola_netopts_init(struct hola_netopts *o);

/* Parses one of the options above (c is its HOLA_OPT_* code, arg getopt's optarg).
 * Returns 0, -1 with a message naming the option and the value, or 1 when c is not
 * one of these options. A secret argument (--psk's key) is overwritten in arg once
 * read, so ps and /proc/PID/cmdline no longer show it; it was readable until then, and
 * stays in the shell's history: --psk still warns. */
int hola_netopts_parse(struct hola_netopts *o, int c, char *arg, struct hola_err *e);

/* After parsing: refuses options the protocol cannot honour (impairment with tcp, engine
 * options without rudp) and impossible combinations (--reorder without --delay); takes
 * the key from HOLA_PSK for --secure when no credential was given. Returns 0 or -1 with
 * e set. */
int hola_netopts_check(struct hola_netopts *o, enum hola_proto proto, struct hola_err *e);

/* With --pcap: creates (truncates) the file now, so a bad path is reported as such
 * rather than as a socket error. Returns 0 or -1 with e set. */
int hola_netopts_open_pcap(const struct hola_netopts *o, struct hola_err *e);

/* Fills a rudp socket configuration with what the options decide: the engine, the
 * impairment (its seed announced on stderr as "PROG: impairing ..., seed N", so a run
 * can be repeated) and the capture file. The caller adds what is its own. */
void hola_netopts_sock_config(const struct hola_netopts *o, const char *prog,
                              rudp_sock_config_t *cfg);

/* The seed to use: the one given, else a fresh random one (never 0). */
uint64_t hola_netopts_seed(const struct hola_netopts *o);

/* Writes the dead-peer limit as the client reports it: "8 retries / 10 s". */
void hola_netopts_dead_limit(const rudp_config_t *cfg, char *out, size_t cap);

/* The option help text shared by both programs (the rudp and impairment sections). */
extern const char hola_netopts_help_rudp[];
extern const char hola_netopts_help_impair[];
extern const char hola_netopts_help_secure_server[];
extern const char hola_netopts_help_secure_client[];

#endif
