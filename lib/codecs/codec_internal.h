/*
 * codec_internal.h — what the codec sources share and nobody else sees: the
 * codec object, the table entry ("ops") each codec kind provides, the
 * per-thread scratch state, and small helpers for JSON configurations.
 *
 * Each codec kind is one `codec_ops` entry in the registry (codecs.c). A
 * decode op turns the encoded bytes of one stage into the bytes of the stage
 * before it; how it may be run is stated by its plan (codec_kind):
 *   CODEC_VIEW     the output is a prefix of the input: the op only checks
 *                  (crc32c, bitround, native-endian bytes) and is called
 *                  with dst == NULL;
 *   CODEC_INPLACE  dst may equal src (byte swaps, same-width delta/astype);
 *   CODEC_OOP      dst and src must not overlap (compressors, transpose).
 * Every op that is not a view also works with distinct src and dst.
 *
 * Decode ops never write past dstcap. A stream that decodes to more than
 * dstcap bytes is -LSIO_ESIZE (the chain grows its scratch and retries only
 * where the size of a stage is not known in advance).
 */
#ifndef LSIO_CODEC_INTERNAL_H
#define LSIO_CODEC_INTERNAL_H

#include <stdatomic.h>

#include <cjson/cJSON.h>

#include "lsio_codecs.h"

typedef enum codec_kind { CODEC_VIEW = 0, CODEC_INPLACE, CODEC_OOP } codec_kind;

typedef struct codec_ops codec_ops;

/* Parameters of every codec kind, in one union (a codec is small). */
typedef struct codec_params {
    int level;                 /* zstd, gzip, zlib, bz2, lzma preset, blosc clevel */
    int shuffle;               /* blosc: -1 auto, 0 none, 1 byte, 2 bit */
    int typesize;              /* blosc v3 typesize (0: from the spec) */
    int blocksize;             /* blosc */
    char cname[16];            /* blosc inner compressor */
    int acceleration;          /* lz4 */
    int big_endian;            /* bytes */
    int has_endian;            /* bytes: "endian" given */
    int format, check;         /* lzma */
    unsigned elementsize;      /* shuffle */
    unsigned keepbits;         /* bitround */
    unsigned norder;           /* transpose: length of order */
    unsigned order[32];
    int order_f;               /* transpose: "F" (reverse the axes) */        /* transpose: encoded axis i = decoded axis order[i] */
    lsio_dtype dtype, astype;  /* delta, fixedscaleoffset, astype (decode / encode side) */
    double scale, offset;      /* fixedscaleoffset */
    void *ext;                 /* sharding_indexed: its parsed configuration */
} codec_params;

struct lsio_codec {
    const codec_ops *ops;
    atomic_int refs;
    int v3;                    /* created under a v3 name */
    char name[48];             /* the name as given */
    codec_params p;
};

struct codec_ops {
    const char *id;            /* numcodecs id or v3 name */
    lsio_codec_role role;
    /* Parse the configuration into c->p; cfg may be NULL. */
    int (*init)(lsio_codec *c, const cJSON *cfg);
    /* Put the parameters back as JSON members of obj. */
    void (*to_json)(const lsio_codec *c, cJSON *obj);
    /* How decode may run for this spec (the decoded-side spec). */
    codec_kind (*kind)(const lsio_codec *c, const lsio_chunk_spec *spec);
    /* The encoded-side spec of an array→array codec (NULL: unchanged). */
    int (*out_spec)(const lsio_codec *c, const lsio_chunk_spec *in, lsio_chunk_spec *out);
    /* Encoded size from decoded size when exact, or SIZE_MAX (NULL: same). */
    size_t (*enc_size)(const lsio_codec *c, size_t decoded);
    int (*decode)(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                  size_t srclen, void *dst, size_t dstcap, size_t *outlen);
    /* Encode into a malloc'd buffer. */
    int (*encode)(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                  size_t srclen, void **dst, size_t *dstlen);
    /* Free what init allocated (NULL: nothing). */
    void (*fini)(lsio_codec *c);
    /* Decode only decoded bytes [off, off + len) of src, whose whole
     * decoded size must be `expect`, into dst (len bytes). NULL: the codec
     * cannot; -LSIO_EUNSUPPORTED: not this buffer (the caller decodes it
     * whole). Bytes outside the range need not be checked. */
    int (*decode_range)(const lsio_codec *c, const lsio_chunk_spec *spec, const void *src,
                        size_t srclen, size_t expect, size_t off, size_t len, void *dst);
    /* With decode_range: where in an encoded buffer (of which the first
     * headlen bytes are given) the bytes that range needs lie (see
     * lsio_chain_encoded_span). */
    int (*enc_span)(const lsio_codec *c, const void *head, size_t headlen, size_t expect,
                    size_t off, size_t len, lsio_enc_span *sp);
    /* With decode_range: the whole of src (`expect` decoded bytes) handed
     * to a sink in pieces (see lsio_chain_decode_sink). */
    int (*decode_sink)(const lsio_codec *c, const void *src, size_t srclen, size_t expect,
                       const lsio_chunk_sink *sink);
};

