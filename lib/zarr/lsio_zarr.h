/*
 * lsio_zarr.h — levels 3 and 4: read Zarr v2 and v3 arrays and groups.
 *
 * lsio_zarr_open() reads an array's metadata (v2 .zarray/.zattrs, v3
 * zarr.json, or consolidated metadata of a parent group); lsio_zarr_read()
 * reads a selection into caller memory in C order and native byte order.
 * Only the chunks a selection touches are read; for sharded arrays the shard
 * index is read first, then only the inner chunks needed, as byte ranges
 * merged where close. Reading runs IO (lsio_io) and decoding (lsio_codecs on
 * the lsio_pool) concurrently with a bounded number of bytes in flight.
 * A missing chunk reads as the fill value.
 *
 * Errors name the array and, for a chunk, its key: "array /data/x.zarr
 * chunk 0.3.1: blosc: corrupt input".
 *
 * Thread safety: an open array is immutable; any number of threads may read
 * from it at once. Groups likewise. A read waits for the decode pool while
 * it runs: do not call the read functions from a task of that same pool
 * (every worker doing so would wait forever).
 *
 * Memory: each pool thread keeps one decode scratch as large as the largest
 * chunk it decoded (reused by later reads). Local reads keep about 3 chunks
 * per decode thread in flight; remote ones up to 64 objects; both within
 * opts.inflight_bytes (estimated as decoded sizes).
 */
#ifndef LSIO_ZARR_H
#define LSIO_ZARR_H

#include <stddef.h>
#include <stdint.h>

#include "lsio_base.h"
#include "lsio_codecs.h"
#include "lsio_io.h"
#include "lsio_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LSIO_ZARR_MAX_DIMS 32

typedef struct lsio_zarr_opts {
    lsio_io_opts io;          /* backend options (when io is NULL) */
    lsio_io *io_handle;       /* share this open backend (not owned); NULL: open one */
    lsio_pool *pool;          /* decode pool; NULL: lsio_pool_default() */
    size_t inflight_bytes;    /* bytes read but not yet decoded; 0 = 256 MiB */
} lsio_zarr_opts;

#define LSIO_ZARR_OPTS_DEFAULT {.io = LSIO_IO_OPTS_DEFAULT}

/* --------------------------------------------------------------- selection */

/* One dimension of a selection, normalized (numpy semantics): elements
 * start, start+step, ... (count of them); step != 0 (negative allowed);
 * `drop` is set for an integer index (the dimension leaves the output). */
typedef struct lsio_dim_sel {
    int64_t start;
    int64_t step;
    uint64_t count;
    int drop;
} lsio_dim_sel;

typedef struct lsio_selection {
    unsigned ndim;
    lsio_dim_sel dim[LSIO_ZARR_MAX_DIMS];
} lsio_selection;

/* The whole array. */
void lsio_selection_all(lsio_selection *sel, unsigned ndim, const uint64_t *shape);
/* Parse numpy-style text: "0:10,:,5", "::-1", "...", "3" (fewer terms than
 * dimensions select all of the rest). Errors (-LSIO_ESELECTION) name the
 * term and the dimension: out of range, zero step, malformed. */
int lsio_selection_parse(const char *text, unsigned ndim, const uint64_t *shape,
                         lsio_selection *out);
/* Per dimension (start, stop, step) as Python slices (stop exclusive,
 * negative values count from the end, INT64_MIN meaning "omitted");
 * is_index[d] nonzero makes dimension d an integer index `start`. */
int lsio_selection_from_slices(unsigned ndim, const uint64_t *shape, const int64_t *start,
                               const int64_t *stop, const int64_t *step,
                               const int *is_index, lsio_selection *out);
/* Output shape (dropped dimensions left out) and its element count. */
unsigned lsio_selection_shape(const lsio_selection *sel, uint64_t *shape_out);
uint64_t lsio_selection_count(const lsio_selection *sel);

/* ------------------------------------------------------------------ arrays */

typedef struct lsio_zarr_array lsio_zarr_array;

