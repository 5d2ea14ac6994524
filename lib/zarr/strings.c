/*
 * strings.c — reading variable-length string arrays (v3 `string` with
 * vlen-utf8, v2 object arrays with the vlen-utf8 filter). Each touched
 * chunk is read and decoded to (offsets, bytes) by the codec chain; every
 * selected element then records a reference (its chunk's item), placed by
 * the same walk as numeric reads (an index array stands in for the
 * chunk's elements), and the result is packed in C order at the end.
 * Chunks are read one after the other: string arrays are small next to
 * numeric ones, and this keeps the path simple.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zarr_internal.h"

#define FILL_REF UINT64_MAX

typedef struct sdec {
    uint64_t *off;
    uint8_t *data;
} sdec;

typedef struct sread {
    lsio_zarr_array *a;
    zarr_grid g;
    sdec *chunks;
    size_t n, cap;
    uint64_t base;      /* items of the chunks decoded so far */
    uint64_t *bases;    /* per decoded chunk, its first global item */
} sread;

/* Decode one chunk's bytes; append to s->chunks. */
static int add_chunk(sread *s, const void *src, size_t len, const char *key)
{
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 16;
        sdec *nc = realloc(s->chunks, c * sizeof *nc);
        uint64_t *nb = nc ? realloc(s->bases, c * sizeof *nb) : NULL;
        if (nc)
            s->chunks = nc;
        if (!nb)
            return -ENOMEM;
        s->bases = nb;
        s->cap = c;
    }
    sdec d = {0};
    size_t dl;
    int rc = lsio_chain_decode_strings(s->a->m.chain, src, len, &d.off, &d.data, &dl);
    if (rc < 0)
        return lsio_error_wrap(rc, "array %s chunk %s", s->a->url, key);
    s->chunks[s->n] = d;
    s->bases[s->n++] = s->base;
    return 0;
}

/* Write the references of unit uc (items base.., or FILL_REF) to refs. */
static void place_refs(sread *s, const lsio_selection *sel, uint64_t *refs, const uint64_t *uc,
                       uint64_t *iota, uint64_t unit_elems, int missing)
{
    zarr_meta mm = s->a->m; /* the walk in units of references */
    mm.itemsize = 8;
    zarr_walk w;
    unsigned char *dst;
    int64_t soff;
    if (!zarr_place(&mm, sel, refs, uc, &w, &dst, &soff))
        return;
    if (missing) {
        uint64_t f = FILL_REF;
        zarr_walk_copy(&w, dst, NULL, &f);
        return;
    }
    for (uint64_t i = 0; i < unit_elems; i++)
        iota[i] = s->base + i;
    zarr_walk_copy(&w, dst, (unsigned char *)iota + soff, NULL);
}

static int read_unit(sread *s, const char *loc, int64_t off, int64_t len, const char *key,
                     int *missing)
{
    lsio_buf *b = NULL;
    *missing = 0;
    int rc = lsio_io_read(s->a->io, loc, off, len, &b);
    if (rc == -ENOENT) {
        *missing = 1;
        return 0;
    }
    if (rc < 0)
        return lsio_error_wrap(rc, "array %s chunk %s", s->a->url, key);
    atomic_fetch_add(&s->a->st_read, 1);
    atomic_fetch_add(&s->a->st_bytes, lsio_buf_len(b));
    rc = add_chunk(s, lsio_buf_data(b), lsio_buf_len(b), key);
    lsio_buf_release(b);
    return rc;
}

