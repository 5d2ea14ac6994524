/*
 * sharding.c — Zarr v3 `sharding_indexed` as an array→bytes codec of its
 * own, for shards inside shards ("nested chunk shapes"): the Zarr reader
 * handles the outer shard itself (index first, then only the inner chunks a
 * selection touches, as byte ranges), and an inner chunk that is itself a
 * shard is decoded whole by this codec.
 *
 * A shard is the encoded inner chunks (chunk_shape, each through the inner
 * `codecs`) plus an index of n × (offset, nbytes) uint64 through the
 * `index_codecs` (fixed size: bytes, crc32c), at the "start" or the "end".
 * The shard's shape is a multiple of chunk_shape (no partial inner chunks).
 *
 * Decode checks the index (size, checksum through the index chain, every
 * entry inside the blob and clear of the index bytes: before index_bytes
 * with the index at the start, past blob size - index_bytes at the end is
 * -LSIO_EFORMAT naming the entry, as decoding index bytes as a chunk could
 * hand plausible garbage on), decodes each stored inner chunk straight
 * into its place when inner chunks are contiguous there (chunk_shape
 * equals the shard shape in every dimension but the first), else through
 * one buffer, and writes the spec's fill value (lsio_chunk_spec.fill) where
 * an inner chunk is not stored. Encode leaves out inner chunks that are all
 * fill value (as zarr-python does with write_empty_chunks off); a shard
 * with none stored is the index alone.
 *
 * The inner and index chains depend on the spec (data type, shard shape),
 * which a codec only learns when called, so they are made per call (a small
 * allocation per shard, next to decoding a whole shard). The inner chains
 * get per-thread scratch buffers of their own while the outer chain's (which
 * may hold this codec's source or destination) are set aside.
 *
 * Codecs may follow a nested sharding_indexed in its `codecs` list (a
 * compressor or checksum over the whole inner shard): this codec's
 * enc_size is unknown, so lsio_chain_create gives the stage after it
 * growing scratch instead of holding it to the array's bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"

#define SH_MAXCODECS 16
#define SH_MAXINNER (1ull << 26) /* inner chunks per shard, as the Zarr reader */

typedef struct shard_cfg {
    unsigned ndim;
    uint64_t chunk[32];
    lsio_codec *inner[SH_MAXCODECS], *index[SH_MAXCODECS];
    size_t ninner, nindex;
    size_t index_extra; /* bytes the index codecs add (crc32c: 4) */
    int at_start;
} shard_cfg;

/* Record "sharding_indexed: <what> <i>: <the last message>" (i ==
 * UINT64_MAX: no number) and return rc. */
static int wrap(int rc, const lsio_codec *c, const char *what, uint64_t i)
{
    char msg[1024], num[24] = "";
    const char *last = lsio_last_error();
    if (i != UINT64_MAX)
        snprintf(num, sizeof num, " %" PRIu64, i);
    snprintf(msg, sizeof msg, "%s: %s%s: %s", c->name, what, num,
             last && *last ? last : lsio_strerror(rc));
    return lsio_error_set(rc, msg);
}

/* ------------------------------------------------------------ configuration */

static int parse_list(lsio_codec *c, const cJSON *l, const char *key, lsio_codec **out,
                      size_t *n)
{
    if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) > SH_MAXCODECS)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": \"%s\" is not a list of at most %d codecs",
                          c->name, key, SH_MAXCODECS);
    const cJSON *e;
    cJSON_ArrayForEach(e, l)
    {
        const cJSON *nm = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "name") : NULL;
        if (!cJSON_IsString(nm))
            return lsio_error(-LSIO_EFORMAT, "codec \"%s\": an entry of \"%s\" has no name",
                              c->name, key);
        const cJSON *cf = cJSON_GetObjectItemCaseSensitive(e, "configuration");
        char *js = cJSON_IsObject(cf) ? cJSON_PrintUnformatted(cf) : NULL;
        if (cJSON_IsObject(cf) && !js)
            return -ENOMEM;
        int rc = lsio_codec_create(&out[*n], nm->valuestring, js);
        free(js);
        if (rc < 0)
            return wrap(rc, c, key, (uint64_t)*n);
        (*n)++;
    }
    return 0;
}

static void sharding_fini(lsio_codec *c)
{
    shard_cfg *s = c->p.ext;
    if (!s)
        return;
    for (size_t i = 0; i < s->ninner; i++)
        lsio_codec_destroy(s->inner[i]);
    for (size_t i = 0; i < s->nindex; i++)
        lsio_codec_destroy(s->index[i]);
    free(s);
    c->p.ext = NULL;
}

