/*
 * http_testutil.h — helpers of the remote-IO tests: start a test server
 * through tests/servers/serve.py (nginx, s3rver or the fault injector) on a
 * free 127.0.0.1 port, stop it, and make files with known bytes.
 *
 * server_start() skips the test (exit 77) when the server is not installed.
 * The launcher stops its server when we kill it or when we exit.
 */
#ifndef LSIO_HTTP_TESTUTIL_H
#define LSIO_HTTP_TESTUTIL_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

typedef struct test_server {
    pid_t pid;
    int port;
} test_server;

static inline void server_stop(test_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

/* Start `kind` serving `root`; fills s. Skips when the server is missing. */
static inline void server_start(test_server *s, const char *kind, const char *root)
{
    int fd[2];
    CHECK(pipe(fd) == 0);
    const char *src = getenv("LSIO_SRC_DIR");
    char script[4096];
    snprintf(script, sizeof script, "%s/tests/servers/serve.py", src && *src ? src : ".");
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl("/usr/bin/python3", "python3", script, kind, root, "--lifetime", "120", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    char line[512] = "";
    if (!fgets(line, sizeof line, f)) {
        waitpid(pid, NULL, 0);
        SKIP("%s: the launcher %s printed nothing", kind, script);
    }
    fclose(f);
    if (!strncmp(line, "SKIP ", 5)) {
        waitpid(pid, NULL, 0);
        line[strcspn(line, "\n")] = 0;
        SKIP("%s", line + 5);
    }
    CHECK(sscanf(line, "PORT %d", &s->port) == 1);
    s->pid = pid;
}

/* Write n pseudo-random bytes (seeded) to path; returns them (malloc'd). */
static inline unsigned char *make_file(const char *path, size_t n, uint32_t seed)
{
    unsigned char *p = malloc(n ? n : 1);
    CHECK(p != NULL);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(p, 1, n, f) == n);
    CHECK(fclose(f) == 0);
    return p;
}

#endif /* LSIO_HTTP_TESTUTIL_H */
