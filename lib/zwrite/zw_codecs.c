/*
 * zw_codecs.c — codec descriptions for the writer's users: the short texts
 * of the command line ("zstd:3", "blosc:lz4:5:shuffle") turned into the
 * codecs JSON of either Zarr format, and an array's codecs carried from one
 * format to the other (the compressor is kept; v2 filters and v3
 * array->array codecs have no general counterpart and are refused).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zw_internal.h"

/* --------------------------------------------------------- codec texts */

int lsio_zwrite_codecs_from_text(const char *text, int fmt, const lsio_dtype *dt, char **out)
{
    *out = NULL;
    if (!text)
        return lsio_error(-EINVAL, "codec: NULL");
    if (text[0] == '{' || text[0] == '[')
        return (*out = strdup(text)) ? 0 : -ENOMEM;
    char name[16] = "", a1[16] = "", a2[16] = "", a3[16] = "";
    int n = sscanf(text, "%15[^:]:%15[^:]:%15[^:]:%15s", name, a1, a2, a3);
    char buf[512];
    int v2 = fmt == 2;
    long lvl = n >= 2 ? strtol(a1, NULL, 10) : -1;
    if (n < 1)
        return lsio_error(-EINVAL, "codec \"%s\": empty", text);
    if (!strcmp(name, "none") && n == 1) {
        return (*out = strdup(v2 ? "{\"compressor\":null,\"filters\":null}" : "[]")) ? 0 : -ENOMEM;
    } else if (!strcmp(name, "blosc")) {
        const char *cname = n >= 2 ? a1 : "lz4";
        long clevel = n >= 3 ? strtol(a2, NULL, 10) : 5;
        const char *sh = n >= 4 ? a3 : "shuffle";
        int shn = !strcmp(sh, "noshuffle") ? 0 : !strcmp(sh, "shuffle") ? 1
                : !strcmp(sh, "bitshuffle") ? 2 : -1;
        if (shn < 0 || clevel < 0 || clevel > 9)
            return lsio_error(-EINVAL, "codec \"%s\": want blosc:CNAME:LEVEL(0-9):shuffle|bitshuffle|noshuffle", text);
        if (v2)
            snprintf(buf, sizeof buf, "{\"compressor\":{\"id\":\"blosc\",\"cname\":\"%s\",\"clevel\":%ld,"
                     "\"shuffle\":%d,\"blocksize\":0},\"filters\":null}", cname, clevel, shn);
        else
            snprintf(buf, sizeof buf, "[{\"name\":\"blosc\",\"configuration\":{\"cname\":\"%s\","
                     "\"clevel\":%ld,\"shuffle\":\"%s\",\"typesize\":%u,\"blocksize\":0}}]",
                     cname, clevel, sh, dt ? dt->size : 1);
    } else if (n <= 2 && (!strcmp(name, "zstd") || !strcmp(name, "gzip") || !strcmp(name, "zlib") ||
                          !strcmp(name, "bz2") || !strcmp(name, "lzma") || !strcmp(name, "lz4"))) {
        int is_zstd = !strcmp(name, "zstd"), is_lz4 = !strcmp(name, "lz4");
        if (lvl < 0)
            lvl = is_zstd ? 3 : is_lz4 ? 1 : !strcmp(name, "lzma") ? 6 : !strcmp(name, "bz2") ? 9 : 6;
        if (v2) {
            const char *key = is_lz4 ? "acceleration" : !strcmp(name, "lzma") ? "preset" : "level";
            snprintf(buf, sizeof buf, "{\"compressor\":{\"id\":\"%s\",\"%s\":%ld},\"filters\":null}",
                     name, key, lvl);
        } else if (is_zstd) {
            snprintf(buf, sizeof buf, "[{\"name\":\"zstd\",\"configuration\":{\"level\":%ld,"
                     "\"checksum\":false}}]", lvl);
        } else if (!strcmp(name, "gzip")) {
            snprintf(buf, sizeof buf, "[{\"name\":\"gzip\",\"configuration\":{\"level\":%ld}}]", lvl);
        } else {
            return lsio_error(-LSIO_EUNSUPPORTED, "codec \"%s\" in Zarr v3 (zstd, gzip, blosc, none)",
                              text);
        }
    } else {
        return lsio_error(-EINVAL, "codec \"%s\": want none, zstd:L, gzip:L, zlib:L, lz4:A, bz2:L, "
                          "lzma:L or blosc:CNAME:L:SHUFFLE", text);
    }
    return (*out = strdup(buf)) ? 0 : -ENOMEM;
}

