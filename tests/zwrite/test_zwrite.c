/*
 * test_zwrite.c — the Zarr writer through its C API, checked against what
 * lsio_codecs decodes from the stored chunk files (and the metadata text):
 *  - whole writes of a 3-D array: every chunk file decodes to the expected
 *    block (edge chunks padded with the fill value), the fill-value chunk is
 *    absent, stats count it;
 *  - partial writes with steps, negative steps and integer indices: the
 *    merged chunks hold old and new values where they belong;
 *  - the in-flight bound: a 1-byte budget (one object at a time) writes the
 *    same files; several threads writing disjoint parts at once;
 *  - sharded v3: the shard index decodes (crc32c) and every inner chunk too;
 *  - errors: a selection outside the array, a wrong buffer size, a store
 *    under a regular file (the message names the chunk's location), a
 *    corrupt stored chunk met by a partial write (names the key);
 *  - codec texts and chunk keys.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lsio_zwrite.h"
#include "testutil.h"

#define NX 20
#define NY 17
#define NZ 9

static const char *dir;

static char *path_of(const char *a, const char *b)
{
    static char buf[4][4096];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 4096, "%s/%s%s%s", dir, a, b ? "/" : "", b ? b : "");
    return p;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Decode the chunk file at path with a chain of codecs_json (v2). */
static void decode_file(const char *path, const char *comp, const lsio_chunk_spec *cs,
                        void *out, size_t n)
{
    FILE *f = fopen(path, "rb");
    CHECK(f);
    static unsigned char raw[1 << 20];
    size_t len = fread(raw, 1, sizeof raw, f);
    fclose(f);
    lsio_codec *c = NULL;
    lsio_chain *ch;
    if (comp)
        CHECK_OK(lsio_codec_create(&c, "zstd", comp));
    CHECK_OK(lsio_chain_create(&ch, c ? &c : NULL, c ? 1 : 0, cs));
    CHECK_OK(lsio_chain_decode(ch, raw, len, out, n));
    lsio_chain_destroy(ch);
    lsio_codec_destroy(c);
}

static float value(int x, int y, int z) { return (float)(x * 1000 + y * 10 + z) + 0.5f; }

static lsio_zwrite_spec spec3(void)
{
    lsio_zwrite_spec s = {.zarr_format = 2, .ndim = 3, .shape = {NX, NY, NZ},
                          .chunks = {8, 5, 4}, .dtype = {LSIO_DT_FLOAT, 4, 0},
                          .fill_value_json = "-1", .codecs_json = "{\"id\":\"zstd\",\"level\":3}"};
    return s;
}

/* Every chunk file against expect[] (fill -1 outside the array). */
static void check_chunks(const char *name, const float *expect)
{
    lsio_chunk_spec cs = {.ndim = 3, .shape = {8, 5, 4}, .dtype = {LSIO_DT_FLOAT, 4, 0}};
    float ch[8 * 5 * 4];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 3; k++) {
                char key[48];
                snprintf(key, sizeof key, "%d.%d.%d", i, j, k);
                const char *p = path_of(name, key);
                int all_fill = 1;
                for (int x = 0; x < 8; x++)
                    for (int y = 0; y < 5; y++)
                        for (int z = 0; z < 4; z++) {
                            int X = i * 8 + x, Y = j * 5 + y, Z = k * 4 + z;
                            if (X < NX && Y < NY && Z < NZ && expect[(X * NY + Y) * NZ + Z] != -1)
                                all_fill = 0;
                        }
                if (all_fill) {
                    if (exists(p))
                        fprintf(stderr, "chunk %s should be absent\n", key);
                    CHECK(!exists(p));
                    continue;
                }
                decode_file(p, "{\"id\":\"zstd\"}", &cs, ch, sizeof ch);
                for (int x = 0; x < 8; x++)
                    for (int y = 0; y < 5; y++)
                        for (int z = 0; z < 4; z++) {
                            int X = i * 8 + x, Y = j * 5 + y, Z = k * 4 + z;
                            float want = X < NX && Y < NY && Z < NZ ? expect[(X * NY + Y) * NZ + Z]
                                                                    : -1.0f;
                            if (ch[(x * 5 + y) * 4 + z] != want)
                                fprintf(stderr, "chunk %s at %d,%d,%d: %g != %g\n", key, x, y, z,
                                        ch[(x * 5 + y) * 4 + z], want);
                            CHECK(ch[(x * 5 + y) * 4 + z] == want);
                        }
            }
}

static float expect[NX * NY * NZ];

