/*
 * zw_value.c — the value side of the Zarr writer: data type names as each
 * format spells them, fill values (parsed from either format's JSON into one
 * native element, and written back in the target format's spelling), and
 * the "is this chunk all fill value?" test that decides whether a chunk is
 * stored.
 *
 * Fill value spellings (Zarr v2 spec / zarr-python 2.13, Zarr v3 spec):
 * numbers; "NaN", "Infinity", "-Infinity" for floats; v3 hex "0x7fc00000"
 * (the raw bits); [re, im] for complex; true/false; base64 for v2 fixed
 * bytes; a string for v2 unicode; null (v2 only: no fill value).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zw_internal.h"

int zw_dtype_v2(lsio_dtype d, char *buf, size_t len)
{
    char order = d.big_endian ? '>' : '<';
    char k;
    uint32_t n = d.size;
    switch (d.kind) {
    case LSIO_DT_BOOL: k = 'b'; order = '|'; break;
    case LSIO_DT_INT: k = 'i'; break;
    case LSIO_DT_UINT: k = 'u'; break;
    case LSIO_DT_FLOAT: k = 'f'; break;
    case LSIO_DT_COMPLEX: k = 'c'; break;
    case LSIO_DT_BYTES: k = 'S'; order = '|'; break;
    case LSIO_DT_UNICODE: k = 'U'; n /= 4; break;
    case LSIO_DT_STRING: snprintf(buf, len, "|O"); return 0;
    default: return -LSIO_EUNSUPPORTED;
    }
    if (d.size == 1 && k != 'S')
        order = '|';
    snprintf(buf, len, "%c%c%u", order, k, n);
    return 0;
}

const char *zw_dtype_v3(lsio_dtype d)
{
    switch (d.kind) {
    case LSIO_DT_BOOL: return d.size == 1 ? "bool" : NULL;
    case LSIO_DT_INT:
        return d.size == 1 ? "int8" : d.size == 2 ? "int16" : d.size == 4 ? "int32"
             : d.size == 8 ? "int64" : NULL;
    case LSIO_DT_UINT:
        return d.size == 1 ? "uint8" : d.size == 2 ? "uint16" : d.size == 4 ? "uint32"
             : d.size == 8 ? "uint64" : NULL;
    case LSIO_DT_FLOAT:
        return d.size == 2 ? "float16" : d.size == 4 ? "float32" : d.size == 8 ? "float64" : NULL;
    case LSIO_DT_COMPLEX: return d.size == 8 ? "complex64" : d.size == 16 ? "complex128" : NULL;
    case LSIO_DT_STRING: return "string";
    default: return NULL;
    }
}

size_t zw_itemsize(lsio_dtype d) { return d.kind == LSIO_DT_STRING ? sizeof(zw_str) : d.size; }

/* ---------------------------------------------------------- half floats */

static uint16_t f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xff, man = x & 0x7fffff;
    if (exp == 0xff)
        return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t h = man >> shift;
        if ((man >> (shift - 1)) & 1)
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = sign | ((uint32_t)e << 10) | (man >> 13);
    if (man & 0x1000)
        h++; /* round half up; carries into the exponent correctly */
    return (uint16_t)h;
}

static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    float f;
    if (exp == 0)
        f = ldexpf((float)man, -24);
    else if (exp == 31)
        f = man ? NAN : INFINITY;
    else
        f = ldexpf((float)(man | 0x400), (int)exp - 25);
    uint32_t x;
    memcpy(&x, &f, 4);
    x |= sign;
    memcpy(&f, &x, 4);
    return f;
}

/* ---------------------------------------------------------------- base64 */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *p, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1), *o = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? B64[v & 63] : '=';
    }
    *o = '\0';
    return s;
}

