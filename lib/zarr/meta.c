/*
 * meta.c — Zarr metadata to zarr_meta, without IO: v2 .zarray/.zattrs and
 * v3 zarr.json (regular grid, chunk key encodings, codec chains, sharding
 * configuration, dimension names), fill values as the specs write them
 * (numbers, "NaN", "Infinity", "-Infinity", hex-encoded floats, null,
 * complex pairs, bool, base64 bytes, strings). Codecs are made with
 * lsio_codec_create; what LSIO lacks is -LSIO_EUNSUPPORTED naming the array
 * and the codec or data type.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zarr_internal.h"

void zarr_meta_free(zarr_meta *m)
{
    if (!m)
        return;
    free(m->fill_json);
    free(m->attrs_json);
    free(m->codecs_json);
    for (unsigned d = 0; d < ZMAX; d++)
        free(m->dim_names[d]);
    free(m->fill);
    free(m->fill_str);
    lsio_chain_destroy(m->chain);
    lsio_chain_destroy(m->index_chain);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ fill values */

static uint16_t half_from_double(double v)
{
    union {
        float f;
        uint32_t u;
    } x = {.f = (float)v};
    uint32_t sign = (x.u >> 16) & 0x8000, e = (x.u >> 23) & 0xff, man = x.u & 0x7fffff;
    if (e == 0xff)
        return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    int ex = (int)e - 127 + 15;
    if (ex >= 31)
        return (uint16_t)(sign | 0x7c00);
    if (ex <= 0) {
        if (ex < -10)
            return (uint16_t)sign;
        man |= 0x800000;
        unsigned shift = (unsigned)(14 - ex);
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)ex << 10) | (man >> 13), rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
        h++; /* may carry into the exponent: still right */
    return (uint16_t)(sign | h);
}

/* A float fill: number, "NaN", "Infinity", "-Infinity" or "0x..." (the
 * raw bits, big-endian hex, as wide as the type). Writes size bytes. */
static int fill_float(const cJSON *v, unsigned size, unsigned char *dst)
{
    double d;
    if (cJSON_IsNumber(v))
        d = v->valuedouble;
    else if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (!strcmp(s, "NaN"))
            d = NAN;
        else if (!strcmp(s, "Infinity"))
            d = INFINITY;
        else if (!strcmp(s, "-Infinity"))
            d = -INFINITY;
        else if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            size_t n = strlen(s + 2);
            if (n != 2 * size)
                return -1;
            uint64_t bits = 0;
            for (size_t i = 0; i < n; i++) {
                char c = s[2 + i];
                int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                               : -1;
                if (h < 0)
                    return -1;
                bits = bits << 4 | (uint64_t)h;
            }
            if (size == 2) {
                uint16_t b = (uint16_t)bits;
                memcpy(dst, &b, 2);
            } else if (size == 4) {
                uint32_t b = (uint32_t)bits;
                memcpy(dst, &b, 4);
            } else
                memcpy(dst, &bits, 8);
            return 0;
        } else
            return -1;
    } else
        return -1;
    if (size == 2) {
        uint16_t h = half_from_double(d);
        memcpy(dst, &h, 2);
    } else if (size == 4) {
        float f = (float)d;
        memcpy(dst, &f, 4);
    } else
        memcpy(dst, &d, 8);
    return 0;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Base64 into dst (cap bytes, the rest zero); -1 if malformed. */
static int b64_decode(const char *s, unsigned char *dst, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    memset(dst, 0, cap);
    for (; *s && *s != '='; s++) {
        int v = b64val((unsigned char)*s);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < cap)
                dst[n] = (unsigned char)(acc >> bits);
            n++;
        }
    }
    return 0;
}

/* UTF-8 to UCS-4 (native order) into dst of cap code points. */
static void utf8_to_ucs4(const char *s, uint32_t *dst, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    memset(dst, 0, cap * 4);
    for (size_t k = 0; *p && k < cap; k++) {
        uint32_t c = *p++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        if (more)
            c &= 0x3f >> more;
        while (more-- && (*p & 0xc0) == 0x80)
            c = c << 6 | (*p++ & 0x3f);
        dst[k] = c;
    }
}

