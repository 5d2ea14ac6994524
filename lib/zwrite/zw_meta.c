/*
 * zw_meta.c — the metadata side of the Zarr writer: a spec is checked and
 * normalized (codecs split into v2 compressor/filters or v3 chunk codecs,
 * shard index codecs; sharding_indexed unwrapped), its codec chains are
 * built with lsio_codecs before anything is written, and the metadata
 * documents (v2 .zarray/.zattrs, v3 zarr.json) are produced from it. The
 * reverse direction reads an existing array's metadata back into a spec so
 * that lsio_zwrite_open takes the same path as create.
 *
 * Documents are built and printed with cJSON; pieces that arrive as JSON
 * text (codecs, fill value, attributes) are checked by parsing and then
 * embedded verbatim.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zw_internal.h"

#define DEFAULT_INDEX_CODECS "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]"

/* A JSON integer in [min, 2^53] (what a double holds exactly, and what the
 * reader accepts) into *out; -1 for anything else (fractions, negatives,
 * larger numbers, which a cast could not even convert). */
static int json_u64(const cJSON *e, uint64_t min, uint64_t *out)
{
    if (!cJSON_IsNumber(e) || !(e->valuedouble >= (double)min) ||
        e->valuedouble > 9007199254740992.0 || e->valuedouble != floor(e->valuedouble))
        return -1;
    *out = (uint64_t)e->valuedouble;
    return 0;
}

static char *print_or_null(const cJSON *j)
{
    return j ? cJSON_PrintUnformatted(j) : strdup("null");
}

/* ---------------------------------------------------------------- codecs */

/* Make one codec from a v3 {"name", "configuration"} entry or a v2 numcodecs
 * object {"id", ...}. */
static int codec_from_json(const cJSON *e, int v2, lsio_codec **out)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, v2 ? "id" : "name");
    if (!cJSON_IsString(name))
        return lsio_error(-EINVAL, "codec without a %s", v2 ? "\"id\"" : "\"name\"");
    const cJSON *cfg = v2 ? e : cJSON_GetObjectItemCaseSensitive(e, "configuration");
    char *txt = cfg ? cJSON_PrintUnformatted(cfg) : NULL;
    int rc = lsio_codec_create(out, name->valuestring, txt);
    free(txt);
    return rc;
}

/* Build a chain over the codecs of a JSON array (v3 entries, or v2 filters
 * followed by a compressor). */
static int chain_from(const cJSON *list, const cJSON *v2_compressor, int v2,
                      const lsio_chunk_spec *cs, lsio_chain **out)
{
    lsio_codec *cod[64] = {0};
    size_t n = 0;
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        if (n == 62) {
            rc = lsio_error(-EINVAL, "too many codecs");
            break;
        }
        if ((rc = codec_from_json(e, v2, &cod[n])) < 0)
            break;
        n++;
    }
    if (rc == 0 && v2_compressor && !cJSON_IsNull(v2_compressor)) {
        if ((rc = codec_from_json(v2_compressor, 1, &cod[n])) == 0)
            n++;
    }
    if (rc == 0)
        rc = lsio_chain_create(out, cod, n, cs);
    for (size_t i = 0; i < n; i++)
        lsio_codec_destroy(cod[i]);
    return rc;
}

/* v3: put "bytes" in front of the first bytes->bytes codec when no
 * array->bytes codec is there. Returns the (possibly new) list. */
static int v2_has_vlen(const cJSON *filters)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, filters)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (cJSON_IsString(id) && !strncmp(id->valuestring, "vlen-", 5))
            return 1;
    }
    return 0;
}

static int v3_add_bytes(cJSON *list, const lsio_dtype *dt)
{
    int idx = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        lsio_codec *c;
        int rc = codec_from_json(e, 0, &c);
        if (rc < 0)
            return rc;
        lsio_codec_role r = lsio_codec_role_of(c);
        lsio_codec_destroy(c);
        if (r == LSIO_CODEC_ARRAY_BYTES)
            return 0;
        if (r == LSIO_CODEC_BYTES_BYTES)
            break;
        idx++;
    }
    cJSON *b = cJSON_Parse(dt->kind == LSIO_DT_STRING ? "{\"name\":\"vlen-utf8\"}"
                           : dt->size > 1 ? "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}"
                                          : "{\"name\":\"bytes\"}");
    if (!b)
        return -ENOMEM;
    cJSON_InsertItemInArray(list, idx, b);
    return 0;
}

