/*
 * filters.c — the numcodecs filters Zarr v2 users have (and Zarr v3 reaches
 * as "numcodecs.<id>"): shuffle (bytes of each element grouped), delta,
 * fixedscaleoffset, bitround and astype. Each does what numcodecs 0.11's
 * Python does, element by element, with numpy's arithmetic: integers wrap
 * in their own width, float32 data is computed in float32 and everything
 * else in double, casts to integers truncate toward zero.
 *
 * These are not on the hot path of most arrays, so they convert through a
 * small load/store pair per element instead of one loop per type pair.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"

/* ---------------------------------------------------- numbers by dtype */

/* Big-endian elements are byte-swapped into this native (little-endian)
 * order around the arithmetic, as numpy does for a ">i8" view. */
static const uint8_t *to_native(const uint8_t *p, lsio_dtype d, uint8_t tmp[8])
{
    if (!d.big_endian || d.size < 2)
        return p;
    for (uint32_t k = 0; k < d.size; k++)
        tmp[k] = p[d.size - 1 - k];
    return tmp;
}

/* Load element p of dtype d: ints sign- or zero-extended into .u/.i,
 * floats into .f. */
static num ld(const uint8_t *p, lsio_dtype d)
{
    num v;
    uint8_t tmp[8];
    p = to_native(p, d, tmp);
    switch (d.kind) {
    case LSIO_DT_FLOAT:
        if (d.size == 4) {
            float f;
            memcpy(&f, p, 4);
            v.f = f;
        } else {
            memcpy(&v.f, p, 8);
        }
        return v;
    case LSIO_DT_BOOL: v.u = p[0] != 0; return v;
    case LSIO_DT_INT:
        switch (d.size) {
        case 1: v.i = (int8_t)p[0]; return v;
        case 2: { int16_t x; memcpy(&x, p, 2); v.i = x; return v; }
        case 4: { int32_t x; memcpy(&x, p, 4); v.i = x; return v; }
        default: memcpy(&v.i, p, 8); return v;
        }
    default:
        switch (d.size) {
        case 1: v.u = p[0]; return v;
        case 2: { uint16_t x; memcpy(&x, p, 2); v.u = x; return v; }
        case 4: { uint32_t x; memcpy(&x, p, 4); v.u = x; return v; }
        default: memcpy(&v.u, p, 8); return v;
        }
    }
}

/* A double cast to integer bits the way x86 numpy does for in-range
 * values (truncation), without undefined behaviour for the rest. */
static uint64_t f2u(double f)
{
    if (f >= -9223372036854775808.0 && f < 9223372036854775808.0)
        return (uint64_t)(int64_t)f;
    if (f >= 0 && f < 18446744073709551616.0)
        return (uint64_t)f;
    return 0x8000000000000000ull;
}

static void st_native(uint8_t *p, lsio_dtype d, num v, num_class cls);

/* Store v (of class cls) as dtype d, in d's byte order. */
static void st(uint8_t *p, lsio_dtype d, num v, num_class cls)
{
    if (!d.big_endian || d.size < 2) {
        st_native(p, d, v, cls);
        return;
    }
    uint8_t tmp[8];
    st_native(tmp, d, v, cls);
    for (uint32_t k = 0; k < d.size; k++)
        p[k] = tmp[d.size - 1 - k];
}

static void st_native(uint8_t *p, lsio_dtype d, num v, num_class cls)
{
    if (d.kind == LSIO_DT_FLOAT) {
        double f = cls == NUM_FLOAT ? v.f : cls == NUM_INT ? (double)v.i : (double)v.u;
        if (d.size == 4) {
            float x = (float)f;
            memcpy(p, &x, 4);
        } else {
            memcpy(p, &f, 8);
        }
        return;
    }
    uint64_t u = cls == NUM_FLOAT ? f2u(v.f) : v.u;
    if (d.kind == LSIO_DT_BOOL) {
        p[0] = cls == NUM_FLOAT ? v.f != 0 : u != 0;
        return;
    }
    switch (d.size) {
    case 1: p[0] = (uint8_t)u; break;
    case 2: { uint16_t x = (uint16_t)u; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)u; memcpy(p, &x, 4); break; }
    default: memcpy(p, &u, 8); break;
    }
}

/* Integer bits wrapped to the width of d (sign-extended when signed). */
static num wrap(num v, lsio_dtype d)
{
    if (d.size < 8) {
        unsigned b = 8 * d.size;
        v.u &= (1ull << b) - 1;
        if (d.kind == LSIO_DT_INT && (v.u >> (b - 1) & 1))
            v.u |= ~0ull << b;
    }
    return v;
}