/* An integer fill value. JSON numbers reach us as doubles, exact only up
 * to 2^53: past that, the number's own text (raw, when the caller found
 * it) is read exactly; without it the value is refused (-2) rather than
 * rounded to another number. -1: not an integer of the data type. */
static int fill_int(const cJSON *v, lsio_dtype dt, unsigned char *dst, const char *raw,
                    size_t rawlen)
{
    double d;
    if (cJSON_IsNumber(v))
        d = v->valuedouble;
    else if (cJSON_IsBool(v))
        d = cJSON_IsTrue(v);
    else
        return -1;
    if (d != floor(d))
        return -1;
    union {
        int64_t i;
        uint64_t u;
    } x;
    if (fabs(d) >= 9007199254740992.0 && cJSON_IsNumber(v)) {
        /* 64 bits: narrower types wrap below, as numpy's casts do */
        int rc = raw ? lsio_parse_int_text(raw, rawlen, dt.kind == LSIO_DT_INT, 64, &x.u)
                     : -EINVAL;
        if (rc == -EINVAL)
            return -2; /* no plain integer literal at hand */
        if (rc < 0)
            return -1;
    } else if (dt.kind == LSIO_DT_INT) {
        if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            return -1;
        x.i = (int64_t)d;
    } else {
        if (d < 0 || d >= 18446744073709551616.0)
            return -1;
        x.u = (uint64_t)d;
    }
    switch (dt.size) {
    case 1: { uint8_t b = (uint8_t)x.u; memcpy(dst, &b, 1); break; }
    case 2: { uint16_t b = (uint16_t)x.u; memcpy(dst, &b, 2); break; }
    case 4: { uint32_t b = (uint32_t)x.u; memcpy(dst, &b, 4); break; }
    default: memcpy(dst, &x.u, 8);
    }
    return 0;
}

/* Fill value `v` (NULL or null: zeros) into m->fill / m->fill_str. */
static int parse_fill(zarr_meta *m, const cJSON *v, const char *name, const char *raw,
                      size_t rawlen)
{
    char *js = raw && rawlen ? strndup(raw, rawlen) /* as written, digits intact */
               : v ? cJSON_PrintUnformatted(v) : strdup("null");
    if (!js)
        return -ENOMEM;
    m->fill_json = js;
    if (m->dtype.kind == LSIO_DT_STRING) {
        const char *s = cJSON_IsString(v) ? v->valuestring : "";
        m->fill_str = strdup(s);
        m->fill_str_len = strlen(s);
        return m->fill_str ? 0 : -ENOMEM;
    }
    m->fill = calloc(1, m->itemsize ? m->itemsize : 1);
    if (!m->fill)
        return -ENOMEM;
    if (!v || cJSON_IsNull(v))
        return 0;
    lsio_dtype dt = m->dtype;
    int bad = 0;
    switch (dt.kind) {
    case LSIO_DT_BOOL:
        if (cJSON_IsBool(v))
            m->fill[0] = cJSON_IsTrue(v);
        else if (cJSON_IsNumber(v))
            m->fill[0] = v->valuedouble != 0;
        else
            bad = 1;
        break;
    case LSIO_DT_INT:
    case LSIO_DT_UINT:
        if ((bad = fill_int(v, dt, m->fill, raw, rawlen)) == -2)
            return lsio_error(-ERANGE,
                              "array %s: integer fill value %s past 2^53, and its exact text "
                              "is not at hand",
                              name, js);
        break;
    case LSIO_DT_FLOAT: bad = fill_float(v, dt.size, m->fill) < 0; break;
    case LSIO_DT_COMPLEX:
        if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2)
            bad = fill_float(cJSON_GetArrayItem(v, 0), dt.size / 2, m->fill) < 0 ||
                  fill_float(cJSON_GetArrayItem(v, 1), dt.size / 2, m->fill + dt.size / 2) < 0;
        else if (cJSON_IsNumber(v) || cJSON_IsString(v))
            bad = fill_float(v, dt.size / 2, m->fill) < 0;
        else
            bad = 1;
        break;
    case LSIO_DT_BYTES:
        if (cJSON_IsString(v))
            bad = m->zarr_format == 2 ? b64_decode(v->valuestring, m->fill, dt.size) < 0
                                      : (strncpy((char *)m->fill, v->valuestring, dt.size), 0);
        else if (cJSON_IsNumber(v) && v->valuedouble == 0)
            bad = 0;
        else if (cJSON_IsArray(v)) { /* v3 raw bits: one integer 0..255 per byte */
            bad = cJSON_GetArraySize(v) != (int)dt.size;
            for (int i = 0; i < (int)dt.size && !bad; i++) {
                const cJSON *b = cJSON_GetArrayItem(v, i);
                double x = cJSON_IsNumber(b) ? b->valuedouble : -1;
                bad = !(x >= 0 && x <= 255 && x == (double)(int)x);
                if (!bad)
                    m->fill[i] = (unsigned char)x;
            }
        } else
            bad = 1;
        break;
    case LSIO_DT_UNICODE:
        if (cJSON_IsString(v))
            utf8_to_ucs4(v->valuestring, (uint32_t *)(void *)m->fill, dt.size / 4);
        else if (!(cJSON_IsNumber(v) && v->valuedouble == 0))
            bad = 1;
        break;
    case LSIO_DT_STRING: break;
    }
    if (bad)
        return lsio_error(-LSIO_EFORMAT, "array %s: fill value %s does not fit the data type",
                          name, js);
    return 0;
}

