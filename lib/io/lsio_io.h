/*
 * lsio_io.h — level 1 of LSIO: move bytes between storage and memory.
 *
 * One interface, several backends: `uring` (io_uring, local files), `posix`
 * (a pread/pwrite thread pool: the portable fallback and the baseline to
 * beat), `http` (HTTP(S) range GETs) and `s3` (S3 and compatible stores).
 * lsio_io_open() picks the backend from the location's scheme.
 *
 * The unit of work is *get ranges*: one location, N byte ranges, one
 * user_data per range, one group. The call returns at once; each range then
 * completes on a completion queue (lsio_cq) as (data, length, user_data,
 * status). A malformed call fails at once and queues nothing; a range that
 * fails (missing file, past EOF, ...) fails alone, with a message naming the
 * location and the range, while the other ranges complete.
 *
 * Groups: every operation of group n completes before any operation of a
 * group m > n starts, so a caller can put what it needs first in a lower
 * group. Operations of one group run concurrently, in no set order.
 *
 * Buffers: a range read into pooled memory arrives in an lsio_buf: aligned,
 * reference counted, recycled by a bounded pool when the last reference goes.
 * A caller may instead hand its own destination (lsio_range.dest): the bytes
 * land there and no buffer is involved; or a list of destinations
 * (lsio_range.iov): the bytes land in its pieces one after another (a local
 * backend reads them with one readv per 1024 pieces, a remote one copies
 * each body piece where it goes), e.g. a stored block straight into the
 * rows of an array it belongs in.
 *
 * Planning: the core merges ranges of one call that lie within
 * opts.merge_gap bytes of each other into one request (their completions
 * then share one buffer) and splits ranges above opts.split_bytes into parts
 * read in parallel. Defaults depend on the backend.
 *
 * Thread safety: an lsio_io is thread-safe: any thread may submit to it.
 * An lsio_cq may be waited on by one thread at a time (submitting to it from
 * several threads is fine). lsio_buf reference counts are atomic.
 *
 * Details of the core (lib/io), as implemented:
 * - Groups are ordered at dispatch: only the lowest group that still has
 *   ranges queued or in flight hands work to the backend. A lower group
 *   submitted after a higher one started cannot stop what is already in
 *   flight; it takes over for everything not yet started.
 * - Negative offsets and LSIO_TO_END need the object's size: lsio_get_ranges
 *   then makes one synchronous size call (stat locally; a HEAD remotely) in
 *   the caller's thread. If it fails, those ranges fail with its message;
 *   ranges with absolute offsets go on. When the size is known, ranges past
 *   the end fail at once without IO.
 * - A zero-length range completes at once with status 0, len 0 (data = its
 *   dest), whatever the object.
 * - Memory: a pooled range takes its buffer only when its request is handed
 *   to the backend, so the pool bounds the bytes in flight plus those the
 *   caller holds. A pooled range larger than the pool's bound fails alone
 *   with -E2BIG (use dest for such ranges). When the pool is full, dispatch
 *   waits for releases; a caller that holds every buffer while waiting for
 *   more completions waits forever, so release what you have consumed.
 * - O_DIRECT (local backends): direct=1 widens every pooled read to the
 *   backend's alignment; direct=-1 does so for reads of 256 KiB and more
 *   that the page cache does not hold whole (asked with cachestat(2) on
 *   Linux >= 6.5, so warm data is copied from memory, not fetched again)
 *   once the backend has read a quarter of MemAvailable at its start
 *   ($LSIO_CACHE_BUDGET bytes) of uncached data through the cache: data
 *   that fits in memory is cached for the next read, a larger scan does
 *   not evict everything else;
 *   caller-dest reads go direct only when offset, length and address are
 *   aligned. A file system that refuses O_DIRECT is read buffered instead.
 * - opts.workers = 0 means one per online CPU (it is not an error).
 * - Environment (AUTO on a local location only): LSIO_BACKEND=posix|uring
 *   forces a backend; LSIO_DISABLE_URING=1 makes io_uring unavailable (the
 *   fallback to posix can then be tested).
 * - lsio_put runs in group 0. lsio_io_close must not race with other calls
 *   on the same io.
 */
