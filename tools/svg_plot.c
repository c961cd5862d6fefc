/* SVG figures: panels laid out on a grid, axes with nice ticks, series drawn in pixel
 * space (lines thinned to the pixels they cover), written as one standalone SVG file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "svg_plot.h"

enum { LINE = 0, SCATTER = 1 };

/* matplotlib's tab10, so figures look like the Python side's */
static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define PALETTE_SIZE ((int)(sizeof palette / sizeof palette[0]))

typedef struct series {
    int kind, color;
    char *label;
    double *x, *y;
    int64_t n;
} series;

typedef struct marker {
    double x;
    char *text;
} marker;

struct svg_axes {
    char *title, *xlabel, *ylabel;
    int has_xlim, has_ylim, ylog, next_color, no_legend;
    double xlim[2], ylim[2];
    series *series;
    int n_series;
    marker *markers;
    int n_markers;
    int n_yticks;
    double *ytick_values;
    char **ytick_labels;
};

struct svg_figure {
    int rows, cols;
    double panel_width, panel_height;
    char *title;
    svg_axes *axes;
};

/* Margins of a panel around its plotting area, in pixels. */
static const double LEFT = 78, RIGHT = 16, TOP = 28, BOTTOM = 46, TITLE_HEIGHT = 30;

static char *copy_text(const char *s)
{
    if (!s) return NULL;
    char *c = malloc(strlen(s) + 1);
    if (c) strcpy(c, s);
    return c;
}

svg_figure *svg_figure_new(int rows, int cols, double panel_width, double panel_height,
                           const char *title)
{
    if (rows < 1 || cols < 1) return NULL;
    svg_figure *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->axes = calloc((size_t)rows * (size_t)cols, sizeof *f->axes);
    f->title = copy_text(title);
    if (!f->axes || (title && !f->title)) {
        svg_figure_free(f);
        return NULL;
    }
    f->rows = rows;
    f->cols = cols;
    f->panel_width = panel_width;
    f->panel_height = panel_height;
    return f;
}

void svg_figure_free(svg_figure *f)
{
    if (!f) return;
    for (int i = 0; f->axes && i < f->rows * f->cols; i++) {
        svg_axes *a = &f->axes[i];
        free(a->title);
        free(a->xlabel);
        free(a->ylabel);
        for (int s = 0; s < a->n_series; s++) {
            free(a->series[s].label);
            free(a->series[s].x);
            free(a->series[s].y);
        }
        free(a->series);
        for (int m = 0; m < a->n_markers; m++) free(a->markers[m].text);
        free(a->markers);
        for (int t = 0; t < a->n_yticks; t++) free(a->ytick_labels[t]);
        free(a->ytick_labels);
        free(a->ytick_values);
    }
    free(f->axes);
    free(f->title);
    free(f);
}

svg_axes *svg_figure_axes(svg_figure *f, int row, int col)
{
    if (!f || row < 0 || col < 0 || row >= f->rows || col >= f->cols) return NULL;
    return &f->axes[row * f->cols + col];
}

void svg_axes_set_title(svg_axes *a, const char *title)
{
    free(a->title);
    a->title = copy_text(title);
}

void svg_axes_set_labels(svg_axes *a, const char *xlabel, const char *ylabel)
{
    free(a->xlabel);
    free(a->ylabel);
    a->xlabel = copy_text(xlabel);
    a->ylabel = copy_text(ylabel);
}

void svg_axes_set_xlim(svg_axes *a, double lo, double hi)
{
    a->has_xlim = lo < hi;
    a->xlim[0] = lo;
    a->xlim[1] = hi;
}

void svg_axes_set_ylim(svg_axes *a, double lo, double hi)
{
    a->has_ylim = lo < hi;
    a->ylim[0] = lo;
    a->ylim[1] = hi;
}

void svg_axes_set_ylog(svg_axes *a, int on) { a->ylog = on != 0; }

void svg_axes_set_legend(svg_axes *a, int on) { a->no_legend = !on; }

int svg_axes_set_yticks(svg_axes *a, int n, const double *values, const char *const *labels)
{
    double *v = malloc(sizeof *v * (size_t)(n > 0 ? n : 1));
    char **l = calloc((size_t)(n > 0 ? n : 1), sizeof *l);
    if (!v || !l) {
        free(v);
        free(l);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        v[i] = values[i];
        if (!(l[i] = copy_text(labels[i]))) {
            for (int j = 0; j < i; j++) free(l[j]);
            free(l);
            free(v);
            return -1;
        }
    }
    for (int t = 0; t < a->n_yticks; t++) free(a->ytick_labels[t]);
    free(a->ytick_labels);
    free(a->ytick_values);
    a->n_yticks = n;
    a->ytick_values = v;
    a->ytick_labels = l;
    return 0;
}

