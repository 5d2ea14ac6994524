/* test_core: the IO core driven with a mock backend that holds the ops it
 * is given until the test completes them. Proves what a real backend
 * cannot show deterministically: the bound on ops handed over at once,
 * pooled buffers taken only at dispatch (and waiting for releases when the
 * pool is full), group order at dispatch and priority of a later lower
 * group, one size call per get_ranges, O_DIRECT widening with op->want and
 * EOF inside the widened tail, split parts completing as one, backend error
 * details in messages, and cancellation at close. */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "io_core.h"
#include "testutil.h"

/* ------------------------------------------------------------ the mock */

static struct {
    pthread_mutex_t mu;
    lsio_op *held[4096];
    int nheld, max_held;
    int size_calls, size_rc;
    uint64_t size; /* every mock object has this size */
} M = {.mu = PTHREAD_MUTEX_INITIALIZER};

static unsigned char pattern(uint64_t pos) { return (unsigned char)((pos * 2654435761u) >> 13); }

static int mock_start(lsio_io *io, const lsio_io_opts *o, void **state, char **why)
{
    (void)io, (void)o, (void)why;
    *state = &M;
    return 0;
}

static void mock_submit(void *state, lsio_op *op)
{
    (void)state;
    pthread_mutex_lock(&M.mu);
    M.held[M.nheld++] = op;
    if (M.nheld > M.max_held)
        M.max_held = M.nheld;
    pthread_mutex_unlock(&M.mu);
}

static int mock_size(void *state, const char *loc, uint64_t *size)
{
    (void)state;
    pthread_mutex_lock(&M.mu);
    M.size_calls++;
    int rc = M.size_rc;
    pthread_mutex_unlock(&M.mu);
    if (rc)
        return lsio_error(rc, "size %s: mocked", loc);
    *size = M.size;
    return 0;
}

/* Take the i-th held op out. */
static lsio_op *take(int i)
{
    pthread_mutex_lock(&M.mu);
    CHECK(i < M.nheld);
    lsio_op *op = M.held[i];
    memmove(&M.held[i], &M.held[i + 1], (size_t)(M.nheld - i - 1) * sizeof *M.held);
    M.nheld--;
    pthread_mutex_unlock(&M.mu);
    return op;
}

/* Read the op from the mock object (EOF at M.size) and finish it. */
static void finish(lsio_op *op)
{
    size_t n = op->offset >= M.size ? 0 : (size_t)(M.size - op->offset);
    if (n > op->len)
        n = op->len;
    for (size_t i = 0; i < n; i++)
        op->dst[i] = pattern(op->offset + i);
    op->done = n;
    op->status = 0;
    lsio__op_done(op);
}

static void mock_stop(void *state)
{
    (void)state;
    for (;;) {
        pthread_mutex_lock(&M.mu);
        int n = M.nheld;
        pthread_mutex_unlock(&M.mu);
        if (!n)
            break;
        lsio_op *op = take(0);
        op->status = -ECANCELED;
        lsio__op_done(op);
    }
}

static const lsio_backend mock = {
    .name = "mock", .start = mock_start, .submit = mock_submit, .size = mock_size,
    .stop = mock_stop, .merge_gap = -1, .split_bytes = -1, .direct_align = 4096,
};

static int nheld(void)
{
    pthread_mutex_lock(&M.mu);
    int n = M.nheld;
    pthread_mutex_unlock(&M.mu);
    return n;
}

static lsio_io *open_mock(unsigned workers, unsigned depth, size_t pool, int direct)
{
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.workers = workers;
    o.depth = depth;
    o.pool_bytes = pool;
    o.direct = direct;
    lsio_io *io;
    CHECK_OK(lsio__io_open_with(&io, "/mock", &o, &mock));
    CHECK(!strcmp(lsio_io_backend_name(io), "mock"));
    M.max_held = 0;
    M.size_calls = 0;
    M.size_rc = 0;
    M.size = 1 << 20;
    return io;
}

static lsio_completion wait1(lsio_cq *cq)
{
    lsio_completion c;
    CHECK_EQ(lsio_cq_wait(cq, &c, 1, 10000), 1);
    return c;
}

