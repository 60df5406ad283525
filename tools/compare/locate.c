/* locate.c: finding the programs hola-compare runs: hola-server and hola-client next to
 * itself (installed: one bindir), else in the build it came from; hola-lab from
 * --lab-script, $HOLA_LAB, beside it, ../share/hola, ../libexec/hola, the source tree,
 * then PATH. */
#include "locate.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"

#ifndef HOLA_SOURCE_DIR
#define HOLA_SOURCE_DIR ""
#endif
#ifndef HOLA_PROGRAMS_BUILD_DIR
#define HOLA_PROGRAMS_BUILD_DIR ""
#endif

static bool executable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

int hola_compare_locate(struct hola_compare_opts *o, struct hola_err *e)
{
    char dir[HOLA_COMPARE_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", o->self, sizeof o->self - 1);

    if (n <= 0)
        return hola_err_set(e, _("cannot find my own executable (/proc/self/exe): %s"),
                            strerror(errno));
    o->self[n] = '\0';
    hola_compare_copy(dir, sizeof dir, o->self);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    /* Installed, the three programs share bindir; in the build tree hola-compare sits in
     * tools/compare and the practice's programs in src/hola. */
    const char *bins[2] = { o->bin_dir != NULL ? o->bin_dir : dir,
                            o->bin_dir != NULL ? "" : HOLA_PROGRAMS_BUILD_DIR };
    bool found = false;
    for (int i = 0; i < 2 && !found; i++)
        found = bins[i][0] != '\0' &&
                hola_compare_join(o->server, sizeof o->server, bins[i], "/hola-server") == 0 &&
                hola_compare_join(o->client, sizeof o->client, bins[i], "/hola-client") == 0 &&
                executable(o->server) && executable(o->client);
    if (!found)
        return hola_err_set(e, _("hola-server and hola-client not found in %s (use --bin-dir)"),
                            bins[0]);
    /* Absolute paths: the lab's wrappers and the worker run from elsewhere. */
    char abs[PATH_MAX];
    if (realpath(o->server, abs) != NULL)
        hola_compare_copy(o->server, sizeof o->server, abs);
    if (realpath(o->client, abs) != NULL)
        hola_compare_copy(o->client, sizeof o->client, abs);
    if (!o->lab)
        return 0;

    const char *env = getenv("HOLA_LAB");
    char cand[6][HOLA_COMPARE_PATH_MAX];
    int nc = 0;
    if (o->lab_script != NULL) {
        if (!executable(o->lab_script))
            return hola_err_set(e, _("--lab-script %s: not an executable file"), o->lab_script);
        hola_compare_copy(o->lab_path, sizeof o->lab_path, o->lab_script);
        return 0;
    }
    if (env != NULL && env[0] != '\0')
        hola_compare_copy(cand[nc++], sizeof cand[0], env);
    hola_compare_join(cand[nc++], sizeof cand[0], dir, "/hola-lab");
    hola_compare_join(cand[nc++], sizeof cand[0], dir, "/../share/hola/hola-lab");
    hola_compare_join(cand[nc++], sizeof cand[0], dir, "/../libexec/hola/hola-lab");
    if (HOLA_SOURCE_DIR[0] != '\0')
        hola_compare_join(cand[nc++], sizeof cand[0], HOLA_SOURCE_DIR, "/scripts/hola-lab");
    for (int i = 0; i < nc; i++) {
        if (cand[i][0] != '\0' && executable(cand[i])) {
            hola_compare_copy(o->lab_path, sizeof o->lab_path, cand[i]);
            return 0;
        }
    }
    const char *path = getenv("PATH");
    if (path != NULL) {
        char buf[4096];
        snprintf(buf, sizeof buf, "%s", path);
        char *save, *d;
        for (d = strtok_r(buf, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
            if (hola_compare_join(o->lab_path, sizeof o->lab_path, d, "/hola-lab") == 0 &&
                executable(o->lab_path))
                return 0;
        }
    }
    o->lab_path[0] = '\0';
    return hola_err_set(e,
                        _("--lab: hola-lab not found (next to %s, in ../share/hola, on "
                          "PATH...); use --lab-script PATH or HOLA_LAB=PATH"),
                        o->self);
}
