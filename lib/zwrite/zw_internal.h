/*
 * zw_internal.h — what the files of lib/zwrite share: the array handle, the
 * metadata half (zw_meta.c: specs, codec chains, metadata documents), the
 * value half (zw_value.c: data type names, fill values, element copies) and
 * the object builders (zw_write.c plans and runs writes, zw_shard.c builds
 * shards).
 */
#ifndef LSIO_ZW_INTERNAL_H
#define LSIO_ZW_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "lsio_zwrite.h"

#define ZW_MAXD LSIO_ZARR_MAX_DIMS
#define ZW_DEFAULT_INFLIGHT ((size_t)64 << 20)

/* An element of a variable-length string chunk while it is being built:
 * the bytes live in the caller's buffer or in a decoded old chunk. */
typedef struct zw_str {
    const char *p;
    uint64_t n;
} zw_str;

struct lsio_zwrite_array {
    char *url;
    lsio_io *io;
    int own_io;
    lsio_pool *pool;
    lsio_cq *cq;              /* puts complete here (callback) */
    lsio_zwrite_opts opts;

    /* The normalized spec; its strings point at the owned copies below. */
    lsio_zwrite_spec spec;
    char *fill_json;      /* as written in the metadata (format's spelling) */
    char *attrs_json;     /* NULL: none */
    char *codecs_json;    /* v2: {"compressor":..,"filters":..}; v3: chunk codecs */
    char *v2_compressor;  /* v2: JSON text or "null" */
    char *v2_filters;     /* v2: JSON text or "null" */
    char *index_codecs;   /* v3 sharded: index codecs array */
    char *dimnames[ZW_MAXD];

    size_t itemsize;          /* native element size (strings: sizeof(zw_str)) */
    int strings;              /* STRING data: chunks are zw_str arrays */
    char *fill_str;           /* STRING: the fill value's bytes */
    unsigned char *fill;      /* one element, native order */
    int fill_nan;             /* floating fill is NaN: compare with isnan */
    int fill_null;            /* v2 fill_value null: every object is stored */
    lsio_chain *chain;        /* one chunk (inner chunk when sharded) */
    lsio_chain *index_chain;  /* shard index */
    size_t chunk_bytes;       /* decoded bytes of one chunk */

    int sharded;
    uint64_t obj[ZW_MAXD];    /* stored object shape: shard or chunk */
    uint64_t grid[ZW_MAXD];   /* objects per dimension */
    uint64_t inner[ZW_MAXD];  /* inner chunks per shard per dimension */
    uint64_t ninner;          /* inner chunks per shard */

    /* Objects this handle knows are absent (made by create with nothing
     * under the url): a fill object needs no delete unless written since. */
    int fresh;
    _Atomic(unsigned char) *written; /* bitmap over objects, or NULL */
    uint64_t nobjects;

    int identity;             /* the codecs leave a chunk's bytes as they are */
    pthread_mutex_t free_mu;  /* recycled chunk buffers (no page faults) */
    void *free_bufs[64];      /* at most inflight_bytes of them */
    unsigned nfree;
    void *big_bufs[4];        /* recycled shard buffers (too big for malloc's
                                 heap: fresh mappings fault every page) */
    size_t big_caps[4];
    unsigned nbig;

    char *doc_main, *doc_attrs; /* with no io (fuzzing): the documents */

    pthread_mutex_t lock; /* one write at a time */
    _Atomic uint64_t st_written, st_deleted, st_merged, st_encoded, st_bytes, st_in;
};

/* ---- zw_value.c: data types and fill values */

/* v2 type string as stored ("<f4", "|b1", ">U7", "|S3") into buf (>= 16). */
int zw_dtype_v2(lsio_dtype d, char *buf, size_t len);
/* v3 data_type name ("float32"); NULL when v3 has none for d. */
const char *zw_dtype_v3(lsio_dtype d);
/* Native element size of d (0 for STRING). */
size_t zw_itemsize(lsio_dtype d);
/* Parse a fill value JSON text (either format's spelling; NULL: zero) into
 * one native element. *is_null set for JSON null (elem zeroed). */
int zw_fill_parse(lsio_dtype d, const char *json, void *elem, int *is_null);
/* The fill value element as JSON for zarr_format (malloc'd), null when
 * is_null (v2) or zero (v3 has no null). */
char *zw_fill_json(lsio_dtype d, const void *elem, int is_null, int zarr_format);
/* 1 when every element of buf (n elements) equals the fill. */
int zw_all_fill(const lsio_zwrite_array *a, const void *buf, size_t n);
/* Set n elements of buf to the fill value. */
void zw_fill_elems(const lsio_zwrite_array *a, void *buf, size_t n);

