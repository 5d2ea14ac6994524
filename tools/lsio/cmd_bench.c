/*
 * cmd_bench.c — `lsio bench io`: a fio-like benchmark of the local IO
 * backends (uring, posix) through the public lsio_io API.
 *
 * It lays out nrfiles files of filesize bytes under --dir (creating missing
 * or short ones with a pattern derived from file index and offset, so
 * --verify can check every byte read), then keeps workers × depth block
 * reads in flight: each block is one lsio_get_ranges call of one range read
 * into the caller's (aligned) memory; a completion callback, running on the
 * IO thread that finished the read, records it and issues the next. It
 * reports throughput, IOPS, per-block latency percentiles (submit to
 * completion) and the process's CPU seconds per GiB (getrusage), as text or
 * one JSON object per backend run (--json) for scripts (bench/io).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lsio_io.h"

typedef struct bench_opts {
    const char *backends[2];
    int nbackends;
    unsigned nrfiles, workers, depth;
    size_t filesize, blocksize;
    int direct;           /* 1 --direct, 0 --buffered */
    int rand;             /* --pattern rand */
    const char *dir;
    uint64_t bytes;       /* 0: one pass over every file (unless seconds) */
    double seconds;
    int drop_cache, verify, json;
} bench_opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lsio bench io [options]\n"
            "  --backend uring|posix|all   backends to run (all)\n"
            "  --nrfiles N                 number of files (64)\n"
            "  --filesize SIZE             bytes per file (16M)\n"
            "  --blocksize SIZE            bytes per read (256K)\n"
            "  --workers N                 IO threads (cores)\n"
            "  --depth N                   reads in flight per worker (64)\n"
            "  --direct | --buffered       O_DIRECT or the page cache (direct)\n"
            "  --pattern seq|rand          block order (seq)\n"
            "  --dir DIR                   where the files live (./lsio-bench)\n"
            "  --bytes SIZE | --seconds S  how much to read (every file once)\n"
            "  --drop-cache                drop the page cache before each run (root)\n"
            "  --verify                    check every byte read\n"
            "  --json                      one JSON object per line per run\n");
}

/* ------------------------------------------------------------ the content */

/* The 8-byte word at word index w of file f (splitmix64 of both). */
static inline uint64_t pattern_word(unsigned f, uint64_t w)
{
    uint64_t z = ((uint64_t)f << 40) ^ w ^ 0x5851F42D4C957F2Dull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Fill buf with the pattern of file f at [off, off+len). */
static void pattern_fill(unsigned f, uint64_t off, unsigned char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint64_t p = off + i, v = pattern_word(f, p / 8);
        size_t in = (size_t)(p % 8), n = 8 - in;
        if (n > len - i)
            n = len - i;
        memcpy(buf + i, (unsigned char *)&v + in, n);
        i += n;
    }
}

static char *file_path(const bench_opts *o, unsigned f)
{
    size_t n = strlen(o->dir) + 32;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/lsio-bench.%u", o->dir, f);
    return p;
}

/* Create every missing or short file. */
static int make_files(const bench_opts *o, char **paths)
{
    if (mkdir(o->dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "lsio bench: mkdir %s: %s\n", o->dir, strerror(errno));
        return -1;
    }
    uint64_t need = 0;
    for (unsigned f = 0; f < o->nrfiles; f++) {
        struct stat st;
        if (stat(paths[f], &st) < 0 || (uint64_t)st.st_size < o->filesize)
            need += o->filesize;
    }
    if (!need)
        return 0;
    size_t chunk = 1 << 20;
    unsigned char *buf = malloc(chunk);
    if (!buf)
        return -1;
    double t0 = cli_now_s(), done = 0;
    for (unsigned f = 0; f < o->nrfiles; f++) {
        struct stat st;
        if (stat(paths[f], &st) == 0 && (uint64_t)st.st_size >= o->filesize)
            continue;
        int fd = open(paths[f], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "lsio bench: create %s: %s\n", paths[f], strerror(errno));
            free(buf);
            return -1;
        }
        for (uint64_t off = 0; off < o->filesize;) {
            size_t n = o->filesize - off < chunk ? (size_t)(o->filesize - off) : chunk;
            pattern_fill(f, off, buf, n);
            ssize_t w = pwrite(fd, buf, n, (off_t)off);
            if (w <= 0) {
                fprintf(stderr, "lsio bench: write %s: %s\n", paths[f],
                        w < 0 ? strerror(errno) : "short write");
                close(fd);
                free(buf);
                return -1;
            }
            off += (uint64_t)w;
            done += (double)w;
            cli_progress("creating files", done, (double)need, t0);
        }
        if (fsync(fd) < 0 || close(fd) < 0) {
            fprintf(stderr, "lsio bench: write %s: %s\n", paths[f], strerror(errno));
            free(buf);
            return -1;
        }
    }
    cli_progress_end();
    free(buf);
    return 0;
}

