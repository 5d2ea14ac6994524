/*
 * fuzz_zarr_shard.c — the shard index parser on arbitrary bytes: a 2 × 3
 * inner grid, index codecs bytes + crc32c (first input byte odd) or bytes
 * alone; with the checksum, the first byte's bit 1 makes the harness
 * append a correct checksum so that the entries themselves get parsed.
 * Every entry accepted must be absent or lie inside the shard size it is
 * checked against.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zarr_internal.h"

static const char *meta_json(int crc)
{
    return crc ? "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4,9],\"data_type\":"
                 "\"int16\",\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{"
                 "\"chunk_shape\":[4,9]}},\"fill_value\":0,\"codecs\":[{\"name\":"
                 "\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,3],\"codecs\":"
                 "[{\"name\":\"bytes\"}],\"index_codecs\":[{\"name\":\"bytes\"},{\"name\":"
                 "\"crc32c\"}]}}]}"
               : "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4,9],\"data_type\":"
                 "\"int16\",\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{"
                 "\"chunk_shape\":[4,9]}},\"fill_value\":0,\"codecs\":[{\"name\":"
                 "\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,3],\"codecs\":"
                 "[{\"name\":\"bytes\"}],\"index_codecs\":[{\"name\":\"bytes\"}],"
                 "\"index_location\":\"start\"}}]}";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zarr_meta m[2];
    static int ready;
    if (!ready) {
        for (int i = 0; i < 2; i++) {
            const char *j = meta_json(i);
            if (zarr_meta_parse_text(&m[i], 3, j, strlen(j), NULL, 0, "fuzz") < 0)
                abort();
        }
        ready = 1;
    }
    if (size < 1)
        return 0;
    int crc = data[0] & 1, fix = data[0] & 2;
    const zarr_meta *z = &m[crc];
    uint8_t buf[256];
    size_t n = size - 1 < sizeof buf ? size - 1 : sizeof buf;
    memcpy(buf, data + 1, n);
    if (crc && fix && n >= z->index_bytes - 4) {
        uint32_t c = lsio_crc32c(buf, z->index_bytes - 4);
        memcpy(buf + z->index_bytes - 4, &c, 4);
        n = z->index_bytes;
    }
    uint64_t e[6 * 2];
    if (zarr_shard_index_decode(z, buf, n, e, "c/0/0") == 0) {
        uint64_t shard_size = 1 << 16;
        if (zarr_shard_index_check(e, z->n_inner, shard_size, "c/0/0") == 0)
            for (uint64_t i = 0; i < z->n_inner; i++)
                if (e[2 * i] != ZARR_SHARD_MISSING && e[2 * i] + e[2 * i + 1] > shard_size)
                    abort();
    }
    return 0;
}
