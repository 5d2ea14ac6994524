/*
 * fuzz_s3_multipart.c — the small XML parser of multipart answers
 * (InitiateMultipartUploadResult's UploadId, CompleteMultipartUpload's
 * root and error Code) on arbitrary bytes. The first byte picks the
 * element looked for and the room for its text; what comes back must fit
 * that room, NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *want[] = {"UploadId", "Code", "ETag", "Key"};
    const char *w = want[data[0] & 3];
    size_t cap = 1 + (data[0] >> 2); /* 1..64 */
    char *body = malloc(size - 1 ? size - 1 : 1);
    char *out = malloc(cap);
    if (!body || !out)
        goto out;
    memcpy(body, data + 1, size - 1);
    char root[32];
    int rc = lsio__xml_get(body, size - 1, w, out, cap, root);
    if (strnlen(root, sizeof root) >= sizeof root || strnlen(out, cap) >= cap)
        abort();
    if (rc != 0 && out[0])
        abort(); /* a failure leaves no text behind */
out:
    free(body);
    free(out);
    return 0;
}
