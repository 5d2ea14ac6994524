/*
 * uring.c — the io_uring backend for local files.
 *
 * W worker threads, one ring each (created on the worker's own thread so
 * the ring can be SINGLE_ISSUER + DEFER_TASKRUN where the kernel allows).
 * An op handed to submit() goes to a worker: the worker's own thread (the
 * core refills from completions) appends to its private backlog without a
 * lock; another thread appends to the worker's locked inbox and, when the
 * worker sleeps, wakes it through an eventfd polled on its ring.
 *
 * Each op in flight holds a slot: an index into the ring's sparse table of
 * fixed files. A read is one linked chain, openat(O_DIRECT or buffered)
 * straight into the slot → read from the slot → close the slot. The read is
 * hard-linked to the close, so the file is closed whatever the read
 * returned; a failed open cancels the rest. When the chain's CQEs are all
 * in, advance() decides: done, or go on (a short read that is not EOF and
 * not enough: reopen and read the rest; -EAGAIN/-EINTR: again; O_DIRECT
 * refused with EINVAL: remember the file system and read buffered). Where
 * the kernel has no fixed-file table, plain fds are used: open, then
 * read → close.
 *
 * At most `depth` ops per ring are in flight; the rest wait in the
 * backlog. stop() lets the ops in flight finish, completes queued ones with
 * -ECANCELED, joins the workers and frees rings, fds and memory.
 *
 * Puts, size, delete and list are synchronous, through the local helpers
 * of lib/io (localfs.c); a put runs on a worker thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_backend.h"

enum { K_WAKE = 0, K_OPEN = 1, K_READ = 2, K_CLOSE = 3 };
#define BIT(k) (1u << (k))
#define MAX_REFUSED 16
#define DIR_CACHE 32
#define MAX_READ (1u << 30) /* bytes asked by one read SQE */
#define MAX_DEPTH 4096      /* ops in flight per ring (3 SQEs each) */

typedef struct uring_state uring_state;
typedef struct uworker uworker;

/* One op in flight: its fixed-file index and where its chain stands. */
typedef struct uslot {
    uworker *w;
    lsio_op *op;
    unsigned idx;      /* fixed-file index (== slot number) */
    int fd;            /* plain fd when the ring has no file table */
    unsigned sent;     /* kinds of the chain in flight (BIT(K_*)) */
    unsigned pending;  /* their CQEs still to come */
    int res[4];
    int file_open;     /* the slot (or fd) holds an open file */
    int direct;        /* opened / to open with O_DIRECT */
    int reopen;        /* close, then open buffered */
    int eof, err;
    unsigned nreads;
    size_t done;
    struct iovec *win; /* a scattered read's pieces for its readv (IOV_MAX,
                          made the first time the slot takes one) */
    struct uslot *next_free;
} __attribute__((aligned(8))) uslot;

typedef struct dir_entry {
    char *dir;
    size_t len;
    int refused;
} dir_entry;

struct uworker {
    uring_state *st;
    unsigned id;
    pthread_t th;
    int started;             /* thread created */
    struct io_uring ring;
    int ring_ok;
    int fixed;               /* sparse file table registered */
    int efd;
    /* inbox from other threads */
    pthread_mutex_t mu;
    lsio_op *ihead, *itail;
    atomic_int sleeping;
    /* worker-thread only */
    lsio_op *bhead, *btail;  /* backlog */
    unsigned nbacklog;
    uslot *slots, *free_slots;
    unsigned inflight;
    dir_entry cache[DIR_CACHE];
    unsigned cache_next, cache_gen;
    /* start-up report */
    int init_rc;
    char *init_why;
};

struct uring_state {
    unsigned nworkers, depth;
    int direct_opt;
    lsio__cache_budget budget; /* auto: buffered reads of uncached data left */
    uworker *w;
    atomic_uint rr;
    atomic_int stopping;
    /* start-up barrier */
    pthread_mutex_t smu;
    pthread_cond_t scv;
    unsigned reported;
    /* file systems that refused O_DIRECT */
    pthread_mutex_t refused_mu;
    dev_t refused[MAX_REFUSED];
    atomic_uint nrefused, refused_gen;
};

static _Thread_local uworker *tls_worker;

/* ------------------------------------------------ O_DIRECT refusal memory */

