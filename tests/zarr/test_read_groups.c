/*
 * test_read_groups.c — lsio_zarr_read_many_group puts a read's ranges in
 * the IO group the caller names. The test holds IO group 1 open with a
 * range of its own whose completion callback blocks; a read in group 2
 * started from a second thread must then make no IO (io stats do not move,
 * the read does not return), while a read in group 1 started after it from
 * a third thread completes; once the gate opens, the group-2 read
 * completes. Done for a v2 array of 100 chunks and, at the same time, a v3
 * sharded one (shard index reads, then inner-chunk reads, both in the
 * read's group). Every read is checked against the values written. (With
 * groups ignored, i.e. everything in group 0, the group-2 reads finish
 * while the gate is held and the test fails.)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "zarr_testutil.h"

#define NY 40
#define NX 40
#define CY 4
#define CX 4

static int32_t ref[NY][NX];

static void write_array(const char *dir)
{
    zt_text(dir, ".zarray",
            "{\"zarr_format\": 2, \"shape\": [%d, %d], \"chunks\": [%d, %d], \"dtype\": \"<i4\","
            " \"compressor\": null, \"fill_value\": 0, \"filters\": null, \"order\": \"C\"}",
            NY, NX, CY, CX);
    for (int cy = 0; cy < NY / CY; cy++)
        for (int cx = 0; cx < NX / CX; cx++) {
            int32_t chunk[CY * CX];
            for (int y = 0; y < CY; y++)
                for (int x = 0; x < CX; x++)
                    chunk[y * CX + x] = ref[cy * CY + y][cx * CX + x];
            char key[32];
            snprintf(key, sizeof key, "%d.%d", cy, cx);
            zt_write(dir, key, chunk, sizeof chunk);
        }
}

/* A v3 int32 array (SY, SX) in shards (4, SX) of inner chunks (2, 4), raw,
 * index (with crc32c) at the end: 2 shards of 4 inner chunks. */
#define SY 8
#define SX 8
static int32_t sref[SY][SX];

static void write_sharded(const char *dir)
{
    zt_text(dir, "zarr.json",
            "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [%d, %d],"
            " \"data_type\": \"int32\", \"chunk_grid\": {\"name\": \"regular\","
            " \"configuration\": {\"chunk_shape\": [4, %d]}},"
            " \"chunk_key_encoding\": {\"name\": \"default\"}, \"fill_value\": 0,"
            " \"codecs\": [{\"name\": \"sharding_indexed\", \"configuration\": {"
            " \"chunk_shape\": [2, 4], \"codecs\": [{\"name\": \"bytes\", \"configuration\":"
            " {\"endian\": \"little\"}}],"
            " \"index_codecs\": [{\"name\": \"bytes\", \"configuration\": {\"endian\": \"little\"}},"
            " {\"name\": \"crc32c\"}], \"index_location\": \"end\"}}]}",
            SY, SX, SX);
    for (int sh = 0; sh < SY / 4; sh++) {
        unsigned char shard[4 * 32 + 4 * 16 + 4], *index = shard + 4 * 32;
        for (int i = 0; i < 4; i++) {
            int iy = i / 2, ix = i % 2;
            int32_t v[8];
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 4; x++)
                    v[y * 4 + x] = sref[sh * 4 + iy * 2 + y][ix * 4 + x];
            memcpy(shard + 32 * i, v, sizeof v); /* little-endian host */
            zt_put64(index + 16 * i, (uint64_t)32 * i);
            zt_put64(index + 16 * i + 8, 32);
        }
        uint32_t crc = lsio_crc32c(index, 64);
        for (int i = 0; i < 4; i++)
            index[64 + i] = (unsigned char)(crc >> (8 * i));
        char key[32];
        snprintf(key, sizeof key, "c/%d/0", sh);
        zt_write(dir, key, shard, sizeof shard);
    }
}

/* The gate: a group-1 range whose completion callback waits for `open`. */
static pthread_mutex_t gmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gcv = PTHREAD_COND_INITIALIZER;
static int entered, opened, gate_status = 1;

static void gate_cb(void *ctx, lsio_completion *c)
{
    (void)ctx;
    pthread_mutex_lock(&gmu);
    gate_status = c->status;
    entered = 1;
    pthread_cond_broadcast(&gcv);
    while (!opened)
        pthread_cond_wait(&gcv, &gmu);
    pthread_mutex_unlock(&gmu);
    lsio_completion_release(c);
}

typedef struct job {
    lsio_zarr_array *a;
    const void *ref;
    size_t bytes;
    uint32_t group;
    int32_t out[NY * NX];
    int rc;
    atomic_int done;
} job;

static job *job_new(lsio_zarr_array *a, const void *expect, size_t bytes, uint32_t group)
{
    job *j = calloc(1, sizeof *j);
    CHECK(j && bytes <= sizeof j->out);
    j->a = a;
    j->ref = expect;
    j->bytes = bytes;
    j->group = group;
    return j;
}

