/* netopts.c: parsing and checking of the rudp and impairment options; see netopts.h. */
#include "netopts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "rudp/sock.h"

#include "i18n.h"
#include "psk.h"
#include "secure.h"
#include "stats.h"

const char hola_netopts_help_rudp[] =
    N_("rudp options (--proto rudp):\n"
       "      --window N        packets in flight, and receive slots, per connection:\n"
       "                        1..1024 (default 64); 1 is stop-and-wait (rdt 3.0)\n"
       "      --cc ALGO         congestion control: newreno (default: slow start, halve\n"
       "                        the window on loss) or none (only --window limits sending)\n"
       "      --max-retries N   give the peer up as dead after N timeouts in a row with\n"
       "                        no answer, once it has also been silent for 3 s (or\n"
       "                        --dead-timeout, if shorter): 1..100 (default 8)\n"
       "      --dead-timeout MS ... or after MS milliseconds without progress while\n"
       "                        waiting on it, whatever the count (default 10000; 0:\n"
       "                        only --max-retries counts)\n"
       "      --coalesce        let the engine pack several queued names (or replies) into\n"
       "                        one datagram, message boundaries kept (default: off, one\n"
       "                        message per datagram, as the class sees it in a capture);\n"
       "                        the window opens to 256 unless --window is given\n"
       "      --no-gso          one datagram per send and per receive (default: where Linux\n"
       "                        has UDP GSO and GRO, equal-size datagrams to one peer go in\n"
       "                        one send, cut back into the same datagrams by the kernel,\n"
       "                        and such a run arriving whole is read at once; a netem\n"
       "                        qdisc sees a run as one packet)\n"
       "      --trace[=json]    print every engine event on standard error: time (ms since\n"
       "                        the first event), side, direction (→ sent, ← received),\n"
       "                        packet type, seq, ack, length, and why a packet was sent\n"
       "                        again (timeout with the RTO in force, or fast: 3 later\n"
       "                        packets acked / 9/8 RTT passed); =json: JSON lines\n"
       "      --pcap FILE       write every datagram sent and received to FILE (pcap, with\n"
       "                        IP and UDP headers): open it in Wireshark or tshark\n");

const char hola_netopts_help_impair[] =
    N_("Impairment (udp and rudp; applied to the datagrams THIS process sends, as tc-netem\n"
       "would on its way out; no root needed; give them to both programs to impair both\n"
       "directions; percentages are 0..100 with up to 6 decimals):\n"
       "      --loss PCT[,CORR]     lose PCT% of datagrams at random; CORR%: how much each\n"
       "                            draw follows the previous one (bursts, same average)\n"
       "      --loss-burst P,R      Gilbert-Elliott burst loss: P% chance per datagram to\n"
       "                            enter the bad state, R% to leave it; every datagram\n"
       "                            in the bad state is lost (mean burst 100/R datagrams)\n"
       "      --delay MS[,JITTER]   hold each datagram MS milliseconds (+-JITTER, uniform;\n"
       "                            jitter reorders, as in netem); up to 3 decimals\n"
       "      --dup PCT             send PCT% of datagrams twice\n"
       "      --reorder PCT         send PCT% at once, overtaking the delayed ones (needs\n"
       "                            --delay)\n"
       "      --corrupt PCT         flip one random bit in PCT% of datagrams\n"
       "      --rate KBIT           serialize at KBIT kbit/s (a queue of 1000 datagrams,\n"
       "                            then tail drop)\n"
       "      --seed N              seed of the impairment's random numbers: the same seed\n"
       "                            and options lose the same datagrams (default: a random\n"
       "                            seed, printed on standard error so a run can be redone)\n");