static int dev_refused(uring_state *st, dev_t dev)
{
    unsigned n = atomic_load(&st->nrefused);
    for (unsigned i = 0; i < n && i < MAX_REFUSED; i++)
        if (st->refused[i] == dev)
            return 1;
    return 0;
}

static size_t dir_len(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? (size_t)(s - path) : 0;
}

static void cache_put(uworker *w, const char *path, size_t len, int refused)
{
    for (unsigned i = 0; i < DIR_CACHE; i++) {
        dir_entry *e = &w->cache[i];
        if (e->dir && e->len == len && !memcmp(e->dir, path, len)) {
            e->refused = refused;
            return;
        }
    }
    dir_entry *e = &w->cache[w->cache_next++ % DIR_CACHE];
    char *d = malloc(len + 1);
    if (!d)
        return;
    memcpy(d, path, len);
    d[len] = 0;
    free(e->dir);
    *e = (dir_entry){.dir = d, .len = len, .refused = refused};
}

static void cache_clear(uworker *w)
{
    for (unsigned i = 0; i < DIR_CACHE; i++) {
        free(w->cache[i].dir);
        w->cache[i].dir = NULL;
    }
}

/* Does path's file system refuse O_DIRECT? Free (no syscall) until one has;
 * then one stat per directory, cached per worker. */
static int direct_refused(uworker *w, const char *path)
{
    uring_state *st = w->st;
    if (!atomic_load(&st->nrefused))
        return 0;
    unsigned gen = atomic_load(&st->refused_gen);
    if (gen != w->cache_gen) {
        cache_clear(w);
        w->cache_gen = gen;
    }
    size_t n = dir_len(path);
    for (unsigned i = 0; i < DIR_CACHE; i++) {
        dir_entry *e = &w->cache[i];
        if (e->dir && e->len == n && !memcmp(e->dir, path, n))
            return e->refused;
    }
    char dir[PATH_MAX];
    if (n >= sizeof dir)
        return 0;
    memcpy(dir, n ? path : ".", n ? n : 1);
    dir[n ? n : 1] = 0;
    struct stat sb;
    int r = stat(dir, &sb) == 0 && dev_refused(st, sb.st_dev);
    cache_put(w, path, n, r);
    return r;
}

static void refuse(uworker *w, const char *path)
{
    uring_state *st = w->st;
    struct stat sb;
    if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
        return; /* a directory refuses O_DIRECT, its file system may not */
    pthread_mutex_lock(&st->refused_mu);
    unsigned n = atomic_load(&st->nrefused);
    if (n < MAX_REFUSED && !dev_refused(st, sb.st_dev)) {
        st->refused[n] = sb.st_dev;
        atomic_store(&st->nrefused, n + 1);
        atomic_fetch_add(&st->refused_gen, 1);
    }
    pthread_mutex_unlock(&st->refused_mu);
    unsigned gen = atomic_load(&st->refused_gen);
    if (gen != w->cache_gen) {
        cache_clear(w);
        w->cache_gen = gen;
    }
    cache_put(w, path, dir_len(path), 1);
}

/* ------------------------------------------------------------- the chains */

static struct io_uring_sqe *get_sqe(uworker *w)
{
    struct io_uring_sqe *sqe;
    while (!(sqe = io_uring_get_sqe(&w->ring)))
        io_uring_submit(&w->ring); /* SQ full: flush (sized so it cannot stay full) */
    return sqe;
}

static void *tag(uslot *s, unsigned kind) { return (void *)((uintptr_t)s | kind); }

/* Queue the next step of s: kinds is a set of BIT(K_OPEN|K_READ|K_CLOSE),
 * linked in that order. */
