/*
 * fuzz_s3_list.c — the ListObjectsV2 page parser of s3.c on arbitrary
 * bytes (an answer body; no HTTP). Every location reported must be
 * "s3://bucket/" and a non-empty key with no NUL; the continuation token
 * must be NUL-terminated inside its buffer; a failure must say why. The
 * first byte says after how many entries the callback stops the listing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

typedef struct seen {
    unsigned n, stop_after;
} seen;

static int on_obj(void *ctx, const char *loc, uint64_t size)
{
    (void)size;
    seen *s = ctx;
    if (strncmp(loc, "s3://fuzz/", 10) != 0 || !loc[10])
        abort();
    if (s->stop_after && s->n >= s->stop_after)
        abort(); /* called again after asking to stop */
    s->n++;
    return s->stop_after && s->n == s->stop_after;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    seen s = {.stop_after = data[0] & 7};
    char *body = malloc(size - 1 ? size - 1 : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    s3_page page;
    int rc = lsio__s3_parse_list_page("fuzz", body, size - 1, on_obj, &s, &page);
    free(body);
    if (strnlen(page.next, sizeof page.next) >= sizeof page.next ||
        strnlen(page.why, sizeof page.why) >= sizeof page.why)
        abort();
    if (rc == -LSIO_EFORMAT && !page.why[0])
        abort();
    if (page.stopped && (!s.stop_after || s.n != s.stop_after))
        abort();
    return 0;
}
