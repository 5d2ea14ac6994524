/*
 * test_faults.c — the http backend against tests/servers/faulty.py: 503s,
 * 429s, 500s, stalls, bodies cut short, connection resets, a wrong or
 * missing Content-Range, a body longer than asked and a server that
 * ignores Range. Each read either returns exactly the file's bytes or
 * fails with an error naming the URL, the range, the status or curl error
 * and the attempts — never wrong bytes, never a hang (deadlines bound it).
 */
#include <errno.h>
#include <inttypes.h>

#include "http_testutil.h"
#include "lsio_io.h"

static test_server srv;
static void stop_srv(void) { server_stop(&srv); }
static unsigned char *ref;
static char base[128];
enum { FSIZE = 300000 };

/* Read [off, off+len) of /<fault>/data.bin into caller memory (and, when
 * pooled, into a buffer): returns the status; checks the bytes on success
 * and the message on failure. */
static int read_one(lsio_io *io, const char *fault, int64_t off, int64_t len, int pooled,
                    char *msg, size_t msgsz)
{
    char url[256];
    snprintf(url, sizeof url, "%s/%s%s", base, fault, strstr(fault, "data.bin") ? "" : "/data.bin");
    uint64_t t0 = lsio_now_ns();
    unsigned char *dest = malloc((size_t)len);
    CHECK(dest != NULL);
    memset(dest, 0xEE, (size_t)len);
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_range r = {.offset = off, .length = len, .dest = pooled ? NULL : dest, .user_data = 7};
    CHECK_OK(lsio_get_ranges(io, cq, url, &r, 1, 0));
    lsio_completion c;
    CHECK_EQ(lsio_cq_wait(cq, &c, 1, 60000), 1);
    CHECK_EQ(c.user_data, 7);
    int st = c.status;
    if (st == 0) {
        CHECK_EQ(c.len, len);
        CHECK(!memcmp(c.data, ref + off, (size_t)len));
    } else {
        CHECK(c.error != NULL);
        CHECK(strstr(c.error, url) != NULL);
        snprintf(msg, msgsz, "%s", c.error);
    }
    lsio_completion_release(&c);
    lsio_cq_destroy(cq);
    free(dest);
    if (getenv("LSIO_TEST_VERBOSE"))
        fprintf(stderr, "%s: %d %.2f s\n", fault, st, (double)(lsio_now_ns() - t0) / 1e9);
    return st;
}

/* An open-ended read of /<fault>/data.bin from off (LSIO_TO_END, no size
 * request first; off < 0: the last -off bytes): the bytes to the end of the
 * file, or an error naming the URL and "bytes=<off>-" ("bytes=-N"). */
static int read_open(lsio_io *io, const char *fault, int64_t off, char *msg, size_t msgsz)
{
    char url[256];
    snprintf(url, sizeof url, "%s/%s", base, fault);
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_range r = {.offset = off, .length = LSIO_TO_END, .user_data = 3};
    CHECK_OK(lsio_get_ranges(io, cq, url, &r, 1, 0));
    lsio_completion c;
    CHECK_EQ(lsio_cq_wait(cq, &c, 1, 60000), 1);
    int st = c.status;
    int64_t start = off < 0 ? FSIZE + off : off;
    if (st == 0) {
        CHECK(start >= 0);
        CHECK_EQ(c.len, FSIZE - start);
        CHECK(!memcmp(c.data, ref + start, (size_t)(FSIZE - start)));
    } else {
        char want[64];
        if (off < 0)
            snprintf(want, sizeof want, "bytes=-%" PRId64, -off);
        else
            snprintf(want, sizeof want, "bytes=%" PRId64 "-", off);
        CHECK(c.error != NULL);
        CHECK(strstr(c.error, url) != NULL);
        CHECK(strstr(c.error, want) != NULL || st == -LSIO_ERANGE);
        snprintf(msg, msgsz, "%s", c.error);
    }
    lsio_completion_release(&c);
    lsio_cq_destroy(cq);
    return st;
}

/* How many requests the server had for a path. */
static int count_of(const char *path)
{
    char url[300];
    snprintf(url, sizeof url, "%s/_count/%s", base, path);
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, base, NULL));
    lsio_buf *b;
    CHECK_OK(lsio_io_read(io, url, 0, LSIO_TO_END, &b));
    char t[32] = "";
    size_t n = lsio_buf_len(b) < sizeof t - 1 ? lsio_buf_len(b) : sizeof t - 1;
    memcpy(t, lsio_buf_data(b), n);
    lsio_buf_release(b);
    lsio_io_close(io);
    return atoi(t);
}

