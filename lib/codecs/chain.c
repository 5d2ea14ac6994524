/*
 * chain.c — the codec chain of one array: the codecs in encoding order, the
 * spec each one sees, and a plan made once at creation that says which
 * stage writes into the caller's buffer.
 *
 * Decoding runs the stages backwards. Stages that only check or trim
 * (crc32c, native-order bytes, identity transposes) are views and copy
 * nothing; stages that can run in place (byte swaps, same-width filters)
 * run on the caller's buffer once data is there; the last stage that must
 * write to new memory (usually the one compressor) writes straight into
 * the caller's buffer. Anything before it ping-pongs between two per-thread
 * scratch buffers, so a warm thread decodes without allocating.
 *
 * Sizes: every stage whose decoded size is known (all of them up to and
 * including the first compressor in encoding order) must produce exactly
 * that many bytes, else -LSIO_ESIZE naming the codec; a stage of unknown
 * size (a compressor inside another) gets growing scratch up to a bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"

typedef struct stage {
    lsio_codec *c;
    lsio_chunk_spec in; /* the decoded-side spec (what encode takes) */
    codec_kind kind;
    size_t dec_size;    /* bytes decode must produce; SIZE_MAX: not known */
} stage;

struct lsio_chain {
    lsio_chunk_spec spec;
    size_t decoded_size;
    size_t nelem;
    int strings;        /* a vlen-utf8 chain: use the _strings calls */
    int vlen_at;        /* index of the vlen-utf8 stage */
    int t_dst;          /* the stage (encoding index) that writes into dst; -1 none */
    int range_at;       /* the stage that decodes part of a chunk; -1: none can */
    size_t n;
    stage st[];
};

/* Encoded-side spec of an array→array codec, from its decoded-side one. */
static int next_spec(const lsio_codec *c, const lsio_chunk_spec *in, lsio_chunk_spec *out)
{
    if (c->ops->out_spec)
        return c->ops->out_spec(c, in, out);
    *out = *in;
    return 0;
}

