/* trace.c: --trace and --trace=json; see trace.h. Times are printed from integers (µs)
 * with three decimals: no floating point, so the columns never wobble. */
#include "trace.h"

#include <inttypes.h>
#include <string.h>

#include "rudp/error.h"
#include "rudp/wire.h"

#include "impair.h"
#include "out.h"

void hola_trace_init(struct hola_trace *t, enum hola_trace_mode mode, const char *side, FILE *out)
{
    memset(t, 0, sizeof *t);
    t->mode = mode;
    t->side = side;
    t->out = out;
}

/* Why a packet was sent again or declared lost. */
static const char *why_name(int reason, bool json)
{
    switch (reason) {
    case RUDP_WHY_TIMEOUT:
        return "timeout";
    case RUDP_WHY_FAST:
        return json ? "fast_3_acked" : "fast: 3 later packets acked";
    case RUDP_WHY_TIME:
        return json ? "fast_9_8_rtt" : "fast: 9/8 RTT passed";
    case RUDP_WHY_COPY:
        return json ? "copy" : "the first one's copy, against its loss";
    default:
        return "?";
    }
}

/* Why an arriving datagram was thrown away. */
static const char *drop_name(int reason, bool json)
{
    switch (reason) {
    case RUDP_WHY_DUPLICATE:
        return "duplicate";
    case RUDP_WHY_WINDOW:
        return json ? "beyond_window" : "beyond the window";
    case RUDP_WHY_STALE:
        return json ? "stale" : "does not fit the state";
    case RUDP_ECHECKSUM:
        return json ? "checksum" : "bad checksum (corrupt)";
    case RUDP_EMALFORMED:
        return "malformed";
    case RUDP_EVERSION:
        return json ? "version" : "unknown version";
    default:
        return reason < 0 ? rudp_strerror(reason) : "?";
    }
}

static const char *kind_word(rudp_event_kind_t k)
{
    switch (k) {
    case RUDP_EV_ACK:
        return "ACKED";
    case RUDP_EV_LOSS:
        return "LOST";
    case RUDP_EV_TIMEOUT:
        return "TIMEOUT";
    case RUDP_EV_DELIVER:
        return "DELIVER";
    case RUDP_EV_STATE:
        return "STATE";
    default:
        return "?";
    }
}

/* "1.234" (ms with µs precision) from µs. */
static void fmt_ms(uint64_t us, char *out, size_t cap)
{
    snprintf(out, cap, "%" PRIu64 ".%03" PRIu64, us / 1000u, us % 1000u);
}

static const char *type_name(const rudp_event_t *ev)
{
    return ev->type != 0 ? rudp_wire_type_name(ev->type) : "?";
}

static int format_json(const struct hola_trace *t, const rudp_event_t *ev, uint64_t rel,
                       const char *peer, char *out, size_t cap)
{
    char when[32], rto[32], tail[160] = "";
    const char *dir = ev->kind == RUDP_EV_SEND || ev->kind == RUDP_EV_RETRANSMIT ? "sent"
                      : ev->kind == RUDP_EV_RECV || ev->kind == RUDP_EV_DROP     ? "received"
                                                                                 : "none";

    fmt_ms(rel, when, sizeof when);
    fmt_ms(ev->rto, rto, sizeof rto);
    if (ev->kind == RUDP_EV_RETRANSMIT || ev->kind == RUDP_EV_LOSS ||
        (ev->kind == RUDP_EV_SEND && ev->reason == RUDP_WHY_COPY))
        snprintf(tail, sizeof tail, ",\"reason\":\"%s\"", why_name(ev->reason, true));
    else if (ev->kind == RUDP_EV_DROP)
        snprintf(tail, sizeof tail, ",\"reason\":\"%s\"", drop_name(ev->reason, true));
    else if (ev->kind == RUDP_EV_STATE)
        snprintf(tail, sizeof tail, ",\"state\":\"%s\"", rudp_state_name((rudp_state_t)ev->reason));
    return snprintf(out, cap,
                    "{\"t_ms\":%s,\"side\":\"%s\",\"peer\":\"%s\",\"cid\":\"%016" PRIx64 "\","
                    "\"event\":\"%s\",\"dir\":\"%s\",\"type\":\"%s\",\"seq\":%" PRIu32
                    ",\"ack\":%" PRIu32 ",\"len\":%" PRIu32 "%s,\"rto_ms\":%s,"
                    "\"cwnd\":%" PRIu32 ",\"in_flight\":%" PRIu32 "}",
                    when, t->side, peer, ev->cid, rudp_event_name(ev->kind), dir,
                    ev->type != 0 ? rudp_wire_type_name(ev->type) : "", ev->seq, ev->ack, ev->len,
                    tail, rto, ev->cwnd, ev->in_flight);
}

