/*
 * zw_shard.c — building one shard of a sharded Zarr v3 array
 * (sharding_indexed): its inner chunks are encoded in parallel on the pool
 * (a nested parallel_for inside the shard's job, when the shards of a write
 * are too few to keep the pool busy by themselves), then laid out one after
 * another with the index — (offset, nbytes) as uint64 per inner chunk in C
 * order, 2^64-1 for an absent one — encoded by the index codecs (by
 * default little-endian bytes + crc32c) at the end (or the start).
 *
 * A partly covered shard keeps the stored bytes of the inner chunks the
 * selection does not touch (no decode, no encode); only touched inner
 * chunks are decoded, merged and re-encoded. Inner chunks equal to the
 * fill value are left out; a shard with none left is not stored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zw_internal.h"

#define ABSENT UINT64_MAX

typedef struct shard_ctx {
    zw_write_ctx *w;
    lsio_zwrite_array *a;
    uint64_t lo[ZW_MAXD];
    const unsigned char *old;
    uint64_t *oldidx;   /* ninner * 2, or NULL */
    void **enc;         /* per inner chunk: new bytes (owned) */
    const void **keep;  /* or stored bytes kept (inside old) */
    size_t *len;
    pthread_mutex_t mu;
    _Atomic int err;
    char *msg;
} shard_ctx;

static void sh_fail(shard_ctx *c, int err)
{
    pthread_mutex_lock(&c->mu);
    if (!c->err) {
        atomic_store(&c->err, err);
        c->msg = strdup(lsio_last_error());
    }
    pthread_mutex_unlock(&c->mu);
}

/* Encoded size of the index (fixed for the usual index codecs). */
static int index_size(lsio_zwrite_array *a, size_t *out)
{
    size_t n = a->ninner * 2 * sizeof(uint64_t);
    uint64_t *idx = malloc(n);
    if (!idx)
        return -ENOMEM;
    memset(idx, 0xff, n);
    void *e = NULL;
    int rc = lsio_chain_encode(a->index_chain, idx, n, &e, out);
    free(e);
    free(idx);
    return rc;
}

static void inner_pieces(void *ctx, size_t begin, size_t end)
{
    shard_ctx *c = ctx;
    lsio_zwrite_array *a = c->a;
    void *chunk = NULL;
    unsigned nd = a->spec.ndim;
    for (size_t i = begin; i < end; i++) {
        if (c->err)
            break;
        uint64_t ic[ZW_MAXD], lo[ZW_MAXD], rest = i;
        for (unsigned d = nd; d-- > 0;) {
            ic[d] = rest % a->inner[d];
            rest /= a->inner[d];
            lo[d] = c->lo[d] + ic[d] * a->spec.chunks[d];
        }
        const void *old = NULL;
        size_t oldlen = 0;
        if (c->oldidx && c->oldidx[2 * i] != ABSENT) {
            old = c->old + c->oldidx[2 * i];
            oldlen = (size_t)c->oldidx[2 * i + 1];
        }
        zw_part p;
        int inside = 1;
        for (unsigned d = 0; d < nd; d++)
            inside &= lo[d] < a->spec.shape[d];
        if (!inside || !zw_part_of(a, zw_ctx_sel(c->w), lo, a->spec.chunks, &p)) {
            c->keep[i] = old; /* untouched: keep what is stored */
            c->len[i] = old ? oldlen : 0;
            continue;
        }
        if (!chunk && !(chunk = zw_chunk_buf(a))) {
            lsio_error(-ENOMEM, "shard chunk");
            sh_fail(c, -ENOMEM);
            break;
        }
        char key[48];
        snprintf(key, sizeof key, "inner chunk %zu", i);
        void *keep = NULL;
        int rc = zw_merge_chunk(c->w, &p, p.full ? NULL : old, oldlen, chunk, a->spec.chunks,
                                key, &keep);
        if (rc == 0 && (a->opts.write_empty_chunks ||
                        !zw_all_fill(a, chunk, a->chunk_bytes / a->itemsize))) {
            rc = zw_chunk_encode(a, chunk, &c->enc[i], &c->len[i]);
            atomic_fetch_add(&a->st_encoded, 1);
        }
        free(keep);
        if (rc < 0) {
            sh_fail(c, rc);
            break;
        }
    }
    zw_chunk_buf_put(a, chunk);
}

/* Decode the stored shard's index into c->oldidx (checked against the
 * object's size). */
