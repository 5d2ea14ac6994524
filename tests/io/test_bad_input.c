/* test_bad_input: every bad input of the IO issue fails alone, with a
 * message naming the location and the range, while the other ranges
 * complete: a missing file, a directory, a range past EOF, an empty range, a
 * negative offset before the start, permission denied, zero workers, more
 * bytes than the pool may hold; malformed calls fail at once and queue
 * nothing. Run for posix and for whatever AUTO picks. */
#include <inttypes.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "io_testutil.h"

#define MAXC 64
static lsio_completion got[MAXC];

/* Submit and collect completions by user_data (0..n-1). */
static void get(lsio_io *io, const char *loc, lsio_range *r, size_t n)
{
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    for (size_t i = 0; i < n; i++)
        r[i].user_data = i;
    CHECK_OK(lsio_get_ranges(io, cq, loc, r, n, 0));
    CHECK_EQ(lsio_cq_pending(cq), n);
    memset(got, 0, sizeof got);
    size_t have = 0;
    while (have < n) {
        lsio_completion c;
        int k = lsio_cq_wait(cq, &c, 1, 10000);
        CHECK_EQ(k, 1);
        CHECK(c.user_data < n);
        got[c.user_data] = c;
        have++;
    }
    CHECK_EQ(lsio_cq_pending(cq), 0);
    lsio_cq_destroy(cq);
}

static void release_all(size_t n)
{
    for (size_t i = 0; i < n; i++)
        lsio_completion_release(&got[i]);
}

static void expect_err(size_t i, int status, const char *a, const char *b)
{
    if (got[i].status != status || !got[i].error || (a && !strstr(got[i].error, a)) ||
        (b && !strstr(got[i].error, b)))
        fprintf(stderr, "range %zu: status %d (%s), want %d with '%s' '%s'\n", i, got[i].status,
                got[i].error ? got[i].error : "(no message)", status, a ? a : "", b ? b : "");
    CHECK_EQ(got[i].status, status);
    CHECK(got[i].error);
    CHECK(!a || strstr(got[i].error, a));
    CHECK(!b || strstr(got[i].error, b));
    CHECK(got[i].buf == NULL);
}

static void expect_ok(size_t i, const char *path, uint64_t off, size_t len)
{
    if (got[i].status)
        fprintf(stderr, "range %zu: %s\n", i, got[i].error);
    CHECK_EQ(got[i].status, 0);
    CHECK_EQ(got[i].len, len);
    CHECK(tu_same_as_file(path, off, got[i].data, len));
}