int hola_trace_format(const struct hola_trace *t, const rudp_event_t *ev, char *out, size_t cap)
{
    uint64_t rel = t->started && ev->now > t->t0 ? ev->now - t->t0 : 0;
    char peerbuf[32];
    const char *peer = NULL;

    if (t->peer_of != NULL)
        peer = t->peer_of(t->peer_ctx, ev->cid);
    if (peer == NULL) {
        snprintf(peerbuf, sizeof peerbuf, "cid %08" PRIx32, (uint32_t)ev->cid);
        peer = peerbuf;
    }
    if (t->mode == HOLA_TRACE_JSON)
        return format_json(t, ev, rel, t->peer_of != NULL ? peer : "", out, cap);

    char when[32], rto[32], side[96], note[128] = "";
    const char *dir, *word;

    fmt_ms(rel, when, sizeof when);
    fmt_ms(ev->rto, rto, sizeof rto);
    if (t->peer_of != NULL)
        snprintf(side, sizeof side, "%s %s", t->side, peer);
    else
        snprintf(side, sizeof side, "%s", t->side);

    switch (ev->kind) {
    case RUDP_EV_SEND:
        dir = "→";
        word = type_name(ev);
        if (ev->reason == RUDP_WHY_COPY)
            snprintf(note, sizeof note, "COPY (%s)", why_name(ev->reason, false));
        break;
    case RUDP_EV_RETRANSMIT:
        dir = "→";
        word = type_name(ev);
        if (ev->reason == RUDP_WHY_TIMEOUT)
            snprintf(note, sizeof note, "RETRANSMIT (timeout, rto=%s ms)", rto);
        else
            snprintf(note, sizeof note, "RETRANSMIT (%s)", why_name(ev->reason, false));
        break;
    case RUDP_EV_RECV:
        dir = "←";
        word = type_name(ev);
        break;
    case RUDP_EV_DROP:
        dir = "←";
        word = type_name(ev);
        snprintf(note, sizeof note, "DROPPED (%s)", drop_name(ev->reason, false));
        break;
    case RUDP_EV_LOSS:
        dir = "·";
        word = kind_word(ev->kind);
        snprintf(note, sizeof note, "%s declared lost (%s)", type_name(ev),
                 why_name(ev->reason, false));
        break;
    case RUDP_EV_TIMEOUT:
        dir = "·";
        word = kind_word(ev->kind);
        snprintf(note, sizeof note, "probe timer fired (rto=%s ms)", rto);
        break;
    case RUDP_EV_ACK:
        dir = "·";
        word = kind_word(ev->kind);
        snprintf(note, sizeof note, "%s acknowledged", type_name(ev));
        break;
    case RUDP_EV_DELIVER:
        dir = "·";
        word = kind_word(ev->kind);
        snprintf(note, sizeof note, "message handed to the program");
        break;
    case RUDP_EV_STATE:
        return snprintf(out, cap, "%10s ms  %-8s · STATE    %s", when, side,
                        rudp_state_name((rudp_state_t)ev->reason));
    default:
        dir = "?";
        word = rudp_event_name(ev->kind);
        break;
    }
    return snprintf(out, cap,
                    "%10s ms  %-8s %s %-8s seq=%" PRIu32 " ack=%" PRIu32 " len=%" PRIu32 "%s%s",
                    when, side, dir, word, ev->seq, ev->ack, ev->len, note[0] ? "  " : "", note);
}

void hola_trace_event(void *user, const rudp_event_t *ev)
{
    struct hola_trace *t = user;
    char line[512];

    if (t->mode == HOLA_TRACE_OFF)
        return;
    if (!t->started) {
        t->started = true;
        t->t0 = ev->now;
    }
    int n = hola_trace_format(t, ev, line, sizeof line - 1);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)(sizeof line - 2);
    line[n++] = '\n';
    /* The replies printed so far go first: on a shared terminal or pipe, a "Hola" line
     * then shows up after the events that brought it, not after later ones. */
    if (t->out == stderr)
        hola_out_flush();
    /* One write per line: stderr is unbuffered, and a line must not be torn. */
    fwrite(line, 1, (size_t)n, t->out);
}

