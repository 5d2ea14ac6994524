/*
 * codecs.c — the codec registry and the single-codec API: a codec is made
 * from a name (Zarr v3 name, numcodecs id, or "numcodecs.<id>") and a JSON
 * configuration, found in one table, and reference counted so that chains
 * can outlive the caller's handle. Also the per-thread scratch state the
 * chain and the decompressors reuse, and small helpers every codec source
 * shares (configuration members, byte swaps, element counts).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <zstd.h>

#include "codec_internal.h"

/* The registry: one entry per name. v2 ids and v3 names share entries where
 * the configuration spells the same parameters. */
static const struct {
    const char *name;
    const codec_ops *ops;
} registry[] = {
    {"bytes", &codec_bytes_ops},
    {"endian", &codec_bytes_ops}, /* early v3 drafts */
    {"transpose", &codec_transpose_ops},
    {"crc32c", &codec_crc32c_ops},
    {"crc32", &codec_crc32_ops},
    {"adler32", &codec_adler32_ops},
    {"blosc", &codec_blosc_ops},
    {"zstd", &codec_zstd_ops},
    {"lz4", &codec_lz4_ops},
    {"gzip", &codec_gzip_ops},
    {"zlib", &codec_zlib_ops},
    {"bz2", &codec_bz2_ops},
    {"lzma", &codec_lzma_ops},
    {"shuffle", &codec_shuffle_ops},
    {"delta", &codec_delta_ops},
    {"fixedscaleoffset", &codec_fixedscaleoffset_ops},
    {"bitround", &codec_bitround_ops},
    {"astype", &codec_astype_ops},
    {"vlen-utf8", &codec_vlen_utf8_ops},
    {"sharding_indexed", &codec_sharding_ops},
};

static const codec_ops *lookup(const char *name)
{
    if (!strncmp(name, "numcodecs.", 10))
        name += 10;
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(registry[i].name, name))
            return registry[i].ops;
    return NULL;
}

static int is_v3_name(const char *name)
{
    return !strncmp(name, "numcodecs.", 10) || !strcmp(name, "bytes") ||
           !strcmp(name, "transpose") || !strcmp(name, "crc32c") ||
           !strcmp(name, "endian") || !strcmp(name, "sharding_indexed");
}

int lsio_codec_create(lsio_codec **out, const char *name, const char *json_config)
{
    if (!out || !name)
        return -EINVAL;
    *out = NULL;
    const codec_ops *ops = lookup(name);
    if (!ops)
        return lsio_error(-LSIO_EUNSUPPORTED, "codec \"%s\"", name);
    cJSON *cfg = NULL;
    if (json_config && *json_config) {
        cfg = cJSON_Parse(json_config);
        if (!cfg || !cJSON_IsObject(cfg)) {
            cJSON_Delete(cfg);
            return lsio_error(-LSIO_EFORMAT, "codec \"%s\": configuration is not a JSON object",
                              name);
        }
    }
    lsio_codec *c = calloc(1, sizeof *c);
    if (!c) {
        cJSON_Delete(cfg);
        return -ENOMEM;
    }
    c->ops = ops;
    atomic_init(&c->refs, 1);
    c->v3 = is_v3_name(name);
    snprintf(c->name, sizeof c->name, "%s", name);
    int rc = ops->init ? ops->init(c, cfg) : 0;
    cJSON_Delete(cfg);
    if (rc < 0) {
        if (ops->fini)
            ops->fini(c);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void lsio_codec_destroy(lsio_codec *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        if (c->ops->fini)
            c->ops->fini(c);
        free(c);
    }
}

const char *lsio_codec_name(const lsio_codec *c) { return c ? c->name : ""; }

lsio_codec_role lsio_codec_role_of(const lsio_codec *c) { return c->ops->role; }

char *lsio_codec_config_json(const lsio_codec *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!c->v3)
        cJSON_AddStringToObject(o, "id", c->ops->id);
    if (c->ops->to_json)
        c->ops->to_json(c, o);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* A spec for callers of the single-codec API that pass none: bytes. */
static const lsio_chunk_spec *spec_or_bytes(const lsio_chunk_spec *spec, size_t n,
                                            lsio_chunk_spec *tmp)
{
    if (spec)
        return spec;
    memset(tmp, 0, sizeof *tmp);
    tmp->ndim = 1;
    tmp->shape[0] = n;
    tmp->dtype = (lsio_dtype){LSIO_DT_UINT, 1, 0};
    return tmp;
}

int lsio_codec_decode(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                      size_t srclen, void *dst, size_t dstcap, size_t *outlen)
{
    lsio_chunk_spec tmp;
    spec = spec_or_bytes(spec, dstcap, &tmp);
    size_t n = 0;
    int rc;
    if (c->ops->kind(c, spec) == CODEC_VIEW) {
        rc = c->ops->decode(c, spec, src, srclen, NULL, 0, &n);
        if (rc < 0)
            return rc;
        if (n > dstcap)
            return lsio_error(-LSIO_ESIZE, "%s: decodes to %zu bytes, room for %zu", c->name,
                              n, dstcap);
        if (n)
            memmove(dst, src, n);
    } else {
        rc = c->ops->decode(c, spec, src, srclen, dst, dstcap, &n);
        if (rc < 0)
            return rc;
    }
    if (outlen)
        *outlen = n;
    return 0;
}

int lsio_codec_encode(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                      size_t srclen, void **dst, size_t *dstlen)
{
    lsio_chunk_spec tmp;
    spec = spec_or_bytes(spec, srclen, &tmp);
    return c->ops->encode(c, spec, src, srclen, dst, dstlen);
}

/* ------------------------------------------------------ per-thread state */

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static _Thread_local codec_tls *tls_cur;

static void tls_free(void *p)
{
    codec_tls *t = p;
    if (!t)
        return;
    free(t->buf[0]);
    free(t->buf[1]);
    ZSTD_freeDCtx(t->zstd_dctx);
    if (t->deflate_d)
        libdeflate_free_decompressor(t->deflate_d);
    free(t);
}

static void tls_init(void) { pthread_key_create(&tls_key, tls_free); }

codec_tls *codec_tls_get(void)
{
    codec_tls *t = tls_cur;
    if (t)
        return t;
    pthread_once(&tls_once, tls_init);
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_setspecific(tls_key, t);
    tls_cur = t;
    return t;
}

void *codec_tls_scratch(codec_tls *t, int i, size_t n)
{
    if (n <= t->cap[i] && t->buf[i])
        return t->buf[i];
    size_t cap = t->cap[i] ? t->cap[i] : 4096;
    while (cap < n)
        cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    void *p = malloc(cap);
    if (!p)
        return NULL;
    free(t->buf[i]);
    t->buf[i] = p;
    t->cap[i] = cap;
    return p;
}

/* -------------------------------------------------------------- helpers */

int cfg_int(const lsio_codec *c, const cJSON *cfg, const char *key, int def, int *out)
{
    const cJSON *v = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, key) : NULL;
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return 0;
    }
    /* range first: converting a double outside int's range is undefined */
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
    if (d != floor(d))
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": \"%s\" is not an integer", c->name,
                          key);
    if (!(d >= INT_MIN && d <= INT_MAX))
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": \"%s\" is out of range (%g)", c->name,
                          key, d);
    *out = (int)d;
    return 0;
}