static int read_index(shard_ctx *c, const void *old, size_t oldlen)
{
    lsio_zwrite_array *a = c->a;
    size_t isz, n = a->ninner * 2;
    int rc = index_size(a, &isz);
    if (rc < 0)
        return rc;
    if (oldlen < isz)
        return lsio_error(-LSIO_EFORMAT, "shard of %zu bytes, shorter than its index", oldlen);
    if (!(c->oldidx = malloc(n * sizeof(uint64_t))))
        return -ENOMEM;
    const unsigned char *ip = a->spec.index_at_start ? old : (const unsigned char *)old + oldlen - isz;
    rc = lsio_chain_decode(a->index_chain, ip, isz, c->oldidx, n * sizeof(uint64_t));
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < a->ninner; i++) {
        uint64_t off = c->oldidx[2 * i], len = c->oldidx[2 * i + 1];
        if (off == ABSENT && len == ABSENT)
            continue;
        if (off > oldlen || len > oldlen - off)
            return lsio_error(-LSIO_EFORMAT, "shard index entry %zu (%llu+%llu) past its %zu bytes",
                              i, (unsigned long long)off, (unsigned long long)len, oldlen);
    }
    return 0;
}

int zw_build_shard(zw_write_ctx *w, const uint64_t *g, const void *old, size_t oldlen,
                   void **out, size_t *outlen, size_t *outcap)
{
    lsio_zwrite_array *a = zw_ctx_array(w);
    size_t n = a->ninner;
    shard_ctx c = {.w = w, .a = a, .old = old};
    *out = NULL;
    *outlen = 0;
    *outcap = 0;
    for (unsigned d = 0; d < a->spec.ndim; d++)
        c.lo[d] = g[d] * a->obj[d];
    c.enc = calloc(n, sizeof *c.enc);
    c.keep = calloc(n, sizeof *c.keep);
    c.len = calloc(n, sizeof *c.len);
    uint64_t *idx = malloc(n * 2 * sizeof *idx);
    int rc = c.enc && c.keep && c.len && idx ? 0 : -ENOMEM;
    pthread_mutex_init(&c.mu, NULL);
    if (rc == 0 && old)
        rc = read_index(&c, old, oldlen);
    if (rc == 0) {
        if (zw_ctx_inner_parallel(w))
            lsio_pool_parallel_for(a->pool, n, 1, inner_pieces, &c);
        else
            inner_pieces(&c, 0, n);
        if (c.err) {
            rc = c.err;
            lsio_error_set(rc, c.msg ? c.msg : "");
        }
    }
    size_t isz = 0, total = 0;
    if (rc == 0)
        rc = index_size(a, &isz);
    if (rc == 0) {
        size_t base = a->spec.index_at_start ? isz : 0, off = base;
        for (size_t i = 0; i < n; i++) {
            if (c.enc[i] || c.keep[i]) {
                idx[2 * i] = off;
                idx[2 * i + 1] = c.len[i];
                off += c.len[i];
            } else {
                idx[2 * i] = idx[2 * i + 1] = ABSENT;
            }
        }
        total = off - base;
    }
    if (rc == 0 && total > 0) {
        void *ie = NULL;
        size_t ilen = 0;
        rc = lsio_chain_encode(a->index_chain, idx, n * 2 * sizeof *idx, &ie, &ilen);
        size_t cap = 0;
        unsigned char *o = rc == 0 ? zw_big_buf(a, total + ilen, &cap) : NULL;
        if (rc == 0 && (!o || ilen != isz))
            rc = o ? lsio_error(-LSIO_ESIZE, "shard index encodes to %zu bytes, then %zu", isz, ilen)
                   : -ENOMEM;
        if (rc == 0) {
            unsigned char *p = o;
            if (a->spec.index_at_start) {
                memcpy(p, ie, ilen);
                p += ilen;
            }
            for (size_t i = 0; i < n; i++) {
                const void *src = c.enc[i] ? c.enc[i] : c.keep[i];
                if (src) {
                    memcpy(p, src, c.len[i]);
                    p += c.len[i];
                }
            }
            if (!a->spec.index_at_start)
                memcpy(p, ie, ilen);
            *out = o;
            *outlen = total + ilen;
            *outcap = cap;
        } else {
            zw_big_buf_put(a, o, cap);
        }
        free(ie);
    }
    for (size_t i = 0; c.enc && i < n; i++)
        free(c.enc[i]);
    free(c.enc);
    free(c.keep);
    free(c.len);
    free(c.oldidx);
    free(c.msg);
    free(idx);
    pthread_mutex_destroy(&c.mu);
    return rc;
}
