/*
 * test_s3_multipart.c — large s3 puts go up as multipart uploads (thresholds
 * made small through LSIO_S3_MULTIPART_THRESHOLD / LSIO_S3_PART_SIZE):
 * objects just under, at and over the threshold, a size that is an exact
 * multiple of the part size, several multipart puts at once, each read back
 * byte for byte from s3rver; and s3rver keeps no upload behind.
 * tests/python/test_remote_s3.py checks the requests themselves (parts in
 * parallel, Complete's XML, AbortMultipartUpload after a failed part) and
 * that boto3 reads the result.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "http_testutil.h"
#include "lsio_io.h"

static test_server srv;
static void stop_srv(void) { server_stop(&srv); }

/* Entries named "uploads" anywhere under dir that still hold something. */
static int pending_uploads(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) || !S_ISDIR(st.st_mode))
            continue;
        if (!strcmp(e->d_name, "uploads")) {
            DIR *u = opendir(p);
            struct dirent *f;
            while (u && (f = readdir(u)))
                n += f->d_name[0] != '.';
            if (u)
                closedir(u);
        } else {
            n += pending_uploads(p);
        }
    }
    closedir(d);
    return n;
}

int main(void)
{
    const char *dir = test_tmpdir("s3rver-mp");
    server_start(&srv, "s3rver", dir);
    atexit(stop_srv);
    char ep[128];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", srv.port);
    setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ENDPOINT_URL", ep, 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_NO_SIGN_REQUEST");
    unsetenv("AWS_PROFILE");
    setenv("LSIO_S3_MULTIPART_THRESHOLD", "1M", 1);
    setenv("LSIO_S3_PART_SIZE", "300000", 1);

    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.max_connections = 4;
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, "s3://lsio-test/", &o));

    const size_t max = 3u << 20;
    unsigned char *data = malloc(max + 128); /* puts start at data + i */
    CHECK(data != NULL);
    for (size_t i = 0; i < max + 128; i++)
        data[i] = (unsigned char)(i * 167 + (i >> 9) + (i >> 17));

    /* under, at and over the threshold; exactly 7 parts; the largest */
    const size_t sizes[] = {(1u << 20) - 1, 1u << 20, (1u << 20) + 1, 7 * 300000, max};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    char loc[NS][128];
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    for (int i = 0; i < NS; i++) {
        snprintf(loc[i], sizeof loc[i], "s3://lsio-test/mp/obj %d.bin", i);
        /* all at once: several uploads share the engine */
        CHECK_OK(lsio_put(io, cq, loc[i], data + i, sizes[i], (uint64_t)i, 0));
    }
    for (int got = 0; got < NS; got++) {
        lsio_completion c;
        CHECK_EQ(lsio_cq_wait(cq, &c, 1, 60000), 1);
        if (c.status)
            fprintf(stderr, "put %d: %s\n", (int)c.user_data, c.error);
        CHECK_EQ(c.status, 0);
        lsio_completion_release(&c);
    }
    lsio_cq_destroy(cq);
    for (int i = 0; i < NS; i++) {
        uint64_t sz;
        CHECK_OK(lsio_io_size(io, loc[i], &sz));
        CHECK_EQ(sz, sizes[i]);
        lsio_buf *b;
        CHECK_OK(lsio_io_read(io, loc[i], 0, LSIO_TO_END, &b));
        CHECK_EQ(lsio_buf_len(b), sizes[i]);
        CHECK(!memcmp(lsio_buf_data(b), data + i, sizes[i]));
        lsio_buf_release(b);
    }
    CHECK_EQ(pending_uploads(dir), 0);

    /* overwrite a multipart object with a smaller multipart one */
    CHECK_OK(lsio_write(io, loc[4], data + 99, (1u << 20) + 12345, 0));
    lsio_buf *b;
    CHECK_OK(lsio_io_read(io, loc[4], 0, LSIO_TO_END, &b));
    CHECK_EQ(lsio_buf_len(b), (1u << 20) + 12345);
    CHECK(!memcmp(lsio_buf_data(b), data + 99, lsio_buf_len(b)));
    lsio_buf_release(b);

    /* a bucket that does not exist: the upload fails at its start, clearly */
    int rc = lsio_write(io, "s3://no-such-bucket/x.bin", data, 2u << 20, 0);
    CHECK(rc == -ENOENT);

    lsio_io_close(io);

    /* closing with uploads in flight: each put completes (done or
     * cancelled), nothing hangs or leaks */
    CHECK_OK(lsio_io_open(&io, "s3://lsio-test/", &o));
    CHECK_OK(lsio_cq_create(&cq));
    for (int i = 0; i < 3; i++)
        CHECK_OK(lsio_put(io, cq, loc[i], data, max, (uint64_t)i, 0));
    lsio_io_close(io);
    for (int got = 0; got < 3; got++) {
        lsio_completion c;
        CHECK_EQ(lsio_cq_wait(cq, &c, 1, 0), 1);
        CHECK(c.status == 0 || c.status == -ECANCELED);
        lsio_completion_release(&c);
    }
    lsio_cq_destroy(cq);
    free(data);
    printf("ok: multipart uploads to s3rver on port %d\n", srv.port);
    return 0;
}