static void run(const char *which, const char *dir)
{
    char *f5000 = tu_make_file(dir, "f5000", 5000, 1);
    char missing[4200], sub[4200];
    snprintf(missing, sizeof missing, "%s/no/such/file", dir);
    snprintf(sub, sizeof sub, "%s/adir", dir);
    mkdir(sub, 0755);

    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.backend = !strcmp(which, "posix") ? LSIO_BACKEND_POSIX : LSIO_BACKEND_AUTO;
    o.workers = 0; /* zero workers: documented as "one per core" */
    o.pool_bytes = 1 << 20;
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, dir, &o));
    printf("%s: %s\n", which, lsio_io_backend_name(io));

    /* One call mixing good and bad ranges of one file. */
    static unsigned char dest[8192];
    lsio_range r[] = {
        {.offset = 0, .length = 100},              /* 0 ok */
        {.offset = 4096, .length = 4096},          /* 1 past EOF */
        {.offset = 10, .length = 0},               /* 2 empty */
        {.offset = -6000, .length = 10},           /* 3 before the start */
        {.offset = -100, .length = LSIO_TO_END},   /* 4 ok: last 100 */
        {.offset = 4990, .length = 20, .dest = dest}, /* 5 past EOF into dest */
        {.offset = 4000, .length = 900, .dest = dest}, /* 6 ok into dest */
        {.offset = 0, .length = 5000},             /* 7 ok: all of it */
        {.offset = 5000, .length = LSIO_TO_END},   /* 8 empty: at the end */
        {.offset = 6000, .length = LSIO_TO_END},   /* 9 past the end */
        {.offset = 4999, .length = 1},             /* 10 ok: last byte */
        {.offset = 5000, .length = 1},             /* 11 past EOF by one */
    };
    size_t n = sizeof r / sizeof r[0];
    get(io, f5000, r, n);
    expect_ok(0, f5000, 0, 100);
    expect_err(1, -LSIO_ERANGE, "f5000 [4096, 8192)", "range past end of file (size 5000)");
    CHECK_EQ(got[2].status, 0);
    CHECK_EQ(got[2].len, 0);
    expect_err(3, -LSIO_ERANGE, "f5000 [-6000", "before the start");
    expect_ok(4, f5000, 4900, 100);
    expect_err(5, -LSIO_ERANGE, "f5000 [4990, 5010)", "past end");
    expect_ok(6, f5000, 4000, 900);
    CHECK(got[6].data == dest);
    expect_ok(7, f5000, 0, 5000);
    CHECK_EQ(got[8].status, 0);
    CHECK_EQ(got[8].len, 0);
    expect_err(9, -LSIO_ERANGE, "f5000 [6000, end)", "past end");
    expect_ok(10, f5000, 4999, 1);
    expect_err(11, -LSIO_ERANGE, "f5000 [5000, 5001)", NULL);
    release_all(n);

    /* More bytes than the pool may hold: that range alone fails; into
     * caller memory the pool's bound does not apply. */
    char *big = tu_make_file(dir, "big", 3 << 20, 2);
    unsigned char *bigdest = malloc(3 << 20);
    lsio_range rb[] = {{.offset = 0, .length = 100},
                       {.offset = 0, .length = 2 << 20},
                       {.offset = 1, .length = 3 << 20, .dest = bigdest},
                       {.offset = 0, .length = 3 << 20, .dest = bigdest},
                       {.offset = -(1 << 19), .length = LSIO_TO_END}};
    get(io, big, rb, 5);
    expect_ok(0, big, 0, 100);
    expect_err(1, -E2BIG, "big [0, 2097152)", "pool");
    expect_err(2, -LSIO_ERANGE, "big [1, 3145729)", "past end");
    expect_ok(3, big, 0, 3 << 20);
    expect_ok(4, big, 5 << 19, 1 << 19);
    release_all(5);
    free(bigdest);
    free(big);

    /* Without a size call (non-negative offsets only), past-EOF ranges are
     * found by the read, also when merged with good ones. */
    lsio_range r2[] = {{.offset = 4000, .length = 500}, {.offset = 4600, .length = 1000},
                       {.offset = 4500, .length = 500}};
    get(io, f5000, r2, 3);
    expect_ok(0, f5000, 4000, 500);
    expect_err(1, -LSIO_ERANGE, "f5000 [4600, 5600)", "range past end of file (size 5000)");
    expect_ok(2, f5000, 4500, 500);
    release_all(3);

    /* A missing file: every range fails with the path and its range. */
    lsio_range r3[] = {{.offset = 0, .length = 10}, {.offset = -10, .length = 5},
                       {.offset = 0, .length = 0}};
    get(io, missing, r3, 3);
    expect_err(0, -ENOENT, missing, "[0, 10)");
    expect_err(1, -ENOENT, missing, "[-10, +5)");
    CHECK_EQ(got[2].status, 0);
    release_all(3);

    /* A directory. */
    lsio_range r4[] = {{.offset = 0, .length = 10}, {.offset = -10, .length = LSIO_TO_END}};
    get(io, sub, r4, 2);
    expect_err(0, -EISDIR, "adir [0, 10)", NULL);
    expect_err(1, -EISDIR, "adir", "Is a directory");
    release_all(2);
    uint64_t size;
    CHECK_EQ(lsio_io_size(io, sub, &size), -EISDIR);
    CHECK(strstr(lsio_last_error(), "adir"));
    CHECK_EQ(lsio_io_size(io, missing, &size), -ENOENT);
    CHECK_OK(lsio_io_size(io, f5000, &size));
    CHECK_EQ(size, 5000);

    /* Synchronous read: the message travels to lsio_last_error. */
    lsio_buf *b;
    CHECK_EQ(lsio_io_read(io, f5000, 4096, 4096, &b), -LSIO_ERANGE);
    CHECK(strstr(lsio_last_error(), "f5000 [4096, 8192)"));
    CHECK_OK(lsio_io_read(io, f5000, 0, LSIO_TO_END, &b));
    CHECK_EQ(lsio_buf_len(b), 5000);
    CHECK(tu_same_as_file(f5000, 0, lsio_buf_data(b), 5000));
    lsio_buf_release(b);
    CHECK_OK(lsio_io_read(io, f5000, 7, 0, &b)); /* empty */
    CHECK_EQ(lsio_buf_len(b), 0);
    lsio_buf_release(b);

    /* Malformed calls fail at once and queue nothing. */
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_range bad[] = {{.offset = 0, .length = 10}, {.offset = 0, .length = -5}};
    CHECK_EQ(lsio_get_ranges(io, cq, f5000, bad, 2, 0), -EINVAL);
    lsio_range bad2[] = {{.offset = 0, .length = LSIO_TO_END, .dest = dest}};
    CHECK_EQ(lsio_get_ranges(io, cq, f5000, bad2, 1, 0), -EINVAL);
    lsio_range bad3[] = {{.offset = INT64_MAX - 5, .length = 10}};
    CHECK_EQ(lsio_get_ranges(io, cq, f5000, bad3, 1, 0), -EINVAL);
    CHECK_EQ(lsio_get_ranges(io, cq, NULL, r, 1, 0), -EINVAL);
    CHECK_EQ(lsio_get_ranges(io, cq, f5000, NULL, 1, 0), -EINVAL);
    CHECK_EQ(lsio_get_ranges(io, cq, "http://example.com/x", r, 1, 0), -EINVAL);
    CHECK_EQ(lsio_get_ranges(io, cq, "s3://bucket/x", r, 1, 0), -EINVAL);
    CHECK_OK(lsio_get_ranges(io, cq, f5000, r, 0, 0)); /* nothing to do */
    CHECK_EQ(lsio_cq_pending(cq), 0);
    lsio_completion c;
    CHECK_EQ(lsio_cq_wait(cq, &c, 1, 50), 0);
    lsio_cq_destroy(cq);

    /* file:// locations work like paths. */
    char url[4300];
    snprintf(url, sizeof url, "file://%s", f5000);
    lsio_range r5[] = {{.offset = 100, .length = 200}, {.offset = 9000, .length = 1}};
    get(io, url, r5, 2);
    expect_ok(0, f5000, 100, 200);
    expect_err(1, -LSIO_ERANGE, url, "[9000, 9001)");
    release_all(2);

    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    CHECK(st.errors >= 10);
    lsio_io_close(io);
    free(f5000);
}