/* The compressor of a v2 numcodecs object as a short text; 0 or an error. */
static int v2_text(const cJSON *c, char *buf, size_t len)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
    if (!c || cJSON_IsNull(c)) {
        snprintf(buf, len, "none");
        return 0;
    }
    if (!cJSON_IsString(id))
        return lsio_error(-LSIO_EFORMAT, "compressor without an id");
    const char *n = id->valuestring;
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(c, "level");
    int level = cJSON_IsNumber(lv) ? lv->valueint : -1;
    if (!strcmp(n, "zstd")) {
        snprintf(buf, len, "zstd:%d", level >= 0 ? level : 3);
    } else if (!strcmp(n, "gzip") || !strcmp(n, "zlib")) {
        snprintf(buf, len, "gzip:%d", level >= 0 ? level : 6);
    } else if (!strcmp(n, "blosc")) {
        const cJSON *cn = cJSON_GetObjectItemCaseSensitive(c, "cname");
        const cJSON *cl = cJSON_GetObjectItemCaseSensitive(c, "clevel");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(c, "shuffle");
        int s = cJSON_IsNumber(sh) ? sh->valueint : 1;
        snprintf(buf, len, "blosc:%s:%d:%s", cJSON_IsString(cn) ? cn->valuestring : "lz4",
                 cJSON_IsNumber(cl) ? cl->valueint : 5,
                 s == 0 ? "noshuffle" : s == 2 ? "bitshuffle" : "shuffle");
    } else {
        return lsio_error(-LSIO_EUNSUPPORTED, "compressor \"%s\" has no Zarr v3 counterpart", n);
    }
    return 0;
}

/* The one compressor of a v3 codecs list as a short text. */
static int v3_text(const cJSON *list, char *buf, size_t len)
{
    const cJSON *e;
    int found = 0;
    snprintf(buf, len, "none");
    cJSON_ArrayForEach(e, list)
    {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(e, "configuration");
        const char *n = cJSON_IsString(nm) ? nm->valuestring : "";
        if (!strcmp(n, "bytes") || !strcmp(n, "crc32c") || !strcmp(n, "transpose") ||
            !strcmp(n, "vlen-utf8"))
            continue;
        if (found++)
            return lsio_error(-LSIO_EUNSUPPORTED, "more than one compressor");
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(cfg, "level");
        int level = cJSON_IsNumber(lv) ? lv->valueint : -1;
        if (!strcmp(n, "zstd")) {
            snprintf(buf, len, "zstd:%d", level >= 0 ? level : 3);
        } else if (!strcmp(n, "gzip")) {
            snprintf(buf, len, "gzip:%d", level >= 0 ? level : 6);
        } else if (!strcmp(n, "blosc")) {
            const cJSON *cn = cJSON_GetObjectItemCaseSensitive(cfg, "cname");
            const cJSON *cl = cJSON_GetObjectItemCaseSensitive(cfg, "clevel");
            const cJSON *sh = cJSON_GetObjectItemCaseSensitive(cfg, "shuffle");
            snprintf(buf, len, "blosc:%s:%d:%s", cJSON_IsString(cn) ? cn->valuestring : "lz4",
                     cJSON_IsNumber(cl) ? cl->valueint : 5,
                     cJSON_IsString(sh) ? sh->valuestring : "noshuffle");
        } else {
            return lsio_error(-LSIO_EUNSUPPORTED, "codec \"%s\" has no Zarr v2 counterpart", n);
        }
    }
    return 0;
}

int lsio_zwrite_codecs_convert(const char *codecs_json, int from, int to, const lsio_dtype *dt,
                               char **out)
{
    *out = NULL;
    cJSON *j = codecs_json ? cJSON_Parse(codecs_json) : NULL;
    if (codecs_json && !j)
        return lsio_error(-EINVAL, "codecs: not JSON: %.200s", codecs_json);
    const cJSON *list = j;
    int rc = 0;
    char txt[128];
    if (from == 3 && cJSON_IsArray(j) && cJSON_GetArraySize(j) == 1) { /* unwrap shards */
        const cJSON *f = cJSON_GetArrayItem(j, 0);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, "sharding_indexed"))
            list = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(f, "configuration"), "codecs");
    }
    if (from == to) {
        *out = list ? cJSON_PrintUnformatted(list) : strdup(to == 2 ? "null" : "[]");
        rc = *out ? 0 : -ENOMEM;
    } else if (from == 2) {
        const cJSON *comp = j, *filt = NULL;
        if (cJSON_IsObject(j) && !cJSON_GetObjectItemCaseSensitive(j, "id")) {
            comp = cJSON_GetObjectItemCaseSensitive(j, "compressor");
            filt = cJSON_GetObjectItemCaseSensitive(j, "filters");
        }
        const cJSON *f;
        cJSON_ArrayForEach(f, filt)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "id");
            if (!cJSON_IsString(id) || strcmp(id->valuestring, "vlen-utf8")) {
                rc = lsio_error(-LSIO_EUNSUPPORTED, "v2 filter \"%s\" has no Zarr v3 counterpart",
                                cJSON_IsString(id) ? id->valuestring : "?");
                break;
            }
        }
        if (rc == 0)
            rc = v2_text(comp, txt, sizeof txt);
        if (rc == 0)
            rc = lsio_zwrite_codecs_from_text(txt, to, dt, out);
    } else {
        rc = v3_text(list, txt, sizeof txt);
        if (rc == 0)
            rc = lsio_zwrite_codecs_from_text(txt, to, dt, out);
    }
    cJSON_Delete(j);
    return rc;
}
