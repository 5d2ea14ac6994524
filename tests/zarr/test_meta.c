/*
 * test_meta.c — metadata as the specs write it: fill values ("NaN",
 * "Infinity", "-Infinity", hex-encoded float bits, null, complex pairs,
 * bool, base64 bytes for v2 "|S", strings for "<U") become the element a
 * missing chunk reads as; errors: no array (-ENOENT naming the URL), bad
 * JSON and bad fields (-LSIO_EFORMAT), an unknown codec or data type
 * (-LSIO_EUNSUPPORTED naming the array and the codec or type); groups list
 * their members from consolidated metadata or by listing; probe tells
 * arrays from groups.
 */
#include <math.h>

#include "zarr_testutil.h"

static char dir[4200];
static const char *tmp;
static int serial;

static lsio_zarr_array *open_v3(const char *dtype, const char *fill)
{
    snprintf(dir, sizeof dir, "%s/m%d.zarr", tmp, serial++);
    zt_text(dir, "zarr.json",
            "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [3],"
            " \"data_type\": \"%s\", \"chunk_grid\": {\"name\": \"regular\","
            " \"configuration\": {\"chunk_shape\": [2]}}, \"chunk_key_encoding\":"
            " {\"name\": \"default\"}, \"fill_value\": %s, \"codecs\": [{\"name\": \"bytes\","
            " \"configuration\": {\"endian\": \"little\"}}]}",
            dtype, fill);
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_open(&a, dir, NULL));
    return a;
}

static lsio_zarr_array *open_v2(const char *dtype, const char *fill)
{
    snprintf(dir, sizeof dir, "%s/m%d.zarr", tmp, serial++);
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [3], \"chunks\": [2], \"dtype\": \"%s\","
            " \"compressor\": null, \"fill_value\": %s, \"filters\": null, \"order\": \"C\"}",
            dtype, fill);
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_open(&a, dir, NULL));
    return a;
}

/* The array (all chunks missing) reads as its fill value everywhere. */
static void check_fill(lsio_zarr_array *a, const void *want, size_t size)
{
    unsigned char out[3 * 64], f[64];
    CHECK(size <= 64);
    CHECK_EQ(lsio_zarr_itemsize(a), size);
    lsio_zarr_fill_value(a, f);
    CHECK(!memcmp(f, want, size));
    CHECK_OK(lsio_zarr_read(a, NULL, out, 3 * size));
    for (int i = 0; i < 3; i++)
        CHECK(!memcmp(out + i * size, want, size));
    lsio_zarr_close(a);
}

static void open_fails(int want, const char *needle1, const char *needle2)
{
    lsio_zarr_array *a = NULL;
    zt_expect(lsio_zarr_open(&a, dir, NULL), want, needle1, needle2, NULL);
    CHECK(a == NULL);
}

