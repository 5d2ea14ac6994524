/*
 * test_raw_rows.c — uncompressed chunks that are rows of the output are read
 * straight into those rows (one scattered read each, the bytes between
 * runs into a junk buffer): an int32 array (4, 20, 300), chunks (2, 8, 128)
 * (rows of 512 bytes; the last chunk column, 44 elements, goes the ordinary
 * way), one chunk missing; whole reads, crops and 300 random selections
 * compared with the values the test wrote, also while SIGALRM interrupts
 * every thread, and with LSIO_NO_SCATTER_READS; chunks_direct counts the
 * chunks that went straight in; chunk files one byte short or long fail
 * naming their key. Runs under AddressSanitizer in the SAN build.
 */
#include <unistd.h>

#include "zarr_testutil.h"

#define NZ 4
#define NY 20
#define NX 300
#define CZ 2
#define CY 8
#define CX 128

static int32_t value(int z, int y, int x) { return z * 100000 + y * 1000 + x; }
static int missing(int z, int y, int x) { return z / CZ == 1 && y / CY == 1 && x / CX == 0; }
static int32_t expect_at(int z, int y, int x) { return missing(z, y, x) ? -5 : value(z, y, x); }

static void write_array(const char *dir)
{
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [%d, %d, %d], \"chunks\": [%d, %d, %d],"
            " \"dtype\": \"<i4\", \"compressor\": null, \"fill_value\": -5, \"filters\": null,"
            " \"order\": \"C\"}",
            NZ, NY, NX, CZ, CY, CX);
    static int32_t chunk[CZ * CY * CX];
    for (int cz = 0; cz * CZ < NZ; cz++)
        for (int cy = 0; cy * CY < NY; cy++)
            for (int cx = 0; cx * CX < NX; cx++) {
                if (missing(cz * CZ, cy * CY, cx * CX))
                    continue;
                for (int z = 0; z < CZ; z++)
                    for (int y = 0; y < CY; y++)
                        for (int x = 0; x < CX; x++)
                            chunk[(z * CY + y) * CX + x] =
                                value(cz * CZ + z, cy * CY + y, cx * CX + x);
                char key[48];
                snprintf(key, sizeof key, "%d.%d.%d", cz, cy, cx);
                zt_write(dir, key, chunk, sizeof chunk);
            }
}

/* Read sel, compare; returns the chunks that went straight in. */
static uint64_t check_sel(lsio_zarr_array *a, const lsio_selection *s, const char *what)
{
    lsio_zarr_stats b, e;
    lsio_zarr_stats_get(a, &b);
    uint64_t n = lsio_selection_count(s);
    int32_t *out = malloc((n ? n : 1) * 4);
    CHECK(out);
    memset(out, 0xab, (n ? n : 1) * 4);
    if (lsio_zarr_read(a, s, out, n * 4) < 0) {
        fprintf(stderr, "%s: read failed: %s\n", what, lsio_last_error());
        exit(1);
    }
    uint64_t k = 0;
    for (uint64_t i = 0; i < s->dim[0].count; i++)
        for (uint64_t j = 0; j < s->dim[1].count; j++)
            for (uint64_t l = 0; l < s->dim[2].count; l++, k++) {
                int z = (int)(s->dim[0].start + (int64_t)i * s->dim[0].step);
                int y = (int)(s->dim[1].start + (int64_t)j * s->dim[1].step);
                int x = (int)(s->dim[2].start + (int64_t)l * s->dim[2].step);
                if (out[k] != expect_at(z, y, x)) {
                    fprintf(stderr, "%s: element (%d, %d, %d) = %d, want %d\n", what, z, y, x,
                            out[k], expect_at(z, y, x));
                    exit(1);
                }
            }
    free(out);
    lsio_zarr_stats_get(a, &e);
    return e.chunks_direct - b.chunks_direct;
}

static uint64_t random_selections(lsio_zarr_array *a, const char *what)
{
    uint64_t shape[3] = {NZ, NY, NX}, direct = 0;
    for (int t = 0; t < 300; t++) {
        lsio_selection s;
        zt_random_selection(3, shape, 1, &s);
        char w[256];
        snprintf(w, sizeof w, "%s selection %d", what, t);
        direct += check_sel(a, &s, w);
    }
    return direct;
}

static void expect_fail(lsio_zarr_array *a, const char *sel, const char *key)
{
    uint64_t shape[3] = {NZ, NY, NX};
    lsio_selection s;
    CHECK_OK(lsio_selection_parse(sel, 3, shape, &s));
    uint64_t n = lsio_selection_count(&s);
    int32_t *out = malloc(n * 4);
    int rc = lsio_zarr_read(a, &s, out, n * 4);
    free(out);
    if (rc >= 0 || !strstr(lsio_last_error(), key)) {
        fprintf(stderr, "%s: rc %d, message: %s (want one naming %s)\n", sel, rc,
                lsio_last_error(), key);
        exit(1);
    }
}

int main(void)
{
    const char *tmp = test_tmpdir("zarr_raw_rows");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/a.zarr", tmp);
    write_array(dir);
    uint64_t shape[3] = {NZ, NY, NX};
    srand(11);
    for (int off = 0; off < 2; off++) {
        if (off)
            setenv("LSIO_NO_SCATTER_READS", "1", 1);
        lsio_zarr_array *a;
        CHECK_OK(lsio_zarr_open(&a, dir, NULL));
        lsio_selection s;
        lsio_selection_all(&s, 3, shape);
        uint64_t d = check_sel(a, &s, off ? "whole, the old way" : "whole");
        /* 3 x 3 chunk columns x 2 chunk layers, one missing: the first two
         * columns of each (rows of 512 bytes) go straight in */
        CHECK_EQ(d, off ? 0 : 2 * 3 * 2 - 1);
        CHECK_OK(lsio_selection_parse("1:4, 3:19, 10:250", 3, shape, &s)); /* crops */
        d = check_sel(a, &s, "crop");
        /* 2 layers x 3 chunk rows x 2 columns, runs of 472 and 488 bytes,
         * the gaps between them into junk; one chunk missing */
        CHECK_EQ(d, off ? 0 : 2 * 3 * 2 - 1);
        CHECK_OK(lsio_selection_parse(":, :, 270:300", 3, shape, &s)); /* runs of 120 */
        CHECK_EQ(check_sel(a, &s, "narrow"), 0);
        d = random_selections(a, off ? "old way" : "pieces");
        CHECK(off ? d == 0 : d > 20);
        long t0 = tu_interrupts(50);
        random_selections(a, "pieces, interrupted");
        CHECK(tu_interrupts(0) > t0);
        lsio_zarr_close(a);
    }
    unsetenv("LSIO_NO_SCATTER_READS");

    /* a chunk one byte short, then one byte long: named */
    char path[4300];
    snprintf(path, sizeof path, "%s/0.0.1", dir);
    CHECK_EQ(truncate(path, CZ * CY * CX * 4 - 1), 0);
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_open(&a, dir, NULL));
    expect_fail(a, ":, :, :", "0.0.1");
    expect_fail(a, "0:2, 0:8, 128:256", "0.0.1");
    CHECK_EQ(truncate(path, CZ * CY * CX * 4 + 1), 0);
    expect_fail(a, "0:2, 0:8, 128:256", "0.0.1");
    expect_fail(a, "0:2, 0:8, 130:200", "0.0.1");
    lsio_zarr_close(a);
    printf("ok\n");
    return 0;
}