static int sharding_init(lsio_codec *c, const cJSON *cfg)
{
    shard_cfg *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    c->p.ext = s;
    const cJSON *cs = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "chunk_shape") : NULL;
    int n = cJSON_IsArray(cs) ? cJSON_GetArraySize(cs) : 0;
    if (n < 1 || n > 31)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": chunk_shape is not a list of 1 to 31 sizes",
                          c->name);
    s->ndim = (unsigned)n;
    for (int d = 0; d < n; d++) {
        const cJSON *x = cJSON_GetArrayItem(cs, d);
        if (!cJSON_IsNumber(x) || x->valuedouble < 1 || x->valuedouble > 4294967296.0 ||
            x->valuedouble != (double)(uint64_t)x->valuedouble)
            return lsio_error(-LSIO_EFORMAT, "codec \"%s\": chunk_shape[%d] is not a positive "
                              "integer", c->name, d);
        s->chunk[d] = (uint64_t)x->valuedouble;
    }
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(cfg, "index_location");
    if (cJSON_IsString(loc) && !strcmp(loc->valuestring, "start"))
        s->at_start = 1;
    else if (loc && !(cJSON_IsString(loc) && !strcmp(loc->valuestring, "end")))
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": index_location is not start or end",
                          c->name);
    int rc = parse_list(c, cJSON_GetObjectItemCaseSensitive(cfg, "codecs"), "codecs", s->inner,
                        &s->ninner);
    if (rc < 0)
        return rc;
    const cJSON *il = cJSON_GetObjectItemCaseSensitive(cfg, "index_codecs");
    if (il)
        rc = parse_list(c, il, "index_codecs", s->index, &s->nindex);
    else if ((rc = lsio_codec_create(&s->index[0], "bytes", "{\"endian\":\"little\"}")) == 0)
        s->nindex = 1;
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < s->nindex; i++) {
        const char *id = s->index[i]->ops->id;
        if (!strcmp(id, "crc32c"))
            s->index_extra += 4;
        else if (strcmp(id, "bytes") && strcmp(id, "transpose"))
            return lsio_error(-LSIO_EUNSUPPORTED,
                              "codec \"%s\": index codec \"%s\" (its size must be fixed)",
                              c->name, s->index[i]->name);
    }
    return 0;
}

static cJSON *list_json(lsio_codec *const *l, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        char *js = lsio_codec_config_json(l[i]);
        cJSON *cf = js ? cJSON_Parse(js) : NULL;
        free(js);
        cJSON_DeleteItemFromObjectCaseSensitive(cf, "id"); /* v3 spelling: no numcodecs id */
        if (e) {
            cJSON_AddStringToObject(e, "name", l[i]->name);
            if (cf)
                cJSON_AddItemToObject(e, "configuration", cf);
            cJSON_AddItemToArray(a, e);
        } else {
            cJSON_Delete(cf);
        }
    }
    return a;
}

static void sharding_json(const lsio_codec *c, cJSON *o)
{
    const shard_cfg *s = c->p.ext;
    cJSON *cs = cJSON_AddArrayToObject(o, "chunk_shape");
    for (unsigned d = 0; cs && d < s->ndim; d++)
        cJSON_AddItemToArray(cs, cJSON_CreateNumber((double)s->chunk[d]));
    cJSON_AddItemToObject(o, "codecs", list_json(s->inner, s->ninner));
    cJSON_AddItemToObject(o, "index_codecs", list_json(s->index, s->nindex));
    cJSON_AddStringToObject(o, "index_location", s->at_start ? "start" : "end");
}

/* ------------------------------------------------------------------ layout */

/* One shard's geometry and its two chains, made for one call. */
typedef struct layout {
    unsigned nd;
    uint64_t shape[32], grid[32];
    uint64_t n;              /* inner chunks */
    size_t esize, inner_bytes, shard_bytes, index_bytes;
    int contiguous;          /* an inner chunk is one run of the shard */
    lsio_chain *inner, *index;
} layout;

static void layout_free(layout *L)
{
    lsio_chain_destroy(L->inner);
    lsio_chain_destroy(L->index);
}

