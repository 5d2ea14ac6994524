/*
 * hints.c — where the blocks of blosc chunks lie, remembered per array.
 *
 * A blosc chunk starts with a header and one start offset per block; with
 * it, a selection that needs a few blocks of a chunk can read just those
 * bytes (and the header again, to check that it has not changed) instead of
 * the whole object. The header is only known once the chunk was read whole,
 * so the reader keeps the headers of chunks it read here, and reads the
 * next crop of the same chunk sparsely (lsio_chain_encoded_span).
 *
 * A direct-mapped cache of HINT_SLOTS entries (the key mixed, then masked):
 * a newer chunk takes an older one's slot. Headers over
 * HINT_MAX bytes (chunks of more than 128 blocks) are not kept; an entry
 * takes the header's size (16 bytes + 4 per block), so a full cache of
 * 8-block chunks holds about 1 MiB. A hint is
 * only a hint: the reader compares the header it reads with it and reads
 * the whole chunk again when they differ. The buffers sparse reads land in
 * are kept here too (at most ZARR_SPARE_MAX of them and ZARR_SPARE_BYTES in
 * all). Thread-safe (one mutex).
 */
#include <stdlib.h>
#include <string.h>

#include "zarr_internal.h"

#define HINT_SLOTS 16384u
#define HINT_MAX ZARR_HINT_MAX

struct zarr_hint {
    uint64_t key;
    uint32_t len, cap;
    unsigned char head[];
};

static size_t slot_of(uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)(key & (HINT_SLOTS - 1));
}

void zarr_hints_init(zarr_hints *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
}

void zarr_hints_fini(zarr_hints *h)
{
    for (unsigned i = 0; i < h->nspare; i++)
        free(h->spare[i].p);
    if (h->slot)
        for (size_t i = 0; i < HINT_SLOTS; i++)
            free(h->slot[i]);
    free(h->slot);
    pthread_mutex_destroy(&h->mu);
}

size_t zarr_hints_get(zarr_hints *h, uint64_t key, unsigned char *head, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&h->mu);
    struct zarr_hint *e = h->slot ? h->slot[slot_of(key)] : NULL;
    if (e && e->len && e->key == key && e->len <= cap) {
        memcpy(head, e->head, e->len);
        n = e->len;
    }
    pthread_mutex_unlock(&h->mu);
    return n;
}

void zarr_hints_put(zarr_hints *h, uint64_t key, const void *head, size_t len)
{
    if (len > HINT_MAX)
        return;
    pthread_mutex_lock(&h->mu);
    if (!h->slot)
        h->slot = calloc(HINT_SLOTS, sizeof *h->slot);
    if (h->slot) {
        struct zarr_hint **s = &h->slot[slot_of(key)];
        if (*s && (*s)->cap < len) {
            free(*s);
            *s = NULL;
        }
        if (!*s && (*s = malloc(sizeof **s + len)))
            (*s)->cap = (uint32_t)len;
        if (*s) {
            (*s)->key = key;
            (*s)->len = (uint32_t)len;
            if (len)
                memcpy((*s)->head, head, len);
        }
    }
    pthread_mutex_unlock(&h->mu);
}

void zarr_hints_drop(zarr_hints *h, uint64_t key)
{
    pthread_mutex_lock(&h->mu);
    struct zarr_hint *e = h->slot ? h->slot[slot_of(key)] : NULL;
    if (e && e->key == key)
        e->len = 0;
    pthread_mutex_unlock(&h->mu);
}

/* Buffers of sparse reads outlive a read call: fresh memory would cost a
 * page fault per 4 KiB the IO layer writes. */
void *zarr_spare_take(zarr_hints *h, size_t n, size_t *cap)
{
    void *p = NULL;
    pthread_mutex_lock(&h->mu);
    for (unsigned i = 0; i < h->nspare; i++)
        if (h->spare[i].cap >= n) {
            p = h->spare[i].p;
            *cap = h->spare[i].cap;
            h->spare[i] = h->spare[--h->nspare];
            break;
        }
    pthread_mutex_unlock(&h->mu);
    if (!p && (p = malloc(n)))
        *cap = n;
    return p;
}

void zarr_spare_give(zarr_hints *h, void *p, size_t cap)
{
    if (!p)
        return;
    pthread_mutex_lock(&h->mu);
    size_t kept = 0;
    for (unsigned i = 0; i < h->nspare; i++)
        kept += h->spare[i].cap;
    if (h->nspare < ZARR_SPARE_MAX && kept + cap <= ZARR_SPARE_BYTES) {
        h->spare[h->nspare].p = p;
        h->spare[h->nspare++].cap = cap;
        p = NULL;
    }
    pthread_mutex_unlock(&h->mu);
    free(p);
}
