/*
 * zarr_testutil.h — helpers of the Zarr C tests: write small files, and
 * encode chunks with the codecs library (the reader's own decoders are
 * checked against values the test states, and the encoders themselves are
 * checked against zarr-python by the Python tests).
 */
#ifndef LSIO_ZARR_TESTUTIL_H
#define LSIO_ZARR_TESTUTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lsio_zarr.h"
#include "testutil.h"

static inline void zt_mkdirs(const char *path)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

/* Write data to dir/name (directories made as needed). */
static inline void zt_write(const char *dir, const char *name, const void *data, size_t len)
{
    char path[8192];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path - 1)
        exit(1);
    char *slash = strrchr(path, '/');
    *slash = 0;
    zt_mkdirs(path);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    CHECK(f);
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static inline void zt_text(const char *dir, const char *name, const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    zt_write(dir, name, buf, (size_t)n);
}

/* v little-endian into p[0..8) (shard index entries). */
static inline void zt_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Encode one chunk with codecs (encoding order) for spec. */
static inline void *zt_encode(lsio_codec *const *codecs, size_t n, const lsio_chunk_spec *spec,
                              const void *src, size_t len, size_t *outlen)
{
    lsio_chain *ch;
    CHECK_OK(lsio_chain_create(&ch, codecs, n, spec));
    void *dst;
    CHECK_OK(lsio_chain_encode(ch, src, len, &dst, outlen));
    lsio_chain_destroy(ch);
    return dst;
}

/* Encode one chunk with one codec for spec and write it as dir/key. */
static inline void zt_write_chunk(const char *dir, const char *key, lsio_codec *codec,
                                  const lsio_chunk_spec *spec, const void *src, size_t len)
{
    size_t n;
    void *enc = zt_encode(&codec, 1, spec, src, len, &n);
    zt_write(dir, key, enc, n);
    free(enc);
}

/* Expect rc == want and the last error to contain each needle (NULL ends). */
static inline void zt_expect(int rc, int want, ...)
{
    if (rc != want) {
        fprintf(stderr, "got %d (%s), want %d; message: %s\n", rc, lsio_strerror(rc), want,
                lsio_last_error());
        exit(1);
    }
    va_list ap;
    va_start(ap, want);
    const char *s;
    while ((s = va_arg(ap, const char *)))
        if (!strstr(lsio_last_error(), s)) {
            fprintf(stderr, "message \"%s\" lacks \"%s\"\n", lsio_last_error(), s);
            exit(1);
        }
    va_end(ap);
}

static inline int64_t zt_rnd(int64_t lo, int64_t hi) { return lo + rand() % (hi - lo + 1); }

/* A random numpy-style selection of an array of this shape (rand()):
 * anything (out-of-range starts and stops, open ends, steps of ±1..5,
 * integer indices) or, with rows set, mostly what reads whole rows (steps
 * of 1 three times in four, starts in range, no index in the last
 * dimension). */
static inline void zt_random_selection(unsigned ndim, const uint64_t *shape, int rows,
                                       lsio_selection *s)
{
    int64_t st[LSIO_ZARR_MAX_DIMS], sp[LSIO_ZARR_MAX_DIMS], stp[LSIO_ZARR_MAX_DIMS];
    int idx[LSIO_ZARR_MAX_DIMS];
    for (unsigned d = 0; d < ndim; d++) {
        int64_t n = (int64_t)shape[d];
        idx[d] = rows ? d + 1 < ndim && rand() % 6 == 0 : rand() % 5 == 0;
        st[d] = rand() % 4 == 0 ? INT64_MIN : rows ? zt_rnd(0, n - 1) : zt_rnd(-n - 2, n + 2);
        sp[d] = rand() % 4 == 0 ? INT64_MIN : zt_rnd(rows ? -n : -n - 2, n + 2);
        if (rows)
            stp[d] = rand() % 4 ? 1 : zt_rnd(1, 3) * (rand() % 3 ? 1 : -1);
        else
            stp[d] = rand() % 3 == 0 ? INT64_MIN : zt_rnd(1, 5) * (rand() % 2 ? 1 : -1);
        if (idx[d])
            st[d] = zt_rnd(-n, n - 1);
    }
    CHECK_OK(lsio_selection_from_slices(ndim, shape, st, sp, stp, idx, s));
}

#endif
