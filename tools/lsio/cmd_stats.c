/*
 * cmd_stats.c — `lsio stats URL [--select S] [--json]`: count, min, max,
 * mean, standard deviation and NaN count of an array or a selection, in one
 * streaming pass with bounded memory: the "summary statistics over a
 * terabyte" job.
 *
 * lsio_zarr_for_each hands the selected elements of each chunk to a
 * callback on the pool threads; the callback reduces them with a loop
 * specialised per data type (no per-element indirection). The chunks'
 * partial results are merged into the total in the chunks' own order
 * (for_each's index), not in the order they finish: a chunk that finishes
 * early waits in a small heap until those before it are merged, so the
 * same array gives the same digits every run. The heap holds only the
 * chunks finished out of turn (bounded by the reads in flight).
 *
 * Numerics (as numpy's nan-functions, in double): inside a chunk the values
 * are taken in blocks of SUB elements; each block gets its mean and sum of
 * squared deviations in one pass over values shifted by one of its own
 * (stable, see DEFINE_KERNEL), accumulated in LANES independent lanes so
 * the compiler can vectorise; blocks and chunks are merged with Chan et
 * al.'s pairwise formula. NaNs are counted and left out of everything else. The standard
 * deviation is the population one (ddof = 0), as numpy's default.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lsio_zarr.h"


#define SUB 2048 /* elements per block (one shift, one partial) */
#define LANES 8  /* independent accumulators (vectorisable) */

static void usage(FILE *f)
{
    fprintf(f, "usage: lsio stats URL [--select S] [--json] [options]\n"
               "  --select S           numpy-style selection: \"0:10,:,5\"\n"
               "  --json               one JSON object: count, min, max, mean, std,\n"
               "                       nan_count, seconds, bytes\n"
               "  --no-progress        no progress bar even on a terminal\n"
               CLI_ZARR_COMMON_HELP);
}

/* ------------------------------------------------------------ partials */

typedef enum vkind { VK_FLOAT, VK_INT, VK_UINT } vkind;

/* The statistics of a set of values. min/max live in the field of the
 * data's kind, so 64-bit integers stay exact. */
typedef struct part {
    uint64_t n;    /* values, NaNs excluded */
    uint64_t nan;
    double mean, m2; /* m2: sum of squared deviations from mean */
    double fmin, fmax;
    int64_t imin, imax;
    uint64_t umin, umax;
} part;

static void part_init(part *p)
{
    memset(p, 0, sizeof *p);
    p->fmin = INFINITY;
    p->fmax = -INFINITY;
    p->imin = INT64_MAX;
    p->imax = INT64_MIN;
    p->umin = UINT64_MAX;
    p->umax = 0;
}

/* Merge b into a (Chan, Golub, LeVeque: stable for any sizes). */
static void part_merge(part *a, const part *b)
{
    a->nan += b->nan;
    a->fmin = b->fmin < a->fmin ? b->fmin : a->fmin;
    a->fmax = b->fmax > a->fmax ? b->fmax : a->fmax;
    a->imin = b->imin < a->imin ? b->imin : a->imin;
    a->imax = b->imax > a->imax ? b->imax : a->imax;
    a->umin = b->umin < a->umin ? b->umin : a->umin;
    a->umax = b->umax > a->umax ? b->umax : a->umax;
    if (!b->n)
        return;
    if (!a->n) {
        a->n = b->n;
        a->mean = b->mean;
        a->m2 = b->m2;
        return;
    }
    double na = (double)a->n, nb = (double)b->n, n = na + nb, d = b->mean - a->mean;
    a->mean += d * (nb / n);
    a->m2 += b->m2 + d * d * (na * nb / n);
    a->n += b->n;
}

/* ------------------------------------------------------------- kernels */

/* A block's end: m values, cnt of them numbers, whose shifts by sh sum to
 * S1 and their squares to S2; p holds its min and max (when cnt > 0).
 * Its mean and m2 = S2 - S1^2 / cnt (clamped at 0), merged into acc. */
static void block_merge(part *acc, part *p, size_t m, double cnt, double S1, double S2, double sh)
{
    p->n = (uint64_t)cnt;
    p->nan = m - p->n;
    if (p->n) {
        p->mean = sh + S1 / cnt;
        p->m2 = S2 - S1 * (S1 / cnt);
        if (p->m2 < 0)
            p->m2 = 0;
    }
    part_merge(acc, p);
}

