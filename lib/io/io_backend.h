/*
 * io_backend.h — the contract between the IO core (lib/io) and a backend
 * (lib/uring, lib/posix, lib/http). Not public: only backends include it.
 *
 * The core owns everything common: validating and resolving ranges
 * (negative offsets, TO_END), planning (merge, split, O_DIRECT alignment),
 * groups, buffers from the pool, completion queues and error messages. A
 * backend only moves the bytes of one lsio_op at a time: it reads
 * [offset, offset+len) of `location` into dst (or, for LSIO_OP_PUT, writes
 * len bytes from dst as a whole object), sets `done` and `status`, and
 * calls lsio__op_done(). It must call it exactly once per op it accepted,
 * from any thread, also when stopping (status -ECANCELED).
 */
#ifndef LSIO_IO_BACKEND_H
#define LSIO_IO_BACKEND_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lsio_io.h"

typedef enum lsio_op_kind {
    LSIO_OP_READ = 0,
    LSIO_OP_PUT,   /* whole object, atomic (write aside + rename, or PUT) */
} lsio_op_kind;

typedef struct lsio_op lsio_op;
struct lsio_op {
    lsio_op *next;          /* free for the backend's queues while it holds the op */
    lsio_op_kind kind;
    const char *location;   /* path (local backends: scheme stripped) or URL */
    uint64_t offset;        /* absolute, resolved by the core */
    size_t len;             /* bytes to read (or write) */
    size_t want;            /* reads: bytes that must arrive for success
                               (< len when the core widened the read for
                               O_DIRECT alignment and EOF may come first) */
    unsigned char *dst;     /* where the bytes go (source for PUT); NULL
                               for a scattered read (iov) */
    const struct iovec *iov; /* reads: the caller's pieces instead of dst;
                               the op's bytes go to bytes [iov_skip,
                               iov_skip + len) of them, in order (use
                               lsio__op_put / lsio__op_iov) */
    size_t iovcnt;
    size_t iov_skip;
    size_t iov_i, iov_at;   /* cursor of those helpers: piece iov_i starts
                               at byte iov_at of the pieces */
    int direct;             /* core: offset, len and dst are aligned for
                               O_DIRECT; the backend may use it or not */
    unsigned flags;         /* LSIO_PUT_* for PUT */
    int open_ended;         /* reads, backends with `open_ended` only:
                               LSIO_OPEN_FROM: from offset to the end of
                               the object, whose size the core does not
                               know; LSIO_OPEN_SUFFIX: the last `offset`
                               bytes (an HTTP suffix range), the backend
                               setting offset to where they start when it
                               succeeds. dst is NULL and len is the most the
                               core accepts (the pool's bound); the backend
                               takes a buffer for the bytes
                               (lsio_bufpool_tryget on lsio_io_pool(), else
                               lsio_buf_alloc), sets buf and done, and fails
                               the op with -E2BIG past len and -LSIO_ERANGE
                               when offset is past the end (suffix: longer
                               than the object). */
    /* set by the backend before lsio__op_done */
    size_t done;            /* bytes moved (reads stop early only at EOF) */
    int status;             /* 0 or negative error */
    char *error;            /* optional malloc'd detail (curl/HTTP message);
                               the core adds location and range */
    int used_direct;        /* the read went through O_DIRECT */
    lsio_buf *buf;          /* open-ended reads: the bytes (buf's length =
                               done); the core takes this reference, also
                               on failure */
    unsigned attempts;      /* remote: requests made */
    uint64_t object_size;   /* reads: the whole object's size where the
                               answer told it (HTTP Content-Range total, or
                               a 200's length), else 0 */
    void *backend_data;     /* free for the backend */
    /* core-private from here on */
    void *core;
};

typedef struct lsio_backend {
    const char *name;
    /* Start the backend's threads for io. On failure return a negative error
     * and, where useful, set *why to a malloc'd reason (used for the
     * uring→posix fallback message). */
    int (*start)(lsio_io *io, const lsio_io_opts *opts, void **state, char **why);
    /* Take an op (thread-safe, must not block on IO). */
    void (*submit)(void *state, lsio_op *op);
    /* Synchronous: size of an object; sets lsio_error on failure. */
    int (*size)(void *state, const char *location, uint64_t *size);
    /* Synchronous delete; missing is success. NULL: -ENOTSUP. */
    int (*del)(void *state, const char *location);
    /* Synchronous listing. NULL: -ENOTSUP. */
    int (*list)(void *state, const char *prefix, lsio_list_fn fn, void *ctx);
    /* Complete or cancel every accepted op, join threads, free state. */
    void (*stop)(void *state);
    int64_t merge_gap;      /* default merge gap in bytes (-1 never) */
    int64_t split_bytes;    /* default split threshold (-1 never) */
    size_t direct_align;    /* alignment wanted for O_DIRECT (0: never) */
    /* Takes open-ended reads (see lsio_op.open_ended): a whole-object read
     * (offset >= 0, LSIO_TO_END) then costs one request instead of a
     * synchronous size request followed by the read, which matters where a
     * request is a network round trip (http, s3). */
    unsigned open_ended;    /* LSIO_OPEN_* kinds it takes */
} lsio_backend;

