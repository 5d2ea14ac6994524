/*
 * array.c — the codecs of Zarr v3's core set that are not compressors:
 * `bytes` (array→bytes: byte order) and `transpose` (array→array: axis
 * permutation). The checksums are in checksum.c.
 *
 * bytes decodes without copying when it can (native order), and so does a
 * transpose that moves only axes of length 1, so a chain of them around a
 * compressor still decompresses straight into the caller's buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"

/* ------------------------------------------------------------------ bytes */

static int bytes_init(lsio_codec *c, const cJSON *cfg)
{
    const cJSON *e = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "endian") : NULL;
    if (!e || cJSON_IsNull(e))
        return 0;
    if (!cJSON_IsString(e) ||
        (strcmp(e->valuestring, "little") && strcmp(e->valuestring, "big")))
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": endian must be \"little\" or \"big\"",
                          c->name);
    c->p.has_endian = 1;
    c->p.big_endian = !strcmp(e->valuestring, "big");
    return 0;
}

static void bytes_json(const lsio_codec *c, cJSON *o)
{
    if (c->p.has_endian)
        cJSON_AddStringToObject(o, "endian", c->p.big_endian ? "big" : "little");
}

/* The unit whose bytes a foreign byte order reverses (0: none). */
static unsigned swap_unit(const lsio_codec *c, const lsio_chunk_spec *s)
{
    int big = c->p.has_endian ? c->p.big_endian : s->dtype.big_endian;
    if (!big)
        return 0;
    switch (s->dtype.kind) {
    case LSIO_DT_INT:
    case LSIO_DT_UINT:
    case LSIO_DT_FLOAT: return s->dtype.size > 1 ? s->dtype.size : 0;
    case LSIO_DT_COMPLEX: return s->dtype.size / 2;
    case LSIO_DT_UNICODE: return 4;
    default: return 0;
    }
}

static codec_kind bytes_kind(const lsio_codec *c, const lsio_chunk_spec *s)
{
    return swap_unit(c, s) ? CODEC_INPLACE : CODEC_VIEW;
}

static int bytes_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                     size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    unsigned u = swap_unit(c, spec);
    if (u && srclen % u)
        return lsio_error(-LSIO_ESIZE, "%s: %zu bytes is not a whole number of elements",
                          c->name, srclen);
    if (dst) {
        if (srclen > dstcap)
            return codec_too_big(c, dstcap);
        codec_byteswap(dst, src, u ? srclen / u : srclen, u ? u : 1);
    }
    *outlen = srclen;
    return 0;
}

static int bytes_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                     size_t srclen, void **dst, size_t *dstlen)
{
    unsigned u = swap_unit(c, spec);
    if (u && srclen % u)
        return lsio_error(-LSIO_ESIZE, "%s: %zu bytes is not a whole number of elements",
                          c->name, srclen);
    void *out = malloc(srclen ? srclen : 1);
    if (!out)
        return -ENOMEM;
    codec_byteswap(out, src, u ? srclen / u : srclen, u ? u : 1);
    *dst = out;
    *dstlen = srclen;
    return 0;
}

const codec_ops codec_bytes_ops = {
    .id = "bytes", .role = LSIO_CODEC_ARRAY_BYTES, .init = bytes_init, .to_json = bytes_json,
    .kind = bytes_kind, .decode = bytes_dec, .encode = bytes_enc,
};

/* -------------------------------------------------------------- transpose */

static int transpose_init(lsio_codec *c, const cJSON *cfg)
{
    const cJSON *o = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "order") : NULL;
    if (cJSON_IsString(o) && (!strcmp(o->valuestring, "C") || !strcmp(o->valuestring, "F"))) {
        c->p.order_f = o->valuestring[0] == 'F';
        return 0;
    }
    if (!cJSON_IsArray(o))
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": \"order\" must be an array", c->name);
    int n = cJSON_GetArraySize(o);
    if (n < 1 || n > 32)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": order of %d axes", c->name, n);
    uint32_t seen = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(o, i);
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= n ||
            v->valuedouble != (double)(int)v->valuedouble || (seen >> v->valueint & 1))
            return lsio_error(-LSIO_EFORMAT, "codec \"%s\": order is not a permutation",
                              c->name);
        seen |= 1u << v->valueint;
        c->p.order[i] = (unsigned)v->valueint;
    }
    c->p.norder = (unsigned)n;
    return 0;
}

static void transpose_json(const lsio_codec *c, cJSON *o)
{
    if (!c->p.norder) {
        cJSON_AddStringToObject(o, "order", c->p.order_f ? "F" : "C");
        return;
    }
    int v[32];
    for (unsigned i = 0; i < c->p.norder; i++)
        v[i] = (int)c->p.order[i];
    cJSON_AddItemToObject(o, "order", cJSON_CreateIntArray(v, (int)c->p.norder));
}

/* The permutation for a spec of `ndim` axes. */
static int transpose_perm(const lsio_codec *c, unsigned ndim, unsigned *perm)
{
    if (c->p.norder) {
        if (c->p.norder != ndim)
            return lsio_error(-LSIO_EFORMAT, "codec \"%s\": order has %u axes, the array %u",
                              c->name, c->p.norder, ndim);
        memcpy(perm, c->p.order, ndim * sizeof *perm);
    } else {
        for (unsigned i = 0; i < ndim; i++)
            perm[i] = c->p.order_f ? ndim - 1 - i : i;
    }
    return 0;
}

