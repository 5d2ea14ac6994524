/* test_plan: range resolution (negative offsets, TO_END, past EOF, before
 * start, size failures) and planning decisions (merge within the gap, never
 * with caller memory, split, O_DIRECT widening, pool bound). Pure: no IO. */
#include <errno.h>

#include "io_core.h"
#include "testutil.h"

static lsio__rng R(int64_t off, int64_t len)
{
    lsio__rng r;
    memset(&r, 0, sizeof r);
    r.orig_off = off;
    r.orig_len = len;
    return r;
}

static void resolve_all(lsio__rng *r, size_t n, uint64_t size)
{
    for (size_t i = 0; i < n; i++)
        lsio__resolve(&r[i], "/d/f", 1, size, 0, NULL);
}

static void test_resolve(void)
{
    lsio__rng r;
    r = R(10, 20);
    lsio__resolve(&r, "/d/f", 0, 0, 0, NULL); /* size not needed */
    CHECK_EQ(r.status, 0);
    CHECK_EQ(r.off, 10);
    CHECK_EQ(r.len, 20);

    r = R(-100, 50);
    lsio__resolve(&r, "/d/f", 1, 1000, 0, NULL);
    CHECK_EQ(r.status, 0);
    CHECK_EQ(r.off, 900);
    CHECK_EQ(r.len, 50);

    r = R(-100, LSIO_TO_END);
    lsio__resolve(&r, "/d/f", 1, 1000, 0, NULL);
    CHECK_EQ(r.off, 900);
    CHECK_EQ(r.len, 100);

    r = R(0, LSIO_TO_END);
    lsio__resolve(&r, "/d/f", 1, 1000, 0, NULL);
    CHECK_EQ(r.len, 1000);

    r = R(1000, LSIO_TO_END); /* at the end: empty */
    lsio__resolve(&r, "/d/f", 1, 1000, 0, NULL);
    CHECK_EQ(r.status, 0);
    CHECK_EQ(r.len, 0);

    r = R(-1000, 1); /* exactly the start */
    lsio__resolve(&r, "/d/f", 1, 1000, 0, NULL);
    CHECK_EQ(r.status, 0);
    CHECK_EQ(r.off, 0);

    r = R(-1001, 1); /* before the start */
    lsio__resolve(&r, "/d/f", 1, 1000, 0, NULL);
    CHECK_EQ(r.status, -LSIO_ERANGE);
    CHECK(strstr(r.error, "/d/f") && strstr(r.error, "before the start"));
    free(r.error);

    r = R(INT64_MIN, 1); /* no overflow */
    lsio__resolve(&r, "/d/f", 1, 1000, 0, NULL);
    CHECK_EQ(r.status, -LSIO_ERANGE);
    free(r.error);

    r = R(4096, 4096); /* past EOF, known size */
    lsio__resolve(&r, "/x/y", 1, 5000, 0, NULL);
    CHECK_EQ(r.status, -LSIO_ERANGE);
    CHECK(strcmp(r.error, "read /x/y [4096, 8192): range past end of file (size 5000): "
                          "byte range outside the object") == 0);
    free(r.error);

    r = R(2000, LSIO_TO_END);
    lsio__resolve(&r, "/x/y", 1, 1000, 0, NULL);
    CHECK_EQ(r.status, -LSIO_ERANGE);
    free(r.error);

    r = R(5, 0); /* empty: completes empty whatever the size */
    lsio__resolve(&r, "/x/y", 0, 0, -ENOENT, "size /x/y: No such file or directory");
    CHECK_EQ(r.status, 0);
    CHECK_EQ(r.len, 0);

    r = R(-5, 3); /* needs the size, which failed */
    lsio__resolve(&r, "/x/y", 0, 0, -ENOENT, "size /x/y: No such file or directory");
    CHECK_EQ(r.status, -ENOENT);
    CHECK(strcmp(r.error, "read /x/y [-5, +3): size /x/y: No such file or directory") == 0);
    free(r.error);
}