const char hola_netopts_help_secure_server[] =
    N_("Security (udp and rudp):\n"
       "      --secure          DTLS 1.2 (OpenSSL): every datagram encrypted and\n"
       "                        authenticated; rudp runs inside it. A client proves its\n"
       "                        address (stateless cookie) before the server keeps any\n"
       "                        state for it. Without --cert or a key the server makes a\n"
       "                        self-signed certificate on first use, keeps it in\n"
       "                        $XDG_STATE_HOME/hola (default ~/.local/state/hola) and\n"
       "                        prints its SHA-256 fingerprint for clients' --fingerprint\n"
       "      --cert FILE       the server's certificate (PEM), with --key FILE its key\n"
       "      --key FILE\n"
       "      --psk-file FILE   a pre-shared key instead of a certificate: 32 to 128 hex\n"
       "                        digits (16 to 64 random bytes) in FILE, which only its\n"
       "                        owner may read; clients must use the same key. Make one:\n"
       "                        head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'\n"
       "                        Without --psk-file, --psk or --cert, the environment\n"
       "                        variable HOLA_PSK gives the key when it is set\n"
       "      --psk HEX         the key on the command line, where every local user can\n"
       "                        read it (ps): prefer --psk-file or HOLA_PSK\n"
       "      --psk-identity ID with a key: the only identity accepted (default: any)\n");

const char hola_netopts_help_secure_client[] =
    N_("Security (udp and rudp):\n"
       "      --secure          DTLS 1.2 (OpenSSL): every datagram encrypted and\n"
       "                        authenticated; rudp runs inside it. The server must run\n"
       "                        with --secure too, and the client must know whom it talks\n"
       "                        to: one of --fingerprint, --ca or a key (--psk-file)\n"
       "      --fingerprint FP  accept only the certificate with this SHA-256 (as the\n"
       "                        server prints it: SHA256:AB:CD:..., or 64 hex digits)\n"
       "      --ca FILE         verify the server's certificate against these CAs (PEM)\n"
       "                        and its name or address against --host\n"
       "      --psk-file FILE   a pre-shared key, the server's: 32 to 128 hex digits in\n"
       "                        FILE, which only its owner may read. Without --psk-file,\n"
       "                        --psk, --fingerprint or --ca, the environment variable\n"
       "                        HOLA_PSK gives the key when it is set\n"
       "      --psk HEX         the key on the command line, where every local user can\n"
       "                        read it (ps): prefer --psk-file or HOLA_PSK\n"
       "      --psk-identity ID with a key: the identity sent (default \"hola\")\n");

void hola_netopts_init(struct hola_netopts *o)
{
    memset(o, 0, sizeof *o);
    rudp_config_default(&o->engine);
    o->engine.max_message = HOLA_RUDP_MAX_MESSAGE;
    o->max_clients = RUDP_SOCK_DEFAULT_MAX_CLIENTS;
    o->handshake_rate = RUDP_SOCK_DEFAULT_HANDSHAKE_RATE;
}

/* What each impairment option's value looks like, for the message. */
static const struct {
    int code;
    const char *opt;
    const char *key;
    const char *form;
} impair_opts[] = {
    { HOLA_OPT_LOSS, "--loss", "loss", N_("PCT or PCT,CORR (percent, 0..100)") },
    { HOLA_OPT_LOSS_BURST, "--loss-burst", "loss-burst", N_("P,R (percent, 0..100)") },
    { HOLA_OPT_DELAY, "--delay", "delay", N_("MS or MS,JITTER (milliseconds, up to 3600000)") },
    { HOLA_OPT_DUP, "--dup", "dup", N_("PCT (percent, 0..100)") },
    { HOLA_OPT_REORDER, "--reorder", "reorder", N_("PCT (percent, 0..100)") },
    { HOLA_OPT_CORRUPT, "--corrupt", "corrupt", N_("PCT (percent, 0..100)") },
    { HOLA_OPT_RATE, "--rate", "rate", N_("KBIT (kbit/s, a whole number; 0: unlimited)") },
};

static int parse_impair(struct hola_netopts *o, int c, const char *arg, struct hola_err *e)
{
    for (size_t i = 0; i < sizeof impair_opts / sizeof impair_opts[0]; i++) {
        if (impair_opts[i].code != c)
            continue;
        if (rudp_impair_parse(&o->impair, impair_opts[i].key, arg) != 0)
            return hola_err_set(e, _("%s '%s': expected %s"), impair_opts[i].opt, arg,
                                _(impair_opts[i].form));
        o->impair_on = true;
        if (o->impairment == NULL)
            o->impairment = impair_opts[i].opt;
        return 0;
    }
    return 1;
}