void hola_stats_add_engine(struct hola_stats *st, const rudp_stats_t *s)
{
    hola_stats_add(st, "retransmits_timeout", s->retransmits_timeout);
    hola_stats_add(st, "retransmits_fast", s->retransmits_fast);
    hola_stats_add(st, "spurious", s->spurious);
    hola_stats_add(st, "duplicates", s->duplicates);
    hola_stats_add(st, "out_of_order", s->out_of_order);
    hola_stats_add(st, "corrupt", s->corrupt);
    hola_stats_add(st, "srtt_us", s->srtt);
    hola_stats_add(st, "rttvar_us", s->rttvar);
    hola_stats_add(st, "min_rtt_us", s->min_rtt);
    hola_stats_add(st, "rto_us", s->rto);
    hola_stats_add(st, "cwnd", s->cwnd);
    hola_stats_add(st, "packets_sent", s->packets_sent);
    hola_stats_add(st, "packets_received", s->packets_received);
    hola_stats_add(st, "data_sent", s->data_sent);
    hola_stats_add(st, "timeouts", s->timeouts);
    hola_stats_add(st, "dropped", s->dropped);
    hola_stats_add(st, "delivered", s->delivered);
    hola_stats_add(st, "handshake_retries", s->handshake_retries);
}

void hola_stats_add_sock(struct hola_stats *st, const rudp_sock_stats_t *s, bool server,
                         bool impair)
{
    hola_stats_add(st, "datagrams_in", s->datagrams_in);
    hola_stats_add(st, "datagrams_out", s->datagrams_out);
    hola_stats_add(st, "bytes_in", s->bytes_in);
    hola_stats_add(st, "bytes_out", s->bytes_out);
    hola_stats_add(st, "gso_sends", s->gso_sends);
    hola_stats_add(st, "gro_receives", s->gro_receives);
    hola_stats_add(st, "send_errors", s->send_errors);
    hola_stats_add(st, "icmp_errors", s->icmp_errors);
    hola_stats_add(st, "wrong_address", s->wrong_address);
    if (server) {
        hola_stats_add(st, "accepted", s->accepted);
        hola_stats_add(st, "refused_full", s->refused_full);
        hola_stats_add(st, "refused_source", s->refused_source);
        hola_stats_add(st, "accepted_unproven", s->listener.accepted_unproven);
        hola_stats_add(st, "unproven_validated", s->listener.unproven_validated);
        hola_stats_add(st, "unproven_dropped", s->listener.unproven_dropped);
        hola_stats_add(st, "cookies_replayed", s->listener.cookies_replayed);
        hola_stats_add(st, "active", s->active);
        hola_stats_add(st, "retries_sent", s->listener.retries_sent);
        hola_stats_add(st, "cookies_bad", s->listener.cookies_bad);
        hola_stats_add(st, "cookies_expired", s->listener.cookies_expired);
        hola_stats_add(st, "resets_sent", s->listener.resets_sent);
        hola_stats_add(st, "garbage", s->listener.garbage);
        hola_stats_add(st, "ignored", s->listener.ignored);
        hola_stats_add(st, "checksum", s->listener.checksum);
        hola_stats_add(st, "oversized", s->oversized);
        hola_stats_add(st, "rate_limited", s->listener.rate_limited);
        hola_stats_add(st, "rate_sources_evicted", s->rate_sources_evicted);
        hola_stats_add(st, "send_dropped", s->send_dropped);
    }
    if (impair)
        hola_impair_add_sim_stats(&s->impair, st);
}

void hola_engine_stats_accumulate(rudp_stats_t *sum, const rudp_stats_t *one)
{
    uint64_t min_rtt = sum->min_rtt;

    sum->packets_sent += one->packets_sent;
    sum->bytes_sent += one->bytes_sent;
    sum->packets_received += one->packets_received;
    sum->bytes_received += one->bytes_received;
    sum->data_sent += one->data_sent;
    sum->retransmits_timeout += one->retransmits_timeout;
    sum->retransmits_fast += one->retransmits_fast;
    sum->spurious += one->spurious;
    sum->duplicates += one->duplicates;
    sum->out_of_order += one->out_of_order;
    sum->corrupt += one->corrupt;
    sum->dropped += one->dropped;
    sum->delivered += one->delivered;
    sum->timeouts += one->timeouts;
    sum->handshake_retries += one->handshake_retries;
    if (one->min_rtt != 0 && (min_rtt == 0 || one->min_rtt < min_rtt))
        min_rtt = one->min_rtt;
    sum->min_rtt = min_rtt;
    sum->srtt = one->srtt;
    sum->rttvar = one->rttvar;
    sum->rto = one->rto;
    sum->cwnd = one->cwnd;
}
