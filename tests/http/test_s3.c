/*
 * test_s3.c — the s3 backend against s3rver on 127.0.0.1 (path-style on a
 * custom endpoint, SigV4 signed by libcurl): PUT objects, list them with
 * ListObjectsV2 across pages (1001 keys: s3rver pages at 1000), read them
 * whole and by ranges, sizes, DELETE (a missing object is fine), a missing
 * key (-ENOENT naming the URL), and an unknown key id refused with an error
 * that names neither the key id nor the secret. s3rver does not verify V4
 * signatures, so tests/python/test_remote_s3.py checks LSIO's signature
 * against botocore's signer, and reads and writes objects with boto3.
 */
#include <errno.h>
#include <inttypes.h>

#include "http_testutil.h"
#include "lsio_io.h"

static test_server srv;
static void stop_srv(void) { server_stop(&srv); }

typedef struct listed {
    int n;
    uint64_t total;
    char first[256];
} listed;

static int on_obj(void *ctx, const char *loc, uint64_t size)
{
    listed *l = ctx;
    if (!l->n)
        snprintf(l->first, sizeof l->first, "%s", loc);
    l->n++;
    l->total += size;
    return 0;
}

int main(void)
{
    const char *dir = test_tmpdir("s3rver");
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

    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, "s3://lsio-test/", NULL));
    CHECK(!strcmp(lsio_io_backend_name(io), "s3"));

    /* PUT objects, with keys that need encoding */
    const size_t big = 3u << 20;
    unsigned char *data = malloc(big);
    CHECK(data != NULL);
    for (size_t i = 0; i < big; i++)
        data[i] = (unsigned char)(i * 131 + (i >> 11));
    char loc[256];
    for (int i = 0; i < 12; i++) {
        snprintf(loc, sizeof loc, "s3://lsio-test/arr/c %d/k+%d.bin", i % 3, i);
        CHECK_OK(lsio_write(io, loc, data + i, 1000 + (size_t)i, 0));
    }
    CHECK_OK(lsio_write(io, "s3://lsio-test/big.bin", data, big, 0));

    /* list: all 12 under arr/, none under arx/ */
    listed l = {0};
    CHECK_OK(lsio_list(io, "s3://lsio-test/arr/", on_obj, &l));
    CHECK_EQ(l.n, 12);
    CHECK_EQ(l.total, 12 * 1000 + 66);
    CHECK(!strncmp(l.first, "s3://lsio-test/arr/c 0/k+0.bin", 64));
    /* more than one page: 1001 keys, put in parallel */
    enum { MANY = 1001 };
    lsio_cq *pq;
    CHECK_OK(lsio_cq_create(&pq));
    static char many[MANY][64];
    for (int i = 0; i < MANY; i++) {
        snprintf(many[i], sizeof many[i], "s3://lsio-test/many/%04d", i);
        CHECK_OK(lsio_put(io, pq, many[i], data + i, 1 + (size_t)(i % 7), (uint64_t)i, 0));
    }
    for (int got = 0; got < MANY; got++) {
        lsio_completion c;
        CHECK_EQ(lsio_cq_wait(pq, &c, 1, 60000), 1);
        if (c.status)
            fprintf(stderr, "%s\n", c.error);
        CHECK_EQ(c.status, 0);
        lsio_completion_release(&c);
    }
    lsio_cq_destroy(pq);
    uint64_t t_list = lsio_now_ns();
    listed lm = {0};
    CHECK_OK(lsio_list(io, "s3://lsio-test/many/", on_obj, &lm));
    CHECK_EQ(lm.n, MANY);
    uint64_t want_total = 0;
    for (int i = 0; i < MANY; i++)
        want_total += 1 + (uint64_t)(i % 7);
    CHECK_EQ(lm.total, want_total);
    CHECK(!strcmp(lm.first, "s3://lsio-test/many/0000"));
    /* a prefix that is not a "directory" */
    listed lp = {0};
    CHECK_OK(lsio_list(io, "s3://lsio-test/many/099", on_obj, &lp));
    CHECK_EQ(lp.n, 10);
    t_list = lsio_now_ns() - t_list;

    listed none = {0};
    CHECK_OK(lsio_list(io, "s3://lsio-test/arx/", on_obj, &none));
    CHECK_EQ(none.n, 0);

    /* read back */
    uint64_t sz;
    snprintf(loc, sizeof loc, "s3://lsio-test/arr/c 2/k+5.bin");
    CHECK_OK(lsio_io_size(io, loc, &sz));
    CHECK_EQ(sz, 1005);
    lsio_buf *b;
    CHECK_OK(lsio_io_read(io, loc, 0, LSIO_TO_END, &b));
    CHECK_EQ(lsio_buf_len(b), 1005);
    CHECK(!memcmp(lsio_buf_data(b), data + 5, 1005));
    lsio_buf_release(b);
    CHECK_OK(lsio_io_read(io, "s3://lsio-test/big.bin", -5000, LSIO_TO_END, &b));
    CHECK_EQ(lsio_buf_len(b), 5000);
    CHECK(!memcmp(lsio_buf_data(b), data + big - 5000, 5000));
    lsio_buf_release(b);
    lsio_range r[64];
    for (int i = 0; i < 64; i++)
        r[i] = (lsio_range){.offset = (int64_t)i * 40000 + 17, .length = 3000 + i * 7, .user_data = (uint64_t)i};
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    CHECK_OK(lsio_get_ranges(io, cq, "s3://lsio-test/big.bin", r, 64, 0));
    for (int got = 0; got < 64;) {
        lsio_completion c;
        CHECK_EQ(lsio_cq_wait(cq, &c, 1, 30000), 1);
        if (c.status)
            fprintf(stderr, "%s\n", c.error);
        CHECK_EQ(c.status, 0);
        CHECK_EQ(c.len, r[c.user_data].length);
        CHECK(!memcmp(c.data, data + r[c.user_data].offset, c.len));
        lsio_completion_release(&c);
        got++;
    }
    lsio_cq_destroy(cq);

    /* delete */
    CHECK_OK(lsio_delete(io, loc));
    CHECK_OK(lsio_delete(io, loc)); /* missing: fine */
    CHECK_EQ(lsio_io_size(io, loc, &sz), -ENOENT);
    CHECK(strstr(lsio_last_error(), "k+5.bin") || strstr(lsio_last_error(), "k%2B5.bin"));
    CHECK(strstr(lsio_last_error(), "http://127.0.0.1:") != NULL);
    CHECK_EQ(lsio_io_read(io, "s3://lsio-test/no/such/key", 0, 10, &b), -ENOENT);
    CHECK(strstr(lsio_last_error(), "/lsio-test/no/such/key") != NULL);
    CHECK(strstr(lsio_last_error(), "404") != NULL);
    CHECK(strstr(lsio_last_error(), "S3RVER") == NULL);
    lsio_io_close(io);

    /* an unknown key id is refused (s3rver does not check V4 signatures, only
     * the key id), and neither the key id nor the secret is shown */
    setenv("AWS_ACCESS_KEY_ID", "AKIDPLUGH", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-XYZZY", 1);
    CHECK_OK(lsio_io_open(&io, "s3://lsio-test/", NULL));
    int rc = lsio_io_read(io, "s3://lsio-test/big.bin", 0, 100, &b);
    if (rc != -EACCES)
        fprintf(stderr, "rc %d: %s\n", rc, lsio_last_error());
    CHECK(rc == -EACCES);
    CHECK(strstr(lsio_last_error(), "XYZZY") == NULL);
    CHECK(strstr(lsio_last_error(), "PLUGH") == NULL);
    CHECK(strstr(lsio_last_error(), "403") != NULL);
    CHECK_EQ(lsio_io_size(io, "s3://lsio-test/big.bin", &sz), -EACCES);
    CHECK(strstr(lsio_last_error(), "XYZZY") == NULL && strstr(lsio_last_error(), "PLUGH") == NULL);
    listed den = {0};
    CHECK_EQ(lsio_list(io, "s3://lsio-test/arr/", on_obj, &den), -EACCES);
    CHECK(strstr(lsio_last_error(), "XYZZY") == NULL && strstr(lsio_last_error(), "PLUGH") == NULL);
    CHECK(lsio_write(io, "s3://lsio-test/denied", data, 10, 0) == -EACCES);
    CHECK(strstr(lsio_last_error(), "XYZZY") == NULL && strstr(lsio_last_error(), "PLUGH") == NULL);
    lsio_io_close(io);

    /* no credentials at all: open says how to give them */
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    CHECK_EQ(lsio_io_open(&io, "s3://lsio-test/", NULL), -EACCES);
    CHECK(strstr(lsio_last_error(), "AWS_ACCESS_KEY_ID") != NULL);

    /* a credentials file profile */
    char cred[4200];
    snprintf(cred, sizeof cred, "%s/credentials", dir);
    FILE *f = fopen(cred, "w");
    CHECK(f != NULL);
    fprintf(f, "[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n\n"
               "[profile lsio]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n");
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    setenv("AWS_PROFILE", "lsio", 1);
    CHECK_OK(lsio_io_open(&io, "s3://lsio-test/", NULL));
    CHECK_OK(lsio_io_read(io, "s3://lsio-test/big.bin", 100, 100, &b));
    CHECK(!memcmp(lsio_buf_data(b), data + 100, 100));
    lsio_buf_release(b);
    lsio_io_close(io);

    free(data);
    printf("ok: s3rver on port %d, listing 1001 keys took %.0f ms\n", srv.port, t_list / 1e6);
    return 0;
}
