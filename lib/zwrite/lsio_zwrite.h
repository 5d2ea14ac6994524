/*
 * lsio_zwrite.h — level 4, writing: create Zarr v2 and v3 groups and arrays
 * and write selections of them from caller memory.
 *
 * An array is described by an lsio_zwrite_spec (shape, chunks, optional v3
 * shards, data type as stored, fill value, codecs, attributes). Creating it
 * writes its metadata (v2 .zarray and .zattrs, v3 zarr.json); opening an
 * existing one reads that metadata back into a spec.
 *
 * lsio_zwrite_write() stores a selection (lsio_selection of lsio_zarr.h) of
 * the caller's buffer (C order, native byte order, like lsio_zarr_read's
 * output). For every stored object (a chunk, or a shard when sharded) that
 * the selection touches:
 *  - wholly covered: its bytes are built from the buffer (edge objects are
 *    padded with the fill value), encoded and written; nothing is read;
 *  - partly covered: the stored object is read (missing: the fill value),
 *    decoded, merged with the buffer, encoded and rewritten; in a shard only
 *    the inner chunks the selection touches are decoded and re-encoded, the
 *    others keep their stored bytes;
 *  - equal to the fill value everywhere (inner chunks likewise): not stored,
 *    and a stored one is deleted, as zarr-python does with
 *    write_empty_chunks=False (opts.write_empty_chunks = 1 stores them).
 * Encoding runs on an lsio_pool (inner chunks of a shard in parallel) while
 * earlier objects are being written by the IO backend; the bytes held by
 * objects in flight are bounded by opts.inflight_bytes. Every object lands
 * atomically (lsio_put: written aside and renamed locally, PUT or multipart
 * upload remotely), so a write that fails half-way leaves each object either
 * as it was or as written, never torn.
 *
 * Errors are a negative errno or -LSIO_E* code; the message (lsio_last_error)
 * names the array and, for an object, its key and location:
 *   "array /d/x.zarr chunk 0.3 (/d/x.zarr/0.3): write ...: No space left on device".
 *
 * Thread safety: one lsio_zwrite_array may be used by one thread at a time
 * (lsio_zwrite_write calls on one handle are serialised by a lock). Writes of
 * several handles to disjoint objects of one array may run at once. A
 * handle made by lsio_zwrite_create that found nothing under its url skips
 * the delete of fill-value objects it has not written itself: it assumes
 * no other writer stores objects there meanwhile.
 */
#ifndef LSIO_ZWRITE_H
#define LSIO_ZWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "lsio_base.h"
#include "lsio_codecs.h"
#include "lsio_io.h"
#include "lsio_pool.h"
#include "lsio_zarr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An array's description. Strings are borrowed by lsio_zwrite_create (it
 * copies what it keeps). */
typedef struct lsio_zwrite_spec {
    int zarr_format;                        /* 2 or 3 */
    unsigned ndim;                          /* 0 .. LSIO_ZARR_MAX_DIMS */
    uint64_t shape[LSIO_ZARR_MAX_DIMS];
    uint64_t chunks[LSIO_ZARR_MAX_DIMS];    /* chunk shape (inner chunks when
                                               sharded); each >= 1 */
    uint64_t shards[LSIO_ZARR_MAX_DIMS];    /* v3 shard shape, a multiple of
                                               chunks; all 0: not sharded */
    lsio_dtype dtype;                       /* as stored (byte order) */
    int fortran_order;                      /* v2 order "F" */
    /* The fill value as JSON, in either format's spelling (0, 1.5, "NaN",
     * "-Infinity", "0x7fc00000", true, [re, im], base64 text for v2 bytes,
     * null for v2 "none"). NULL: zero of the type. */
    const char *fill_value_json;
    /* Codecs as JSON. v2: {"compressor": {...}|null, "filters": [...]|null}
     * or a bare compressor object {"id": ...}. v3: the codecs array of a
     * chunk in encoding order ("bytes" is added when no array->bytes codec
     * is there), or a zarr.json codecs array whose only entry is
     * sharding_indexed (then the shard shape is `shards`, or `chunks` when
     * shards is all 0, and the inner chunk shape and codecs come from its
     * configuration). lsio_zarr_info.codecs_json passes through as is.
     * NULL: uncompressed. */
    const char *codecs_json;
    const char *attrs_json;                 /* a JSON object; NULL: none */
    const char *dimension_names[LSIO_ZARR_MAX_DIMS]; /* v3; NULL: unnamed */
    char separator;                         /* chunk key separator: 0 default
                                               ('.' for v2 and v3 "v2" keys,
                                               '/' for v3 default keys) */
    int v3_v2_keys;                         /* v3: chunk_key_encoding "v2" */
    int index_at_start;                     /* v3 shards: index_location "start" */
} lsio_zwrite_spec;

typedef struct lsio_zwrite_opts {
    lsio_io_opts io;          /* backend options (when io_handle is NULL) */
    lsio_io *io_handle;       /* share this open backend (not owned) */
    lsio_pool *pool;          /* encode pool; NULL: lsio_pool_default() */
    size_t inflight_bytes;    /* bytes of objects being built or written;
                                 0 = 64 MiB (at least two objects are
                                 allowed, however large; a set value
                                 below one object writes one at a time;
                                 fresh memory costs page faults, so more
                                 is rarely faster) */
    int write_empty_chunks;   /* 1: store objects equal to the fill value */
    int overwrite;            /* create: remove an array or group already
                                 at the url (its metadata and every object
                                 under it); 0: such a node is -EEXIST */
    unsigned put_flags;       /* LSIO_PUT_FSYNC: fsync each object */
} lsio_zwrite_opts;