static void note_secure_only(struct hola_netopts *o, const char *opt)
{
    if (o->secure_only == NULL)
        o->secure_only = opt;
}

static int parse_secure(struct hola_netopts *o, int c, char *arg, struct hola_err *e)
{
    switch (c) {
    case HOLA_OPT_SECURE:
        o->secure = true;
        return 0;
    case HOLA_OPT_CERT:
        o->cert = arg;
        note_secure_only(o, "--cert");
        return 0;
    case HOLA_OPT_KEY:
        o->key = arg;
        note_secure_only(o, "--key");
        return 0;
    case HOLA_OPT_CA:
        o->ca = arg;
        note_secure_only(o, "--ca");
        return 0;
    case HOLA_OPT_FINGERPRINT: {
        const char *p = arg;
        if (strncasecmp(p, "SHA256:", 7) == 0)
            p += 7;
        else if (strncasecmp(p, "SHA256", 6) == 0)
            p += 6;
        if (hola_hex_parse(p, strlen(p), o->fingerprint, sizeof o->fingerprint) != 32)
            return hola_err_set(e,
                                _("--fingerprint '%.80s': expected a SHA-256, as the server "
                                  "prints it (SHA256:AB:CD:... , 32 bytes)"),
                                arg);
        o->fingerprint_set = true;
        note_secure_only(o, "--fingerprint");
        return 0;
    }
    case HOLA_OPT_PSK:
    case HOLA_OPT_PSK_FILE: {
        const char *from = c == HOLA_OPT_PSK ? "--psk" : "--psk-file";
        if (o->psk_from != NULL)
            return hola_err_set(e,
                                _("%s: the key was given already (%s): give one of --psk "
                                  "and --psk-file, once"),
                                from, o->psk_from);
        if ((c == HOLA_OPT_PSK ? hola_psk_from_hex(arg, strlen(arg), from, o->psk, &o->psk_len, e)
                               : hola_psk_from_file(arg, o->psk, &o->psk_len, e)) != 0)
            return -1;
        o->psk_from = from;
        note_secure_only(o, from);
        /* The key given on the command line is overwritten where it lies in argv: the
         * kernel reads /proc/PID/cmdline (ps) from this memory. */
        if (c == HOLA_OPT_PSK)
            memset(arg, 'x', strlen(arg));
        return 0;
    }
    case HOLA_OPT_PSK_IDENTITY:
        if (arg[0] == '\0' || strlen(arg) > 127)
            return hola_err_set(e, _("--psk-identity: 1 to 127 bytes"));
        o->psk_identity = arg;
        note_secure_only(o, "--psk-identity");
        return 0;
    default:
        return 1;
    }
}

static void note_rudp_only(struct hola_netopts *o, const char *opt)
{
    if (o->rudp_only == NULL)
        o->rudp_only = opt;
}