static int b64_decode(const char *s, unsigned char *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; *s && *s != '='; s++) {
        const char *q = strchr(B64, *s);
        if (!q || !*s)
            return -LSIO_EFORMAT;
        acc = acc << 6 | (uint32_t)(q - B64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -LSIO_EFORMAT;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return 0;
}

/* ---------------------------------------------------------- fill values */

static int float_from_json(const cJSON *j, unsigned size, void *out)
{
    double v;
    if (cJSON_IsNumber(j)) {
        v = j->valuedouble;
    } else if (cJSON_IsString(j)) {
        const char *s = j->valuestring;
        if (!strcmp(s, "NaN"))
            v = NAN;
        else if (!strcmp(s, "Infinity"))
            v = INFINITY;
        else if (!strcmp(s, "-Infinity"))
            v = -INFINITY;
        else if (!strncmp(s, "0x", 2) && strlen(s) == 2 + 2 * size) {
            uint64_t bits = strtoull(s + 2, NULL, 16);
            if (size == 2) {
                uint16_t b = (uint16_t)bits;
                memcpy(out, &b, 2);
            } else if (size == 4) {
                uint32_t b = (uint32_t)bits;
                memcpy(out, &b, 4);
            } else {
                memcpy(out, &bits, 8);
            }
            return 0;
        } else {
            return -LSIO_EFORMAT;
        }
    } else {
        return -LSIO_EFORMAT;
    }
    if (size == 2) {
        uint16_t h = f32_to_f16((float)v);
        memcpy(out, &h, 2);
    } else if (size == 4) {
        float f = (float)v;
        memcpy(out, &f, 4);
    } else {
        memcpy(out, &v, 8);
    }
    return 0;
}

static double float_value(const void *p, unsigned size)
{
    if (size == 2) {
        uint16_t h;
        memcpy(&h, p, 2);
        return f16_to_f32(h);
    }
    if (size == 4) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    double d;
    memcpy(&d, p, 8);
    return d;
}

/* UTF-8 text into UCS-4 code points (zero padded to n). */
static int utf8_to_ucs4(const unsigned char *s, uint32_t *out, size_t n)
{
    size_t k = 0;
    while (*s) {
        uint32_t c = *s++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        if (more)
            c &= 0x3fu >> more;
        for (; more; more--) {
            if ((*s & 0xc0) != 0x80)
                return -LSIO_EFORMAT;
            c = c << 6 | (*s++ & 0x3f);
        }
        if (k >= n)
            return -LSIO_EFORMAT;
        out[k++] = c;
    }
    return 0;
}

int zw_fill_parse(lsio_dtype d, const char *json, void *elem, int *is_null)
{
    size_t size = zw_itemsize(d);
    *is_null = 0;
    if (size)
        memset(elem, 0, size);
    if (!json)
        return 0;
    cJSON *j = cJSON_Parse(json);
    if (!j)
        return lsio_error(-LSIO_EFORMAT, "fill value %s: not JSON", json);
    int rc = 0;
    if (cJSON_IsNull(j)) {
        *is_null = 1;
        goto out;
    }
    switch (d.kind) {
    case LSIO_DT_BOOL:
        if (cJSON_IsBool(j))
            *(unsigned char *)elem = cJSON_IsTrue(j);
        else if (cJSON_IsNumber(j))
            *(unsigned char *)elem = j->valuedouble != 0;
        else
            rc = -LSIO_EFORMAT;
        break;
    case LSIO_DT_INT:
    case LSIO_DT_UINT: {
        if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble)) {
            rc = -LSIO_EFORMAT;
            break;
        }
        double v = j->valuedouble;
        int sg = d.kind == LSIO_DT_INT;
        unsigned bits = (unsigned)(8 * size);
        uint64_t u;
        /* A plain integer literal is read from its text: exact past 2^53,
         * where the double is not (2^53 + 1 would be written as 2^53). */
        int tr = lsio_parse_int_text(json, strlen(json), sg, bits, &u);
        if (tr == -ERANGE) {
            rc = -ERANGE;
            break;
        }
        if (tr == -EINVAL) {
            /* other spellings (1e3, 5.0): through the double, range first */
            double lo = sg ? -ldexp(1, (int)bits - 1) : 0;
            double top = sg ? ldexp(1, (int)bits - 1) : ldexp(1, (int)bits);
            /* 2^64 is where UINT64_MAX's double lands: the only top let in */
            if (v < lo || v > top || (v == top && (sg || bits < 64))) {
                rc = -ERANGE;
                break;
            }
            u = sg ? (uint64_t)(int64_t)v : v == top ? UINT64_MAX : (uint64_t)v;
        }
        switch (size) { /* little-endian machine: the low bytes first */
        case 1: { uint8_t x = (uint8_t)u; memcpy(elem, &x, 1); break; }
        case 2: { uint16_t x = (uint16_t)u; memcpy(elem, &x, 2); break; }
        case 4: { uint32_t x = (uint32_t)u; memcpy(elem, &x, 4); break; }
        default: memcpy(elem, &u, 8);
        }
        break;
    }
    case LSIO_DT_FLOAT:
        rc = float_from_json(j, (unsigned)size, elem);
        break;
    case LSIO_DT_COMPLEX:
        if (cJSON_IsArray(j) && cJSON_GetArraySize(j) == 2) {
            rc = float_from_json(cJSON_GetArrayItem(j, 0), (unsigned)size / 2, elem);
            if (!rc)
                rc = float_from_json(cJSON_GetArrayItem(j, 1), (unsigned)size / 2,
                                     (char *)elem + size / 2);
        } else {
            rc = float_from_json(j, (unsigned)size / 2, elem);
        }
        break;
    case LSIO_DT_BYTES:
        rc = cJSON_IsString(j) ? b64_decode(j->valuestring, elem, size) : -LSIO_EFORMAT;
        break;
    case LSIO_DT_UNICODE:
        rc = cJSON_IsString(j) ? utf8_to_ucs4((const unsigned char *)j->valuestring, elem, size / 4)
                               : -LSIO_EFORMAT;
        break;
    case LSIO_DT_STRING: /* zw_adopt_spec keeps the text */
        rc = cJSON_IsString(j) || cJSON_IsNumber(j) ? 0 : -LSIO_EFORMAT;
        break;
    }