/* ---- zw_meta.c: specs, chains and documents */

/* Take spec (checked, copied, codecs parsed, chains built) into a. */
int zw_adopt_spec(lsio_zwrite_array *a, const lsio_zwrite_spec *spec);
/* Write the metadata documents of a. */
int zw_write_meta(lsio_zwrite_array *a);
/* Read the metadata at a->url into a spec and adopt it. */
int zw_read_meta(lsio_zwrite_array *a);
/* The same from document texts (attrs may be NULL): no IO. */
int zw_parse_meta_text(lsio_zwrite_array *a, int v2, const char *text, size_t len,
                       const char *attrs, size_t alen);
/* The node at url: 0 none, 2/3 with *is_array set. */
int zw_probe(lsio_io *io, const char *url, int *fmt, int *is_array);
/* Remove every object under url/ (and the metadata). */
int zw_remove_tree(lsio_io *io, const char *url);

/* ---- zw_write.c: objects */

/* Per dimension, the part of a selection inside one stored object or chunk:
 * elements [sel_first, sel_first + n) of the selection land at positions
 * off, off + step, ... of the object (step may be negative). */
typedef struct zw_part {
    uint64_t sel_first[ZW_MAXD];
    uint64_t n[ZW_MAXD];
    int64_t off[ZW_MAXD];
    int64_t step[ZW_MAXD];
    int full; /* covers every element of the region inside the array */
} zw_part;

/* The part of sel inside the box [lo, lo + ext) (clipped to the array); 0
 * when sel has no element there. */
int zw_part_of(const lsio_zwrite_array *a, const lsio_selection *sel, const uint64_t *lo,
               const uint64_t *ext, zw_part *p);
/* Copy the selected elements of the caller's buffer (C order over the
 * selection, strides sstr in bytes) into a chunk laid out by the spec's
 * order with shape ext. */
void zw_scatter(const lsio_zwrite_array *a, const zw_part *p, const void *src,
                const int64_t *sstr, void *chunk, const uint64_t *ext);

/* A buffer of chunk_bytes (recycled when possible) and its return. */
void *zw_chunk_buf(lsio_zwrite_array *a);
void zw_chunk_buf_put(lsio_zwrite_array *a, void *p);
/* A buffer of at least len bytes (*cap gets its size), recycled. */
void *zw_big_buf(lsio_zwrite_array *a, size_t len, size_t *cap);
void zw_big_buf_put(lsio_zwrite_array *a, void *p, size_t cap);

/* ---- zw_strings.c: chunk decode/encode for every data type */

/* Decode a stored chunk into chunk (chunk_bytes). For strings the refs
 * point into *keep, which the caller frees after encoding. */
int zw_chunk_decode(const lsio_zwrite_array *a, const void *src, size_t len, void *chunk,
                    void **keep);
/* Encode a built chunk into a malloc'd *out. */
int zw_chunk_encode(const lsio_zwrite_array *a, const void *chunk, void **out, size_t *len);
/* The write of lsio_zwrite_write without the STRING check. */
int zw_write_any(lsio_zwrite_array *a, const lsio_selection *sel, const void *buf, size_t bytes);

/* ---- zw_shard.c: one shard */

typedef struct zw_write_ctx zw_write_ctx; /* one lsio_zwrite_write call */
/* Build the shard at grid coords g (old: its stored bytes or NULL) into a
 * malloc'd object; *len 0 and *out NULL when every inner chunk is fill. */
int zw_build_shard(zw_write_ctx *w, const uint64_t *g, const void *old, size_t oldlen,
                   void **out, size_t *len, size_t *cap);
/* Decode and merge one chunk: chunk (chunk_bytes) gets the old bytes (or
 * fill) then the selection. Shared by plain chunks and inner chunks. */
int zw_merge_chunk(zw_write_ctx *w, const zw_part *p, const void *old, size_t oldlen,
                   void *chunk, const uint64_t *ext, const char *key, void **keep);
const char *zw_ctx_key(zw_write_ctx *w, const uint64_t *g, char *buf, size_t len);
lsio_zwrite_array *zw_ctx_array(zw_write_ctx *w);
const lsio_selection *zw_ctx_sel(zw_write_ctx *w);
int zw_ctx_inner_parallel(zw_write_ctx *w);
/* The queue callback that finishes a put of lsio_zwrite_write. */
void zw_put_done(void *ctx, lsio_completion *c);

#endif
