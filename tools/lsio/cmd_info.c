/*
 * cmd_info.c — `lsio info URL [--json]`: describe a Zarr array, or the tree
 * of a group (recursively): shape, data type, chunks and shards, codecs,
 * fill value, logical and stored sizes, chunks present, dimension names and
 * attributes. With --json one object describes the same (a group's members
 * nested under "members"), built with cJSON, for scripts and tests.
 *
 * Stored sizes and chunk counts list the store (lsio_zarr_count_chunks);
 * where a store cannot be listed they are reported as unknown (null).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "lsio_zarr.h"


static void usage(FILE *f)
{
    fprintf(f, "usage: lsio info URL [--json] [options]\n"
               "  --json               one JSON object\n" CLI_ZARR_COMMON_HELP);
}

static uint64_t logical_bytes(const lsio_zarr_info *in, size_t itemsize)
{
    uint64_t n = itemsize;
    for (unsigned d = 0; d < in->ndim; d++)
        n *= in->shape[d];
    return n;
}

static int any_shards(const lsio_zarr_info *in)
{
    for (unsigned d = 0; d < in->ndim; d++)
        if (in->shards[d])
            return 1;
    return 0;
}

/* ------------------------------------------------------------------- text */

static void print_dims(const uint64_t *v, unsigned n)
{
    if (n == 0)
        printf("()");
    for (unsigned d = 0; d < n; d++)
        printf("%s%" PRIu64, d ? " x " : "", v[d]);
}

static void print_array(lsio_zarr_array *a, const char *label, int depth)
{
    const lsio_zarr_info *in = lsio_zarr_get_info(a);
    int ind = 2 * depth;
    char b1[64], b2[64];
    printf("%*s%s  array (zarr v%d)\n", ind, "", label, in->zarr_format);
    ind += 2;
    printf("%*sshape         ", ind, "");
    print_dims(in->shape, in->ndim);
    int named = 0;
    for (unsigned d = 0; d < in->ndim; d++)
        named |= in->dimension_names[d] != NULL;
    if (named) {
        printf("  (");
        for (unsigned d = 0; d < in->ndim; d++)
            printf("%s%s", d ? ", " : "", in->dimension_names[d] ? in->dimension_names[d] : "-");
        printf(")");
    }
    printf("\n%*sdtype         %s\n", ind, "", cli_dtype_descr(&in->dtype, 0, b1, sizeof b1));
    printf("%*schunks        ", ind, "");
    print_dims(in->chunks, in->ndim);
    printf("\n");
    if (any_shards(in)) {
        printf("%*sshards        ", ind, "");
        print_dims(in->shards, in->ndim);
        printf("\n");
    }
    if (in->zarr_format == 2)
        printf("%*sorder         %s\n", ind, "", in->fortran_order ? "F" : "C");
    printf("%*scodecs        %s\n", ind, "", in->codecs_json ? in->codecs_json : "[]");
    printf("%*sfill value    %s\n", ind, "", in->fill_value_json ? in->fill_value_json : "null");
    size_t item = lsio_zarr_itemsize(a);
    uint64_t present = 0, stored = 0;
    int cerr = lsio_zarr_count_chunks(a, &present, &stored);
    printf("%*s%s  %" PRIu64 " in the grid, ", ind, "",
           any_shards(in) ? "shard count " : "chunk count ", in->nchunks);
    if (cerr < 0)
        printf("present unknown (%s)\n", lsio_strerror(cerr));
    else
        printf("%" PRIu64 " present\n", present);
    if (item)
        printf("%*slogical size  %s (%" PRIu64 " bytes)\n", ind, "",
               cli_fmt_size((double)logical_bytes(in, item), b1, sizeof b1),
               logical_bytes(in, item));
    if (cerr >= 0) {
        printf("%*sstored size   %s", ind, "", cli_fmt_size((double)stored, b2, sizeof b2));
        if (item && stored)
            printf(" (ratio %.2f)", (double)logical_bytes(in, item) / (double)stored);
        printf("\n");
    }
    if (in->attrs_json && strcmp(in->attrs_json, "{}"))
        printf("%*sattributes    %s\n", ind, "", in->attrs_json);
}