#define NUM_FLOAT(x) (!isnan(x))
#define NUM_INT(x) 1
#define STORE_FLOAT(p, lo, hi) ((p)->fmin = (double)(lo), (p)->fmax = (double)(hi))
#define STORE_INT(p, lo, hi) ((p)->imin = (int64_t)(lo), (p)->imax = (int64_t)(hi))
#define STORE_UINT(p, lo, hi) ((p)->umin = (uint64_t)(lo), (p)->umax = (uint64_t)(hi))

/* DEFINE_KERNEL(name, T, NUM, LO, HI, STORE) defines
 *   static void name(const T *v, size_t n, part *acc)
 * which merges the statistics of v[0..n) into acc: per block of SUB values,
 * one pass in LANES lanes of the sums of d = x - K and d * d (K: the
 * block's first number), count, min and max; then the block's mean and
 * sum of squared deviations, m2 = S2 - S1^2 / n, merged with Chan's
 * formula. Shifting by a value of the block keeps this stable: m2 >=
 * (K - mean)^2, so the cancellation costs at most ~SUB ulps of m2.
 * NUM(x) says x is a number (not NaN); LO/HI start min and max; STORE puts
 * them in a part. */
#define DEFINE_KERNEL(name, T, NUM, LO, HI, STORE)                                           \
    static void name(const T *v, size_t n, part *acc)                                        \
    {                                                                                        \
        for (size_t b = 0; b < n; b += SUB) {                                                \
            const T *q = v + b;                                                              \
            size_t m = n - b < SUB ? n - b : SUB, k;                                         \
            double s1[LANES] = {0}, s2[LANES] = {0}, c[LANES] = {0}, sh = 0;                 \
            T lo[LANES], hi[LANES];                                                          \
            for (k = 0; k < m; k++)                                                          \
                if (NUM(q[k])) {                                                             \
                    sh = (double)q[k];                                                       \
                    break;                                                                   \
                }                                                                            \
            for (int j = 0; j < LANES; j++) {                                                \
                lo[j] = HI;                                                                  \
                hi[j] = LO;                                                                  \
            }                                                                                \
            for (k = 0; k + LANES <= m; k += LANES)                                          \
                for (int j = 0; j < LANES; j++) {                                            \
                    T x = q[k + j];                                                          \
                    double d = NUM(x) ? (double)x - sh : 0.0;                                \
                    s1[j] += d;                                                              \
                    s2[j] += d * d;                                                          \
                    c[j] += NUM(x) ? 1.0 : 0.0;                                              \
                    lo[j] = x < lo[j] ? x : lo[j];                                           \
                    hi[j] = x > hi[j] ? x : hi[j];                                           \
                }                                                                            \
            for (; k < m; k++) {                                                             \
                T x = q[k];                                                                  \
                double d = NUM(x) ? (double)x - sh : 0.0;                                    \
                s1[0] += d;                                                                  \
                s2[0] += d * d;                                                              \
                c[0] += NUM(x) ? 1.0 : 0.0;                                                  \
                lo[0] = x < lo[0] ? x : lo[0];                                               \
                hi[0] = x > hi[0] ? x : hi[0];                                               \
            }                                                                                \
            double S1 = 0, S2 = 0, cnt = 0;                                                  \
            for (int j = 0; j < LANES; j++) {                                                \
                S1 += s1[j];                                                                 \
                S2 += s2[j];                                                                 \
                cnt += c[j];                                                                 \
                lo[0] = lo[j] < lo[0] ? lo[j] : lo[0];                                       \
                hi[0] = hi[j] > hi[0] ? hi[j] : hi[0];                                       \
            }                                                                                \
            part p;                                                                          \
            part_init(&p);                                                                   \
            if (cnt > 0)                                                                     \
                STORE(&p, lo[0], hi[0]);                                                     \
            block_merge(acc, &p, m, cnt, S1, S2, sh);                                        \
        }                                                                                    \
    }

/* Floats, written for the vectoriser: the same lanes as DEFINE_KERNEL (lane
 * j takes elements k + j), as 2 x 4-wide vectors of GCC's vector extensions
 * with NaNs masked out instead of branched around. On x86-64 the function
 * is also built for AVX2, chosen at load time (target_clones). The baseline
 * SSE2 build ran 1.9x DEFINE_KERNEL's speed on this 4 MiB-chunk workload,
 * the AVX2 one 2.7x (one thread, cache-resident data; 3.2 -> 8.5 GiB/s). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang_analyzer__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4l __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* VT: 4 T; VI: 4 integers of T's width (VT's comparison results). */