/* Split the v3 codecs of a spec: sharding_indexed unwrapped into a's
 * shard fields. Sets *codecs to the chunk codecs (owned by root). */
static int v3_codecs(lsio_zwrite_array *a, lsio_zwrite_spec *s, cJSON *root, cJSON **codecs)
{
    *codecs = root;
    cJSON *first = cJSON_GetArrayItem(root, 0);
    const cJSON *nm = first ? cJSON_GetObjectItemCaseSensitive(first, "name") : NULL;
    int any_shards = 0;
    for (unsigned d = 0; d < s->ndim; d++)
        any_shards |= s->shards[d] != 0;
    if (cJSON_IsString(nm) && !strcmp(nm->valuestring, "sharding_indexed")) {
        if (cJSON_GetArraySize(root) != 1)
            return lsio_error(-LSIO_EUNSUPPORTED, "sharding_indexed followed by other codecs");
        cJSON *cfg = cJSON_GetObjectItemCaseSensitive(first, "configuration");
        cJSON *cshape = cJSON_GetObjectItemCaseSensitive(cfg, "chunk_shape");
        if (!cJSON_IsArray(cshape) || cJSON_GetArraySize(cshape) != (int)s->ndim)
            return lsio_error(-EINVAL, "sharding_indexed: chunk_shape of %u dimensions wanted",
                              s->ndim);
        for (unsigned d = 0; d < s->ndim; d++) {
            if (!any_shards)
                s->shards[d] = s->chunks[d];
            if (json_u64(cJSON_GetArrayItem(cshape, (int)d), 1, &s->chunks[d]) < 0)
                return lsio_error(-EINVAL,
                                  "sharding_indexed: chunk_shape[%u] is not an integer in 1..2^53",
                                  d);
        }
        cJSON *ic = cJSON_GetObjectItemCaseSensitive(cfg, "index_codecs");
        a->index_codecs = ic ? cJSON_PrintUnformatted(ic) : strdup(DEFAULT_INDEX_CODECS);
        cJSON *loc = cJSON_GetObjectItemCaseSensitive(cfg, "index_location");
        s->index_at_start = cJSON_IsString(loc) && !strcmp(loc->valuestring, "start");
        cJSON *cc = cJSON_GetObjectItemCaseSensitive(cfg, "codecs");
        if (!cJSON_IsArray(cc))
            return lsio_error(-EINVAL, "sharding_indexed without codecs");
        *codecs = cc;
        any_shards = 1;
    } else if (any_shards) {
        a->index_codecs = strdup(DEFAULT_INDEX_CODECS);
    }
    a->sharded = any_shards;
    return 0;
}

/* ------------------------------------------------------------------ specs */

static int check_shape(const lsio_zwrite_spec *s)
{
    if (s->zarr_format != 2 && s->zarr_format != 3)
        return lsio_error(-EINVAL, "zarr_format %d: want 2 or 3", s->zarr_format);
    if (s->ndim > ZW_MAXD)
        return lsio_error(-EINVAL, "%u dimensions: at most %d", s->ndim, ZW_MAXD);
    const uint64_t json_max = 9007199254740992ull; /* 2^53: written exactly in JSON */
    for (unsigned d = 0; d < s->ndim; d++) {
        if (s->chunks[d] < 1)
            return lsio_error(-EINVAL, "chunks[%u] is 0", d);
        if (s->shape[d] > json_max || s->chunks[d] > json_max || s->shards[d] > json_max)
            return lsio_error(-EINVAL, "shape, chunks or shards[%u] past 2^53 (JSON numbers)", d);
        if (s->shards[d] && s->shards[d] % s->chunks[d])
            return lsio_error(-EINVAL, "shards[%u] = %llu is not a multiple of chunks %llu", d,
                              (unsigned long long)s->shards[d], (unsigned long long)s->chunks[d]);
    }
    return 0;
}