out:
    cJSON_Delete(j);
    if (rc < 0)
        return lsio_error(rc, "fill value %s", json);
    return 0;
}

static cJSON *float_json(const void *p, unsigned size)
{
    double v = float_value(p, size);
    if (isnan(v))
        return cJSON_CreateString("NaN");
    if (isinf(v))
        return cJSON_CreateString(v > 0 ? "Infinity" : "-Infinity");
    char buf[40];
    if (size == 8)
        snprintf(buf, sizeof buf, "%.17g", v);
    else
        snprintf(buf, sizeof buf, "%.9g", v);
    if (!strpbrk(buf, ".eE")) /* keep it a float in zarr-python's eyes */
        strcat(buf, ".0");
    return cJSON_CreateRaw(buf);
}

char *zw_fill_json(lsio_dtype d, const void *elem, int is_null, int zarr_format)
{
    cJSON *j = NULL;
    size_t size = zw_itemsize(d);
    char buf[48];
    if (is_null && zarr_format == 2)
        return strdup("null");
    switch (d.kind) {
    case LSIO_DT_BOOL: j = cJSON_CreateBool(*(const unsigned char *)elem); break;
    case LSIO_DT_INT: {
        int64_t v = 0;
        switch (size) {
        case 1: { int8_t x; memcpy(&x, elem, 1); v = x; break; }
        case 2: { int16_t x; memcpy(&x, elem, 2); v = x; break; }
        case 4: { int32_t x; memcpy(&x, elem, 4); v = x; break; }
        default: memcpy(&v, elem, 8);
        }
        snprintf(buf, sizeof buf, "%" PRId64, v);
        j = cJSON_CreateRaw(buf);
        break;
    }
    case LSIO_DT_UINT: {
        uint64_t v = 0;
        memcpy(&v, elem, size); /* little-endian machine */
        snprintf(buf, sizeof buf, "%" PRIu64, v);
        j = cJSON_CreateRaw(buf);
        break;
    }
    case LSIO_DT_FLOAT: j = float_json(elem, (unsigned)size); break;
    case LSIO_DT_COMPLEX:
        j = cJSON_CreateArray();
        if (j) {
            cJSON_AddItemToArray(j, float_json(elem, (unsigned)size / 2));
            cJSON_AddItemToArray(j, float_json((const char *)elem + size / 2, (unsigned)size / 2));
        }
        break;
    case LSIO_DT_BYTES: {
        char *s = b64_encode(elem, size);
        j = s ? cJSON_CreateString(s) : NULL;
        free(s);
        break;
    }
    case LSIO_DT_UNICODE: {
        const uint32_t *u = elem;
        size_t n = size / 4, k = 0;
        char *s = malloc(4 * n + 1);
        if (!s)
            return NULL;
        for (size_t i = 0; i < n && u[i]; i++) {
            uint32_t c = u[i];
            if (c < 0x80) {
                s[k++] = (char)c;
            } else if (c < 0x800) {
                s[k++] = (char)(0xc0 | c >> 6);
                s[k++] = (char)(0x80 | (c & 63));
            } else if (c < 0x10000) {
                s[k++] = (char)(0xe0 | c >> 12);
                s[k++] = (char)(0x80 | ((c >> 6) & 63));
                s[k++] = (char)(0x80 | (c & 63));
            } else {
                s[k++] = (char)(0xf0 | c >> 18);
                s[k++] = (char)(0x80 | ((c >> 12) & 63));
                s[k++] = (char)(0x80 | ((c >> 6) & 63));
                s[k++] = (char)(0x80 | (c & 63));
            }
        }
        s[k] = '\0';
        j = cJSON_CreateString(s);
        free(s);
        break;
    }
    case LSIO_DT_STRING: {
        const zw_str *s = elem;
        char *t = strndup(s->p ? s->p : "", (size_t)s->n);
        j = t ? cJSON_CreateString(t) : NULL;
        free(t);
        break;
    }
    }
    if (!j)
        return NULL;
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}

