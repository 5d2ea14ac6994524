/*
 * copy.c — moving the selected part of a decoded chunk to its place: a
 * strided walk over up to 32 dimensions whose adjacent dimensions are merged
 * where both sides are contiguous, so that the innermost loop is one memcpy
 * per contiguous run (a whole chunk row or more), or a tight loop of
 * fixed-size element moves where a side is strided (negative steps, F
 * order). Fills (missing chunks) take the same walk with a source stride of
 * zero. No function call per element.
 */
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lsio_codecs.h"
#include "zarr_internal.h"

/* Runs at least this long are streamed when the walk asks for it. */
#define STREAM_MIN 256

void zarr_walk_init(zarr_walk *w, unsigned ndim, const uint64_t *cnt, const int64_t *ss,
                    const int64_t *ds, size_t item)
{
    w->n = 0;
    w->stream = 0;
    w->item = item;
    w->total = 1;
    for (unsigned d = 0; d < ndim; d++) {
        w->total *= cnt[d];
        if (cnt[d] == 1)
            continue;
        if (w->n > 0) {
            unsigned p = w->n - 1;
            /* merge d into the previous (outer) dimension when the outer
             * one steps exactly over the inner one on both sides */
            if (w->ss[p] == (int64_t)cnt[d] * ss[d] && w->ds[p] == (int64_t)cnt[d] * ds[d]) {
                w->cnt[p] *= cnt[d];
                w->ss[p] = ss[d];
                w->ds[p] = ds[d];
                continue;
            }
        }
        w->cnt[w->n] = cnt[d];
        w->ss[w->n] = ss[d];
        w->ds[w->n] = ds[d];
        w->n++;
    }
}

int zarr_walk_contiguous(const zarr_walk *w)
{
    return w->n == 0 || (w->n == 1 && w->ss[0] == (int64_t)w->item &&
                         w->ds[0] == (int64_t)w->item);
}

/* memcpy with non-temporal stores for the whole 64-byte lines of dst:
 * the destination's lines are not read in first, and do not push the
 * source (a decoded chunk, still in cache) out. Plain memcpy where the
 * instruction set has no such store. */
static void copy_stream(unsigned char *dst, const unsigned char *src, size_t n)
{
#if defined(__SSE2__)
    size_t head = (size_t)(-(uintptr_t)dst & 63);
    if (head > n)
        head = n;
    memcpy(dst, src, head);
    dst += head;
    src += head;
    n -= head;
    size_t body = n & ~(size_t)63;
    for (size_t i = 0; i < body; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 48));
        _mm_stream_si128((__m128i *)(void *)(dst + i), a);
        _mm_stream_si128((__m128i *)(void *)(dst + i + 16), b);
        _mm_stream_si128((__m128i *)(void *)(dst + i + 32), c);
        _mm_stream_si128((__m128i *)(void *)(dst + i + 48), d);
    }
    memcpy(dst + body, src + body, n - body);
#else
    memcpy(dst, src, n);
#endif
}

/* The innermost dimension: n elements. */
static inline void run(unsigned char *dst, const unsigned char *src, uint64_t n, int64_t ss,
                       int64_t ds, size_t item, const unsigned char *fill, int fill_zero,
                       int stream)
{
    if (!src) {
        if (fill_zero && ds == (int64_t)item) {
            memset(dst, 0, n * item);
            return;
        }
        src = fill;
        ss = 0;
    }
    if (ss == (int64_t)item && ds == (int64_t)item) {
        if (stream && n * item >= STREAM_MIN)
            copy_stream(dst, src, n * item);
        else
            memcpy(dst, src, n * item);
        return;
    }
    switch (item) {
    case 1:
        for (uint64_t i = 0; i < n; i++)
            dst[(int64_t)i * ds] = src[(int64_t)i * ss];
        break;
    case 2:
        for (uint64_t i = 0; i < n; i++)
            memcpy(dst + (int64_t)i * ds, src + (int64_t)i * ss, 2);
        break;
    case 4:
        for (uint64_t i = 0; i < n; i++)
            memcpy(dst + (int64_t)i * ds, src + (int64_t)i * ss, 4);
        break;
    case 8:
        for (uint64_t i = 0; i < n; i++)
            memcpy(dst + (int64_t)i * ds, src + (int64_t)i * ss, 8);
        break;
    case 16:
        for (uint64_t i = 0; i < n; i++)
            memcpy(dst + (int64_t)i * ds, src + (int64_t)i * ss, 16);
        break;
    default:
        for (uint64_t i = 0; i < n; i++)
            memcpy(dst + (int64_t)i * ds, src + (int64_t)i * ss, item);
    }
}

