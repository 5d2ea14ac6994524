/*
 * test_read.c — reads of v2 arrays the test writes itself (chunks encoded
 * with the codecs library) against the values it stated: whole reads,
 * 300 random numpy-style selections (negative steps, integer indices) in
 * C and F order, compressed and raw; a missing chunk reads as the fill
 * value; corrupt and truncated chunks fail naming the chunk key;
 * read_many fetches a chunk once for overlapping selections; for_each
 * streams every selected element once; bad output sizes are refused. The
 * random selections run a second time while SIGALRM (no SA_RESTART)
 * interrupts every thread every 50 us.
 */
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include "zarr_testutil.h"

#define NY 7
#define NX 11
#define CY 3
#define CX 4

static int32_t ref[NY][NX];

/* Write a (7, 11) int32 array with chunks (3, 4) at dir: compressor zlib
 * (or none), order C or F, fill 42; chunk (1, 2) is left out. */
static void write_array(const char *dir, int zlib, int fortran)
{
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [%d, %d], \"chunks\": [%d, %d], \"dtype\": \"<i4\","
            " \"compressor\": %s, \"fill_value\": 42, \"filters\": null, \"order\": \"%s\"}",
            NY, NX, CY, CX, zlib ? "{\"id\": \"zlib\", \"level\": 1}" : "null",
            fortran ? "F" : "C");
    lsio_codec *c = NULL;
    if (zlib)
        CHECK_OK(lsio_codec_create(&c, "zlib", "{\"id\": \"zlib\", \"level\": 1}"));
    lsio_chunk_spec spec = {.ndim = 2, .shape = {CY, CX}, .dtype = {LSIO_DT_INT, 4, 0},
                            .fortran_order = fortran};
    for (int cy = 0; cy * CY < NY; cy++)
        for (int cx = 0; cx * CX < NX; cx++) {
            if (cy == 1 && cx == 2)
                continue;
            int32_t chunk[CY * CX];
            for (int y = 0; y < CY; y++)
                for (int x = 0; x < CX; x++) {
                    int gy = cy * CY + y, gx = cx * CX + x;
                    int32_t v = gy < NY && gx < NX ? ref[gy][gx] : -1;
                    chunk[fortran ? x * CY + y : y * CX + x] = v;
                }
            char key[32];
            snprintf(key, sizeof key, "%d.%d", cy, cx);
            if (zlib)
                zt_write_chunk(dir, key, c, &spec, chunk, sizeof chunk);
            else
                zt_write(dir, key, chunk, sizeof chunk);
        }
    lsio_codec_destroy(c);
}

static int32_t expect_at(int y, int x)
{
    return y / CY == 1 && x / CX == 2 ? 42 : ref[y][x];
}

/* Read sel and compare with the reference. */
static void check_sel(lsio_zarr_array *a, const lsio_selection *s, const char *what)
{
    uint64_t n = lsio_selection_count(s);
    int32_t *out = malloc((n ? n : 1) * 4);
    CHECK(out);
    memset(out, 0xab, (n ? n : 1) * 4);
    int rc = lsio_zarr_read(a, s, out, n * 4);
    if (rc < 0) {
        fprintf(stderr, "%s: read failed: %s\n", what, lsio_last_error());
        exit(1);
    }
    uint64_t k = 0;
    for (uint64_t i = 0; i < s->dim[0].count; i++)
        for (uint64_t j = 0; j < s->dim[1].count; j++, k++) {
            int y = (int)(s->dim[0].start + (int64_t)i * s->dim[0].step);
            int x = (int)(s->dim[1].start + (int64_t)j * s->dim[1].step);
            if (out[k] != expect_at(y, x)) {
                fprintf(stderr, "%s: element (%d, %d) = %d, want %d\n", what, y, x, out[k],
                        expect_at(y, x));
                exit(1);
            }
        }
    free(out);
}

static void random_selections(lsio_zarr_array *a, const char *what)
{
    uint64_t shape[2] = {NY, NX};
    for (int t = 0; t < 300; t++) {
        lsio_selection s;
        zt_random_selection(2, shape, 0, &s);
        char w[256];
        snprintf(w, sizeof w, "%s selection %d", what, t);
        check_sel(a, &s, w);
    }
}

typedef struct fe {
    int64_t sum;
    uint64_t n;
    pthread_mutex_t mu;
    unsigned seen[64];   /* calls per index */
    int64_t chunk_sum[64]; /* what each index held */
    uint64_t max_index;
} fe;