/* ------------------------------------------------------------- shared bits */

static int parse_dims(const cJSON *a, unsigned *ndim, uint64_t *out, const char *what,
                      const char *name, int positive)
{
    if (!cJSON_IsArray(a))
        return lsio_error(-LSIO_EFORMAT, "array %s: %s is not a list", name, what);
    int n = cJSON_GetArraySize(a);
    if (n > ZMAX)
        return lsio_error(-LSIO_EUNSUPPORTED, "array %s: %d dimensions (at most %d)", name, n,
                          ZMAX);
    if (*ndim != (unsigned)-1 && (unsigned)n != *ndim)
        return lsio_error(-LSIO_EFORMAT, "array %s: %s has %d dimensions, not %u", name, what,
                          n, *ndim);
    *ndim = (unsigned)n;
    for (int i = 0; i < n; i++) {
        const cJSON *x = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsNumber(x) || x->valuedouble < (positive ? 1 : 0) ||
            x->valuedouble > 9007199254740992.0 || x->valuedouble != floor(x->valuedouble))
            return lsio_error(-LSIO_EFORMAT, "array %s: %s[%d] is not a %s integer", name, what,
                              i, positive ? "positive" : "non-negative");
        out[i] = (uint64_t)x->valuedouble;
    }
    return 0;
}

static int set_json(char **dst, const cJSON *v, const char *def)
{
    *dst = v ? cJSON_PrintUnformatted(v) : strdup(def);
    return *dst ? 0 : -ENOMEM;
}

static int make_codec(lsio_codec **out, const char *id, const cJSON *cfg, const char *name)
{
    char *js = cfg ? cJSON_PrintUnformatted(cfg) : NULL;
    if (cfg && !js)
        return -ENOMEM;
    int rc = lsio_codec_create(out, id, js);
    free(js);
    if (rc < 0)
        return lsio_error_wrap(rc, "array %s", name);
    return 0;
}

static void free_codecs(lsio_codec **c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lsio_codec_destroy(c[i]);
}