int zw_adopt_spec(lsio_zwrite_array *a, const lsio_zwrite_spec *in)
{
    lsio_zwrite_spec s = *in;
    int rc = check_shape(&s);
    if (rc < 0)
        return rc;
    int v2 = s.zarr_format == 2;
    if (!v2) {
        if (!zw_dtype_v3(s.dtype))
            return lsio_error(-LSIO_EUNSUPPORTED, "data type of kind %d, size %u in Zarr v3",
                              (int)s.dtype.kind, s.dtype.size);
        s.dtype.big_endian = 0; /* v3: the bytes codec says */
        s.fortran_order = 0;
    } else {
        for (unsigned d = 0; d < s.ndim; d++)
            if (s.shards[d])
                return lsio_error(-EINVAL, "shards need Zarr v3");
    }
    if (s.dtype.size == 1)
        s.dtype.big_endian = 0;
    a->itemsize = zw_itemsize(s.dtype);
    if (a->itemsize == 0)
        return lsio_error(-EINVAL, "data type of size 0");

    /* fill value */
    if (!(a->fill = calloc(1, a->itemsize)))
        return -ENOMEM;
    if ((rc = zw_fill_parse(s.dtype, s.fill_value_json, a->fill, &a->fill_null)) < 0)
        return rc;
    if (!v2)
        a->fill_null = 0;
    if ((a->strings = s.dtype.kind == LSIO_DT_STRING)) {
        cJSON *fj = s.fill_value_json ? cJSON_Parse(s.fill_value_json) : NULL;
        a->fill_str = cJSON_IsString(fj) ? strdup(fj->valuestring)
                    : cJSON_IsNumber(fj) ? cJSON_PrintUnformatted(fj) : strdup("");
        cJSON_Delete(fj);
        if (!a->fill_str)
            return -ENOMEM;
        zw_str f = {a->fill_str, strlen(a->fill_str)};
        memcpy(a->fill, &f, sizeof f);
    }
    if (s.dtype.kind == LSIO_DT_FLOAT || s.dtype.kind == LSIO_DT_COMPLEX) {
        /* NaN test through the JSON spelling: any "NaN" or a NaN hex payload */
        char *fj = zw_fill_json(s.dtype, a->fill, 0, 3);
        a->fill_nan = fj && strstr(fj, "NaN") != NULL;
        free(fj);
    }
    if (!(a->fill_json = zw_fill_json(s.dtype, a->fill, a->fill_null, s.zarr_format)))
        return -ENOMEM;

    /* codecs */
    cJSON *root = s.codecs_json ? cJSON_Parse(s.codecs_json) : NULL;
    if (s.codecs_json && !root)
        return lsio_error(-EINVAL, "codecs: not JSON: %.200s", s.codecs_json);
    lsio_chunk_spec cs = {.ndim = s.ndim, .dtype = s.dtype, .fortran_order = s.fortran_order};
    if (v2) {
        cJSON *comp = NULL, *filt = NULL;
        if (cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "id")) {
            comp = root;
        } else if (cJSON_IsObject(root)) {
            comp = cJSON_GetObjectItemCaseSensitive(root, "compressor");
            filt = cJSON_GetObjectItemCaseSensitive(root, "filters");
        } else if (root && !cJSON_IsNull(root)) {
            cJSON_Delete(root);
            return lsio_error(-EINVAL, "v2 codecs: want {\"compressor\":...,\"filters\":...}");
        }
        if (filt && (cJSON_IsNull(filt) || (cJSON_IsArray(filt) && cJSON_GetArraySize(filt) == 0)))
            filt = NULL;
        if (a->strings && !v2_has_vlen(filt)) { /* object arrays need the vlen-utf8 filter */
            if (!filt) {
                if (!root || cJSON_IsNull(root) || comp == root) {
                    cJSON *nr = cJSON_CreateObject();
                    cJSON_AddItemToObject(nr, "compressor",
                                          comp ? cJSON_Duplicate(comp, 1) : cJSON_CreateNull());
                    cJSON_Delete(root);
                    root = nr;
                    comp = cJSON_GetObjectItemCaseSensitive(root, "compressor");
                }
                cJSON_DeleteItemFromObjectCaseSensitive(root, "filters");
                filt = cJSON_AddArrayToObject(root, "filters");
            }
            cJSON_InsertItemInArray(filt, 0, cJSON_Parse("{\"id\":\"vlen-utf8\"}"));
        }
        a->v2_compressor = comp && !cJSON_IsNull(comp) ? cJSON_PrintUnformatted(comp) : strdup("null");
        a->v2_filters = filt && !cJSON_IsNull(filt) ? cJSON_PrintUnformatted(filt) : strdup("null");
        for (unsigned d = 0; d < s.ndim; d++)
            cs.shape[d] = s.chunks[d];
        rc = chain_from(filt && !cJSON_IsNull(filt) ? filt : NULL, comp, 1, &cs, &a->chain);
        if (rc == 0) {
            size_t n = strlen(a->v2_compressor) + strlen(a->v2_filters) + 40;
            if ((a->codecs_json = malloc(n)))
                snprintf(a->codecs_json, n, "{\"compressor\":%s,\"filters\":%s}", a->v2_compressor,
                         a->v2_filters);
        }
        a->sharded = 0;
    } else {
        if (!root && !(root = cJSON_CreateArray()))
            return -ENOMEM;
        cJSON *codecs = NULL;
        if (!cJSON_IsArray(root))
            rc = lsio_error(-EINVAL, "v3 codecs: want a JSON array");
        if (rc == 0)
            rc = v3_codecs(a, &s, root, &codecs);
        if (rc == 0)
            rc = check_shape(&s);
        if (rc == 0)
            rc = v3_add_bytes(codecs, &s.dtype);
        for (unsigned d = 0; d < s.ndim; d++)
            cs.shape[d] = s.chunks[d];
        if (rc == 0)
            rc = chain_from(codecs, NULL, 0, &cs, &a->chain);
        if (rc == 0 && a->sharded) {
            cJSON *ic = cJSON_Parse(a->index_codecs);
            lsio_chunk_spec is = {.ndim = s.ndim + 1, .dtype = {LSIO_DT_UINT, 8, 0}};
            for (unsigned d = 0; d < s.ndim; d++)
                is.shape[d] = s.shards[d] / s.chunks[d];
            is.shape[s.ndim] = 2;
            rc = ic ? chain_from(ic, NULL, 0, &is, &a->index_chain)
                    : lsio_error(-EINVAL, "index_codecs: not JSON");
            cJSON_Delete(ic);
        }
        if (rc == 0)
            a->codecs_json = cJSON_PrintUnformatted(codecs);
    }
    cJSON_Delete(root);
    if (rc < 0)
        return rc;
    if (!a->codecs_json)
        return -ENOMEM;
    a->chunk_bytes = lsio_chain_decoded_size(a->chain);
    /* identity: v2 without filters or compressor in native order, v3 with
     * "bytes" (little endian) alone; not for shards (inner chunks are
     * gathered into the shard anyway) */
    int native = !s.dtype.big_endian;
    if (v2)
        a->identity = native && !strcmp(a->v2_compressor, "null") && !strcmp(a->v2_filters, "null");
    else
        a->identity = !strncmp(a->codecs_json, "[{\"name\":\"bytes\"", 17) &&
                      !strstr(a->codecs_json, "\"big\"") && !strstr(a->codecs_json, "},{");
    a->identity &= !a->strings;
    if (a->strings) {
        a->chunk_bytes = sizeof(zw_str);
        for (unsigned d = 0; d < s.ndim; d++)
            a->chunk_bytes *= s.chunks[d];
    }

    /* attributes, names */
    if (s.attrs_json) {
        cJSON *at = cJSON_Parse(s.attrs_json);
        int ok = cJSON_IsObject(at);
        cJSON_Delete(at);
        if (!ok)
            return lsio_error(-EINVAL, "attributes: want a JSON object");
        if (!(a->attrs_json = strdup(s.attrs_json)))
            return -ENOMEM;
    }
    for (unsigned d = 0; d < s.ndim; d++)
        if (s.dimension_names[d] && !(a->dimnames[d] = strdup(s.dimension_names[d])))
            return -ENOMEM;

    /* the grid */
    a->nobjects = 1;
    a->ninner = 1;
    for (unsigned d = 0; d < s.ndim; d++) {
        a->obj[d] = a->sharded ? s.shards[d] : s.chunks[d];
        a->grid[d] = (s.shape[d] + a->obj[d] - 1) / a->obj[d];
        a->inner[d] = a->sharded ? s.shards[d] / s.chunks[d] : 1;
        a->ninner *= a->inner[d];
        a->nobjects = a->grid[d] && a->nobjects > UINT64_MAX / a->grid[d] ? UINT64_MAX
                                                                           : a->nobjects * a->grid[d];
    }
    if (!a->sharded)
        memset(s.shards, 0, sizeof s.shards);

    s.fill_value_json = a->fill_json;
    s.attrs_json = a->attrs_json;
    s.codecs_json = a->codecs_json;
    for (unsigned d = 0; d < ZW_MAXD; d++)
        s.dimension_names[d] = d < s.ndim ? a->dimnames[d] : NULL;
    if (!s.separator)
        s.separator = v2 || s.v3_v2_keys ? '.' : '/';
    if (s.separator != '.' && s.separator != '/')
        return lsio_error(-EINVAL, "chunk key separator '%c': want '.' or '/'", s.separator);
    a->spec = s;
    return 0;
}

