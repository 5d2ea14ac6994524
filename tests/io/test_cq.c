/* test_cq: completion queues: wait with a timeout, poll, draining in
 * batches, FIFO order, pending counts, many producers, and callback mode. */
#include <errno.h>
#include <pthread.h>

#include "io_core.h"
#include "testutil.h"

static void push(lsio_cq *cq, uint64_t ud)
{
    lsio_completion c = {.user_data = ud};
    lsio__cq_push(cq, &c);
}

static void test_basic(void)
{
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_completion c[8];
    CHECK_EQ(lsio_cq_poll(cq, c, 8), 0);
    uint64_t t0 = lsio_now_ns();
    CHECK_EQ(lsio_cq_wait(cq, c, 8, 50), 0); /* times out */
    CHECK(lsio_now_ns() - t0 >= 45000000ull);
    CHECK_EQ(lsio_cq_wait(cq, c, 8, 0), 0);
    CHECK_EQ(lsio_cq_wait(cq, NULL, 8, 0), -EINVAL);

    lsio__cq_expect(cq, 200);
    CHECK_EQ(lsio_cq_pending(cq), 200);
    for (int i = 0; i < 200; i++) /* grows the ring several times */
        push(cq, (uint64_t)i);
    CHECK_EQ(lsio_cq_pending(cq), 200);
    uint64_t next = 0;
    int n = lsio_cq_poll(cq, c, 3);
    CHECK_EQ(n, 3);
    for (int i = 0; i < n; i++)
        CHECK_EQ(c[i].user_data, next++);
    CHECK_EQ(lsio_cq_pending(cq), 197);
    while (next < 200) {
        n = lsio_cq_wait(cq, c, 8, -1);
        CHECK(n > 0 && n <= 8);
        for (int i = 0; i < n; i++)
            CHECK_EQ(c[i].user_data, next++); /* FIFO */
    }
    CHECK_EQ(lsio_cq_pending(cq), 0);
    /* completions left in a queue are released by destroy */
    lsio_completion e = {.error = strdup("x"), .status = -EIO};
    CHECK_OK(lsio_buf_alloc(10, 0, &e.buf));
    lsio__cq_expect(cq, 1);
    lsio__cq_push(cq, &e);
    lsio_cq_destroy(cq);
}

struct producer {
    lsio_cq *cq;
    int id;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < 10000; i++)
        push(p->cq, (uint64_t)p->id << 32 | (uint64_t)i);
    return NULL;
}

static void test_producers(void)
{
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    enum { P = 4 };
    lsio__cq_expect(cq, P * 10000);
    pthread_t th[P];
    struct producer pr[P];
    for (int i = 0; i < P; i++) {
        pr[i] = (struct producer){cq, i};
        pthread_create(&th[i], NULL, produce, &pr[i]);
    }
    uint64_t next[P] = {0};
    int got = 0;
    lsio_completion c[100];
    while (got < P * 10000) {
        int n = lsio_cq_wait(cq, c, 100, 5000);
        CHECK(n > 0);
        for (int i = 0; i < n; i++) {
            int id = (int)(c[i].user_data >> 32);
            CHECK_EQ(c[i].user_data & 0xffffffffu, next[id]); /* per-producer order */
            next[id]++;
        }
        got += n;
    }
    for (int i = 0; i < P; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ(lsio_cq_pending(cq), 0);
    lsio_cq_destroy(cq);
}

struct cbctx {
    pthread_mutex_t mu;
    int count;
    uint64_t sum;
};

static void on_done(void *ctx, lsio_completion *c)
{
    struct cbctx *x = ctx;
    pthread_mutex_lock(&x->mu);
    x->count++;
    x->sum += c->user_data;
    pthread_mutex_unlock(&x->mu);
    lsio_completion_release(c);
}

static void test_callback(void)
{
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    struct cbctx x = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    lsio_cq_set_callback(cq, on_done, &x);
    lsio__cq_expect(cq, 10);
    for (int i = 1; i <= 10; i++)
        push(cq, (uint64_t)i);
    CHECK_EQ(x.count, 10);
    CHECK_EQ(x.sum, 55);
    CHECK_EQ(lsio_cq_pending(cq), 0);
    lsio_completion c[4];
    CHECK_EQ(lsio_cq_poll(cq, c, 4), 0); /* nothing was queued */
    lsio_cq_set_callback(cq, NULL, NULL); /* back to queueing */
    lsio__cq_expect(cq, 1);
    push(cq, 99);
    CHECK_EQ(lsio_cq_poll(cq, c, 4), 1);
    CHECK_EQ(c[0].user_data, 99);
    lsio_cq_destroy(cq);
}

int main(void)
{
    test_basic();
    test_producers();
    test_callback();
    return 0;
}