static void phase(uslot *s, unsigned kinds)
{
    uworker *w = s->w;
    lsio_op *op = s->op;
    if (!w->fixed && (kinds & BIT(K_OPEN)))
        kinds = BIT(K_OPEN); /* a plain fd must be known before the read */
    s->sent = kinds;
    s->pending = 0;
    struct io_uring_sqe *sqe;
    if (kinds & BIT(K_OPEN)) {
        int flags = O_RDONLY | (s->direct ? O_DIRECT : 0);
        sqe = get_sqe(w);
        if (w->fixed) {
            io_uring_prep_openat_direct(sqe, AT_FDCWD, op->location, flags, 0, s->idx);
            sqe->flags |= IOSQE_IO_LINK;
        } else {
            io_uring_prep_openat(sqe, AT_FDCWD, op->location, flags | O_CLOEXEC, 0);
        }
        io_uring_sqe_set_data(sqe, tag(s, K_OPEN));
        s->pending++;
    }
    if (kinds & BIT(K_READ)) {
        size_t left = op->len - s->done;
        unsigned n = left > MAX_READ ? MAX_READ : (unsigned)left;
        sqe = get_sqe(w);
        int fd = w->fixed ? (int)s->idx : s->fd;
        size_t nv;
        if (op->iov && (nv = lsio__op_iov(op, s->done, n, s->win, IOV_MAX)) > 0)
            io_uring_prep_readv(sqe, fd, s->win, (unsigned)nv, op->offset + s->done);
        else
            io_uring_prep_read(sqe, fd, op->dst + s->done, n, op->offset + s->done);
        if (w->fixed)
            sqe->flags |= IOSQE_FIXED_FILE;
        if (kinds & BIT(K_CLOSE))
            sqe->flags |= IOSQE_IO_HARDLINK; /* close whatever the read gave */
        io_uring_sqe_set_data(sqe, tag(s, K_READ));
        s->pending++;
    }
    if (kinds & BIT(K_CLOSE)) {
        sqe = get_sqe(w);
        if (w->fixed)
            io_uring_prep_close_direct(sqe, s->idx);
        else
            io_uring_prep_close(sqe, s->fd);
        io_uring_sqe_set_data(sqe, tag(s, K_CLOSE));
        s->pending++;
    }
}

static void finish(uslot *s);

static void start_op(uworker *w, lsio_op *op)
{
    op->attempts = 1;
    if (op->kind == LSIO_OP_PUT) {
        lsio__local_put_op(op);
        lsio__op_done(op);
        return;
    }
    uslot *s = w->free_slots;
    w->free_slots = s->next_free;
    w->inflight++;
    s->op = op;
    s->fd = -1;
    s->file_open = s->reopen = s->eof = s->err = 0;
    s->nreads = 0;
    s->done = 0;
    if (op->iov && !s->win && !(s->win = malloc(IOV_MAX * sizeof *s->win))) {
        s->err = -ENOMEM;
        finish(s);
        return;
    }
    s->direct = op->direct && w->st->direct_opt != 0 && !direct_refused(w, op->location);
    /* auto: what the page cache holds, or can still take, goes through it */
    if (s->direct && w->st->direct_opt < 0 &&
        lsio__local_buffered(&w->st->budget, op->location, op->offset, op->len))
        s->direct = 0;
    phase(s, BIT(K_OPEN) | BIT(K_READ) | BIT(K_CLOSE));
}

static void finish(uslot *s)
{
    uworker *w = s->w;
    lsio_op *op = s->op;
    op->done = s->done;
    op->status = s->err;
    op->used_direct = s->direct;
    s->op = NULL;
    s->next_free = w->free_slots;
    w->free_slots = s;
    w->inflight--;
    lsio__op_done(op);
}

static int again(int r) { return r == -EAGAIN || r == -EINTR; }

/* Every CQE of s's chain is in: take the results, then the next step. */
static void advance(uslot *s)
{
    uworker *w = s->w;
    lsio_op *op = s->op;
    unsigned sent = s->sent;
    s->sent = 0;
    int open_failed = 0;
    if (sent & BIT(K_OPEN)) {
        int r = s->res[K_OPEN];
        if (r < 0) {
            open_failed = 1;
            if (r == -EINVAL && s->direct) {
                refuse(w, op->location); /* e.g. a file system without O_DIRECT */
                s->direct = 0;
            } else if (!again(r)) {
                s->err = r;
            }
        } else {
            s->file_open = 1;
            if (!w->fixed)
                s->fd = r;
        }
    }
    if ((sent & BIT(K_READ)) && !open_failed) {
        int r = s->res[K_READ];
        if (r >= 0) {
            s->done += (size_t)r;
            s->eof = r == 0;
            s->nreads++;
        } else if (r == -EINVAL && s->direct) {
            /* O_DIRECT refused at read time (alignment the device wants is
             * larger, or a short read left us unaligned): go on buffered. */
            if (s->done == 0)
                refuse(w, op->location);
            s->direct = 0;
            s->reopen = 1;
        } else if (!again(r)) {
            s->err = r;
        }
    }
    if ((sent & BIT(K_CLOSE)) && s->res[K_CLOSE] != -ECANCELED && s->file_open) {
        s->file_open = 0;
        s->fd = -1;
    }
    int finished = s->err || s->eof || s->done >= op->len || (s->nreads && s->done >= op->want);
    if (!finished) {
        if (s->reopen && s->file_open) {
            phase(s, BIT(K_CLOSE));
            return;
        }
        s->reopen = 0;
        if (s->file_open)
            phase(s, BIT(K_READ) | BIT(K_CLOSE));
        else
            phase(s, BIT(K_OPEN) | BIT(K_READ) | BIT(K_CLOSE));
        return;
    }
    if (s->file_open) {
        phase(s, BIT(K_CLOSE));
        return;
    }
    finish(s);
}