int lsio_zwrite_chunk_key(const lsio_zwrite_spec *s, const uint64_t *g, char *buf, size_t len)
{
    int v3d = s->zarr_format == 3 && !s->v3_v2_keys;
    char sep = s->separator ? s->separator : v3d ? '/' : '.';
    size_t k = 0;
    int n = snprintf(buf, len, "%s", v3d ? "c" : s->ndim == 0 ? "0" : "");
    k = (size_t)n;
    for (unsigned d = 0; d < s->ndim; d++) {
        n = snprintf(buf + (k < len ? k : len), k < len ? len - k : 0, "%s%llu",
                     d || v3d ? (sep == '/' ? "/" : ".") : "", (unsigned long long)g[d]);
        k += (size_t)n;
    }
    return k < len ? 0 : -ENAMETOOLONG;
}

/* -------------------------------------------------------------- documents */

/* Integers written as their digits: cJSON prints a double with 15
 * significant digits when that reads back within its tolerance, which
 * rounds sizes past 10^15 (found by fuzz_zwrite_meta). */
static cJSON *u64_array(const uint64_t *v, unsigned n)
{
    cJSON *a = cJSON_CreateArray();
    for (unsigned i = 0; a && i < n; i++) {
        char digits[24];
        snprintf(digits, sizeof digits, "%" PRIu64, v[i]);
        cJSON_AddItemToArray(a, cJSON_CreateRaw(digits));
    }
    return a;
}

