/* test_bench_cli: `lsio bench io` end to end (the binary next to this test's
 * build directory): it creates the files, reads them with both backends and
 * --verify (every byte checked against the pattern), prints one JSON object
 * per backend with the documented fields and the right byte count, counts
 * random time-based runs, fails (exit 1) when a file's content is wrong,
 * and rejects bad options (exit 2). Skips when the binary was not built. */
#include <limits.h>
#include <sys/wait.h>

#include "../io/io_testutil.h"

static char lsio[PATH_MAX + 16];

/* Run a shell command, capture stdout into out; returns the exit status. */
static int run(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    CHECK(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double field(const char *line, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(line, key);
    CHECK(p);
    return strtod(p + strlen(key), NULL);
}

int main(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n] = 0;
    /* <B>/tests/uring_test_bench_cli -> <B>/lsio */
    char *s = strrchr(exe, '/');
    *s = 0;
    s = strrchr(exe, '/');
    *s = 0;
    snprintf(lsio, sizeof lsio, "%s/lsio", exe);
    if (access(lsio, X_OK) != 0)
        SKIP("%s not built (make tools)", lsio);
    const char *dir = test_tmpdir("bench_cli");
    char cmd[3 * PATH_MAX], out[8192];

    /* Sequential, both backends, verified. */
    snprintf(cmd, sizeof cmd,
             "%s bench io --dir %s --nrfiles 3 --filesize 1M --blocksize 64k --workers 2 "
             "--depth 4 --verify --json --backend all 2>&1",
             lsio, dir);
    int rc = run(cmd, out, sizeof out);
    printf("%s", out);
    CHECK_EQ(rc, 0);
    int lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        CHECK(line[0] == '{');
        CHECK(strstr(line, lines == 0 ? "\"backend\":\"uring\"" : "\"backend\":\"posix\""));
        CHECK_EQ(field(line, "bytes"), 3 << 20);
        CHECK_EQ(field(line, "ios"), 3 * 16);
        CHECK_EQ(field(line, "errors"), 0);
        CHECK_EQ(field(line, "verify_failures"), 0);
        CHECK(field(line, "seconds") > 0);
        CHECK(field(line, "gib_per_s") > 0);
        CHECK(field(line, "iops") > 0);
        CHECK(field(line, "lat_p50_us") > 0);
        CHECK(field(line, "lat_p99_us") >= field(line, "lat_p50_us"));
        CHECK(field(line, "lat_p999_us") >= field(line, "lat_p99_us"));
        CHECK(field(line, "cpu_s_per_gib") >= 0);
        lines++;
    }
    CHECK_EQ(lines, 2);

    /* The files hold the pattern: offset 0 of file 1 is not all zero and
     * differs from file 0. */
    char p0[4200], p1[4200];
    snprintf(p0, sizeof p0, "%s/lsio-bench.0", dir);
    snprintf(p1, sizeof p1, "%s/lsio-bench.1", dir);
    unsigned char a[64], b[64];
    int f0 = open(p0, O_RDONLY), f1 = open(p1, O_RDONLY);
    CHECK(f0 >= 0 && f1 >= 0);
    CHECK_EQ(pread(f0, a, 64, 4096), 64);
    CHECK_EQ(pread(f1, b, 64, 4096), 64);
    CHECK(memcmp(a, b, 64) != 0);
    close(f0);
    close(f1);

    /* Random 4 KiB, time based, buffered, uring only. */
    snprintf(cmd, sizeof cmd,
             "%s bench io --dir %s --nrfiles 3 --filesize 1M --blocksize 4k --pattern rand "
             "--seconds 0.3 --buffered --verify --json --backend uring 2>&1",
             lsio, dir);
    CHECK_EQ(run(cmd, out, sizeof out), 0);
    printf("%s", out);
    CHECK(field(out, "ios") > 10);
    CHECK_EQ(field(out, "bytes"), field(out, "ios") * 4096);
    CHECK(field(out, "seconds") >= 0.3);

    /* A corrupted block fails --verify. */
    int fd = open(p1, O_WRONLY);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, "corrupt!", 8, 70000), 8);
    close(fd);
    snprintf(cmd, sizeof cmd,
             "%s bench io --dir %s --nrfiles 3 --filesize 1M --blocksize 64k --verify "
             "--backend posix --buffered 2>&1",
             lsio, dir);
    rc = run(cmd, out, sizeof out);
    printf("%s", out);
    CHECK_EQ(rc, 1);
    CHECK(strstr(out, "differs"));

    /* Bad options. */
    const char *bad[] = {"--backend nope", "--nrfiles 0", "--blocksize 4x",
                         "--bytes 1M --seconds 1", "--blocksize 2M --filesize 1M", "--frob"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s bench io --dir %s --nrfiles 3 %s 2>&1", lsio, dir,
                 bad[i]);
        CHECK_EQ(run(cmd, out, sizeof out), 2);
        CHECK(strstr(out, "lsio bench io"));
    }
    tu_rm_rf(dir);
    return 0;
}
