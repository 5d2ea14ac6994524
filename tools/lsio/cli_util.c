/* cli_util.c — progress bar, sizes, clocks, option parsing and error
 * printing shared by the subcommands. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lsio_zarr.h"

int cli_isatty_stderr(void) { return isatty(2); }

double cli_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress(const char *what, double done, double total, double start_s)
{
    static double last;
    if (!cli_isatty_stderr())
        return;
    double now = cli_now_s();
    if (done < total && now - last < 0.1)
        return;
    last = now;
    double frac = total > 0 ? done / total : 1.0;
    if (frac > 1)
        frac = 1;
    int width = 30, fill = (int)(frac * width);
    double el = now - start_s;
    fprintf(stderr, "\r%s [%.*s%*s] %5.1f%% %.1f s", what, fill,
            "##############################", width - fill, "", frac * 100, el);
    fflush(stderr);
}

void cli_progress_end(void)
{
    if (cli_isatty_stderr())
        fprintf(stderr, "\r\033[K");
}

long long cli_parse_size(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    double mul = 1;
    switch (tolower((unsigned char)*end)) {
    case '\0': break;
    case 'k': mul = 1024.0; end++; break;
    case 'm': mul = 1024.0 * 1024; end++; break;
    case 'g': mul = 1024.0 * 1024 * 1024; end++; break;
    case 't': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    case 'b': break;
    default: return -1;
    }
    if (*end && strcasecmp(end, "b") && strcasecmp(end, "ib") && strcasecmp(end, "i"))
        return -1;
    return (long long)(v * mul);
}

int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                  const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n))
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n])
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "lsio %s: %s needs a value\n", cmd, name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int cli_zarr_arg(cli_zarr_common *c, const char *cmd, int argc, char **argv, int *i)
{
    const char *v;
    int r;
    if ((r = cli_opt_value(cmd, argc, argv, i, "--threads", &v)) != 0) {
        if (r < 0)
            return -1;
        char *end;
        long t = strtol(v, &end, 10);
        if (*end || end == v || t < 1 || t > 4096) {
            fprintf(stderr, "lsio %s: --threads %s: want a count from 1 to 4096\n", cmd, v);
            return -1;
        }
        c->threads = (unsigned)t;
        return 1;
    }
    if ((r = cli_opt_value(cmd, argc, argv, i, "--backend", &v)) != 0) {
        if (r < 0)
            return -1;
        static const struct {
            const char *name;
            lsio_backend_kind kind;
        } b[] = {{"auto", LSIO_BACKEND_AUTO}, {"uring", LSIO_BACKEND_URING},
                 {"posix", LSIO_BACKEND_POSIX}, {"http", LSIO_BACKEND_HTTP},
                 {"s3", LSIO_BACKEND_S3}};
        for (size_t k = 0; k < sizeof b / sizeof b[0]; k++)
            if (!strcmp(v, b[k].name)) {
                c->backend = (int)b[k].kind;
                return 1;
            }
        fprintf(stderr, "lsio %s: --backend %s: want auto, uring, posix, http or s3\n", cmd, v);
        return -1;
    }
    if ((r = cli_opt_value(cmd, argc, argv, i, "--inflight", &v)) != 0) {
        if (r < 0)
            return -1;
        c->inflight = cli_parse_size(v);
        if (c->inflight <= 0) {
            fprintf(stderr, "lsio %s: --inflight %s: want a size such as 64M\n", cmd, v);
            return -1;
        }
        return 1;
    }
    return 0;
}

int cli_zarr_setup(cli_zarr_common *c, const char *cmd, lsio_zarr_opts *opts)
{
    lsio_zarr_opts d = LSIO_ZARR_OPTS_DEFAULT;
    *opts = d;
    opts->io.backend = (lsio_backend_kind)c->backend;
    if (c->inflight > 0)
        opts->inflight_bytes = (size_t)c->inflight;
    if (c->threads) {
        int err = lsio_pool_create(&c->pool, c->threads);
        if (err < 0) {
            cli_fail(cmd, err, "--threads");
            return -1;
        }
        opts->pool = c->pool;
    }
    return 0;
}

void cli_zarr_end(cli_zarr_common *c)
{
    if (c->pool)
        lsio_pool_destroy(c->pool);
    c->pool = NULL;
}

int cli_fail(const char *cmd, int err, const char *what)
{
    const char *m = lsio_last_error();
    if (m && *m)
        fprintf(stderr, "lsio %s: %s\n", cmd, m);
    else
        fprintf(stderr, "lsio %s: %s: %s\n", cmd, what, lsio_strerror(err));
    return 1;
}

const char *cli_fmt_size(double bytes, char *buf, size_t len)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (bytes >= 1024 && u < 5) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", bytes);
    else
        snprintf(buf, len, "%.*f %s", bytes < 10 ? 2 : 1, bytes, unit[u]);
    return buf;
}

const char *cli_dtype_descr(const lsio_dtype *d, int native, char *buf, size_t len)
{
    static const char kc[] = {[LSIO_DT_BOOL] = 'b', [LSIO_DT_INT] = 'i', [LSIO_DT_UINT] = 'u',
                              [LSIO_DT_FLOAT] = 'f', [LSIO_DT_COMPLEX] = 'c',
                              [LSIO_DT_BYTES] = 'S', [LSIO_DT_UNICODE] = 'U'};
    if (d->kind == LSIO_DT_STRING || (unsigned)d->kind >= sizeof kc) {
        snprintf(buf, len, "string");
        return buf;
    }
    unsigned n = d->kind == LSIO_DT_UNICODE ? d->size / 4 : d->size;
    int big = native ? __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ : d->big_endian;
    char e = big ? '>' : '<';
    if (d->kind == LSIO_DT_BOOL || d->kind == LSIO_DT_BYTES || d->size == 1)
        e = '|';
    snprintf(buf, len, "%c%c%u", e, kc[d->kind], n);
    return buf;
}
