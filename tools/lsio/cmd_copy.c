/*
 * cmd_copy.c — `lsio copy SRC DST [--format 2|3] [--chunks C] [--shards S]
 * [--codec X]`: copy or rechunk a Zarr array, or a whole group, between any
 * locations LSIO reads and writes (local paths, s3://), Zarr v2 to v3 and
 * back. Without options the copy keeps the source's format, chunks, shards,
 * codecs, fill value and attributes.
 *
 * An array is copied in blocks: each block is a whole number of the
 * destination's stored objects (chunks or shards), aligned to the source's
 * chunks where that fits, of about 64 MiB. The reader (lsio_zarr_read)
 * decodes block k+1 on a helper thread while the writer (lsio_zwrite_write)
 * encodes and stores block k, both on the same pool: memory stays at two
 * blocks plus the writer's in-flight budget. A progress bar is drawn on a
 * terminal.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lsio_zarr.h"
#include "lsio_zwrite.h"

#define BLOCK_BYTES ((size_t)64 << 20)

typedef struct copy_opts {
    int format;               /* 0: the source's */
    unsigned nchunks, nshards;
    uint64_t chunks[LSIO_ZARR_MAX_DIMS], shards[LSIO_ZARR_MAX_DIMS];
    const char *codec;
    int overwrite, progress, empty, fsync;
    lsio_zarr_opts zopts;
} copy_opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: lsio copy SRC DST [options]\n"
               "  --format 2|3         Zarr format of the copy (default: the source's)\n"
               "  --chunks 8,128,128   chunk shape (inner chunks when sharded)\n"
               "  --shards 16,1024,1024  v3 shard shape (a multiple of the chunks)\n"
               "  --codec X            none, zstd:L, gzip:L, blosc:CNAME:L:SHUFFLE (v2 also\n"
               "                       zlib:L, lz4:A, bz2:L, lzma:L) or a codecs JSON text\n"
               "  --overwrite          replace an array or group already at DST\n"
               "  --write-empty-chunks store chunks equal to the fill value too\n"
               "  --fsync              fsync every object before it is renamed into place\n"
               "  --no-progress        no progress bar even on a terminal\n"
               CLI_ZARR_COMMON_HELP);
}