static lsio__plan_params PP(int64_t gap, int64_t split, size_t align, int direct, size_t pool)
{
    lsio__plan_params p = {gap, split, align, direct, pool};
    return p;
}

static void test_merge(void)
{
    /* [0,100) [150,200) merge with gap 100; [1000,1100) does not; a dest
     * range between them never merges. */
    static unsigned char dest[64];
    lsio__rng r[4] = {R(1000, 100), R(150, 50), R(0, 100), R(120, 10)};
    r[3].dest = dest;
    resolve_all(r, 4, 1 << 20);
    lsio__req *q;
    size_t nq, *order;
    lsio__plan_params pp = PP(100, -1, 0, 0, 1 << 20);
    CHECK_OK(lsio__plan(&pp, "/d/f", r, 4, &q, &nq, &order));
    CHECK_EQ(nq, 3);
    /* dest request first, then sorted pooled ones */
    CHECK(q[0].dest == dest && q[0].off == 120 && q[0].len == 10 && q[0].nrng == 1);
    CHECK_EQ(q[1].off, 0);
    CHECK_EQ(q[1].len, 200);
    CHECK_EQ(q[1].nrng, 2);
    CHECK_EQ(order[q[1].first], 2);
    CHECK_EQ(order[q[1].first + 1], 1);
    CHECK_EQ(r[1].req, 1);
    CHECK_EQ(r[1].req_off, 150);
    CHECK_EQ(q[2].off, 1000);
    CHECK_EQ(q[2].nrng, 1);
    CHECK(!q[1].direct && q[1].nparts == 1);
    free(q);
    free(order);

    /* gap -1: never merge, even adjacent ones */
    lsio__rng r2[2] = {R(0, 100), R(100, 100)};
    resolve_all(r2, 2, 1 << 20);
    pp = PP(-1, -1, 0, 0, 1 << 20);
    CHECK_OK(lsio__plan(&pp, "/d/f", r2, 2, &q, &nq, &order));
    CHECK_EQ(nq, 2);
    free(q);
    free(order);
    /* gap 0: adjacent and overlapping ones merge */
    lsio__rng r3[3] = {R(0, 100), R(100, 100), R(50, 10)};
    resolve_all(r3, 3, 1 << 20);
    pp = PP(0, -1, 0, 0, 1 << 20);
    CHECK_OK(lsio__plan(&pp, "/d/f", r3, 3, &q, &nq, &order));
    CHECK_EQ(nq, 1);
    CHECK_EQ(q[0].len, 200);
    CHECK_EQ(r3[2].req_off, 50);
    free(q);
    free(order);
    /* merged requests stay below split_bytes */
    lsio__rng r4[3] = {R(0, 600), R(600, 600), R(1200, 600)};
    resolve_all(r4, 3, 1 << 20);
    pp = PP(0, 1000, 0, 0, 1 << 20);
    CHECK_OK(lsio__plan(&pp, "/d/f", r4, 3, &q, &nq, &order));
    CHECK_EQ(nq, 3);
    free(q);
    free(order);
}

