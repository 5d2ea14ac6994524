/*
 * zarr_internal.h — what the Zarr sources share and nobody else sees: the
 * parsed metadata of an array (zarr_meta), the array handle, chunk keys,
 * the shard index parser and the read planner's per-dimension pieces.
 *
 * Metadata parsing is pure (text or cJSON in, zarr_meta out, no IO), so the
 * fuzz target and the consolidated-metadata path share it with open().
 */
#ifndef LSIO_ZARR_INTERNAL_H
#define LSIO_ZARR_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <cjson/cJSON.h>

#include "lsio_zarr.h"

#define ZMAX LSIO_ZARR_MAX_DIMS

typedef struct zarr_meta {
    int zarr_format;
    unsigned ndim;
    uint64_t shape[ZMAX];
    uint64_t chunks[ZMAX];   /* the decode unit (inner chunk when sharded) */
    uint64_t outer[ZMAX];    /* the stored object's shape (= chunks unless sharded) */
    int sharded;
    lsio_dtype dtype;
    int fortran_order;
    char sep;                /* chunk key separator */
    int v3_default_keys;     /* "c/..." keys */
    char *fill_json, *attrs_json, *codecs_json;
    char *dim_names[ZMAX];
    unsigned char *fill;     /* one element in native order (itemsize bytes) */
    char *fill_str;          /* STRING arrays: the fill value (UTF-8) */
    size_t fill_str_len;
    size_t itemsize;         /* output element size (STRING: 0) */
    lsio_chain *chain;       /* decodes one (inner) chunk (STRING: to strings) */
    int raw;                 /* chunk bytes are the decoded bytes as they are */
    /* sharding */
    lsio_chain *index_chain; /* decodes the index: inner grid × 2 uint64 */
    size_t index_bytes;      /* encoded size of the index */
    int index_at_start;
    uint64_t per_shard[ZMAX]; /* inner chunks per shard, per dimension */
    uint64_t n_inner;         /* product of per_shard */
} zarr_meta;

/* Parse metadata objects (no IO). `name` (the array's URL) goes into error
 * messages. On failure *m is left empty (zarr_meta_free is harmless). */
/* fill_raw: the fill value's own JSON text when the caller has it (an
 * integer fill past 2^53 is read exactly from it, else refused with
 * -ERANGE, never rounded); NULL, 0 when not. */
int zarr_meta_v2(zarr_meta *m, const cJSON *zarray, const cJSON *zattrs, const char *name,
                 const char *fill_raw, size_t fill_rawlen);
int zarr_meta_v3(zarr_meta *m, const cJSON *zarr_json, const char *name, const char *fill_raw,
                 size_t fill_rawlen);
/* From text: .zarray (+ optional .zattrs) or zarr.json. */
int zarr_meta_parse_text(zarr_meta *m, int zarr_format, const char *text, size_t len,
                         const char *attrs_text, size_t attrs_len, const char *name);
void zarr_meta_free(zarr_meta *m);

/* Parse a decoded shard index (n_inner × (offset, nbytes) little-endian
 * uint64 after index_chain) into out[2*i], out[2*i+1], checking that every
 * present inner chunk lies inside a shard of shard_size bytes. Returns 0,
 * or -LSIO_EFORMAT naming `key`. */
int zarr_shard_index_check(const uint64_t *entries, uint64_t n_inner, uint64_t shard_size,
                           const char *key);
/* With the index at the end, and the shard's size known (the read of the
 * index tells it): no stored inner chunk reaches into the index. */
int zarr_shard_index_end(const zarr_meta *m, const uint64_t *e, uint64_t shard_size,
                         const char *key);
/* Decode the encoded index bytes (index_bytes of them) into entries
 * (n_inner*2 uint64, native order); with the index at the start, an entry
 * that starts inside it is -LSIO_EFORMAT (at the end the caller checks
 * with zarr_shard_index_end once it knows the shard's size). */
int zarr_shard_index_decode(const zarr_meta *m, const void *src, size_t len,
                            uint64_t *entries, const char *key);
#define ZARR_SHARD_MISSING UINT64_MAX

/* A strided copy plan (copy.c): dimensions of count > 1, outer to inner,
 * adjacent ones merged where contiguous; strides in bytes (may be
 * negative; 0 for a fill). */
typedef struct zarr_walk {
    unsigned n;
    size_t item;
    uint64_t total;
    uint64_t cnt[ZMAX];
    int64_t ss[ZMAX], ds[ZMAX];
    int stream; /* write long runs past the caches (see zarr_walk_copy) */
} zarr_walk;
void zarr_walk_init(zarr_walk *w, unsigned ndim, const uint64_t *cnt, const int64_t *ss,
                    const int64_t *ds, size_t item);
/* One contiguous run on both sides (then a single memcpy does it). */
int zarr_walk_contiguous(const zarr_walk *w);
/* Copy (src NULL: write the fill element, item bytes, everywhere). With
 * w->stream set (zarr_walk_init clears it), contiguous runs of 256 bytes or
 * more are written with non-temporal stores, fenced before it returns: for
 * outputs larger than the last-level cache, whose lines would otherwise be
 * read from memory before being overwritten. */