#ifndef LSIO_IO_H
#define LSIO_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "lsio_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ buffers */

typedef struct lsio_buf lsio_buf;
typedef struct lsio_bufpool lsio_bufpool;

/* Bytes of a buffer (aligned to the pool's alignment), its valid length and
 * its capacity. */
void *lsio_buf_data(const lsio_buf *b);
size_t lsio_buf_len(const lsio_buf *b);
size_t lsio_buf_cap(const lsio_buf *b);
void lsio_buf_set_len(lsio_buf *b, size_t len); /* len <= cap */

/* Take another reference (returns b). */
lsio_buf *lsio_buf_ref(lsio_buf *b);
/* Drop a reference; the last one gives the memory back to its pool (or frees
 * it). NULL is accepted. */
void lsio_buf_release(lsio_buf *b);

typedef struct lsio_bufpool_stats {
    size_t max_bytes;  /* the bound */
    size_t in_use;     /* bytes held by live buffers */
    size_t cached;     /* bytes kept for reuse */
    size_t high_water; /* largest in_use seen */
    uint64_t allocs;   /* buffers made with fresh memory */
    uint64_t reuses;   /* buffers served from the cache */
} lsio_bufpool_stats;

/* Create a pool of at most max_bytes (in use plus cached), handing out
 * buffers aligned to `align` (a power of two; 4096 suits O_DIRECT). */
int lsio_bufpool_create(lsio_bufpool **out, size_t max_bytes, size_t align);
/* Destroy a pool. Buffers still alive keep it alive until released. */
void lsio_bufpool_destroy(lsio_bufpool *p);
/* Get a buffer of capacity >= len (len set to len). Blocks while the pool is
 * at its bound and others hold buffers, up to timeout_ms (-1: forever).
 * Returns -E2BIG if len alone exceeds the bound, -ETIMEDOUT on timeout. The
 * caller owns one reference. Memory is not zeroed. */
int lsio_bufpool_get(lsio_bufpool *p, size_t len, int timeout_ms, lsio_buf **out);
/* Non-blocking get: -EAGAIN when the pool is at its bound. */
int lsio_bufpool_tryget(lsio_bufpool *p, size_t len, lsio_buf **out);
void lsio_bufpool_stats_get(lsio_bufpool *p, lsio_bufpool_stats *st);
size_t lsio_bufpool_align(const lsio_bufpool *p);

/* A buffer viewing [off, off+len) of a parent (which it keeps alive). */
int lsio_buf_slice(lsio_buf *parent, size_t off, size_t len, lsio_buf **out);

/* A stand-alone heap buffer (no pool), for small objects. */
int lsio_buf_alloc(size_t len, size_t align, lsio_buf **out);

/* ---------------------------------------------------------------- backends */

typedef enum lsio_backend_kind {
    LSIO_BACKEND_AUTO = 0, /* from the scheme; local: uring, else posix */
    LSIO_BACKEND_URING,
    LSIO_BACKEND_POSIX,
    LSIO_BACKEND_HTTP,
    LSIO_BACKEND_S3,
} lsio_backend_kind;

/* Options of a backend. Start from LSIO_IO_OPTS_DEFAULT; zero means "the
 * backend's default" for every numeric field. */