static void test_split_and_direct(void)
{
    lsio__req *q;
    size_t nq, *order;
    /* 10000 bytes split at 4096: three parts; no direct */
    lsio__rng r[1] = {R(100, 10000)};
    resolve_all(r, 1, 1 << 20);
    lsio__plan_params pp = PP(0, 4096, 4096, 0, 1 << 20);
    CHECK_OK(lsio__plan(&pp, "/d/f", r, 1, &q, &nq, &order));
    CHECK_EQ(nq, 1);
    CHECK_EQ(q[0].nparts, 3);
    CHECK_EQ(q[0].part_len, 4096);
    CHECK_EQ(q[0].off, 100);
    free(q);
    free(order);

    /* direct always: widened to 4096 boundaries, want = bytes up to the
     * end asked for, head = offset inside the first block */
    lsio__rng r2[1] = {R(5000, 3000)};
    resolve_all(r2, 1, 1 << 20);
    pp = PP(0, -1, 4096, 1, 1 << 20);
    CHECK_OK(lsio__plan(&pp, "/d/f", r2, 1, &q, &nq, &order));
    CHECK(q[0].direct);
    CHECK_EQ(q[0].off, 4096);
    CHECK_EQ(q[0].len, 4096);
    CHECK_EQ(q[0].head, 904);
    CHECK_EQ(q[0].want, 3904);
    CHECK_EQ(r2[0].req_off, 904);
    free(q);
    free(order);

    /* auto: small reads stay buffered, large ones go direct */
    lsio__rng r3[2] = {R(0, 1000), R(1 << 22, 1 << 20)};
    resolve_all(r3, 2, 1 << 24);
    pp = PP(0, -1, 4096, -1, 1 << 24);
    CHECK_OK(lsio__plan(&pp, "/d/f", r3, 2, &q, &nq, &order));
    CHECK_EQ(nq, 2);
    CHECK(!q[0].direct);
    CHECK(q[1].direct);
    free(q);
    free(order);

    /* a direct split uses aligned parts */
    lsio__rng r4[1] = {R(1, 20000)};
    resolve_all(r4, 1, 1 << 20);
    pp = PP(0, 5000, 4096, 1, 1 << 20);
    CHECK_OK(lsio__plan(&pp, "/d/f", r4, 1, &q, &nq, &order));
    CHECK(q[0].direct);
    CHECK_EQ(q[0].part_len % 4096, 0);
    CHECK_EQ(q[0].off, 0);
    CHECK_EQ(q[0].len, 20480);
    CHECK_EQ(q[0].nparts, 3);
    free(q);
    free(order);

    /* caller dest: direct only when offset, length and address align */
    static _Alignas(4096) unsigned char dest[8192];
    lsio__rng r5[2] = {R(4096, 4096), R(4096, 4000)};
    r5[0].dest = dest;
    r5[1].dest = dest;
    resolve_all(r5, 2, 1 << 20);
    pp = PP(0, -1, 4096, 1, 1 << 20);
    CHECK_OK(lsio__plan(&pp, "/d/f", r5, 2, &q, &nq, &order));
    CHECK_EQ(nq, 2);
    CHECK(q[0].direct && q[0].off == 4096 && q[0].len == 4096);
    CHECK(!q[1].direct && q[1].len == 4000);
    free(q);
    free(order);
}

static void test_pool_bound(void)
{
    lsio__req *q;
    size_t nq, *order;
    static unsigned char big[1];
    lsio__rng r[3] = {R(0, 5000), R(0, 100), R(0, 5000)};
    r[2].dest = big; /* caller memory: the pool's bound does not apply */
    resolve_all(r, 3, 1 << 20);
    lsio__plan_params pp = PP(0, -1, 0, 0, 4096);
    CHECK_OK(lsio__plan(&pp, "/d/f", r, 3, &q, &nq, &order));
    CHECK_EQ(r[0].status, -E2BIG);
    CHECK(strstr(r[0].error, "/d/f [0, 5000)") && strstr(r[0].error, "pool"));
    free(r[0].error);
    CHECK_EQ(r[1].status, 0);
    CHECK_EQ(r[2].status, 0);
    CHECK_EQ(nq, 2);
    free(q);
    free(order);
}

int main(void)
{
    test_resolve();
    test_merge();
    test_split_and_direct();
    test_pool_bound();
    CHECK(strcmp(lsio__strip_file_scheme("file:///a/b"), "/a/b") == 0);
    CHECK(strcmp(lsio__strip_file_scheme("file://localhost/a"), "/a") == 0);
    CHECK(strcmp(lsio__strip_file_scheme("/a"), "/a") == 0);
    return 0;
}