static int add_series(svg_axes *a, int kind, const double *x, const double *y, int64_t n,
                      const char *label, int color)
{
    series *grown = realloc(a->series, sizeof *grown * (size_t)(a->n_series + 1));
    if (!grown) return -1;
    a->series = grown;
    series *s = &grown[a->n_series];
    memset(s, 0, sizeof *s);
    size_t bytes = sizeof(double) * (size_t)(n > 0 ? n : 1);
    s->x = malloc(bytes);
    s->y = malloc(bytes);
    s->label = copy_text(label);
    if (!s->x || !s->y || (label && !s->label)) {
        free(s->x);
        free(s->y);
        free(s->label);
        return -1;
    }
    if (n > 0) {
        memcpy(s->x, x, sizeof(double) * (size_t)n);
        memcpy(s->y, y, sizeof(double) * (size_t)n);
    }
    s->n = n;
    s->kind = kind;
    s->color = color >= 0 ? color % PALETTE_SIZE : a->next_color++ % PALETTE_SIZE;
    a->n_series++;
    return 0;
}

int svg_axes_line(svg_axes *a, const double *x, const double *y, int64_t n, const char *label,
                  int color)
{
    return add_series(a, LINE, x, y, n, label, color);
}

int svg_axes_scatter(svg_axes *a, const double *x, const double *y, int64_t n,
                     const char *label, int color)
{
    return add_series(a, SCATTER, x, y, n, label, color);
}

int svg_axes_vline(svg_axes *a, double x, const char *text)
{
    marker *grown = realloc(a->markers, sizeof *grown * (size_t)(a->n_markers + 1));
    if (!grown) return -1;
    a->markers = grown;
    grown[a->n_markers].x = x;
    if (!(grown[a->n_markers].text = copy_text(text)) && text) return -1;
    a->n_markers++;
    return 0;
}

/* ---- limits and ticks ---- */

static double y_value(const svg_axes *a, double y)
{
    return a->ylog ? (y > 0 ? log10(y) : NAN) : y;
}

/* The data range of the panel (y in log10 when the axis is logarithmic). */
static void limits(const svg_axes *a, double xl[2], double yl[2])
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int s = 0; s < a->n_series; s++)
        for (int64_t i = 0; i < a->series[s].n; i++) {
            double x = a->series[s].x[i], y = y_value(a, a->series[s].y[i]);
            if (!isfinite(x) || !isfinite(y)) continue;
            x0 = fmin(x0, x);
            x1 = fmax(x1, x);
            y0 = fmin(y0, y);
            y1 = fmax(y1, y);
        }
    for (int m = 0; m < a->n_markers; m++)
        if (isfinite(a->markers[m].x)) {
            x0 = fmin(x0, a->markers[m].x);
            x1 = fmax(x1, a->markers[m].x);
        }
    for (int t = 0; t < a->n_yticks; t++) {
        y0 = fmin(y0, a->ytick_values[t]);
        y1 = fmax(y1, a->ytick_values[t]);
    }
    if (!(x0 <= x1)) x0 = 0, x1 = 1;
    if (!(y0 <= y1)) y0 = 0, y1 = 1;
    if (x0 == x1) x0 -= 0.5, x1 += 0.5;
    if (y0 == y1) y0 -= 0.5, y1 += 0.5;
    if (a->ylog && y1 - y0 > 12) y0 = y1 - 12; /* rounding noise near zero: not 30 decades */
    double pad = 0.05 * (y1 - y0); /* air above and below, as matplotlib leaves */
    yl[0] = y0 - pad;
    yl[1] = y1 + pad;
    xl[0] = x0;
    xl[1] = x1;
    if (a->has_xlim) xl[0] = a->xlim[0], xl[1] = a->xlim[1];
    if (a->has_ylim) yl[0] = y_value(a, a->ylim[0]), yl[1] = y_value(a, a->ylim[1]);
    if (!(yl[0] < yl[1])) yl[0] = 0, yl[1] = 1;
}

/* A step of 1, 2 or 5 times a power of ten giving about `count` ticks over `range`. */
static double nice_step(double range, int count)
{
    double raw = range / count, power = pow(10.0, floor(log10(raw))), m = raw / power;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * power;
}

/* ---- writing ---- */

typedef struct box {
    double x, y, w, h;          /* plotting area in pixels */
    double xl[2], yl[2];        /* data limits (y in log10 for a log axis) */
} box;

static double px(const box *b, double x) { return b->x + (x - b->xl[0]) / (b->xl[1] - b->xl[0]) * b->w; }
static double py(const box *b, double y) { return b->y + b->h - (y - b->yl[0]) / (b->yl[1] - b->yl[0]) * b->h; }

