/*
 * test_threads.c — one chain serves many threads at once: 4 workers of an
 * lsio_pool decode 256 chunks of different codecs (shared chains, per-thread
 * scratch and decompression contexts) and every result matches; the
 * per-thread state is freed when the pool's threads exit (LeakSanitizer
 * would say otherwise).
 */
#include "codec_test.h"
#include "lsio_pool.h"

enum { NCHAIN = 4, NCHUNK = 256, NELEM = 3000 };

static lsio_chain *chains[NCHAIN];
static void *encs[NCHAIN][8];
static size_t enclens[NCHAIN][8];
static uint8_t *want[8];
static uint8_t *outs[NCHUNK];
static int errors;

static void piece(void *ctx, size_t b, size_t e)
{
    (void)ctx;
    for (size_t i = b; i < e; i++) {
        size_t c = i % NCHAIN, v = (i / NCHAIN) % 8;
        if (lsio_chain_decode(chains[c], encs[c][v], enclens[c][v], outs[i], NELEM * 4) < 0 ||
            memcmp(outs[i], want[v], NELEM * 4))
            __atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
    }
}

int main(void)
{
    lsio_chunk_spec spec = spec1("<f4", NELEM);
    const char *names[NCHAIN][3] = {{"bytes", "zstd", "crc32c"},
                                    {"shuffle", "zlib"},
                                    {"blosc"},
                                    {"transpose", "bytes", "lz4"}};
    const char *jsons[NCHAIN][3] = {{NULL, NULL, NULL},
                                    {"{\"elementsize\":4}", NULL},
                                    {NULL},
                                    {"{\"order\":[0]}", "{\"endian\":\"big\"}", NULL}};
    const size_t n[NCHAIN] = {3, 2, 1, 3};
    for (int v = 0; v < 8; v++) {
        want[v] = malloc(NELEM * 4);
        fill(want[v], NELEM * 4, (uint64_t)v + 1);
    }
    for (int c = 0; c < NCHAIN; c++) {
        chains[c] = mk_chain(&spec, n[c], names[c], jsons[c]);
        for (int v = 0; v < 8; v++)
            CHECK_OK(lsio_chain_encode(chains[c], want[v], NELEM * 4, &encs[c][v], &enclens[c][v]));
    }
    for (int i = 0; i < NCHUNK; i++)
        outs[i] = malloc(NELEM * 4);
    lsio_pool *p;
    CHECK_OK(lsio_pool_create(&p, 4));
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < NCHUNK; i++)
            memset(outs[i], 0, NELEM * 4);
        CHECK_OK(lsio_pool_parallel_for(p, NCHUNK, 1, piece, NULL));
        CHECK_EQ(errors, 0);
    }
    lsio_pool_destroy(p);
    for (int c = 0; c < NCHAIN; c++) {
        for (int v = 0; v < 8; v++)
            free(encs[c][v]);
        lsio_chain_destroy(chains[c]);
    }
    for (int i = 0; i < NCHUNK; i++)
        free(outs[i]);
    for (int v = 0; v < 8; v++)
        free(want[v]);
    printf("ok\n");
    return 0;
}
