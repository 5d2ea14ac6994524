/*
 * fuzz_http_etag.c — the ETag header parser on an arbitrary header line,
 * then the way back: the ETag kept is written into a
 * CompleteMultipartUpload body (multipart.c) and that body must parse as
 * XML and give the same ETag back (what S3 will compare with the part's).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    mp_part part;
    memset(&part, 0, sizeof part);
    int is = lsio__parse_etag(line, size, part.etag, sizeof part.etag);
    free(line);
    if (!is || !part.etag[0])
        return 0;
    if (strlen(part.etag) >= sizeof part.etag)
        abort();
    size_t n = 0;
    char *xml = lsio__mp_complete_body(&part, 1, &n);
    if (!xml)
        return 0;
    char back[sizeof part.etag], root[32];
    if (lsio__xml_get(xml, n, "ETag", back, sizeof back, root) != 0 || strcmp(back, part.etag) ||
        strcmp(root, "CompleteMultipartUpload"))
        abort();
    free(xml);
    return 0;
}
