/*
 * selection.c — numpy-style selections of an array: parse "0:10,:,5",
 * build from Python slices, normalise to (start, step, count, drop) per
 * dimension. Slices clamp to the array as numpy's do; integer indices out
 * of range are errors, as are zero steps and malformed terms. Every error
 * is -LSIO_ESELECTION with a message naming the term and the dimension.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsio_zarr.h"

#define OMIT INT64_MIN

void lsio_selection_all(lsio_selection *sel, unsigned ndim, const uint64_t *shape)
{
    memset(sel, 0, sizeof *sel);
    sel->ndim = ndim > LSIO_ZARR_MAX_DIMS ? LSIO_ZARR_MAX_DIMS : ndim;
    for (unsigned d = 0; d < sel->ndim; d++) {
        sel->dim[d].start = 0;
        sel->dim[d].step = 1;
        sel->dim[d].count = shape[d];
    }
}

/* Python's slice.indices() for a dimension of length len (<= INT64_MAX). */
static void slice_norm(int64_t len, int64_t start, int64_t stop, int64_t step, lsio_dim_sel *o)
{
    if (step > 0) {
        if (start == OMIT)
            start = 0;
        else if (start < 0)
            start = start + len < 0 ? 0 : start + len;
        else if (start > len)
            start = len;
        if (stop == OMIT)
            stop = len;
        else if (stop < 0)
            stop = stop + len < 0 ? 0 : stop + len;
        else if (stop > len)
            stop = len;
        o->count = stop > start ? (uint64_t)(stop - start - 1) / (uint64_t)step + 1 : 0;
    } else {
        if (start == OMIT)
            start = len - 1;
        else if (start < 0)
            start = start + len < 0 ? -1 : start + len;
        else if (start >= len)
            start = len - 1;
        if (stop == OMIT)
            stop = -1;
        else if (stop < 0)
            stop = stop + len < 0 ? -1 : stop + len;
        else if (stop >= len)
            stop = len - 1;
        o->count = start > stop ? (uint64_t)(start - stop - 1) / (uint64_t)(-step) + 1 : 0;
    }
    o->start = o->count ? start : 0;
    o->step = step;
    o->drop = 0;
}

static int set_dim(lsio_dim_sel *o, unsigned d, uint64_t len, int64_t start, int64_t stop,
                   int64_t step, int is_index, const char *term)
{
    if (len > (uint64_t)INT64_MAX)
        return lsio_error(-LSIO_ESELECTION, "selection \"%s\", dimension %u: length too large",
                          term, d);
    int64_t n = (int64_t)len;
    if (is_index) {
        int64_t i = start;
        if (i == OMIT || i < -n || i >= n)
            return lsio_error(-LSIO_ESELECTION,
                              "selection \"%s\", dimension %u: index out of range for length %" PRId64,
                              term, d, n);
        o->start = i < 0 ? i + n : i;
        o->step = 1;
        o->count = 1;
        o->drop = 1;
        return 0;
    }
    if (step == OMIT)
        step = 1;
    if (step == 0)
        return lsio_error(-LSIO_ESELECTION, "selection \"%s\", dimension %u: step is zero", term, d);
    if (step == INT64_MIN + 1)
        step = INT64_MIN + 2; /* keep -step representable */
    slice_norm(n, start, stop, step, o);
    return 0;
}

int lsio_selection_from_slices(unsigned ndim, const uint64_t *shape, const int64_t *start,
                               const int64_t *stop, const int64_t *step, const int *is_index,
                               lsio_selection *out)
{
    if (ndim > LSIO_ZARR_MAX_DIMS)
        return lsio_error(-LSIO_ESELECTION, "selection: %u dimensions (at most %d)", ndim,
                          LSIO_ZARR_MAX_DIMS);
    lsio_selection s;
    memset(&s, 0, sizeof s);
    s.ndim = ndim;
    for (unsigned d = 0; d < ndim; d++) {
        char term[96];
        int idx = is_index && is_index[d];
        if (idx)
            snprintf(term, sizeof term, "%" PRId64, start[d]);
        else
            snprintf(term, sizeof term, "slice(%" PRId64 ", %" PRId64 ", %" PRId64 ")", start[d],
                     stop[d], step[d]);
        int rc = set_dim(&s.dim[d], d, shape[d], start[d], idx ? OMIT : stop[d],
                         idx ? 1 : step[d], idx, term);
        if (rc < 0)
            return rc;
    }
    *out = s;
    return 0;
}

/* Parse an optional integer at *p (spaces around allowed). 1 if one was
 * there, 0 if the field is empty, -1 if malformed. */
