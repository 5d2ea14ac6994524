/*
 * test_https.c — the http backend over TLS, against nginx with a
 * self-signed certificate and HTTP/2 on 127.0.0.1: verification is on by
 * default (the unknown certificate is refused, with an error saying so),
 * verify_tls = 0 reads the right bytes, and the parallel range GETs are
 * multiplexed as HTTP/2 streams over few connections (nginx's access log
 * records the protocol and connection of every request).
 */
#include <errno.h>

#include "http_testutil.h"
#include "lsio_io.h"

static test_server srv;
static void stop_srv(void) { server_stop(&srv); }

int main(void)
{
    const char *dir = test_tmpdir("https");
    char path[4200], log[4200], url[256];
    const size_t size = 8u << 20;
    snprintf(path, sizeof path, "%s/data.bin", dir);
    unsigned char *ref = make_file(path, size, 7);
    snprintf(log, sizeof log, "%s.access.log", dir);
    unlink(log);
    setenv("LSIO_SERVE_LOG", log, 1);
    server_start(&srv, "nginx-tls", dir);
    atexit(stop_srv);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/data.bin", srv.port);

    /* verification on by default: refused, and said why */
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, url, NULL));
    lsio_buf *b;
    int rc = lsio_io_read(io, url, 0, 100, &b);
    CHECK(rc < 0);
    CHECK(strstr(lsio_last_error(), "certificate") || strstr(lsio_last_error(), "SSL"));
    CHECK(strstr(lsio_last_error(), url) != NULL);
    lsio_io_close(io);

    /* verification off: the bytes, many ranges in parallel */
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.verify_tls = 0;
    o.merge_gap = -1; /* one request per range */
    CHECK_OK(lsio_io_open(&io, url, &o));
    enum { N = 48 };
    lsio_range r[N];
    for (int i = 0; i < N; i++)
        r[i] = (lsio_range){.offset = (int64_t)i * 170000 + 11, .length = 60000 + i, .user_data = (uint64_t)i};
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    CHECK_OK(lsio_get_ranges(io, cq, url, r, N, 0));
    for (int got = 0; got < N; got++) {
        lsio_completion c;
        CHECK_EQ(lsio_cq_wait(cq, &c, 1, 30000), 1);
        if (c.status)
            fprintf(stderr, "%s\n", c.error);
        CHECK_EQ(c.status, 0);
        CHECK_EQ(c.len, r[c.user_data].length);
        CHECK(!memcmp(c.data, ref + r[c.user_data].offset, c.len));
        lsio_completion_release(&c);
    }
    lsio_cq_destroy(cq);
    CHECK_OK(lsio_io_read(io, url, -1000, LSIO_TO_END, &b));
    CHECK(!memcmp(lsio_buf_data(b), ref + size - 1000, 1000));
    lsio_buf_release(b);
    lsio_io_close(io);
    server_stop(&srv); /* flushes the access log */

    /* HTTP/2, multiplexed: N + 1 GETs (and a HEAD) over a few connections */
    FILE *f = fopen(log, "r");
    CHECK(f != NULL);
    char line[512], conns[64][32];
    int nconn = 0, h2 = 0, lines = 0;
    while (fgets(line, sizeof line, f)) {
        char proto[32], conn[32];
        if (sscanf(line, "%31s %31s", proto, conn) != 2 || !strstr(line, "data.bin"))
            continue;
        lines++;
        h2 += !strcmp(proto, "HTTP/2.0");
        int seen = 0;
        for (int i = 0; i < nconn; i++)
            seen |= !strcmp(conns[i], conn);
        if (!seen && nconn < 64)
            snprintf(conns[nconn++], sizeof conns[0], "%s", conn);
    }
    fclose(f);
    unlink(log);
    CHECK(lines >= N + 1);
    CHECK_EQ(h2, lines);
    CHECK(nconn <= 4);
    free(ref);
    printf("ok: https with HTTP/2 on port %d: %d requests over %d connection%s\n", srv.port, lines,
           nconn, nconn == 1 ? "" : "s");
    return 0;
}