/* Finish the chain of codecs (encoding order) of one (inner) chunk. */
static int finish_chain(zarr_meta *m, lsio_codec **c, size_t n, const char *name)
{
    uint64_t elems = 1;
    for (unsigned d = 0; d < m->ndim; d++) {
        if (elems > (UINT64_MAX >> 1) / m->chunks[d])
            return lsio_error(-LSIO_EUNSUPPORTED, "array %s: chunks too large", name);
        elems *= m->chunks[d];
    }
    if (elems > ((uint64_t)1 << 40) / (m->itemsize ? m->itemsize : 1))
        return lsio_error(-LSIO_EUNSUPPORTED, "array %s: chunks of %" PRIu64 " elements too large",
                          name, elems);
    if (!m->sharded) { /* one unit per object: the read planner's view */
        m->n_inner = 1;
        for (unsigned d = 0; d < m->ndim; d++)
            m->per_shard[d] = 1;
    }
    lsio_chunk_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.ndim = m->ndim;
    memcpy(spec.shape, m->chunks, sizeof(uint64_t) * m->ndim);
    spec.dtype = m->dtype;
    spec.fortran_order = m->fortran_order;
    spec.fill = m->fill; /* what a nested shard's missing inner chunks read as */
    int rc = lsio_chain_create(&m->chain, c, n, &spec);
    if (rc < 0)
        return lsio_error_wrap(rc, "array %s: codecs", name);
    /* Raw: the stored bytes are the output bytes (native order; only a
     * bytes codec of native order, or none). */
    int native_big = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
    m->raw = m->dtype.size == 1 || m->dtype.kind == LSIO_DT_BYTES ||
             m->dtype.big_endian == native_big;
    for (size_t i = 0; i < n && m->raw; i++) {
        if (strcmp(lsio_codec_name(c[i]), "bytes")) {
            m->raw = 0;
            break;
        }
        char *cfg = lsio_codec_config_json(c[i]);
        if (cfg && strstr(cfg, native_big ? "little" : "big") && m->dtype.size > 1)
            m->raw = 0;
        free(cfg);
    }
    if (m->dtype.kind == LSIO_DT_UNICODE && m->dtype.big_endian != native_big)
        m->raw = 0;
    return 0;
}

static size_t itemsize_of(lsio_dtype d) { return d.kind == LSIO_DT_STRING ? 0 : d.size; }

/* ----------------------------------------------------------------- v2 */