#define DEFINE_FKERNEL(name, T, VT, VI)                                                      \
    CLONES static void name(const T *v, size_t n, part *acc)                                 \
    {                                                                                        \
        const v4d one = {1, 1, 1, 1};                                                        \
        for (size_t b = 0; b < n; b += SUB) {                                                \
            const T *q = v + b;                                                              \
            size_t m = n - b < SUB ? n - b : SUB, k;                                         \
            double sh = 0;                                                                   \
            for (k = 0; k < m; k++)                                                          \
                if (!isnan(q[k])) {                                                          \
                    sh = (double)q[k];                                                       \
                    break;                                                                   \
                }                                                                            \
            v4d vsh = {sh, sh, sh, sh}, s1a = {0}, s1b = {0}, s2a = {0}, s2b = {0};          \
            v4d ca = {0}, cb = {0};                                                          \
            VT loa = {INFINITY, INFINITY, INFINITY, INFINITY}, lob = loa;                    \
            VT hia = -loa, hib = -loa;                                                       \
            for (k = 0; k + 8 <= m; k += 8) {                                                \
                VT xa, xb;                                                                   \
                memcpy(&xa, q + k, sizeof xa);                                               \
                memcpy(&xb, q + k + 4, sizeof xb);                                           \
                VI oka = xa == xa, okb = xb == xb; /* not NaN */                             \
                v4l ma = __builtin_convertvector(oka, v4l);                                  \
                v4l mb = __builtin_convertvector(okb, v4l);                                  \
                v4d da = __builtin_convertvector(xa, v4d) - vsh;                             \
                v4d db = __builtin_convertvector(xb, v4d) - vsh;                             \
                da = (v4d)((v4l)da & ma);                                                    \
                db = (v4d)((v4l)db & mb);                                                    \
                s1a += da;                                                                   \
                s1b += db;                                                                   \
                s2a += da * da;                                                              \
                s2b += db * db;                                                              \
                ca += (v4d)((v4l)one & ma);                                                  \
                cb += (v4d)((v4l)one & mb);                                                  \
                /* x < lo ? x : lo (a NaN x compares false: lo stays) */                     \
                VI c1 = xa < loa, c2 = xb < lob, c3 = xa > hia, c4 = xb > hib;               \
                loa = (VT)(((VI)xa & c1) | ((VI)loa & ~c1));                                 \
                lob = (VT)(((VI)xb & c2) | ((VI)lob & ~c2));                                 \
                hia = (VT)(((VI)xa & c3) | ((VI)hia & ~c3));                                 \
                hib = (VT)(((VI)xb & c4) | ((VI)hib & ~c4));                                 \
            }                                                                                \
            double S1 = 0, S2 = 0, cnt = 0;                                                  \
            T lo = INFINITY, hi = -INFINITY;                                                 \
            for (int j = 0; j < 4; j++) {                                                    \
                S1 += s1a[j] + s1b[j];                                                       \
                S2 += s2a[j] + s2b[j];                                                       \
                cnt += ca[j] + cb[j];                                                        \
                lo = loa[j] < lo ? loa[j] : lo;                                              \
                lo = lob[j] < lo ? lob[j] : lo;                                              \
                hi = hia[j] > hi ? hia[j] : hi;                                              \
                hi = hib[j] > hi ? hib[j] : hi;                                              \
            }                                                                                \
            for (; k < m; k++) {                                                             \
                T x = q[k];                                                                  \
                if (isnan(x))                                                                \
                    continue;                                                                \
                double d = (double)x - sh;                                                   \
                S1 += d;                                                                     \
                S2 += d * d;                                                                 \
                cnt += 1;                                                                    \
                lo = x < lo ? x : lo;                                                        \
                hi = x > hi ? x : hi;                                                        \
            }                                                                                \
            part p;                                                                          \
            part_init(&p);                                                                   \
            if (cnt > 0)                                                                     \
                STORE_FLOAT(&p, lo, hi);                                                     \
            block_merge(acc, &p, m, cnt, S1, S2, sh);                                        \
        }                                                                                    \
    }

/* x < lo ? x : lo and x > hi ? x : hi on vectors of type VT whose
 * comparisons give VI (C has no ?: on vectors; gcc makes these pmin/pmax). */
#define VMIN(VT, VI, a, b) ((VT)(((VI)(a) & ((a) < (b))) | ((VI)(b) & ~((a) < (b)))))
#define VMAX(VT, VI, a, b) ((VT)(((VI)(a) & ((a) > (b))) | ((VI)(b) & ~((a) > (b)))))