/* ------------------------------------------------------------- the worker */

static void arm_wake(uworker *w)
{
    struct io_uring_sqe *sqe = get_sqe(w);
    io_uring_prep_poll_add(sqe, w->efd, POLLIN);
    io_uring_sqe_set_data(sqe, NULL);
}

static int inbox_take(uworker *w)
{
    pthread_mutex_lock(&w->mu);
    lsio_op *h = w->ihead, *t = w->itail;
    w->ihead = w->itail = NULL;
    pthread_mutex_unlock(&w->mu);
    if (!h)
        return 0;
    if (w->btail)
        w->btail->next = h;
    else
        w->bhead = h;
    w->btail = t;
    for (lsio_op *o = h; o; o = o->next)
        w->nbacklog++;
    return 1;
}

static int inbox_empty(uworker *w)
{
    pthread_mutex_lock(&w->mu);
    int e = !w->ihead;
    pthread_mutex_unlock(&w->mu);
    return e;
}

static void run_backlog(uworker *w)
{
    int stopping = atomic_load(&w->st->stopping);
    while (w->bhead && (stopping || w->free_slots || w->bhead->kind == LSIO_OP_PUT)) {
        lsio_op *op = w->bhead;
        w->bhead = op->next;
        if (!w->bhead)
            w->btail = NULL;
        w->nbacklog--;
        if (stopping) {
            op->status = -ECANCELED;
            lsio__op_done(op);
        } else {
            start_op(w, op);
        }
    }
}

static void reap(uworker *w)
{
    struct io_uring_cqe *cqes[64];
    unsigned n;
    while ((n = io_uring_peek_batch_cqe(&w->ring, cqes, 64)) > 0) {
        struct {
            uint64_t ud;
            int res;
        } got[64];
        for (unsigned i = 0; i < n; i++) {
            got[i].ud = cqes[i]->user_data;
            got[i].res = cqes[i]->res;
        }
        io_uring_cq_advance(&w->ring, n);
        for (unsigned i = 0; i < n; i++) {
            if (got[i].ud == 0) { /* the eventfd woke us */
                uint64_t v;
                if (read(w->efd, &v, sizeof v) < 0) {
                    /* EAGAIN: someone else's wake-up was already taken */
                }
                arm_wake(w);
                continue;
            }
            uslot *s = (uslot *)(uintptr_t)(got[i].ud & ~(uint64_t)3);
            unsigned kind = (unsigned)(got[i].ud & 3);
            s->res[kind] = got[i].res;
            if (--s->pending == 0)
                advance(s);
        }
    }
}

static void worker_loop(uworker *w)
{
    uring_state *st = w->st;
    arm_wake(w);
    for (;;) {
        reap(w);
        inbox_take(w);
        run_backlog(w);
        if (atomic_load(&st->stopping) && !w->inflight && !w->bhead && inbox_empty(w))
            break;
        /* Sleep until a completion, or (when a slot is free) a new op. */
        if (w->free_slots) {
            atomic_store(&w->sleeping, 1);
            if (!inbox_empty(w)) {
                atomic_store(&w->sleeping, 0);
                continue;
            }
        }
        int rc = io_uring_submit_and_wait(&w->ring, 1);
        atomic_store(&w->sleeping, 0);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
            /* Should not happen; avoid a busy loop. */
            usleep(1000);
        }
    }
}

