/*
 * codecs_bench.c — decode speed of LSIO's codec wrappers against the bare
 * library call on the same bytes, and the scaling of chunk decodes on the
 * lsio_pool. Built and run by bench/codecs (which also times numcodecs).
 *
 *   codecs_bench single NAME JSON DTYPE NELEM FILE SECONDS
 *       one chunk (FILE: the encoded bytes of NELEM elements of DTYPE),
 *       decoded again and again by lsio_chain_decode and by the library
 *       itself, in alternating rounds; prints "lsio GIB/S" and "bare GIB/S"
 *       (medians of the rounds, decoded bytes per second of this thread's
 *       CPU time) and lsio_best, bare_best (the fastest rounds: on a busy
 *       machine, noise only slows)
 *   codecs_bench scale NAME JSON DTYPE NELEM FILE SECONDS THREADS
 *       64 copies of the chunk decoded into 64 destinations by a parallel
 *       for over THREADS threads (the caller and THREADS-1 workers), again
 *       and again; prints "pool GIB/S"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <blosc.h>
#include <bzlib.h>
#include <isa-l/crc.h>
#include <libdeflate.h>
#include <lz4.h>
#include <lzma.h>
#include <zstd.h>

#include "lsio_codecs.h"
#include "lsio_pool.h"

static uint8_t *src, *dst;
static size_t srclen, dstlen;
static lsio_chain *chain;

static void die(const char *what)
{
    fprintf(stderr, "codecs_bench: %s: %s\n", what, lsio_last_error());
    exit(1);
}

/* The library alone, used the fast way (contexts reused), no checks
 * beyond what the library does. */
static ZSTD_DCtx *zd;
static struct libdeflate_decompressor *dd;

static int bare(const char *name)
{
    if (!strcmp(name, "blosc"))
        return blosc_decompress_ctx(src, dst, dstlen, 1) < 0;
    if (!strcmp(name, "zstd"))
        return ZSTD_isError(ZSTD_decompressDCtx(zd, dst, dstlen, src, srclen));
    if (!strcmp(name, "lz4"))
        return LZ4_decompress_safe((const char *)src + 4, (char *)dst, (int)srclen - 4,
                                   (int)dstlen) < 0;
    if (!strcmp(name, "gzip"))
        return libdeflate_gzip_decompress(dd, src, srclen, dst, dstlen, NULL) != 0;
    if (!strcmp(name, "zlib"))
        return libdeflate_zlib_decompress(dd, src, srclen, dst, dstlen, NULL) != 0;
    if (!strcmp(name, "bz2")) {
        unsigned n = (unsigned)dstlen;
        return BZ2_bzBuffToBuffDecompress((char *)dst, &n, (char *)src, (unsigned)srclen, 0,
                                          0) != BZ_OK;
    }
    if (!strcmp(name, "lzma")) {
        uint64_t mem = UINT64_MAX;
        size_t ip = 0, op = 0;
        return lzma_stream_buffer_decode(&mem, 0, NULL, src, &ip, srclen, dst, &op, dstlen) !=
               LZMA_OK;
    }
    if (!strcmp(name, "crc32c")) {
        unsigned c = crc32_iscsi(src, (int)srclen - 4, 0xFFFFFFFFu) ^ 0xFFFFFFFFu;
        memcpy(dst, src, srclen - 4);
        return memcmp(&c, src + srclen - 4, 4) != 0; /* little-endian host */
    }
    return -1;
}

static double now(void) { return (double)lsio_now_ns() * 1e-9; }

/* CPU time of this thread: on a shared machine, time spent descheduled
 * does not count against either side of the comparison. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* decodes per second of f over one round of ~`secs` seconds */