int lsio_zarr_read_strings(lsio_zarr_array *a, const lsio_selection *sel, uint64_t **offsets,
                           char **bytes, uint64_t *count)
{
    if (!a || !offsets || !bytes || !count)
        return lsio_error(-EINVAL, "lsio_zarr_read_strings: NULL argument");
    const zarr_meta *m = &a->m;
    if (m->dtype.kind != LSIO_DT_STRING)
        return lsio_error(-EINVAL, "array %s: not a variable-length string array", a->url);
    lsio_selection all;
    if (!sel) {
        lsio_selection_all(&all, m->ndim, m->shape);
        sel = &all;
    }
    if (sel->ndim != m->ndim)
        return lsio_error(-LSIO_ESELECTION, "array %s: selection of %u dimensions, array has %u",
                          a->url, sel->ndim, m->ndim);
    sread s = {.a = a};
    zarr_grid_init(&s.g, m);
    uint64_t n = lsio_selection_count(sel), unit_elems = 1;
    for (unsigned d = 0; d < m->ndim; d++)
        unit_elems *= m->chunks[d];
    uint64_t *keys = NULL, *refs = malloc((n ? n : 1) * 8), *iota = malloc(unit_elems * 8);
    uint64_t *ent = NULL;
    size_t nkeys = 0;
    char key[ZMAX * 21 + 8], name[ZMAX * 42 + 64], *loc = NULL;
    int rc = refs && iota ? zarr_plan_keys(&s.g, sel, 1, &keys, &nkeys) : -ENOMEM;
    if (rc == 0 && !(loc = malloc(strlen(a->url) + sizeof key + 2)))
        rc = -ENOMEM;
    if (rc == 0 && m->sharded && !(ent = malloc(m->n_inner * 16)))
        rc = -ENOMEM;
    uint64_t cur_shard = UINT64_MAX;
    int shard_missing = 0, local = zarr_local(a);
    for (size_t i = 0; i < nkeys && rc == 0; i++) {
        uint64_t uc[ZMAX], sc[ZMAX], shard = keys[i] / m->n_inner;
        zarr_key_coords(&s.g, keys[i], uc);
        for (unsigned d = 0; d < m->ndim; d++)
            sc[d] = uc[d] / m->per_shard[d];
        if ((rc = zarr_chunk_key(m, sc, key, sizeof key)) < 0)
            break;
        rc = 0;
        sprintf(loc, "%s/%s", a->url, key);
        int missing = 0;
        if (!m->sharded) {
            rc = read_unit(&s, loc, 0, LSIO_TO_END, key, &missing);
        } else {
            if (shard != cur_shard) {
                lsio_buf *b = NULL;
                cur_shard = shard;
                shard_missing = 0;
                rc = lsio_io_read(a->io, loc, m->index_at_start ? 0 : -(int64_t)m->index_bytes,
                                  (int64_t)m->index_bytes, &b);
                if (rc == -ENOENT) {
                    shard_missing = 1;
                    rc = 0;
                } else if (rc < 0)
                    rc = lsio_error_wrap(rc, "array %s shard %s", a->url, key);
                else
                    rc = zarr_shard_index_decode(m, lsio_buf_data(b), lsio_buf_len(b), ent, key);
                uint64_t size;
                if (rc == 0 && local && lsio_io_size(a->io, loc, &size) == 0)
                    rc = zarr_shard_index_end(m, ent, size, key);
                lsio_buf_release(b);
                if (rc < 0)
                    break;
            }
            uint64_t inner = keys[i] % m->n_inner;
            missing = shard_missing || ent[2 * inner] == ZARR_SHARD_MISSING;
            if (!missing) {
                snprintf(name, sizeof name, "%s (inner chunk %" PRIu64 ")", key, inner);
                rc = read_unit(&s, loc, (int64_t)ent[2 * inner], (int64_t)ent[2 * inner + 1],
                               name, &missing);
            }
        }
        if (rc < 0)
            break;
        if (missing)
            atomic_fetch_add(&a->st_missing, 1);
        place_refs(&s, sel, refs, uc, iota, unit_elems, missing);
        if (!missing)
            s.base += unit_elems;
    }
    /* Pack. */
    uint64_t *off = NULL;
    char *out = NULL;
    if (rc == 0) {
        uint64_t total = 0;
        size_t ci = 0;
        off = malloc((n + 1) * 8);
        for (uint64_t i = 0; off && i < n; i++) {
            if (refs[i] == FILL_REF) {
                total += m->fill_str_len;
                continue;
            }
            /* find the chunk of this item (chunks are in base order) */
            size_t lo = 0, hi = s.n;
            while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (s.bases[mid] <= refs[i])
                    lo = mid;
                else
                    hi = mid;
            }
            ci = lo;
            uint64_t it = refs[i] - s.bases[ci];
            total += s.chunks[ci].off[it + 1] - s.chunks[ci].off[it];
        }
        out = off ? malloc(total ? total : 1) : NULL;
        if (!off || !out)
            rc = -ENOMEM;
        uint64_t pos = 0;
        for (uint64_t i = 0; rc == 0 && i < n; i++) {
            off[i] = pos;
            if (refs[i] == FILL_REF) {
                memcpy(out + pos, m->fill_str, m->fill_str_len);
                pos += m->fill_str_len;
                continue;
            }
            size_t lo = 0, hi = s.n;
            while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (s.bases[mid] <= refs[i])
                    lo = mid;
                else
                    hi = mid;
            }
            uint64_t it = refs[i] - s.bases[lo], b0 = s.chunks[lo].off[it],
                     l = s.chunks[lo].off[it + 1] - b0;
            memcpy(out + pos, s.chunks[lo].data + b0, l);
            pos += l;
        }
        if (off && rc == 0)
            off[n] = pos;
    }
    for (size_t i = 0; i < s.n; i++) {
        free(s.chunks[i].off);
        free(s.chunks[i].data);
    }
    free(s.chunks);
    free(s.bases);
    free(keys);
    free(refs);
    free(iota);
    free(ent);
    free(loc);
    if (rc < 0) {
        free(off);
        free(out);
        return rc;
    }
    *offsets = off;
    *bytes = out;
    *count = n;
    return 0;
}