static int put_doc(lsio_zwrite_array *a, const char *name, cJSON *doc)
{
    char *txt = doc ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    if (!a->io) { /* no store (the fuzz target): keep the text */
        char **slot = !strcmp(name, ".zattrs") ? &a->doc_attrs : &a->doc_main;
        free(*slot);
        *slot = txt;
        return txt ? 0 : -ENOMEM;
    }
    char *loc = lsio_join(a->url, name);
    int rc = txt && loc ? lsio_write(a->io, loc, txt, strlen(txt), a->opts.put_flags) : -ENOMEM;
    if (rc < 0)
        lsio_error_wrap(rc, "array %s: write %s", a->url, name);
    free(txt);
    free(loc);
    return rc;
}

int zw_write_meta(lsio_zwrite_array *a)
{
    const lsio_zwrite_spec *s = &a->spec;
    cJSON *m = cJSON_CreateObject();
    if (!m)
        return -ENOMEM;
    if (s->zarr_format == 2) {
        char dt[32];
        zw_dtype_v2(s->dtype, dt, sizeof dt);
        cJSON_AddItemToObject(m, "chunks", u64_array(s->chunks, s->ndim));
        cJSON_AddItemToObject(m, "compressor", cJSON_CreateRaw(a->v2_compressor));
        cJSON_AddStringToObject(m, "dimension_separator", s->separator == '/' ? "/" : ".");
        cJSON_AddStringToObject(m, "dtype", dt);
        cJSON_AddItemToObject(m, "fill_value", cJSON_CreateRaw(a->fill_json));
        cJSON_AddItemToObject(m, "filters", cJSON_CreateRaw(a->v2_filters));
        cJSON_AddStringToObject(m, "order", s->fortran_order ? "F" : "C");
        cJSON_AddItemToObject(m, "shape", u64_array(s->shape, s->ndim));
        cJSON_AddNumberToObject(m, "zarr_format", 2);
        int rc = put_doc(a, ".zarray", m);
        if (rc == 0 && a->attrs_json)
            rc = put_doc(a, ".zattrs", cJSON_Parse(a->attrs_json));
        return rc;
    }
    cJSON_AddNumberToObject(m, "zarr_format", 3);
    cJSON_AddStringToObject(m, "node_type", "array");
    cJSON_AddItemToObject(m, "shape", u64_array(s->shape, s->ndim));
    cJSON_AddStringToObject(m, "data_type", zw_dtype_v3(s->dtype));
    cJSON *grid = cJSON_AddObjectToObject(m, "chunk_grid");
    cJSON_AddStringToObject(grid, "name", "regular");
    cJSON_AddItemToObject(cJSON_AddObjectToObject(grid, "configuration"), "chunk_shape",
                          u64_array(a->sharded ? s->shards : s->chunks, s->ndim));
    cJSON *cke = cJSON_AddObjectToObject(m, "chunk_key_encoding");
    cJSON_AddStringToObject(cke, "name", s->v3_v2_keys ? "v2" : "default");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(cke, "configuration"), "separator",
                            s->separator == '/' ? "/" : ".");
    cJSON_AddItemToObject(m, "fill_value", cJSON_CreateRaw(a->fill_json));
    if (a->sharded) {
        cJSON *codecs = cJSON_AddArrayToObject(m, "codecs");
        cJSON *sh = cJSON_CreateObject();
        cJSON_AddItemToArray(codecs, sh);
        cJSON_AddStringToObject(sh, "name", "sharding_indexed");
        cJSON *cfg = cJSON_AddObjectToObject(sh, "configuration");
        cJSON_AddItemToObject(cfg, "chunk_shape", u64_array(s->chunks, s->ndim));
        cJSON_AddItemToObject(cfg, "codecs", cJSON_CreateRaw(a->codecs_json));
        cJSON_AddItemToObject(cfg, "index_codecs", cJSON_CreateRaw(a->index_codecs));
        cJSON_AddStringToObject(cfg, "index_location", s->index_at_start ? "start" : "end");
    } else {
        cJSON_AddItemToObject(m, "codecs", cJSON_CreateRaw(a->codecs_json));
    }
    cJSON_AddItemToObject(m, "attributes", cJSON_CreateRaw(a->attrs_json ? a->attrs_json : "{}"));
    int named = 0;
    for (unsigned d = 0; d < s->ndim; d++)
        named |= a->dimnames[d] != NULL;
    if (named) {
        cJSON *dn = cJSON_AddArrayToObject(m, "dimension_names");
        for (unsigned d = 0; d < s->ndim; d++)
            cJSON_AddItemToArray(dn, a->dimnames[d] ? cJSON_CreateString(a->dimnames[d])
                                                    : cJSON_CreateNull());
    }
    return put_doc(a, "zarr.json", m);
}

