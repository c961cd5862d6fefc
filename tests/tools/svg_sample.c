/* Writes the figure tests/tools/test_svg_plot.py checks: every feature of tools/svg_plot.c
 * on data the test recomputes (lines with a break, scatter, log axis, markers, named
 * ticks, a thinned long line, a 2 x 2 grid with legends). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "svg_plot.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: svg_sample OUT.svg\n");
        return 2;
    }
    enum { N = 100, M = 30, LONG = 20000 };
    static double x[LONG], y[LONG], y2[N];
    svg_figure *f = svg_figure_new(2, 2, 480, 320, "svg_plot sample & <checks>");
    svg_axes *a = svg_figure_axes(f, 0, 0);
    for (int i = 0; i < N; i++) {
        x[i] = i / 10.0;
        y[i] = sin(x[i]);
        y2[i] = cos(x[i]);
    }
    svg_axes_set_title(a, "lines");
    svg_axes_set_labels(a, "time (s)", "amplitude");
    svg_axes_line(a, x, y, N, "sin", -1);
    svg_axes_line(a, x, y2, N, "cos", -1);
    svg_axes_vline(a, 2.5, "event \"go\"");

    a = svg_figure_axes(f, 0, 1);
    svg_axes_set_title(a, "scatter");
    for (int i = 0; i < M; i++) {
        x[i] = i;
        y[i] = (i * 7) % 11;
    }
    svg_axes_scatter(a, x, y, M, "points", -1);
    svg_axes_line(a, x, x, M, "diagonal", 3);
    svg_axes_set_xlim(a, 0, 29);
    svg_axes_set_ylim(a, 0, 29);

    a = svg_figure_axes(f, 1, 0);
    svg_axes_set_title(a, "log");
    svg_axes_set_ylog(a, 1);
    for (int i = 0; i < N; i++) {
        x[i] = i;
        y[i] = i == 50 ? NAN : pow(10.0, i / 20.0);
    }
    svg_axes_line(a, x, y, N, "growth", -1);

    a = svg_figure_axes(f, 1, 1);
    svg_axes_set_title(a, "long");
    for (int i = 0; i < LONG; i++) {
        x[i] = i;
        y[i] = i == 12345 ? 5.0 : sin(2 * M_PI * i / 1000.0);
    }
    svg_axes_line(a, x, y, LONG, NULL, -1);
    const double ticks[2] = {0, 1};
    const char *names[2] = {"zero", "one"};
    svg_axes_set_yticks(a, 2, ticks, names);

    char err[256];
    int rc = svg_figure_save(f, argv[1], err, sizeof err);
    if (rc) fprintf(stderr, "svg_sample: %s\n", err);
    svg_figure_free(f);
    return rc ? 1 : 0;
}
