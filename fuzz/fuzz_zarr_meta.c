/*
 * fuzz_zarr_meta.c — the Zarr metadata parser on arbitrary text, no IO:
 * the first byte picks v2 (.zarray, with the rest after a NUL as .zattrs)
 * or v3 (zarr.json). Whatever parses must give a sane array description
 * (dimensions, chunk sizes, item size, fill element).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zarr_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int v3 = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *attrs = NULL;
    size_t alen = 0;
    const char *nul = memchr(text, 0, len);
    if (nul && !v3) {
        attrs = nul + 1;
        alen = len - (size_t)(attrs - text);
        len = (size_t)(nul - text);
    }
    zarr_meta m;
    if (zarr_meta_parse_text(&m, v3 ? 3 : 2, text, len, attrs, alen, "fuzz") == 0) {
        if (m.ndim > LSIO_ZARR_MAX_DIMS)
            abort();
        for (unsigned d = 0; d < m.ndim; d++)
            if (m.chunks[d] == 0 || m.outer[d] % m.chunks[d])
                abort();
        if (m.dtype.kind != LSIO_DT_STRING && (!m.fill || m.itemsize != m.dtype.size))
            abort();
        if (!m.chain || !m.fill_json || !m.attrs_json || !m.codecs_json)
            abort();
        zarr_meta_free(&m);
    }
    return 0;
}