#define LSIO_ZWRITE_OPTS_DEFAULT {.io = LSIO_IO_OPTS_DEFAULT}

typedef struct lsio_zwrite_array lsio_zwrite_array;

/* Create a group at url: v2 .zgroup (+ .zattrs when attrs_json is given),
 * v3 zarr.json with node_type "group". An existing group is kept (its
 * attributes replaced when attrs_json is given); an existing array is
 * -EEXIST unless opts->overwrite. opts may be NULL. */
int lsio_zwrite_create_group(const char *url, int zarr_format, const char *attrs_json,
                             const lsio_zwrite_opts *opts);

/* Create an array at url and open it for writing. The spec is checked
 * (-EINVAL with a message naming the field; -LSIO_EUNSUPPORTED naming a
 * codec or data type LSIO cannot write) and its codecs built before any
 * byte is written. opts may be NULL. */
int lsio_zwrite_create(lsio_zwrite_array **out, const char *url, const lsio_zwrite_spec *spec,
                       const lsio_zwrite_opts *opts);

/* Open an existing array (v2 or v3) for writing. -ENOENT naming the url
 * when no array is there. */
int lsio_zwrite_open(lsio_zwrite_array **out, const char *url, const lsio_zwrite_opts *opts);

/* The array's spec, normalized (v3: shards and chunks split out of a
 * sharding codec; codecs_json the chunk's codecs). Valid until close. */
const lsio_zwrite_spec *lsio_zwrite_get_spec(const lsio_zwrite_array *a);

/* Write sel (NULL: the whole array) from buf: lsio_selection_count(sel)
 * elements of the data type in native byte order, C order over the
 * selection's output shape; buf_bytes must be exactly that many bytes
 * (else -EINVAL). Negative steps and integer indices are allowed. Returns 0
 * once every touched object is stored (or deleted), or the first error;
 * objects already stored stay stored. Not for STRING arrays (see
 * lsio_zwrite_write_strings). */
int lsio_zwrite_write(lsio_zwrite_array *a, const lsio_selection *sel, const void *buf,
                      size_t buf_bytes);

/* Write sel of a STRING array (v2 "|O" with vlen-utf8, v3 "string") from
 * `count` UTF-8 strings (the selection's element count, C order): string
 * i is bytes[offsets[i] .. offsets[i+1]), offsets has count + 1 entries
 * (as lsio_zarr_read_strings returns them). Otherwise as
 * lsio_zwrite_write; the fill value of a string array is a string ("" by
 * default). */
int lsio_zwrite_write_strings(lsio_zwrite_array *a, const lsio_selection *sel,
                              const uint64_t *offsets, const char *bytes, uint64_t count);

/* Replace the attributes (rewrites .zattrs / zarr.json). */
int lsio_zwrite_set_attrs(lsio_zwrite_array *a, const char *attrs_json);

typedef struct lsio_zwrite_stats {
    uint64_t objects_written;  /* chunks or shards stored */
    uint64_t objects_deleted;  /* equal to the fill value: removed or not stored */
    uint64_t objects_merged;   /* partly covered: read, merged, rewritten */
    uint64_t chunks_encoded;   /* chunks (inner chunks) encoded */
    uint64_t bytes_written;    /* encoded bytes put */
    uint64_t bytes_in;         /* decoded bytes taken from callers */
} lsio_zwrite_stats;
void lsio_zwrite_stats_get(const lsio_zwrite_array *a, lsio_zwrite_stats *st);

/* Close the handle (nothing is pending after lsio_zwrite_write returns). */
void lsio_zwrite_close(lsio_zwrite_array *a);

/* ------------------------------------------------------------- helpers */

/* Codecs JSON (as lsio_zwrite_spec.codecs_json for zarr_format) from a
 * short text: "none", "zstd:3", "gzip:6", "zlib:5", "lz4:1" (v2), "bz2:9"
 * (v2), "lzma:6" (v2), "blosc:lz4:5:shuffle" (cname, clevel, shuffle |
 * bitshuffle | noshuffle), or a JSON text (returned unchanged). dtype gives
 * blosc's typesize. *out is malloc'd; -EINVAL with a message for a
 * malformed text. */
int lsio_zwrite_codecs_from_text(const char *text, int zarr_format, const lsio_dtype *dtype,
                                 char **out);

/* Carry an array's codecs (lsio_zarr_info.codecs_json of a zarr_format
 * `from` array) to zarr_format `to` as lsio_zwrite_spec.codecs_json:
 * within one format the same codecs (v3: sharding_indexed unwrapped to
 * the chunk codecs; give the shards in the spec); across formats the
 * compressor (zstd, gzip/zlib, blosc) and nothing else: v2 filters and v3
 * codecs other than bytes, transpose and crc32c are -LSIO_EUNSUPPORTED
 * naming them. *out is malloc'd. */
int lsio_zwrite_codecs_convert(const char *codecs_json, int from, int to, const lsio_dtype *dtype,
                               char **out);

/* The key of the stored object at grid coordinates (chunk or shard) of a
 * spec ("0.3.1", "c/0/3/1", "0", "c"), into buf; -ENAMETOOLONG if short. */
int lsio_zwrite_chunk_key(const lsio_zwrite_spec *spec, const uint64_t *coords, char *buf,
                          size_t len);

#ifdef __cplusplus
}
#endif
#endif