typedef struct lsio_io_opts {
    lsio_backend_kind backend;
    unsigned workers;      /* threads (uring: one ring each); 0 = cores */
    unsigned depth;        /* operations in flight per worker; 0 = 64 */
    int direct;            /* O_DIRECT: -1 auto, 0 never, 1 always (fails
                              where the file system refuses it) */
    size_t pool_bytes;     /* bound of the buffer pool; 0 = 1 GiB */
    lsio_bufpool *pool;    /* use this pool instead of a private one */
    int64_t merge_gap;     /* merge ranges this close; -1 = never; 0 = default:
                              4 KiB local (uring, posix), 1 MiB http/s3 */
    int64_t split_bytes;   /* split ranges above this; -1 = never; 0 = default:
                              8 MiB local, 16 MiB http/s3 */
    /* remote backends (http, s3) */
    unsigned max_connections; /* 0 = 32 */
    unsigned retries;         /* attempts after the first; 0 = default 5 */
    unsigned timeout_ms;      /* per request; 0 = 30000 */
    unsigned deadline_ms;     /* total per range with retries; 0 = 120000 */
    int verify_tls;           /* -1 default (on), 0 off, 1 on */
    const char *region;       /* s3: overrides AWS_REGION */
    const char *endpoint;     /* s3: overrides AWS_ENDPOINT_URL */
    const char *profile;      /* s3: ~/.aws/credentials profile */
    int unsigned_requests;    /* s3: 1 = anonymous (public buckets) */
    int path_style;           /* s3: -1 auto, 0 virtual-hosted, 1 path */
    uint64_t multipart_threshold;  /* s3: puts this large go multipart; 0 = the
                                      environment's LSIO_S3_MULTIPART_THRESHOLD,
                                      else 64 MiB */
    uint64_t multipart_part_bytes; /* s3: bytes per part (S3 wants >= 5 MiB);
                                      0 = LSIO_S3_PART_SIZE, else 16 MiB */
} lsio_io_opts;

#define LSIO_IO_OPTS_DEFAULT                                                  \
    {                                                                         \
        .backend = LSIO_BACKEND_AUTO, .direct = -1, .verify_tls = -1,         \
        .path_style = -1                                                      \
    }

typedef struct lsio_io lsio_io;

/* Open the backend that serves `location` (a path, file://, http(s)://,
 * s3://bucket/...); only its scheme matters here. opts may be NULL for the
 * defaults. With LSIO_BACKEND_AUTO a local location gets `uring` and, where
 * io_uring is unavailable (disabled by sysctl, seccomp, old kernel), falls
 * back to `posix`: lsio_io_backend_name() tells which, and
 * lsio_io_fallback_reason() why. Returns 0 or a negative error (-EINVAL for
 * a bad option, -EPROTONOSUPPORT for an unknown scheme). */
int lsio_io_open(lsio_io **out, const char *location, const lsio_io_opts *opts);

/* Finish or cancel every operation in flight (cancelled ones complete with
 * -ECANCELED), join the threads, free everything. Buffers the caller still
 * holds stay valid until released. */
void lsio_io_close(lsio_io *io);

const char *lsio_io_backend_name(const lsio_io *io); /* "uring", "posix", ... */
const char *lsio_io_fallback_reason(const lsio_io *io); /* NULL if none */
lsio_bufpool *lsio_io_pool(lsio_io *io);

/* ------------------------------------------------------- completion queues */

typedef struct lsio_cq lsio_cq;

/* One completed range. Ownership: the receiver owns `buf` (one reference,
 * NULL when the range went to caller memory or failed) and `error`; both
 * are released by lsio_completion_release(). */
typedef struct lsio_completion {
    void *data;         /* the bytes (inside buf, or the caller's dest) */
    size_t len;         /* how many */
    lsio_buf *buf;      /* the buffer holding them, or NULL */
    uint64_t user_data; /* as given with the range */
    int status;         /* 0 or a negative error */
    char *error;        /* message naming location and range, or NULL */
    uint64_t offset;    /* success: where the bytes begin in the object; a
                           range counted from the end (negative offset,
                           suffix) resolved, so offset + len is then the
                           object's size */
    uint64_t object_size; /* success: the whole object's size when the
                           backend learned it with the bytes (http/s3: the
                           Content-Range total or a 200's length), else 0
                           (local backends: ask lsio_io_size) */
} lsio_completion;

void lsio_completion_release(lsio_completion *c);

/* Create and destroy a queue. Destroy only when nothing is pending on it. */
int lsio_cq_create(lsio_cq **out);
void lsio_cq_destroy(lsio_cq *cq);

/* Wait until at least one completion is there (or timeout_ms passes; -1
 * waits forever), then move up to max into out. Returns how many (0 on
 * timeout) or a negative error. */
int lsio_cq_wait(lsio_cq *cq, lsio_completion *out, size_t max, int timeout_ms);
/* Same without waiting. */
int lsio_cq_poll(lsio_cq *cq, lsio_completion *out, size_t max);
/* Ranges submitted to this queue that have not been taken out of it yet. */
size_t lsio_cq_pending(lsio_cq *cq);