/* 8- and 16-bit integers, written for the vectoriser: exact integer sums.
 * With y = x - OFF (OFF: 0 for signed T, 2^(BITS-1) for unsigned, so y
 * fits T's signed twin) the block's sums of y and y^2 are taken in integer
 * lanes, then turned into DEFINE_KERNEL's shifted sums with
 *   S1 = sum(y) - m*sy,  S2 = sum(y^2) - 2*sy*sum(y) + m*sy^2
 * (sy: the block's first y; y - sy = x - K), all exact in int64 (S2 <
 * 2^45). DEFINE_KERNEL's double lanes were exact for these types too
 * (every partial sum an integer below 2^53), so S1, S2 and the results are
 * the same to the bit.
 * A step loads VN values as V2 (32 bytes): signed integers of twice T's
 * width, whose low and high T, a and b, come out with shifts (ST: V2 for
 * signed T, its unsigned twin U2 for unsigned); the sums of their squares,
 * viewed as U4 (4x T's width), are split the same way: only same-width
 * lane operations, no conversions. min and max stay in T, on two VT of 16
 * bytes (VI: VT's comparisons): 32-byte ones went scalar in the SSE2
 * build. Bounds, for SUB <= 2048 (SUB/VN steps: 128 for 16-bit, 64 for
 * 8-bit):
 *   16-bit: |a|, |b| <= 2^15: s1 (int32) gets a + b per step: <= 2^23;
 *           a*a + b*b <= 2^31 in uint32, whose halves go to uint64 lanes.
 *    8-bit: |a|, |b| <= 2^7: s1 (int16) gets a + b per step: <= 2^14;
 *           a*a + b*b <= 2^15 in uint16, whose halves go to uint32 lanes:
 *           < 2^23.
 * One thread, a cache-resident 2 MiB chunk, DEFINE_KERNEL -> this (AVX2
 * clone, SSE2 one): int16 4.8 -> 20, 6.0 GiB/s; uint16 4.8 -> 15, 5.6;
 * uint8 0.9 -> 14, 7.7; int8 0.9 -> 18, 7.7. */
