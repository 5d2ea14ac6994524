/*
 * fuzz_selection.c — libFuzzer target for the selection parser
 * (lsio_selection_parse) and the slice normaliser
 * (lsio_selection_from_slices): whatever the text or the numbers, the call
 * returns an error or a selection whose every element lies inside the array,
 * and the output shape agrees with the counts.
 *
 * Input: byte 0 picks the number of dimensions (1..6), the next 6 bytes the
 * shape (0..255 each, some scaled up to huge), the rest is the selection
 * text; the same bytes, read as int64 triples, feed from_slices.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lsio_zarr.h"

static void check(const lsio_selection *sel, unsigned ndim, const uint64_t *shape)
{
    uint64_t oshape[LSIO_ZARR_MAX_DIMS];
    unsigned on = lsio_selection_shape(sel, oshape);
    uint64_t total = 1;
    unsigned k = 0;
    if (sel->ndim != ndim)
        abort();
    for (unsigned d = 0; d < ndim; d++) {
        const lsio_dim_sel *s = &sel->dim[d];
        if (s->step == 0)
            abort();
        if (s->drop && s->count != 1)
            abort();
        if (s->count) {
            __int128 first = s->start;
            __int128 last = (__int128)s->start + (__int128)(s->count - 1) * s->step;
            if (first < 0 || first >= (__int128)shape[d] || last < 0 ||
                last >= (__int128)shape[d])
                abort();
        }
        if (!s->drop) {
            if (k >= on || oshape[k] != s->count)
                abort();
            k++;
        }
        total *= s->count;
    }
    if (k != on || lsio_selection_count(sel) != total)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 7)
        return 0;
    unsigned ndim = 1 + data[0] % 6;
    uint64_t shape[LSIO_ZARR_MAX_DIMS] = {0};
    for (unsigned d = 0; d < ndim; d++)
        shape[d] = data[1 + d] >= 250 ? (uint64_t)1 << (40 + data[1 + d] % 8) : data[1 + d];
    const uint8_t *rest = data + 7;
    size_t n = size - 7;

    char *text = malloc(n + 1);
    if (!text)
        return 0;
    memcpy(text, rest, n);
    text[n] = 0;
    lsio_selection sel;
    if (lsio_selection_parse(text, ndim, shape, &sel) == 0)
        check(&sel, ndim, shape);
    free(text);

    int64_t start[LSIO_ZARR_MAX_DIMS], stop[LSIO_ZARR_MAX_DIMS], step[LSIO_ZARR_MAX_DIMS];
    int is_index[LSIO_ZARR_MAX_DIMS];
    if (n >= ndim * 25) {
        for (unsigned d = 0; d < ndim; d++) {
            const uint8_t *p = rest + d * 25;
            memcpy(&start[d], p, 8);
            memcpy(&stop[d], p + 8, 8);
            memcpy(&step[d], p + 16, 8);
            is_index[d] = p[24] & 1;
            /* small values are the interesting ones: fold most inputs there */
            if (p[24] & 2) {
                start[d] = (int8_t)p[0];
                stop[d] = (int8_t)p[8];
                step[d] = (int8_t)p[16];
            }
            if (p[24] & 4)
                start[d] = INT64_MIN;
            if (p[24] & 8)
                stop[d] = INT64_MIN;
            if (p[24] & 16)
                step[d] = INT64_MIN;
        }
        if (lsio_selection_from_slices(ndim, shape, start, stop, step, is_index, &sel) == 0)
            check(&sel, ndim, shape);
    }
    return 0;
}