int main(void)
{
    tmp = test_tmpdir("zarr_meta");
    float f;
    double d;
    uint32_t u32;
    f = NAN;
    lsio_zarr_array *a = open_v3("float32", "\"NaN\"");
    float nf;
    lsio_zarr_fill_value(a, &nf);
    CHECK(isnan(nf));
    lsio_zarr_close(a);
    u32 = 0x7fc00001; /* hex keeps the exact bits */
    check_fill(open_v3("float32", "\"0x7fc00001\""), &u32, 4);
    f = INFINITY;
    check_fill(open_v3("float32", "\"Infinity\""), &f, 4);
    d = -INFINITY;
    check_fill(open_v3("float64", "\"-Infinity\""), &d, 8);
    d = -2.5;
    check_fill(open_v3("float64", "-2.5"), &d, 8);
    uint16_t h = 0x3e00; /* 1.5 as float16 */
    check_fill(open_v3("float16", "1.5"), &h, 2);
    float cpx[2] = {1.0f, -INFINITY};
    check_fill(open_v3("complex64", "[1.0, \"-Infinity\"]"), cpx, 8);
    unsigned char t = 1;
    check_fill(open_v3("bool", "true"), &t, 1);
    int64_t i64 = -1234567890123;
    check_fill(open_v3("int64", "-1234567890123"), &i64, 8);
    uint16_t u16 = 65535;
    check_fill(open_v3("uint16", "65535"), &u16, 2);
    unsigned char bits[2] = {0x12, 0xff}; /* v3 raw bits: one number per byte */
    check_fill(open_v3("r16", "[18, 255]"), bits, 2);
    /* ... each an integer 0..255, as many as the type's bytes */
    static const char *bad_bits[] = {"[18, 256]", "[-1, 0]", "[1.5, 0]", "[1e300, 0]",
                                     "[\"1\", 0]", "[1]", "[1, 2, 3]", "[null, 0]"};
    for (size_t i = 0; i < sizeof bad_bits / sizeof *bad_bits; i++) {
        snprintf(dir, sizeof dir, "%s/bits%zu.zarr", tmp, i);
        zt_text(dir, "zarr.json",
                "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [3],"
                " \"data_type\": \"r16\", \"chunk_grid\": {\"name\": \"regular\","
                " \"configuration\": {\"chunk_shape\": [2]}}, \"chunk_key_encoding\":"
                " {\"name\": \"default\"}, \"fill_value\": %s, \"codecs\": [{\"name\":"
                " \"bytes\"}]}",
                bad_bits[i]);
        open_fails(-LSIO_EFORMAT, "fill value", dir);
    }
    /* v2 */
    i64 = 0;
    check_fill(open_v2("<i8", "null"), &i64, 8);
    d = 3.25;
    check_fill(open_v2(">f8", "3.25"), &d, 8);
    check_fill(open_v2("|S4", "\"YWJj\""), "abc\0", 4); /* base64 of "abc" */
    uint32_t ucs[3] = {'h', 0xe9, 0};
    check_fill(open_v2("<U3", "\"h\xc3\xa9\""), ucs, 12);
    double cd[2] = {0.5, -1.0};
    check_fill(open_v2("<c16", "[0.5, -1.0]"), cd, 16);

    /* Errors. */
    snprintf(dir, sizeof dir, "%s/nothing", tmp);
    open_fails(-ENOENT, dir, NULL);
    snprintf(dir, sizeof dir, "%s/badjson.zarr", tmp);
    zt_text(dir, ".zarray", "{\"zarr_format\": 2, \"shape\": [3");
    open_fails(-LSIO_EFORMAT, dir, ".zarray");
    snprintf(dir, sizeof dir, "%s/badshape.zarr", tmp);
    zt_text(dir, "zarr.json", "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [-1],"
                              " \"data_type\": \"int8\", \"chunk_grid\": {\"name\": \"regular\","
                              " \"configuration\": {\"chunk_shape\": [2]}}, \"codecs\": [],"
                              " \"fill_value\": 0}");
    open_fails(-LSIO_EFORMAT, dir, "shape");
    snprintf(dir, sizeof dir, "%s/codec.zarr", tmp);
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [3], \"chunks\": [2], \"dtype\": \"<i4\","
            " \"compressor\": {\"id\": \"frobnicate\"}, \"fill_value\": 0, \"filters\": null}");
    open_fails(-LSIO_EUNSUPPORTED, dir, "frobnicate");
    snprintf(dir, sizeof dir, "%s/dtype.zarr", tmp);
    zt_text(dir, "zarr.json", "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [3],"
                              " \"data_type\": \"int3\", \"chunk_grid\": {\"name\": \"regular\","
                              " \"configuration\": {\"chunk_shape\": [2]}}, \"codecs\": [],"
                              " \"fill_value\": 0}");
    open_fails(-LSIO_EUNSUPPORTED, dir, "int3");
    /* a shard index that could not have a fixed size: the codec named
     * (the name is read before the codec is freed: ASan checks it) */
    snprintf(dir, sizeof dir, "%s/index.zarr", tmp);
    zt_text(dir, "zarr.json", "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [4],"
                              " \"data_type\": \"int16\", \"chunk_grid\": {\"name\": \"regular\","
                              " \"configuration\": {\"chunk_shape\": [2]}}, \"fill_value\": 0,"
                              " \"codecs\": [{\"name\": \"sharding_indexed\", \"configuration\": {"
                              " \"chunk_shape\": [1], \"codecs\": [{\"name\": \"bytes\"}],"
                              " \"index_codecs\": [{\"name\": \"bytes\"}, {\"name\": \"gzip\","
                              " \"configuration\": {\"level\": 1}}]}}]}");
    open_fails(-LSIO_EUNSUPPORTED, dir, "shard index codec \"gzip\"");
    snprintf(dir, sizeof dir, "%s/struct.zarr", tmp);
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [3], \"chunks\": [2], \"dtype\": [[\"a\", \"<i4\"]],"
            " \"compressor\": null, \"fill_value\": 0, \"filters\": null}");
    open_fails(-LSIO_EUNSUPPORTED, dir, "structured");
    snprintf(dir, sizeof dir, "%s/fill.zarr", tmp);
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [3], \"chunks\": [2], \"dtype\": \"<i4\","
            " \"compressor\": null, \"fill_value\": \"NaN\", \"filters\": null}");
    open_fails(-LSIO_EFORMAT, dir, "fill value");

    /* Groups: v2 listed, v3 consolidated inline; probe. */
    snprintf(dir, sizeof dir, "%s/g2", tmp);
    zt_text(dir, ".zgroup", "{\"zarr_format\": 2}");
    zt_text(dir, ".zattrs", "{\"title\": \"t\"}");
    zt_text(dir, "sub/.zgroup", "{\"zarr_format\": 2}");
    zt_text(dir, "arr/.zarray",
            "{\"zarr_format\": 2, \"shape\": [3], \"chunks\": [2], \"dtype\": \"<i2\","
            " \"compressor\": null, \"fill_value\": 5, \"filters\": null}");
    lsio_zarr_node kind;
    int fmt;
    CHECK_OK(lsio_zarr_probe(dir, NULL, &kind, &fmt));
    CHECK(kind == LSIO_ZARR_GROUP && fmt == 2);
    lsio_zarr_group *g;
    CHECK_OK(lsio_zarr_group_open(&g, dir, NULL));
    CHECK_EQ(lsio_zarr_group_count(g), 2);
    CHECK(!strcmp(lsio_zarr_group_name(g, 0), "arr"));
    CHECK(lsio_zarr_group_kind(g, 0) == LSIO_ZARR_ARRAY);
    CHECK(lsio_zarr_group_kind(g, 1) == LSIO_ZARR_GROUP);
    CHECK(strstr(lsio_zarr_group_attrs(g), "title"));
    CHECK_OK(lsio_zarr_group_open_array(g, "arr", &a));
    int16_t five = 5;
    check_fill(a, &five, 2);
    lsio_zarr_group_close(g);
    char sub[4300];
    snprintf(sub, sizeof sub, "%s/arr", dir);
    CHECK_OK(lsio_zarr_probe(sub, NULL, &kind, &fmt));
    CHECK(kind == LSIO_ZARR_ARRAY && fmt == 2);
    snprintf(sub, sizeof sub, "%s/none", dir);
    CHECK_OK(lsio_zarr_probe(sub, NULL, &kind, &fmt));
    CHECK(kind == LSIO_ZARR_MISSING);

    snprintf(dir, sizeof dir, "%s/g3", tmp);
    zt_text(dir, "zarr.json",
            "{\"zarr_format\": 3, \"node_type\": \"group\", \"attributes\": {},"
            " \"consolidated_metadata\": {\"kind\": \"inline\", \"metadata\": {"
            " \"x\": {\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [3],"
            " \"data_type\": \"int8\", \"chunk_grid\": {\"name\": \"regular\","
            " \"configuration\": {\"chunk_shape\": [3]}}, \"chunk_key_encoding\":"
            " {\"name\": \"default\"}, \"fill_value\": -3, \"codecs\": [{\"name\": \"bytes\"}]},"
            " \"h\": {\"zarr_format\": 3, \"node_type\": \"group\", \"attributes\": {}},"
            " \"h/y\": {\"zarr_format\": 3, \"node_type\": \"group\"}}}}");
    CHECK_OK(lsio_zarr_group_open(&g, dir, NULL));
    CHECK_EQ(lsio_zarr_group_format(g), 3);
    CHECK_EQ(lsio_zarr_group_count(g), 2);
    CHECK(!strcmp(lsio_zarr_group_name(g, 1), "x"));
    CHECK_OK(lsio_zarr_group_open_array(g, "x", &a)); /* no zarr.json on disk: consolidated */
    int8_t m3 = -3;
    check_fill(a, &m3, 1);
    lsio_zarr_group *hg;
    CHECK_OK(lsio_zarr_group_open_group(g, "h", &hg)); /* no h/zarr.json on disk */
    CHECK_EQ(lsio_zarr_group_count(hg), 1);
    CHECK(!strcmp(lsio_zarr_group_name(hg, 0), "y"));
    CHECK(lsio_zarr_group_kind(hg, 0) == LSIO_ZARR_GROUP);
    lsio_zarr_group_close(hg);
    zt_expect(lsio_zarr_group_open_group(g, "x", &hg), -ENOENT, "no Zarr group", NULL);
    lsio_zarr_group_close(g);
    return 0;
}