typedef struct lsio_zarr_info {
    int zarr_format;                       /* 2 or 3 */
    const char *url;                       /* the array's location */
    unsigned ndim;
    uint64_t shape[LSIO_ZARR_MAX_DIMS];
    uint64_t chunks[LSIO_ZARR_MAX_DIMS];   /* the read unit: inner chunks when sharded */
    uint64_t shards[LSIO_ZARR_MAX_DIMS];   /* shard shape; all 0 when not sharded */
    lsio_dtype dtype;                      /* as stored */
    int fortran_order;                     /* v2 order "F" */
    const char *fill_value_json;           /* as the metadata writes it */
    const char *attrs_json;                /* attributes object ("{}" if none) */
    const char *codecs_json;               /* v3 codecs array / v2 {compressor, filters} */
    const char *dimension_names[LSIO_ZARR_MAX_DIMS]; /* NULL where unnamed */
    uint64_t nchunks;                      /* chunks in the grid (stored objects:
                                              shards when sharded) */
} lsio_zarr_info;

/* Open the array at url (its directory/prefix, not the metadata file).
 * opts may be NULL. Errors: -ENOENT naming the url when no array is there;
 * -LSIO_EFORMAT for bad metadata; -LSIO_EUNSUPPORTED naming the array and
 * the codec or data type LSIO lacks. */
int lsio_zarr_open(lsio_zarr_array **out, const char *url, const lsio_zarr_opts *opts);
void lsio_zarr_close(lsio_zarr_array *a);
const lsio_zarr_info *lsio_zarr_get_info(const lsio_zarr_array *a);
/* The fill value as one element of the native-order dtype (size bytes). */
void lsio_zarr_fill_value(const lsio_zarr_array *a, void *elem);
/* The output element size (native order; STRING: 0). */
size_t lsio_zarr_itemsize(const lsio_zarr_array *a);

/* Read sel (NULL: everything) into out, C order, native byte order, out
 * holding exactly lsio_selection_count(sel) * itemsize bytes (else
 * -EINVAL). Not for STRING arrays (see lsio_zarr_read_strings). When out
 * is freshly mapped memory, lsio_pool_prefault() on it first makes the
 * read faster: the read's threads write neighbouring parts of the same
 * pages, so their first-touch faults would collide (the Python package and
 * `lsio get` do so). */
int lsio_zarr_read(lsio_zarr_array *a, const lsio_selection *sel, void *out, size_t out_bytes);

/* lsio_zarr_read with flags: LSIO_ZARR_MASK_FILL reads elements equal to
 * the fill value (and missing chunks) as NaN, as xarray's CF masking makes
 * them, in the same pass over the data (float32 and float64 arrays whose
 * fill value is a number; other arrays: -EINVAL; a NaN fill: no change). */
#define LSIO_ZARR_MASK_FILL 1u
int lsio_zarr_read_flags(lsio_zarr_array *a, const lsio_selection *sel, void *out,
                         size_t out_bytes, unsigned flags);

/* Read n selections in one submission: every chunk they need is read and
 * decoded once, even when selections overlap. */
int lsio_zarr_read_many(lsio_zarr_array *a, const lsio_selection *sels, size_t n,
                        void *const *outs, const size_t *out_bytes);

/* lsio_zarr_read_many with every range it reads (chunks, shard indexes and
 * the inner chunks read after them) in IO group io_group of the array's io
 * handle (see lsio_io.h): a read in group n+1 submitted while one in group
 * n runs waits in the IO layer until group n has nothing queued or in
 * flight, so a prefetch can queue behind the read the caller needs now.
 * Groups belong to the io handle (shared by every array opened with
 * opts.io_handle; an array that opened its own io has its own groups);
 * callers should use non-decreasing ids per handle: a lower group
 * submitted later takes over what has not started yet. The order is of
 * what is queued: while group n waits between its own submissions (its
 * in-flight budget, or a shard's inner chunks after its index), a queued
 * group n+1 may start. Each read keeps its own in-flight budget, so a read
 * waiting behind a lower group holds nothing that group needs (no
 * deadlock). lsio_zarr_read_many and every other read use group 0. */
int lsio_zarr_read_many_group(lsio_zarr_array *a, const lsio_selection *sels, size_t n,
                              void *const *outs, const size_t *out_bytes, uint32_t io_group);

