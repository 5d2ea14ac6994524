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

#endif