/* v (class cls) converted to dtype d's class and range, as numpy's cast. */
static num conv(num v, num_class cls, lsio_dtype d)
{
    uint8_t tmp[8];
    st(tmp, d, v, cls);
    return ld(tmp, d);
}

static int is_f32(lsio_dtype d) { return d.kind == LSIO_DT_FLOAT && d.size == 4; }

/* ------------------------------------------- shared by the typed filters */

static int filt_dtypes(lsio_codec *c, const cJSON *cfg, const char *dkey, const char *akey)
{
    int rc = cfg_dtype(c, cfg, dkey, NULL, &c->p.dtype);
    if (rc < 0)
        return rc;
    return cfg_dtype(c, cfg, akey, &c->p.dtype, &c->p.astype);
}

static void filt_json(const lsio_codec *c, cJSON *o, const char *dkey, const char *akey)
{
    char b1[32], b2[32];
    cJSON_AddStringToObject(o, dkey, lsio_dtype_str(c->p.dtype, b1, sizeof b1));
    cJSON_AddStringToObject(o, akey, lsio_dtype_str(c->p.astype, b2, sizeof b2));
}

/* Decoded side: dtype, encoded side: astype; same count of elements. */
static int filt_out_spec(const lsio_codec *c, const lsio_chunk_spec *in, lsio_chunk_spec *out)
{
    size_t n, bytes;
    if (spec_nelem(in, &n) < 0 || lsio_mul_size(n, in->dtype.size, &bytes) < 0)
        return -EOVERFLOW;
    if (bytes % c->p.dtype.size)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": %zu bytes of %u-byte elements",
                          c->name, bytes, c->p.dtype.size);
    memset(out, 0, sizeof *out);
    out->ndim = 1;
    out->shape[0] = bytes / c->p.dtype.size;
    out->dtype = c->p.astype;
    return 0;
}

static codec_kind filt_kind(const lsio_codec *c, const lsio_chunk_spec *s)
{
    (void)s;
    return c->p.dtype.size == c->p.astype.size ? CODEC_INPLACE : CODEC_OOP;
}

/* Element count and checks for decoding srclen bytes of `from` into `to`. */
static int filt_sizes(const lsio_codec *c, size_t srclen, lsio_dtype from, lsio_dtype to,
                      size_t cap, size_t *n)
{
    if (srclen % from.size)
        return lsio_error(-LSIO_ESIZE, "%s: %zu bytes of %u-byte elements", c->name, srclen,
                          from.size);
    *n = srclen / from.size;
    if (*n > cap / to.size)
        return codec_too_big(c, cap);
    return 0;
}

static int filt_alloc(size_t n, lsio_dtype to, void **dst, size_t *dstlen)
{
    *dstlen = n * to.size;
    *dst = malloc(*dstlen ? *dstlen : 1);
    return *dst ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------------ delta */

static int delta_init(lsio_codec *c, const cJSON *cfg)
{
    int rc = filt_dtypes(c, cfg, "dtype", "astype");
    if (rc == 0 && (c->p.dtype.kind == LSIO_DT_BOOL || c->p.astype.kind == LSIO_DT_BOOL))
        rc = lsio_error(-LSIO_EUNSUPPORTED, "codec \"%s\": bool", c->name);
    return rc;
}

static void delta_json(const lsio_codec *c, cJSON *o) { filt_json(c, o, "dtype", "astype"); }

/* a - b (sub) or a + b in dtype d's arithmetic */
static num arith(num a, num b, lsio_dtype d, int sub)
{
    if (d.kind == LSIO_DT_FLOAT) {
        if (is_f32(d))
            a.f = sub ? (double)((float)a.f - (float)b.f) : (double)((float)a.f + (float)b.f);
        else
            a.f = sub ? a.f - b.f : a.f + b.f;
        return a;
    }
    a.u = sub ? a.u - b.u : a.u + b.u;
    return wrap(a, d);
}

/* The common case, astype == dtype, one typed loop per width: integers in
 * unsigned arithmetic (two's complement wraps the same), floats in their
 * own precision, sequentially as numpy's cumsum and diff do. */
#define DELTA_LOOP(T, enc)                                                     \
    do {                                                                       \
        T acc = 0, prev = 0;                                                   \
        for (size_t i = 0; i < n; i++) {                                       \
            T x;                                                               \
            memcpy(&x, s + i * sizeof(T), sizeof(T));                          \
            if (enc) {                                                         \
                T y = i ? (T)(x - prev) : x;                                   \
                prev = x;                                                      \
                memcpy(d + i * sizeof(T), &y, sizeof(T));                      \
            } else {                                                           \
                acc = i ? (T)(acc + x) : x;                                    \
                memcpy(d + i * sizeof(T), &acc, sizeof(T));                    \
            }                                                                  \
        }                                                                      \
        (void)acc, (void)prev;                                                 \
    } while (0)

static int delta_fast(lsio_dtype D, lsio_dtype A, const uint8_t *s, uint8_t *d, size_t n,
                      int enc)
{
    if (D.kind != A.kind || D.size != A.size || (D.big_endian | A.big_endian))
        return 0;
    if (D.kind == LSIO_DT_FLOAT) {
        if (D.size == 4)
            DELTA_LOOP(float, enc);
        else
            DELTA_LOOP(double, enc);
        return 1;
    }
    switch (D.size) {
    case 1: DELTA_LOOP(uint8_t, enc); break;
    case 2: DELTA_LOOP(uint16_t, enc); break;
    case 4: DELTA_LOOP(uint32_t, enc); break;
    default: DELTA_LOOP(uint64_t, enc); break;
    }
    return 1;
}

static int delta_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                     size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    lsio_dtype D = c->p.dtype, A = c->p.astype;
    size_t n = 0;
    int rc = filt_sizes(c, srclen, A, D, dstcap, &n);
    if (rc < 0)
        return rc;
    const uint8_t *s = src;
    uint8_t *d = dst;
    *outlen = n * D.size;
    if (delta_fast(D, A, s, d, n, 0))
        return 0;
    num_class ca = num_class_of(A), cd = num_class_of(D);
    num acc = {0};
    for (size_t i = 0; i < n; i++) {
        num x = conv(ld(s + i * A.size, A), ca, D);
        acc = i ? arith(acc, x, D, 0) : x;
        st(d + i * D.size, D, acc, cd);
    }
    return 0;
}