/* ------------------------------------------------------------ fill tests */

static int all_zero(const unsigned char *p, size_t n)
{
    if (n == 0)
        return 1;
    return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

int zw_all_fill(const lsio_zwrite_array *a, const void *buf, size_t n)
{
    if (a->fill_null)
        return 0;
    size_t is = a->itemsize;
    if (a->strings) {
        const zw_str *s = buf, *f = (const zw_str *)a->fill;
        for (size_t i = 0; i < n; i++)
            if (s[i].n != f->n || (f->n && memcmp(s[i].p, f->p, f->n)))
                return 0;
        return 1;
    }
    const unsigned char *p = buf;
    if (a->fill_nan) { /* a float or complex fill with a NaN part */
        unsigned part = a->spec.dtype.kind == LSIO_DT_COMPLEX ? (unsigned)is / 2 : (unsigned)is;
        for (size_t i = 0; i < n * is; i += part) {
            double f = float_value(a->fill + (i % is), part), v = float_value(p + i, part);
            if (isnan(f) ? !isnan(v) : v != f)
                return 0;
        }
        return 1;
    }
    if (all_zero(a->fill, is))
        return all_zero(p, n * is);
    for (size_t i = 0; i < n; i++)
        if (memcmp(p + i * is, a->fill, is))
            return 0;
    return 1;
}

void zw_fill_elems(const lsio_zwrite_array *a, void *buf, size_t n)
{
    size_t is = a->itemsize, total = n * is;
    if (!total)
        return;
    if (all_zero(a->fill, is)) {
        memset(buf, 0, total);
        return;
    }
    memcpy(buf, a->fill, is);
    for (size_t have = is; have < total;) {
        size_t c = have < total - have ? have : total - have;
        memcpy((char *)buf + have, buf, c);
        have += c;
    }
}