int cfg_double(const lsio_codec *c, const cJSON *cfg, const char *key, double def,
               double *out)
{
    const cJSON *v = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, key) : NULL;
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v))
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": \"%s\" is not a number", c->name, key);
    *out = v->valuedouble;
    return 0;
}

int cfg_dtype(const lsio_codec *c, const cJSON *cfg, const char *key, const lsio_dtype *def,
              lsio_dtype *out)
{
    const cJSON *v = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, key) : NULL;
    if (!v || cJSON_IsNull(v)) {
        if (!def)
            return lsio_error(-LSIO_EFORMAT, "codec \"%s\": \"%s\" missing", c->name, key);
        *out = *def;
        return 0;
    }
    if (!cJSON_IsString(v) || lsio_dtype_parse(v->valuestring, out) < 0)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": \"%s\" is not a data type", c->name,
                          key);
    if (!num_dtype_ok(*out))
        return lsio_error(-LSIO_EUNSUPPORTED, "codec \"%s\": data type \"%s\"", c->name,
                          v->valuestring);
    return 0;
}

codec_kind codec_kind_oop(const lsio_codec *c, const lsio_chunk_spec *s)
{
    (void)c;
    (void)s;
    return CODEC_OOP;
}

size_t codec_enc_unknown(const lsio_codec *c, size_t n)
{
    (void)c;
    (void)n;
    return SIZE_MAX;
}

int codec_too_big(const lsio_codec *c, size_t cap)
{
    return lsio_error(-LSIO_ESIZE, "%s: data decodes to more than %zu bytes", c->name, cap);
}

int codec_corrupt(const lsio_codec *c, const char *what)
{
    return lsio_error(-LSIO_ECODEC, "%s: %s", c->name, what);
}

int codec_level_in(const lsio_codec *c, int lo, int hi)
{
    if (c->p.level < lo || c->p.level > hi)
        return lsio_error(-LSIO_EFORMAT, "codec \"%s\": level %d outside %d..%d", c->name,
                          c->p.level, lo, hi);
    return 0;
}

void codec_level_json(const lsio_codec *c, cJSON *o)
{
    cJSON_AddNumberToObject(o, "level", c->p.level);
}

int spec_nelem(const lsio_chunk_spec *s, size_t *out)
{
    size_t n = 1;
    if (s->ndim > 32)
        return -EINVAL;
    for (unsigned i = 0; i < s->ndim; i++) {
        if (s->shape[i] > SIZE_MAX || lsio_mul_size(n, (size_t)s->shape[i], &n) < 0)
            return -EOVERFLOW;
    }
    *out = n;
    return 0;
}

void codec_byteswap(void *dst, const void *src, size_t n, unsigned size)
{
    const uint8_t *s = src;
    uint8_t *d = dst;
    switch (size) {
    case 2:
        for (size_t i = 0; i < n; i++) {
            uint16_t v;
            memcpy(&v, s + 2 * i, 2);
            v = __builtin_bswap16(v);
            memcpy(d + 2 * i, &v, 2);
        }
        break;
    case 4:
        for (size_t i = 0; i < n; i++) {
            uint32_t v;
            memcpy(&v, s + 4 * i, 4);
            v = __builtin_bswap32(v);
            memcpy(d + 4 * i, &v, 4);
        }
        break;
    case 8:
        for (size_t i = 0; i < n; i++) {
            uint64_t v;
            memcpy(&v, s + 8 * i, 8);
            v = __builtin_bswap64(v);
            memcpy(d + 8 * i, &v, 8);
        }
        break;
    default:
        if (d != s)
            memmove(d, s, n * size);
        break;
    }
}

num_class num_class_of(lsio_dtype d)
{
    switch (d.kind) {
    case LSIO_DT_INT: return NUM_INT;
    case LSIO_DT_FLOAT: return NUM_FLOAT;
    default: return NUM_UINT;
    }
}

int num_dtype_ok(lsio_dtype d)
{
    switch (d.kind) {
    case LSIO_DT_BOOL:
    case LSIO_DT_INT:
    case LSIO_DT_UINT: return 1;
    case LSIO_DT_FLOAT: return d.size == 4 || d.size == 8;
    default: return 0;
    }
}