static int delta_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                     size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    lsio_dtype D = c->p.dtype, A = c->p.astype;
    size_t n = 0;
    int rc = filt_sizes(c, srclen, D, A, SIZE_MAX, &n);
    if (rc < 0 || (rc = filt_alloc(n, A, dst, dstlen)) < 0)
        return rc;
    const uint8_t *s = src;
    uint8_t *d = *dst;
    if (delta_fast(D, A, s, d, n, 1))
        return 0;
    num_class cd = num_class_of(D);
    num prev = {0};
    for (size_t i = 0; i < n; i++) {
        num x = ld(s + i * D.size, D);
        st(d + i * A.size, A, i ? arith(x, prev, D, 1) : x, cd);
        prev = x;
    }
    return 0;
}

const codec_ops codec_delta_ops = {
    .id = "delta", .role = LSIO_CODEC_ARRAY_ARRAY, .init = delta_init, .to_json = delta_json,
    .kind = filt_kind, .out_spec = filt_out_spec, .decode = delta_dec, .encode = delta_enc,
};

/* ------------------------------------------------------------------ astype */

static int astype_init(lsio_codec *c, const cJSON *cfg)
{
    /* dtype: the decoded side; astype: the encoded side */
    int rc = cfg_dtype(c, cfg, "decode_dtype", NULL, &c->p.dtype);
    if (rc < 0)
        return rc;
    return cfg_dtype(c, cfg, "encode_dtype", NULL, &c->p.astype);
}

static void astype_json(const lsio_codec *c, cJSON *o)
{
    filt_json(c, o, "decode_dtype", "encode_dtype");
}

/* n elements from `from` to `to`; src and dst may be equal when the sizes are */
static void cast_all(const uint8_t *s, lsio_dtype from, uint8_t *d, lsio_dtype to, size_t n)
{
    num_class cf = num_class_of(from);
    for (size_t i = 0; i < n; i++)
        st(d + i * to.size, to, ld(s + i * from.size, from), cf);
}

static int astype_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                      size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    size_t n = 0;
    int rc = filt_sizes(c, srclen, c->p.astype, c->p.dtype, dstcap, &n);
    if (rc < 0)
        return rc;
    cast_all(src, c->p.astype, dst, c->p.dtype, n);
    *outlen = n * c->p.dtype.size;
    return 0;
}

static int astype_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                      size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    size_t n = 0;
    int rc = filt_sizes(c, srclen, c->p.dtype, c->p.astype, SIZE_MAX, &n);
    if (rc < 0 || (rc = filt_alloc(n, c->p.astype, dst, dstlen)) < 0)
        return rc;
    cast_all(src, c->p.dtype, *dst, c->p.astype, n);
    return 0;
}