int zarr_meta_v2(zarr_meta *m, const cJSON *za, const cJSON *zattrs, const char *name,
                 const char *fill_raw, size_t fill_rawlen)
{
    memset(m, 0, sizeof *m);
    m->zarr_format = 2;
    int rc;
    lsio_codec *codecs[64];
    size_t nc = 0;
    if (!cJSON_IsObject(za))
        return lsio_error(-LSIO_EFORMAT, "array %s: .zarray is not a JSON object", name);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(za, "zarr_format");
    if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 2)
        return lsio_error(-LSIO_EFORMAT, "array %s: zarr_format is not 2", name);
    m->ndim = (unsigned)-1;
    if ((rc = parse_dims(cJSON_GetObjectItemCaseSensitive(za, "shape"), &m->ndim, m->shape,
                         "shape", name, 0)) < 0 ||
        (rc = parse_dims(cJSON_GetObjectItemCaseSensitive(za, "chunks"), &m->ndim, m->chunks,
                         "chunks", name, 1)) < 0)
        goto fail;
    memcpy(m->outer, m->chunks, sizeof m->chunks);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(za, "dtype");
    if (!cJSON_IsString(dt)) {
        rc = lsio_error(cJSON_IsArray(dt) ? -LSIO_EUNSUPPORTED : -LSIO_EFORMAT,
                        "array %s: data type %s", name,
                        cJSON_IsArray(dt) ? "structured (a list)" : "missing");
        goto fail;
    }
    if ((rc = lsio_dtype_parse(dt->valuestring, &m->dtype)) < 0) {
        rc = lsio_error(rc, "array %s: data type \"%s\"", name, dt->valuestring);
        goto fail;
    }
    m->itemsize = itemsize_of(m->dtype);
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(za, "order");
    if (cJSON_IsString(order) && !strcmp(order->valuestring, "F"))
        m->fortran_order = 1;
    else if (order && !(cJSON_IsString(order) && !strcmp(order->valuestring, "C"))) {
        rc = lsio_error(-LSIO_EFORMAT, "array %s: order is not \"C\" or \"F\"", name);
        goto fail;
    }
    m->sep = '.';
    const cJSON *sep = cJSON_GetObjectItemCaseSensitive(za, "dimension_separator");
    if (cJSON_IsString(sep) && (!strcmp(sep->valuestring, "/") || !strcmp(sep->valuestring, ".")))
        m->sep = sep->valuestring[0];
    else if (sep && !cJSON_IsNull(sep)) {
        rc = lsio_error(-LSIO_EFORMAT, "array %s: dimension_separator is not \"/\" or \".\"",
                        name);
        goto fail;
    }
    const cJSON *filters = cJSON_GetObjectItemCaseSensitive(za, "filters");
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(za, "compressor");
    if (filters && !cJSON_IsNull(filters) && !cJSON_IsArray(filters)) {
        rc = lsio_error(-LSIO_EFORMAT, "array %s: filters is not a list", name);
        goto fail;
    }
    if (comp && !cJSON_IsNull(comp) && !cJSON_IsObject(comp)) {
        rc = lsio_error(-LSIO_EFORMAT, "array %s: compressor is not an object", name);
        goto fail;
    }
    /* codecs_json: {"compressor": ..., "filters": ...} */
    cJSON *cj = cJSON_CreateObject();
    if (!cj) {
        rc = -ENOMEM;
        goto fail;
    }
    cJSON_AddItemToObject(cj, "compressor", comp ? cJSON_Duplicate(comp, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(cj, "filters",
                          filters ? cJSON_Duplicate(filters, 1) : cJSON_CreateNull());
    m->codecs_json = cJSON_PrintUnformatted(cj);
    cJSON_Delete(cj);
    const cJSON *f, *flist = cJSON_IsArray(filters) ? filters : NULL;
    cJSON_ArrayForEach(f, flist)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "id");
        if (!cJSON_IsString(id)) {
            rc = lsio_error(-LSIO_EFORMAT, "array %s: a filter has no id", name);
            goto fail;
        }
        if (nc == 63) {
            rc = lsio_error(-LSIO_EUNSUPPORTED, "array %s: too many filters", name);
            goto fail;
        }
        if ((rc = make_codec(&codecs[nc], id->valuestring, f, name)) < 0)
            goto fail;
        nc++;
    }
    if (cJSON_IsObject(comp)) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(comp, "id");
        if (!cJSON_IsString(id)) {
            rc = lsio_error(-LSIO_EFORMAT, "array %s: the compressor has no id", name);
            goto fail;
        }
        if ((rc = make_codec(&codecs[nc], id->valuestring, comp, name)) < 0)
            goto fail;
        nc++;
    }
    if ((rc = parse_fill(m, cJSON_GetObjectItemCaseSensitive(za, "fill_value"), name, fill_raw,
                         fill_rawlen)) < 0)
        goto fail;
    if ((rc = set_json(&m->attrs_json, zattrs, "{}")) < 0)
        goto fail;
    if ((rc = finish_chain(m, codecs, nc, name)) < 0)
        goto fail;
    free_codecs(codecs, nc);
    return 0;
fail:
    free_codecs(codecs, nc);
    zarr_meta_free(m);
    return rc;
}

/* ----------------------------------------------------------------- v3 */

static const cJSON *obj(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Make codecs from a v3 list into c (cap entries); *n gets the count. */
static int v3_codecs(const cJSON *list, lsio_codec **c, size_t cap, size_t *n, const char *name)
{
    *n = 0;
    if (!cJSON_IsArray(list))
        return lsio_error(-LSIO_EFORMAT, "array %s: codecs is not a list", name);
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        const cJSON *nm = cJSON_IsString(e) ? e : obj(e, "name");
        if (!cJSON_IsString(nm))
            return lsio_error(-LSIO_EFORMAT, "array %s: a codec has no name", name);
        if (*n == cap)
            return lsio_error(-LSIO_EUNSUPPORTED, "array %s: too many codecs", name);
        const cJSON *cfg = cJSON_IsObject(e) ? obj(e, "configuration") : NULL;
        int rc = make_codec(&c[*n], nm->valuestring, cfg, name);
        if (rc < 0)
            return rc;
        (*n)++;
    }
    return 0;
}