static void test_open_ended(const lsio_io_opts *o)
{
    char msg[1024] = "";
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, base, o));
    /* one request, no HEAD: the core does not ask for the size */
    CHECK_EQ(read_open(io, "ok/0/data.bin?oe", 0, msg, sizeof msg), 0);
    CHECK_EQ(count_of("ok/0/data.bin?oe"), 1);
    /* a suffix: one request too, the server says where it starts */
    CHECK_EQ(read_open(io, "ok/0/data.bin?sfx", -4321, msg, sizeof msg), 0);
    CHECK_EQ(count_of("ok/0/data.bin?sfx"), 1);
    CHECK_EQ(read_open(io, "ok/0/data.bin?sfxall", -FSIZE, msg, sizeof msg), 0);
    /* a server that answers a suffix with the first bytes (s3rver): the
     * size it gave makes a second request, from the right offset */
    CHECK_EQ(read_open(io, "nosfx/always/data.bin?s", -4321, msg, sizeof msg), 0);
    CHECK_EQ(count_of("nosfx/always/data.bin?s"), 2);
    const char *transient[] = {"503/2", "429/1", "500/1", "short/2", "reset/2", "badcr/1",
                               "nocr/1", "longer/1", "full/always", "slowfull/always"};
    for (size_t i = 0; i < sizeof transient / sizeof *transient; i++) {
        for (int k = 0; k < 3; k++) {
            char f[64];
            int64_t off = k == 2 ? -1234 : k ? 1234 : 0;
            snprintf(f, sizeof f, "%s/data.bin?open%d", transient[i], k);
            int st = read_open(io, f, off, msg, sizeof msg);
            if (st)
                fprintf(stderr, "open-ended %s from %" PRId64 ": %s\n", f, off, msg);
            CHECK_EQ(st, 0);
        }
    }
    CHECK_EQ(read_open(io, "503/always/data.bin?o", 1234, msg, sizeof msg), -LSIO_EHTTP);
    CHECK(strstr(msg, "HTTP 503") && strstr(msg, "bytes=1234-"));
    CHECK(read_open(io, "short/always/data.bin?o", 0, msg, sizeof msg) < 0);
    CHECK(strstr(msg, "bytes=0-") && strstr(msg, "attempt"));
    CHECK_EQ(read_open(io, "ok/0/data.bin?past", FSIZE + 10, msg, sizeof msg), -LSIO_ERANGE);
    /* a suffix longer than the object: the server sends it all; that is a
     * slice before the start, as for a local file (and is not retried) */
    CHECK_EQ(read_open(io, "ok/0/data.bin?before", -(FSIZE + 10), msg, sizeof msg), -LSIO_ERANGE);
    CHECK(strstr(msg, "offset before the start (size 300000)") && strstr(msg, "bytes=-300010"));
    CHECK_EQ(count_of("ok/0/data.bin?before"), 1);
    CHECK_EQ(read_open(io, "full/always/data.bin?before", -(FSIZE + 10), msg, sizeof msg),
             -LSIO_ERANGE);
    CHECK(strstr(msg, "offset before the start (size 300000)"));
    CHECK_EQ(read_open(io, "503/always/data.bin?s", -99, msg, sizeof msg), -LSIO_EHTTP);
    CHECK(strstr(msg, "HTTP 503") && strstr(msg, "bytes=-99"));
    /* no length to a suffix: the tail cannot be found, at once; from an
     * offset the body grows to the connection's end */
    CHECK_EQ(read_open(io, "nolen/always/data.bin?s", -99, msg, sizeof msg), -LSIO_EHTTP);
    CHECK(strstr(msg, "without Content-Length") && strstr(msg, "1 attempt"));
    CHECK_EQ(read_open(io, "nolen/always/data.bin?f", 777, msg, sizeof msg), 0);
    CHECK_EQ(read_open(io, "404/always/data.bin?o", 0, msg, sizeof msg), -ENOENT);
    lsio_io_close(io);
    /* a buffer pool too small for the object: -E2BIG, not a partial read */
    lsio_io_opts small = *o;
    small.pool_bytes = 64 << 10;
    CHECK_OK(lsio_io_open(&io, base, &small));
    CHECK_EQ(read_open(io, "ok/0/data.bin?small", 0, msg, sizeof msg), -E2BIG);
    CHECK(strstr(msg, "bound"));
    lsio_io_close(io);
}

