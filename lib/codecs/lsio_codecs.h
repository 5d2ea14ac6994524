/*
 * lsio_codecs.h — level 2: the codecs of Zarr v2 (numcodecs ids) and Zarr v3,
 * each a thin wrapper over the library that does the work (libblosc, libzstd,
 * liblz4, libdeflate/zlib, libbz2, liblzma, ISA-L).
 *
 * A codec is made once from its name and JSON configuration (immutable
 * afterwards, so one instance serves every thread). A chain is the ordered
 * list of codecs of one array together with the chunk's data type and shape;
 * decoding a chunk runs the chain backwards into the caller's memory.
 *
 * Sizes are checked: a decoder never writes past the memory it was given,
 * and a chunk that decodes to more or fewer bytes than the chunk needs is
 * -LSIO_ESIZE with a message naming the codec (a decompression bomb stops
 * at the expected size).
 *
 * Thread safety: codecs and chains are immutable and may be used from any
 * number of threads at once.
 */
#ifndef LSIO_CODECS_H
#define LSIO_CODECS_H

#include <stddef.h>
#include <stdint.h>

#include "lsio_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------- dtypes */

typedef enum lsio_dtype_kind {
    LSIO_DT_BOOL = 0,
    LSIO_DT_INT,     /* signed: size 1, 2, 4, 8 */
    LSIO_DT_UINT,    /* unsigned: size 1, 2, 4, 8 */
    LSIO_DT_FLOAT,   /* size 2, 4, 8 */
    LSIO_DT_COMPLEX, /* size 8, 16 */
    LSIO_DT_BYTES,   /* fixed-width bytes (v2 "|S7"); size = width */
    LSIO_DT_UNICODE, /* fixed-width UCS-4 (v2 "<U7"); size = 4 * chars */
    LSIO_DT_STRING,  /* variable-length UTF-8 (v3 string, v2 object vlen-utf8) */
} lsio_dtype_kind;

typedef struct lsio_dtype {
    lsio_dtype_kind kind;
    uint32_t size;   /* bytes per element as stored (STRING: 0) */
    int big_endian;  /* stored byte order (1-byte types: 0) */
} lsio_dtype;

/* Parse a numpy type string ("<f4", ">i8", "|b1", "<U13", "|S7", "|O") or a
 * Zarr v3 name ("float32", "int16", "bool", "complex64", "string"). */
int lsio_dtype_parse(const char *s, lsio_dtype *out);
/* The numpy string for d in native order ("<f4"). buf holds >= 16 bytes. */
const char *lsio_dtype_str(lsio_dtype d, char *buf, size_t len);

/* ----------------------------------------------------------------- codecs */

typedef enum lsio_codec_role {
    LSIO_CODEC_ARRAY_ARRAY = 0, /* transpose, delta, fixedscaleoffset, astype */
    LSIO_CODEC_ARRAY_BYTES,     /* bytes (endianness) */
    LSIO_CODEC_BYTES_BYTES,     /* compressors, shuffle, crc32c */
} lsio_codec_role;

typedef struct lsio_codec lsio_codec;

/* Make a codec from a name (v3: "bytes", "transpose", "blosc", "zstd",
 * "gzip", "crc32c", "numcodecs.delta", ...; v2: the numcodecs id "blosc",
 * "zlib", "lz4", "zstd", "bz2", "lzma", "gzip", "shuffle", "delta",
 * "fixedscaleoffset", "bitround", "astype", "crc32", "adler32", "vlen-utf8")
 * and its configuration as a JSON
 * object text (v3: the "configuration" member; v2: the whole compressor or
 * filter object; NULL or "{}" for none). Unknown names are
 * -LSIO_EUNSUPPORTED with a message naming the codec. */
int lsio_codec_create(lsio_codec **out, const char *name, const char *json_config);
void lsio_codec_destroy(lsio_codec *c);
const char *lsio_codec_name(const lsio_codec *c);
lsio_codec_role lsio_codec_role_of(const lsio_codec *c);
/* The configuration back as JSON text (malloc'd; caller frees): every
 * parameter with defaults filled in, plus "id" when the codec was made
 * under a v2 name. */
char *lsio_codec_config_json(const lsio_codec *c);

/* The shape and type of a chunk as a chain sees it. */
typedef struct lsio_chunk_spec {
    unsigned ndim;
    uint64_t shape[32];
    lsio_dtype dtype;
    int fortran_order; /* v2 order "F": the chunk's bytes are in F order */
    /* One element (dtype.size bytes, native order) that a missing part of
     * the chunk reads as; NULL: zero bytes. Only sharding_indexed uses it
     * (for inner chunks a shard does not store); it must outlive every
     * chain made with this spec (Zarr: the array's metadata). */
    const void *fill;
} lsio_chunk_spec;