static int fe_block(void *ctx, uint64_t index, const void *elems, uint64_t n)
{
    fe *f = ctx;
    const int32_t *v = elems;
    int64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += v[i];
    pthread_mutex_lock(&f->mu);
    f->sum += s;
    f->n += n;
    if (index < 64) {
        f->seen[index]++;
        f->chunk_sum[index] = s;
    }
    f->max_index = index > f->max_index ? index : f->max_index;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static int fe_stop(void *ctx, uint64_t index, const void *elems, uint64_t n)
{
    (void)ctx, (void)index, (void)elems, (void)n;
    return -ECANCELED;
}

int main(void)
{
    for (int y = 0; y < NY; y++)
        for (int x = 0; x < NX; x++)
            ref[y][x] = y * 100 + x;
    const char *tmp = test_tmpdir("zarr_read");
    char dir[4200];
    uint64_t shape[2] = {NY, NX};
    for (int variant = 0; variant < 4; variant++) {
        int zlib = variant & 1, fortran = variant >> 1;
        snprintf(dir, sizeof dir, "%s/a%d.zarr", tmp, variant);
        write_array(dir, zlib, fortran);
        lsio_zarr_array *a;
        CHECK_OK(lsio_zarr_open(&a, dir, NULL));
        const lsio_zarr_info *in = lsio_zarr_get_info(a);
        CHECK_EQ(in->ndim, 2);
        CHECK_EQ(in->nchunks, 9);
        CHECK_EQ(in->fortran_order, fortran);
        CHECK_EQ(lsio_zarr_itemsize(a), 4);
        int32_t fill;
        lsio_zarr_fill_value(a, &fill);
        CHECK_EQ(fill, 42);
        lsio_selection s;
        lsio_selection_all(&s, 2, shape);
        char what[64];
        snprintf(what, sizeof what, "zlib=%d F=%d", zlib, fortran);
        check_sel(a, &s, what);
        /* NULL selection = everything */
        int32_t whole[NY * NX];
        CHECK_OK(lsio_zarr_read(a, NULL, whole, sizeof whole));
        CHECK_EQ(whole[NX + 10], ref[1][10]);
        random_selections(a, what);
        /* The same under a storm of signals (EINTR in every wait). */
        long t0 = tu_interrupts(50);
        random_selections(a, what);
        CHECK(tu_interrupts(0) > t0);
        lsio_zarr_stats st;
        lsio_zarr_stats_get(a, &st);
        CHECK(st.chunks_missing > 0 && st.chunks_read > 0);
        uint64_t present, bytes;
        CHECK_OK(lsio_zarr_count_chunks(a, &present, &bytes));
        CHECK_EQ(present, 8);

        /* read_many: overlapping selections read each chunk once. */
        lsio_selection ms[3];
        CHECK_OK(lsio_selection_parse("0:3, 0:4", 2, shape, &ms[0]));  /* chunk 0.0 */
        CHECK_OK(lsio_selection_parse("1:3, 1:3", 2, shape, &ms[1]));  /* chunk 0.0 */
        CHECK_OK(lsio_selection_parse("2:4, 3:5", 2, shape, &ms[2]));  /* 0.0 0.1 1.0 1.1 */
        int32_t o0[12], o1[4], o2[4];
        void *outs[3] = {o0, o1, o2};
        size_t ob[3] = {sizeof o0, sizeof o1, sizeof o2};
        lsio_zarr_stats before, after;
        lsio_zarr_stats_get(a, &before);
        CHECK_OK(lsio_zarr_read_many(a, ms, 3, outs, ob));
        lsio_zarr_stats_get(a, &after);
        CHECK_EQ(after.chunks_read - before.chunks_read, 4);
        CHECK_EQ(o1[3], ref[2][2]);
        CHECK_EQ(o2[3], ref[3][4]);
        CHECK_EQ(o0[11], ref[2][3]);

        /* for_each: every selected element once; every chunk once, under
         * an index 0 .. chunks - 1 that names the same chunk each time */
        fe f = {.sum = 0}, g = {.sum = 0};
        pthread_mutex_init(&f.mu, NULL);
        pthread_mutex_init(&g.mu, NULL);
        CHECK_OK(lsio_selection_parse("::-2, 1:", 2, shape, &s));
        CHECK_OK(lsio_zarr_for_each(a, &s, fe_block, &f, NULL, NULL));
        int64_t want = 0;
        for (int y = NY - 1; y >= 0; y -= 2)
            for (int x = 1; x < NX; x++)
                want += expect_at(y, x);
        CHECK_EQ(f.sum, want);
        CHECK_EQ(f.n, lsio_selection_count(&s));
        CHECK(f.max_index > 0 && f.max_index < 64);
        for (uint64_t i = 0; i <= f.max_index; i++)
            CHECK_EQ(f.seen[i], 1);
        CHECK_OK(lsio_zarr_for_each(a, &s, fe_block, &g, NULL, NULL));
        CHECK_EQ(g.max_index, f.max_index);
        for (uint64_t i = 0; i <= f.max_index; i++)
            CHECK_EQ(g.chunk_sum[i], f.chunk_sum[i]);
        zt_expect(lsio_zarr_for_each(a, NULL, fe_stop, NULL, NULL, NULL), -ECANCELED, NULL);

        /* Wrong output size, wrong dimensions. */
        zt_expect(lsio_zarr_read(a, NULL, whole, sizeof whole - 4), -EINVAL, dir, NULL);
        lsio_selection bad;
        lsio_selection_all(&bad, 1, shape);
        zt_expect(lsio_zarr_read(a, &bad, whole, NY * 4), -LSIO_ESELECTION, NULL);
        lsio_zarr_close(a);
    }

    /* Corrupt and truncated chunks fail naming the chunk key. */
    snprintf(dir, sizeof dir, "%s/a1.zarr", tmp);
    zt_write(dir, "2.1", "garbage, not zlib", 17);
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_open(&a, dir, NULL));
    int32_t whole[NY * NX];
    zt_expect(lsio_zarr_read(a, NULL, whole, sizeof whole), -LSIO_ECODEC, dir, "chunk 2.1",
              NULL);
    lsio_selection s;
    CHECK_OK(lsio_selection_parse("0:6", 2, shape, &s)); /* avoids chunk row 2 */
    CHECK_OK(lsio_zarr_read(a, &s, whole, 6 * NX * 4));
    lsio_zarr_close(a);
    snprintf(dir, sizeof dir, "%s/a0.zarr", tmp); /* raw: read into place */
    zt_write(dir, "0.1", "short", 5);
    CHECK_OK(lsio_zarr_open(&a, dir, NULL));
    int rc = lsio_zarr_read(a, NULL, whole, sizeof whole);
    CHECK(rc < 0);
    zt_expect(rc, rc, dir, "chunk 0.1", NULL);
    lsio_zarr_close(a);
    return 0;
}
