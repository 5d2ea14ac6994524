/*
 * plan.c — level 3: which decode units (chunks, or inner chunks of shards)
 * a selection touches, and where each lands. Units are numbered by a key,
 * shard × inner-chunks-per-shard + inner chunk, so that sorting the keys
 * groups the units of one stored object together (for an unsharded array
 * a key is the chunk's linear index). Per dimension only the chunks that
 * hold selected positions are visited: O(touched chunks), whatever the
 * step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zarr_internal.h"

void zarr_grid_init(zarr_grid *g, const zarr_meta *m)
{
    g->m = m;
    for (unsigned d = 0; d < m->ndim; d++)
        g->nobj[d] = (m->shape[d] + m->outer[d] - 1) / m->outer[d];
}

uint64_t zarr_piece(const lsio_dim_sel *s, uint64_t lo, uint64_t hi, uint64_t *k0)
{
    if (s->count == 0 || hi <= lo)
        return 0;
    int64_t st = s->start, t = s->step;
    int64_t L = (int64_t)lo, H = (int64_t)hi - 1;
    int64_t kf, kl;
    if (t > 0) {
        if (st > H)
            return 0;
        kf = st >= L ? 0 : (L - st + t - 1) / t;
        kl = (H - st) / t;
    } else {
        int64_t T = -t;
        if (st < L)
            return 0;
        kf = st <= H ? 0 : (st - H + T - 1) / T;
        kl = (st - L) / T;
    }
    if (kl > (int64_t)s->count - 1)
        kl = (int64_t)s->count - 1;
    if (kf > kl)
        return 0;
    *k0 = (uint64_t)kf;
    return (uint64_t)(kl - kf + 1);
}

void zarr_key_coords(const zarr_grid *g, uint64_t key, uint64_t *uc)
{
    const zarr_meta *m = g->m;
    uint64_t shard = key / m->n_inner, inner = key % m->n_inner;
    for (int d = (int)m->ndim - 1; d >= 0; d--) {
        uint64_t sc = shard % g->nobj[d], ic = inner % m->per_shard[d];
        shard /= g->nobj[d];
        inner /= m->per_shard[d];
        uc[d] = sc * m->per_shard[d] + ic;
    }
}

static uint64_t coords_key(const zarr_grid *g, const uint64_t *uc)
{
    const zarr_meta *m = g->m;
    uint64_t shard = 0, inner = 0;
    for (unsigned d = 0; d < m->ndim; d++) {
        shard = shard * g->nobj[d] + uc[d] / m->per_shard[d];
        inner = inner * m->per_shard[d] + uc[d] % m->per_shard[d];
    }
    return shard * m->n_inner + inner;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Append the keys of every unit selection s touches. */
static int add_keys(const zarr_grid *g, const lsio_selection *s, uint64_t **keys, size_t *n,
                    size_t *cap)
{
    const zarr_meta *m = g->m;
    uint64_t *lists[ZMAX], nl[ZMAX], total = 1;
    int rc = 0;
    unsigned nd = m->ndim;
    memset(lists, 0, sizeof lists);
    for (unsigned d = 0; d < nd; d++) {
        const lsio_dim_sel *ds = &s->dim[d];
        uint64_t C = m->chunks[d], per = m->shape[d] / C + 1;
        uint64_t maxn = ds->count < per ? ds->count : per;
        nl[d] = 0;
        if (!(lists[d] = malloc((maxn ? maxn : 1) * sizeof(uint64_t)))) {
            rc = -ENOMEM;
            goto out;
        }
        for (uint64_t k = 0; k < ds->count;) {
            uint64_t p = (uint64_t)(ds->start + (int64_t)k * ds->step), u = p / C, k0 = 0;
            uint64_t hi = (u + 1) * C < m->shape[d] ? (u + 1) * C : m->shape[d];
            uint64_t cnt = zarr_piece(ds, u * C, hi, &k0);
            if (!cnt || k0 != k || nl[d] == maxn) { /* cannot happen: p lies in u */
                rc = lsio_error(-EINVAL, "selection planning failed in dimension %u", d);
                goto out;
            }
            lists[d][nl[d]++] = u;
            k += cnt;
        }
        total *= nl[d];
    }
    if (total == 0)
        goto out;
    if (*n + total > *cap) {
        size_t nc = (*n + total) * 2;
        uint64_t *nk = realloc(*keys, nc * sizeof *nk);
        if (!nk) {
            rc = -ENOMEM;
            goto out;
        }
        *keys = nk;
        *cap = nc;
    }
    uint64_t idx[ZMAX] = {0}, uc[ZMAX];
    for (uint64_t i = 0; i < total; i++) {
        for (unsigned d = 0; d < nd; d++)
            uc[d] = lists[d][idx[d]];
        (*keys)[(*n)++] = coords_key(g, uc);
        for (int d = (int)nd - 1; d >= 0; d--) {
            if (++idx[d] < nl[d])
                break;
            idx[d] = 0;
        }
    }
out:
    for (unsigned d = 0; d < nd; d++)
        free(lists[d]);
    return rc;
}