typedef struct lsio_chain lsio_chain;

/* Build a chain from codecs in encoding order (array→array..., at most one
 * array→bytes, bytes→bytes...). The chain keeps its own references: the
 * codecs may be destroyed after. With no array→bytes codec the chain acts
 * as if "bytes" with native order were there (Zarr v2). */
int lsio_chain_create(lsio_chain **out, lsio_codec *const *codecs, size_t n,
                      const lsio_chunk_spec *spec);
void lsio_chain_destroy(lsio_chain *ch);
/* Decoded size of one chunk in bytes (elements × dtype size). */
size_t lsio_chain_decoded_size(const lsio_chain *ch);

/* Decode one encoded chunk into dst, which holds exactly
 * lsio_chain_decoded_size() bytes, in C order and native byte order (or F
 * order when the spec says so). Returns 0, or a negative error with the
 * message naming the codec (the caller adds the chunk key). Uses per-thread
 * scratch memory, so it does not allocate on the hot path once warm. */
int lsio_chain_decode(const lsio_chain *ch, const void *src, size_t srclen, void *dst,
                      size_t dstlen);
/* Partial decoding: only bytes [off, off + len) of the decoded chunk (as
 * lsio_chain_decode lays it out) into dst, which holds len bytes. Possible
 * when the chain is one blosc compressor with nothing but views around it
 * (checksums, native-order bytes, identity transposes):
 * lsio_chain_can_decode_range says so once for the chain, and
 * -LSIO_EUNSUPPORTED (no message) says "not this chunk" (a blosc typesize
 * that does not divide the range): decode it whole. Only the compressed
 * blocks that hold the range are decompressed, so damage elsewhere in the
 * chunk goes unnoticed (checksum stages still check the whole chunk). */
int lsio_chain_can_decode_range(const lsio_chain *ch);
int lsio_chain_decode_range(const lsio_chain *ch, const void *src, size_t srclen, size_t off,
                            size_t len, void *dst);
/* Reading part of an encoded chunk: where the encoded bytes that decoded
 * bytes [off, off + len) need lie, told by the first headlen bytes of the
 * encoded chunk (its whole header, sp->head bytes: a blosc header and block
 * starts). lsio_chain_decode_range then decodes that range from a buffer of
 * sp->size bytes in which only [0, sp->head) and [sp->lo, sp->hi) hold the
 * chunk's bytes (the rest is never read). Only for chains where the blosc
 * stage is the outermost (no checksum over the whole chunk); returns 0,
 * -LSIO_EUNSUPPORTED (this chain, or this chunk: read it whole; also when
 * headlen < the header) or -LSIO_ECODEC/-LSIO_ESIZE for a header that
 * cannot be right (named). head NULL: 0 when the chain can (no sp). */
typedef struct lsio_enc_span {
    size_t head;   /* leading bytes that describe the blocks (needed too) */
    size_t size;   /* bytes of the whole encoded chunk */
    size_t lo, hi; /* encoded bytes of the blocks that hold the range */
} lsio_enc_span;
int lsio_chain_encoded_span(const lsio_chain *ch, const void *head, size_t headlen, size_t off,
                            size_t len, lsio_enc_span *sp);

/* Decoding into place: the whole decoded chunk handed to a sink in pieces,
 * in ascending order, each element once, so that a reader scatters it to
 * its place in a larger output without laying the chunk out whole first
 * (one pass over the data less). A piece is elements [e0, e0 + n) of
 * sink->esize bytes: with nplanes 1, planes[0] holds them as they are;
 * with nplanes == esize they are byte-shuffled, byte b of element e0 + i
 * at planes[b][i] (lsio_unshuffle puts them together). The planes are
 * valid only during the call.
 *
 * Possible where lsio_chain_can_decode_range is (one blosc compressor and
 * views) and the blosc buffer is one this path knows: format 2, lz4, lz4hc
 * or zstd, byte shuffle of the sink's element size or none. Returns 0, or
 * -LSIO_EUNSUPPORTED (no message) before any piece: decode it with
 * lsio_chain_decode. Any other error (named) may come after some pieces;
 * the caller then decodes the chunk the ordinary way, which reports the
 * damage as libblosc sees it. Thread-safe as lsio_chain_decode is. */