#define LSIO_OPEN_FROM 1u   /* [offset, end) */
#define LSIO_OPEN_SUFFIX 2u /* the last `offset` bytes */

/* Called by the backend when an op is finished (any thread). */
void lsio__op_done(lsio_op *op);

/* Read destinations, dst or iov alike. lsio__op_put copies n bytes to byte
 * `at` of the op's destination (at + n <= len). lsio__op_iov describes
 * bytes [at, at + n) of it in at most max iovecs (a scattered op: the
 * pieces, the first and last cut to fit; else one) and returns how many
 * (their lengths may add up to less than n when max is reached). Both are
 * quick for increasing `at` (a cursor in the op). */
void lsio__op_put(lsio_op *op, size_t at, const void *src, size_t n);
size_t lsio__op_iov(lsio_op *op, size_t at, size_t n, struct iovec *out, size_t max);

/* The backends the core knows (defined in their libraries). */
extern const lsio_backend lsio_backend_posix;
extern const lsio_backend lsio_backend_uring;
extern const lsio_backend lsio_backend_http; /* http:// and https:// */
extern const lsio_backend lsio_backend_s3;   /* s3:// */

/* ------------------------------------------------------------------------
 * Helpers for local backends (lib/io/localfs.c), shared by posix and uring.
 * Local backends receive plain paths (the core strips file://) in op->location
 * and in size/del/list; the core gives listed paths back in the caller's form.
 * All set lsio_error()'s message on failure and return a negative errno.
 */

/* stat(): size of a regular file; a directory is -EISDIR naming the path. */
int lsio__local_size(const char *path, uint64_t *size);
/* Does the page cache hold every page of bytes [off, off + len) of the
 * file (up to its end)? 1 yes, 0 no, -1 not known (a kernel before 6.5 has
 * no cachestat(2); then it is not asked again). Sets no message. Local
 * backends read such a range buffered even when O_DIRECT is "auto": a
 * direct read would fetch from the device what memory already holds. */
int lsio__local_cached(const char *path, uint64_t off, uint64_t len);
/* The O_DIRECT "auto" policy of the local backends. A read the page cache
 * holds is copied from it. Otherwise a backend reads through the page cache
 * while its budget lasts, so data that fits in memory stays cached for the
 * next read (epochs, a second look at the same region), as with any other
 * reader; past the budget, uncached reads go O_DIRECT, so a scan larger
 * than memory does not push everything else out of the cache. The budget:
 * $LSIO_CACHE_BUDGET bytes (K/M/G/T; 0: every uncached read direct), else a
 * quarter of MemAvailable when the backend starts. */
typedef struct lsio__cache_budget {
    _Atomic uint64_t left;
} lsio__cache_budget;
void lsio__cache_budget_init(lsio__cache_budget *b);
/* 1: read [off, off + len) of path buffered (cached, or taken from the
 * budget); 0: read it direct. */
int lsio__local_buffered(lsio__cache_budget *b, const char *path, uint64_t off, uint64_t len);
/* unlink(); a missing file is success; a directory is -EISDIR. */
int lsio__local_delete(const char *path);
/* Every regular file whose path starts with prefix (a directory: all files
 * under it, recursively), with its size, each directory's entries in name
 * order; temp files of puts in progress are skipped. fn nonzero stops. */
int lsio__local_list(const char *prefix, lsio_list_fn fn, void *ctx);
/* mkdir -p of the directory that holds path. */
int lsio__mkdir_parents(const char *path);
/* A fresh temp name beside path ("<dir>/.<name>.lsio-tmp.<pid>.<n>"),
 * malloc'd; NULL when out of memory. */
char *lsio__temp_name(const char *path);
/* Finish a put whose bytes are in tmp: fsync (LSIO_PUT_FSYNC) the file
 * descriptor, close it, rename tmp over path (and fsync the directory);
 * tmp is unlinked on failure. fd is closed in every case. */
int lsio__put_commit(int fd, const char *tmp, const char *path, unsigned flags);
/* The whole synchronous put: parents, temp, write, commit (what posix does;
 * a uring backend may write through its ring and call the pieces above). */
int lsio__local_put(const char *path, const void *data, size_t len, unsigned flags);
/* Run a LSIO_OP_PUT op with lsio__local_put: sets status, done and error. */
void lsio__local_put_op(lsio_op *op);
/* Write all of buf at off (retrying EINTR/EAGAIN, continuing short writes). */
int lsio__pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

#endif /* LSIO_IO_BACKEND_H */