static int layout_make(const lsio_codec *c, const lsio_chunk_spec *spec, layout *L)
{
    const shard_cfg *s = c->p.ext;
    memset(L, 0, sizeof *L);
    if (spec->ndim != s->ndim)
        return lsio_error(-LSIO_EFORMAT, "%s: a %u-dimensional shard, chunk_shape has %u",
                          c->name, spec->ndim, s->ndim);
    if (spec->dtype.kind == LSIO_DT_STRING || spec->fortran_order || !spec->dtype.size)
        return lsio_error(-LSIO_EUNSUPPORTED, "%s: strings or F order inside a shard", c->name);
    L->nd = s->ndim;
    L->n = 1;
    L->contiguous = 1;
    for (unsigned d = 0; d < L->nd; d++) {
        L->shape[d] = spec->shape[d];
        if (!L->shape[d] || L->shape[d] % s->chunk[d])
            return lsio_error(-LSIO_EFORMAT,
                              "%s: shard shape %" PRIu64 " is not a multiple of the inner "
                              "chunk shape %" PRIu64 " in dimension %u",
                              c->name, L->shape[d], s->chunk[d], d);
        L->grid[d] = L->shape[d] / s->chunk[d];
        if (L->n > SH_MAXINNER / L->grid[d])
            return lsio_error(-LSIO_EUNSUPPORTED, "%s: more than %llu inner chunks", c->name,
                              (unsigned long long)SH_MAXINNER);
        L->n *= L->grid[d];
        if (d > 0 && L->grid[d] != 1)
            L->contiguous = 0;
    }
    L->esize = spec->dtype.size;
    size_t ne;
    if (spec_nelem(spec, &ne) < 0 || lsio_mul_size(ne, L->esize, &L->shard_bytes) < 0)
        return lsio_error(-EOVERFLOW, "%s: shard size overflows", c->name);
    L->inner_bytes = L->shard_bytes / (size_t)L->n;
    L->index_bytes = (size_t)L->n * 16 + s->index_extra;
    lsio_chunk_spec is = *spec;
    memcpy(is.shape, s->chunk, sizeof(uint64_t) * L->nd);
    int rc = lsio_chain_create(&L->inner, s->inner, s->ninner, &is);
    if (rc < 0)
        return wrap(rc, c, "codecs", UINT64_MAX);
    if ((rc = lsio_shard_index_chain(&L->index, s->index, s->nindex, L->nd, L->grid)) < 0)
        return wrap(rc, c, "index_codecs", UINT64_MAX);
    return 0;
}

/* Byte offset in the shard of the element where inner chunk i starts. */
static size_t inner_origin(const layout *L, const shard_cfg *s, uint64_t i, uint64_t *org)
{
    size_t off = 0;
    for (unsigned d = L->nd; d-- > 0;) {
        org[d] = (i % L->grid[d]) * s->chunk[d];
        i /= L->grid[d];
    }
    for (unsigned d = 0; d < L->nd; d++)
        off = off * L->shape[d] + org[d];
    return off * L->esize;
}

/* Copy an inner chunk (buf, C order) into the shard (to_shard) or back out,
 * one row of the last dimension at a time. */
static void block_copy(const layout *L, const shard_cfg *s, uint8_t *shard, uint8_t *buf,
                       uint64_t i, int to_shard)
{
    uint64_t org[32], idx[32] = {0};
    size_t base = inner_origin(L, s, i, org);
    size_t row = s->chunk[L->nd - 1] * L->esize;
    size_t stride[32];
    stride[L->nd - 1] = L->esize;
    for (unsigned d = L->nd - 1; d-- > 0;)
        stride[d] = stride[d + 1] * L->shape[d + 1];
    size_t nrows = L->inner_bytes / row;
    for (size_t r = 0; r < nrows; r++) {
        size_t off = base;
        for (unsigned d = 0; d + 1 < L->nd; d++)
            off += idx[d] * stride[d];
        if (to_shard)
            memcpy(shard + off, buf + r * row, row);
        else
            memcpy(buf + r * row, shard + off, row);
        for (unsigned d = L->nd - 1; d-- > 0;) {
            if (++idx[d] < s->chunk[d])
                break;
            idx[d] = 0;
        }
    }
}

/* ------------------------------------------------------------------ decode */

int lsio_shard_index_chain(lsio_chain **out, lsio_codec *const *codecs, size_t n, unsigned ndim,
                           const uint64_t *grid)
{
    lsio_chunk_spec xs;
    memset(&xs, 0, sizeof xs);
    if (ndim + 1 > sizeof xs.shape / sizeof xs.shape[0])
        return lsio_error(-EINVAL, "shard index: %u dimensions", ndim);
    xs.ndim = ndim + 1;
    memcpy(xs.shape, grid, sizeof(uint64_t) * ndim);
    xs.shape[ndim] = 2;
    xs.dtype = (lsio_dtype){LSIO_DT_UINT, 8, 0};
    return lsio_chain_create(out, codecs, n, &xs);
}