/* ------------------------------------------------------- existing nodes */

/* Read a small JSON document; NULL with *rc = -ENOENT when absent. */
static cJSON *get_doc(lsio_io *io, const char *url, const char *name, int *rc)
{
    char *loc = lsio_join(url, name);
    lsio_buf *b = NULL;
    *rc = loc ? lsio_io_read(io, loc, 0, LSIO_TO_END, &b) : -ENOMEM;
    cJSON *j = NULL;
    if (*rc == 0) {
        j = cJSON_ParseWithLength(lsio_buf_data(b), lsio_buf_len(b));
        if (!j)
            *rc = lsio_error(-LSIO_EFORMAT, "%s: not JSON", loc);
        lsio_buf_release(b);
    }
    free(loc);
    return j;
}

int zw_probe(lsio_io *io, const char *url, int *fmt, int *is_array)
{
    int rc;
    *fmt = 0;
    *is_array = 0;
    cJSON *j = get_doc(io, url, "zarr.json", &rc);
    if (j) {
        const cJSON *nt = cJSON_GetObjectItemCaseSensitive(j, "node_type");
        *fmt = 3;
        *is_array = cJSON_IsString(nt) && !strcmp(nt->valuestring, "array");
        cJSON_Delete(j);
        return 0;
    }
    if (rc != -ENOENT)
        return rc;
    static const char *v2[] = {".zarray", ".zgroup"};
    for (int i = 0; i < 2; i++) {
        char *loc = lsio_join(url, v2[i]);
        uint64_t sz;
        rc = loc ? lsio_io_size(io, loc, &sz) : -ENOMEM;
        free(loc);
        if (rc == 0) {
            *fmt = 2;
            *is_array = i == 0;
            return 0;
        }
        if (rc != -ENOENT)
            return rc;
    }
    lsio_error_clear();
    return 0;
}