int hola_netopts_parse(struct hola_netopts *o, int c, char *arg, struct hola_err *e)
{
    unsigned long v;

    switch (c) {
    case HOLA_OPT_WINDOW:
        if (hola_opts_ulong(arg, "--window", 1, RUDP_MAX_WINDOW, &v, e) != 0)
            return -1;
        o->engine.window = (uint32_t)v;
        o->window_set = true;
        note_rudp_only(o, "--window");
        return 0;
    case HOLA_OPT_CC:
        if (strcmp(arg, "newreno") == 0)
            o->engine.cc = RUDP_CC_NEWRENO;
        else if (strcmp(arg, "none") == 0)
            o->engine.cc = RUDP_CC_NONE;
        else
            return hola_err_set(e, _("--cc '%s': use newreno or none"), arg);
        note_rudp_only(o, "--cc");
        return 0;
    case HOLA_OPT_MAX_RETRIES:
        if (hola_opts_ulong(arg, "--max-retries", 1, HOLA_MAX_RETRIES_MAX, &v, e) != 0)
            return -1;
        o->engine.max_retries = (uint32_t)v;
        note_rudp_only(o, "--max-retries");
        return 0;
    case HOLA_OPT_DEAD_TIMEOUT:
        if (hola_opts_ulong(arg, "--dead-timeout", 0, HOLA_DEAD_TIMEOUT_MAX, &v, e) != 0)
            return -1;
        o->engine.dead_timeout = (uint64_t)v * 1000u;
        note_rudp_only(o, "--dead-timeout");
        return 0;
    case HOLA_OPT_MAX_CLIENTS:
        if (hola_opts_ulong(arg, "--max-clients", 1, RUDP_SOCK_MAX_CLIENTS, &v, e) != 0)
            return -1;
        o->max_clients = (uint32_t)v;
        /* tcp caps its connections too (server_tcp.c); udp has none to cap. */
        if (o->not_udp == NULL)
            o->not_udp = "--max-clients";
        return 0;
    case HOLA_OPT_HANDSHAKE_RATE:
        if (hola_opts_ulong(arg, "--handshake-rate", 0, RUDP_SOCK_MAX_HANDSHAKE_RATE, &v, e) != 0)
            return -1;
        o->handshake_rate = (uint32_t)v;
        note_rudp_only(o, "--handshake-rate");
        return 0;
    case HOLA_OPT_COALESCE:
        o->engine.coalesce = 1;
        /* The window counts messages; short names need many to fill a datagram, so
         * coalescing opens it unless --window says otherwise: to 256, some five full
         * datagrams of names. Wider is slower, not faster: each slot a connection uses
         * for the first time is memory touched for the first time, and on a virtual
         * machine a page's first touch costs several microseconds. 2000 pipelined names
         * on loopback took a median 3.5 ms at 256, 4.3 ms at 1024 (docs/performance.md
         * section 7). */
        if (!o->window_set)
            o->engine.window = HOLA_COALESCE_WINDOW;
        note_rudp_only(o, "--coalesce");
        return 0;
    case HOLA_OPT_NO_GSO:
        o->no_gso = true;
        note_rudp_only(o, "--no-gso");
        return 0;
    case HOLA_OPT_TRACE:
        if (arg == NULL || strcmp(arg, "text") == 0)
            o->trace = HOLA_TRACE_TEXT;
        else if (strcmp(arg, "json") == 0)
            o->trace = HOLA_TRACE_JSON;
        else
            return hola_err_set(e, _("--trace='%s': use --trace or --trace=json"), arg);
        note_rudp_only(o, "--trace");
        return 0;
    case HOLA_OPT_PCAP:
        if (arg[0] == '\0')
            return hola_err_set(e, _("--pcap: the file name is empty"));
        o->pcap = arg;
        note_rudp_only(o, "--pcap");
        return 0;
    case HOLA_OPT_SEED: {
        /* 64 bits: hola_opts_ulong takes unsigned long, which is 64-bit on the Linux
         * targets; 0 is refused because it means "draw one" to the driver. */
        if (hola_opts_ulong(arg, "--seed", 1, (unsigned long)-1, &v, e) != 0)
            return -1;
        o->seed = (uint64_t)v;
        if (o->impairment == NULL)
            o->impairment = "--seed";
        return 0;
    }
    default: {
        int r = parse_secure(o, c, arg, e);
        return r <= 0 ? r : parse_impair(o, c, arg, e);
    }
    }
}

