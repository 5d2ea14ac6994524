/*
 * fuzz_s3_credentials.c — the shared-credentials (~/.aws/credentials)
 * parser of s3.c on arbitrary text, for the profile "default" or (first
 * byte odd) "dev". Whatever it keeps must be a string with no line break
 * and no surrounding blanks; the parse must not leak.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

static void check(const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (strchr(s, '\n') || (n && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]))))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    remote_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    char *text = malloc(size - 1 ? size - 1 : 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    lsio__aws_profile_parse(text, size - 1, data[0] & 1 ? "dev" : "default", &cfg);
    free(text);
    check(cfg.key_id);
    check(cfg.secret);
    check(cfg.token);
    check(cfg.region);
    free(cfg.key_id);
    free(cfg.secret);
    free(cfg.token);
    free(cfg.region);
    return 0;
}
