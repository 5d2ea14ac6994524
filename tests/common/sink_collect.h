/*
 * sink_collect.h — an lsio_chunk_sink for tests and fuzz targets that lays
 * the pieces out whole (buf, n elements of es bytes), checking that they
 * come in order, each element once: bad is set otherwise.
 */
#ifndef LSIO_SINK_COLLECT_H
#define LSIO_SINK_COLLECT_H

#include <stdint.h>
#include <string.h>

#include "lsio_codecs.h"

typedef struct sink_collect {
    uint8_t *buf;
    size_t n, es, next, pieces, shuffled;
    int bad;
} sink_collect;

static inline void sink_collect_put(void *ctx, size_t e0, size_t n,
                                    const unsigned char *const *planes, size_t np)
{
    sink_collect *c = ctx;
    if (e0 != c->next || n > c->n - e0 || (np != 1 && np != c->es)) {
        c->bad = 1;
        return;
    }
    if (np == 1)
        memcpy(c->buf + e0 * c->es, planes[0], n * c->es);
    else
        lsio_unshuffle(c->buf + e0 * c->es, planes, n, c->es, 0);
    c->next = e0 + n;
    c->pieces++;
    c->shuffled += np > 1;
}

#endif