/* Codec tables, one per source file. */
extern const codec_ops codec_bytes_ops, codec_transpose_ops, codec_crc32c_ops,
    codec_blosc_ops, codec_zstd_ops, codec_lz4_ops, codec_gzip_ops, codec_zlib_ops,
    codec_bz2_ops, codec_lzma_ops, codec_shuffle_ops, codec_delta_ops,
    codec_fixedscaleoffset_ops, codec_bitround_ops, codec_astype_ops,
    codec_vlen_utf8_ops, codec_crc32_ops, codec_adler32_ops, codec_sharding_ops;

/* Per-thread state: two scratch buffers for the chain and the reusable
 * decompression contexts. Freed when the thread exits. */
typedef struct codec_tls {
    void *buf[2];
    size_t cap[2];
    void *zstd_dctx;           /* ZSTD_DCtx */
    void *deflate_d;           /* struct libdeflate_decompressor */
} codec_tls;
codec_tls *codec_tls_get(void);
/* Make scratch buffer i hold at least n bytes; NULL on failure. */
void *codec_tls_scratch(codec_tls *t, int i, size_t n);

/* JSON helpers: a member as int/double/string with a default; -1 (and a
 * message naming the codec) when present but of the wrong type. */
int cfg_int(const lsio_codec *c, const cJSON *cfg, const char *key, int def, int *out);
int cfg_double(const lsio_codec *c, const cJSON *cfg, const char *key, double def,
               double *out);
int cfg_dtype(const lsio_codec *c, const cJSON *cfg, const char *key, const lsio_dtype *def,
              lsio_dtype *out);

/* Shared pieces of codec tables: a kind that is always CODEC_OOP, an
 * encoded size that is not known, and the two decode failures (both return
 * the error after recording a message naming the codec). */
codec_kind codec_kind_oop(const lsio_codec *c, const lsio_chunk_spec *s);
size_t codec_enc_unknown(const lsio_codec *c, size_t n);
int codec_too_big(const lsio_codec *c, size_t cap);
int codec_corrupt(const lsio_codec *c, const char *what);
/* c->p.level within lo..hi, or -LSIO_EFORMAT; "level" as JSON. */
int codec_level_in(const lsio_codec *c, int lo, int hi);
void codec_level_json(const lsio_codec *c, cJSON *o);

/* Number of elements of a spec (product of its shape), with overflow check. */
int spec_nelem(const lsio_chunk_spec *s, size_t *out);

/* Swap the bytes of n elements of `size` bytes (size 2, 4, 8; complex:
 * the halves) from src to dst (may be equal). */
void codec_byteswap(void *dst, const void *src, size_t n, unsigned size);

/* Element conversions between numeric dtypes (astype, delta,
 * fixedscaleoffset): native-order values only. */
typedef union num {
    int64_t i;
    uint64_t u;
    double f;
} num;
typedef enum num_class { NUM_INT, NUM_UINT, NUM_FLOAT } num_class;
num_class num_class_of(lsio_dtype d);
int num_dtype_ok(lsio_dtype d); /* bool, ints, floats 32/64, either byte order */

#endif
