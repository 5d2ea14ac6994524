/*
 * plan.c — range resolution and request planning for the IO core.
 *
 * Resolution turns a caller's (offset, length) — negative offsets from the
 * end, LSIO_TO_END — into an absolute span, or an error naming the location
 * and the range. Planning turns the resolved ranges of one lsio_get_ranges
 * call into backend requests: nearby pooled ranges merge into one request
 * (their completions later share its buffer through slices), large requests
 * split into parts read in parallel, and pooled requests widen to the
 * backend's O_DIRECT alignment. Ranges with caller memory are never merged:
 * their bytes must land exactly where the caller said.
 *
 * Pure functions, no IO: the unit tests call them directly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_core.h"

const char *lsio__strip_file_scheme(const char *location)
{
    if (strncmp(location, "file://", 7) != 0)
        return location;
    const char *p = location + 7;
    if (strncmp(p, "localhost/", 10) == 0)
        p += 9;
    return p;
}

/* Describe the range as given or as resolved: "[a, b)" or "[-5, end)". */
static void range_text(const lsio__rng *r, int resolved, char *buf, size_t cap)
{
    if (resolved)
        snprintf(buf, cap, "[%" PRIu64 ", %" PRIu64 ")", r->off, r->off + r->len);
    else if (r->orig_len == LSIO_TO_END)
        snprintf(buf, cap, "[%" PRId64 ", end)", r->orig_off);
    else
        snprintf(buf, cap, "[%" PRId64 ", %+" PRId64 ")", r->orig_off, r->orig_len);
}

static void fail(lsio__rng *r, int err, const char *location, int resolved,
                 const char *what)
{
    char rt[96];
    range_text(r, resolved, rt, sizeof rt);
    r->status = err;
    r->error = lsio_error_msg(err, "read %s %s: %s", location, rt, what);
}

void lsio__resolve(lsio__rng *r, const char *location, int have_size, uint64_t size,
                   int size_err, const char *size_msg)
{
    int64_t o = r->orig_off, l = r->orig_len;
    r->status = 0;
    r->error = NULL;
    r->off = o >= 0 ? (uint64_t)o : 0;
    r->len = l > 0 ? (size_t)l : 0;
    if (l == 0)
        return; /* completes empty, whatever the object */
    if (r->open_end) {
        r->len = SIZE_MAX; /* known when the backend has read it */
        return;
    }
    char what[160];
    if ((o < 0 || l == LSIO_TO_END) && !have_size) {
        char rt[96];
        range_text(r, 0, rt, sizeof rt);
        r->status = size_err ? size_err : -EIO;
        size_t need = strlen(location) + strlen(rt) + (size_msg ? strlen(size_msg) : 0) + 32;
        r->error = malloc(need);
        if (r->error)
            snprintf(r->error, need, "read %s %s: %s", location, rt,
                     size_msg && *size_msg ? size_msg : lsio_strerror(r->status));
        return;
    }
    if (o < 0) {
        if ((uint64_t)(-(o + 1)) + 1 > size) {
            snprintf(what, sizeof what, "offset before the start (size %" PRIu64 ")", size);
            fail(r, -LSIO_ERANGE, location, 0, what);
            return;
        }
        r->off = size - ((uint64_t)(-(o + 1)) + 1);
    }
    if (l == LSIO_TO_END) {
        if (r->off > size) {
            snprintf(what, sizeof what, "offset past end of file (size %" PRIu64 ")", size);
            fail(r, -LSIO_ERANGE, location, 0, what);
            return;
        }
        r->len = (size_t)(size - r->off);
        return;
    }
    if (have_size && (r->off > size || r->len > size - r->off)) {
        snprintf(what, sizeof what, "range past end of file (size %" PRIu64 ")", size);
        fail(r, -LSIO_ERANGE, location, 1, what);
    }
}

/* ------------------------------------------------------------------ plan */

static int key_cmp(const void *a, const void *b)
{
    const lsio__key *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static size_t round_up(size_t v, size_t a) { return a ? (v + a - 1) / a * a : v; }

static void set_parts(const lsio__plan_params *pp, lsio__req *q)
{
    q->part_len = q->len;
    q->nparts = 1;
    if (pp->split_bytes > 0 && q->len > (size_t)pp->split_bytes) {
        q->part_len = q->direct ? round_up((size_t)pp->split_bytes, pp->direct_align)
                                : (size_t)pp->split_bytes;
        q->nparts = (q->len + q->part_len - 1) / q->part_len;
    }
}

static int want_direct(const lsio__plan_params *pp, size_t len)
{
    return pp->direct_align && pp->direct != 0 &&
           (pp->direct == 1 || len >= LSIO__DIRECT_AUTO_MIN);
}

int lsio__plan(const lsio__plan_params *pp, const char *location, lsio__rng *r, size_t n,
               lsio__req **reqs_out, size_t *nreq_out, size_t **order_out)
{
    lsio__req *reqs = malloc((n ? n : 1) * sizeof *reqs);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    lsio__key *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!reqs || !order || !keys) {
        free(reqs);
        free(order);
        free(keys);
        return -ENOMEM;
    }
    *nreq_out = lsio__plan_into(pp, location, r, n, reqs, order, keys);
    free(keys);
    *reqs_out = reqs;
    *order_out = order;
    return 0;
}

