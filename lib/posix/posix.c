/*
 * posix.c — the posix backend: a pool of `workers` threads doing blocking
 * open/pread/close (and atomic puts) for local files.
 *
 * It is the portable fallback where io_uring is unavailable and the baseline
 * the uring backend must beat. Each op is opened, read and closed on its own,
 * like the uring backend does with linked SQEs, so the two compare fairly.
 * O_DIRECT is used when the core marked the op aligned (op->direct) and the
 * options allow; a file system that refuses it (tmpfs: EINVAL at open) is
 * remembered by device number and read buffered from then on. Short reads
 * are continued until the op's length or EOF; EINTR and EAGAIN are retried.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_backend.h"

#define MAX_REFUSED 16

typedef struct posix_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    lsio_op *head, *tail;
    int stopping;
    int direct_opt;          /* -1 auto, 0 never, 1 always */
    lsio__cache_budget budget; /* auto's buffered reads of uncached data */
    unsigned nthreads;
    pthread_t *threads;
    /* file systems that refused O_DIRECT */
    dev_t refused[MAX_REFUSED];
    atomic_int nrefused;
    pthread_mutex_t refused_mu;
} posix_state;

static int dev_refused(posix_state *s, dev_t dev)
{
    int n = atomic_load(&s->nrefused);
    for (int i = 0; i < n && i < MAX_REFUSED; i++)
        if (s->refused[i] == dev)
            return 1;
    return 0;
}

static void refuse_dev(posix_state *s, dev_t dev)
{
    pthread_mutex_lock(&s->refused_mu);
    int n = atomic_load(&s->nrefused);
    if (n < MAX_REFUSED && !dev_refused(s, dev)) {
        s->refused[n] = dev;
        atomic_store(&s->nrefused, n + 1);
    }
    pthread_mutex_unlock(&s->refused_mu);
}

/* Open for reading; O_DIRECT when asked and not known to be refused. Sets
 * *direct to what was used. */
static int open_read(posix_state *s, const char *path, int want_direct, int *direct)
{
    *direct = 0;
    if (want_direct) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);
        if (fd >= 0) {
            struct stat st;
            if (fstat(fd, &st) == 0 && dev_refused(s, st.st_dev)) {
                close(fd);
            } else {
                *direct = 1;
                return fd;
            }
        } else if (errno != EINVAL) {
            return -errno;
        } else {
            struct stat st;
            /* A directory refuses O_DIRECT too: only a regular file tells
             * us about its file system. */
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                refuse_dev(s, st.st_dev);
        }
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

static void do_read(posix_state *s, lsio_op *op)
{
    int direct;
    int want = op->direct && s->direct_opt != 0;
    /* auto: what the page cache holds, or can still take, goes through it */
    if (want && s->direct_opt < 0 && lsio__local_buffered(&s->budget, op->location, op->offset,
                                                          op->len))
        want = 0;
    int fd = open_read(s, op->location, want, &direct);
    if (fd < 0) {
        op->status = fd;
        return;
    }
    size_t done = 0;
    while (done < op->len) {
        ssize_t r;
        if (op->iov) { /* scattered: up to IOV_MAX pieces a call */
            struct iovec v[IOV_MAX];
            size_t nv = lsio__op_iov(op, done, op->len - done, v, IOV_MAX);
            r = preadv(fd, v, (int)nv, (off_t)(op->offset + done));
        } else {
            r = pread(fd, op->dst + done, op->len - done, (off_t)(op->offset + done));
        }
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r == 0)
            break; /* EOF */
        if (errno == EINTR || errno == EAGAIN)
            continue;
        if (errno == EINVAL && direct) {
            /* The file system refused this O_DIRECT read (alignment it
             * wants is larger, or a short read left us unaligned): go on
             * buffered. */
            struct stat st;
            if (done == 0 && fstat(fd, &st) == 0)
                refuse_dev(s, st.st_dev);
            int fd2 = open(op->location, O_RDONLY | O_CLOEXEC);
            if (fd2 < 0) {
                op->status = -errno;
                break;
            }
            close(fd);
            fd = fd2;
            direct = 0;
            continue;
        }
        op->status = -errno;
        break;
    }
    close(fd);
    op->done = done;
    op->used_direct = direct;
}

static void *worker_main(void *arg)
{
    posix_state *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->head)
            break; /* stopping and nothing left */
        lsio_op *op = s->head;
        s->head = op->next;
        if (!s->head)
            s->tail = NULL;
        int cancel = s->stopping;
        pthread_mutex_unlock(&s->mu);
        op->attempts = 1;
        if (cancel)
            op->status = -ECANCELED;
        else if (op->kind == LSIO_OP_PUT)
            lsio__local_put_op(op);
        else
            do_read(s, op);
        lsio__op_done(op);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void posix_stop(void *state);

static int posix_start(lsio_io *io, const lsio_io_opts *opts, void **state, char **why)
{
    (void)io;
    (void)why;
    posix_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->refused_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->direct_opt = opts->direct;
    lsio__cache_budget_init(&s->budget);
    unsigned w = opts->workers ? opts->workers : lsio_ncpus();
    s->threads = calloc(w, sizeof *s->threads);
    if (!s->threads) {
        posix_stop(s);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < w; i++) {
        if (pthread_create(&s->threads[i], NULL, worker_main, s) != 0) {
            posix_stop(s);
            return lsio_error(-EAGAIN, "posix backend: cannot start worker %u", i);
        }
        s->nthreads++;
    }
    *state = s;
    return 0;
}

static void posix_submit(void *state, lsio_op *op)
{
    posix_state *s = state;
    op->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->tail)
        s->tail->next = op;
    else
        s->head = op;
    s->tail = op;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Ops still queued complete with -ECANCELED (the workers do it); those being
 * read finish. */
static void posix_stop(void *state)
{
    posix_state *s = state;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (unsigned i = 0; i < s->nthreads; i++)
        pthread_join(s->threads[i], NULL);
    free(s->threads);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->refused_mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static int posix_size(void *state, const char *path, uint64_t *size)
{
    (void)state;
    return lsio__local_size(path, size);
}

static int posix_del(void *state, const char *path)
{
    (void)state;
    return lsio__local_delete(path);
}

static int posix_list(void *state, const char *prefix, lsio_list_fn fn, void *ctx)
{
    (void)state;
    return lsio__local_list(prefix, fn, ctx);
}

const lsio_backend lsio_backend_posix = {
    .name = "posix",
    .start = posix_start,
    .submit = posix_submit,
    .size = posix_size,
    .del = posix_del,
    .list = posix_list,
    .stop = posix_stop,
    .merge_gap = 4096,
    .split_bytes = 8 << 20,
    .direct_align = 4096,
};
