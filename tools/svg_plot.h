/* Dependency-free SVG figures for the command line: a grid of panels, each with axes
 * (ticks, labels, grid lines, linear or log scale), line and scatter series, vertical
 * markers and a legend. Series data are copied in, so callers may free their arrays.
 *
 * Each panel is written as <g class="axes" data-xlim="lo hi" data-ylim="lo hi"
 * data-box="x y width height" data-ylog="0|1"> and each series as a <polyline> or a <g> of
 * <circle>s with data-label, so a reader (or a test) can map the pixels back to data. */
#ifndef BTFM_TOOLS_SVG_PLOT_H
#define BTFM_TOOLS_SVG_PLOT_H

#include <stddef.h>
#include <stdint.h>

typedef struct svg_figure svg_figure;
typedef struct svg_axes svg_axes;

/* A figure of rows x cols panels, each panel_width x panel_height pixels (axes,
 * labels and legend inside), with an optional title (NULL for none). NULL when out of
 * memory. */
svg_figure *svg_figure_new(int rows, int cols, double panel_width, double panel_height,
                           const char *title);
void svg_figure_free(svg_figure *f);

/* The panel at (row, col), 0-based; NULL outside the grid. */
svg_axes *svg_figure_axes(svg_figure *f, int row, int col);

/* Title and axis labels of a panel (NULL leaves one out). */
void svg_axes_set_title(svg_axes *a, const char *title);
void svg_axes_set_labels(svg_axes *a, const char *xlabel, const char *ylabel);

/* Fixed limits (otherwise the data's range, with nice ends); lo < hi. */
void svg_axes_set_xlim(svg_axes *a, double lo, double hi);
void svg_axes_set_ylim(svg_axes *a, double lo, double hi);

/* A logarithmic y axis (values <= 0 are left out of the series). */
void svg_axes_set_ylog(svg_axes *a, int on);

/* Whether the labelled series are listed in a legend (on by default; off when named y
 * ticks already say which trace is which). The labels stay on the series. */
void svg_axes_set_legend(svg_axes *a, int on);

/* Named y ticks instead of numbers (e.g. channel names at each trace's offset);
 * n values and labels, copied. */
int svg_axes_set_yticks(svg_axes *a, int n, const double *values, const char *const *labels);

/* Add a series: n points (x[i], y[i]); non-finite points break a line and are skipped by
 * a scatter. `label` (NULL: none) appears in the legend. color < 0 takes the next color
 * of the palette. Returns 0, or -1 when out of memory. */
int svg_axes_line(svg_axes *a, const double *x, const double *y, int64_t n, const char *label,
                  int color);
int svg_axes_scatter(svg_axes *a, const double *x, const double *y, int64_t n,
                     const char *label, int color);

/* A vertical marker at x across the panel, with a short text at its top (NULL: none). */
int svg_axes_vline(svg_axes *a, double x, const char *text);

/* Write the figure to `path`: 0, or -1 with a message naming the file in `err`. */
int svg_figure_save(const svg_figure *f, const char *path, char *err, size_t err_size);

#endif
