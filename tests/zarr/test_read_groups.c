/*
 * test_read_groups.c — lsio_zarr_read_many_group puts a read's ranges in
 * the IO group the caller names. The test holds IO group 1 open with a
 * range of its own whose completion callback blocks; a read in group 2
 * started from a second thread must then make no IO (io stats do not move,
 * the read does not return), while a read in group 1 started after it from
 * a third thread completes; once the gate opens, the group-2 read
 * completes. Both reads are checked against the values written. (With
 * groups ignored, i.e. everything in group 0, the group-2 read finishes
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
    uint32_t group;
    int32_t out[NY * NX];
    int rc;
    atomic_int done;
} job;

static void *reader(void *p)
{
    job *j = p;
    uint64_t shape[2] = {NY, NX};
    lsio_selection s;
    lsio_selection_all(&s, 2, shape);
    void *outs[1] = {j->out};
    size_t sizes[1] = {sizeof j->out};
    j->rc = lsio_zarr_read_many_group(j->a, &s, 1, outs, sizes, j->group);
    atomic_store(&j->done, 1);
    return NULL;
}

static void check_job(const job *j)
{
    CHECK_OK(j->rc);
    CHECK(!memcmp(j->out, ref, sizeof ref));
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
    const char *tmp = test_tmpdir("zarr_read_groups");
    char dir[4200], chunk0[4300];
    snprintf(dir, sizeof dir, "%s/g.zarr", tmp);
    snprintf(chunk0, sizeof chunk0, "%s/0.0", dir);
    write_array(dir);

    /* posix with several workers: the blocked callback holds one of them. */
    lsio_io_opts io_opts = LSIO_IO_OPTS_DEFAULT;
    io_opts.backend = LSIO_BACKEND_POSIX;
    io_opts.workers = 4;
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, dir, &io_opts));
    lsio_zarr_opts zo = LSIO_ZARR_OPTS_DEFAULT;
    zo.io_handle = io;
    lsio_zarr_array *a;
    CHECK_OK(lsio_zarr_open(&a, dir, &zo));

    /* Group 0 (read_many) still works and is the default. */
    job *j0 = calloc(1, sizeof *j0);
    CHECK(j0);
    j0->a = a;
    reader(j0);
    check_job(j0);

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
    job *j2 = calloc(1, sizeof *j2), *j1 = calloc(1, sizeof *j1);
    CHECK(j1 && j2);
    j2->a = j1->a = a;
    j2->group = 2;
    j1->group = 1;
    pthread_t t2, t1;
    CHECK_OK(-pthread_create(&t2, NULL, reader, j2));
    sleep_ms(100);
    lsio_io_stats_get(io, &st1);
    CHECK_EQ(st1.ranges, st0.ranges); /* group 2 waits behind the gate */
    CHECK(!atomic_load(&j2->done));
    /* A group-1 read submitted later goes first. */
    CHECK_OK(-pthread_create(&t1, NULL, reader, j1));
    CHECK_OK(-pthread_join(t1, NULL));
    check_job(j1);
    sleep_ms(50);
    lsio_io_stats_get(io, &st2);
    CHECK_EQ(st2.ranges - st1.ranges, (uint64_t)(NY / CY) * (NX / CX)); /* j1's alone */
    CHECK(!atomic_load(&j2->done));

    pthread_mutex_lock(&gmu);
    opened = 1;
    pthread_cond_broadcast(&gcv);
    pthread_mutex_unlock(&gmu);
    CHECK_OK(-pthread_join(t2, NULL));
    check_job(j2);

    lsio_zarr_close(a);
    lsio_cq_destroy(gcq);
    lsio_io_close(io);
    free(j0);
    free(j1);
    free(j2);
    printf("ok\n");
    return 0;
}
