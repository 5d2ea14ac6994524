/*
 * shard.c — the shard index of Zarr v3 sharding_indexed: n inner chunks ×
 * (offset, nbytes) as little-endian uint64 after the index codecs (bytes,
 * crc32c), both all-ones for an inner chunk that is not stored. Decoding
 * checks the checksum (through the chain) and that each stored inner chunk
 * lies inside the shard, so a corrupt index cannot send a read astray.
 * The entry check is shared with the sharding_indexed codec (lib/codecs,
 * shards inside shards). Kept apart (and free of IO) so that it can be fuzzed.
 *
 * An inner chunk must also stay clear of the index bytes. With the index at
 * the start that is checked here (no entry starts before index_bytes). With
 * the index at the end it needs the shard's size, which the reader learns
 * from the read of the index itself (counted from the end: where it begins
 * plus its length; zarr_shard_index_end), locally and remotely alike.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "zarr_internal.h"

int zarr_shard_index_check(const uint64_t *e, uint64_t n_inner, uint64_t shard_size,
                           const char *key)
{
    uint64_t i;
    if (lsio_shard_index_check(e, n_inner, shard_size, &i) < 0)
        return lsio_error(-LSIO_EFORMAT,
                          "shard %s: index entry %" PRIu64 " (offset %" PRIu64
                          ", %" PRIu64 " bytes) outside the shard",
                          key, i, e[2 * i], e[2 * i + 1]);
    return 0;
}

/* With the index at the start: no stored inner chunk begins inside it. */
static int index_clear(const uint64_t *e, uint64_t n_inner, size_t index_bytes, const char *key)
{
    for (uint64_t i = 0; i < n_inner; i++)
        if (e[2 * i] != ZARR_SHARD_MISSING && e[2 * i] < index_bytes)
            return lsio_error(-LSIO_EFORMAT,
                              "shard %s: index entry %" PRIu64 " (offset %" PRIu64
                              ", %" PRIu64 " bytes) overlaps the %zu-byte index at the start",
                              key, i, e[2 * i], e[2 * i + 1], index_bytes);
    return 0;
}

int zarr_shard_index_decode(const zarr_meta *m, const void *src, size_t len, uint64_t *entries,
                            const char *key)
{
    if (len != m->index_bytes)
        return lsio_error(-LSIO_EFORMAT, "shard %s: index of %zu bytes, expected %zu", key, len,
                          m->index_bytes);
    size_t want = (size_t)m->n_inner * 16;
    int rc = lsio_chain_decode(m->index_chain, src, len, entries, want);
    if (rc < 0)
        return lsio_error_wrap(rc, "shard %s: index", key);
    if ((rc = zarr_shard_index_check(entries, m->n_inner, 0, key)) < 0)
        return rc;
    return m->index_at_start ? index_clear(entries, m->n_inner, m->index_bytes, key) : 0;
}

int zarr_shard_index_end(const zarr_meta *m, const uint64_t *e, uint64_t shard_size,
                         const char *key)
{
    if (m->index_at_start)
        return 0;
    uint64_t data_end = shard_size >= m->index_bytes ? shard_size - m->index_bytes : 0;
    for (uint64_t i = 0; i < m->n_inner; i++)
        if (e[2 * i] != ZARR_SHARD_MISSING && e[2 * i] + e[2 * i + 1] > data_end)
            return lsio_error(-LSIO_EFORMAT,
                              "shard %s: index entry %" PRIu64 " (offset %" PRIu64
                              ", %" PRIu64 " bytes) overlaps the %zu-byte index at the end of"
                              " the %" PRIu64 "-byte shard",
                              key, i, e[2 * i], e[2 * i + 1], m->index_bytes, shard_size);
    return 0;
}
