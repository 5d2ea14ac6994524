/* test_fallback: choosing the local backend. AUTO tries uring and falls
 * back to posix with the reason recorded; LSIO_DISABLE_URING=1 simulates an
 * unavailable io_uring; LSIO_BACKEND=posix|uring forces one for AUTO; an
 * explicit backend in the options wins over the environment. */
#include "io_testutil.h"

static const char *path;

static lsio_io *open_with(lsio_backend_kind k, int *rc)
{
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.backend = k;
    o.workers = 2;
    lsio_io *io = NULL;
    *rc = lsio_io_open(&io, path, &o);
    return io;
}

static void read_check(lsio_io *io)
{
    lsio_buf *b;
    CHECK_OK(lsio_io_read(io, path, 10, 1000, &b));
    CHECK(tu_same_as_file(path, 10, lsio_buf_data(b), 1000));
    lsio_buf_release(b);
}

int main(void)
{
    const char *dir = test_tmpdir("io_fallback");
    char *p = tu_make_file(dir, "f", 100000, 9);
    path = p;
    int rc;
    unsetenv("LSIO_BACKEND");
    unsetenv("LSIO_DISABLE_URING");

    /* AUTO as the machine allows: uring without a reason, or posix with one. */
    lsio_io *io = open_with(LSIO_BACKEND_AUTO, &rc);
    CHECK_OK(rc);
    const char *name = lsio_io_backend_name(io);
    const char *why = lsio_io_fallback_reason(io);
    printf("auto: %s%s%s\n", name, why ? " — " : "", why ? why : "");
    CHECK((!strcmp(name, "uring") && !why) || (!strcmp(name, "posix") && why));
    read_check(io);
    lsio_io_close(io);
    int uring_works = !strcmp(name, "uring");

    /* io_uring made unavailable: AUTO falls back and says why. */
    setenv("LSIO_DISABLE_URING", "1", 1);
    io = open_with(LSIO_BACKEND_AUTO, &rc);
    CHECK_OK(rc);
    CHECK(!strcmp(lsio_io_backend_name(io), "posix"));
    CHECK(lsio_io_fallback_reason(io));
    CHECK(strstr(lsio_io_fallback_reason(io), "LSIO_DISABLE_URING"));
    read_check(io);
    lsio_io_close(io);
    /* ... and asking for uring explicitly fails with a message */
    io = open_with(LSIO_BACKEND_URING, &rc);
    CHECK(!io);
    CHECK(rc < 0);
    CHECK(strstr(lsio_last_error(), "LSIO_DISABLE_URING"));
    setenv("LSIO_BACKEND", "uring", 1);
    io = open_with(LSIO_BACKEND_AUTO, &rc);
    CHECK(!io && rc < 0);
    unsetenv("LSIO_DISABLE_URING");

    /* LSIO_BACKEND forces AUTO's choice. */
    setenv("LSIO_BACKEND", "posix", 1);
    io = open_with(LSIO_BACKEND_AUTO, &rc);
    CHECK_OK(rc);
    CHECK(!strcmp(lsio_io_backend_name(io), "posix"));
    CHECK(!lsio_io_fallback_reason(io)); /* chosen, not fallen back */
    lsio_io_close(io);
    setenv("LSIO_BACKEND", "uring", 1);
    io = open_with(LSIO_BACKEND_AUTO, &rc);
    if (uring_works) {
        CHECK_OK(rc);
        CHECK(!strcmp(lsio_io_backend_name(io), "uring"));
        read_check(io);
        lsio_io_close(io);
    } else {
        CHECK(!io && rc < 0);
    }
    /* An explicit backend wins over the environment. */
    io = open_with(LSIO_BACKEND_POSIX, &rc);
    CHECK_OK(rc);
    CHECK(!strcmp(lsio_io_backend_name(io), "posix"));
    lsio_io_close(io);
    setenv("LSIO_BACKEND", "bogus", 1);
    io = open_with(LSIO_BACKEND_AUTO, &rc);
    CHECK_EQ(rc, -EINVAL);
    CHECK(strstr(lsio_last_error(), "bogus"));
    unsetenv("LSIO_BACKEND");

    /* file:// opens a local backend too */
    char url[4200];
    snprintf(url, sizeof url, "file://%s", path);
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.workers = 1;
    CHECK_OK(lsio_io_open(&io, url, &o));
    lsio_buf *b;
    CHECK_OK(lsio_io_read(io, url, -5, LSIO_TO_END, &b));
    CHECK_EQ(lsio_buf_len(b), 5);
    CHECK(tu_same_as_file(path, 99995, lsio_buf_data(b), 5));
    lsio_buf_release(b);
    lsio_io_close(io);

    free(p);
    tu_rm_rf(dir);
    return 0;
}