/* Instead of queueing, call fn(ctx, c) for every completion, on the IO
 * thread that finished it (it must not block for long; it owns c's
 * references). Set before submitting; NULL restores queueing. */
typedef void (*lsio_cq_fn)(void *ctx, lsio_completion *c);
void lsio_cq_set_callback(lsio_cq *cq, lsio_cq_fn fn, void *ctx);

/* -------------------------------------------------------------- get ranges */

#define LSIO_TO_END INT64_MIN /* length: up to the end of the object */

typedef struct lsio_range {
    int64_t offset;     /* from the start; negative: from the end */
    int64_t length;     /* > 0, or LSIO_TO_END; 0 completes empty at once */
    void *dest;         /* NULL: a pooled buffer; else caller memory of at
                           least `length` bytes that must stay valid until
                           the range completes (length may not be TO_END) */
    uint64_t user_data;
    /* Instead of dest (both set is an error): iovcnt > 0 pieces of caller
     * memory whose lengths add up to `length` (not TO_END), filled in
     * order. The array and the memory must stay valid until the range
     * completes; its completion has data NULL. Never merged with other
     * ranges nor read with O_DIRECT (the pieces need not be aligned); split
     * like a dest range. */
    const struct iovec *iov;
    size_t iovcnt;
} lsio_range;

/* Read n ranges of `location` (a path or URL served by this backend) into
 * cq (NULL: the io's own default queue, see lsio_io_cq()). Returns 0 once
 * all are queued, or a negative error at once (and queues nothing) for a
 * malformed call: NULL arguments, a location of another backend, a negative
 * length, dest with TO_END. `location` is copied. */
int lsio_get_ranges(lsio_io *io, lsio_cq *cq, const char *location,
                    const lsio_range *ranges, size_t n, uint32_t group);

lsio_cq *lsio_io_cq(lsio_io *io);

/* Synchronous helpers (they use a private queue, so they never take another
 * caller's completions). */

/* Size of an object. */
int lsio_io_size(lsio_io *io, const char *location, uint64_t *size);
/* Read a whole object (or one range) into a new buffer the caller owns. */
int lsio_io_read(lsio_io *io, const char *location, int64_t offset,
                 int64_t length, lsio_buf **out);

/* ------------------------------------------------------- writing and lists */

/* Write a whole object. It lands atomically: local files are written aside
 * and renamed (fsync first with LSIO_PUT_FSYNC), directories made as needed;
 * S3 uses PUT or, for large objects, a multipart upload that is aborted on
 * failure. Completes on cq with user_data like a range. `data` must stay
 * valid until then. */
enum { LSIO_PUT_FSYNC = 1 };
int lsio_put(lsio_io *io, lsio_cq *cq, const char *location, const void *data,
             size_t len, uint64_t user_data, unsigned flags);
/* Remove an object; a missing one is not an error. Synchronous. */
int lsio_delete(lsio_io *io, const char *location);
/* Synchronous whole-object write (lsio_put + wait). */
int lsio_write(lsio_io *io, const char *location, const void *data, size_t len,
               unsigned flags);

/* Call fn for every object whose location starts with `prefix` (local: files
 * under a directory, recursively; s3: ListObjectsV2). Locations are passed
 * in full, with their sizes. fn returns nonzero to stop. */
typedef int (*lsio_list_fn)(void *ctx, const char *location, uint64_t size);
int lsio_list(lsio_io *io, const char *prefix, lsio_list_fn fn, void *ctx);

/* ---------------------------------------------------------------- counters */

typedef struct lsio_io_stats {
    uint64_t ranges;        /* ranges completed */
    uint64_t requests;      /* backend requests made (after merge/split) */
    uint64_t bytes;         /* bytes delivered */
    uint64_t errors;        /* ranges that failed */
    uint64_t retries;       /* remote retries */
    uint64_t direct_reads;  /* uring/posix reads done with O_DIRECT */
} lsio_io_stats;

void lsio_io_stats_get(lsio_io *io, lsio_io_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* LSIO_IO_H */