int lsio_chain_create(lsio_chain **out, lsio_codec *const *codecs, size_t n,
                      const lsio_chunk_spec *spec)
{
    if (!out || !spec || (n && !codecs) || spec->ndim > 32 || n > 64)
        return -EINVAL;
    *out = NULL;
    size_t nab = 0, ab_at = 0;
    for (size_t i = 0; i < n; i++)
        if (codecs[i]->ops->role == LSIO_CODEC_ARRAY_BYTES) {
            nab++;
            ab_at = i;
        }
    if (nab > 1)
        return lsio_error(-LSIO_EFORMAT, "codec chain: %zu array-to-bytes codecs", nab);
    /* v3 (an array→bytes codec given): array→array codecs before it,
     * bytes→bytes after. v2 filters may come in any order. */
    for (size_t i = 0; nab && i < n; i++) {
        lsio_codec_role r = codecs[i]->ops->role;
        if ((i < ab_at && r != LSIO_CODEC_ARRAY_ARRAY) ||
            (i > ab_at && r != LSIO_CODEC_BYTES_BYTES))
            return lsio_error(-LSIO_EFORMAT, "codec chain: \"%s\" out of place",
                              codecs[i]->name);
    }
    int strings = spec->dtype.kind == LSIO_DT_STRING;
    if (strings && (!nab || strcmp(codecs[ab_at]->ops->id, "vlen-utf8")))
        return lsio_error(-LSIO_EUNSUPPORTED, "codec chain: strings need vlen-utf8");
    if (!strings && nab && !strcmp(codecs[ab_at]->ops->id, "vlen-utf8"))
        return lsio_error(-LSIO_EFORMAT, "codec chain: vlen-utf8 on a non-string array");
    if (strings && ab_at > 0)
        return lsio_error(-LSIO_EUNSUPPORTED, "codec chain: \"%s\" on strings",
                          codecs[0]->name);

    /* v2 with a foreign byte order: an implicit bytes codec first */
    lsio_codec *implicit = NULL;
    if (!nab && !strings && spec->dtype.big_endian) {
        int rc = lsio_codec_create(&implicit, "bytes", NULL);
        if (rc < 0)
            return rc;
    }
    size_t total = n + (implicit ? 1 : 0);
    lsio_chain *ch = calloc(1, sizeof *ch + total * sizeof(stage));
    if (!ch) {
        lsio_codec_destroy(implicit);
        return -ENOMEM;
    }
    ch->spec = *spec;
    ch->strings = strings;
    ch->vlen_at = -1;
    ch->t_dst = -1;
    if (spec_nelem(spec, &ch->nelem) < 0 ||
        lsio_mul_size(ch->nelem, spec->dtype.size, &ch->decoded_size) < 0) {
        free(ch);
        lsio_codec_destroy(implicit);
        return lsio_error(-EOVERFLOW, "codec chain: chunk size overflows");
    }
    for (size_t i = 0; i < total; i++) {
        lsio_codec *c = implicit ? (i == 0 ? implicit : codecs[i - 1]) : codecs[i];
        if (c != implicit)
            atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
        ch->st[i].c = c;
        ch->n++;
    }
    lsio_chunk_spec cur = *spec;
    size_t sz = strings ? SIZE_MAX : ch->decoded_size;
    for (size_t i = 0; i < total; i++) {
        stage *s = &ch->st[i];
        const codec_ops *ops = s->c->ops;
        s->in = cur;
        s->dec_size = sz;
        if (!strcmp(ops->id, "vlen-utf8")) {
            ch->vlen_at = (int)i;
            s->kind = CODEC_OOP;
            continue;
        }
        s->kind = ops->kind(s->c, &cur);
        if (ops->role == LSIO_CODEC_ARRAY_ARRAY) {
            lsio_chunk_spec nx;
            size_t ne;
            int rc = next_spec(s->c, &cur, &nx);
            if (rc == 0 && (spec_nelem(&nx, &ne) < 0 || lsio_mul_size(ne, nx.dtype.size, &sz) < 0))
                rc = lsio_error(-EOVERFLOW, "codec chain: \"%s\" size overflows", s->c->name);
            if (rc < 0) {
                lsio_chain_destroy(ch);
                return rc;
            }
            cur = nx;
        } else if (sz != SIZE_MAX) { /* bytes out: a nested shard's size is not known */
            sz = ops->enc_size ? ops->enc_size(s->c, sz) : sz;
        }
    }
    /* the stage that writes into dst: the first out-of-place stage in
     * encoding order (the last to run), or else the first in-place one to
     * run, which must copy out of the caller's const source anyway */
    if (!strings) {
        for (size_t i = 0; i < total && ch->t_dst < 0; i++)
            if (ch->st[i].kind == CODEC_OOP)
                ch->t_dst = (int)i;
        for (size_t i = total; i-- > 0 && ch->t_dst < 0;)
            if (ch->st[i].kind == CODEC_INPLACE)
                ch->t_dst = (int)i;
    }
    /* Part of a chunk can be decoded when one stage can (a blosc
     * compressor) and every other one is a view: those on its encoded side
     * (checksums) run as usual, those on its decoded side must not change
     * the layout (native-order bytes, identity transposes), so bytes of the
     * range are bytes of the chunk. */
    ch->range_at = -1;
    for (size_t i = 0; i < total && !strings; i++) {
        const stage *s = &ch->st[i];
        if (s->c->ops->decode_range && s->dec_size != SIZE_MAX && ch->range_at < 0) {
            ch->range_at = (int)i;
        } else if (s->kind != CODEC_VIEW ||
                   (ch->range_at < 0 && s->c->ops->role == LSIO_CODEC_BYTES_BYTES)) {
            ch->range_at = -1;
            break;
        }
    }
    *out = ch;
    return 0;
}

void lsio_chain_destroy(lsio_chain *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n; i++)
        lsio_codec_destroy(ch->st[i].c);
    free(ch);
}

size_t lsio_chain_decoded_size(const lsio_chain *ch) { return ch->decoded_size; }

static int size_mismatch(const stage *s, size_t got)
{
    return lsio_error(-LSIO_ESIZE, "%s: decoded %zu bytes, expected %zu", s->c->name, got,
                      s->dec_size);
}

/* Run stages [from, n) backwards (decoding) from src into either dst (when
 * stage t_dst comes) or scratch. On return *res and *reslen hold the result,
 * which is dst, src or a scratch buffer. */