void zarr_walk_copy(const zarr_walk *w, void *dst, const void *src, const void *fill);
/* Decoding a chunk straight into its place (lsio_chain_decode_sink): the
 * walk's runs, contiguous on both sides and in ascending order in the
 * chunk, are filled as the decoded chunk arrives in ascending pieces. */
typedef struct zarr_scatter {
    zarr_walk w;
    size_t run;           /* bytes of one run */
    uint64_t idx[ZMAX];   /* the run the cursor is at (outer dimensions) */
    unsigned char *d;     /* its destination */
    size_t s;             /* its first byte in the decoded chunk */
    int done;             /* every run filled */
    int bad;              /* a piece it cannot take (planes of another size) */
} zarr_scatter;
/* 0 when the walk is not of that shape (runs under 64 bytes, strided or
 * descending in the chunk). */
int zarr_scatter_init(zarr_scatter *sc, const zarr_walk *w, unsigned char *dst, int64_t src_off);
/* The lsio_chunk_sink callback (ctx: the zarr_scatter). */
void zarr_scatter_put(void *ctx, size_t e0, size_t n, const unsigned char *const *planes,
                      size_t nplanes);
/* After the decode: 1 when every run was filled (fences streamed stores). */
int zarr_scatter_end(zarr_scatter *sc);

/* The read planner (plan.c). */
typedef struct zarr_grid {
    const zarr_meta *m;
    uint64_t nobj[ZMAX]; /* stored objects per dimension */
} zarr_grid;
void zarr_grid_init(zarr_grid *g, const zarr_meta *m);
/* The selected positions of s inside [lo, hi): returns how many (nk) and
 * the index k0 of the first in the selection; 0 when none. */
uint64_t zarr_piece(const lsio_dim_sel *s, uint64_t lo, uint64_t hi, uint64_t *k0);
/* Unit coordinates (decode grid) of a key. */
void zarr_key_coords(const zarr_grid *g, uint64_t key, uint64_t *uc);
/* The keys of the units the selections touch (malloc'd, caller frees),
 * sorted and unique where several selections or shards need it. */
int zarr_plan_keys(const zarr_grid *g, const lsio_selection *sels, size_t nsel, uint64_t **keys,
                   size_t *nkeys);
/* Element strides of a decoded chunk (C or F order). */
void zarr_chunk_strides(const zarr_meta *m, int64_t *sstr);
/* Where unit uc goes in the output `out` of selection s: a walk, the
 * destination and the byte offset in the decoded chunk. 0 when s does not
 * touch the unit. */
int zarr_place(const zarr_meta *m, const lsio_selection *s, void *out, const uint64_t *uc,
               zarr_walk *w, unsigned char **dst, int64_t *src_off);
/* The same with the selected elements packed (C order of the piece). */
int zarr_place_packed(const zarr_meta *m, const lsio_selection *s, const uint64_t *uc,
                      zarr_walk *w, int64_t *src_off);

/* Whether a's store is local files (uring or posix): size requests are a
 * statx, and many objects in flight buy nothing. */
int zarr_local(const lsio_zarr_array *a);

/* Block layouts of blosc chunks read before (hints.c). */
#define ZARR_HINT_MAX (16u + 4u * 128u)
#define ZARR_SPARE_MAX 16
#define ZARR_SPARE_BYTES ((size_t)64 << 20)
typedef struct zarr_hints {
    pthread_mutex_t mu;
    struct zarr_hint **slot; /* allocated on the first put */
    struct {
        void *p;
        size_t cap;
    } spare[ZARR_SPARE_MAX];
    unsigned nspare;
} zarr_hints;
void zarr_hints_init(zarr_hints *h);
void zarr_hints_fini(zarr_hints *h);
/* Copy key's header into head (cap bytes); its length, 0 when not known. */
size_t zarr_hints_get(zarr_hints *h, uint64_t key, unsigned char *head, size_t cap);
void zarr_hints_put(zarr_hints *h, uint64_t key, const void *head, size_t len);
void zarr_hints_drop(zarr_hints *h, uint64_t key);
/* A buffer of at least n bytes (*cap: its size), kept or malloc'd; give it
 * back when done (kept when there is room, else freed). */
void *zarr_spare_take(zarr_hints *h, size_t n, size_t *cap);
void zarr_spare_give(zarr_hints *h, void *p, size_t cap);

struct lsio_zarr_array {
    zarr_meta m;
    lsio_zarr_info info;
    char *url;               /* without a trailing '/' */
    lsio_io *io;
    int own_io;
    lsio_pool *pool;
    size_t inflight;
    atomic_uint_fast64_t st_read, st_missing, st_bytes, st_decoded, st_direct;
    zarr_hints hints;
};

/* Make an array handle from parsed metadata (takes over m). io may be
 * shared (own_io 0). */
int zarr_array_make(lsio_zarr_array **out, zarr_meta *m, const char *url, lsio_io *io,
                    int own_io, const lsio_zarr_opts *opts);

/* The key of the stored object at grid coordinates idx (outer grid) into
 * buf (cap bytes); returns its length or -ENAMETOOLONG. */
int zarr_chunk_key(const zarr_meta *m, const uint64_t *idx, char *buf, size_t cap);

/* Read a whole small object into a NUL-terminated malloc'd string. */
int zarr_read_text(lsio_io *io, const char *url, char **text, size_t *len);

#endif
