/* test_uring_direct: O_DIRECT refused by a file system. ramfs has no
 * O_DIRECT (open says EINVAL; tmpfs takes it on kernels >= 6.6), so a child
 * process mounts one in a private mount namespace. Reads there with
 * direct=1 must all be right and all buffered, and the refusal must be
 * remembered for that file system only: files on the test directory's file
 * system, read by the same io, still go O_DIRECT. Skips without the
 * privilege to mount. */
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "uring_testutil.h"

#define N 12

static void child(const char *real_dir)
{
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        printf("skip: cannot make a private mount namespace (%s)\n", strerror(errno));
        fflush(stdout);
        _exit(77);
    }
    char ram[] = "/tmp/lsio_ramfs.XXXXXX";
    CHECK(mkdtemp(ram));
    if (mount("lsio-ramfs", ram, "ramfs", 0, NULL) < 0) {
        printf("skip: cannot mount ramfs (%s)\n", strerror(errno));
        rmdir(ram);
        fflush(stdout);
        _exit(77);
    }
    char *rp[N], *dp[N];
    size_t rs[N], ds[N];
    uint64_t seed = 5;
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        rs[i] = ds[i] = 4096 + tu_rand(&seed) % 500000;
        rp[i] = tu_make_file(ram, name, rs[i], (uint64_t)i);
        snprintf(name, sizeof name, "d%d", i);
        dp[i] = tu_make_file(real_dir, name, ds[i], (uint64_t)i + 100);
    }
    int ram_direct = ut_fs_takes_direct(rp[0]);
    int real_direct = ut_fs_takes_direct(dp[0]);
    printf("ramfs takes O_DIRECT: %d; %s takes it: %d\n", ram_direct, real_dir, real_direct);

    lsio_io *io = ut_open(ram, 2, 8, 1);
    lsio_io_stats st;
    /* ramfs first: every open with O_DIRECT is refused, then buffered */
    ut_read_check(io, rp, rs, N, 400, 1);
    lsio_io_stats_get(io, &st);
    printf("ramfs: %" PRIu64 " requests, %" PRIu64 " direct\n", st.requests, st.direct_reads);
    if (!ram_direct)
        CHECK_EQ(st.direct_reads, 0);
    CHECK_EQ(st.errors, 0);
    /* the other file system still reads O_DIRECT through the same io */
    uint64_t before = st.direct_reads;
    ut_read_check(io, dp, ds, N, 400, 2);
    lsio_io_stats_get(io, &st);
    printf("real fs: %" PRIu64 " direct reads\n", st.direct_reads - before);
    if (real_direct)
        CHECK(st.direct_reads > before);
    /* and ramfs again, now known: still right, still buffered */
    before = st.direct_reads;
    ut_read_check(io, rp, rs, N, 400, 3);
    lsio_io_stats_get(io, &st);
    if (!ram_direct)
        CHECK_EQ(st.direct_reads, before);
    CHECK_EQ(st.errors, 0);
    lsio_io_close(io);
    for (int i = 0; i < N; i++) {
        free(rp[i]);
        free(dp[i]);
    }
    umount2(ram, MNT_DETACH);
    rmdir(ram);
    fflush(stdout);
    _exit(0);
}

int main(void)
{
    ut_require_uring();
    const char *dir = test_tmpdir("uring_direct");
    char *d = strdup(dir);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        child(d);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    tu_rm_rf(d);
    free(d);
    CHECK(WIFEXITED(status));
    return WEXITSTATUS(status);
}
