/* The command line's progress bar: on standard error when it is a terminal, silent
 * otherwise (BTFM_PROGRESS=always or never overrides the check). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(cli_progress *p)
{
    const char *mode = getenv("BTFM_PROGRESS");
    if (mode && strcmp(mode, "always") == 0) p->enabled = 1;
    else if (mode && strcmp(mode, "never") == 0) p->enabled = 0;
    else p->enabled = isatty(STDERR_FILENO);
    p->shown = 0;
    p->started = now_s();
}

int cli_progress_fn(const char *stage, double fraction, void *user)
{
    cli_progress *p = user;
    if (!p || !p->enabled) return 0;
    enum { WIDTH = 30 };
    int filled = (int)(fraction * WIDTH + 0.5);
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %3d%% %-28.28s %5.1fs", bar, (int)(100 * fraction + 1e-9),
            stage ? stage : "", now_s() - p->started);
    fflush(stderr);
    p->shown = 1;
    return 0;
}

void cli_progress_finish(cli_progress *p)
{
    if (p && p->shown) {
        fputc('\n', stderr);
        fflush(stderr);
        p->shown = 0;
    }
}