/* Set up the ring on this thread: the best flags the kernel takes, the
 * fixed-file table (or plain fds), the wake-up eventfd. */
static int worker_init(uworker *w)
{
    uring_state *st = w->st;
    unsigned entries = st->depth * 3 + 2;
    const unsigned tries[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    int rc = -ENOSYS;
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        rc = io_uring_queue_init(entries, &w->ring, tries[i]);
        if (rc != -EINVAL)
            break;
    }
    if (rc < 0) {
        char buf[200];
        snprintf(buf, sizeof buf, "io_uring_queue_init: %s%s", strerror(-rc),
                 rc == -EPERM ? " (kernel.io_uring_disabled or seccomp?)" : "");
        w->init_why = strdup(buf);
        return rc;
    }
    w->ring_ok = 1;
    struct io_uring_probe *p = io_uring_get_probe_ring(&w->ring);
    int ops_ok = p && io_uring_opcode_supported(p, IORING_OP_OPENAT) &&
                 io_uring_opcode_supported(p, IORING_OP_READ) &&
                 io_uring_opcode_supported(p, IORING_OP_CLOSE);
    if (p)
        io_uring_free_probe(p);
    if (!ops_ok) {
        w->init_why = strdup("io_uring lacks openat/read/close (kernel older than 5.6)");
        return -ENOSYS;
    }
    w->fixed = io_uring_register_files_sparse(&w->ring, st->depth) == 0;
    io_uring_register_ring_fd(&w->ring); /* optional: fewer fd lookups */
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->efd < 0) {
        rc = -errno;
        w->init_why = strdup("eventfd failed");
        return rc;
    }
    w->slots = calloc(st->depth, sizeof *w->slots);
    if (!w->slots)
        return -ENOMEM;
    for (unsigned i = st->depth; i-- > 0;) {
        uslot *s = &w->slots[i];
        s->w = w;
        s->idx = i;
        s->fd = -1;
        s->next_free = w->free_slots;
        w->free_slots = s;
    }
    return 0;
}

static void worker_fini(uworker *w)
{
    if (w->ring_ok) {
        if (w->fixed)
            io_uring_unregister_files(&w->ring);
        io_uring_queue_exit(&w->ring);
        w->ring_ok = 0;
    }
    /* w->efd stays open until stop() has joined us: it may still wake us */
    for (unsigned i = 0; w->slots && i < w->st->depth; i++)
        free(w->slots[i].win);
    free(w->slots);
    w->slots = NULL;
    cache_clear(w);
}

static void *worker_main(void *arg)
{
    uworker *w = arg;
    uring_state *st = w->st;
    tls_worker = w;
    int rc = worker_init(w);
    pthread_mutex_lock(&st->smu);
    w->init_rc = rc;
    st->reported++;
    pthread_cond_broadcast(&st->scv);
    /* Wait until start() knows whether every worker is up. */
    while (st->reported != st->nworkers + 1)
        pthread_cond_wait(&st->scv, &st->smu);
    pthread_mutex_unlock(&st->smu);
    if (rc == 0)
        worker_loop(w);
    worker_fini(w);
    tls_worker = NULL;
    return NULL;
}

/* ------------------------------------------------------------ the backend */

static void wake(uworker *w)
{
    if (atomic_exchange(&w->sleeping, 0) && w->efd >= 0) {
        uint64_t one = 1;
        if (write(w->efd, &one, sizeof one) < 0) {
            /* the counter is full: the worker is awake anyway */
        }
    }
}

static void uring_submit(void *state, lsio_op *op)
{
    uring_state *st = state;
    op->next = NULL;
    uworker *w = tls_worker;
    if (w && w->st == st && w->nbacklog < st->depth - w->inflight) {
        /* A completion on this worker refills it: no lock, no wake-up.
         * (Beyond its free slots, ops go round to the others, so that a
         * burst released on one worker — a new group — is shared.) */
        if (w->btail)
            w->btail->next = op;
        else
            w->bhead = op;
        w->btail = op;
        w->nbacklog++;
        return;
    }
    w = &st->w[atomic_fetch_add(&st->rr, 1) % st->nworkers];
    pthread_mutex_lock(&w->mu);
    if (w->itail)
        w->itail->next = op;
    else
        w->ihead = op;
    w->itail = op;
    pthread_mutex_unlock(&w->mu);
    wake(w);
}