int zarr_plan_keys(const zarr_grid *g, const lsio_selection *sels, size_t nsel, uint64_t **keys,
                   size_t *nkeys)
{
    size_t cap = 0, n = 0;
    uint64_t *k = NULL;
    int rc = 0;
    for (size_t i = 0; i < nsel && rc == 0; i++)
        rc = add_keys(g, &sels[i], &k, &n, &cap);
    if (rc < 0) {
        free(k);
        return rc;
    }
    /* Several selections may share units; shards need their units side by
     * side. One selection of an unsharded array is already in order. */
    if (n > 1 && (nsel > 1 || g->m->sharded)) {
        qsort(k, n, sizeof *k, cmp_u64);
        size_t j = 1;
        for (size_t i = 1; i < n; i++)
            if (k[i] != k[j - 1])
                k[j++] = k[i];
        n = j;
    }
    *keys = k;
    *nkeys = n;
    return 0;
}

/* zarr_place, or with out NULL zarr_place_packed: the destination is then
 * the piece itself, packed in C order. */
static int place(const zarr_meta *m, const lsio_selection *s, void *out, const uint64_t *uc,
                 zarr_walk *w, unsigned char **dst, int64_t *src_off)
{
    uint64_t cnt[ZMAX], ostr[ZMAX], ost = 1;
    int64_t ss[ZMAX], ds[ZMAX], sstr[ZMAX], off = 0, doff = 0;
    size_t item = m->itemsize;
    /* output strides (elements); dropped dimensions count 1 */
    for (int d = (int)m->ndim - 1; d >= 0; d--) {
        ostr[d] = ost;
        ost *= s->dim[d].count;
    }
    zarr_chunk_strides(m, sstr);
    for (unsigned d = 0; d < m->ndim; d++) {
        uint64_t lo = uc[d] * m->chunks[d], hi = lo + m->chunks[d], k0 = 0;
        if (hi > m->shape[d])
            hi = m->shape[d];
        uint64_t n = zarr_piece(&s->dim[d], lo, hi, &k0);
        if (!n)
            return 0;
        int64_t in0 = s->dim[d].start + (int64_t)k0 * s->dim[d].step - (int64_t)lo;
        cnt[d] = n;
        ss[d] = s->dim[d].step * sstr[d] * (int64_t)item;
        ds[d] = (int64_t)(ostr[d] * item);
        off += in0 * sstr[d];
        doff += (int64_t)(k0 * ostr[d]);
    }
    if (!out) { /* packed: strides of the piece's own shape */
        int64_t o = (int64_t)item;
        for (int d = (int)m->ndim - 1; d >= 0; d--) {
            ds[d] = o;
            o *= (int64_t)cnt[d];
        }
        doff = 0;
    }
    zarr_walk_init(w, m->ndim, cnt, ss, ds, item);
    if (dst)
        *dst = (unsigned char *)out + doff * (int64_t)item;
    *src_off = off * (int64_t)item;
    return 1;
}

int zarr_place(const zarr_meta *m, const lsio_selection *s, void *out, const uint64_t *uc,
               zarr_walk *w, unsigned char **dst, int64_t *src_off)
{
    return place(m, s, out, uc, w, dst, src_off);
}

int zarr_place_packed(const zarr_meta *m, const lsio_selection *s, const uint64_t *uc,
                      zarr_walk *w, int64_t *src_off)
{
    return place(m, s, NULL, uc, w, NULL, src_off);
}

void zarr_chunk_strides(const zarr_meta *m, int64_t *sstr)
{
    int64_t st = 1;
    for (unsigned i = 0; i < m->ndim; i++) {
        unsigned d = m->fortran_order ? i : m->ndim - 1 - i;
        sstr[d] = st;
        st *= (int64_t)m->chunks[d];
    }
}