static int v3_sharding(zarr_meta *m, const cJSON *cfg, lsio_codec **c, size_t cap, size_t *nc,
                       const char *name)
{
    unsigned nd = m->ndim;
    int rc;
    if ((rc = parse_dims(obj(cfg, "chunk_shape"), &nd, m->chunks, "sharding chunk_shape", name,
                         1)) < 0)
        return rc;
    m->n_inner = 1;
    for (unsigned d = 0; d < m->ndim; d++) {
        if (m->outer[d] % m->chunks[d])
            return lsio_error(-LSIO_EFORMAT,
                              "array %s: shard shape is not a multiple of the inner chunk shape "
                              "in dimension %u",
                              name, d);
        m->per_shard[d] = m->outer[d] / m->chunks[d];
        if (m->n_inner > (1ull << 26) / m->per_shard[d])
            return lsio_error(-LSIO_EUNSUPPORTED, "array %s: too many inner chunks per shard",
                              name);
        m->n_inner *= m->per_shard[d];
    }
    const cJSON *loc = obj(cfg, "index_location");
    if (cJSON_IsString(loc) && !strcmp(loc->valuestring, "start"))
        m->index_at_start = 1;
    else if (loc && !(cJSON_IsString(loc) && !strcmp(loc->valuestring, "end")))
        return lsio_error(-LSIO_EFORMAT, "array %s: index_location is not start or end", name);
    /* The index chain: (inner grid..., 2) of uint64. */
    lsio_codec *ic[16];
    size_t ni = 0;
    const cJSON *icl = obj(cfg, "index_codecs");
    if (icl) {
        if ((rc = v3_codecs(icl, ic, 16, &ni, name)) < 0) {
            free_codecs(ic, ni);
            return rc;
        }
    } else {
        rc = lsio_codec_create(&ic[0], "bytes", "{\"endian\":\"little\"}");
        if (rc < 0)
            return rc;
        ni = 1;
    }
    size_t extra = 0;
    for (size_t i = 0; i < ni; i++) {
        const char *cn = lsio_codec_name(ic[i]);
        if (!strcmp(cn, "crc32c"))
            extra += 4;
        else if (strcmp(cn, "bytes") && strcmp(cn, "transpose")) {
            /* the message first: cn belongs to the codec */
            rc = lsio_error(-LSIO_EUNSUPPORTED,
                            "array %s: shard index codec \"%s\" (its size must be fixed)", name,
                            cn);
            free_codecs(ic, ni);
            return rc;
        }
    }
    rc = lsio_shard_index_chain(&m->index_chain, ic, ni, m->ndim, m->per_shard);
    free_codecs(ic, ni);
    if (rc < 0)
        return lsio_error_wrap(rc, "array %s: shard index codecs", name);
    m->index_bytes = (size_t)m->n_inner * 16 + extra;
    const cJSON *inner = obj(cfg, "codecs");
    /* an inner sharding_indexed (shards of shards) is a codec of the inner
     * chain: the reader's inner chunks are then the nested shards, each
     * decoded whole by lib/codecs/sharding.c (bytes codecs may follow it) */
    return v3_codecs(inner, c, cap, nc, name);
}

