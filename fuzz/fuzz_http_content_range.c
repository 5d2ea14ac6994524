/*
 * fuzz_http_content_range.c — the Content-Range parser of lib/http on
 * arbitrary bytes (the header value as the header callback passes it, no
 * NUL terminator). A value accepted must be a range the read callbacks can
 * trust: start <= end < UINT64_MAX, and a known total beyond the end; it
 * must also read back the same when printed and parsed again.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *v = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
    if (!v)
        return 0;
    memcpy(v, data, size);
    uint64_t a, b, t;
    if (lsio__parse_content_range(v, size, &a, &b, &t) == 0) {
        if (a > b || b == UINT64_MAX || (t != UINT64_MAX && t <= b))
            abort();
        char again[96];
        int n = t == UINT64_MAX
                    ? snprintf(again, sizeof again, "bytes %" PRIu64 "-%" PRIu64 "/*", a, b)
                    : snprintf(again, sizeof again, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a, b, t);
        uint64_t a2, b2, t2;
        if (lsio__parse_content_range(again, (size_t)n, &a2, &b2, &t2) != 0 || a2 != a ||
            b2 != b || t2 != t)
            abort();
    }
    free(v);
    return 0;
}