static void test_whole_and_partial(const char *name, size_t inflight)
{
    lsio_zwrite_spec s = spec3();
    lsio_zwrite_opts o = LSIO_ZWRITE_OPTS_DEFAULT;
    o.inflight_bytes = inflight;
    lsio_zwrite_array *a;
    CHECK_OK(lsio_zwrite_create(&a, path_of(name, NULL), &s, &o));
    CHECK(exists(path_of(name, ".zarray")));
    for (int x = 0; x < NX; x++)
        for (int y = 0; y < NY; y++)
            for (int z = 0; z < NZ; z++)
                expect[(x * NY + y) * NZ + z] = x < 8 && y >= 5 && y < 10 && z < 4 ? -1
                                                                                   : value(x, y, z);
    CHECK_OK(lsio_zwrite_write(a, NULL, expect, sizeof expect));
    lsio_zwrite_stats st;
    lsio_zwrite_stats_get(a, &st);
    CHECK_EQ(st.objects_written, 35);
    CHECK_EQ(st.objects_deleted, 1);
    CHECK_EQ(st.objects_merged, 0);
    check_chunks(name, expect);

    /* x = 3 (index), y = 15..1 step -2, z = 1..8 step 3 */
    lsio_selection sel = {.ndim = 3};
    sel.dim[0] = (lsio_dim_sel){.start = 3, .step = 1, .count = 1, .drop = 1};
    sel.dim[1] = (lsio_dim_sel){.start = 15, .step = -2, .count = 8};
    sel.dim[2] = (lsio_dim_sel){.start = 1, .step = 3, .count = 3};
    float v[8 * 3];
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 3; k++) {
            v[i * 3 + k] = (float)(-100 - i * 3 - k);
            expect[(3 * NY + (15 - 2 * i)) * NZ + 1 + 3 * k] = v[i * 3 + k];
        }
    CHECK_OK(lsio_zwrite_write(a, &sel, v, sizeof v));
    lsio_zwrite_stats_get(a, &st);
    CHECK(st.objects_merged > 0);
    check_chunks(name, expect);

    /* overwrite chunk 1.1.1 partly, then wholly, with the fill value */
    lsio_selection all1 = {.ndim = 3};
    all1.dim[0] = (lsio_dim_sel){.start = 8, .step = 1, .count = 8};
    all1.dim[1] = (lsio_dim_sel){.start = 5, .step = 1, .count = 5};
    all1.dim[2] = (lsio_dim_sel){.start = 4, .step = 1, .count = 4};
    float fill[8 * 5 * 4];
    for (size_t i = 0; i < 160; i++)
        fill[i] = -1;
    CHECK(exists(path_of(name, "1.1.1")));
    CHECK_OK(lsio_zwrite_write(a, &all1, fill, sizeof fill));
    CHECK(!exists(path_of(name, "1.1.1")));
    lsio_zwrite_close(a);
    for (int x = 8; x < 16; x++)
        for (int y = 5; y < 10; y++)
            for (int z = 4; z < 8; z++)
                expect[(x * NY + y) * NZ + z] = -1;
    check_chunks(name, expect);
}

typedef struct th_arg {
    lsio_zwrite_array *a;
    int x0;
    int rc;
} th_arg;

static void *writer(void *p)
{
    th_arg *t = p;
    lsio_selection sel = {.ndim = 3};
    sel.dim[0] = (lsio_dim_sel){.start = t->x0, .step = 1, .count = 8};
    sel.dim[1] = (lsio_dim_sel){.start = 0, .step = 1, .count = NY};
    sel.dim[2] = (lsio_dim_sel){.start = 0, .step = 1, .count = NZ};
    t->rc = lsio_zwrite_write(t->a, &sel, expect + (size_t)t->x0 * NY * NZ,
                              8 * NY * NZ * sizeof(float));
    return NULL;
}

static void test_threads(void)
{
    lsio_zwrite_spec s = spec3();
    s.shape[0] = 16;
    lsio_zwrite_array *a[2];
    CHECK_OK(lsio_zwrite_create(&a[0], path_of("thr", NULL), &s, NULL));
    CHECK_OK(lsio_zwrite_open(&a[1], path_of("thr", NULL), NULL));
    pthread_t th[2];
    th_arg t[2] = {{a[0], 0, 0}, {a[1], 8, 0}};
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, writer, &t[i]);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK_OK(t[i].rc);
        lsio_zwrite_close(a[i]);
    }
    lsio_chunk_spec cs = {.ndim = 3, .shape = {8, 5, 4}, .dtype = {LSIO_DT_FLOAT, 4, 0}};
    float ch[160];
    decode_file(path_of("thr", "1.3.2"), "{}", &cs, ch, sizeof ch);
    CHECK(ch[0] == expect[(8 * NY + 15) * NZ + 8]);
}