typedef struct lsio_chunk_sink {
    size_t esize;
    void (*put)(void *ctx, size_t e0, size_t n, const unsigned char *const *planes,
                size_t nplanes);
    void *ctx;
} lsio_chunk_sink;
int lsio_chain_can_decode_sink(const lsio_chain *ch);
int lsio_chain_decode_sink(const lsio_chain *ch, const void *src, size_t srclen,
                           const lsio_chunk_sink *sink);
/* n elements of esize bytes into dst, byte b of element i from
 * planes[b][i] (esize planes; esize 1: a copy). stream: aligned 16-byte
 * stores bypass the caches; call lsio_unshuffle_fence before handing dst to
 * another thread. */
void lsio_unshuffle(void *dst, const unsigned char *const *planes, size_t n, size_t esize,
                    int stream);
void lsio_unshuffle_fence(void);
/* Encode one chunk (dstlen bytes as decode produces) into a malloc'd buffer
 * the caller frees. */
int lsio_chain_encode(const lsio_chain *ch, const void *src, size_t srclen, void **dst,
                      size_t *dstlen);

/* Single codec, bytes to bytes (compressors): decode src into dst of
 * capacity dstcap; *outlen gets the decoded size. */
int lsio_codec_decode(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                      size_t srclen, void *dst, size_t dstcap, size_t *outlen);
int lsio_codec_encode(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                      size_t srclen, void **dst, size_t *dstlen);

/* Variable-length strings: Zarr v3 "vlen-utf8" (the array→bytes codec of
 * `string` arrays) and numcodecs' VLenUTF8 filter of v2 object ("|O")
 * arrays. Encoded form: uint32 LE count, then per item a uint32 LE length
 * and the bytes. Decoded form: count+1 uint64 offsets (offsets[0] == 0;
 * item i is data[offsets[i] .. offsets[i+1])) and the items' bytes one
 * after the other, as stored (not checked for valid UTF-8).
 *
 * lsio_vlen_utf8_decode: the encoded chunk must hold exactly
 * expected_count items (else -LSIO_ESIZE); *offsets and *data are malloc'd
 * (never NULL on success) and the caller frees both. Truncated input is
 * -LSIO_ECODEC. */
int lsio_vlen_utf8_decode(const void *src, size_t srclen, size_t expected_count,
                          uint64_t **offsets, uint8_t **data, size_t *datalen);
/* Encode `count` items given as count+1 offsets into data (items over
 * 4 GiB are -LSIO_EUNSUPPORTED); *dst is malloc'd, the caller frees it. */
int lsio_vlen_utf8_encode(const uint64_t *offsets, const void *data, size_t count, void **dst,
                          size_t *dstlen);
/* Decode / encode one chunk of a chain whose spec has dtype STRING (its
 * array→bytes codec is vlen-utf8; bytes→bytes codecs after it run as in
 * lsio_chain_decode). The item count is the product of the spec's shape.
 * Buffers as in lsio_vlen_utf8_decode / _encode. lsio_chain_decode and
 * lsio_chain_encode refuse string chains (-EINVAL). */
int lsio_chain_decode_strings(const lsio_chain *ch, const void *src, size_t srclen,
                              uint64_t **offsets, uint8_t **data, size_t *datalen);
int lsio_chain_encode_strings(const lsio_chain *ch, const uint64_t *offsets, const void *data,
                              void **dst, size_t *dstlen);

/* Sharding (Zarr v3 sharding_indexed, also a codec of its own above for
 * shards inside shards): a decoded shard index is n × (offset, nbytes)
 * uint64 pairs, both LSIO_SHARD_MISSING for an inner chunk not stored.
 * lsio_shard_index_check returns 0 when every stored entry lies inside a
 * blob of blob_size bytes (0: size not known, only overflow checked), else
 * -LSIO_EFORMAT with *bad set to the first wrong entry and no message (the
 * caller names the shard). */
#define LSIO_SHARD_MISSING UINT64_MAX
int lsio_shard_index_check(const uint64_t *entries, uint64_t n, uint64_t blob_size,
                           uint64_t *bad);
/* The chain of a shard index (index_codecs) over a grid of ndim
 * dimensions of inner chunks: its spec is grid × 2, uint64. */
int lsio_shard_index_chain(lsio_chain **out, lsio_codec *const *codecs, size_t n, unsigned ndim,
                           const uint64_t *grid);

/* CRC-32C (Castagnoli) of a buffer, as Zarr v3's crc32c codec and the shard
 * index use it (ISA-L). */
uint32_t lsio_crc32c(const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