int zarr_meta_v3(zarr_meta *m, const cJSON *j, const char *name, const char *fill_raw,
                 size_t fill_rawlen)
{
    memset(m, 0, sizeof *m);
    m->zarr_format = 3;
    int rc;
    lsio_codec *codecs[64];
    size_t nc = 0;
    if (!cJSON_IsObject(j))
        return lsio_error(-LSIO_EFORMAT, "array %s: zarr.json is not a JSON object", name);
    const cJSON *fmt = obj(j, "zarr_format"), *nt = obj(j, "node_type");
    if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 3)
        return lsio_error(-LSIO_EFORMAT, "array %s: zarr_format is not 3", name);
    if (!cJSON_IsString(nt) || strcmp(nt->valuestring, "array"))
        return lsio_error(-LSIO_EFORMAT, "array %s: node_type is not \"array\"", name);
    m->ndim = (unsigned)-1;
    if ((rc = parse_dims(obj(j, "shape"), &m->ndim, m->shape, "shape", name, 0)) < 0)
        goto fail;
    const cJSON *grid = obj(j, "chunk_grid"), *gname = obj(grid, "name");
    if (!cJSON_IsString(gname) || strcmp(gname->valuestring, "regular")) {
        rc = lsio_error(gname ? -LSIO_EUNSUPPORTED : -LSIO_EFORMAT,
                        "array %s: chunk grid %s (only \"regular\")", name,
                        cJSON_IsString(gname) ? gname->valuestring : "missing");
        goto fail;
    }
    if ((rc = parse_dims(obj(obj(grid, "configuration"), "chunk_shape"), &m->ndim, m->outer,
                         "chunk_shape", name, 1)) < 0)
        goto fail;
    memcpy(m->chunks, m->outer, sizeof m->chunks);
    const cJSON *dt = obj(j, "data_type");
    if (!cJSON_IsString(dt)) {
        rc = lsio_error(dt ? -LSIO_EUNSUPPORTED : -LSIO_EFORMAT, "array %s: data type %s", name,
                        dt ? "not a name" : "missing");
        goto fail;
    }
    if ((rc = lsio_dtype_parse(dt->valuestring, &m->dtype)) < 0 || dt->valuestring[0] == '<' ||
        dt->valuestring[0] == '>' || dt->valuestring[0] == '|') {
        rc = lsio_error(rc == -LSIO_EFORMAT || rc >= 0 ? -LSIO_EUNSUPPORTED : rc,
                        "array %s: data type \"%s\"", name, dt->valuestring);
        goto fail;
    }
    m->itemsize = itemsize_of(m->dtype);
    /* chunk keys */
    const cJSON *cke = obj(j, "chunk_key_encoding"), *ckn = obj(cke, "name");
    const cJSON *cks = obj(obj(cke, "configuration"), "separator");
    if (!cke || (cJSON_IsString(ckn) && !strcmp(ckn->valuestring, "default"))) {
        m->v3_default_keys = 1;
        m->sep = '/';
    } else if (cJSON_IsString(ckn) && !strcmp(ckn->valuestring, "v2")) {
        m->sep = '.';
    } else {
        rc = lsio_error(-LSIO_EUNSUPPORTED, "array %s: chunk key encoding %s", name,
                        cJSON_IsString(ckn) ? ckn->valuestring : "(no name)");
        goto fail;
    }
    if (cJSON_IsString(cks) && (!strcmp(cks->valuestring, "/") || !strcmp(cks->valuestring, ".")))
        m->sep = cks->valuestring[0];
    else if (cks) {
        rc = lsio_error(-LSIO_EFORMAT, "array %s: chunk key separator is not \"/\" or \".\"",
                        name);
        goto fail;
    }
    const cJSON *st = obj(j, "storage_transformers");
    if (cJSON_IsArray(st) && cJSON_GetArraySize(st) > 0) {
        rc = lsio_error(-LSIO_EUNSUPPORTED, "array %s: storage transformers", name);
        goto fail;
    }
    const cJSON *dn = obj(j, "dimension_names");
    if (cJSON_IsArray(dn)) {
        if ((unsigned)cJSON_GetArraySize(dn) != m->ndim) {
            rc = lsio_error(-LSIO_EFORMAT, "array %s: dimension_names has %d entries, not %u",
                            name, cJSON_GetArraySize(dn), m->ndim);
            goto fail;
        }
        for (unsigned d = 0; d < m->ndim; d++) {
            const cJSON *x = cJSON_GetArrayItem(dn, (int)d);
            if (cJSON_IsString(x) && !(m->dim_names[d] = strdup(x->valuestring))) {
                rc = -ENOMEM;
                goto fail;
            }
        }
    }
    const cJSON *cl = obj(j, "codecs");
    if ((rc = set_json(&m->codecs_json, cl, "[]")) < 0)
        goto fail;
    const cJSON *first = cJSON_GetArrayItem(cl, 0), *fname = obj(first, "name");
    if (cJSON_IsString(fname) && !strcmp(fname->valuestring, "sharding_indexed")) {
        if (cJSON_GetArraySize(cl) != 1) {
            rc = lsio_error(-LSIO_EUNSUPPORTED,
                            "array %s: codecs after \"sharding_indexed\"", name);
            goto fail;
        }
        m->sharded = 1;
        if ((rc = v3_sharding(m, obj(first, "configuration"), codecs, 64, &nc, name)) < 0)
            goto fail;
    } else if ((rc = v3_codecs(cl, codecs, 64, &nc, name)) < 0)
        goto fail;
    if ((rc = parse_fill(m, obj(j, "fill_value"), name, fill_raw, fill_rawlen)) < 0)
        goto fail;
    if ((rc = set_json(&m->attrs_json, obj(j, "attributes"), "{}")) < 0)
        goto fail;
    if ((rc = finish_chain(m, codecs, nc, name)) < 0)
        goto fail;
    free_codecs(codecs, nc);
    return 0;
