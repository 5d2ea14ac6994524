/*
 * group.c — Zarr groups and probing. A group's members come from its
 * consolidated metadata when it has some (v2 .zmetadata, v3 inline
 * consolidated_metadata), else from a listing of the store; arrays opened
 * through a group share its IO backend and, when consolidated, take their
 * metadata from the consolidated copy without reading the store again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zarr_internal.h"

struct lsio_zarr_group {
    char *url;
    lsio_io *io;
    int own_io;
    lsio_zarr_opts opts;
    int format;
    char *attrs;
    cJSON *doc;        /* the parsed consolidated document (owner) */
    const cJSON *cons; /* its metadata object, or NULL */
    size_t n, cap;
    char **names;
    lsio_zarr_node *kinds;
};

static int read_json(lsio_io *io, const char *url, const char *file, cJSON **out)
{
    char *p = lsio_join(url, file), *text = NULL;
    size_t len = 0;
    if (!p)
        return -ENOMEM;
    int rc = zarr_read_text(io, p, &text, &len);
    if (rc == 0) {
        *out = cJSON_ParseWithLength(text, len);
        if (!*out)
            rc = lsio_error(-LSIO_EFORMAT, "%s is not valid JSON", p);
    }
    free(text);
    free(p);
    return rc;
}

/* Look at url: kind and format; *meta gets zarr.json (v3) when read. */
static int probe_io(lsio_io *io, const char *url, lsio_zarr_node *kind, int *fmt, cJSON **meta)
{
    cJSON *j = NULL;
    *kind = LSIO_ZARR_MISSING;
    *fmt = 0;
    int rc = read_json(io, url, "zarr.json", &j);
    if (rc == 0) {
        const cJSON *nt = cJSON_GetObjectItemCaseSensitive(j, "node_type");
        *fmt = 3;
        if (cJSON_IsString(nt) && !strcmp(nt->valuestring, "array"))
            *kind = LSIO_ZARR_ARRAY;
        else if (cJSON_IsString(nt) && !strcmp(nt->valuestring, "group"))
            *kind = LSIO_ZARR_GROUP;
        else {
            cJSON_Delete(j);
            return lsio_error(-LSIO_EFORMAT, "%s/zarr.json: node_type is not array or group",
                              url);
        }
        if (meta)
            *meta = j;
        else
            cJSON_Delete(j);
        return 0;
    }
    if (rc != -ENOENT)
        return rc;
    static const char *files[] = {".zarray", ".zgroup", ".zmetadata"};
    for (int i = 0; i < 3; i++) {
        char *p = lsio_join(url, files[i]);
        if (!p)
            return -ENOMEM;
        uint64_t size;
        rc = lsio_io_size(io, p, &size);
        free(p);
        if (rc == 0) {
            *fmt = 2;
            *kind = i == 0 ? LSIO_ZARR_ARRAY : LSIO_ZARR_GROUP;
            return 0;
        }
        if (rc != -ENOENT)
            return rc;
    }
    lsio_error_clear();
    return 0;
}

int lsio_zarr_probe(const char *url, const lsio_zarr_opts *opts, lsio_zarr_node *kind,
                    int *zarr_format)
{
    lsio_zarr_opts def = LSIO_ZARR_OPTS_DEFAULT;
    if (!opts)
        opts = &def;
    lsio_io *io = opts->io_handle;
    int rc, fmt;
    lsio_zarr_node k;
    if (!io && (rc = lsio_io_open(&io, url, &opts->io)) < 0)
        return lsio_error_wrap(rc, "%s: opening the store", url);
    rc = probe_io(io, url, &k, &fmt, NULL);
    if (!opts->io_handle)
        lsio_io_close(io);
    if (rc < 0)
        return rc;
    if (kind)
        *kind = k;
    if (zarr_format)
        *zarr_format = fmt;
    return 0;
}

/* ---------------------------------------------------------------- members */