int main(void)
{
    const char *dir = test_tmpdir("http-faults");
    char path[4200], msg[1024] = "";
    snprintf(path, sizeof path, "%s/data.bin", dir);
    ref = make_file(path, FSIZE, 9);
    server_start(&srv, "faulty", dir);
    atexit(stop_srv);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", srv.port);

    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.retries = 3;
    o.timeout_ms = 1000; /* a stall is noticed after 1 s */
    o.deadline_ms = 6000;
    o.merge_gap = -1;
    o.split_bytes = -1;
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, base, &o));

    /* transient faults: retried, then the right bytes */
    const char *transient[] = {"503/2", "429/1", "500/1", "short/2", "reset/2", "badcr/1",
                               "nocr/1", "longer/1", "stall/1", "ok/0"};
    for (size_t i = 0; i < sizeof transient / sizeof *transient; i++) {
        for (int pooled = 0; pooled < 2; pooled++) {
            /* a query of its own per run, so the fault counter starts over */
            char f[64];
            snprintf(f, sizeof f, "%s/data.bin%s", transient[i], pooled ? "?pooled" : "");
            int st = read_one(io, f, 1000 + (int64_t)i, 50000, pooled, msg, sizeof msg);
            if (st)
                fprintf(stderr, "%s: %s\n", f, msg);
            CHECK_EQ(st, 0);
            if (!strcmp(transient[i], "stall/1"))
                break; /* one stall is enough time spent */
        }
    }
    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    CHECK(st.retries >= 10);

    /* a server that ignores Range: the range is taken from the whole body */
    CHECK_EQ(read_one(io, "full/always", 12345, 1000, 0, msg, sizeof msg), 0);
    CHECK_EQ(read_one(io, "slowfull/always", FSIZE - 777, 777, 1, msg, sizeof msg), 0);
    CHECK_EQ(read_one(io, "full/always", 0, FSIZE, 1, msg, sizeof msg), 0);

    /* permanent faults: a clear error after the retries, no data */
    struct { const char *f; int err; const char *what; } perm[] = {
        {"503/always", -LSIO_EHTTP, "HTTP 503"},
        {"429/always", -LSIO_EHTTP, "HTTP 429"},
        {"404/always", -ENOENT, "HTTP 404"},
        {"short/always", 0, "attempts"},
        {"reset/always", -LSIO_ENET, "attempts"},
        {"badcr/always", -LSIO_ESIZE, "Content-Range"},
        {"nocr/always", -LSIO_ESIZE, "Content-Range"},
        {"longer/always", -LSIO_ESIZE, "longer"},
    };
    for (size_t i = 0; i < sizeof perm / sizeof *perm; i++) {
        int s = read_one(io, perm[i].f, 100, 20000, (int)(i & 1), msg, sizeof msg);
        if (perm[i].err && s != perm[i].err)
            fprintf(stderr, "%s: %s\n", perm[i].f, msg);
        if (perm[i].err)
            CHECK_EQ(s, perm[i].err);
        else
            CHECK(s < 0);
        if (!strstr(msg, perm[i].what) || !strstr(msg, "bytes=100-20099"))
            fprintf(stderr, "%s: unexpected message: %s\n", perm[i].f, msg);
        CHECK(strstr(msg, perm[i].what) != NULL);
        CHECK(strstr(msg, "bytes=100-20099") != NULL);
        if (perm[i].err != -ENOENT)
            CHECK(strstr(msg, "4 attempts") != NULL || strstr(msg, "deadline") != NULL);
    }

    /* a stall that never ends: bounded by the deadline */
    uint64_t t0 = lsio_now_ns();
    int s = read_one(io, "stall/always", 0, 1000, 0, msg, sizeof msg);
    double secs = (double)(lsio_now_ns() - t0) / 1e9;
    CHECK(s < 0);
    CHECK(secs < 15);
    CHECK(strstr(msg, "attempt") != NULL);
    lsio_io_close(io);

    test_open_ended(&o);

    /* HEAD size through a 503 that clears */
    CHECK_OK(lsio_io_open(&io, base, &o));
    uint64_t sz = 0;
    char url[256];
    snprintf(url, sizeof url, "%s/503/2/data.bin", base);
    CHECK_OK(lsio_io_size(io, url, &sz));
    CHECK_EQ(sz, FSIZE);
    lsio_io_close(io);
    free(ref);
    printf("ok: faults handled (stall bounded in %.1f s)\n", secs);
    return 0;
}