static int run_decode(const lsio_chain *ch, size_t from, const void *src, size_t srclen,
                      uint8_t *dst, size_t dstcap, const uint8_t **res, size_t *reslen)
{
    codec_tls *t = codec_tls_get();
    if (!t)
        return -ENOMEM;
    const uint8_t *cur = src;
    size_t curlen = srclen;
    int where = -1; /* -1: src, 0/1: scratch, 2: dst */
    size_t limit = (ch->decoded_size > SIZE_MAX / 4 ? SIZE_MAX / 2 : ch->decoded_size * 2) +
                   (srclen > (1u << 20) ? srclen * 4 : (4u << 20));
    for (size_t i = ch->n; i-- > from;) {
        const stage *s = &ch->st[i];
        const lsio_codec *c = s->c;
        size_t outlen = 0;
        int rc;
        if (s->kind == CODEC_VIEW) {
            rc = c->ops->decode(c, &s->in, cur, curlen, NULL, 0, &outlen);
        } else if (s->kind == CODEC_INPLACE && where >= 0) {
            size_t cap = where == 2 ? dstcap : t->cap[where];
            rc = c->ops->decode(c, &s->in, cur, curlen, (void *)cur, cap, &outlen);
        } else {
            uint8_t *out;
            size_t cap;
            int w;
            if ((int)i == ch->t_dst) {
                out = dst;
                cap = dstcap;
                w = 2;
            } else {
                w = where == 0 ? 1 : 0;
                cap = s->dec_size != SIZE_MAX ? s->dec_size : (curlen < 4096 ? 16384 : curlen * 4);
                if (!(out = codec_tls_scratch(t, w, cap ? cap : 1)))
                    return -ENOMEM;
            }
            for (;;) {
                rc = c->ops->decode(c, &s->in, cur, curlen, out, cap, &outlen);
                if (rc != -LSIO_ESIZE || s->dec_size != SIZE_MAX || w == 2 || cap >= limit)
                    break;
                cap = cap > limit / 4 ? limit : cap * 4;
                if (!(out = codec_tls_scratch(t, w, cap)))
                    return -ENOMEM;
            }
            cur = out;
            where = w;
        }
        if (rc < 0)
            return rc;
        if (s->dec_size != SIZE_MAX && outlen != s->dec_size)
            return size_mismatch(s, outlen);
        curlen = outlen;
    }
    *res = cur;
    *reslen = curlen;
    return 0;
}

int lsio_chain_decode(const lsio_chain *ch, const void *src, size_t srclen, void *dst,
                      size_t dstlen)
{
    if (ch->strings)
        return lsio_error(-EINVAL, "codec chain: strings decode with lsio_chain_decode_strings");
    if (dstlen < ch->decoded_size)
        return lsio_error(-EINVAL, "codec chain: %zu bytes of room for a %zu-byte chunk",
                          dstlen, ch->decoded_size);
    const uint8_t *res;
    size_t reslen;
    int rc = run_decode(ch, 0, src, srclen, dst, ch->decoded_size, &res, &reslen);
    if (rc < 0)
        return rc;
    if (reslen != ch->decoded_size)
        return lsio_error(-LSIO_ESIZE, "codec chain: decoded %zu bytes, expected %zu", reslen,
                          ch->decoded_size);
    if (res != dst && reslen)
        memcpy(dst, res, reslen);
    return 0;
}

int lsio_chain_can_decode_range(const lsio_chain *ch) { return ch->range_at >= 0; }

/* The encoded bytes the range stage (a blosc compressor) sees: the stages
 * after it in encoding order are views (checksums) that check and trim. */
static int range_stage_input(const lsio_chain *ch, const void *src, size_t srclen,
                             const stage **s, const uint8_t **res, size_t *reslen)
{
    *s = &ch->st[ch->range_at];
    return run_decode(ch, (size_t)ch->range_at + 1, src, srclen, NULL, 0, res, reslen);
}

int lsio_chain_decode_range(const lsio_chain *ch, const void *src, size_t srclen, size_t off,
                            size_t len, void *dst)
{
    if (ch->range_at < 0)
        return -LSIO_EUNSUPPORTED;
    if (off > ch->decoded_size || len > ch->decoded_size - off)
        return lsio_error(-EINVAL, "codec chain: bytes %zu..%zu of a %zu-byte chunk", off,
                          off + len, ch->decoded_size);
    const stage *s;
    const uint8_t *res;
    size_t reslen;
    int rc = range_stage_input(ch, src, srclen, &s, &res, &reslen);
    return rc < 0 ? rc
                  : s->c->ops->decode_range(s->c, &s->in, res, reslen, s->dec_size, off, len, dst);
}

int lsio_chain_can_decode_sink(const lsio_chain *ch)
{
    return ch->range_at >= 0 && ch->st[ch->range_at].c->ops->decode_sink;
}