static int same_as_pattern(const lsio_completion *c, uint64_t off)
{
    const unsigned char *d = c->data;
    for (size_t i = 0; i < c->len; i++)
        if (d[i] != pattern(off + i))
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- tests */

static void test_inflight_bound(void)
{
    lsio_io *io = open_mock(2, 3, 1 << 20, 0);
    lsio_cq *cq = lsio_io_cq(io);
    lsio_range r[100];
    for (int i = 0; i < 100; i++)
        r[i] = (lsio_range){.offset = i * 100, .length = 50, .user_data = (uint64_t)i};
    CHECK_OK(lsio_get_ranges(io, NULL, "/mock/a", r, 100, 0));
    CHECK_EQ(nheld(), 6); /* workers * depth */
    int seen = 0;
    while (seen < 100) {
        CHECK(nheld() <= 6);
        if (nheld())
            finish(take(nheld() - 1)); /* any order */
        lsio_completion c;
        while (lsio_cq_poll(cq, &c, 1) == 1) {
            CHECK_EQ(c.status, 0);
            CHECK(same_as_pattern(&c, c.user_data * 100));
            lsio_completion_release(&c);
            seen++;
        }
    }
    CHECK_EQ(M.max_held, 6);
    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    CHECK_EQ(st.requests, 100); /* merge_gap -1 */
    lsio_io_close(io);
}

static void test_pool_at_dispatch(void)
{
    lsio_io *io = open_mock(4, 64, 64 * 1024, 0);
    lsio_cq *cq = lsio_io_cq(io);
    lsio_range r[20];
    for (int i = 0; i < 20; i++)
        r[i] = (lsio_range){.offset = i * 20000, .length = 16384, .user_data = (uint64_t)i};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/a", r, 20, 0));
    CHECK_EQ(nheld(), 4); /* the pool holds four: the rest waits */
    lsio_bufpool_stats ps;
    lsio_bufpool_stats_get(lsio_io_pool(io), &ps);
    CHECK_EQ(ps.in_use, 64 * 1024);
    /* Completed but held by us: nothing more can start. */
    for (int i = 0; i < 4; i++)
        finish(take(0));
    usleep(100000);
    CHECK_EQ(nheld(), 0);
    lsio_completion held[4];
    for (int i = 0; i < 4; i++)
        held[i] = wait1(cq);
    /* Releasing lets the pump dispatch the next ones. */
    for (int i = 0; i < 4; i++)
        lsio_completion_release(&held[i]);
    int done = 4;
    while (done < 20) {
        for (int t = 0; t < 2000 && nheld() == 0; t++)
            usleep(1000);
        CHECK(nheld() > 0);
        CHECK(nheld() <= 4);
        finish(take(0));
        lsio_completion c = wait1(cq);
        CHECK_EQ(c.status, 0);
        CHECK(same_as_pattern(&c, c.user_data * 20000));
        lsio_completion_release(&c);
        done++;
    }
    lsio_bufpool_stats_get(lsio_io_pool(io), &ps);
    CHECK_EQ(ps.high_water, 64 * 1024);
    lsio_io_close(io);
}

static int group_of(const lsio_op *op) { return op->location[strlen(op->location) - 1] - '0'; }

static void test_groups(void)
{
    lsio_io *io = open_mock(1, 2, 1 << 20, 0);
    lsio_cq *cq = lsio_io_cq(io);
    lsio_range r[5];
    for (int i = 0; i < 5; i++)
        r[i] = (lsio_range){.offset = i * 1000, .length = 10};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/g2", r, 5, 2));
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/g0", r, 5, 0)); /* later, lower */
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/g1", r, 5, 1));
    /* group 2 started first (it was alone); then group 0 takes over */
    CHECK_EQ(nheld(), 2);
    CHECK_EQ(group_of(M.held[0]), 2);
    CHECK_EQ(group_of(M.held[1]), 2);
    int order[15], n = 0;
    while (n < 15) {
        lsio_op *op = take(0);
        int g = group_of(op);
        finish(op); /* op may be gone after this */
        lsio_completion c = wait1(cq);
        lsio_completion_release(&c);
        order[n++] = g;
        /* what is held now belongs to the lowest group with work left */
        pthread_mutex_lock(&M.mu);
        for (int i = 0; i < M.nheld; i++)
            if (n >= 2 && n < 7)
                CHECK_EQ(group_of(M.held[i]), 0);
        pthread_mutex_unlock(&M.mu);
    }
    int want[15] = {2, 2, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2};
    for (int i = 0; i < 15; i++)
        CHECK_EQ(order[i], want[i]);
    lsio_io_close(io);
}

static void test_size_calls(void)
{
    lsio_io *io = open_mock(4, 16, 1 << 20, 0);
    lsio_cq *cq = lsio_io_cq(io);
    M.size = 5000;
    lsio_range r[10];
    for (int i = 0; i < 10; i++)
        r[i] = (lsio_range){.offset = -100 * (i + 1), .length = 50, .user_data = (uint64_t)i};
    r[9].length = LSIO_TO_END;
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/s", r, 10, 0));
    CHECK_EQ(M.size_calls, 1);
    for (int i = 0; i < 10; i++) {
        while (nheld())
            finish(take(0));
        lsio_completion c = wait1(cq);
        CHECK_EQ(c.status, 0);
        uint64_t off = 5000 - 100 * (c.user_data + 1);
        CHECK_EQ(c.len, c.user_data == 9 ? 1000 : 50);
        CHECK_EQ(c.offset, off); /* resolved: offset + len is the size for the last */
        CHECK(same_as_pattern(&c, off));
        lsio_completion_release(&c);
    }
    lsio_range a[2] = {{.offset = 0, .length = 10}, {.offset = 10, .length = 10}};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/s", a, 2, 0));
    CHECK_EQ(M.size_calls, 1); /* not needed: not made */
    while (nheld())
        finish(take(0));
    for (int i = 0; i < 2; i++) {
        lsio_completion c = wait1(cq);
        lsio_completion_release(&c);
    }
    /* A failing size call fails the ranges that needed it, alone. */
    M.size_rc = -EACCES;
    lsio_range b[3] = {{.offset = -10, .length = 5, .user_data = 0},
                       {.offset = 0, .length = 5, .user_data = 1},
                       {.offset = 100, .length = LSIO_TO_END, .user_data = 2}};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/s", b, 3, 0));
    CHECK_EQ(M.size_calls, 2);
    int ok = 0, bad = 0;
    for (int i = 0; i < 3; i++) {
        while (nheld())
            finish(take(0));
        lsio_completion c = wait1(cq);
        if (c.user_data == 1) {
            CHECK_EQ(c.status, 0);
            ok++;
        } else {
            CHECK_EQ(c.status, -EACCES);
            CHECK(strstr(c.error, "read /mock/s [") && strstr(c.error, "size /mock/s: mocked"));
            bad++;
        }
        lsio_completion_release(&c);
    }
    CHECK(ok == 1 && bad == 2);
    lsio_io_close(io);
}

static void test_direct_and_eof(void)
{
    lsio_io *io = open_mock(1, 8, 1 << 20, 1);
    lsio_cq *cq = lsio_io_cq(io);
    M.size = 5000;
    lsio_range r = {.offset = 4000, .length = 900};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/d", &r, 1, 0));
    CHECK_EQ(nheld(), 1);
    lsio_op *op = M.held[0];
    CHECK_EQ(op->offset, 0);
    CHECK_EQ(op->len, 8192);
    CHECK_EQ(op->want, 4900);
    CHECK(op->direct);
    CHECK_EQ((uintptr_t)op->dst % 4096, 0);
    finish(take(0)); /* EOF at 5000, inside the widened tail: fine */
    lsio_completion c = wait1(cq);
    CHECK_EQ(c.status, 0);
    CHECK_EQ(c.len, 900);
    CHECK(same_as_pattern(&c, 4000));
    CHECK_EQ(lsio_buf_len(c.buf), 900);
    lsio_completion_release(&c);

    r = (lsio_range){.offset = 4000, .length = 1100}; /* EOF before its end */
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/d", &r, 1, 0));
    finish(take(0));
    c = wait1(cq);
    CHECK_EQ(c.status, -LSIO_ERANGE);
    CHECK(!strcmp(c.error, "read /mock/d [4000, 5100): range past end of file (size 5000): "
                           "byte range outside the object"));
    lsio_completion_release(&c);

    /* the file shrank after its size was taken: no byte came, so its size
     * is not known, only where it ends at the latest */
    r = (lsio_range){.offset = 4000, .length = 900};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/d", &r, 1, 0));
    M.size = 0; /* the op reads [0, 8192) (aligned): nothing at all */
    finish(take(0));
    M.size = 5000;
    c = wait1(cq);
    CHECK_EQ(c.status, -LSIO_ERANGE);
    CHECK(c.error && strstr(c.error, "read /mock/d [4000, 4900): range past end of file "
                                     "(it ends at or before byte 0)"));
    lsio_completion_release(&c);

    /* split parts complete as one, in any order; an error detail from the
     * backend reaches the message */
    lsio_io_close(io);
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.workers = 1;
    o.depth = 8;
    o.split_bytes = 1000;
    o.direct = 0;
    CHECK_OK(lsio__io_open_with(&io, "/mock", &o, &mock));
    cq = lsio_io_cq(io);
    M.size = 1 << 20;
    r = (lsio_range){.offset = 10, .length = 3500};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/p", &r, 1, 0));
    CHECK_EQ(nheld(), 4);
    for (int i = 3; i >= 0; i--)
        finish(take(i));
    c = wait1(cq);
    CHECK_EQ(c.status, 0);
    CHECK_EQ(c.len, 3500);
    CHECK(same_as_pattern(&c, 10));
    lsio_completion_release(&c);
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/p", &r, 1, 0));
    finish(take(0));
    op = take(0);
    op->status = -EIO;
    op->error = strdup("disk on fire");
    lsio__op_done(op);
    finish(take(0));
    finish(take(0));
    c = wait1(cq);
    CHECK_EQ(c.status, -EIO);
    CHECK(!strcmp(c.error, "read /mock/p [10, 3510): disk on fire: Input/output error"));
    lsio_completion_release(&c);
    lsio_io_close(io);
}

static void test_close_cancels(void)
{
    lsio_io *io = open_mock(1, 2, 1 << 20, 0);
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_range r[50];
    for (int i = 0; i < 50; i++)
        r[i] = (lsio_range){.offset = i * 100, .length = 10};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/c", r, 50, 0));
    CHECK_EQ(nheld(), 2);
    lsio_io_close(io);
    CHECK_EQ(nheld(), 0);
    int n = 0;
    lsio_completion c;
    while (lsio_cq_poll(cq, &c, 1) == 1) {
        CHECK_EQ(c.status, -ECANCELED);
        CHECK(strstr(c.error, "/mock/c ["));
        lsio_completion_release(&c);
        n++;
    }
    CHECK_EQ(n, 50);
    lsio_cq_destroy(cq);
}

/* ------------------------------------------------- open-ended reads */

static lsio_io *g_oe_io;

static int mock_oe_start(lsio_io *io, const lsio_io_opts *o, void **state, char **why)
{
    g_oe_io = io;
    return mock_start(io, o, state, why);
}

static const lsio_backend mock_oe = {
    .name = "mock", .start = mock_oe_start, .submit = mock_submit, .size = mock_size,
    .stop = mock_stop, .merge_gap = 4096, .split_bytes = -1, .direct_align = 0,
    .open_ended = LSIO_OPEN_FROM,
};

static const lsio_backend mock_sfx = {
    .name = "mock", .start = mock_oe_start, .submit = mock_submit, .size = mock_size,
    .stop = mock_stop, .merge_gap = 4096, .split_bytes = -1, .direct_align = 0,
    .open_ended = LSIO_OPEN_FROM | LSIO_OPEN_SUFFIX,
};

/* What a remote backend does with an open-ended read: size the buffer
 * from what the object turns out to hold (objsize), fill it, finish. */
static void finish_oe(lsio_op *op, uint64_t objsize, int status)
{
    CHECK(op->open_ended);
    CHECK(op->dst == NULL);
    size_t n = op->offset >= objsize ? 0 : (size_t)(objsize - op->offset);
    op->buf = NULL;
    if (n) {
        if (lsio_bufpool_tryget(lsio_io_pool(g_oe_io), n, &op->buf) < 0)
            CHECK_OK(lsio_buf_alloc(n, 0, &op->buf));
        unsigned char *d = lsio_buf_data(op->buf);
        for (size_t i = 0; i < n; i++)
            d[i] = pattern(op->offset + i);
    }
    op->done = n;
    op->status = status;
    if (status)
        op->error = strdup("mocked failure");
    lsio__op_done(op);
}

static void test_open_ended(void)
{
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.workers = 1;
    o.depth = 64;
    o.pool_bytes = 1 << 20;
    lsio_io *io;
    CHECK_OK(lsio__io_open_with(&io, "/mock", &o, &mock_oe));
    M.size_calls = 0;
    M.size_rc = -ENOENT; /* open-ended ranges must not need it */
    M.size = 1 << 20;
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_range r[4] = {
        {.offset = 0, .length = LSIO_TO_END, .user_data = 0},
        {.offset = 100, .length = LSIO_TO_END, .user_data = 1},
        {.offset = 7, .length = 10, .user_data = 2},
        {.offset = 3000, .length = LSIO_TO_END, .user_data = 3},
    };
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/x", r, 4, 0));
    CHECK_EQ(M.size_calls, 0);
    CHECK_EQ(nheld(), 4); /* open-ended ranges are never merged */
    int seen = 0;
    while (nheld()) {
        lsio_op *op = take(0);
        if (!op->open_ended) {
            CHECK_EQ(op->offset, 7);
            finish(op);
        } else if (op->offset == 0) {
            CHECK(op->len >= 5000);
            finish_oe(op, 5000, 0);
        } else if (op->offset == 100) {
            finish_oe(op, 0, 0); /* empty: no buffer at all */
        } else {
            finish_oe(op, 5000, -EIO); /* a failure keeps no buffer */
        }
    }
    for (int k = 0; k < 4; k++) {
        lsio_completion c = wait1(cq);
        seen |= 1 << c.user_data;
        switch (c.user_data) {
        case 0:
            CHECK_OK(c.status);
            CHECK_EQ(c.len, 5000);
            CHECK(c.buf && lsio_buf_len(c.buf) == 5000);
            CHECK(same_as_pattern(&c, 0));
            break;
        case 1:
            CHECK_OK(c.status);
            CHECK_EQ(c.len, 0);
            break;
        case 2:
            CHECK_OK(c.status);
            CHECK_EQ(c.len, 10);
            CHECK(same_as_pattern(&c, 7));
            break;
        case 3:
            CHECK_EQ(c.status, -EIO);
            CHECK(c.error && strstr(c.error, "read /mock/x [3000, end): mocked failure"));
            CHECK(c.buf == NULL);
            break;
        }
        lsio_completion_release(&c);
    }
    CHECK_EQ(seen, 15);
    /* A negative offset still needs the size, and says why it failed. */
    lsio_range neg = {.offset = -10, .length = LSIO_TO_END, .user_data = 9};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/x", &neg, 1, 0));
    CHECK_EQ(M.size_calls, 1);
    lsio_completion c = wait1(cq);
    CHECK_EQ(c.status, -ENOENT);
    lsio_completion_release(&c);
    /* The sync read goes the same way. */
    CHECK_EQ(nheld(), 0);
    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    CHECK_EQ(st.errors, 2);
    lsio_cq_destroy(cq);
    lsio_io_close(io);
}

/* Suffix ranges (offset < 0, LSIO_TO_END) on a backend that takes them:
 * no size request; the backend says where the bytes started. */
static void test_suffix(void)
{
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.workers = 1;
    o.pool_bytes = 1 << 20;
    lsio_io *io;
    CHECK_OK(lsio__io_open_with(&io, "/mock", &o, &mock_sfx));
    M.size_calls = 0;
    M.size_rc = -ENOENT;
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_range r[2] = {{.offset = -100, .length = LSIO_TO_END, .user_data = 0},
                       {.offset = -9000, .length = LSIO_TO_END, .user_data = 1}};
    CHECK_OK(lsio_get_ranges(io, cq, "/mock/s", r, 2, 0));
    CHECK_EQ(M.size_calls, 0);
    CHECK_EQ(nheld(), 2);
    while (nheld()) {
        lsio_op *op = take(0);
        CHECK_EQ(op->open_ended, (int)LSIO_OPEN_SUFFIX);
        if (op->offset == 100) {
            op->offset = 5000 - 100; /* the object holds 5000 bytes */
            finish_oe(op, 5000, 0);
        } else {
            CHECK_EQ(op->offset, 9000);
            finish_oe(op, 0, -LSIO_ERANGE); /* longer than the object */
        }
    }
    for (int k = 0; k < 2; k++) {
        lsio_completion c = wait1(cq);
        if (c.user_data == 0) {
            CHECK_OK(c.status);
            CHECK_EQ(c.len, 100);
            CHECK_EQ(c.offset + c.len, 5000); /* where the suffix began: the size */
            CHECK(same_as_pattern(&c, 4900));
        } else {
            CHECK_EQ(c.status, -LSIO_ERANGE);
            CHECK(c.error && strstr(c.error, "read /mock/s [-9000, end)"));
        }
        lsio_completion_release(&c);
    }
    lsio_cq_destroy(cq);
    lsio_io_close(io);
}

int main(void)
{
    test_inflight_bound();
    test_pool_at_dispatch();
    test_groups();
    test_size_calls();
    test_direct_and_eof();
    test_close_cancels();
    test_open_ended();
    test_suffix();
    return 0;
}