_Static_assert(SUB <= 2048, "the integer kernels' lane bounds assume SUB <= 2048");
#define DEFINE_IKERNEL(name, T, VT, VI, V2, U2, ST, U4, OFF, LO, HI, STORE)                  \
    CLONES static void name(const T *v, size_t n, part *acc)                                 \
    {                                                                                        \
        enum { VN = sizeof(V2) / sizeof(T), HN = VN / 2, BITS = 8 * sizeof(T) };             \
        _Static_assert(2 * sizeof(VT) == sizeof(V2) && sizeof(V2) == sizeof(U4), #name);     \
        for (size_t b = 0; b < n; b += SUB) {                                                \
            const T *q = v + b;                                                              \
            size_t m = n - b < SUB ? n - b : SUB, k;                                         \
            VT lo = (VT){0} + (T)(HI), hi = (VT){0} + (T)(LO), lo2 = lo, hi2 = hi;           \
            V2 s1 = {0};                                                                     \
            U4 s2 = {0}, low = (((U4){0} + 1) << 2 * BITS) - 1;                              \
            for (k = 0; k + VN <= m; k += VN) {                                              \
                VT x, x2;                                                                    \
                V2 w;                                                                        \
                memcpy(&x, q + k, sizeof x);                                                 \
                memcpy(&x2, q + k + HN, sizeof x2);                                          \
                memcpy(&w, q + k, sizeof w);                                                 \
                lo = VMIN(VT, VI, x, lo);                                                    \
                hi = VMAX(VT, VI, x, hi);                                                    \
                lo2 = VMIN(VT, VI, x2, lo2);                                                 \
                hi2 = VMAX(VT, VI, x2, hi2);                                                 \
                V2 ya = (V2)((ST)((U2)w << BITS) >> BITS) - (OFF);                           \
                V2 yb = (V2)((ST)w >> BITS) - (OFF);                                         \
                s1 += ya + yb;                                                               \
                U4 sq = (U4)((U2)(ya * ya) + (U2)(yb * yb));                                 \
                s2 += (sq & low) + (sq >> 2 * BITS);                                         \
            }                                                                                \
            int64_t Y1 = 0, Y2 = 0;                                                          \
            T l = (T)(HI), h = (T)(LO);                                                      \
            for (int j = 0; j < HN; j++) {                                                   \
                l = lo[j] < l ? lo[j] : l;                                                   \
                l = lo2[j] < l ? lo2[j] : l;                                                 \
                h = hi[j] > h ? hi[j] : h;                                                   \
                h = hi2[j] > h ? hi2[j] : h;                                                 \
            }                                                                                \
            for (int j = 0; j < VN / 2; j++)                                                 \
                Y1 += s1[j];                                                                 \
            for (int j = 0; j < VN / 4; j++)                                                 \
                Y2 += (int64_t)s2[j];                                                        \
            for (; k < m; k++) {                                                             \
                T x = q[k];                                                                  \
                int64_t y = (int64_t)x - (OFF);                                              \
                Y1 += y;                                                                     \
                Y2 += y * y;                                                                 \
                l = x < l ? x : l;                                                           \
                h = x > h ? x : h;                                                           \
            }                                                                                \
            int64_t sy = (int64_t)q[0] - (OFF), mm = (int64_t)m;                             \
            int64_t S1 = Y1 - mm * sy, S2 = Y2 - 2 * sy * Y1 + mm * sy * sy;                 \
            part p;                                                                          \
            part_init(&p);                                                                   \
            STORE(&p, l, h);                                                                 \
            block_merge(acc, &p, m, (double)m, (double)S1, (double)S2, (double)q[0]);        \
        }                                                                                    \
    }

/* 32-bit integers: DEFINE_KERNEL's double lanes, the same operations in the
 * same order (lane j takes element k + j, the tail goes to lane 0, lanes
 * summed 0..7), so the same rounding of d * d (up to 2^64): the same
 * results to the bit, as 2 x 4-wide vectors. An unsigned T is taken as the
 * signed y = x - OFF (OFF = 2^31; the bit flip x ^ 2^31): its conversion
 * and shift by sh - OFF are exact, and min/max run on y in int32 lanes,
 * 16 bytes wide (SSE2 has no 32-bit min, 32-byte ones went scalar there).
 * Same chunk: int32 5.3 -> 17.6 GiB/s (AVX2), 7.4 (SSE2); uint32 4.9 ->
 * 16.4, 7.3. */
#define DEFINE_DKERNEL(name, T, OFF, LO, HI, STORE)                                          \
    CLONES static void name(const T *v, size_t n, part *acc)                                 \
    {                                                                                        \
        const v4i flip = (v4i){0} + (int32_t)((OFF) ? INT32_MIN : 0);                        \
        for (size_t b = 0; b < n; b += SUB) {                                                \
            const T *q = v + b;                                                              \
            size_t m = n - b < SUB ? n - b : SUB, k;                                         \
            double sh = (double)q[0];                                                        \
            v4d vsh = {0}, s1a = {0}, s1b = {0}, s2a = {0}, s2b = {0};                       \
            vsh += sh - (double)(OFF);                                                       \
            v4i loa = (v4i){0} + INT32_MAX, lob = loa, hia = (v4i){0} + INT32_MIN, hib = hia; \
            for (k = 0; k + 8 <= m; k += 8) {                                                \
                v4i ya, yb;                                                                  \
                memcpy(&ya, q + k, sizeof ya);                                               \
                memcpy(&yb, q + k + 4, sizeof yb);                                           \
                ya ^= flip;                                                                  \
                yb ^= flip;                                                                  \
                loa = VMIN(v4i, v4i, ya, loa);                                               \
                lob = VMIN(v4i, v4i, yb, lob);                                               \
                hia = VMAX(v4i, v4i, ya, hia);                                               \
                hib = VMAX(v4i, v4i, yb, hib);                                               \
                v4d da = __builtin_convertvector(ya, v4d) - vsh;                             \
                v4d db = __builtin_convertvector(yb, v4d) - vsh;                             \
                s1a += da;                                                                   \
                s1b += db;                                                                   \
                s2a += da * da;                                                              \
                s2b += db * db;                                                              \
            }                                                                                \
            int64_t l = INT32_MAX, h = INT32_MIN;                                            \
            for (int j = 0; j < 4; j++) {                                                    \
                l = loa[j] < l ? loa[j] : l;                                                 \
                l = lob[j] < l ? lob[j] : l;                                                 \
                h = hia[j] > h ? hia[j] : h;                                                 \
                h = hib[j] > h ? hib[j] : h;                                                 \
            }                                                                                \
            l += (OFF);                                                                      \
            h += (OFF);                                                                      \
            for (; k < m; k++) {                                                             \
                T x = q[k];                                                                  \
                double d = (double)x - sh;                                                   \
                s1a[0] += d;                                                                 \
                s2a[0] += d * d;                                                             \
                l = x < l ? x : l;                                                           \
                h = x > h ? x : h;                                                           \
            }                                                                                \
            double S1 = 0, S2 = 0;                                                           \
            for (int j = 0; j < 4; j++) {                                                    \
                S1 += s1a[j];                                                                \
                S2 += s2a[j];                                                                \
            }                                                                                \
            for (int j = 0; j < 4; j++) {                                                    \
                S1 += s1b[j];                                                                \
                S2 += s2b[j];                                                                \
            }                                                                                \
            part p;                                                                          \
            part_init(&p);                                                                   \
            STORE(&p, l, h);                                                                 \
            block_merge(acc, &p, m, (double)m, S1, S2, sh);                                  \
        }                                                                                    \
    }

typedef int8_t v16qi __attribute__((vector_size(16)));
typedef uint8_t v16qu __attribute__((vector_size(16)));
typedef int16_t v8hi __attribute__((vector_size(16)));
typedef uint16_t v8hu __attribute__((vector_size(16)));
typedef int16_t v16hi __attribute__((vector_size(32)));
typedef uint16_t v16hu __attribute__((vector_size(32)));
typedef int32_t v8si __attribute__((vector_size(32)));
typedef uint32_t v8su __attribute__((vector_size(32)));
typedef uint64_t v4du __attribute__((vector_size(32)));

DEFINE_FKERNEL(kern_f4, float, v4f, v4i)
DEFINE_FKERNEL(kern_f8, double, v4d, v4l)
DEFINE_IKERNEL(kern_i1, int8_t, v16qi, v16qi, v16hi, v16hu, v16hi, v8su, 0, INT8_MIN, INT8_MAX,
               STORE_INT)
DEFINE_IKERNEL(kern_u1, uint8_t, v16qu, v16qi, v16hi, v16hu, v16hu, v8su, 128, 0, UINT8_MAX,
               STORE_UINT)
DEFINE_IKERNEL(kern_i2, int16_t, v8hi, v8hi, v8si, v8su, v8si, v4du, 0, INT16_MIN, INT16_MAX,
               STORE_INT)
DEFINE_IKERNEL(kern_u2, uint16_t, v8hu, v8hi, v8si, v8su, v8su, v4du, 32768, 0, UINT16_MAX,
               STORE_UINT)
DEFINE_DKERNEL(kern_i4, int32_t, 0, INT32_MIN, INT32_MAX, STORE_INT)
DEFINE_DKERNEL(kern_u4, uint32_t, INT64_C(2147483648), 0, UINT32_MAX, STORE_UINT)
/* 64-bit integers stay scalar: their values go through double anyway. */
DEFINE_KERNEL(kern_i8, int64_t, NUM_INT, INT64_MIN, INT64_MAX, STORE_INT)
DEFINE_KERNEL(kern_u8, uint64_t, NUM_INT, 0, UINT64_MAX, STORE_UINT)

/* IEEE 754 half to single precision (exact). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ffu, f;
    if (e == 0) {
        float v = ldexpf((float)m, -24); /* zero or subnormal */
        return sign ? -v : v;
    }
    if (e == 31)
        f = sign | 0x7f800000u | (m << 13);
    else
        f = sign | ((e + 112) << 23) | (m << 13);
    float r;
    memcpy(&r, &f, 4);
    return r;
}