static double round_rate(int which, const char *name, double secs)
{
    double t0 = cpu_now(), t;
    long n = 0;
    do {
        for (int k = 0; k < 8; k++) {
            int bad = which ? bare(name) : lsio_chain_decode(chain, src, srclen, dst, dstlen);
            if (bad)
                die(which ? "bare decode" : "lsio decode");
        }
        n += 8;
        t = cpu_now();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

typedef struct scale_ctx {
    uint8_t **dsts;
} scale_ctx;

static void scale_piece(void *ctx, size_t b, size_t e)
{
    scale_ctx *s = ctx;
    for (size_t i = b; i < e; i++)
        if (lsio_chain_decode(chain, src, srclen, s->dsts[i], dstlen) < 0)
            die("lsio decode");
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: see the comment at the top of codecs_bench.c\n");
        return 2;
    }
    const char *mode = argv[1], *name = argv[2], *json = argv[3];
    lsio_chunk_spec spec;
    memset(&spec, 0, sizeof spec);
    if (lsio_dtype_parse(argv[4], &spec.dtype) < 0)
        die("dtype");
    spec.ndim = 1;
    spec.shape[0] = strtoull(argv[5], NULL, 10);
    double secs = atof(argv[7]);
    FILE *f = fopen(argv[6], "rb");
    if (!f)
        die(argv[6]);
    fseek(f, 0, SEEK_END);
    srclen = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    src = malloc(srclen);
    if (fread(src, 1, srclen, f) != srclen)
        die("read");
    fclose(f);
    lsio_codec *c;
    if (lsio_codec_create(&c, name, json) < 0)
        die("codec");
    if (lsio_chain_create(&chain, &c, 1, &spec) < 0)
        die("chain");
    lsio_codec_destroy(c);
    dstlen = lsio_chain_decoded_size(chain);
    dst = malloc(dstlen);
    memset(dst, 1, dstlen);
    zd = ZSTD_createDCtx();
    dd = libdeflate_alloc_decompressor();

    if (!strcmp(mode, "single")) {
        int has_bare = bare(name) == 0;
        enum { ROUNDS = 9 };
        double rl[ROUNDS], rb[ROUNDS];
        round_rate(0, name, secs / ROUNDS / 4); /* warm up */
        for (int r = 0; r < ROUNDS; r++) {
            rl[r] = round_rate(0, name, secs / ROUNDS / 2);
            rb[r] = has_bare ? round_rate(1, name, secs / ROUNDS / 2) : 0;
        }
        double gib = (double)dstlen / (1u << 30);
        printf("lsio %.4f\n", median(rl, ROUNDS) * gib); /* sorts rl */
        printf("lsio_best %.4f\n", rl[ROUNDS - 1] * gib);
        if (has_bare) {
            printf("bare %.4f\n", median(rb, ROUNDS) * gib);
            printf("bare_best %.4f\n", rb[ROUNDS - 1] * gib);
        }
    } else if (!strcmp(mode, "scale") && argc >= 9) {
        unsigned threads = (unsigned)atoi(argv[8]);
        enum { COPIES = 64 };
        scale_ctx s;
        s.dsts = malloc(COPIES * sizeof *s.dsts);
        for (int i = 0; i < COPIES; i++) {
            s.dsts[i] = malloc(dstlen);
            memset(s.dsts[i], 1, dstlen);
        }
        lsio_pool *p = NULL;
        if (threads > 1 && lsio_pool_create(&p, threads - 1) < 0)
            die("pool");
        double t0 = now(), t;
        long n = 0;
        do {
            if (p)
                lsio_pool_parallel_for(p, COPIES, 1, scale_piece, &s);
            else
                scale_piece(&s, 0, COPIES);
            n += COPIES;
            t = now();
        } while (t - t0 < secs);
        printf("pool %.4f\n", (double)n * (double)dstlen / (1u << 30) / (t - t0));
        if (p)
            lsio_pool_destroy(p);
        for (int i = 0; i < COPIES; i++)
            free(s.dsts[i]);
        free(s.dsts);
    } else {
        fprintf(stderr, "codecs_bench: unknown mode %s\n", mode);
        return 2;
    }
    ZSTD_freeDCtx(zd);
    libdeflate_free_decompressor(dd);
    lsio_chain_destroy(chain);
    free(src);
    free(dst);
    return 0;
}