const codec_ops codec_astype_ops = {
    .id = "astype", .role = LSIO_CODEC_ARRAY_ARRAY, .init = astype_init,
    .to_json = astype_json, .kind = filt_kind, .out_spec = filt_out_spec,
    .decode = astype_dec, .encode = astype_enc,
};

/* ------------------------------------------------------- fixedscaleoffset */

static int fso_init(lsio_codec *c, const cJSON *cfg)
{
    int rc = filt_dtypes(c, cfg, "dtype", "astype");
    if (rc < 0)
        return rc;
    if (cfg_double(c, cfg, "scale", 1, &c->p.scale) < 0 ||
        cfg_double(c, cfg, "offset", 0, &c->p.offset) < 0)
        return -LSIO_EFORMAT;
    return 0;
}

static void fso_json(const lsio_codec *c, cJSON *o)
{
    cJSON_AddNumberToObject(o, "scale", c->p.scale);
    cJSON_AddNumberToObject(o, "offset", c->p.offset);
    filt_json(c, o, "dtype", "astype");
}

static int fso_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                   size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    lsio_dtype D = c->p.dtype, A = c->p.astype;
    size_t n = 0;
    int rc = filt_sizes(c, srclen, A, D, dstcap, &n);
    if (rc < 0)
        return rc;
    const uint8_t *s = src;
    uint8_t *d = dst;
    num_class ca = num_class_of(A);
    int f32 = is_f32(A);
    float sf = (float)c->p.scale, of = (float)c->p.offset;
    for (size_t i = 0; i < n; i++) {
        num x = ld(s + i * A.size, A);
        double e = ca == NUM_FLOAT ? x.f : ca == NUM_INT ? (double)x.i : (double)x.u;
        num y;
        y.f = f32 ? (double)((float)e / sf + of) : e / c->p.scale + c->p.offset;
        st(d + i * D.size, D, y, NUM_FLOAT);
    }
    *outlen = n * D.size;
    return 0;
}

static int fso_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                   size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    lsio_dtype D = c->p.dtype, A = c->p.astype;
    size_t n = 0;
    int rc = filt_sizes(c, srclen, D, A, SIZE_MAX, &n);
    if (rc < 0 || (rc = filt_alloc(n, A, dst, dstlen)) < 0)
        return rc;
    const uint8_t *s = src;
    uint8_t *d = *dst;
    num_class cd = num_class_of(D);
    int f32 = is_f32(D);
    float sf = (float)c->p.scale, of = (float)c->p.offset;
    for (size_t i = 0; i < n; i++) {
        num x = ld(s + i * D.size, D);
        double v = cd == NUM_FLOAT ? x.f : cd == NUM_INT ? (double)x.i : (double)x.u;
        num y;
        y.f = f32 ? (double)rintf(((float)v - of) * sf) : rint((v - c->p.offset) * c->p.scale);
        st(d + i * A.size, A, y, NUM_FLOAT);
    }
    return 0;
}

const codec_ops codec_fixedscaleoffset_ops = {
    .id = "fixedscaleoffset", .role = LSIO_CODEC_ARRAY_ARRAY, .init = fso_init,
    .to_json = fso_json, .kind = filt_kind, .out_spec = filt_out_spec, .decode = fso_dec,
    .encode = fso_enc,
};

/* --------------------------------------------------------------- bitround */

static int bitround_init(lsio_codec *c, const cJSON *cfg)
{
    int k;
    if (cfg_int(c, cfg, "keepbits", -1, &k) < 0)
        return -LSIO_EFORMAT;
    if (k < 0)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": keepbits missing or negative", c->name);
    c->p.keepbits = (unsigned)k;
    return 0;
}

static void bitround_json(const lsio_codec *c, cJSON *o)
{
    cJSON_AddNumberToObject(o, "keepbits", c->p.keepbits);
}

static codec_kind view_kind(const lsio_codec *c, const lsio_chunk_spec *s)
{
    (void)c;
    (void)s;
    return CODEC_VIEW;
}

static int identity_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                        size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    (void)spec;
    if (dst) {
        if (srclen > dstcap)
            return codec_too_big(c, dstcap);
        memmove(dst, src, srclen);
    }
    *outlen = srclen;
    return 0;
}

