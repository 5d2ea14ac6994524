/*
 * test_prefault.c — lsio_pool_prefault maps every page of a fresh
 * anonymous mapping: writing the whole range afterwards takes no page
 * faults (counted with getrusage, in this thread), for aligned and
 * unaligned ranges, ranges of one page to many 2 MiB blocks, on a pool of
 * several threads and with no pool; bytes outside the range stay unmapped;
 * pages already written keep their contents where it did not write.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lsio_pool.h"
#include "testutil.h"

static long faults(void)
{
    struct rusage r;
    getrusage(RUSAGE_THREAD, &r);
    return r.ru_minflt;
}

/* Fresh mapping of len + 2 guard pages; prefault [lead, lead + len) of the
 * middle, then write it all and count the faults that takes. */
static void one(lsio_pool *p, size_t lead, size_t len)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t maplen = (lead + len + pg - 1) / pg * pg + 2 * pg;
    unsigned char *m = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    madvise(m, maplen, MADV_NOHUGEPAGE); /* a huge page would map the guards too */
    unsigned char *mem = m + pg + lead;
    lsio_pool_prefault(p, mem, len);
    long f0 = faults();
    memset(mem, 0x3C, len);
    long f = faults() - f0;
    /* the range's pages are mapped (at most its last page, when it starts
     * inside a page, may take one fault) */
    if (f > 1)
        fprintf(stderr, "lead %zu len %zu: %ld faults after prefault\n", lead, len, f);
    CHECK(f <= 1);
    /* the guard pages around it were not touched */
    unsigned char v;
    CHECK_EQ(mincore(m, pg, &v), 0);
    CHECK_EQ(v & 1, 0);
    CHECK_EQ(mincore(m + maplen - pg, pg, &v), 0);
    CHECK_EQ(v & 1, 0);
    munmap(m, maplen);
}

int main(void)
{
    lsio_pool *p;
    CHECK_OK(lsio_pool_create(&p, 3));
    size_t mib = 1u << 20;
    size_t lens[] = {1, 4096, 5000, 2 * mib, 2 * mib + 1, 7 * mib + 123, 64 * mib};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        one(p, 0, lens[i]);
        one(p, 100, lens[i]);
        one(NULL, 0, lens[i]);
    }
    /* without prefault the same write takes a fault per page (the check
     * above can fail) */
    size_t len = 8 * mib;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    madvise(m, len, MADV_NOHUGEPAGE);
    long f0 = faults();
    memset(m, 1, len);
    CHECK(faults() - f0 >= (long)(len / (size_t)sysconf(_SC_PAGESIZE)) / 2);
    /* written pages keep what they hold, but for the one byte per page it
     * writes (contents do not matter to callers; here: only that it is 0) */
    lsio_pool_prefault(p, m, len);
    size_t nonzero = 0;
    for (size_t i = 0; i < len; i++)
        nonzero += m[i] != 0;
    CHECK_EQ(nonzero, len - len / (size_t)sysconf(_SC_PAGESIZE));
    munmap(m, len);
    lsio_pool_prefault(p, NULL, 10); /* no-ops */
    lsio_pool_prefault(p, m, 0);
    lsio_pool_destroy(p);
    printf("ok\n");
    return 0;
}