void zarr_walk_copy(const zarr_walk *w, void *dstv, const void *srcv, const void *fill)
{
    unsigned char *dst = dstv;
    const unsigned char *src = srcv;
    size_t item = w->item;
    int fill_zero = 0;
    if (!src) {
        fill_zero = 1;
        for (size_t i = 0; i < item; i++)
            fill_zero &= ((const unsigned char *)fill)[i] == 0;
    }
    if (w->n == 0) {
        run(dst, src, 1, (int64_t)item, (int64_t)item, item, fill, fill_zero, 0);
        return;
    }
    unsigned in = w->n - 1;
    int stream = w->stream && src;
    uint64_t idx[ZMAX] = {0};
    for (;;) {
        run(dst, src, w->cnt[in], w->ss[in], w->ds[in], item, fill, fill_zero, stream);
        /* advance the odometer over the outer dimensions */
        int d = (int)in - 1;
        for (; d >= 0; d--) {
            dst += w->ds[d];
            if (src)
                src += w->ss[d];
            if (++idx[d] < w->cnt[d])
                break;
            dst -= w->ds[d] * (int64_t)w->cnt[d];
            if (src)
                src -= w->ss[d] * (int64_t)w->cnt[d];
            idx[d] = 0;
        }
        if (d < 0)
            break;
    }
#if defined(__SSE2__)
    if (stream) /* the streamed lines are visible before the caller says done */
        _mm_sfence();
#endif
}

/* ------------------------------------------------------------ scatter */

int zarr_scatter_init(zarr_scatter *sc, const zarr_walk *w, unsigned char *dst, int64_t src_off)
{
    if (w->n == 0 || src_off < 0)
        return 0;
    unsigned in = w->n - 1;
    size_t item = w->item;
    if (w->ss[in] != (int64_t)item || w->ds[in] != (int64_t)item || w->cnt[in] * item < 64)
        return 0;
    /* each outer step moves past everything inside it: runs ascend in the
     * chunk in the walk's order and never overlap */
    uint64_t span = w->cnt[in] * item;
    for (unsigned d = in; d-- > 0;) {
        if (w->ss[d] <= 0 || (uint64_t)w->ss[d] < span)
            return 0;
        span += (w->cnt[d] - 1) * (uint64_t)w->ss[d];
    }
    sc->w = *w;
    sc->run = w->cnt[in] * item;
    memset(sc->idx, 0, sizeof sc->idx);
    sc->d = dst;
    sc->s = (size_t)src_off;
    sc->done = 0;
    sc->bad = 0;
    return 1;
}

void zarr_scatter_put(void *ctx, size_t e0, size_t n, const unsigned char *const *planes,
                      size_t nplanes)
{
    zarr_scatter *sc = ctx;
    const zarr_walk *w = &sc->w;
    size_t item = w->item, b0 = e0 * item, b1 = (e0 + n) * item;
    const unsigned char *p[16];
    if (nplanes != 1 && (nplanes != item || item > 16)) {
        sc->bad = 1;
        return;
    }
    while (!sc->done && sc->s < b1) {
        size_t a = sc->s > b0 ? sc->s : b0, e = sc->s + sc->run < b1 ? sc->s + sc->run : b1;
        if (a < e) {
            size_t k = (a - b0) / item, cnt = (e - a) / item;
            unsigned char *d = sc->d + (a - sc->s);
            if (nplanes == 1) {
                if (w->stream && cnt * item >= STREAM_MIN)
                    copy_stream(d, planes[0] + (a - b0), cnt * item);
                else
                    memcpy(d, planes[0] + (a - b0), cnt * item);
            } else {
                for (size_t b = 0; b < nplanes; b++)
                    p[b] = planes[b] + k;
                lsio_unshuffle(d, p, cnt, item, w->stream);
            }
        }
        if (e < sc->s + sc->run)
            return; /* the run goes on in the next piece */
        /* the next run: advance the odometer over the outer dimensions */
        int d = (int)w->n - 2;
        for (; d >= 0; d--) {
            sc->d += w->ds[d];
            sc->s += (size_t)w->ss[d];
            if (++sc->idx[d] < w->cnt[d])
                break;
            sc->d -= w->ds[d] * (int64_t)w->cnt[d];
            sc->s -= (size_t)w->ss[d] * w->cnt[d];
            sc->idx[d] = 0;
        }
        if (d < 0)
            sc->done = 1;
    }
}

int zarr_scatter_end(zarr_scatter *sc)
{
    if (sc->w.stream)
        lsio_unshuffle_fence();
    return sc->done && !sc->bad;
}
