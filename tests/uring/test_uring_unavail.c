/* test_uring_unavail: the uring backend where the kernel says no, made so
 * with a seccomp filter in a child process. (1) io_uring_setup refused with
 * EPERM (what kernel.io_uring_disabled or a container's seccomp profile
 * give): asking for uring fails with a message naming io_uring, AUTO falls
 * back to posix and says why, and the failed start leaves no thread or fd.
 * (2) ENOSYS (an old kernel): the same. (3) the fixed-file table refused
 * (no direct descriptors): reads still right through plain fds. */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "uring_testutil.h"

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef ARCH
/* Make syscall nr fail with err; with ops (n > 0), only when its second
 * argument is one of them. */
static void deny(int nr, const unsigned *ops, int nops, int err)
{
    struct sock_filter f[16];
    int n = 0;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    if (nops) {
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                              offsetof(struct seccomp_data, args[1]));
        for (int i = 0; i < nops; i++)
            f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ops[i],
                                                  (unsigned char)(nops - i), 0);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err);
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
}

static void refused(const char *path, int err)
{
    deny(__NR_io_uring_setup, NULL, 0, err);
    int fds0 = tu_fds(), th0 = tu_threads_baseline();
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.backend = LSIO_BACKEND_URING;
    o.workers = 3;
    lsio_io *io = NULL;
    int rc = lsio_io_open(&io, path, &o);
    printf("errno %d, uring asked: %d %s\n", err, rc, lsio_last_error());
    CHECK(rc < 0 && !io);
    CHECK(strstr(lsio_last_error(), "io_uring"));
    CHECK_EQ(tu_fds(), fds0);
    CHECK_EQ(tu_threads_settled(th0), th0);

    o.backend = LSIO_BACKEND_AUTO;
    CHECK_OK(lsio_io_open(&io, path, &o));
    printf("errno %d, auto: %s (%s)\n", err, lsio_io_backend_name(io),
           lsio_io_fallback_reason(io) ? lsio_io_fallback_reason(io) : "no reason");
    CHECK(!strcmp(lsio_io_backend_name(io), "posix"));
    CHECK(lsio_io_fallback_reason(io));
    CHECK(strstr(lsio_io_fallback_reason(io), "io_uring_queue_init"));
    lsio_buf *b;
    CHECK_OK(lsio_io_read(io, path, 0, LSIO_TO_END, &b));
    CHECK(tu_same_as_file(path, 0, lsio_buf_data(b), lsio_buf_len(b)));
    lsio_buf_release(b);
    lsio_io_close(io);
}

static void no_fixed_files(char **paths, size_t *sizes, int n)
{
    static const unsigned ops[] = {IORING_REGISTER_FILES, IORING_REGISTER_FILES2};
    deny(__NR_io_uring_register, ops, 2, EINVAL);
    struct io_uring r;
    CHECK(io_uring_queue_init(4, &r, 0) == 0);
    CHECK(io_uring_register_files_sparse(&r, 4) < 0); /* the filter works */
    io_uring_queue_exit(&r);
    for (int direct = -1; direct <= 1; direct++) {
        lsio_io *io = ut_open(paths[0], 2, 16, direct);
        size_t got = ut_read_check(io, paths, sizes, n, 600, 11 + (uint64_t)direct);
        printf("plain fds, direct %d: %zu ranges right\n", direct, got);
        lsio_io_close(io);
    }
}

static void in_child(void (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        fn(arg);
        fflush(stdout);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

static char *g_paths[8];
static size_t g_sizes[8];
static void run_eperm(void *a) { (void)a; refused(g_paths[0], EPERM); }
static void run_enosys(void *a) { (void)a; refused(g_paths[0], ENOSYS); }
static void run_nofixed(void *a) { (void)a; no_fixed_files(g_paths, g_sizes, 8); }

int main(void)
{
    ut_require_uring();
    const char *dir = test_tmpdir("uring_unavail");
    char *d = strdup(dir);
    uint64_t seed = 8;
    for (int i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        g_sizes[i] = 1 + tu_rand(&seed) % 300000;
        g_paths[i] = tu_make_file(d, name, g_sizes[i], (uint64_t)i);
    }
    in_child(run_eperm, NULL);
    in_child(run_enosys, NULL);
    in_child(run_nofixed, NULL);
    for (int i = 0; i < 8; i++)
        free(g_paths[i]);
    tu_rm_rf(d);
    free(d);
    return 0;
}
#else
int main(void) { SKIP("seccomp filter written for x86_64 and aarch64 only"); }
#endif
