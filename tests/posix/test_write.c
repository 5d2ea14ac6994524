/* test_write: put, write, delete and list through the posix backend. Puts
 * land atomically (temp file beside the target, renamed; no temp left, also
 * on failure), make parent directories, honour LSIO_PUT_FSYNC, and fail
 * with a message naming the location; delete of a missing file succeeds;
 * listings are recursive, with sizes, in the caller's location form. */
#include <sys/stat.h>

#include "../io/io_testutil.h"

struct listing {
    int n;
    char names[64][512];
    uint64_t sizes[64];
    int stop_after;
};

static int on_entry(void *ctx, const char *loc, uint64_t size)
{
    struct listing *l = ctx;
    if (l->n < 64) {
        snprintf(l->names[l->n], sizeof l->names[0], "%s", loc);
        l->sizes[l->n] = size;
    }
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static int has(struct listing *l, const char *loc, uint64_t size)
{
    for (int i = 0; i < l->n && i < 64; i++)
        if (!strcmp(l->names[i], loc))
            return l->sizes[i] == size;
    return 0;
}

static int count_temps(const char *dir)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.lsio-tmp.*' | grep -q .", dir);
    return system(cmd) == 0;
}

int main(void)
{
    const char *dir = test_tmpdir("posix_write");
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.backend = LSIO_BACKEND_POSIX;
    o.workers = 2;
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, dir, &o));
    char p[4200], q[4200];

    /* write: parents made, content exact, overwrite replaces */
    snprintf(p, sizeof p, "%s/a/b/c/obj", dir);
    const char *text = "hello, lsio";
    CHECK_OK(lsio_write(io, p, text, strlen(text), 0));
    CHECK(tu_same_as_file(p, 0, text, strlen(text)));
    unsigned char *big = malloc(3 << 20);
    for (size_t i = 0; i < (3u << 20); i++)
        big[i] = (unsigned char)(i * 7 + 3);
    CHECK_OK(lsio_write(io, p, big, 3 << 20, LSIO_PUT_FSYNC));
    CHECK(tu_same_as_file(p, 0, big, 3 << 20));
    struct stat st;
    CHECK_OK(stat(p, &st));
    CHECK_EQ(st.st_size, 3 << 20);
    CHECK_OK(lsio_write(io, p, "", 0, 0)); /* empty object */
    CHECK_OK(stat(p, &st));
    CHECK_EQ(st.st_size, 0);
    CHECK(!count_temps(dir));

    /* async puts complete on a queue with their user_data */
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    for (int i = 0; i < 20; i++) {
        snprintf(q, sizeof q, "%s/many/%02d", dir, i);
        CHECK_OK(lsio_put(io, cq, q, big + i, 1000 + (size_t)i, (uint64_t)i, 0));
    }
    CHECK_EQ(lsio_cq_pending(cq), 20);
    int mask = 0;
    for (int n = 0; n < 20; n++) {
        lsio_completion c;
        CHECK_EQ(lsio_cq_wait(cq, &c, 1, 10000), 1);
        CHECK_EQ(c.status, 0);
        CHECK_EQ(c.len, 1000 + c.user_data);
        mask |= 1 << c.user_data;
        lsio_completion_release(&c);
    }
    CHECK_EQ(mask, (1 << 20) - 1);
    for (int i = 0; i < 20; i++) {
        snprintf(q, sizeof q, "%s/many/%02d", dir, i);
        CHECK(tu_same_as_file(q, 0, big + i, 1000 + (size_t)i));
    }

    /* failures: parent is a file, target is a directory */
    snprintf(q, sizeof q, "%s/a/b/c/obj/under", dir);
    CHECK_EQ(lsio_write(io, q, text, 5, 0), -ENOTDIR);
    CHECK(strstr(lsio_last_error(), "put ") && strstr(lsio_last_error(), "obj/under"));
    snprintf(q, sizeof q, "%s/a/b", dir);
    CHECK_EQ(lsio_write(io, q, text, 5, 0), -EISDIR);
    CHECK(strstr(lsio_last_error(), "a/b"));
    CHECK(!count_temps(dir));
    CHECK_OK(lsio_put(io, cq, q, text, 5, 77, 0));
    lsio_completion c;
    CHECK_EQ(lsio_cq_wait(cq, &c, 1, 10000), 1);
    CHECK_EQ(c.status, -EISDIR);
    CHECK_EQ(c.user_data, 77);
    CHECK(c.error && strstr(c.error, q));
    lsio_completion_release(&c);
    CHECK_EQ(lsio_put(io, cq, "http://x/y", text, 5, 0, 0), -EINVAL);
    CHECK_EQ(lsio_cq_pending(cq), 0);

    /* list: recursive with sizes, prefixes, early stop, file:// form */
    struct listing l = {0};
    CHECK_OK(lsio_list(io, dir, on_entry, &l));
    CHECK_EQ(l.n, 21);
    snprintf(q, sizeof q, "%s/many/05", dir);
    CHECK(has(&l, q, 1005));
    snprintf(q, sizeof q, "%s/a/b/c/obj", dir);
    CHECK(has(&l, q, 0));
    for (int i = 1; i < l.n; i++) /* name order inside each directory */
        CHECK(strcmp(l.names[i - 1], l.names[i]) < 0);
    memset(&l, 0, sizeof l);
    snprintf(q, sizeof q, "%s/many/1", dir); /* a partial name */
    CHECK_OK(lsio_list(io, q, on_entry, &l));
    CHECK_EQ(l.n, 10);
    memset(&l, 0, sizeof l);
    l.stop_after = 3;
    CHECK_OK(lsio_list(io, dir, on_entry, &l));
    CHECK_EQ(l.n, 3);
    memset(&l, 0, sizeof l);
    snprintf(q, sizeof q, "file://%s/many/", dir);
    CHECK_OK(lsio_list(io, q, on_entry, &l));
    CHECK_EQ(l.n, 20);
    snprintf(q, sizeof q, "file://%s/many/00", dir);
    CHECK(has(&l, q, 1000));
    memset(&l, 0, sizeof l);
    snprintf(q, sizeof q, "%s/nothing/here", dir);
    CHECK_OK(lsio_list(io, q, on_entry, &l));
    CHECK_EQ(l.n, 0);

    /* delete: gone, missing is fine, directory is an error */
    snprintf(q, sizeof q, "%s/many/07", dir);
    CHECK_OK(lsio_delete(io, q));
    CHECK(stat(q, &st) < 0 && errno == ENOENT);
    CHECK_OK(lsio_delete(io, q));
    snprintf(q, sizeof q, "%s/many", dir);
    CHECK_EQ(lsio_delete(io, q), -EISDIR);
    memset(&l, 0, sizeof l);
    CHECK_OK(lsio_list(io, dir, on_entry, &l));
    CHECK_EQ(l.n, 20);

    /* written objects read back through the same io */
    lsio_buf *b;
    snprintf(q, sizeof q, "%s/many/19", dir);
    CHECK_OK(lsio_io_read(io, q, 0, LSIO_TO_END, &b));
    CHECK_EQ(lsio_buf_len(b), 1019);
    CHECK(memcmp(lsio_buf_data(b), big + 19, 1019) == 0);
    lsio_buf_release(b);

    lsio_cq_destroy(cq);
    lsio_io_close(io);
    free(big);
    tu_rm_rf(dir);
    return 0;
}
