/*
 * test_nginx.c — the http backend against nginx on 127.0.0.1: sizes (HEAD),
 * whole reads, many random ranges (pooled buffers and caller memory, merged
 * and split by the core), negative offsets and TO_END, ranges past the end,
 * a missing object, and the bytes compared with the files nginx serves.
 */
#include <errno.h>
#include <inttypes.h>

#include "http_testutil.h"
#include "lsio_io.h"

static test_server srv;
static void stop_srv(void) { server_stop(&srv); }

int main(void)
{
    const char *dir = test_tmpdir("http-nginx");
    char path[4200];
    const size_t small = 1000, big = 20u << 20;
    snprintf(path, sizeof path, "%s/small.bin", dir);
    unsigned char *ps = make_file(path, small, 1);
    snprintf(path, sizeof path, "%s/big.bin", dir);
    unsigned char *pb = make_file(path, big, 2);
    snprintf(path, sizeof path, "%s/empty.bin", dir);
    free(make_file(path, 0, 3));

    server_start(&srv, "nginx", dir);
    atexit(stop_srv);
    char base[128], url[256];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", srv.port);

    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.max_connections = 8;
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, base, &o));
    CHECK(!strcmp(lsio_io_backend_name(io), "http"));

    /* sizes */
    uint64_t sz = 0;
    snprintf(url, sizeof url, "%s/big.bin", base);
    CHECK_OK(lsio_io_size(io, url, &sz));
    CHECK_EQ(sz, big);
    snprintf(url, sizeof url, "%s/nope.bin", base);
    CHECK_EQ(lsio_io_size(io, url, &sz), -ENOENT);
    CHECK(strstr(lsio_last_error(), "/nope.bin") != NULL);

    /* whole objects */
    lsio_buf *b;
    snprintf(url, sizeof url, "%s/small.bin", base);
    CHECK_OK(lsio_io_read(io, url, 0, LSIO_TO_END, &b));
    CHECK_EQ(lsio_buf_len(b), small);
    CHECK(!memcmp(lsio_buf_data(b), ps, small));
    lsio_buf_release(b);
    snprintf(url, sizeof url, "%s/big.bin", base);
    CHECK_OK(lsio_io_read(io, url, 0, LSIO_TO_END, &b)); /* split into parts */
    CHECK_EQ(lsio_buf_len(b), big);
    CHECK(!memcmp(lsio_buf_data(b), pb, big));
    lsio_buf_release(b);
    CHECK_OK(lsio_io_read(io, url, -100, LSIO_TO_END, &b));
    CHECK_EQ(lsio_buf_len(b), 100);
    CHECK(!memcmp(lsio_buf_data(b), pb + big - 100, 100));
    lsio_buf_release(b);

    /* many ranges, half into caller memory */
    enum { N = 300 };
    lsio_range r[N];
    unsigned char *dest = malloc((size_t)N * 70000);
    CHECK(dest != NULL);
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        uint64_t len = 1 + (x >> 8) % 65536;
        x = x * 1103515245u + 12345u;
        uint64_t off = ((uint64_t)x * 7919u) % (big - len);
        r[i] = (lsio_range){.offset = (int64_t)off, .length = (int64_t)len,
                            .dest = i % 2 ? dest + (size_t)i * 70000 : NULL, .user_data = (uint64_t)i};
    }
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    CHECK_OK(lsio_get_ranges(io, cq, url, r, N, 0));
    int seen = 0;
    while (seen < N) {
        lsio_completion c[16];
        int k = lsio_cq_wait(cq, c, 16, 30000);
        CHECK(k > 0);
        for (int j = 0; j < k; j++) {
            const lsio_range *q = &r[c[j].user_data];
            if (c[j].status)
                fprintf(stderr, "%s\n", c[j].error);
            CHECK_EQ(c[j].status, 0);
            CHECK_EQ(c[j].len, q->length);
            CHECK_EQ(c[j].object_size, big); /* the Content-Range total */
            CHECK(!memcmp(c[j].data, pb + q->offset, c[j].len));
            if (q->dest)
                CHECK(c[j].data == q->dest);
            lsio_completion_release(&c[j]);
            seen++;
        }
    }

    /* the whole big object scattered into pieces of 1000 bytes with a gap
     * after each (split into parts that begin inside pieces) */
    {
        size_t np = (big + 999) / 1000;
        struct iovec *iov = malloc(np * sizeof *iov);
        unsigned char *mem = malloc(np * 1008);
        CHECK(iov && mem);
        memset(mem, 0x5A, np * 1008);
        for (size_t i = 0; i < np; i++)
            iov[i] = (struct iovec){mem + i * 1008, i + 1 < np ? 1000 : big - i * 1000};
        lsio_range sr = {.offset = 0, .length = (int64_t)big, .iov = iov, .iovcnt = np,
                         .user_data = 77};
        CHECK_OK(lsio_get_ranges(io, cq, url, &sr, 1, 0));
        lsio_completion c;
        CHECK(lsio_cq_wait(cq, &c, 1, 30000) == 1);
        if (c.status)
            fprintf(stderr, "%s\n", c.error);
        CHECK_EQ(c.status, 0);
        CHECK_EQ(c.len, big);
        CHECK_EQ(c.object_size, big);
        CHECK(!c.data && !c.buf);
        for (size_t i = 0; i < np; i++) {
            CHECK(!memcmp(iov[i].iov_base, pb + i * 1000, iov[i].iov_len));
            CHECK(mem[i * 1008 + iov[i].iov_len] == 0x5A); /* gaps untouched */
        }
        lsio_completion_release(&c);
        free(iov);
        free(mem);
    }

    /* past the end, an empty object, a missing object */
    lsio_range bad[3] = {{.offset = (int64_t)big - 10, .length = 20, .user_data = 0},
                         {.offset = (int64_t)big + 5, .length = 20, .user_data = 1},
                         {.offset = 0, .length = 10, .user_data = 2}};
    CHECK_OK(lsio_get_ranges(io, cq, url, bad, 2, 0));
    snprintf(path, sizeof path, "%s/nope.bin", base);
    CHECK_OK(lsio_get_ranges(io, cq, path, bad + 2, 1, 0));
    for (int got = 0; got < 3;) {
        lsio_completion c;
        CHECK(lsio_cq_wait(cq, &c, 1, 30000) == 1);
        CHECK(c.status < 0);
        CHECK(c.error != NULL);
        if (c.user_data == 2) {
            CHECK_EQ(c.status, -ENOENT);
            CHECK(strstr(c.error, "nope.bin") && strstr(c.error, "404"));
        } else {
            CHECK_EQ(c.status, -LSIO_ERANGE);
        }
        lsio_completion_release(&c);
        got++;
    }
    snprintf(url, sizeof url, "%s/empty.bin", base);
    CHECK_OK(lsio_io_size(io, url, &sz));
    CHECK_EQ(sz, 0);

    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    CHECK(st.requests > 0 && st.bytes >= big);
    lsio_cq_destroy(cq);
    lsio_io_close(io);
    free(dest);
    free(ps);
    free(pb);
    printf("ok: nginx on port %d, %" PRIu64 " requests, %" PRIu64 " bytes\n", srv.port, st.requests,
           st.bytes);
    return 0;
}
