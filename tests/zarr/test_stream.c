/*
 * test_stream.c — chunks placed with non-temporal stores (what outputs
 * larger than the last-level cache get; LSIO_STREAM_MIN=0 here makes every
 * output take that path): uncompressed v2 arrays whose every element is its
 * own linear index, read whole and through random boxes, every element
 * checked. Chunk rows of 1 to ~3000 bytes put runs below and above the
 * streamed minimum (256 bytes), at every alignment of the destination, with
 * heads and tails around whole 64-byte lines. Run under ASan and UBSan too.
 */
#include <stdlib.h>

#include "zarr_testutil.h"

/* Element i of an array of itemsize is the low itemsize bytes of i. */
static void put(unsigned char *p, uint64_t v, size_t item)
{
    for (size_t b = 0; b < item; b++)
        p[b] = (unsigned char)(v >> (8 * b));
}

static uint64_t get(const unsigned char *p, size_t item)
{
    uint64_t v = 0;
    for (size_t b = 0; b < item; b++)
        v |= (uint64_t)p[b] << (8 * b);
    return v;
}

static uint64_t mask(size_t item)
{
    return item >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * item)) - 1;
}

/* A 3-D array shape[] of item-byte unsigned ints in chunks ch[], v2, raw. */
static void make(const char *dir, const uint64_t *shape, const uint64_t *ch, size_t item)
{
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [%llu, %llu, %llu], \"chunks\": [%llu, %llu, %llu],"
            " \"dtype\": \"<u%zu\", \"compressor\": null, \"fill_value\": 0, \"filters\": null,"
            " \"order\": \"C\"}",
            (unsigned long long)shape[0], (unsigned long long)shape[1],
            (unsigned long long)shape[2], (unsigned long long)ch[0], (unsigned long long)ch[1],
            (unsigned long long)ch[2], item);
    size_t cb = (size_t)(ch[0] * ch[1] * ch[2]) * item;
    unsigned char *buf = malloc(cb);
    CHECK(buf);
    for (uint64_t a = 0; a < (shape[0] + ch[0] - 1) / ch[0]; a++)
        for (uint64_t b = 0; b < (shape[1] + ch[1] - 1) / ch[1]; b++)
            for (uint64_t c = 0; c < (shape[2] + ch[2] - 1) / ch[2]; c++) {
                size_t k = 0;
                for (uint64_t i = 0; i < ch[0]; i++)
                    for (uint64_t j = 0; j < ch[1]; j++)
                        for (uint64_t l = 0; l < ch[2]; l++, k++) {
                            uint64_t x = a * ch[0] + i, y = b * ch[1] + j, z = c * ch[2] + l;
                            put(buf + k * item, (x * shape[1] + y) * shape[2] + z, item);
                        }
                char key[96];
                snprintf(key, sizeof key, "%llu.%llu.%llu", (unsigned long long)a,
                         (unsigned long long)b, (unsigned long long)c);
                zt_write(dir, key, buf, cb);
            }
    free(buf);
}

/* Read the box lo[d] .. lo[d] + n[d] into a buffer at byte offset `shift`
 * of an allocation (so that the output starts at every alignment) and
 * check every element. */
static void check_box(lsio_zarr_array *a, const uint64_t *shape, const uint64_t *lo,
                      const uint64_t *n, size_t item, size_t shift)
{
    lsio_selection s = {.ndim = 3};
    size_t total = item;
    for (int d = 0; d < 3; d++) {
        s.dim[d] = (lsio_dim_sel){.start = (int64_t)lo[d], .step = 1, .count = n[d]};
        total *= (size_t)n[d];
    }
    unsigned char *mem = malloc(total + 64), *out = mem + shift;
    CHECK(mem);
    memset(mem, 0xa5, total + 64);
    CHECK_OK(lsio_zarr_read(a, &s, out, total));
    size_t k = 0;
    for (uint64_t i = 0; i < n[0]; i++)
        for (uint64_t j = 0; j < n[1]; j++)
            for (uint64_t l = 0; l < n[2]; l++, k++) {
                uint64_t want = (((lo[0] + i) * shape[1] + lo[1] + j) * shape[2] + lo[2] + l) &
                                mask(item);
                uint64_t got = get(out + k * item, item);
                if (got != want) {
                    fprintf(stderr, "element (%llu, %llu, %llu) of the box at (%llu, %llu, %llu): "
                                    "%llu, want %llu (item %zu, shift %zu)\n",
                            (unsigned long long)i, (unsigned long long)j, (unsigned long long)l,
                            (unsigned long long)lo[0], (unsigned long long)lo[1],
                            (unsigned long long)lo[2], (unsigned long long)got,
                            (unsigned long long)want, item, shift);
                    exit(1);
                }
            }
    for (size_t b = 0; b < shift; b++) /* nothing written before the output */
        CHECK(mem[b] == 0xa5);
    for (size_t b = shift + total; b < total + 64; b++) /* nor after it */
        CHECK(mem[b] == 0xa5);
    free(mem);
}

int main(void)
{
    setenv("LSIO_STREAM_MIN", "0", 1); /* before the first read of the process */
    const char *tmp = test_tmpdir("zarr_stream");
    static const struct {
        uint64_t shape[3], chunks[3];
        size_t item;
    } cases[] = {
        {{5, 9, 700}, {2, 4, 333}, 1},  /* runs of 333 bytes and less */
        {{4, 6, 301}, {3, 6, 301}, 2},  /* whole rows merged: 3612-byte runs */
        {{3, 17, 130}, {2, 5, 97}, 4},  /* 388-byte runs, 132-byte edge runs */
        {{6, 5, 90}, {4, 3, 45}, 8},    /* 360 bytes */
        {{2, 40, 64}, {1, 7, 64}, 4},   /* 256 bytes exactly, 1792 merged */
        {{7, 3, 11}, {3, 2, 5}, 8},     /* short runs only: plain copies */
    };
    unsigned seed = 12345;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/s%zu.zarr", tmp, c);
        const uint64_t *shape = cases[c].shape;
        make(dir, shape, cases[c].chunks, cases[c].item);
        lsio_zarr_array *a;
        CHECK_OK(lsio_zarr_open(&a, dir, NULL));
        uint64_t zero[3] = {0, 0, 0};
        for (size_t shift = 0; shift < 64; shift += 13)
            check_box(a, shape, zero, shape, cases[c].item, shift);
        for (int r = 0; r < 40; r++) {
            uint64_t lo[3], n[3];
            for (int d = 0; d < 3; d++) {
                seed = seed * 1103515245u + 12345u;
                lo[d] = (seed >> 8) % shape[d];
                seed = seed * 1103515245u + 12345u;
                n[d] = 1 + (seed >> 8) % (shape[d] - lo[d]);
            }
            seed = seed * 1103515245u + 12345u;
            check_box(a, shape, lo, n, cases[c].item, (seed >> 8) % 64);
        }
        lsio_zarr_close(a);
    }
    printf("ok\n");
    return 0;
}