static int print_group(lsio_zarr_group *g, const char *url, const char *label, int depth,
                       const lsio_zarr_opts *opts)
{
    int ind = 2 * depth, rc = 0;
    printf("%*s%s  group (zarr v%d)\n", ind, "", label, lsio_zarr_group_format(g));
    const char *attrs = lsio_zarr_group_attrs(g);
    if (attrs && strcmp(attrs, "{}"))
        printf("%*s  attributes    %s\n", ind, "", attrs);
    size_t n = lsio_zarr_group_count(g);
    for (size_t i = 0; i < n; i++) {
        const char *name = lsio_zarr_group_name(g, i);
        int err = 0;
        if (lsio_zarr_group_kind(g, i) == LSIO_ZARR_ARRAY) {
            lsio_zarr_array *a;
            if ((err = lsio_zarr_group_open_array(g, name, &a)) == 0) {
                print_array(a, name, depth + 1);
                lsio_zarr_close(a);
            }
        } else {
            char *sub = lsio_join(url, name);
            lsio_zarr_group *sg;
            if (!sub)
                err = -ENOMEM;
            else if ((err = lsio_zarr_group_open_group(g, name, &sg)) == 0) {
                rc |= print_group(sg, sub, name, depth + 1, opts);
                lsio_zarr_group_close(sg);
            }
            free(sub);
        }
        if (err < 0) {
            /* A member LSIO cannot read (an unknown codec or data type) is
             * described as such; anything else is a failure. */
            printf("%*s  %s  (%s)\n", ind, "", name,
                   err == -LSIO_EUNSUPPORTED ? "unsupported" : "unreadable");
            cli_fail("info", err, name);
            if (err != -LSIO_EUNSUPPORTED)
                rc = 1;
        }
    }
    return rc;
}

/* ------------------------------------------------------------------- JSON */

/* Parse JSON text from the library; text that is not JSON is kept as a
 * string (never lost). */
static cJSON *json_or_string(const char *text, const char *dflt)
{
    if (!text)
        text = dflt;
    cJSON *j = cJSON_Parse(text);
    return j ? j : cJSON_CreateString(text);
}

/* A count as its digits: cJSON prints a double with 15 significant digits
 * when that reads back within its tolerance, which rounds values past
 * 10^15 (a shape, chunk count or byte count of a large virtual array). */
static cJSON *json_u64(uint64_t v)
{
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, v);
    return cJSON_CreateRaw(digits);
}

static cJSON *json_dims(const uint64_t *v, unsigned n)
{
    cJSON *a = cJSON_CreateArray();
    for (unsigned d = 0; d < n; d++)
        cJSON_AddItemToArray(a, json_u64(v[d]));
    return a;
}

static cJSON *json_array(lsio_zarr_array *a)
{
    const lsio_zarr_info *in = lsio_zarr_get_info(a);
    char b[64];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node", "array");
    cJSON_AddStringToObject(o, "url", in->url ? in->url : "");
    cJSON_AddNumberToObject(o, "zarr_format", in->zarr_format);
    cJSON_AddItemToObject(o, "shape", json_dims(in->shape, in->ndim));
    cJSON_AddStringToObject(o, "dtype", cli_dtype_descr(&in->dtype, 0, b, sizeof b));
    cJSON_AddItemToObject(o, "chunks", json_dims(in->chunks, in->ndim));
    cJSON_AddItemToObject(o, "shards",
                          any_shards(in) ? json_dims(in->shards, in->ndim) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "order", in->fortran_order ? "F" : "C");
    cJSON_AddItemToObject(o, "codecs", json_or_string(in->codecs_json, "[]"));
    /* the metadata's own text (valid JSON): an integer past 2^53 keeps its digits */
    cJSON *fv = json_or_string(in->fill_value_json, "null");
    if (cJSON_IsNumber(fv)) {
        cJSON_Delete(fv);
        fv = cJSON_CreateRaw(in->fill_value_json);
    }
    cJSON_AddItemToObject(o, "fill_value", fv);
    int named = 0;
    for (unsigned d = 0; d < in->ndim; d++)
        named |= in->dimension_names[d] != NULL;
    cJSON *dn = named ? cJSON_CreateArray() : cJSON_CreateNull();
    for (unsigned d = 0; named && d < in->ndim; d++)
        cJSON_AddItemToArray(dn, in->dimension_names[d]
                                     ? cJSON_CreateString(in->dimension_names[d])
                                     : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "dimension_names", dn);
    cJSON_AddItemToObject(o, "attributes", json_or_string(in->attrs_json, "{}"));
    cJSON_AddItemToObject(o, "nchunks", json_u64(in->nchunks));
    size_t item = lsio_zarr_itemsize(a);
    cJSON_AddItemToObject(o, "logical_bytes",
                          item ? json_u64(logical_bytes(in, item)) : cJSON_CreateNull());
    uint64_t present = 0, stored = 0;
    if (lsio_zarr_count_chunks(a, &present, &stored) >= 0) {
        cJSON_AddItemToObject(o, "chunks_present", json_u64(present));
        cJSON_AddItemToObject(o, "stored_bytes", json_u64(stored));
    } else {
        cJSON_AddNullToObject(o, "chunks_present");
        cJSON_AddNullToObject(o, "stored_bytes");
    }
    return o;
}