static int bitround_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                        size_t srclen, void **dst, size_t *dstlen)
{
    lsio_dtype d = spec->dtype;
    unsigned bits = d.size == 2 ? 10 : d.size == 4 ? 23 : 52;
    if (d.kind != LSIO_DT_FLOAT || d.big_endian)
        return lsio_error(-LSIO_EUNSUPPORTED, "%s: only little-endian floats", c->name);
    if (c->p.keepbits > bits)
        return lsio_error(-LSIO_EFORMAT, "%s: keepbits %u over %u", c->name, c->p.keepbits,
                          bits);
    if (srclen % d.size)
        return lsio_error(-LSIO_ESIZE, "%s: %zu bytes of %u-byte elements", c->name, srclen,
                          d.size);
    uint8_t *out = malloc(srclen ? srclen : 1);
    if (!out)
        return -ENOMEM;
    if (srclen)
        memcpy(out, src, srclen);
    unsigned mb = bits - c->p.keepbits;
    if (mb) {
        uint64_t mask = ~0ull << mb, half = (1ull << (mb - 1)) - 1;
        for (size_t i = 0; i < srclen; i += d.size) {
            uint64_t b = 0;
            memcpy(&b, out + i, d.size); /* little-endian host */
            b += ((b >> mb) & 1) + half;
            b &= mask;
            memcpy(out + i, &b, d.size);
        }
    }
    *dst = out;
    *dstlen = srclen;
    return 0;
}

const codec_ops codec_bitround_ops = {
    .id = "bitround", .role = LSIO_CODEC_ARRAY_ARRAY, .init = bitround_init,
    .to_json = bitround_json, .kind = view_kind, .decode = identity_dec,
    .encode = bitround_enc,
};

/* ---------------------------------------------------------------- shuffle */

static int shuffle_init(lsio_codec *c, const cJSON *cfg)
{
    int e;
    if (cfg_int(c, cfg, "elementsize", 4, &e) < 0)
        return -LSIO_EFORMAT;
    if (e < 0)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": elementsize %d", c->name, e);
    c->p.elementsize = (unsigned)e;
    return 0;
}

static void shuffle_json(const lsio_codec *c, cJSON *o)
{
    cJSON_AddNumberToObject(o, "elementsize", c->p.elementsize);
}

static codec_kind shuffle_kind(const lsio_codec *c, const lsio_chunk_spec *s)
{
    (void)s;
    return c->p.elementsize <= 1 ? CODEC_VIEW : CODEC_OOP;
}

/* Byte j of element i sits at j * count + i once shuffled (len a multiple
 * of es: shuffle_whole checks). */
static void shuffle_bytes(uint8_t *d, const uint8_t *s, size_t len, unsigned es, int unshuffle)
{
    size_t count = len / es;
    for (size_t j = 0; j < es; j++)
        for (size_t i = 0; i < count; i++) {
            if (unshuffle)
                d[i * es + j] = s[j * count + i];
            else
                d[j * count + i] = s[i * es + j];
        }
}

/* numcodecs refuses a buffer that is not whole elements: so do we (such a
 * chunk was not written by it, and a partial element has no meaning). */
static int shuffle_whole(const lsio_codec *c, size_t len)
{
    if (len % c->p.elementsize)
        return lsio_error(-LSIO_ESIZE, "%s: %zu bytes are not whole %u-byte elements", c->name,
                          len, c->p.elementsize);
    return 0;
}

static int shuffle_dec(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                       size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    if (c->p.elementsize <= 1 || !dst)
        return identity_dec(c, spec, src, srclen, dst, dstcap, outlen);
    if (srclen > dstcap)
        return codec_too_big(c, dstcap);
    int rc = shuffle_whole(c, srclen);
    if (rc < 0)
        return rc;
    unsigned es = c->p.elementsize;
    if (es <= 16) { /* the vector kernels */
        const unsigned char *planes[16];
        for (unsigned b = 0; b < es; b++)
            planes[b] = (const unsigned char *)src + b * (srclen / es);
        lsio_unshuffle(dst, planes, srclen / es, es, 0);
    } else {
        shuffle_bytes(dst, src, srclen, es, 1);
    }
    *outlen = srclen;
    return 0;
}

static int shuffle_enc(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                       size_t srclen, void **dst, size_t *dstlen)
{
    (void)spec;
    int rc = c->p.elementsize <= 1 ? 0 : shuffle_whole(c, srclen);
    if (rc < 0)
        return rc;
    uint8_t *out = malloc(srclen ? srclen : 1);
    if (!out)
        return -ENOMEM;
    if (c->p.elementsize <= 1)
        memcpy(out, src, srclen);
    else
        shuffle_bytes(out, src, srclen, c->p.elementsize, 0);
    *dst = out;
    *dstlen = srclen;
    return 0;
}

const codec_ops codec_shuffle_ops = {
    .id = "shuffle", .role = LSIO_CODEC_BYTES_BYTES, .init = shuffle_init,
    .to_json = shuffle_json, .kind = shuffle_kind, .decode = shuffle_dec,
    .encode = shuffle_enc,
};