int lsio_shard_index_check(const uint64_t *e, uint64_t n, uint64_t blob_size, uint64_t *bad)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = e[2 * i], len = e[2 * i + 1];
        if (off == LSIO_SHARD_MISSING && len == LSIO_SHARD_MISSING)
            continue;
        if (off == LSIO_SHARD_MISSING || len == LSIO_SHARD_MISSING || len > INT64_MAX ||
            off > INT64_MAX || off + len < off || (blob_size && off + len > blob_size)) {
            if (bad)
                *bad = i;
            return -LSIO_EFORMAT;
        }
    }
    return 0;
}

/* lsio_shard_index_check, and every stored entry clear of the index's
 * index_bytes (at the start of the blob, or at its end): 1 when an entry
 * overlaps the index (*bad set), 0 when all are fine, -LSIO_EFORMAT as
 * lsio_shard_index_check. blob_size >= index_bytes. */
static int index_check(const uint64_t *e, uint64_t n, uint64_t blob_size, uint64_t index_bytes,
                       int at_start, uint64_t *bad)
{
    if (lsio_shard_index_check(e, n, blob_size, bad) < 0)
        return -LSIO_EFORMAT;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = e[2 * i], len = e[2 * i + 1];
        if (off == LSIO_SHARD_MISSING)
            continue;
        if (at_start ? off < index_bytes : off + len > blob_size - index_bytes) {
            *bad = i;
            return 1;
        }
    }
    return 0;
}

/* The inner chains run inside a stage of an outer chain, whose source or
 * destination may be one of this thread's scratch buffers: they get fresh
 * scratch of their own, and the outer chain's is put back afterwards. */
typedef struct scratch_save {
    codec_tls *t;
    void *buf[2];
    size_t cap[2];
} scratch_save;

static int scratch_push(scratch_save *sv)
{
    if (!(sv->t = codec_tls_get()))
        return -ENOMEM;
    for (int i = 0; i < 2; i++) {
        sv->buf[i] = sv->t->buf[i];
        sv->cap[i] = sv->t->cap[i];
        sv->t->buf[i] = NULL;
        sv->t->cap[i] = 0;
    }
    return 0;
}

static void scratch_pop(scratch_save *sv)
{
    for (int i = 0; sv->t && i < 2; i++) {
        free(sv->t->buf[i]);
        sv->t->buf[i] = sv->buf[i];
        sv->t->cap[i] = sv->cap[i];
    }
}

static void fill_elems(uint8_t *dst, size_t n, const void *fill, size_t esize)
{
    if (!fill) {
        memset(dst, 0, n * esize);
        return;
    }
    for (size_t k = 0; k < n; k++)
        memcpy(dst + k * esize, fill, esize);
}

static int sharding_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                        size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    const shard_cfg *s = c->p.ext;
    layout L;
    uint64_t *e = NULL;
    uint8_t *buf = NULL;
    scratch_save sv = {0};
    int rc = layout_make(c, spec, &L);
    if (rc < 0)
        goto out;
    if (dstcap < L.shard_bytes) {
        rc = codec_too_big(c, dstcap);
        goto out;
    }
    if (srclen < L.index_bytes) {
        rc = lsio_error(-LSIO_EFORMAT, "%s: %zu bytes, too short for an index of %zu bytes",
                        c->name, srclen, L.index_bytes);
        goto out;
    }
    if ((rc = scratch_push(&sv)) < 0)
        goto out;
    const uint8_t *blob = src;
    if (!(e = malloc((size_t)L.n * 16))) {
        rc = -ENOMEM;
        goto out;
    }
    rc = lsio_chain_decode(L.index, blob + (s->at_start ? 0 : srclen - L.index_bytes),
                           L.index_bytes, e, (size_t)L.n * 16);
    if (rc < 0) {
        rc = wrap(rc, c, "index", UINT64_MAX);
        goto out;
    }
    uint64_t bad;
    if ((rc = index_check(e, L.n, srclen, L.index_bytes, s->at_start, &bad)) != 0) {
        rc = lsio_error(-LSIO_EFORMAT,
                        "%s: index entry %" PRIu64 " (offset %" PRIu64 ", %" PRIu64
                        " bytes) %s the %zu-byte shard",
                        c->name, bad, e[2 * bad], e[2 * bad + 1],
                        rc < 0 ? "outside" : "overlapping the index of", srclen);
        goto out;
    }
    if (!L.contiguous && !(buf = malloc(L.inner_bytes))) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint64_t i = 0; i < L.n; i++) {
        uint64_t org[32];
        uint8_t *to = L.contiguous ? (uint8_t *)dst + inner_origin(&L, s, i, org) : buf;
        if (e[2 * i] == LSIO_SHARD_MISSING) {
            fill_elems(to, L.inner_bytes / L.esize, spec->fill, L.esize);
        } else if ((rc = lsio_chain_decode(L.inner, blob + e[2 * i], (size_t)e[2 * i + 1], to,
                                           L.inner_bytes)) < 0) {
            rc = wrap(rc, c, "inner chunk", i);
            goto out;
        }
        if (!L.contiguous)
            block_copy(&L, s, dst, buf, i, 1);
    }
    *outlen = L.shard_bytes;