typedef struct { char **v; size_t n, cap; } loclist;

static int collect(void *ctx, const char *location, uint64_t size)
{
    (void)size;
    loclist *l = ctx;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        char **nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        l->v = nv;
        l->cap = nc;
    }
    return (l->v[l->n++] = strdup(location)) ? 0 : -ENOMEM;
}

int zw_remove_tree(lsio_io *io, const char *url)
{
    char *prefix = lsio_join(url, "");
    if (!prefix)
        return -ENOMEM;
    loclist l = {0};
    int rc = lsio_list(io, prefix, collect, &l);
    for (size_t i = 0; i < l.n; i++) {
        if (rc == 0)
            rc = lsio_delete(io, l.v[i]);
        free(l.v[i]);
    }
    free(l.v);
    free(prefix);
    return rc;
}

/* ------------------------------------------------------ reading metadata */

static int parse_meta(lsio_zwrite_array *a, const cJSON *m, const cJSON *attrs, int v2);

static int u64s(const cJSON *arr, unsigned n, uint64_t *out)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != (int)n)
        return -LSIO_EFORMAT;
    for (unsigned d = 0; d < n; d++)
        if (json_u64(cJSON_GetArrayItem(arr, (int)d), 0, &out[d]) < 0)
            return -LSIO_EFORMAT;
    return 0;
}

int zw_read_meta(lsio_zwrite_array *a)
{
    int rc, v2 = 0;
    cJSON *m = get_doc(a->io, a->url, "zarr.json", &rc), *attrs = NULL;
    if (!m && rc == -ENOENT) {
        v2 = 1;
        m = get_doc(a->io, a->url, ".zarray", &rc);
        if (m)
            attrs = get_doc(a->io, a->url, ".zattrs", &rc);
    }
    if (!m)
        return rc == -ENOENT ? lsio_error(-ENOENT, "no Zarr array at %s", a->url) : rc;
    rc = parse_meta(a, m, attrs, v2);
    cJSON_Delete(attrs);
    cJSON_Delete(m);
    return rc;
}

int zw_parse_meta_text(lsio_zwrite_array *a, int v2, const char *text, size_t len,
                       const char *attrs, size_t alen)
{
    cJSON *m = cJSON_ParseWithLength(text, len);
    cJSON *at = attrs ? cJSON_ParseWithLength(attrs, alen) : NULL;
    int rc = m ? parse_meta(a, m, at, v2) : -LSIO_EFORMAT;
    cJSON_Delete(at);
    cJSON_Delete(m);
    return rc;
}

