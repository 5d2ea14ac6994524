/*
 * codec_test.h — helpers the codec tests share: make a codec or a 1-D
 * chain in one line, fill buffers with data that compresses somewhat but
 * varies in every bit, and encode/decode through a chain with checks.
 */
#ifndef LSIO_CODEC_TEST_H
#define LSIO_CODEC_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lsio_codecs.h"
#include "testutil.h"

static inline lsio_codec *mk_codec(const char *name, const char *json)
{
    lsio_codec *c = NULL;
    int rc = lsio_codec_create(&c, name, json);
    if (rc < 0) {
        fprintf(stderr, "create %s %s: %s\n", name, json ? json : "", lsio_last_error());
        exit(1);
    }
    return c;
}

static inline lsio_chunk_spec spec1(const char *dtype, size_t n)
{
    lsio_chunk_spec s;
    memset(&s, 0, sizeof s);
    s.ndim = 1;
    s.shape[0] = n;
    if (lsio_dtype_parse(dtype, &s.dtype) < 0) {
        fprintf(stderr, "dtype %s\n", dtype);
        exit(1);
    }
    return s;
}

/* A chain of `n` codecs (names[i], jsons[i]) over spec. */
static inline lsio_chain *mk_chain(const lsio_chunk_spec *spec, size_t n, const char *const *names,
                                   const char *const *jsons)
{
    lsio_codec *cs[16] = {0};
    for (size_t i = 0; i < n; i++)
        cs[i] = mk_codec(names[i], jsons[i]);
    lsio_chain *ch = NULL;
    int rc = lsio_chain_create(&ch, cs, n, spec);
    for (size_t i = 0; i < n; i++)
        lsio_codec_destroy(cs[i]);
    if (rc < 0) {
        fprintf(stderr, "chain %s: %s\n", n ? names[0] : "(none)", lsio_last_error());
        exit(1);
    }
    return ch;
}

static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Runs of repeated bytes, slow ramps and noise: compressible, not trivial. */
static inline void fill(void *p, size_t n, uint64_t seed)
{
    uint8_t *b = p;
    uint64_t s = seed * 2654435761u + 88172645463325252ull;
    size_t i = 0;
    while (i < n) {
        uint64_t r = rng_next(&s);
        size_t run = 1 + (r >> 8) % 64;
        int mode = (int)(r % 3);
        for (size_t k = 0; k < run && i < n; k++, i++)
            b[i] = mode == 0 ? (uint8_t)(r >> 16) : mode == 1 ? (uint8_t)(i / 7) : (uint8_t)rng_next(&s);
    }
}

#endif