size_t lsio__plan_into(const lsio__plan_params *pp, const char *location, lsio__rng *r,
                       size_t n, lsio__req *reqs, size_t *order, lsio__key *keys)
{
    size_t nreq = 0, norder = 0, nkeys = 0;
    size_t A = pp->direct_align;

    for (size_t i = 0; i < n; i++) {
        lsio__rng *x = &r[i];
        if (x->status || x->len == 0)
            continue;
        if (x->open_end) {
            /* Its own request, one part, a buffer the backend sizes. */
            lsio__req *q = &reqs[nreq];
            memset(q, 0, sizeof *q);
            q->off = x->open_end == LSIO_OPEN_SUFFIX ? (uint64_t)(-(x->orig_off + 1)) + 1 : x->off;
            q->len = pp->pool_max;
            q->part_len = q->len;
            q->nparts = 1;
            q->open_end = x->open_end;
            q->first = norder;
            q->nrng = 1;
            order[norder++] = i;
            x->req = nreq++;
            x->req_off = 0;
            continue;
        }
        if (!x->dest && !x->iov) {
            if (x->len > pp->pool_max) {
                char what[160];
                snprintf(what, sizeof what, "%zu bytes exceed the buffer pool's bound (%zu)",
                         x->len, pp->pool_max);
                fail(x, -E2BIG, location, 1, what);
                continue;
            }
            keys[nkeys++] = (lsio__key){x->off, i};
            continue;
        }
        /* Caller memory: a request of its own, direct when all aligned
         * (pieces: never, they need not be). */
        lsio__req *q = &reqs[nreq];
        memset(q, 0, sizeof *q);
        q->off = x->off;
        q->len = q->want = x->len;
        q->dest = x->dest;
        q->iov = x->iov;
        q->iovcnt = x->iovcnt;
        q->direct = !x->iov && want_direct(pp, x->len) && x->off % A == 0 &&
                    x->len % A == 0 && (uintptr_t)x->dest % A == 0;
        set_parts(pp, q);
        q->first = norder;
        q->nrng = 1;
        order[norder++] = i;
        x->req = nreq++;
        x->req_off = 0;
    }

    qsort(keys, nkeys, sizeof *keys, key_cmp);
    size_t merge_max = LSIO__MERGE_MAX;
    if (pp->split_bytes > 0 && (size_t)pp->split_bytes < merge_max)
        merge_max = (size_t)pp->split_bytes;
    if (pp->pool_max / 4 < merge_max)
        merge_max = pp->pool_max / 4;

    for (size_t k = 0; k < nkeys;) {
        size_t i0 = keys[k].idx;
        uint64_t s = r[i0].off, e = r[i0].off + r[i0].len;
        size_t first = norder;
        order[norder++] = i0;
        size_t j = k + 1;
        for (; pp->merge_gap >= 0 && j < nkeys; j++) {
            lsio__rng *y = &r[keys[j].idx];
            uint64_t ye = y->off + y->len;
            uint64_t ne = ye > e ? ye : e;
            if (y->off > e + (uint64_t)pp->merge_gap || ne - s > merge_max)
                break;
            e = ne;
            order[norder++] = keys[j].idx;
        }
        lsio__req *q = &reqs[nreq];
        memset(q, 0, sizeof *q);
        q->off = s;
        q->len = q->want = (size_t)(e - s);
        if (want_direct(pp, q->len)) {
            uint64_t as = s / A * A, ae = (e + A - 1) / A * A;
            if (ae - as <= pp->pool_max) {
                q->off = as;
                q->len = (size_t)(ae - as);
                q->head = (size_t)(s - as);
                q->want = (size_t)(e - as);
                q->direct = 1;
            }
        }
        set_parts(pp, q);
        q->first = first;
        q->nrng = norder - first;
        for (size_t m = first; m < norder; m++) {
            r[order[m]].req = nreq;
            r[order[m]].req_off = (size_t)(r[order[m]].off - q->off);
        }
        nreq++;
        k = j;
    }
    return nreq;
}