/* Permission denied: as root, drop to nobody in a forked child. */
static void permission(const char *dir)
{
    char *secret = tu_make_file(dir, "secret", 1000, 3);
    chmod(secret, 0);
    chmod(dir, 0755);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0) {
            struct passwd *pw = getpwnam("nobody");
            if (!pw || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
                _exit(77);
        }
        lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
        o.backend = LSIO_BACKEND_POSIX;
        o.workers = 2;
        lsio_io *io;
        if (lsio_io_open(&io, secret, &o) < 0)
            _exit(2);
        lsio_range r[] = {{.offset = 0, .length = 10}};
        get(io, secret, r, 1);
        expect_err(0, -EACCES, "secret [0, 10)", "Permission denied");
        release_all(1);
        lsio_io_close(io);
        _exit(0);
    }
    int ws;
    waitpid(pid, &ws, 0);
    CHECK(WIFEXITED(ws));
    if (WEXITSTATUS(ws) == 77)
        printf("permission test skipped: cannot become nobody\n");
    else
        CHECK_EQ(WEXITSTATUS(ws), 0);
    chmod(secret, 0644);
    free(secret);
}

int main(void)
{
    const char *dir = test_tmpdir("io_bad");
    lsio_io *io;
    CHECK_EQ(lsio_io_open(&io, "foo://bar", NULL), -EPROTONOSUPPORT);
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.backend = LSIO_BACKEND_HTTP;
    CHECK_EQ(lsio_io_open(&io, dir, &o), -EINVAL); /* http cannot serve a path */
    o.backend = LSIO_BACKEND_POSIX;
    o.direct = 7;
    CHECK_EQ(lsio_io_open(&io, dir, &o), -EINVAL);
    run("posix", dir);
    run("auto", dir);
    permission(dir);
    tu_rm_rf(dir);
    return 0;
}