int lsio_chain_decode_sink(const lsio_chain *ch, const void *src, size_t srclen,
                           const lsio_chunk_sink *sink)
{
    if (!lsio_chain_can_decode_sink(ch) || !sink || !sink->esize)
        return -LSIO_EUNSUPPORTED;
    const stage *s;
    const uint8_t *res;
    size_t reslen;
    int rc = range_stage_input(ch, src, srclen, &s, &res, &reslen);
    return rc < 0 ? rc : s->c->ops->decode_sink(s->c, res, reslen, s->dec_size, sink);
}

int lsio_chain_encoded_span(const lsio_chain *ch, const void *head, size_t headlen, size_t off,
                            size_t len, lsio_enc_span *sp)
{
    /* a stage on the encoded side (a checksum) needs every byte */
    if (ch->range_at < 0 || (size_t)ch->range_at != ch->n - 1 ||
        !ch->st[ch->range_at].c->ops->enc_span)
        return -LSIO_EUNSUPPORTED;
    if (!head)
        return 0;
    if (off > ch->decoded_size || len > ch->decoded_size - off || len == 0)
        return lsio_error(-EINVAL, "codec chain: bytes %zu..%zu of a %zu-byte chunk", off,
                          off + len, ch->decoded_size);
    const stage *s = &ch->st[ch->range_at];
    return s->c->ops->enc_span(s->c, head, headlen, s->dec_size, off, len, sp);
}

/* Encode stages [from, n) from src; *out is malloc'd, or NULL when the
 * result is src itself (no stage). */
static int run_encode(const lsio_chain *ch, size_t from, const void *src, size_t srclen,
                      void **out, size_t *outlen)
{
    void *cur = NULL;
    const void *in = src;
    size_t inlen = srclen;
    for (size_t i = from; i < ch->n; i++) {
        const stage *s = &ch->st[i];
        void *next;
        size_t nlen;
        int rc = s->c->ops->encode(s->c, &s->in, in, inlen, &next, &nlen);
        free(cur);
        if (rc < 0)
            return rc;
        cur = next;
        in = next;
        inlen = nlen;
    }
    *out = cur;
    *outlen = inlen;
    return 0;
}

int lsio_chain_encode(const lsio_chain *ch, const void *src, size_t srclen, void **dst,
                      size_t *dstlen)
{
    if (ch->strings)
        return lsio_error(-EINVAL, "codec chain: strings encode with lsio_chain_encode_strings");
    if (srclen != ch->decoded_size)
        return lsio_error(-LSIO_ESIZE, "codec chain: %zu bytes to encode, a chunk is %zu",
                          srclen, ch->decoded_size);
    void *out;
    size_t n;
    int rc = run_encode(ch, 0, src, srclen, &out, &n);
    if (rc < 0)
        return rc;
    if (!out) {
        if (!(out = malloc(n ? n : 1)))
            return -ENOMEM;
        if (n)
            memcpy(out, src, n);
    }
    *dst = out;
    *dstlen = n;
    return 0;
}

int lsio_chain_decode_strings(const lsio_chain *ch, const void *src, size_t srclen,
                              uint64_t **offsets, uint8_t **data, size_t *datalen)
{
    if (!ch->strings)
        return lsio_error(-EINVAL, "codec chain: not a string array");
    const uint8_t *res;
    size_t reslen;
    int rc = run_decode(ch, (size_t)ch->vlen_at + 1, src, srclen, NULL, 0, &res, &reslen);
    if (rc < 0)
        return rc;
    return lsio_vlen_utf8_decode(res, reslen, ch->nelem, offsets, data, datalen);
}

int lsio_chain_encode_strings(const lsio_chain *ch, const uint64_t *offsets, const void *data,
                              void **dst, size_t *dstlen)
{
    if (!ch->strings)
        return lsio_error(-EINVAL, "codec chain: not a string array");
    void *v;
    size_t vlen;
    int rc = lsio_vlen_utf8_encode(offsets, data, ch->nelem, &v, &vlen);
    if (rc < 0)
        return rc;
    void *out;
    size_t n;
    rc = run_encode(ch, (size_t)ch->vlen_at + 1, v, vlen, &out, &n);
    if (rc < 0) {
        free(v);
        return rc;
    }
    if (out) {
        free(v);
        v = out;
        vlen = n;
    }
    *dst = v;
    *dstlen = vlen;
    return 0;
}