static void put_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t') fputc(*s, out);
        }
    }
}

static void tick_label(char *text, size_t size, double v, double step)
{
    if (fabs(v) < step * 1e-9) v = 0;
    snprintf(text, size, "%g", v);
}

static void write_ticks(FILE *out, const svg_axes *a, const box *b)
{
    fprintf(out, "<g class=\"ticks\" font-size=\"11\" fill=\"#333\">\n");
    char text[64];
    double step = nice_step(b->xl[1] - b->xl[0], 6);
    for (double v = ceil(b->xl[0] / step - 1e-9) * step; v <= b->xl[1] + step * 1e-9; v += step) {
        double x = px(b, v);
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e6e6e6\"/>\n",
                x, b->y, x, b->y + b->h);
        tick_label(text, sizeof text, v, step);
        fprintf(out, "<text class=\"xtick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n",
                x, b->y + b->h + 15, text);
    }
    if (a->n_yticks > 0) {
        for (int t = 0; t < a->n_yticks; t++) {
            double y = py(b, a->ytick_values[t]);
            fprintf(out, "<text class=\"ytick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">",
                    b->x - 6, y + 4);
            put_text(out, a->ytick_labels[t]);
            fprintf(out, "</text>\n");
        }
    } else {
        double ystep = a->ylog ? fmax(1.0, floor((b->yl[1] - b->yl[0]) / 5)) : nice_step(b->yl[1] - b->yl[0], 5);
        for (double v = ceil(b->yl[0] / ystep - 1e-9) * ystep; v <= b->yl[1] + ystep * 1e-9; v += ystep) {
            double y = py(b, v);
            fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e6e6e6\"/>\n",
                    b->x, y, b->x + b->w, y);
            if (a->ylog) snprintf(text, sizeof text, "1e%g", v == 0 ? 0.0 : v); /* not 1e-0 */
            else tick_label(text, sizeof text, v, ystep);
            fprintf(out, "<text class=\"ytick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                    b->x - 6, y + 4, text);
        }
    }
    fprintf(out, "</g>\n");
}

/* A line's points in pixels; beyond two points per pixel column only each column's
 * first, lowest, highest and last points are kept, which draws the same picture. */
static void write_line(FILE *out, const svg_axes *a, const series *s, const box *b)
{
    int open = 0;
    long column = -1;
    double first = 0, last = 0, lo = 0, hi = 0, xc = 0;
    int thin = s->n > 2 * (int64_t)b->w;
    for (int64_t i = 0; i <= s->n; i++) {
        double x = i < s->n ? s->x[i] : NAN, y = i < s->n ? y_value(a, s->y[i]) : NAN;
        int ok = isfinite(x) && isfinite(y);
        double X = ok ? px(b, x) : 0, Y = ok ? py(b, y) : 0;
        long col = ok ? (long)floor(X) : -2;
        if (thin && column != -1 && col != column) { /* flush the finished column */
            fprintf(out, "%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f ", xc, first, xc, lo, xc, hi, xc, last);
            column = -1;
        }
        if (!ok) {
            if (open) fprintf(out, "\"/>\n");
            open = 0;
            continue;
        }
        if (!open) {
            fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" points=\"",
                    palette[s->color]);
            open = 1;
        }
        if (!thin) {
            fprintf(out, "%.2f,%.2f ", X, Y);
        } else if (column == -1) {
            column = col;
            xc = X;
            first = last = lo = hi = Y;
        } else {
            last = Y;
            lo = fmin(lo, Y);
            hi = fmax(hi, Y);
        }
    }
}

static void write_scatter(FILE *out, const svg_axes *a, const series *s, const box *b)
{
    for (int64_t i = 0; i < s->n; i++) {
        double y = y_value(a, s->y[i]);
        if (!isfinite(s->x[i]) || !isfinite(y)) continue;
        fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\" fill-opacity=\"0.75\"/>\n",
                px(b, s->x[i]), py(b, y), palette[s->color]);
    }
}

static void write_legend(FILE *out, const svg_axes *a, const box *b)
{
    int n = 0;
    size_t longest = 0;
    for (int s = 0; s < a->n_series; s++)
        if (a->series[s].label) {
            n++;
            if (strlen(a->series[s].label) > longest) longest = strlen(a->series[s].label);
        }
    if (!n) return;
    double w = 30 + 6.5 * (double)longest, h = 16.0 * n + 6, x = b->x + b->w - w - 6, y = b->y + 6;
    fprintf(out, "<g class=\"legend\" font-size=\"11\">\n<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
            "height=\"%.2f\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n", x, y, w, h);
    int row = 0;
    for (int s = 0; s < a->n_series; s++) {
        const series *se = &a->series[s];
        if (!se->label) continue;
        double yy = y + 14 + 16.0 * row++;
        if (se->kind == LINE)
            fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                    "stroke-width=\"2\"/>\n", x + 5, yy - 4, x + 21, yy - 4, palette[se->color]);
        else
            fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", x + 13, yy - 4,
                    palette[se->color]);
        fprintf(out, "<text x=\"%.2f\" y=\"%.2f\">", x + 26, yy);
        put_text(out, se->label);
        fprintf(out, "</text>\n");
    }
    fprintf(out, "</g>\n");
}