out:
    free(buf);
    free(e);
    scratch_pop(&sv);
    layout_free(&L);
    return rc;
}

/* ------------------------------------------------------------------ encode */

static int all_fill(const uint8_t *p, size_t n, const void *fill, size_t esize)
{
    static const uint8_t zero[32];
    for (size_t k = 0; k < n; k++)
        if (memcmp(p + k * esize, fill ? fill : zero, esize))
            return 0;
    return 1;
}

/* Append n bytes to a growing buffer. */
static int put(uint8_t **b, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n > *cap) {
        size_t nc = *cap ? *cap : 4096;
        while (nc < *len + n)
            nc *= 2;
        uint8_t *x = realloc(*b, nc);
        if (!x)
            return -ENOMEM;
        *b = x;
        *cap = nc;
    }
    if (n)
        memcpy(*b + *len, p, n);
    *len += n;
    return 0;
}

static int sharding_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                        size_t srclen, void **dst, size_t *dstlen)
{
    const shard_cfg *s = c->p.ext;
    layout L;
    uint64_t *e = NULL;
    uint8_t *buf = NULL, *out = NULL;
    size_t len = 0, cap = 0;
    int rc = layout_make(c, spec, &L);
    if (rc < 0)
        goto out;
    if (srclen != L.shard_bytes) {
        rc = lsio_error(-LSIO_ESIZE, "%s: %zu bytes to encode, a shard is %zu", c->name, srclen,
                        L.shard_bytes);
        goto out;
    }
    /* zero fill compares against a 32-byte zero element */
    if ((!spec->fill && L.esize > 32) || !(e = malloc((size_t)L.n * 16)) ||
        !(buf = malloc(L.inner_bytes))) {
        rc = spec->fill || L.esize <= 32 ? -ENOMEM
                                         : lsio_error(-LSIO_EUNSUPPORTED, "%s: elements of "
                                                      "%zu bytes without a fill value",
                                                      c->name, L.esize);
        goto out;
    }
    if (s->at_start) { /* the index goes here at the end */
        if (!(out = calloc(1, L.index_bytes))) {
            rc = -ENOMEM;
            goto out;
        }
        len = cap = L.index_bytes;
    }
    for (uint64_t i = 0; i < L.n; i++) {
        block_copy(&L, s, (uint8_t *)src, buf, i, 0);
        if (all_fill(buf, L.inner_bytes / L.esize, spec->fill, L.esize)) {
            e[2 * i] = e[2 * i + 1] = LSIO_SHARD_MISSING;
            continue;
        }
        void *enc;
        size_t n;
        if ((rc = lsio_chain_encode(L.inner, buf, L.inner_bytes, &enc, &n)) < 0) {
            rc = wrap(rc, c, "inner chunk", i);
            goto out;
        }
        e[2 * i] = len;
        e[2 * i + 1] = n;
        rc = put(&out, &len, &cap, enc, n);
        free(enc);
        if (rc < 0)
            goto out;
    }
    void *ix;
    size_t nx;
    if ((rc = lsio_chain_encode(L.index, e, (size_t)L.n * 16, &ix, &nx)) < 0) {
        rc = wrap(rc, c, "index", UINT64_MAX);
        goto out;
    }
    if (nx != L.index_bytes)
        rc = lsio_error(-LSIO_ESIZE, "%s: index encoded to %zu bytes, expected %zu", c->name,
                        nx, L.index_bytes);
    else if (s->at_start)
        memcpy(out, ix, nx);
    else
        rc = put(&out, &len, &cap, ix, nx);
    free(ix);
    if (rc < 0)
        goto out;
    *dst = out;
    *dstlen = len;
    out = NULL;
out:
    free(out);
    free(buf);
    free(e);
    layout_free(&L);
    return rc;
}

const codec_ops codec_sharding_ops = {
    .id = "sharding_indexed", .role = LSIO_CODEC_ARRAY_BYTES, .init = sharding_init,
    .to_json = sharding_json, .kind = codec_kind_oop, .enc_size = codec_enc_unknown,
    .decode = sharding_dec, .encode = sharding_enc, .fini = sharding_fini,
};