static int parse_shape(const char *cmd, const char *opt, const char *v, uint64_t *out,
                       unsigned *n)
{
    *n = 0;
    for (const char *p = v; *p;) {
        char *end;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p || x == 0 || *n == LSIO_ZARR_MAX_DIMS || (*end && *end != ',')) {
            fprintf(stderr, "lsio %s: %s %s: want positive counts such as 8,128,128\n", cmd,
                    opt, v);
            return -1;
        }
        out[(*n)++] = x;
        p = *end ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

/* ----------------------------------------------------------------- blocks */

typedef struct block_plan {
    unsigned ndim;
    uint64_t shape[LSIO_ZARR_MAX_DIMS], block[LSIO_ZARR_MAX_DIMS];
    uint64_t nblk[LSIO_ZARR_MAX_DIMS];
    uint64_t total;
    size_t item, max_bytes;
} block_plan;

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Blocks: multiples of the destination's object shape (aligned to the
 * source's chunks when the common multiple is small), grown from the last
 * dimension to about BLOCK_BYTES. */
static void plan_blocks(block_plan *p, const lsio_zarr_info *src, const lsio_zwrite_spec *dst,
                        size_t item)
{
    p->ndim = dst->ndim;
    p->item = item;
    uint64_t unit[LSIO_ZARR_MAX_DIMS];
    for (unsigned d = 0; d < p->ndim; d++) {
        uint64_t obj = dst->shards[d] ? dst->shards[d] : dst->chunks[d];
        uint64_t sc = src->chunks[d] ? src->chunks[d] : 1;
        uint64_t l = obj / gcd64(obj, sc) * sc;
        unit[d] = l <= 4 * obj ? l : obj;
        p->shape[d] = dst->shape[d];
        p->block[d] = unit[d] < p->shape[d] ? unit[d] : p->shape[d];
        if (p->block[d] == 0)
            p->block[d] = 1;
    }
    size_t bytes = item;
    for (unsigned d = 0; d < p->ndim; d++)
        bytes *= p->block[d];
    for (unsigned d = p->ndim; d-- > 0;) {
        uint64_t per = p->block[d] ? bytes / p->block[d] : bytes;
        uint64_t want = per ? (BLOCK_BYTES / per) / unit[d] * unit[d] : p->shape[d];
        if (want > p->block[d]) {
            p->block[d] = want < p->shape[d] ? want : p->shape[d];
            bytes = per * p->block[d];
        }
        if (p->block[d] < p->shape[d])
            break;
    }
    p->total = 1;
    p->max_bytes = bytes;
    for (unsigned d = 0; d < p->ndim; d++) {
        p->nblk[d] = p->block[d] ? (p->shape[d] + p->block[d] - 1) / p->block[d] : 0;
        p->total *= p->nblk[d];
    }
}

/* Selection and byte size of block k. */
static size_t block_sel(const block_plan *p, uint64_t k, lsio_selection *sel)
{
    size_t bytes = p->item;
    sel->ndim = p->ndim;
    for (unsigned d = p->ndim; d-- > 0;) {
        uint64_t i = k % p->nblk[d];
        k /= p->nblk[d];
        uint64_t lo = i * p->block[d], n = p->shape[d] - lo < p->block[d] ? p->shape[d] - lo
                                                                         : p->block[d];
        sel->dim[d] = (lsio_dim_sel){.start = (int64_t)lo, .step = 1, .count = n};
        bytes *= n;
    }
    return bytes;
}

/* ----------------------------------------------------------------- arrays */

typedef struct reader_job {
    lsio_zarr_array *src;
    lsio_selection sel;
    void *buf;
    size_t bytes;
    int rc;
    char err[1024];
} reader_job;

static void *reader_run(void *arg)
{
    reader_job *r = arg;
    r->rc = lsio_zarr_read(r->src, &r->sel, r->buf, r->bytes);
    if (r->rc < 0)
        snprintf(r->err, sizeof r->err, "%s", lsio_last_error());
    return NULL;
}

/* The destination spec of a source array under the options. strings are
 * kept in *codecs (caller frees). */
static int make_spec(const copy_opts *o, const lsio_zarr_info *in, lsio_zwrite_spec *s,
                     char **codecs)
{
    memset(s, 0, sizeof *s);
    s->zarr_format = o->format ? o->format : in->zarr_format;
    s->ndim = in->ndim;
    s->dtype = in->dtype;
    s->fortran_order = s->zarr_format == 2 && in->zarr_format == 2 ? in->fortran_order : 0;
    s->fill_value_json = in->fill_value_json;
    s->attrs_json = in->attrs_json;
    int src_sharded = 0;
    for (unsigned d = 0; d < in->ndim; d++) {
        s->shape[d] = in->shape[d];
        s->chunks[d] = in->chunks[d];
        s->dimension_names[d] = in->dimension_names[d];
        src_sharded |= in->shards[d] != 0;
    }
    if (o->nchunks && o->nchunks != in->ndim)
        return lsio_error(-EINVAL, "--chunks has %u dimensions, array %s has %u", o->nchunks,
                          in->url, in->ndim);
    if (o->nshards && o->nshards != in->ndim)
        return lsio_error(-EINVAL, "--shards has %u dimensions, array %s has %u", o->nshards,
                          in->url, in->ndim);
    if (o->nshards && s->zarr_format != 3)
        return lsio_error(-EINVAL, "--shards: array %s would be Zarr v2 (give --format 3)",
                          in->url);
    for (unsigned d = 0; d < o->nchunks; d++)
        s->chunks[d] = o->chunks[d];
    for (unsigned d = 0; d < in->ndim; d++) {
        if (o->nshards)
            s->shards[d] = o->shards[d];
        else if (s->zarr_format == 3 && src_sharded && !o->nchunks)
            s->shards[d] = in->shards[d];
    }
    int rc = o->codec ? lsio_zwrite_codecs_from_text(o->codec, s->zarr_format, &s->dtype, codecs)
                      : lsio_zwrite_codecs_convert(in->codecs_json, in->zarr_format,
                                                   s->zarr_format, &in->dtype, codecs);
    s->codecs_json = *codecs;
    return rc;
}

static int copy_array(const copy_opts *o, lsio_zarr_array *src, const char *dst_url,
                      const char *label)
{
    const lsio_zarr_info *in = lsio_zarr_get_info(src);
    int strings = in->dtype.kind == LSIO_DT_STRING;
    lsio_zwrite_spec spec;
    char *codecs = NULL;
    int rc = make_spec(o, in, &spec, &codecs);
    lsio_zwrite_opts wo = LSIO_ZWRITE_OPTS_DEFAULT;
    wo.io.backend = o->zopts.io.backend == LSIO_BACKEND_URING || o->zopts.io.backend ==
                    LSIO_BACKEND_POSIX ? o->zopts.io.backend : LSIO_BACKEND_AUTO;
    wo.pool = o->zopts.pool;
    wo.inflight_bytes = o->zopts.inflight_bytes;
    wo.overwrite = o->overwrite;
    wo.write_empty_chunks = o->empty;
    wo.put_flags = o->fsync ? LSIO_PUT_FSYNC : 0;
    lsio_zwrite_array *dst = NULL;
    if (rc == 0)
        rc = lsio_zwrite_create(&dst, dst_url, &spec, &wo);
    free(codecs);
    if (rc < 0)
        return rc;
    block_plan bp;
    size_t item = strings ? 16 : lsio_zarr_itemsize(src); /* strings: a guess per item */
    plan_blocks(&bp, in, lsio_zwrite_get_spec(dst), item);
    void *buf[2] = {NULL, NULL};
    for (int i = 0; i < 2 && bp.total && !strings; i++)
        if (!(buf[i] = malloc(bp.max_bytes ? bp.max_bytes : 1)))
            rc = -ENOMEM;
    double t0 = cli_now_s();
    uint64_t all = 1;
    for (unsigned d = 0; d < in->ndim; d++)
        all *= in->shape[d];
    double done = 0, total = (double)all * (double)item;
    reader_job r[2];
    pthread_t th;
    int running = 0;
    for (uint64_t k = 0; strings && rc == 0 && k < bp.total; k++) { /* no pipelining */
        lsio_selection sel;
        block_sel(&bp, k, &sel);
        uint64_t *off = NULL, n = 0;
        char *bytes = NULL;
        rc = lsio_zarr_read_strings(src, &sel, &off, &bytes, &n);
        if (rc == 0)
            rc = lsio_zwrite_write_strings(dst, &sel, off, bytes, n);
        free(off);
        free(bytes);
        done += (double)n * (double)item;
        if (o->progress)
            cli_progress(label, done, total, t0);
    }
    if (rc == 0 && bp.total && !strings) { /* block 0, read in this thread */
        r[0] = (reader_job){.src = src, .buf = buf[0]};
        r[0].bytes = block_sel(&bp, 0, &r[0].sel);
        reader_run(&r[0]);
        rc = r[0].rc;
    }
    for (uint64_t k = 0; rc == 0 && !strings && k < bp.total; k++) {
        reader_job *cur = &r[k % 2], *nxt = &r[(k + 1) % 2];
        if (k + 1 < bp.total) {
            *nxt = (reader_job){.src = src, .buf = buf[(k + 1) % 2]};
            nxt->bytes = block_sel(&bp, k + 1, &nxt->sel);
            running = pthread_create(&th, NULL, reader_run, nxt) == 0;
            if (!running)
                reader_run(nxt);
        }
        rc = lsio_zwrite_write(dst, &cur->sel, cur->buf, cur->bytes);
        if (running) {
            pthread_join(th, NULL);
            running = 0;
        }
        if (rc == 0 && k + 1 < bp.total && nxt->rc < 0) {
            rc = nxt->rc;
            lsio_error_set(rc, nxt->err);
        }
        done += (double)cur->bytes;
        if (o->progress)
            cli_progress(label, done, total, t0);
    }
    if (o->progress)
        cli_progress_end();
    free(buf[0]);
    free(buf[1]);
    lsio_zwrite_close(dst);
    return rc;
}

/* ----------------------------------------------------------------- groups */

static int copy_node(const copy_opts *o, const char *src_url, const char *dst_url,
                     const char *label);

static int copy_group(const copy_opts *o, const char *src_url, const char *dst_url,
                      const char *label)
{
    lsio_zarr_group *g;
    int rc = lsio_zarr_group_open(&g, src_url, &o->zopts);
    if (rc < 0)
        return rc;
    int fmt = o->format ? o->format : lsio_zarr_group_format(g);
    lsio_zwrite_opts wo = LSIO_ZWRITE_OPTS_DEFAULT;
    wo.overwrite = o->overwrite;
    wo.put_flags = o->fsync ? LSIO_PUT_FSYNC : 0;
    const char *attrs = lsio_zarr_group_attrs(g);
    rc = lsio_zwrite_create_group(dst_url, fmt, attrs && strcmp(attrs, "{}") ? attrs : NULL, &wo);
    for (size_t i = 0; rc == 0 && i < lsio_zarr_group_count(g); i++) {
        const char *name = lsio_zarr_group_name(g, i);
        char *s = lsio_join(src_url, name), *d = lsio_join(dst_url, name);
        char *l = lsio_join(label, name);
        rc = s && d && l ? copy_node(o, s, d, l) : -ENOMEM;
        free(s);
        free(d);
        free(l);
    }
    lsio_zarr_group_close(g);
    return rc;
}

static int copy_node(const copy_opts *o, const char *src_url, const char *dst_url,
                     const char *label)
{
    lsio_zarr_node kind;
    int fmt;
    int rc = lsio_zarr_probe(src_url, &o->zopts, &kind, &fmt);
    if (rc < 0)
        return rc;
    if (kind == LSIO_ZARR_MISSING)
        return lsio_error(-ENOENT, "no Zarr array or group at %s", src_url);
    if (kind == LSIO_ZARR_GROUP)
        return copy_group(o, src_url, dst_url, label);
    lsio_zarr_array *a;
    if ((rc = lsio_zarr_open(&a, src_url, &o->zopts)) < 0)
        return rc;
    rc = copy_array(o, a, dst_url, label);
    lsio_zarr_close(a);
    return rc;
}

int cmd_copy(int argc, char **argv)
{
    copy_opts o = {.progress = 1};
    cli_zarr_common com = {0};
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if ((r = cli_zarr_arg(&com, "copy", argc, argv, &i)) != 0) {
            if (r < 0)
                return 2;
        } else if ((r = cli_opt_value("copy", argc, argv, &i, "--format", &v)) != 0) {
            if (r < 0)
                return 2;
            if (strcmp(v, "2") && strcmp(v, "3")) {
                fprintf(stderr, "lsio copy: --format %s: want 2 or 3\n", v);
                return 2;
            }
            o.format = v[0] - '0';
        } else if ((r = cli_opt_value("copy", argc, argv, &i, "--chunks", &v)) != 0) {
            if (r < 0 || parse_shape("copy", "--chunks", v, o.chunks, &o.nchunks) < 0)
                return 2;
        } else if ((r = cli_opt_value("copy", argc, argv, &i, "--shards", &v)) != 0) {
            if (r < 0 || parse_shape("copy", "--shards", v, o.shards, &o.nshards) < 0)
                return 2;
        } else if ((r = cli_opt_value("copy", argc, argv, &i, "--codec", &v)) != 0) {
            if (r < 0)
                return 2;
            o.codec = v;
        } else if (!strcmp(argv[i], "--overwrite")) {
            o.overwrite = 1;
        } else if (!strcmp(argv[i], "--write-empty-chunks")) {
            o.empty = 1;
        } else if (!strcmp(argv[i], "--fsync")) {
            o.fsync = 1;
        } else if (!strcmp(argv[i], "--no-progress")) {
            o.progress = 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "lsio copy: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            fprintf(stderr, "lsio copy: one SRC and one DST, not %s too\n", argv[i]);
            return 2;
        }
    }
    if (npos != 2) {
        usage(stderr);
        return 2;
    }
    if (cli_zarr_setup(&com, "copy", &o.zopts) < 0)
        return 1;
    lsio_error_clear();
    int rc = copy_node(&o, pos[0], pos[1], "copy");
    cli_zarr_end(&com);
    return rc < 0 ? cli_fail("copy", rc, pos[0]) : 0;
}