static cJSON *json_group(lsio_zarr_group *g, const char *url, const lsio_zarr_opts *opts,
                         int *rc)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node", "group");
    cJSON_AddStringToObject(o, "url", url);
    cJSON_AddNumberToObject(o, "zarr_format", lsio_zarr_group_format(g));
    cJSON_AddItemToObject(o, "attributes", json_or_string(lsio_zarr_group_attrs(g), "{}"));
    cJSON *m = cJSON_AddObjectToObject(o, "members");
    size_t n = lsio_zarr_group_count(g);
    for (size_t i = 0; i < n; i++) {
        const char *name = lsio_zarr_group_name(g, i);
        cJSON *item = NULL;
        int err = 0;
        if (lsio_zarr_group_kind(g, i) == LSIO_ZARR_ARRAY) {
            lsio_zarr_array *a;
            if ((err = lsio_zarr_group_open_array(g, name, &a)) == 0) {
                item = json_array(a);
                lsio_zarr_close(a);
            }
        } else {
            char *sub = lsio_join(url, name);
            lsio_zarr_group *sg;
            if (!sub)
                err = -ENOMEM;
            else if ((err = lsio_zarr_group_open_group(g, name, &sg)) == 0) {
                item = json_group(sg, sub, opts, rc);
                lsio_zarr_group_close(sg);
            }
            free(sub);
        }
        if (err < 0) {
            item = cJSON_CreateObject();
            const char *msg = lsio_last_error();
            cJSON_AddStringToObject(item, "error", msg && *msg ? msg : lsio_strerror(err));
            if (err == -LSIO_EUNSUPPORTED)
                cJSON_AddBoolToObject(item, "unsupported", 1);
            cli_fail("info", err, name);
            if (err != -LSIO_EUNSUPPORTED) /* see print_group */
                *rc = 1;
        }
        cJSON_AddItemToObject(m, name, item);
    }
    return o;
}

/* -------------------------------------------------------------------- main */

int cmd_info(int argc, char **argv)
{
    const char *url = NULL;
    int json = 0;
    cli_zarr_common com = {0};
    for (int i = 1; i < argc; i++) {
        int r = cli_zarr_arg(&com, "info", argc, argv, &i);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "lsio info: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!url)
            url = argv[i];
        else {
            fprintf(stderr, "lsio info: one URL only (got %s and %s)\n", url, argv[i]);
            return 2;
        }
    }
    if (!url) {
        usage(stderr);
        return 2;
    }
    lsio_zarr_opts opts;
    if (cli_zarr_setup(&com, "info", &opts) < 0)
        return 1;
    int rc = 0, fmt = 0, err;
    lsio_zarr_node kind;
    if ((err = lsio_zarr_probe(url, &opts, &kind, &fmt)) < 0) {
        rc = cli_fail("info", err, url);
    } else if (kind == LSIO_ZARR_MISSING) {
        fprintf(stderr, "lsio info: %s: no Zarr array or group there\n", url);
        rc = 1;
    } else if (kind == LSIO_ZARR_ARRAY) {
        lsio_zarr_array *a;
        if ((err = lsio_zarr_open(&a, url, &opts)) < 0) {
            rc = cli_fail("info", err, url);
        } else {
            if (json) {
                cJSON *o = json_array(a);
                char *s = cJSON_Print(o);
                printf("%s\n", s);
                free(s);
                cJSON_Delete(o);
            } else
                print_array(a, url, 0);
            lsio_zarr_close(a);
        }
    } else {
        lsio_zarr_group *g;
        if ((err = lsio_zarr_group_open(&g, url, &opts)) < 0) {
            rc = cli_fail("info", err, url);
        } else {
            if (json) {
                cJSON *o = json_group(g, url, &opts, &rc);
                char *s = cJSON_Print(o);
                printf("%s\n", s);
                free(s);
                cJSON_Delete(o);
            } else
                rc = print_group(g, url, url, 0, &opts);
            lsio_zarr_group_close(g);
        }
    }
    cli_zarr_end(&com);
    return rc;
}
