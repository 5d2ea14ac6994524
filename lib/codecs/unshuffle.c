/*
 * unshuffle.c — putting byte-shuffled elements back together: element i
 * of n, esize bytes, takes its byte b from planes[b][i]. The shuffle
 * filter and blosc store elements that way (all first bytes, then all
 * second bytes...). Used by the shuffle filter's decoding and by readers
 * that unshuffle blosc blocks straight into their place in an output
 * (lsio_chain_decode_sink), so the planes need not be adjacent.
 *
 * Element sizes 2, 4 and 8 interleave 16 elements at a time with SSE2
 * unpacks; others, and the last n % 16 elements, go one byte at a time.
 * With `stream`, 16-byte stores to a 16-byte aligned destination are
 * non-temporal (for outputs larger than the caches); the caller fences
 * (lsio_unshuffle_fence) before it says the data is there.
 */
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lsio_codecs.h"

static void unshuffle_scalar(unsigned char *d, const unsigned char *const *p, size_t i0,
                             size_t n, size_t es)
{
    for (size_t i = i0; i < n; i++)
        for (size_t b = 0; b < es; b++)
            d[i * es + b] = p[b][i];
}

#if defined(__SSE2__)
#define LD(p, i) _mm_loadu_si128((const __m128i *)(const void *)((p) + (i)))
#define ST(d, v)                                                                   \
    do {                                                                           \
        if (nt)                                                                    \
            _mm_stream_si128((__m128i *)(void *)(d), (v));                         \
        else                                                                       \
            _mm_storeu_si128((__m128i *)(void *)(d), (v));                         \
    } while (0)

static size_t unshuffle2(unsigned char *d, const unsigned char *const *p, size_t n, int nt)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i a = LD(p[0], i), b = LD(p[1], i);
        ST(d + 2 * i, _mm_unpacklo_epi8(a, b));
        ST(d + 2 * i + 16, _mm_unpackhi_epi8(a, b));
    }
    return i;
}

static size_t unshuffle4(unsigned char *d, const unsigned char *const *p, size_t n, int nt)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i a = LD(p[0], i), b = LD(p[1], i), c = LD(p[2], i), e = LD(p[3], i);
        __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
        __m128i ce0 = _mm_unpacklo_epi8(c, e), ce1 = _mm_unpackhi_epi8(c, e);
        unsigned char *o = d + 4 * i;
        ST(o, _mm_unpacklo_epi16(ab0, ce0));
        ST(o + 16, _mm_unpackhi_epi16(ab0, ce0));
        ST(o + 32, _mm_unpacklo_epi16(ab1, ce1));
        ST(o + 48, _mm_unpackhi_epi16(ab1, ce1));
    }
    return i;
}

static size_t unshuffle8(unsigned char *d, const unsigned char *const *p, size_t n, int nt)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i x[8], y[8], z[8];
        for (int b = 0; b < 8; b++)
            x[b] = LD(p[b], i);
        /* bytes pairs (0 1) (2 3) (4 5) (6 7), elements 0-7 then 8-15 */
        for (int b = 0; b < 4; b++) {
            y[b] = _mm_unpacklo_epi8(x[2 * b], x[2 * b + 1]);
            y[b + 4] = _mm_unpackhi_epi8(x[2 * b], x[2 * b + 1]);
        }
        /* bytes 0-3 and 4-7 of elements 0-3, 4-7, 8-11, 12-15 */
        z[0] = _mm_unpacklo_epi16(y[0], y[1]);
        z[1] = _mm_unpackhi_epi16(y[0], y[1]);
        z[2] = _mm_unpacklo_epi16(y[4], y[5]);
        z[3] = _mm_unpackhi_epi16(y[4], y[5]);
        z[4] = _mm_unpacklo_epi16(y[2], y[3]);
        z[5] = _mm_unpackhi_epi16(y[2], y[3]);
        z[6] = _mm_unpacklo_epi16(y[6], y[7]);
        z[7] = _mm_unpackhi_epi16(y[6], y[7]);
        unsigned char *o = d + 8 * i;
        for (int k = 0; k < 4; k++) {
            ST(o + 32 * k, _mm_unpacklo_epi32(z[k], z[k + 4]));
            ST(o + 32 * k + 16, _mm_unpackhi_epi32(z[k], z[k + 4]));
        }
    }
    return i;
}
#undef LD
#undef ST
#endif

void lsio_unshuffle(void *dst, const unsigned char *const *planes, size_t n, size_t esize,
                    int stream)
{
    unsigned char *d = dst;
    if (esize == 1) {
        memcpy(d, planes[0], n);
        return;
    }
    size_t i = 0;
#if defined(__SSE2__)
    int nt = stream && ((uintptr_t)d & 15) == 0;
    if (esize == 2)
        i = unshuffle2(d, planes, n, nt);
    else if (esize == 4)
        i = unshuffle4(d, planes, n, nt);
    else if (esize == 8)
        i = unshuffle8(d, planes, n, nt);
#else
    (void)stream;
#endif
    unshuffle_scalar(d, planes, i, n, esize);
}

void lsio_unshuffle_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}