static void *reader(void *p)
{
    job *j = p;
    const lsio_zarr_info *in = lsio_zarr_get_info(j->a);
    lsio_selection s;
    lsio_selection_all(&s, in->ndim, in->shape);
    void *outs[1] = {j->out};
    size_t sizes[1] = {j->bytes};
    j->rc = lsio_zarr_read_many_group(j->a, &s, 1, outs, sizes, j->group);
    atomic_store(&j->done, 1);
    return NULL;
}

static void check_job(const job *j)
{
    CHECK_OK(j->rc);
    CHECK(!memcmp(j->out, j->ref, j->bytes));
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void)
{
    for (int y = 0; y < NY; y++)
        for (int x = 0; x < NX; x++)
            ref[y][x] = y * 1000 + x;
    for (int y = 0; y < SY; y++)
        for (int x = 0; x < SX; x++)
            sref[y][x] = -(y * 100 + x) - 1;
    const char *tmp = test_tmpdir("zarr_read_groups");
    char dir[4200], sdir[4200], chunk0[4300];
    snprintf(dir, sizeof dir, "%s/g.zarr", tmp);
    snprintf(sdir, sizeof sdir, "%s/s.zarr", tmp);
    snprintf(chunk0, sizeof chunk0, "%s/0.0", dir);
    write_array(dir);
    write_sharded(sdir);

    /* posix with several workers: the blocked callback holds one of them.
     * Both arrays share the io handle, hence its groups. */
    lsio_io_opts io_opts = LSIO_IO_OPTS_DEFAULT;
    io_opts.backend = LSIO_BACKEND_POSIX;
    io_opts.workers = 4;
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, dir, &io_opts));
    lsio_zarr_opts zo = LSIO_ZARR_OPTS_DEFAULT;
    zo.io_handle = io;
    lsio_zarr_array *a, *sa;
    CHECK_OK(lsio_zarr_open(&a, dir, &zo));
    CHECK_OK(lsio_zarr_open(&sa, sdir, &zo));
    CHECK_EQ(lsio_zarr_get_info(sa)->nchunks, 2);

    /* Group 0 (what read_many uses) first. */
    job *j0 = job_new(a, ref, sizeof ref, 0), *j0s = job_new(sa, sref, sizeof sref, 0);
    reader(j0);
    check_job(j0);
    reader(j0s);
    check_job(j0s);

    lsio_cq *gcq;
    CHECK_OK(lsio_cq_create(&gcq));
    lsio_cq_set_callback(gcq, gate_cb, NULL);
    lsio_range gr = {.offset = 0, .length = 4};
    CHECK_OK(lsio_get_ranges(io, gcq, chunk0, &gr, 1, 1));
    pthread_mutex_lock(&gmu);
    while (!entered)
        pthread_cond_wait(&gcv, &gmu);
    pthread_mutex_unlock(&gmu);
    CHECK_OK(gate_status);

    lsio_io_stats st0, st1, st2;
    lsio_io_stats_get(io, &st0);
    job *j2 = job_new(a, ref, sizeof ref, 2), *j2s = job_new(sa, sref, sizeof sref, 2);
    job *j1 = job_new(a, ref, sizeof ref, 1), *j1s = job_new(sa, sref, sizeof sref, 1);
    pthread_t t2, t2s, t1, t1s;
    CHECK_OK(-pthread_create(&t2, NULL, reader, j2));
    CHECK_OK(-pthread_create(&t2s, NULL, reader, j2s));
    sleep_ms(100);
    lsio_io_stats_get(io, &st1);
    CHECK_EQ(st1.ranges, st0.ranges); /* group 2 waits behind the gate */
    CHECK(!atomic_load(&j2->done) && !atomic_load(&j2s->done));
    /* Group-1 reads submitted later go first. */
    CHECK_OK(-pthread_create(&t1, NULL, reader, j1));
    CHECK_OK(-pthread_create(&t1s, NULL, reader, j1s));
    CHECK_OK(-pthread_join(t1, NULL));
    CHECK_OK(-pthread_join(t1s, NULL));
    check_job(j1);
    check_job(j1s);
    sleep_ms(50);
    lsio_io_stats_get(io, &st2);
    /* j1's 100 chunks and j1s's 2 indexes + 8 inner chunks, nothing else */
    CHECK_EQ(st2.ranges - st1.ranges, (uint64_t)(NY / CY) * (NX / CX) + 2 + 8);
    CHECK(!atomic_load(&j2->done) && !atomic_load(&j2s->done));

    pthread_mutex_lock(&gmu);
    opened = 1;
    pthread_cond_broadcast(&gcv);
    pthread_mutex_unlock(&gmu);
    CHECK_OK(-pthread_join(t2, NULL));
    CHECK_OK(-pthread_join(t2s, NULL));
    check_job(j2);
    check_job(j2s);

    lsio_zarr_close(a);
    lsio_zarr_close(sa);
    lsio_cq_destroy(gcq);
    lsio_io_close(io);
    free(j0);
    free(j0s);
    free(j1);
    free(j1s);
    free(j2);
    free(j2s);
    printf("ok\n");
    return 0;
}