static void write_axes(FILE *out, const svg_axes *a, double x0, double y0, double width,
                       double height)
{
    box b = {x0 + LEFT, y0 + TOP, width - LEFT - RIGHT, height - TOP - BOTTOM, {0, 1}, {0, 1}};
    limits(a, b.xl, b.yl);
    fprintf(out, "<g class=\"axes\" data-xlim=\"%.17g %.17g\" data-ylim=\"%.17g %.17g\" "
            "data-box=\"%.2f %.2f %.2f %.2f\" data-ylog=\"%d\">\n", b.xl[0], b.xl[1],
            a->ylog ? pow(10.0, b.yl[0]) : b.yl[0], a->ylog ? pow(10.0, b.yl[1]) : b.yl[1],
            b.x, b.y, b.w, b.h, a->ylog);
    fprintf(out, "<defs><clipPath id=\"clip-%.0f-%.0f\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
            "height=\"%.2f\"/></clipPath></defs>\n", x0, y0, b.x, b.y, b.w, b.h);
    write_ticks(out, a, &b);
    fprintf(out, "<g clip-path=\"url(#clip-%.0f-%.0f)\">\n", x0, y0);
    for (int m = 0; m < a->n_markers; m++) {
        double x = px(&b, a->markers[m].x);
        fprintf(out, "<g class=\"marker\" data-x=\"%.17g\"><line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" "
                "y2=\"%.2f\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>", a->markers[m].x, x, b.y,
                x, b.y + b.h);
        if (a->markers[m].text) {
            fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#555\">", x + 2, b.y + 10);
            put_text(out, a->markers[m].text);
            fprintf(out, "</text>");
        }
        fprintf(out, "</g>\n");
    }
    for (int s = 0; s < a->n_series; s++) {
        const series *se = &a->series[s];
        fprintf(out, "<g class=\"series\" data-kind=\"%s\" data-label=\"",
                se->kind == LINE ? "line" : "scatter");
        put_text(out, se->label ? se->label : "");
        fprintf(out, "\">\n");
        if (se->kind == LINE) write_line(out, a, se, &b);
        else write_scatter(out, a, se, &b);
        fprintf(out, "</g>\n");
    }
    fprintf(out, "</g>\n<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
            "stroke=\"#333\"/>\n", b.x, b.y, b.w, b.h);
    if (!a->no_legend) write_legend(out, a, &b);
    if (a->title) {
        fprintf(out, "<text class=\"title\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
                "font-size=\"13\">", b.x + b.w / 2, y0 + 18);
        put_text(out, a->title);
        fprintf(out, "</text>\n");
    }
    if (a->xlabel) {
        fprintf(out, "<text class=\"xlabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
                "font-size=\"12\">", b.x + b.w / 2, b.y + b.h + 36);
        put_text(out, a->xlabel);
        fprintf(out, "</text>\n");
    }
    if (a->ylabel) {
        double cx = x0 + 14, cy = b.y + b.h / 2;
        fprintf(out, "<text class=\"ylabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
                "font-size=\"12\" transform=\"rotate(-90 %.2f %.2f)\">", cx, cy, cx, cy);
        put_text(out, a->ylabel);
        fprintf(out, "</text>\n");
    }
    fprintf(out, "</g>\n");
}

int svg_figure_save(const svg_figure *f, const char *path, char *err, size_t err_size)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    double top = f->title ? TITLE_HEIGHT : 0;
    double width = f->cols * f->panel_width, height = top + f->rows * f->panel_height;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", width, height, width, height);
    if (f->title) {
        fprintf(out, "<text class=\"suptitle\" x=\"%.2f\" y=\"20\" text-anchor=\"middle\" "
                "font-size=\"15\">", width / 2);
        put_text(out, f->title);
        fprintf(out, "</text>\n");
    }
    for (int r = 0; r < f->rows; r++)
        for (int c = 0; c < f->cols; c++)
            write_axes(out, &f->axes[r * f->cols + c], c * f->panel_width,
                       top + r * f->panel_height, f->panel_width, f->panel_height);
    fprintf(out, "</svg>\n");
    int failed = ferror(out);
    if (fclose(out) != 0) failed = 1;
    if (failed) {
        snprintf(err, err_size, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
