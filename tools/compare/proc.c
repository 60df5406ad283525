/* proc.c: hola-compare's child processes. Every wait is bounded: a child that overstays
 * gets SIGTERM, then SIGKILL, and is always reaped; an interruption (SIGINT, SIGTERM)
 * ends the waits the same way. Knows nothing of runs or options. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "stats.h"

#define KILL_GRACE_MS 2000u

static volatile sig_atomic_t interrupted_flag;

static void on_signal(int sig)
{
    (void)sig;
    interrupted_flag = 1;
}

bool hola_compare_interrupted(void)
{
    return interrupted_flag != 0;
}

void hola_compare_signals_init(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void hola_compare_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };
    nanosleep(&ts, NULL);
}

pid_t hola_compare_spawn(char *const argv[], const char *in, const char *out, const char *err,
                         struct hola_err *e)
{
    int fds[3];
    const char *paths[3] = { in, out, err };

    for (int i = 0; i < 3; i++) {
        const char *p = paths[i] != NULL ? paths[i] : "/dev/null";
        fds[i] =
            open(p, i == 0 ? O_RDONLY | O_CLOEXEC : O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fds[i] < 0) {
            int saved = errno;
            for (int j = 0; j < i; j++)
                close(fds[j]);
            return hola_err_set(e, "%s: %s", p, strerror(saved));
        }
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            if (dup2(fds[i], i) < 0)
                _exit(126);
        /* The parent's handlers are reset by exec; its ignored signals are not. */
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
        dprintf(2, _("hola-compare: cannot run %s: %s\n"), argv[0], strerror(errno));
        _exit(127);
    }
    int saved = errno;
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    if (pid < 0)
        return hola_err_set(e, "fork: %s", strerror(saved));
    return pid;
}

static int status_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 1;
}

int hola_compare_wait(pid_t pid, unsigned long timeout_ms)
{
    uint64_t start = hola_stats_now_us();
    uint64_t deadline = start + (uint64_t)timeout_ms * 1000u;
    bool termed = false, timed_out = false;
    uint64_t kill_at = 0;
    unsigned nap = 1;
    int st;

    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return timed_out ? -2 : status_code(st);
        if (w < 0 && errno != EINTR)
            return -1;
        uint64_t now = hola_stats_now_us();
        if (!termed && (now >= deadline || hola_compare_interrupted())) {
            timed_out = now >= deadline;
            kill(pid, SIGTERM);
            termed = true;
            kill_at = now + (uint64_t)KILL_GRACE_MS * 1000u;
        } else if (termed && now >= kill_at) {
            kill(pid, SIGKILL);
            kill_at = UINT64_MAX; /* SIGKILL cannot be refused: the next waits reap it */
        }
        /* Short naps at first (a run's end is seen within a millisecond), longer ones
         * for a long wait. */
        hola_compare_sleep_ms(nap);
        if (now - start > 200000u)
            nap = 5;
    }
}