static int parse_int(const char **p, const char *end, int64_t *v)
{
    const char *s = *p;
    while (s < end && isspace((unsigned char)*s))
        s++;
    if (s == end) {
        *p = s;
        return 0;
    }
    char buf[32];
    size_t len = (size_t)(end - s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *e;
    errno = 0;
    long long x = strtoll(buf, &e, 10);
    if (*e || e == buf || errno)
        return -1;
    *v = x;
    *p = end;
    return 1;
}

static int parse_term(const char *t, size_t len, unsigned d, uint64_t dimlen, lsio_dim_sel *o)
{
    char term[128];
    snprintf(term, sizeof term, "%.*s", (int)(len > 120 ? 120 : len), t);
    const char *end = t + len, *c1 = memchr(t, ':', len);
    if (!c1) {
        int64_t v;
        const char *p = t;
        if (parse_int(&p, end, &v) != 1)
            return lsio_error(-LSIO_ESELECTION, "selection term \"%s\", dimension %u: malformed",
                              term, d);
        return set_dim(o, d, dimlen, v, OMIT, 1, 1, term);
    }
    const char *c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
    if (c2 && memchr(c2 + 1, ':', (size_t)(end - c2 - 1)))
        return lsio_error(-LSIO_ESELECTION, "selection term \"%s\", dimension %u: malformed", term,
                          d);
    int64_t v[3] = {OMIT, OMIT, OMIT};
    const char *b[3] = {t, c1 + 1, c2 ? c2 + 1 : end};
    const char *e[3] = {c1, c2 ? c2 : end, end};
    for (int k = 0; k < (c2 ? 3 : 2); k++) {
        const char *p = b[k];
        if (parse_int(&p, e[k], &v[k]) < 0)
            return lsio_error(-LSIO_ESELECTION, "selection term \"%s\", dimension %u: malformed",
                              term, d);
    }
    if (v[2] == 0)
        return lsio_error(-LSIO_ESELECTION, "selection term \"%s\", dimension %u: step is zero",
                          term, d);
    return set_dim(o, d, dimlen, v[0], v[1], v[2], 0, term);
}

static int blank(const char *t, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)t[i]))
            return 0;
    return 1;
}

static int is_ellipsis(const char *t, size_t len)
{
    while (len && isspace((unsigned char)*t))
        t++, len--;
    while (len && isspace((unsigned char)t[len - 1]))
        len--;
    return len == 3 && !memcmp(t, "...", 3);
}

int lsio_selection_parse(const char *text, unsigned ndim, const uint64_t *shape,
                         lsio_selection *out)
{
    if (!text)
        return lsio_error(-LSIO_ESELECTION, "selection: NULL text");
    if (ndim > LSIO_ZARR_MAX_DIMS)
        return lsio_error(-LSIO_ESELECTION, "selection: %u dimensions (at most %d)", ndim,
                          LSIO_ZARR_MAX_DIMS);
    /* Split into terms. */
    const char *tb[LSIO_ZARR_MAX_DIMS + 1];
    size_t tl[LSIO_ZARR_MAX_DIMS + 1];
    unsigned nt = 0;
    int ell = -1;
    const char *p = text;
    if (!blank(text, strlen(text))) {
        for (;;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (!c && nt > 0 && blank(p, len))
                break; /* a trailing comma ("3,") as Python allows */
            if (nt > ndim)
                return lsio_error(-LSIO_ESELECTION,
                                  "selection \"%s\": more terms than the %u dimensions", text,
                                  ndim);
            if (is_ellipsis(p, len)) {
                if (ell >= 0)
                    return lsio_error(-LSIO_ESELECTION,
                                      "selection \"%s\": more than one \"...\"", text);
                ell = (int)nt;
            }
            tb[nt] = p;
            tl[nt] = len;
            nt++;
            if (!c)
                break;
            p = c + 1;
        }
    }
    unsigned real = nt - (ell >= 0);
    if (real > ndim)
        return lsio_error(-LSIO_ESELECTION, "selection \"%s\": more terms than the %u dimensions",
                          text, ndim);
    lsio_selection sel;
    lsio_selection_all(&sel, ndim, shape);
    unsigned fill = ndim - real; /* dimensions the ellipsis (or the end) covers */
    unsigned d = 0;
    for (unsigned k = 0; k < nt; k++) {
        if ((int)k == ell) {
            d += fill;
            continue;
        }
        int rc = parse_term(tb[k], tl[k], d, shape[d], &sel.dim[d]);
        if (rc < 0)
            return rc;
        d++;
    }
    *out = sel;
    return 0;
}

unsigned lsio_selection_shape(const lsio_selection *sel, uint64_t *shape_out)
{
    unsigned n = 0;
    for (unsigned d = 0; d < sel->ndim; d++)
        if (!sel->dim[d].drop)
            shape_out[n++] = sel->dim[d].count;
    return n;
}

uint64_t lsio_selection_count(const lsio_selection *sel)
{
    uint64_t n = 1;
    for (unsigned d = 0; d < sel->ndim; d++)
        n *= sel->dim[d].count;
    return n;
}