static void test_sharded(void)
{
    lsio_zwrite_spec s = {.zarr_format = 3, .ndim = 2, .shape = {10, 12}, .chunks = {2, 3},
                          .shards = {4, 6}, .dtype = {LSIO_DT_INT, 2, 0}, .fill_value_json = "0",
                          .codecs_json = "[{\"name\":\"zstd\",\"configuration\":{\"level\":1}}]"};
    lsio_zwrite_array *a;
    CHECK_OK(lsio_zwrite_create(&a, path_of("sh", NULL), &s, NULL));
    const lsio_zwrite_spec *n = lsio_zwrite_get_spec(a);
    CHECK_EQ(n->shards[1], 6);
    CHECK_EQ(n->chunks[1], 3);
    int16_t v[120];
    for (int i = 0; i < 120; i++)
        v[i] = (int16_t)(i % 12 < 3 ? 0 : i); /* inner chunks of column 0 are all 0 */
    CHECK_OK(lsio_zwrite_write(a, NULL, v, sizeof v));
    lsio_zwrite_close(a);
    /* shard c/0/0: rows 0..3, cols 0..5; 4 inner chunks, (0,0) and (1,0) absent */
    FILE *f = fopen(path_of("sh", "c/0/0"), "rb");
    CHECK(f);
    unsigned char raw[4096];
    size_t len = fread(raw, 1, sizeof raw, f);
    fclose(f);
    CHECK(len > 4 * 16 + 4);
    const unsigned char *idx = raw + len - 68;
    CHECK_EQ(lsio_crc32c(idx, 64), (uint32_t)idx[64] | (uint32_t)idx[65] << 8 |
                                       (uint32_t)idx[66] << 16 | (uint32_t)idx[67] << 24);
    uint64_t e[8];
    memcpy(e, idx, 64);
    CHECK(e[0] == UINT64_MAX && e[1] == UINT64_MAX && e[4] == UINT64_MAX);
    lsio_codec *z;
    CHECK_OK(lsio_codec_create(&z, "zstd", "{\"level\":1}"));
    lsio_chunk_spec cs = {.ndim = 2, .shape = {2, 3}, .dtype = {LSIO_DT_INT, 2, 0}};
    lsio_chain *ch;
    CHECK_OK(lsio_chain_create(&ch, &z, 1, &cs));
    int16_t out[6];
    CHECK_OK(lsio_chain_decode(ch, raw + e[2], e[3], out, sizeof out)); /* inner (0, 1) */
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            CHECK_EQ(out[r * 3 + c], v[r * 12 + 3 + c]);
    lsio_chain_destroy(ch);
    lsio_codec_destroy(z);
    /* rows 8..9 of the last shard row exist; no shard beyond the grid */
    CHECK(exists(path_of("sh", "c/2/1")));
    CHECK(!exists(path_of("sh", "c/3/0")));
}