fail:
    free_codecs(codecs, nc);
    zarr_meta_free(m);
    return rc;
}

/* The text of the top-level member `key` of the JSON object in t[0, n):
 * t[*off, *off + *len), or -1 when it is not there (or t is not such an
 * object; cJSON has already checked that it is valid JSON). Keys with
 * escapes do not match. */
static size_t json_ws(const char *t, size_t n, size_t i)
{
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    return i;
}

static size_t json_skip(const char *t, size_t n, size_t i) /* past one value */
{
    size_t depth = 0;
    do {
        if (i >= n)
            return n;
        if (t[i] == '"') {
            for (i++; i < n && t[i] != '"'; i++)
                if (t[i] == '\\')
                    i++;
            i++;
        } else if (t[i] == '{' || t[i] == '[') {
            depth++;
            i++;
        } else if (t[i] == '}' || t[i] == ']') {
            depth--;
            i++;
        } else if (depth) {
            i++;
        } else {
            while (i < n && !strchr(",}] \t\n\r", t[i]))
                i++;
        }
    } while (depth);
    return i;
}

static int json_top_raw(const char *t, size_t n, const char *key, size_t *off, size_t *len)
{
    size_t i = json_ws(t, n, 0), kl = strlen(key);
    if (i >= n || t[i] != '{')
        return -1;
    i = json_ws(t, n, i + 1);
    while (i < n && t[i] == '"') {
        size_t k0 = i + 1, k1 = json_skip(t, n, i) - 1; /* the key's text */
        i = json_ws(t, n, k1 + 1);
        if (i >= n || t[i] != ':')
            return -1;
        i = json_ws(t, n, i + 1);
        size_t end = json_skip(t, n, i);
        if (k1 - k0 == kl && !memcmp(t + k0, key, kl)) {
            *off = i;
            *len = end - i;
            return 0;
        }
        i = json_ws(t, n, end);
        if (i >= n || t[i] != ',')
            return -1;
        i = json_ws(t, n, i + 1);
    }
    return -1;
}

int zarr_meta_parse_text(zarr_meta *m, int zarr_format, const char *text, size_t len,
                         const char *attrs_text, size_t attrs_len, const char *name)
{
    memset(m, 0, sizeof *m);
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j)
        return lsio_error(-LSIO_EFORMAT, "array %s: %s is not valid JSON", name,
                          zarr_format == 2 ? ".zarray" : "zarr.json");
    cJSON *a = attrs_text ? cJSON_ParseWithLength(attrs_text, attrs_len) : NULL;
    if (attrs_text && !cJSON_IsObject(a)) {
        cJSON_Delete(j);
        cJSON_Delete(a);
        return lsio_error(-LSIO_EFORMAT, "array %s: .zattrs is not a JSON object", name);
    }
    size_t fo = 0, fl = 0;
    const char *raw = json_top_raw(text, len, "fill_value", &fo, &fl) == 0 ? text + fo : NULL;
    int rc = zarr_format == 2 ? zarr_meta_v2(m, j, a, name, raw, fl)
                              : zarr_meta_v3(m, j, name, raw, fl);
    cJSON_Delete(j);
    cJSON_Delete(a);
    return rc;
}