static int parse_meta(lsio_zwrite_array *a, const cJSON *m, const cJSON *attrs, int v2)
{
    int rc;
    lsio_zwrite_spec s = {.zarr_format = v2 ? 2 : 3};
    char *codecs = NULL, *fill = NULL, *at = NULL;
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(m, "shape");
    rc = cJSON_IsArray(shape) && cJSON_GetArraySize(shape) <= ZW_MAXD ? 0 : -LSIO_EFORMAT;
    if (rc == 0) {
        s.ndim = (unsigned)cJSON_GetArraySize(shape);
        rc = u64s(shape, s.ndim, s.shape);
    }
    if (rc == 0 && v2) {
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(m, "dtype");
        const cJSON *ord = cJSON_GetObjectItemCaseSensitive(m, "order");
        const cJSON *sep = cJSON_GetObjectItemCaseSensitive(m, "dimension_separator");
        rc = u64s(cJSON_GetObjectItemCaseSensitive(m, "chunks"), s.ndim, s.chunks);
        if (rc == 0)
            rc = cJSON_IsString(dt) ? lsio_dtype_parse(dt->valuestring, &s.dtype) : -LSIO_EFORMAT;
        s.fortran_order = cJSON_IsString(ord) && !strcmp(ord->valuestring, "F");
        s.separator = cJSON_IsString(sep) && !strcmp(sep->valuestring, "/") ? '/' : '.';
        char *c = print_or_null(cJSON_GetObjectItemCaseSensitive(m, "compressor"));
        char *f = print_or_null(cJSON_GetObjectItemCaseSensitive(m, "filters"));
        size_t n = (c ? strlen(c) : 0) + (f ? strlen(f) : 0) + 40;
        if (c && f && (codecs = malloc(n)))
            snprintf(codecs, n, "{\"compressor\":%s,\"filters\":%s}", c, f);
        free(c);
        free(f);
        if (attrs)
            at = cJSON_PrintUnformatted(attrs);
    } else if (rc == 0) {
        const cJSON *nt = cJSON_GetObjectItemCaseSensitive(m, "node_type");
        if (!cJSON_IsString(nt) || strcmp(nt->valuestring, "array"))
            rc = lsio_error(-ENOENT, "no Zarr array at %s (a group)", a->url);
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(m, "data_type");
        if (rc == 0)
            rc = cJSON_IsString(dt) ? lsio_dtype_parse(dt->valuestring, &s.dtype) : -LSIO_EFORMAT;
        const cJSON *grid = cJSON_GetObjectItemCaseSensitive(m, "chunk_grid");
        if (rc == 0)
            rc = u64s(cJSON_GetObjectItemCaseSensitive(
                          cJSON_GetObjectItemCaseSensitive(grid, "configuration"), "chunk_shape"),
                      s.ndim, s.chunks);
        const cJSON *cke = cJSON_GetObjectItemCaseSensitive(m, "chunk_key_encoding");
        const cJSON *kn = cJSON_GetObjectItemCaseSensitive(cke, "name");
        const cJSON *ks = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cke, "configuration"), "separator");
        s.v3_v2_keys = cJSON_IsString(kn) && !strcmp(kn->valuestring, "v2");
        if (cJSON_IsString(ks))
            s.separator = ks->valuestring[0];
        codecs = print_or_null(cJSON_GetObjectItemCaseSensitive(m, "codecs"));
        const cJSON *atj = cJSON_GetObjectItemCaseSensitive(m, "attributes");
        if (atj)
            at = cJSON_PrintUnformatted(atj);
        const cJSON *dn = cJSON_GetObjectItemCaseSensitive(m, "dimension_names");
        for (unsigned d = 0; d < s.ndim && cJSON_IsArray(dn); d++) {
            const cJSON *e = cJSON_GetArrayItem(dn, (int)d);
            s.dimension_names[d] = cJSON_IsString(e) ? e->valuestring : NULL;
        }
    }
    if (rc == 0)
        fill = print_or_null(cJSON_GetObjectItemCaseSensitive(m, "fill_value"));
    if (rc == 0) {
        s.codecs_json = codecs;
        s.fill_value_json = fill;
        s.attrs_json = at;
        rc = zw_adopt_spec(a, &s);
    } else if (rc == -LSIO_EFORMAT) {
        lsio_error(rc, "array %s: bad metadata", a->url);
    }
    free(codecs);
    free(fill);
    free(at);
    return rc;
}