/* Stream the selected elements chunk by chunk: fn(ctx, index, elems, n)
 * gets the selected elements of one chunk, packed (native order), on a
 * pool thread; calls run concurrently and in no set order. index is the
 * chunk's place in the read's own fixed order (0 .. chunks touched - 1,
 * each once; the same for the same array and selection), so that a caller
 * can combine per-chunk results in an order that does not depend on
 * timing. fn returns 0 or a negative error that stops the read. Memory
 * stays bounded by the in-flight budget however large the array. progress
 * (may be NULL) is called from the calling thread with chunks done / total. */
typedef int (*lsio_zarr_block_fn)(void *ctx, uint64_t index, const void *elems, uint64_t n);
typedef void (*lsio_zarr_progress_fn)(void *ctx, uint64_t done, uint64_t total);
int lsio_zarr_for_each(lsio_zarr_array *a, const lsio_selection *sel, lsio_zarr_block_fn fn,
                       void *ctx, lsio_zarr_progress_fn progress, void *pctx);

/* Variable-length strings (STRING dtype): element i is
 * bytes[offsets[i] .. offsets[i+1]) (UTF-8). *offsets has count+1 entries.
 * The caller frees *offsets and *bytes with free(). */
int lsio_zarr_read_strings(lsio_zarr_array *a, const lsio_selection *sel, uint64_t **offsets,
                           char **bytes, uint64_t *count);

/* Counters of the reads made through this array so far. */
typedef struct lsio_zarr_stats {
    uint64_t chunks_read;     /* chunk objects fetched (inner chunks for shards) */
    uint64_t chunks_missing;  /* read as fill value */
    uint64_t bytes_read;      /* encoded bytes fetched */
    uint64_t bytes_decoded;
    uint64_t chunks_direct;   /* decoded straight into the output (no scratch
                                 chunk, no copy after) */
} lsio_zarr_stats;
void lsio_zarr_stats_get(const lsio_zarr_array *a, lsio_zarr_stats *st);

/* Count the chunk objects present (lists the store). */
int lsio_zarr_count_chunks(lsio_zarr_array *a, uint64_t *present, uint64_t *stored_bytes);

/* ------------------------------------------------------------------ groups */

typedef struct lsio_zarr_group lsio_zarr_group;

typedef enum lsio_zarr_node {
    LSIO_ZARR_MISSING = 0,
    LSIO_ZARR_ARRAY,
    LSIO_ZARR_GROUP,
} lsio_zarr_node;

/* What is at url: an array, a group, or nothing (v2 or v3). */
int lsio_zarr_probe(const char *url, const lsio_zarr_opts *opts, lsio_zarr_node *kind,
                    int *zarr_format);

int lsio_zarr_group_open(lsio_zarr_group **out, const char *url, const lsio_zarr_opts *opts);
void lsio_zarr_group_close(lsio_zarr_group *g);
const char *lsio_zarr_group_attrs(const lsio_zarr_group *g); /* JSON object */
int lsio_zarr_group_format(const lsio_zarr_group *g);
/* Direct members (from consolidated metadata when present, else by listing).
 * names[i] is relative to the group; kinds[i] says array or group. */
size_t lsio_zarr_group_count(const lsio_zarr_group *g);
const char *lsio_zarr_group_name(const lsio_zarr_group *g, size_t i);
lsio_zarr_node lsio_zarr_group_kind(const lsio_zarr_group *g, size_t i);
/* Open member i (or by relative name, nested "a/b" allowed) as an array,
 * sharing the group's backend; metadata comes from the consolidated copy
 * when the group has one. */
int lsio_zarr_group_open_array(lsio_zarr_group *g, const char *name, lsio_zarr_array **out);
/* Open member `name` (nested "a/b" allowed) as a group sharing g's backend;
 * with consolidated metadata its members come from g's copy (no listing, so
 * it works over plain HTTP). The result may outlive g only if g did not
 * open the backend itself. */
int lsio_zarr_group_open_group(lsio_zarr_group *g, const char *name, lsio_zarr_group **out);

#ifdef __cplusplus
}
#endif
#endif
