/*
 * io_core.h — internals of the IO core (lib/io), shared by its files and its
 * unit tests; neither public nor part of the backend contract.
 *
 * Range resolution and request planning are pure functions here so that
 * tests can check the merge/split/alignment decisions without any IO.
 */
#ifndef LSIO_IO_CORE_H
#define LSIO_IO_CORE_H

#include "io_backend.h"

/* Completion queue hooks used by the core. */
void lsio__cq_expect(lsio_cq *cq, size_t n);          /* n more ranges will arrive */
void lsio__cq_push(lsio_cq *cq, lsio_completion *c);  /* takes c's references */

/* One caller range during planning. */
typedef struct lsio__rng {
    int64_t orig_off, orig_len; /* as given */
    uint64_t off;               /* resolved absolute offset */
    size_t len;                 /* resolved length */
    unsigned char *dest;        /* caller memory or NULL (pooled) */
    const struct iovec *iov;    /* caller pieces instead (dest NULL) */
    size_t iovcnt;
    int open_end;               /* set before resolving (LSIO_OPEN_*): read
                                   open-ended, the object's size unknown (len
                                   is SIZE_MAX and, for a suffix, off is 0
                                   until it completes) */
    uint64_t user_data;
    int status;                 /* nonzero: completes at once with this error */
    char *error;                /* its message (malloc'd) */
    size_t req;                 /* planned request that serves it */
    size_t req_off;             /* where its bytes start in that request */
} lsio__rng;

/* One planned request: a span of the object read into one buffer (pooled)
 * or into one caller dest, in nparts parts of part_len bytes (the last one
 * shorter) read in parallel. */
typedef struct lsio__req {
    uint64_t off;      /* file offset (aligned down when direct) */
    size_t len;        /* bytes read (widened when direct) */
    size_t want;       /* bytes from off that must arrive for the last range */
    size_t head;       /* off + head = first byte a range asked for */
    unsigned char *dest; /* caller dest or NULL (pooled buffer of len) */
    const struct iovec *iov; /* caller pieces instead (dest NULL) */
    size_t iovcnt;
    size_t part_len;   /* split size (== len when not split) */
    size_t nparts;
    size_t first;      /* its ranges: order[first .. first+nrng) */
    size_t nrng;
    int direct;        /* parts are aligned for O_DIRECT */
    int open_end;      /* LSIO_OPEN_*: one open-ended range; len = the most
                          accepted; a suffix's off = its byte count */
} lsio__req;

typedef struct lsio__plan_params {
    int64_t merge_gap;   /* < 0 never */
    int64_t split_bytes; /* <= 0 never */
    size_t direct_align; /* 0: no O_DIRECT */
    int direct;          /* -1 auto (large reads), 0 never, 1 always */
    size_t pool_max;     /* bound of the pool: larger pooled requests fail */
} lsio__plan_params;

/* Reads at or above this many bytes use O_DIRECT in auto mode. */
#define LSIO__DIRECT_AUTO_MIN (256u << 10)
/* Merged requests stay below this (and below split_bytes). */
#define LSIO__MERGE_MAX (16u << 20)

/* Resolve r (orig_off/orig_len) against the object size (have_size: size
 * is known; when it is not needed, pass 0). On a bad range sets r->status
 * and r->error naming `location`. size_err/size_msg: the size call's
 * failure, given to ranges that needed it. */
void lsio__resolve(lsio__rng *r, const char *location, int have_size, uint64_t size,
                   int size_err, const char *size_msg);

/* Plan the ranges with status 0 and len > 0: caller-dest ranges (dest or
 * iov) get a request each (iov: never direct); pooled ones are sorted and
 * merged within merge_gap, large ones split, pooled ones widened for
 * O_DIRECT. Sets r->req/req_off.
 * *reqs and *order are malloc'd (order lists range indices by request).
 * Ranges too large for the pool get -E2BIG. Returns 0 or -ENOMEM. */
int lsio__plan(const lsio__plan_params *pp, const char *location, lsio__rng *r, size_t n,
               lsio__req **reqs, size_t *nreq, size_t **order);

/* The same into caller arrays of n entries each (keys: scratch); returns
 * the number of requests. Cannot fail. */
typedef struct lsio__key {
    uint64_t off;
    size_t idx;
} lsio__key;
size_t lsio__plan_into(const lsio__plan_params *pp, const char *location, lsio__rng *r,
                       size_t n, lsio__req *reqs, size_t *order, lsio__key *keys);

/* lsio_io_open with a given backend (tests drive the core with a mock);
 * forced NULL: choose as lsio_io_open does. */
int lsio__io_open_with(lsio_io **out, const char *location, const lsio_io_opts *opts,
                       const lsio_backend *forced);

/* Check that io serves `location`; give its backend, the backend's state
 * and the path the backend sees (io_sync.c). */
int lsio__io_target(lsio_io *io, const char *location, const lsio_backend **be, void **state,
                    const char **path);

/* Local path of a location: strips file:// (and file://localhost). */
const char *lsio__strip_file_scheme(const char *location);

#endif