static void uring_stop(void *state)
{
    uring_state *st = state;
    if (!st)
        return;
    atomic_store(&st->stopping, 1);
    for (unsigned i = 0; i < st->nworkers; i++) {
        uworker *w = &st->w[i];
        if (!w->started)
            continue;
        atomic_store(&w->sleeping, 1);
        wake(w);
    }
    for (unsigned i = 0; i < st->nworkers; i++) {
        uworker *w = &st->w[i];
        if (w->started)
            pthread_join(w->th, NULL);
        if (w->efd >= 0)
            close(w->efd);
        /* Anything left in an inbox (none expected) is cancelled. */
        while (w->ihead) {
            lsio_op *op = w->ihead;
            w->ihead = op->next;
            op->status = -ECANCELED;
            lsio__op_done(op);
        }
        free(w->init_why);
        pthread_mutex_destroy(&w->mu);
    }
    free(st->w);
    pthread_mutex_destroy(&st->smu);
    pthread_cond_destroy(&st->scv);
    pthread_mutex_destroy(&st->refused_mu);
    free(st);
}

static int uring_start(lsio_io *io, const lsio_io_opts *opts, void **state, char **why)
{
    (void)io;
    *why = NULL;
    if (opts->workers == 0)
        return lsio_error(-EINVAL, "uring backend: zero workers");
    uring_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    st->nworkers = opts->workers;
    st->depth = opts->depth ? opts->depth : 64;
    if (st->depth > MAX_DEPTH)
        st->depth = MAX_DEPTH; /* rings and file tables have kernel limits */
    st->direct_opt = opts->direct;
    lsio__cache_budget_init(&st->budget);
    pthread_mutex_init(&st->smu, NULL);
    pthread_cond_init(&st->scv, NULL);
    pthread_mutex_init(&st->refused_mu, NULL);
    st->w = calloc(st->nworkers, sizeof *st->w);
    if (!st->w) {
        pthread_mutex_destroy(&st->smu);
        pthread_cond_destroy(&st->scv);
        pthread_mutex_destroy(&st->refused_mu);
        free(st);
        return -ENOMEM;
    }
    unsigned created = 0;
    for (unsigned i = 0; i < st->nworkers; i++) {
        uworker *w = &st->w[i];
        w->st = st;
        w->id = i;
        w->efd = -1;
        pthread_mutex_init(&w->mu, NULL);
    }
    int rc = 0;
    for (unsigned i = 0; i < st->nworkers; i++) {
        if (pthread_create(&st->w[i].th, NULL, worker_main, &st->w[i]) != 0) {
            rc = lsio_error(-EAGAIN, "uring backend: cannot start worker %u", i);
            break;
        }
        st->w[i].started = 1;
        created++;
    }
    /* Wait for every created worker's ring, then release them all. */
    pthread_mutex_lock(&st->smu);
    while (st->reported < created)
        pthread_cond_wait(&st->scv, &st->smu);
    for (unsigned i = 0; i < created && rc == 0; i++) {
        if (st->w[i].init_rc < 0) {
            rc = st->w[i].init_rc;
            if (st->w[i].init_why)
                *why = strdup(st->w[i].init_why);
        }
    }
    if (rc < 0)
        atomic_store(&st->stopping, 1);
    st->reported = st->nworkers + 1;
    pthread_cond_broadcast(&st->scv);
    pthread_mutex_unlock(&st->smu);
    if (rc < 0) {
        uring_stop(st);
        return rc;
    }
    *state = st;
    return 0;
}

static int uring_size(void *state, const char *path, uint64_t *size)
{
    (void)state;
    return lsio__local_size(path, size);
}

static int uring_del(void *state, const char *path)
{
    (void)state;
    return lsio__local_delete(path);
}

static int uring_list(void *state, const char *prefix, lsio_list_fn fn, void *ctx)
{
    (void)state;
    return lsio__local_list(prefix, fn, ctx);
}

const lsio_backend lsio_backend_uring = {
    .name = "uring",
    .start = uring_start,
    .submit = uring_submit,
    .size = uring_size,
    .del = uring_del,
    .list = uring_list,
    .stop = uring_stop,
    .merge_gap = 4096,
    .split_bytes = 8 << 20,
    .direct_align = 4096,
};
