/*
 * test_prefault.c — lsio_pool_prefault maps every page of a fresh
 * anonymous mapping (mincore says each is resident, and without it none
 * is), for aligned and unaligned ranges, ranges of one page to many 2 MiB
 * blocks, on a pool of several threads and with no pool; the pages around
 * the range stay unmapped; pages already written keep their contents but
 * for the one byte per page it writes. (Residency, not fault counts: under
 * ThreadSanitizer every write also faults in shadow memory.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lsio_pool.h"
#include "testutil.h"

/* How many pages of [p, p + len) are resident (p page-aligned). */
static size_t resident(const unsigned char *p, size_t len)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = (len + pg - 1) / pg, r = 0;
    unsigned char *v = malloc(n ? n : 1);
    CHECK(v);
    CHECK_EQ(mincore((void *)p, len, v), 0);
    for (size_t i = 0; i < n; i++)
        r += v[i] & 1;
    free(v);
    return r;
}

/* Anonymous memory of this process in use, bytes (RssAnon): written pages
 * count, pages that only map the shared zero page (a read) do not. */
static size_t rss_anon(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f);
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %zu kB", &kb) == 1)
            break;
    fclose(f);
    return kb << 10;
}

/* Fresh mapping of the range's pages + 2 guard pages; prefault [lead,
 * lead + len) of the middle and check what is resident. */
static void one(lsio_pool *p, size_t lead, size_t len)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (lead + len + pg - 1) / pg, maplen = (pages + 2) * pg;
    unsigned char *m = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    madvise(m, maplen, MADV_NOHUGEPAGE); /* a huge page would map the guards too */
    CHECK_EQ(resident(m, maplen), 0);
    unsigned char *mem = m + pg + lead;
    size_t rss0 = rss_anon();
    lsio_pool_prefault(p, mem, len);
    /* written, not merely read (which maps the zero page) */
    if (len >= (2u << 20))
        CHECK(rss_anon() - rss0 >= len / 10 * 9);
    size_t got = resident(m + pg, pages * pg);
    /* every page of the range; at most its last one may be missed when the
     * range starts inside a page */
    if (got + (lead % pg ? 1 : 0) < pages)
        fprintf(stderr, "lead %zu len %zu: %zu of %zu pages resident\n", lead, len, got, pages);
    CHECK(got + (lead % pg ? 1 : 0) >= pages);
    CHECK_EQ(resident(m, pg), 0);                /* the guards */
    CHECK_EQ(resident(m + maplen - pg, pg), 0);
    for (size_t i = 0; i < len; i += 997)
        CHECK_EQ(mem[i], 0);
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
    /* written pages keep what they hold but for one byte per page, set
     * to 0 (contents do not matter to callers) */
    size_t len = 8 * mib;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    memset(m, 1, len);
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
