/* out.c: standard output for hola-server and hola-client. Each write is checked as it
 * happens: glibc does not try a failed buffer again, so a later fflush() could not
 * tell why, and a cause read from errno later would be whatever failed since. The
 * server's stdout never blocks (hola_out_nonblocking()): its lines wait in a bounded
 * queue of its own, written with write(2) as far as the reader takes them. */
#define _GNU_SOURCE /* O_CLOEXEC with _POSIX_C_SOURCE */
#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int first_error;

/* The queue (NULL: stdio, blocking): bytes [head, head + len) of a ring of cap bytes. */
static struct {
    char *buf;
    size_t cap, head, len;
    const char *prog;
    bool sock;         /* stdout is a socket: send(MSG_DONTWAIT), its flags untouched */
    int restore_flags; /* -1, or fd 1's flags to put back (a description we share) */
    unsigned long long dropped;
} q = { .restore_flags = -1 };

static void check(void)
{
    if (ferror(stdout) && first_error == 0)
        first_error = errno ? errno : EIO;
}

/* O_NONBLOCK belongs to the open file description, which a terminal or pipe usually
 * shares with stdin, stderr and the shell: setting it there would make their reads and
 * writes fail with EAGAIN too. A fresh description of the same file is ours alone. */
static int own_nonblocking(void)
{
    struct stat st;

    if (fstat(STDOUT_FILENO, &st) != 0)
        return -1;
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
        return 0; /* never "would block" */
    if (S_ISSOCK(st.st_mode)) {
        q.sock = true;
        return 0;
    }
    int fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
        int rc = dup2(fd, STDOUT_FILENO);
        close(fd);
        return rc < 0 ? -1 : 0;
    }
    /* No /proc: the shared description, put back as it was by hola_out_finish(). */
    int fl = fcntl(STDOUT_FILENO, F_GETFL);
    if (fl < 0 || fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK) != 0)
        return -1;
    q.restore_flags = fl;
    return 0;
}

int hola_out_nonblocking(const char *prog, size_t cap)
{
    fflush(stdout);
    if (own_nonblocking() != 0)
        return -1;
    q.buf = malloc(cap);
    if (q.buf == NULL)
        return -1;
    q.cap = cap;
    q.prog = prog;
    return 0;
}

static void drop(void)
{
    if (q.dropped++ == 0)
        fprintf(stderr,
                "%s: standard output full (its reader is not reading): lines dropped "
                "and counted until it reads again\n",
                q.prog);
}

/* Queues pieces[0..n) as one line, or drops it whole. */
static void enqueue(const char *const *pieces, const size_t *lens, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    if (first_error != 0)
        return; /* the server is stopping (hola_server_done) */
    if (total > q.cap - q.len) {
        drop();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t done = 0; done < lens[i];) {
            size_t tail = (q.head + q.len) % q.cap;
            size_t room = tail >= q.head ? q.cap - tail : q.head - tail;
            size_t k = lens[i] - done < room ? lens[i] - done : room;
            memcpy(q.buf + tail, pieces[i] + done, k);
            q.len += k;
            done += k;
        }
    }
}

void hola_out_line(const char *s, size_t n)
{
    if (q.buf != NULL) {
        enqueue((const char *const[]){ s, "\n" }, (const size_t[]){ n, 1 }, 2);
        return;
    }
    errno = 0;
    fwrite(s, 1, n, stdout);
    fputc('\n', stdout);
    check();
}

void hola_out_line2(const char *a, const char *b)
{
    if (q.buf != NULL) {
        enqueue((const char *const[]){ a, b, "\n" }, (const size_t[]){ strlen(a), strlen(b), 1 },
                3);
        return;
    }
    errno = 0;
    fputs(a, stdout);
    fputs(b, stdout);
    fputc('\n', stdout);
    check();
}

void hola_out_flush(void)
{
    if (q.buf == NULL) {
        errno = 0;
        (void)fflush(stdout);
        check();
        return;
    }
    while (q.len > 0 && first_error == 0) {
        size_t k = q.head + q.len <= q.cap ? q.len : q.cap - q.head;
        ssize_t w = q.sock ? send(STDOUT_FILENO, q.buf + q.head, k, MSG_DONTWAIT | MSG_NOSIGNAL)
                           : write(STDOUT_FILENO, q.buf + q.head, k);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w <= 0) {
            first_error = w < 0 ? errno : EIO;
            q.len = 0;
            return;
        }
        q.head = (q.head + (size_t)w) % q.cap;
        q.len -= (size_t)w;
    }
    if (q.len == 0)
        q.head = 0; /* one write, not two, for the next burst */
}

bool hola_out_pending(void)
{
    return q.buf != NULL && q.len > 0 && first_error == 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned long long hola_out_finish(void)
{
    long long end = now_ms() + HOLA_OUT_FINISH_MS;

    hola_out_flush();
    while (hola_out_pending() && now_ms() < end) {
        struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
        if (poll(&p, 1, (int)(end - now_ms())) < 0 && errno != EINTR)
            break;
        hola_out_flush();
    }
    if (q.buf != NULL) {
        /* What is left is whole lines (the queue takes only whole ones): count them. */
        for (size_t i = 0; i < q.len; i++)
            q.dropped += q.buf[(q.head + i) % q.cap] == '\n';
        free(q.buf);
        q.buf = NULL;
        q.len = 0;
    }
    if (q.restore_flags >= 0)
        (void)fcntl(STDOUT_FILENO, F_SETFL, q.restore_flags);
    q.restore_flags = -1;
    return q.dropped;
}

int hola_out_error(void)
{
    return first_error;
}
