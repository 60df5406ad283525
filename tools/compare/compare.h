/* compare.h: the vocabulary of hola-compare (the same names over tcp, udp and rudp under
 * the same impairment, side by side): rows, patterns, settings, options, the environment
 * of a run and its result. Every module includes it; it includes no module. */
#ifndef HOLA_COMPARE_H
#define HOLA_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HOLA_COMPARE_MAX_SETTINGS 32
#define HOLA_COMPARE_PATH_MAX 4096
#define HOLA_COMPARE_REPEAT_MAX 99

/* The protocol rows, in table order. */
enum hola_compare_variant {
    HOLA_COMPARE_TCP,
    HOLA_COMPARE_UDP,
    HOLA_COMPARE_RUDP,
    HOLA_COMPARE_RUDP_W1,       /* rudp --window 1: stop-and-wait */
    HOLA_COMPARE_RUDP_COALESCE, /* rudp --coalesce */
    HOLA_COMPARE_VARIANTS
};

enum hola_compare_pattern { HOLA_COMPARE_LOCKSTEP, HOLA_COMPARE_PIPELINED, HOLA_COMPARE_PATTERNS };

/* One impairment setting, in hola-compare's own syntax ("none", "loss=10,delay=5").
 * Values are kept as the user typed them, so they reach hola-lab and the programs
 * unchanged. */
struct hola_compare_setting {
    char text[128]; /* as given, normalised: "none" or "loss=10,delay=5" */
    char loss[16], delay[16], jitter[16], dup[16], reorder[16], corrupt[16], rate[16];
    double loss_pct; /* x axis of the SVG */
};

/* Where a run's packet counts come from. */
enum hola_compare_counters {
    HOLA_COMPARE_CNT_PROGRAM, /* the programs' --stats (udp, rudp) */
    HOLA_COMPARE_CNT_NETNS,   /* /proc/net/snmp of the lab's two namespaces (tcp) */
    HOLA_COMPARE_CNT_HOST,    /* /proc/net/snmp of the host: may include other traffic */
};

struct hola_compare_result {
    int variant, pattern, setting;
    bool done;       /* the run happened (false: skipped after an interruption) */
    bool failed;     /* the client failed (not udp's "some replies lost") */
    char error[256]; /* why, one line */
    unsigned long long delivered, lost, dup, ooo;
    unsigned long long sent;    /* datagrams or segments, both directions */
    unsigned long long retx;    /* retransmissions, both directions */
    unsigned long long time_us; /* to the last reply, or the client's whole run */
    unsigned long long p50_us, p99_us;
    unsigned long long time_min_us, time_max_us; /* with --repeat: the range of times */
    unsigned runs; /* with --repeat: the runs behind this row, which is the median one */
    enum hola_compare_counters counters;
    char unimpaired[128]; /* tcp: the knobs it did not get ("" = all); udp/rudp: "" */
    char builtin[128];    /* knobs given to the programs' built-in impairment */
    /* The time includes a handshake retry: tcp, a SYN or SYN-ACK sent again
     * (TcpExtTCPSynRetrans of the lab's namespaces); rudp, the client's INITIAL sent
     * again (handshake_retries of its --stats). With --repeat: the median run's. */
    bool hs_retry;
    unsigned hs_retry_runs; /* with --repeat: how many of the runs had one */
    char backend[32];       /* the impairment's: netem, nftables (lab), built-in, none */
    char kernel[72];        /* uname -r where the run happened */
};

struct hola_compare_opts {
    unsigned long names;
    bool patterns[HOLA_COMPARE_PATTERNS];
    bool variants[HOLA_COMPARE_VARIANTS];
    unsigned long window; /* 0: the engine's default */
    unsigned long repeat; /* runs per row, 1..HOLA_COMPARE_REPEAT_MAX */
    struct hola_compare_setting settings[HOLA_COMPARE_MAX_SETTINGS];
    size_t n_settings;
    bool lab;
    const char *lab_script; /* --lab-script */
    const char *bin_dir;    /* --bin-dir */
    unsigned long run_timeout_s;
    unsigned long udp_wait_ms; /* 0: derived from the setting */
    uint64_t seed;
    bool seed_given;
    bool csv, json, quiet;
    const char *svg;
    /* Resolved. */
    char server[HOLA_COMPARE_PATH_MAX], client[HOLA_COMPARE_PATH_MAX];
    char lab_path[HOLA_COMPARE_PATH_MAX];
    char self[HOLA_COMPARE_PATH_MAX];
};

/* The environment of one run: loopback, or one side of the lab. */
struct hola_compare_env {
    const char *server_addr; /* 127.0.0.1 or HOLA_LAB_SERVER_ADDR */
    const char *srv_prefix;  /* NULL, or HOLA_LAB_SRV */
    const char *cli_prefix;  /* NULL, or HOLA_LAB_CLI */
    const char *tmpdir;      /* scratch files of the runs */
    const char *names_file;
    char unapplied[256]; /* knobs the kernel did not apply (lab), hola-lab's form */
    char applied[256];
    bool gso_whole;   /* the lab's impairment sees a UDP GSO batch as one packet
                       (HOLA_LAB_GSO=whole: netem, or a kernel that cannot cut batches) */
    char backend[32]; /* lab: HOLA_LAB_BACKEND; loopback: "" (the programs' built-in) */
    char kernel[72];  /* uname -r, read where the programs run */
};

/* Names of the rows and patterns, as the table, CSV and JSON print them. */
extern const char *const hola_compare_variant_names[HOLA_COMPARE_VARIANTS];
extern const char *const hola_compare_pattern_names[HOLA_COMPARE_PATTERNS];

/* dst = src, cut to cap (always terminated). */
void hola_compare_copy(char *dst, size_t cap, const char *src);
/* out = a + b; -1 (out empty) when it would not fit. */
int hola_compare_join(char *out, size_t cap, const char *a, const char *b);
/* The running kernel's release (uname -r), or "?" when uname fails. */
void hola_compare_kernel(char *out, size_t cap);
/* dst = src cut to cap, every tab, newline or other control character made a blank:
 * text from the environment, safe in the worker's tab-separated lines. */
void hola_compare_copy_text(char *dst, size_t cap, const char *src);

#endif