static void test_errors(void)
{
    lsio_zwrite_spec s = spec3();
    lsio_zwrite_array *a;
    CHECK_OK(lsio_zwrite_create(&a, path_of("err", NULL), &s, NULL));
    lsio_selection sel;
    lsio_selection_all(&sel, 3, s.shape);
    sel.dim[0].count = NX + 1;
    CHECK_EQ(lsio_zwrite_write(a, &sel, expect, sizeof expect), -LSIO_ESELECTION);
    CHECK_EQ(lsio_zwrite_write(a, NULL, expect, sizeof expect - 4), -EINVAL);
    /* a corrupt stored chunk met by a partial write */
    CHECK_OK(lsio_zwrite_write(a, NULL, expect, sizeof expect));
    FILE *f = fopen(path_of("err", "1.1.1"), "wb");
    fputs("not zstd", f);
    fclose(f);
    lsio_selection one;
    lsio_selection_all(&one, 3, s.shape);
    one.dim[0] = (lsio_dim_sel){.start = 9, .step = 1, .count = 1};
    one.dim[1] = (lsio_dim_sel){.start = 6, .step = 1, .count = 1};
    one.dim[2] = (lsio_dim_sel){.start = 5, .step = 1, .count = 1};
    float x = 1;
    int rc = lsio_zwrite_write(a, &one, &x, sizeof x);
    CHECK(rc < 0);
    CHECK(strstr(lsio_last_error(), "1.1.1"));
    lsio_zwrite_close(a);
    /* the store under a regular file: the chunk's location is named */
    f = fopen(path_of("file", NULL), "w");
    fclose(f);
    rc = lsio_zwrite_create(&a, path_of("file", "arr"), &s, NULL);
    CHECK(rc < 0);
    CHECK(strstr(lsio_last_error(), path_of("file", "arr")));
    /* an existing array is not replaced without overwrite */
    CHECK_EQ(lsio_zwrite_create(&a, path_of("err", NULL), &s, NULL), -EEXIST);
    CHECK(strstr(lsio_last_error(), path_of("err", NULL)));
    lsio_zwrite_opts o = LSIO_ZWRITE_OPTS_DEFAULT;
    o.overwrite = 1;
    CHECK_OK(lsio_zwrite_create(&a, path_of("err", NULL), &s, &o));
    CHECK(!exists(path_of("err", "0.0.0")));
    lsio_zwrite_close(a);
    CHECK_EQ(lsio_zwrite_open(&a, path_of("nothing", NULL), NULL), -ENOENT);
    /* sizes past 2^53 (JSON numbers are doubles): refused, in a spec and
     * in stored metadata, never written or read as a nearby number (the
     * fuzzer found 7541031651931149653 read back as ...1150336) */
    lsio_zwrite_spec big = s;
    big.shape[0] = (1ull << 53) + 2;
    CHECK_EQ(lsio_zwrite_create(&a, path_of("big", NULL), &big, NULL), -EINVAL);
    CHECK(strstr(lsio_last_error(), "2^53"));
    CHECK(mkdir(path_of("big2", NULL), 0755) == 0);
    static const char *const dim0[] = {"9007199254740994", "12.5", "-3", "1e300"};
    for (int i = 0; i < 4; i++) {
        f = fopen(path_of("big2", ".zarray"), "w");
        fprintf(f, "{\"zarr_format\": 2, \"shape\": [%s, 4], \"chunks\": [10, 4],"
                   " \"dtype\": \"<f4\", \"compressor\": null, \"fill_value\": 0,"
                   " \"filters\": null, \"order\": \"C\"}", dim0[i]);
        fclose(f);
        CHECK(lsio_zwrite_open(&a, path_of("big2", NULL), NULL) < 0);
    }
}

static void test_texts(void)
{
    lsio_dtype f4 = {LSIO_DT_FLOAT, 4, 0};
    char *t;
    CHECK_OK(lsio_zwrite_codecs_from_text("blosc:lz4:5:shuffle", 3, &f4, &t));
    CHECK(strstr(t, "\"typesize\":4") && strstr(t, "\"shuffle\":\"shuffle\""));
    free(t);
    CHECK_OK(lsio_zwrite_codecs_from_text("blosc:zstd:3:bitshuffle", 2, &f4, &t));
    CHECK(strstr(t, "\"shuffle\":2"));
    free(t);
    CHECK(lsio_zwrite_codecs_from_text("zstd:x:y", 2, &f4, &t) < 0);
    CHECK(lsio_zwrite_codecs_from_text("blosc:lz4:12:shuffle", 2, &f4, &t) < 0);
    CHECK_OK(lsio_zwrite_codecs_convert("{\"compressor\":{\"id\":\"zlib\",\"level\":4},\"filters\":null}",
                                        2, 3, &f4, &t));
    CHECK(strstr(t, "gzip") && strstr(t, "\"level\":4"));
    free(t);
    CHECK(lsio_zwrite_codecs_convert("{\"compressor\":null,\"filters\":[{\"id\":\"delta\"}]}", 2, 3,
                                     &f4, &t) < 0);
    lsio_zwrite_spec s = {.zarr_format = 3, .ndim = 2};
    uint64_t g[2] = {3, 14};
    char key[16];
    CHECK_OK(lsio_zwrite_chunk_key(&s, g, key, sizeof key));
    CHECK(!strcmp(key, "c/3/14"));
    s.zarr_format = 2;
    CHECK_OK(lsio_zwrite_chunk_key(&s, g, key, sizeof key));
    CHECK(!strcmp(key, "3.14"));
    s.ndim = 0;
    CHECK_OK(lsio_zwrite_chunk_key(&s, g, key, sizeof key));
    CHECK(!strcmp(key, "0"));
    s.ndim = 2;
    CHECK_EQ(lsio_zwrite_chunk_key(&s, g, key, 3), -ENAMETOOLONG);
}

int main(void)
{
    dir = test_tmpdir("zwrite");
    test_texts();
    test_whole_and_partial("a", 0);
    test_whole_and_partial("b", 1); /* one object at a time */
    test_threads();
    test_sharded();
    test_errors();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    printf("ok\n");
    return 0;
}