static void kern_f2(const uint16_t *v, size_t n, part *acc)
{
    float tmp[SUB];
    for (size_t b = 0; b < n; b += SUB) {
        size_t m = n - b < SUB ? n - b : SUB;
        for (size_t k = 0; k < m; k++)
            tmp[k] = half_to_float(v[b + k]);
        kern_f4(tmp, m, acc);
    }
}

/* ------------------------------------------------------------- the run */

typedef enum tkind {
    T_F2, T_F4, T_F8, T_I1, T_I2, T_I4, T_I8, T_U1, T_U2, T_U4, T_U8
} tkind;

/* A chunk's partial result waiting for its turn. */
typedef struct pending {
    uint64_t index;
    part p;
} pending;

typedef struct stats_run {
    tkind t;
    size_t item;
    pthread_mutex_t mu;
    part total;      /* under mu: chunks 0 .. next - 1 merged, in order */
    uint64_t next;   /* under mu */
    pending *heap;   /* under mu: a min-heap on index */
    size_t nheap, capheap;
    int oom;         /* under mu: the heap could not grow */
    double t0;
    int progress;
} stats_run;

static void heap_push(stats_run *r, const pending *x)
{
    size_t i = r->nheap++;
    while (i > 0 && r->heap[(i - 1) / 2].index > x->index) {
        r->heap[i] = r->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    r->heap[i] = *x;
}

static pending heap_pop(stats_run *r)
{
    pending top = r->heap[0], last = r->heap[--r->nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->nheap)
            break;
        if (c + 1 < r->nheap && r->heap[c + 1].index < r->heap[c].index)
            c++;
        if (r->heap[c].index >= last.index)
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (r->nheap)
        r->heap[i] = last;
    return top;
}

/* Under mu: chunk `index`'s result, merged now if it is next, else kept. */
static int take(stats_run *r, uint64_t index, const part *p)
{
    if (index == r->next) {
        part_merge(&r->total, p);
        r->next++;
    } else {
        if (r->nheap == r->capheap) {
            size_t cap = r->capheap ? 2 * r->capheap : 64;
            pending *h = realloc(r->heap, cap * sizeof *h);
            if (!h) {
                r->oom = 1;
                return -ENOMEM;
            }
            r->heap = h;
            r->capheap = cap;
        }
        pending x = {.index = index, .p = *p};
        heap_push(r, &x);
    }
    while (r->nheap && r->heap[0].index == r->next) {
        pending x = heap_pop(r);
        part_merge(&r->total, &x.p);
        r->next++;
    }
    return 0;
}

/* Reduce n elements at p (aligned for their type) into acc. */
static void reduce(tkind t, const void *p, size_t n, part *acc)
{
    switch (t) {
    case T_F2: kern_f2(p, n, acc); break;
    case T_F4: kern_f4(p, n, acc); break;
    case T_F8: kern_f8(p, n, acc); break;
    case T_I1: kern_i1(p, n, acc); break;
    case T_I2: kern_i2(p, n, acc); break;
    case T_I4: kern_i4(p, n, acc); break;
    case T_I8: kern_i8(p, n, acc); break;
    case T_U1: kern_u1(p, n, acc); break;
    case T_U2: kern_u2(p, n, acc); break;
    case T_U4: kern_u4(p, n, acc); break;
    case T_U8: kern_u8(p, n, acc); break;
    }
}

/* The for_each callback: one chunk's selected elements, on a pool thread. */
static int on_block(void *ctx, uint64_t index, const void *elems, uint64_t n)
{
    stats_run *r = ctx;
    part p;
    part_init(&p);
    if (((uintptr_t)elems % r->item) == 0) {
        reduce(r->t, elems, (size_t)n, &p);
    } else { /* misaligned: go through an aligned copy, a block at a time */
        _Alignas(16) unsigned char tmp[SUB * 8];
        for (uint64_t b = 0; b < n; b += SUB) {
            size_t m = (size_t)(n - b < SUB ? n - b : SUB);
            memcpy(tmp, (const unsigned char *)elems + b * r->item, m * r->item);
            reduce(r->t, tmp, m, &p);
        }
    }
    pthread_mutex_lock(&r->mu);
    int rc = take(r, index, &p);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    stats_run *r = ctx;
    if (r->progress)
        cli_progress("stats", (double)done, (double)total, r->t0);
}

static int kind_of(const lsio_dtype *d, tkind *t)
{
    switch (d->kind) {
    case LSIO_DT_BOOL: *t = T_U1; return 0;
    case LSIO_DT_FLOAT:
        *t = d->size == 2 ? T_F2 : d->size == 4 ? T_F4 : T_F8;
        return d->size == 2 || d->size == 4 || d->size == 8 ? 0 : -1;
    case LSIO_DT_INT:
    case LSIO_DT_UINT: {
        int u = d->kind == LSIO_DT_UINT;
        switch (d->size) {
        case 1: *t = u ? T_U1 : T_I1; return 0;
        case 2: *t = u ? T_U2 : T_I2; return 0;
        case 4: *t = u ? T_U4 : T_I4; return 0;
        case 8: *t = u ? T_U8 : T_I8; return 0;
        }
        return -1;
    }
    default: return -1;
    }
}

/* A double as JSON: finite numbers as numbers, the others as the strings
 * Zarr uses for them ("NaN", "Infinity", "-Infinity"). */
static void json_double(FILE *f, double v)
{
    if (isnan(v))
        fputs("\"NaN\"", f);
    else if (isinf(v))
        fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
    else
        fprintf(f, "%.17g", v);
}

static void print_minmax(FILE *f, tkind t, const part *p, int max, int json)
{
    if (!p->n) {
        fputs(json ? "null" : "n/a", f);
    } else if (t == T_F2 || t == T_F4 || t == T_F8) {
        double v = max ? p->fmax : p->fmin;
        if (json)
            json_double(f, v);
        else
            fprintf(f, "%.9g", v);
    } else if (t == T_I1 || t == T_I2 || t == T_I4 || t == T_I8)
        fprintf(f, "%" PRId64, max ? p->imax : p->imin);
    else
        fprintf(f, "%" PRIu64, max ? p->umax : p->umin);
}

int cmd_stats(int argc, char **argv)
{
    const char *url = NULL, *select = NULL;
    int json = 0, no_progress = 0;
    cli_zarr_common com = {0};
    for (int i = 1; i < argc; i++) {
        int r = cli_zarr_arg(&com, "stats", argc, argv, &i);
        if (r == 0)
            r = cli_opt_value("stats", argc, argv, &i, "--select", &select);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--no-progress"))
            no_progress = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "lsio stats: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!url)
            url = argv[i];
        else {
            fprintf(stderr, "lsio stats: one URL only (got %s and %s)\n", url, argv[i]);
            return 2;
        }
    }
    if (!url) {
        usage(stderr);
        return 2;
    }
    lsio_zarr_opts opts;
    if (cli_zarr_setup(&com, "stats", &opts) < 0)
        return 1;
    stats_run r = {.progress = !no_progress && cli_isatty_stderr()};
    pthread_mutex_init(&r.mu, NULL);
    part_init(&r.total);
    lsio_zarr_array *a = NULL;
    int rc = 0, err = lsio_zarr_open(&a, url, &opts);
    if (err < 0) {
        rc = cli_fail("stats", err, url);
        goto done;
    }
    const lsio_zarr_info *in = lsio_zarr_get_info(a);
    if (kind_of(&in->dtype, &r.t) < 0) {
        char d[32];
        fprintf(stderr, "lsio stats: %s: data type %s: statistics need real numbers or bool\n",
                url, cli_dtype_descr(&in->dtype, 0, d, sizeof d));
        rc = 1;
        goto done;
    }
    r.item = lsio_zarr_itemsize(a);
    lsio_selection sel;
    if (select) {
        if ((err = lsio_selection_parse(select, in->ndim, in->shape, &sel)) < 0) {
            rc = cli_fail("stats", err, select);
            goto done;
        }
    } else
        lsio_selection_all(&sel, in->ndim, in->shape);
    r.t0 = cli_now_s();
    err = lsio_zarr_for_each(a, &sel, on_block, &r, on_progress, &r);
    double secs = cli_now_s() - r.t0;
    if (r.progress)
        cli_progress_end();
    if (err < 0) {
        rc = cli_fail("stats", err, url);
        goto done;
    }
    while (r.nheap) { /* chunks the read never handed over leave gaps */
        pending x = heap_pop(&r);
        part_merge(&r.total, &x.p);
    }
    const part *p = &r.total;
    uint64_t bytes = lsio_selection_count(&sel) * r.item;
    double mean = p->n ? p->mean : NAN, sd = p->n ? sqrt(p->m2 / (double)p->n) : NAN;
    if (json) {
        printf("{\"count\": %" PRIu64 ", \"min\": ", p->n);
        print_minmax(stdout, r.t, p, 0, 1);
        printf(", \"max\": ");
        print_minmax(stdout, r.t, p, 1, 1);
        printf(", \"mean\": ");
        if (p->n)
            json_double(stdout, mean);
        else
            printf("null");
        printf(", \"std\": ");
        if (p->n)
            json_double(stdout, sd);
        else
            printf("null");
        printf(", \"nan_count\": %" PRIu64 ", \"seconds\": %.6f, \"bytes\": %" PRIu64 "}\n",
               p->nan, secs, bytes);
    } else {
        char b[32];
        printf("count      %" PRIu64 "\nnan_count  %" PRIu64 "\nmin        ", p->n, p->nan);
        print_minmax(stdout, r.t, p, 0, 0);
        printf("\nmax        ");
        print_minmax(stdout, r.t, p, 1, 0);
        printf("\nmean       %.9g\nstd        %.9g\n", mean, sd);
        printf("read %s in %.3f s: %.2f GiB/s\n", cli_fmt_size((double)bytes, b, sizeof b),
               secs, secs > 0 ? (double)bytes / secs / (1024.0 * 1024 * 1024) : 0.0);
    }
done:
    if (a)
        lsio_zarr_close(a);
    pthread_mutex_destroy(&r.mu);
    free(r.heap);
    cli_zarr_end(&com);
    return rc;
}