static int transpose_out_spec(const lsio_codec *c, const lsio_chunk_spec *in,
                              lsio_chunk_spec *out)
{
    unsigned perm[32];
    int rc = transpose_perm(c, in->ndim, perm);
    if (rc < 0)
        return rc;
    *out = *in;
    for (unsigned i = 0; i < in->ndim; i++)
        out->shape[i] = in->shape[perm[i]];
    return 0;
}

static codec_kind transpose_kind(const lsio_codec *c, const lsio_chunk_spec *s)
{
    unsigned perm[32];
    if (transpose_perm(c, s->ndim, perm) < 0)
        return CODEC_OOP;
    /* a view when the axes longer than 1 keep their relative order */
    int last = -1;
    for (unsigned i = 0; i < s->ndim; i++) {
        if (s->shape[perm[i]] <= 1)
            continue;
        if ((int)perm[i] < last)
            return CODEC_OOP;
        last = (int)perm[i];
    }
    return CODEC_VIEW;
}

/* Walk the encoded array in C order; `dec` is the decoded array, whose
 * offset for encoded index j is sum j[i] * dstride[perm[i]]. scatter:
 * encoded → decoded (decode); else decoded → encoded (encode). */
static void transpose_walk(const lsio_chunk_spec *dspec, const unsigned *perm, uint8_t *enc,
                           uint8_t *dec, int scatter)
{
    unsigned nd = dspec->ndim, es = dspec->dtype.size;
    size_t dstride[32], estride[32], eshape[32], idx[32] = {0};
    size_t s = es;
    for (unsigned i = nd; i-- > 0;) {
        dstride[i] = s;
        s *= dspec->shape[i];
    }
    for (unsigned i = 0; i < nd; i++) {
        eshape[i] = dspec->shape[perm[i]];
        estride[i] = dstride[perm[i]];
        if (!eshape[i])
            return;
    }
    size_t inner = eshape[nd - 1], istride = estride[nd - 1], off = 0;
    for (;;) {
        uint8_t *d = dec + off;
        if (scatter) {
            switch (es) {
            case 1: for (size_t k = 0; k < inner; k++) d[k * istride] = enc[k]; break;
            case 2: for (size_t k = 0; k < inner; k++) memcpy(d + k * istride, enc + 2 * k, 2); break;
            case 4: for (size_t k = 0; k < inner; k++) memcpy(d + k * istride, enc + 4 * k, 4); break;
            case 8: for (size_t k = 0; k < inner; k++) memcpy(d + k * istride, enc + 8 * k, 8); break;
            default: for (size_t k = 0; k < inner; k++) memcpy(d + k * istride, enc + es * k, es);
            }
        } else {
            switch (es) {
            case 1: for (size_t k = 0; k < inner; k++) enc[k] = d[k * istride]; break;
            case 2: for (size_t k = 0; k < inner; k++) memcpy(enc + 2 * k, d + k * istride, 2); break;
            case 4: for (size_t k = 0; k < inner; k++) memcpy(enc + 4 * k, d + k * istride, 4); break;
            case 8: for (size_t k = 0; k < inner; k++) memcpy(enc + 8 * k, d + k * istride, 8); break;
            default: for (size_t k = 0; k < inner; k++) memcpy(enc + es * k, d + k * istride, es);
            }
        }
        enc += inner * es;
        unsigned i = nd - 1;
        for (;;) {
            if (i == 0)
                return;
            i--;
            off += estride[i];
            if (++idx[i] < eshape[i])
                break;
            off -= estride[i] * eshape[i];
            idx[i] = 0;
        }
    }
}

static int transpose_check(const lsio_codec *c, const lsio_chunk_spec *spec, size_t srclen,
                           size_t *n)
{
    size_t ne;
    if (spec->dtype.kind == LSIO_DT_STRING || spec->ndim == 0 || spec_nelem(spec, &ne) < 0 ||
        lsio_mul_size(ne, spec->dtype.size, n) < 0)
        return lsio_error(-LSIO_EUNSUPPORTED, "%s: this array", c->name);
    if (srclen != *n)
        return lsio_error(-LSIO_ESIZE, "%s: %zu bytes, expected %zu", c->name, srclen, *n);
    return 0;
}

static int transpose_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                         size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    size_t n;
    int rc = transpose_check(c, spec, srclen, &n);
    if (rc < 0)
        return rc;
    *outlen = n;
    if (!dst) /* view */
        return 0;
    if (n > dstcap)
        return codec_too_big(c, dstcap);
    unsigned perm[32];
    if ((rc = transpose_perm(c, spec->ndim, perm)) < 0)
        return rc;
    transpose_walk(spec, perm, (uint8_t *)src, dst, 1);
    return 0;
}

static int transpose_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                         size_t srclen, void **dst, size_t *dstlen)
{
    size_t n;
    unsigned perm[32];
    int rc = transpose_check(c, spec, srclen, &n);
    if (rc < 0 || (rc = transpose_perm(c, spec->ndim, perm)) < 0)
        return rc;
    uint8_t *out = malloc(n ? n : 1);
    if (!out)
        return -ENOMEM;
    transpose_walk(spec, perm, out, (uint8_t *)src, 0);
    *dst = out;
    *dstlen = n;
    return 0;
}

const codec_ops codec_transpose_ops = {
    .id = "transpose", .role = LSIO_CODEC_ARRAY_ARRAY, .init = transpose_init,
    .to_json = transpose_json, .kind = transpose_kind, .out_spec = transpose_out_spec,
    .decode = transpose_dec, .encode = transpose_enc,
};