static int add_member(lsio_zarr_group *g, const char *name, size_t len, lsio_zarr_node kind)
{
    for (size_t i = 0; i < g->n; i++)
        if (strlen(g->names[i]) == len && !memcmp(g->names[i], name, len))
            return 0;
    if (g->n == g->cap) {
        size_t c = g->cap ? g->cap * 2 : 16;
        char **nn = realloc(g->names, c * sizeof *nn);
        if (!nn)
            return -ENOMEM;
        g->names = nn;
        lsio_zarr_node *nk = realloc(g->kinds, c * sizeof *nk);
        if (!nk)
            return -ENOMEM;
        g->kinds = nk;
        g->cap = c;
    }
    if (!(g->names[g->n] = strndup(name, len)))
        return -ENOMEM;
    g->kinds[g->n++] = kind;
    return 0;
}

/* Members from consolidated metadata: keys "name/.zarray" (v2) or "name"
 * with a zarr.json object (v3); direct children only. */
static int members_consolidated(lsio_zarr_group *g)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, g->cons)
    {
        const char *k = e->string;
        if (!k)
            continue;
        if (g->format == 2) {
            const char *slash = strchr(k, '/');
            if (!slash || strchr(slash + 1, '/'))
                continue;
            lsio_zarr_node kind = !strcmp(slash + 1, ".zarray")   ? LSIO_ZARR_ARRAY
                                  : !strcmp(slash + 1, ".zgroup") ? LSIO_ZARR_GROUP
                                                                  : LSIO_ZARR_MISSING;
            if (kind && add_member(g, k, (size_t)(slash - k), kind) < 0)
                return -ENOMEM;
        } else {
            if (strchr(k, '/'))
                continue;
            const cJSON *nt = cJSON_GetObjectItemCaseSensitive(e, "node_type");
            lsio_zarr_node kind = cJSON_IsString(nt) && !strcmp(nt->valuestring, "array")
                                      ? LSIO_ZARR_ARRAY
                                      : LSIO_ZARR_GROUP;
            if (add_member(g, k, strlen(k), kind) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

typedef struct list_ctx {
    lsio_zarr_group *g;
    size_t base;
    int rc;
} list_ctx;

static int list_one(void *ctx, const char *location, uint64_t size)
{
    (void)size;
    list_ctx *c = ctx;
    if (strlen(location) <= c->base)
        return 0;
    const char *rel = location + c->base, *slash = strchr(rel, '/');
    if (!slash || strchr(slash + 1, '/'))
        return 0;
    const char *f = slash + 1;
    lsio_zarr_node kind = LSIO_ZARR_MISSING;
    if (!strcmp(f, ".zarray"))
        kind = LSIO_ZARR_ARRAY;
    else if (!strcmp(f, ".zgroup"))
        kind = LSIO_ZARR_GROUP;
    else if (!strcmp(f, "zarr.json")) {
        char *sub = strndup(location, (size_t)(slash - location));
        int fmt;
        if (!sub || probe_io(c->g->io, sub, &kind, &fmt, NULL) < 0)
            kind = LSIO_ZARR_MISSING;
        free(sub);
    }
    if (kind && (c->rc = add_member(c->g, rel, (size_t)(slash - rel), kind)) < 0)
        return 1;
    return 0;
}

static int cmp_member(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in order, kinds with them. */
static void sort_members(lsio_zarr_group *g)
{
    for (size_t i = 1; i < g->n; i++)
        for (size_t j = i; j > 0 && cmp_member(&g->names[j - 1], &g->names[j]) > 0; j--) {
            char *t = g->names[j];
            g->names[j] = g->names[j - 1];
            g->names[j - 1] = t;
            lsio_zarr_node k = g->kinds[j];
            g->kinds[j] = g->kinds[j - 1];
            g->kinds[j - 1] = k;
        }
}

int lsio_zarr_group_open(lsio_zarr_group **out, const char *url, const lsio_zarr_opts *opts)
{
    if (!out || !url)
        return lsio_error(-EINVAL, "lsio_zarr_group_open: NULL argument");
    *out = NULL;
    lsio_zarr_group *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    lsio_zarr_opts def = LSIO_ZARR_OPTS_DEFAULT;
    g->opts = opts ? *opts : def;
    size_t ul = strlen(url);
    while (ul > 1 && url[ul - 1] == '/')
        ul--;
    int rc;
    cJSON *meta = NULL, *attrs = NULL;
    if (!(g->url = strndup(url, ul))) {
        rc = -ENOMEM;
        goto fail;
    }
    g->io = g->opts.io_handle;
    if (!g->io) {
        if ((rc = lsio_io_open(&g->io, url, &g->opts.io)) < 0) {
            rc = lsio_error_wrap(rc, "group %s: opening the store", url);
            goto fail;
        }
        g->own_io = 1;
        g->opts.io_handle = g->io;
    }
    lsio_zarr_node kind;
    if ((rc = probe_io(g->io, g->url, &kind, &g->format, &meta)) < 0)
        goto fail;
    if (kind != LSIO_ZARR_GROUP) {
        rc = lsio_error(-ENOENT, "no Zarr group at %s%s", g->url,
                        kind == LSIO_ZARR_ARRAY ? " (an array is there)" : "");
        goto fail;
    }
    if (g->format == 3) {
        g->attrs = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(meta, "attributes"));
        const cJSON *cm = cJSON_GetObjectItemCaseSensitive(meta, "consolidated_metadata");
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(cm, "metadata");
        if (cJSON_IsObject(md)) {
            g->doc = meta;
            meta = NULL;
            g->cons = md;
        }
    } else {
        rc = read_json(g->io, g->url, ".zattrs", &attrs);
        if (rc < 0 && rc != -ENOENT)
            goto fail;
        if (attrs)
            g->attrs = cJSON_PrintUnformatted(attrs);
        rc = read_json(g->io, g->url, ".zmetadata", &g->doc);
        if (rc < 0 && rc != -ENOENT)
            goto fail;
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(g->doc, "metadata");
        if (cJSON_IsObject(md))
            g->cons = md;
    }
    if (!g->attrs && !(g->attrs = strdup("{}"))) {
        rc = -ENOMEM;
        goto fail;
    }
    if (g->cons) {
        rc = members_consolidated(g);
    } else {
        char *prefix = lsio_join(g->url, "");
        list_ctx c = {.g = g, .base = prefix ? strlen(prefix) : 0};
        rc = prefix ? lsio_list(g->io, prefix, list_one, &c) : -ENOMEM;
        free(prefix);
        if (rc == 0)
            rc = c.rc;
    }
    if (rc < 0)
        goto fail;
    sort_members(g);
    cJSON_Delete(meta);
    cJSON_Delete(attrs);
    lsio_error_clear();
    *out = g;
    return 0;
fail:
    cJSON_Delete(meta);
    cJSON_Delete(attrs);
    lsio_zarr_group_close(g);
    return rc;
}

void lsio_zarr_group_close(lsio_zarr_group *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        free(g->names[i]);
    free(g->names);
    free(g->kinds);
    free(g->attrs);
    cJSON_Delete(g->doc);
    if (g->own_io)
        lsio_io_close(g->io);
    free(g->url);
    free(g);
}

const char *lsio_zarr_group_attrs(const lsio_zarr_group *g) { return g->attrs; }
int lsio_zarr_group_format(const lsio_zarr_group *g) { return g->format; }
size_t lsio_zarr_group_count(const lsio_zarr_group *g) { return g->n; }
const char *lsio_zarr_group_name(const lsio_zarr_group *g, size_t i)
{
    return i < g->n ? g->names[i] : NULL;
}
lsio_zarr_node lsio_zarr_group_kind(const lsio_zarr_group *g, size_t i)
{
    return i < g->n ? g->kinds[i] : LSIO_ZARR_MISSING;
}

int lsio_zarr_group_open_array(lsio_zarr_group *g, const char *name, lsio_zarr_array **out)
{
    if (!g || !name || !out)
        return lsio_error(-EINVAL, "lsio_zarr_group_open_array: NULL argument");
    char *url = lsio_join(g->url, name);
    if (!url)
        return -ENOMEM;
    int rc;
    if (g->cons) {
        zarr_meta m;
        const cJSON *za = NULL, *at = NULL;
        if (g->format == 2) {
            size_t nl = strlen(name);
            char *k = malloc(nl + 10);
            if (!k) {
                free(url);
                return -ENOMEM;
            }
            snprintf(k, nl + 10, "%s/.zarray", name);
            za = cJSON_GetObjectItemCaseSensitive(g->cons, k);
            snprintf(k, nl + 10, "%s/.zattrs", name);
            at = cJSON_GetObjectItemCaseSensitive(g->cons, k);
            free(k);
        } else
            za = cJSON_GetObjectItemCaseSensitive(g->cons, name);
        if (za) {
            rc = g->format == 2 ? zarr_meta_v2(&m, za, at, url, NULL, 0)
                                : zarr_meta_v3(&m, za, url, NULL, 0);
            if (rc == 0 && (rc = zarr_array_make(out, &m, url, g->io, 0, &g->opts)) < 0)
                zarr_meta_free(&m);
            if (rc != -ERANGE) { /* ERANGE: a large integer fill; its own file has it exactly */
                free(url);
                return rc;
            }
            lsio_error_clear();
        }
    }
    rc = lsio_zarr_open(out, url, &g->opts);
    free(url);
    return rc;
}

/* A child group from the parent's consolidated metadata: the entries under
 * "name/", with that prefix taken off. */
static int child_consolidated(lsio_zarr_group *g, const char *name, lsio_zarr_group *c)
{
    size_t nl = strlen(name);
    const cJSON *e, *self = NULL, *attrs = NULL;
    if (!(c->doc = cJSON_CreateObject()))
        return -ENOMEM;
    c->cons = c->doc;
    cJSON_ArrayForEach(e, g->cons)
    {
        const char *k = e->string;
        if (!k || strncmp(k, name, nl))
            continue;
        if (k[nl] == 0 && g->format == 3)
            self = e;
        if (k[nl] != '/')
            continue;
        if (g->format == 2 && !strcmp(k + nl + 1, ".zgroup"))
            self = e;
        if (g->format == 2 && !strcmp(k + nl + 1, ".zattrs"))
            attrs = e;
        cJSON *d = cJSON_Duplicate(e, 1);
        if (!d)
            return -ENOMEM;
        cJSON_AddItemToObject(c->doc, k + nl + 1, d);
    }
    const cJSON *nt = cJSON_GetObjectItemCaseSensitive(self, "node_type");
    if (!self || (g->format == 3 && !(cJSON_IsString(nt) && !strcmp(nt->valuestring, "group"))))
        return lsio_error(-ENOENT, "no Zarr group at %s", c->url);
    if (g->format == 3)
        attrs = cJSON_GetObjectItemCaseSensitive(self, "attributes");
    c->attrs = attrs ? cJSON_PrintUnformatted(attrs) : strdup("{}");
    if (!c->attrs)
        return -ENOMEM;
    int rc = members_consolidated(c);
    if (rc == 0)
        sort_members(c);
    return rc;
}

int lsio_zarr_group_open_group(lsio_zarr_group *g, const char *name, lsio_zarr_group **out)
{
    if (!g || !name || !out)
        return lsio_error(-EINVAL, "lsio_zarr_group_open_group: NULL argument");
    *out = NULL;
    char *url = lsio_join(g->url, name);
    if (!url)
        return -ENOMEM;
    if (!g->cons) {
        int rc = lsio_zarr_group_open(out, url, &g->opts);
        free(url);
        return rc;
    }
    lsio_zarr_group *c = calloc(1, sizeof *c);
    if (!c) {
        free(url);
        return -ENOMEM;
    }
    c->url = url;
    c->io = g->io;
    c->opts = g->opts;
    c->format = g->format;
    int rc = child_consolidated(g, name, c);
    if (rc < 0) {
        lsio_zarr_group_close(c);
        return rc;
    }
    *out = c;
    return 0;
}