int hola_netopts_check(struct hola_netopts *o, enum hola_proto proto, struct hola_err *e)
{
    if (proto == HOLA_PROTO_TCP && o->impairment != NULL)
        return hola_err_set(e,
                            _("%s needs udp or rudp: TCP runs in the kernel; use "
                              "scripts/hola-lab for kernel-level loss"),
                            o->impairment);
    if (proto == HOLA_PROTO_UDP && o->not_udp != NULL)
        return hola_err_set(e, _("%s needs tcp or rudp: udp has no connections to limit"),
                            o->not_udp);
    if (proto != HOLA_PROTO_RUDP && o->rudp_only != NULL)
        return hola_err_set(e,
                            _("%s needs --proto rudp (%s has no window, retransmissions "
                              "or engine trace)"),
                            o->rudp_only, hola_opts_proto_name(proto));
    if (o->secure && proto == HOLA_PROTO_TCP)
        return hola_err_set(e, _("--secure needs udp or rudp: it is DTLS, TLS for datagrams "
                                 "(for TCP, TLS would be the answer)"));
    if (o->secure && hola_secure_check(e) != 0)
        return -1;
    if (!o->secure && o->secure_only != NULL)
        return hola_err_set(e, _("%s needs --secure"), o->secure_only);
    if ((o->cert != NULL) != (o->key != NULL))
        return hola_err_set(e, _("--cert and --key go together: the certificate and its "
                                 "private key"));
    /* HOLA_PSK: a key kept out of the command line, for --secure runs given no other
     * credential (with --cert, --ca or --fingerprint it is not wanted). */
    const char *env = getenv(HOLA_PSK_ENV);
    if (o->secure && o->psk_from == NULL && o->cert == NULL && o->ca == NULL &&
        !o->fingerprint_set && env != NULL && env[0] != '\0') {
        if (hola_psk_from_hex(env, strlen(env), HOLA_PSK_ENV, o->psk, &o->psk_len, e) != 0)
            return -1;
        o->psk_from = HOLA_PSK_ENV;
    }
    if (o->psk_identity != NULL && o->psk_len == 0)
        return hola_err_set(e, _("--psk-identity needs a key: --psk-file, HOLA_PSK or --psk"));
    if (o->psk_len > 0 && (o->cert != NULL || o->ca != NULL || o->fingerprint_set))
        return hola_err_set(e,
                            _("%s replaces certificates: give it without --cert, --ca "
                              "or --fingerprint"),
                            o->psk_from);
    if (o->impair.reorder > 0 && o->impair.delay_us == 0)
        return hola_err_set(e, _("--reorder needs --delay: a reordered datagram overtakes "
                                 "delayed ones (as in netem)"));
    return 0;
}

int hola_netopts_open_pcap(const struct hola_netopts *o, struct hola_err *e)
{
    FILE *f;

    if (o->pcap == NULL)
        return 0;
    if ((f = fopen(o->pcap, "w")) == NULL)
        return hola_err_set(e, _("--pcap %s: %s"), o->pcap, strerror(errno));
    fclose(f);
    return 0;
}

uint64_t hola_netopts_seed(const struct hola_netopts *o)
{
    uint64_t seed = o->seed;

    if (seed != 0)
        return seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = hola_stats_now_us() ^ ((uint64_t)getpid() << 32);
    /* Shown to users to repeat a run: keep it short enough to type. */
    seed %= 1000000000u;
    return seed != 0 ? seed : 1;
}

void hola_netopts_sock_config(const struct hola_netopts *o, const char *prog,
                              rudp_sock_config_t *cfg)
{
    rudp_sock_config_default(cfg);
    cfg->conn = o->engine;
    if (o->impair_on) {
        cfg->impair_on = 1;
        cfg->impair = o->impair;
        cfg->seed = hola_netopts_seed(o);
        fprintf(stderr, _("%s: impairing outgoing datagrams, seed %" PRIu64 "\n"), prog, cfg->seed);
    }
    cfg->pcap_path = o->pcap;
    cfg->gso = !o->no_gso;
}

void hola_netopts_dead_limit(const rudp_config_t *cfg, char *out, size_t cap)
{
    unsigned long long ms = cfg->dead_timeout / 1000u;

    if (cfg->dead_timeout == 0)
        snprintf(out, cap, _("%u retries"), (unsigned)cfg->max_retries);
    else if (ms % 1000u == 0)
        snprintf(out, cap, _("%u retries / %llu s"), (unsigned)cfg->max_retries, ms / 1000u);
    else
        snprintf(out, cap, _("%u retries / %llu.%03llu s"), (unsigned)cfg->max_retries, ms / 1000u,
                 ms % 1000u);
}
