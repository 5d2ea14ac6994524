/*
 * dtype.c — data types as Zarr spells them: numpy type strings (v2: "<f4",
 * ">i8", "|b1", "|S7", "<U13", "|O") and the v3 names ("float32", "bool",
 * "complex64", "string", "r16"), parsed into one small struct, and printed
 * back as the numpy string in native (little-endian) order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsio_codecs.h"

static const struct {
    const char *name;
    lsio_dtype_kind kind;
    uint32_t size;
} v3_names[] = {
    {"bool", LSIO_DT_BOOL, 1},        {"int8", LSIO_DT_INT, 1},
    {"int16", LSIO_DT_INT, 2},        {"int32", LSIO_DT_INT, 4},
    {"int64", LSIO_DT_INT, 8},        {"uint8", LSIO_DT_UINT, 1},
    {"uint16", LSIO_DT_UINT, 2},      {"uint32", LSIO_DT_UINT, 4},
    {"uint64", LSIO_DT_UINT, 8},      {"float16", LSIO_DT_FLOAT, 2},
    {"float32", LSIO_DT_FLOAT, 4},    {"float64", LSIO_DT_FLOAT, 8},
    {"complex64", LSIO_DT_COMPLEX, 8}, {"complex128", LSIO_DT_COMPLEX, 16},
    {"string", LSIO_DT_STRING, 0},
};

static int size_ok(lsio_dtype_kind k, unsigned long n)
{
    switch (k) {
    case LSIO_DT_BOOL: return n == 1;
    case LSIO_DT_INT:
    case LSIO_DT_UINT: return n == 1 || n == 2 || n == 4 || n == 8;
    case LSIO_DT_FLOAT: return n == 2 || n == 4 || n == 8;
    case LSIO_DT_COMPLEX: return n == 8 || n == 16;
    case LSIO_DT_BYTES: return n >= 1 && n <= (1ul << 30);
    case LSIO_DT_UNICODE: return n >= 1 && n <= (1ul << 28);
    case LSIO_DT_STRING: return 1;
    }
    return 0;
}

int lsio_dtype_parse(const char *s, lsio_dtype *out)
{
    if (!s || !out)
        return -EINVAL;
    for (size_t i = 0; i < sizeof v3_names / sizeof v3_names[0]; i++)
        if (!strcmp(s, v3_names[i].name)) {
            *out = (lsio_dtype){v3_names[i].kind, v3_names[i].size, 0};
            return 0;
        }
    /* v3 raw bits "r8", "r16", ...: opaque bytes */
    if (s[0] == 'r' && s[1] >= '1' && s[1] <= '9') {
        char *end;
        unsigned long bits = strtoul(s + 1, &end, 10);
        if (*end || bits % 8 || !size_ok(LSIO_DT_BYTES, bits / 8))
            return lsio_error(-LSIO_EFORMAT, "data type \"%s\"", s);
        *out = (lsio_dtype){LSIO_DT_BYTES, (uint32_t)(bits / 8), 0};
        return 0;
    }
    const char *p = s;
    int big = 0;
    if (*p == '<' || *p == '|' || *p == '=')
        p++;
    else if (*p == '>') {
        big = 1;
        p++;
    }
    char k = *p++;
    if (k == 'O' && *p == '\0') {
        *out = (lsio_dtype){LSIO_DT_STRING, 0, 0};
        return 0;
    }
    lsio_dtype_kind kind;
    switch (k) {
    case 'b': kind = LSIO_DT_BOOL; break;
    case 'i': kind = LSIO_DT_INT; break;
    case 'u': kind = LSIO_DT_UINT; break;
    case 'f': kind = LSIO_DT_FLOAT; break;
    case 'c': kind = LSIO_DT_COMPLEX; break;
    case 'S': kind = LSIO_DT_BYTES; break;
    case 'U': kind = LSIO_DT_UNICODE; break;
    default: return lsio_error(-LSIO_EUNSUPPORTED, "data type \"%s\"", s);
    }
    if (*p < '0' || *p > '9')
        return lsio_error(-LSIO_EFORMAT, "data type \"%s\"", s);
    char *end;
    unsigned long n = strtoul(p, &end, 10);
    if (*end)
        return lsio_error(-LSIO_EFORMAT, "data type \"%s\"", s);
    if (kind == LSIO_DT_UNICODE) {
        if (!size_ok(kind, n))
            return lsio_error(-LSIO_EFORMAT, "data type \"%s\"", s);
        n *= 4;
    } else if (!size_ok(kind, n)) {
        return lsio_error(-LSIO_EFORMAT, "data type \"%s\": bad size", s);
    }
    out->kind = kind;
    out->size = (uint32_t)n;
    /* byte order means nothing for single bytes and byte strings */
    out->big_endian = (kind == LSIO_DT_BYTES || n == 1) ? 0 : big;
    return 0;
}

const char *lsio_dtype_str(lsio_dtype d, char *buf, size_t len)
{
    static const char kc[] = {'b', 'i', 'u', 'f', 'c', 'S', 'U', 'O'};
    if (!buf || len == 0)
        return "";
    if (d.kind == LSIO_DT_STRING) {
        snprintf(buf, len, "|O");
        return buf;
    }
    if ((unsigned)d.kind > LSIO_DT_STRING) {
        snprintf(buf, len, "?");
        return buf;
    }
    char order = (d.size == 1 || d.kind == LSIO_DT_BYTES) ? '|' : '<';
    unsigned n = d.kind == LSIO_DT_UNICODE ? d.size / 4 : d.size;
    snprintf(buf, len, "%c%c%u", order, kc[d.kind], n);
    return buf;
}