static int drop_caches(void)
{
    sync();
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "3\n", 2) != 2) {
        fprintf(stderr, "lsio bench: --drop-cache: /proc/sys/vm/drop_caches: %s\n",
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* ----------------------------------------------------------------- a run */

/* Latency histogram: 1 us buckets below 1 ms, then 64 per power of two. */
#define LIN_US 1000
#define LOG_SUB 64
#define NBUCKETS (LIN_US + 24 * LOG_SUB)

static size_t bucket_of(double us)
{
    if (us < LIN_US)
        return us < 0 ? 0 : (size_t)us;
    size_t b = LIN_US + (size_t)(log2(us / LIN_US) * LOG_SUB);
    return b < NBUCKETS ? b : NBUCKETS - 1;
}

static double bucket_value(size_t b)
{
    if (b < LIN_US)
        return (double)b + 0.5;
    return LIN_US * exp2(((double)(b - LIN_US) + 0.5) / LOG_SUB);
}

typedef struct slot {
    unsigned char *mem;
    unsigned char *expect; /* --verify scratch */
    unsigned file;
    uint64_t off;
    double t;
} slot;

typedef struct result {
    uint64_t bytes, ios, errors, bad;
    double seconds, cpu_s, p50, p99, p999;
    char backend[16];
    char *fallback;
} result;

/* One run's shared state. Completions arrive on the IO threads (a cq
 * callback), which record them and issue the slot's next block at once, so
 * workers × depth reads stay in flight without a hop through this thread. */
typedef struct run_ctx {
    const bench_opts *o;
    char **paths;
    lsio_io *io;
    lsio_cq *cq;
    slot *s;
    uint64_t total_blocks; /* 0: time based */
    double end_t;
    atomic_uint_fast64_t next, bytes, ios, errors, bad;
    atomic_uint_fast64_t hist[NBUCKETS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t inflight;       /* under mu */
} run_ctx;

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Where block number k goes (seq: file after file; rand: anywhere). */
static void block_at(const bench_opts *o, uint64_t k, unsigned *file, uint64_t *off)
{
    uint64_t per = o->filesize / o->blocksize, b = k;
    if (o->rand) {
        uint64_t z = k * 0x9E3779B97F4A7C15ull + 0x1234567;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        b = z ^ (z >> 31);
    }
    b %= per * o->nrfiles;
    *file = (unsigned)(b / per);
    *off = (b % per) * o->blocksize;
}

/* Give slot i its next block; 0 when the run is over (or on error). */
static int issue(run_ctx *x, size_t i)
{
    const bench_opts *o = x->o;
    uint64_t k = atomic_fetch_add(&x->next, 1);
    if (x->total_blocks ? k >= x->total_blocks : cli_now_s() >= x->end_t)
        return 0;
    slot *s = &x->s[i];
    block_at(o, k, &s->file, &s->off);
    lsio_range r = {.offset = (int64_t)s->off, .length = (int64_t)o->blocksize,
                    .dest = s->mem, .user_data = i};
    s->t = cli_now_s();
    if (lsio_get_ranges(x->io, x->cq, x->paths[s->file], &r, 1, 0) < 0) {
        if (atomic_fetch_add(&x->errors, 1) < 5)
            fprintf(stderr, "lsio bench: %s\n", lsio_last_error());
        return 0;
    }
    return 1;
}

static void slot_done(run_ctx *x)
{
    pthread_mutex_lock(&x->mu);
    if (--x->inflight == 0)
        pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

static void on_complete(void *ctx, lsio_completion *c)
{
    run_ctx *x = ctx;
    size_t i = (size_t)c->user_data;
    slot *s = &x->s[i];
    atomic_fetch_add(&x->hist[bucket_of((cli_now_s() - s->t) * 1e6)], 1);
    atomic_fetch_add(&x->ios, 1);
    if (c->status) {
        if (atomic_fetch_add(&x->errors, 1) < 5)
            fprintf(stderr, "lsio bench: %s\n", c->error);
    } else {
        atomic_fetch_add(&x->bytes, c->len);
        if (s->expect) {
            pattern_fill(s->file, s->off, s->expect, c->len);
            if (memcmp(s->expect, c->data, c->len) && atomic_fetch_add(&x->bad, 1) < 5)
                fprintf(stderr,
                        "lsio bench: --verify: %s [%" PRIu64 ", +%zu) differs from the "
                        "pattern (files made by another tool?)\n",
                        x->paths[s->file], s->off, c->len);
        }
    }
    lsio_completion_release(c);
    if (!issue(x, i))
        slot_done(x);
}

static double percentile(const run_ctx *x, uint64_t n, double p)
{
    uint64_t want = (uint64_t)(p * (double)n), seen = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
        seen += atomic_load(&x->hist[b]);
        if (seen > want)
            return bucket_value(b);
    }
    return 0;
}

static int run_one(const bench_opts *o, const char *backend, char **paths, result *res)
{
    memset(res, 0, sizeof *res);
    snprintf(res->backend, sizeof res->backend, "%s", backend);
    lsio_io_opts io_o = LSIO_IO_OPTS_DEFAULT;
    io_o.backend = !strcmp(backend, "uring") ? LSIO_BACKEND_URING : LSIO_BACKEND_POSIX;
    io_o.workers = o->workers;
    io_o.depth = o->depth;
    io_o.direct = o->direct;
    io_o.merge_gap = -1;
    io_o.split_bytes = -1;
    run_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    if (lsio_io_open(&x->io, o->dir, &io_o) < 0) {
        fprintf(stderr, "lsio bench: %s: %s\n", backend, lsio_last_error());
        free(x);
        return -1;
    }
    if (lsio_io_fallback_reason(x->io))
        res->fallback = strdup(lsio_io_fallback_reason(x->io));
    x->o = o;
    x->paths = paths;
    x->total_blocks = o->bytes ? (o->bytes + o->blocksize - 1) / o->blocksize : 0;
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    size_t nslots = (size_t)o->workers * o->depth;
    int rc = -1;
    x->s = calloc(nslots, sizeof *x->s);
    if (!x->s || lsio_cq_create(&x->cq) < 0)
        goto oom;
    for (size_t i = 0; i < nslots; i++) {
        slot *s = &x->s[i];
        if (posix_memalign((void **)&s->mem, 4096, o->blocksize) ||
            (o->verify && !(s->expect = malloc(o->blocksize))))
            goto oom;
        memset(s->mem, 0, o->blocksize); /* fault it in before the clock starts */
    }
    lsio_cq_set_callback(x->cq, on_complete, x);
    double t0 = cli_now_s(), c0 = cpu_now();
    x->end_t = t0 + o->seconds;
    x->inflight = nslots + 1; /* +1 until every slot has been started */
    for (size_t i = 0; i < nslots; i++)
        if (!issue(x, i))
            slot_done(x);
    pthread_mutex_lock(&x->mu);
    if (--x->inflight)
        while (x->inflight)
            pthread_cond_wait(&x->cv, &x->mu);
    pthread_mutex_unlock(&x->mu);
    res->seconds = cli_now_s() - t0;
    res->cpu_s = cpu_now() - c0;
    res->bytes = atomic_load(&x->bytes);
    res->ios = atomic_load(&x->ios);
    res->errors = atomic_load(&x->errors);
    res->bad = atomic_load(&x->bad);
    res->p50 = percentile(x, res->ios, 0.50);
    res->p99 = percentile(x, res->ios, 0.99);
    res->p999 = percentile(x, res->ios, 0.999);
    rc = 0;
    goto out;
oom:
    fprintf(stderr, "lsio bench: out of memory\n");
out:
    lsio_io_close(x->io); /* nothing is in flight any more */
    if (x->cq)
        lsio_cq_destroy(x->cq);
    if (x->s)
        for (size_t i = 0; i < nslots; i++) {
            free(x->s[i].mem);
            free(x->s[i].expect);
        }
    free(x->s);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    free(x);
    return rc;
}

static void report(const bench_opts *o, const result *r)
{
    double gib = (double)r->bytes / (1024.0 * 1024 * 1024);
    double secs = r->seconds > 0 ? r->seconds : 1e-9;
    double cpg = gib > 0 ? r->cpu_s / gib : 0;
    if (o->json) {
        printf("{\"backend\":\"%s\",\"bytes\":%" PRIu64 ",\"seconds\":%.6f,\"gib_per_s\":%.4f,"
               "\"iops\":%.1f,\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f,\"lat_p999_us\":%.1f,"
               "\"cpu_s_per_gib\":%.4f,\"cpu_s\":%.4f,\"ios\":%" PRIu64 ",\"errors\":%" PRIu64
               ",\"verify_failures\":%" PRIu64 ",\"workers\":%u,\"depth\":%u,\"blocksize\":%zu,"
               "\"nrfiles\":%u,\"filesize\":%zu,\"pattern\":\"%s\",\"direct\":%s,"
               "\"verified\":%s,\"fallback\":",
               r->backend, r->bytes, r->seconds, gib / secs, (double)r->ios / secs, r->p50,
               r->p99, r->p999, cpg, r->cpu_s, r->ios, r->errors, r->bad, o->workers, o->depth,
               o->blocksize, o->nrfiles, o->filesize, o->rand ? "rand" : "seq",
               o->direct ? "true" : "false", o->verify ? "true" : "false");
        if (r->fallback) {
            putchar('"');
            for (const char *p = r->fallback; *p; p++)
                if (*p == '"' || *p == '\\')
                    printf("\\%c", *p);
                else if ((unsigned char)*p >= 0x20)
                    putchar(*p);
            printf("\"}\n");
        } else {
            printf("null}\n");
        }
    } else {
        printf("%-6s %7.3f GiB in %7.3f s: %7.3f GiB/s %10.0f IOPS  lat p50 %7.0f us  p99 "
               "%7.0f us  p99.9 %7.0f us  CPU %.3f s/GiB%s%s\n",
               r->backend, gib, r->seconds, gib / secs, (double)r->ios / secs, r->p50, r->p99,
               r->p999, cpg, r->errors ? "  ERRORS" : "", r->bad ? "  VERIFY FAILED" : "");
        if (r->fallback)
            printf("       (%s)\n", r->fallback);
    }
    fflush(stdout);
}

/* ------------------------------------------------------------ the command */

static int parse_uint(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || v == 0 || v > 1u << 20)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.nrfiles = 64, .filesize = 16u << 20, .blocksize = 256u << 10,
                      .workers = lsio_ncpus(), .depth = 64, .direct = 1, .dir = "./lsio-bench",
                      .backends = {"uring", "posix"}, .nbackends = 2};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long sz;
#define NEED_V                                                                   \
    do {                                                                         \
        if (!v) {                                                                \
            fprintf(stderr, "lsio bench io: %s needs a value\n", a);             \
            return -1;                                                           \
        }                                                                        \
        i++;                                                                     \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--backend")) {
            NEED_V;
            if (!strcmp(v, "all")) {
                o->nbackends = 2;
            } else if (!strcmp(v, "uring") || !strcmp(v, "posix")) {
                o->backends[0] = !strcmp(v, "uring") ? "uring" : "posix";
                o->nbackends = 1;
            } else {
                fprintf(stderr, "lsio bench io: --backend %s: want uring, posix or all\n", v);
                return -1;
            }
        } else if (!strcmp(a, "--nrfiles") || !strcmp(a, "--workers") || !strcmp(a, "--depth")) {
            NEED_V;
            unsigned *dst = a[2] == 'n' ? &o->nrfiles : a[2] == 'w' ? &o->workers : &o->depth;
            if (parse_uint(v, dst) < 0) {
                fprintf(stderr, "lsio bench io: %s %s: want a positive integer\n", a, v);
                return -1;
            }
        } else if (!strcmp(a, "--filesize") || !strcmp(a, "--blocksize") || !strcmp(a, "--bytes")) {
            NEED_V;
            if ((sz = cli_parse_size(v)) <= 0) {
                fprintf(stderr, "lsio bench io: %s %s: want a size like 4k, 16M, 1GiB\n", a, v);
                return -1;
            }
            if (a[2] == 'f')
                o->filesize = (size_t)sz;
            else if (a[2] == 'b' && a[3] == 'l')
                o->blocksize = (size_t)sz;
            else
                o->bytes = (uint64_t)sz;
        } else if (!strcmp(a, "--seconds")) {
            NEED_V;
            char *end;
            o->seconds = strtod(v, &end);
            if (end == v || *end || !(o->seconds > 0)) {
                fprintf(stderr, "lsio bench io: --seconds %s: want a positive number\n", v);
                return -1;
            }
        } else if (!strcmp(a, "--direct") || !strcmp(a, "--buffered")) {
            o->direct = a[2] == 'd';
        } else if (!strcmp(a, "--pattern")) {
            NEED_V;
            if (strcmp(v, "seq") && strcmp(v, "rand")) {
                fprintf(stderr, "lsio bench io: --pattern %s: want seq or rand\n", v);
                return -1;
            }
            o->rand = !strcmp(v, "rand");
        } else if (!strcmp(a, "--dir")) {
            NEED_V;
            o->dir = v;
        } else if (!strcmp(a, "--drop-cache")) {
            o->drop_cache = 1;
        } else if (!strcmp(a, "--verify")) {
            o->verify = 1;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else {
            fprintf(stderr, "lsio bench io: unknown option %s\n\n", a);
            usage(stderr);
            return -1;
        }
#undef NEED_V
    }
    if (o->bytes && o->seconds > 0) {
        fprintf(stderr, "lsio bench io: give --bytes or --seconds, not both\n");
        return -1;
    }
    if (o->blocksize > o->filesize) {
        fprintf(stderr, "lsio bench io: --blocksize %zu is larger than --filesize %zu\n",
                o->blocksize, o->filesize);
        return -1;
    }
    if (o->drop_cache && geteuid() != 0) {
        fprintf(stderr, "lsio bench io: --drop-cache needs root\n");
        return -1;
    }
    if (!o->bytes && !(o->seconds > 0))
        o->bytes = (uint64_t)o->nrfiles * (o->filesize / o->blocksize * o->blocksize);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "io")) {
        usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
        return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    bench_opts o;
    if (parse(argc - 2, argv + 2, &o) < 0)
        return 2;
    char **paths = calloc(o.nrfiles, sizeof *paths);
    if (!paths)
        return 1;
    int rc = 0;
    for (unsigned f = 0; f < o.nrfiles; f++)
        if (!(paths[f] = file_path(&o, f)))
            rc = 1;
    if (!rc && make_files(&o, paths) < 0)
        rc = 1;
    for (int b = 0; b < o.nbackends && !rc; b++) {
        if (o.drop_cache && drop_caches() < 0) {
            rc = 1;
            break;
        }
        result r;
        if (run_one(&o, o.backends[b], paths, &r) < 0) {
            rc = 1;
            free(r.fallback);
            continue;
        }
        report(&o, &r);
        if (r.errors || r.bad)
            rc = 1;
        free(r.fallback);
    }
    for (unsigned f = 0; f < o.nrfiles; f++)
        free(paths[f]);
    free(paths);
    return rc;
}
