/*
 * base.c — error codes and messages, clocks, aligned memory.
 *
 * The last-error slot is a thread-local buffer so that synchronous calls can
 * report what failed without an error object in every signature.
 *
 * Aligned memory of 2 MiB and more is mapped (mmap, 2 MiB aligned) and
 * marked MADV_HUGEPAGE: with transparent huge pages in "madvise" mode its
 * first touch costs one fault per 2 MiB instead of one per 4 KiB (on one
 * shared VM a 4 KiB fault cost tens of microseconds: 64 MiB first-touched
 * took 0.5-0.85 s in small pages, 5-60 ms in huge ones; on a guest that
 * reports free pages to its host the other way round, see lsio_hugepages
 * in lsio_base.h, which decides). The tail past the
 * last whole 2 MiB is mapped to the page only (small pages, no waste). The
 * mapped blocks are kept in a small table (pointer -> length) so that
 * lsio_free_aligned, which gets no size, can tell them from malloc'd ones
 * (only 2 MiB-aligned pointers are looked up). When huge pages are off
 * (lsio_hugepages) every size comes from posix_memalign. Under AddressSanitizer
 * the tail past the size is poisoned and each block carries a hidden heap
 * tag, so that overruns and leaks of mapped blocks are still reported.
 */
#include "lsio_base.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define LSIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LSIO_ASAN 1
#endif
#endif
#ifdef LSIO_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define LSIO_MSG_MAX 1024

static _Thread_local char last_msg[LSIO_MSG_MAX];

static const char *const lsio_names[] = {
    [LSIO_EFORMAT - LSIO_EBASE] = "malformed data or metadata",
    [LSIO_ECODEC - LSIO_EBASE] = "codec failed (corrupt or truncated input)",
    [LSIO_ESIZE - LSIO_EBASE] = "unexpected size",
    [LSIO_EUNSUPPORTED - LSIO_EBASE] = "not supported",
    [LSIO_ERANGE - LSIO_EBASE] = "byte range outside the object",
    [LSIO_EHTTP - LSIO_EBASE] = "HTTP error status",
    [LSIO_ENET - LSIO_EBASE] = "network transfer failed",
    [LSIO_ECHECKSUM - LSIO_EBASE] = "checksum mismatch",
    [LSIO_ESELECTION - LSIO_EBASE] = "bad selection",
    [LSIO_EFALLBACK - LSIO_EBASE] = "backend fell back",
};

const char *lsio_strerror(int err)
{
    if (err < 0)
        err = -err;
    if (err == 0)
        return "success";
    if (err > LSIO_EBASE && err < LSIO_ELAST) {
        const char *s = lsio_names[err - LSIO_EBASE];
        return s ? s : "unknown LSIO error";
    }
    if (err < LSIO_EBASE) {
        /* strerrordesc_np is thread-safe and returns a static string. */
        const char *s = strerrordesc_np(err);
        if (s)
            return s;
    }
    return "unknown error";
}

const char *lsio_last_error(void) { return last_msg; }

void lsio_error_clear(void) { last_msg[0] = '\0'; }

int lsio_error_set(int err, const char *msg)
{
    snprintf(last_msg, sizeof last_msg, "%s", msg ? msg : "");
    return err;
}

int lsio_verror(int err, const char *fmt, va_list ap)
{
    int n = vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof last_msg)
        snprintf(last_msg + n, sizeof last_msg - (size_t)n, ": %s", lsio_strerror(err));
    return err;
}

int lsio_error(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lsio_verror(err, fmt, ap);
    va_end(ap);
    return err;
}

int lsio_error_wrap(int err, const char *fmt, ...)
{
    char pre[LSIO_MSG_MAX], msg[2 * LSIO_MSG_MAX + 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof msg, "%s: %s", pre, last_msg[0] ? last_msg : lsio_strerror(err));
    return lsio_error_set(err, msg);
}

char *lsio_error_msg(int err, const char *fmt, ...)
{
    char buf[LSIO_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof buf)
        snprintf(buf + n, sizeof buf - (size_t)n, ": %s", lsio_strerror(err));
    return strdup(buf);
}

uint64_t lsio_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

unsigned lsio_ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

/* ------------------------------------------------------- aligned memory */

#define HUGE_BYTES ((size_t)2 << 20)
#define MAP_BUCKETS 1024
#define TAG_MASK ((uintptr_t)0x5a5a5a5a5a5a5a5aULL)

typedef struct mapped {
    struct mapped *next;
    uintptr_t p;
    size_t len;     /* bytes mapped at p (page multiple) */
    uintptr_t tag;  /* ASan: heap tag XOR TAG_MASK (not a pointer to LSan) */
} mapped;

static pthread_mutex_t map_mu = PTHREAD_MUTEX_INITIALIZER;
static mapped *map_tab[MAP_BUCKETS];
static pthread_once_t huge_once = PTHREAD_ONCE_INIT;
static int huge_on;
static size_t page_bytes;

int lsio_read_line(const char *path, char *buf, size_t cap)
{
    FILE *f = cap ? fopen(path, "re") : NULL;
    if (!f)
        return -1;
    char *ok = fgets(buf, cap > INT32_MAX ? INT32_MAX : (int)cap, f);
    fclose(f);
    if (!ok)
        return -1;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

/* The first line of dir/name (lsio_read_line). */
static int read_line(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[512];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -1;
    return lsio_read_line(path, buf, cap);
}

/* Whether a virtio balloon with free page reporting (device 5, feature bit
 * 5, VIRTIO_BALLOON_F_REPORTING) is bound to a driver under virtio_dir. */
static int reports_free_pages(const char *virtio_dir)
{
    DIR *d = opendir(virtio_dir);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char dev[600], buf[320];
        if (e->d_name[0] == '.' ||
            snprintf(dev, sizeof dev, "%s/%s", virtio_dir, e->d_name) >= (int)sizeof dev)
            continue;
        if (read_line(dev, "device", buf, sizeof buf) || strtol(buf, NULL, 0) != 5)
            continue;
        char drv[620];
        snprintf(drv, sizeof drv, "%s/driver", dev);
        struct stat st;
        if (lstat(drv, &st) != 0) /* no driver: nothing reports */
            continue;
        found = read_line(dev, "features", buf, sizeof buf) == 0 && strlen(buf) > 5 &&
                buf[5] == '1';
    }
    closedir(d);
    return found;
}

int lsio__hugepage_policy(const char *hugepages, const char *no_hugepages, const char *virtio_dir)
{
    if (hugepages && *hugepages) {
        if (!strcmp(hugepages, "on") || !strcmp(hugepages, "1"))
            return 1;
        if (!strcmp(hugepages, "off") || !strcmp(hugepages, "0"))
            return 0;
        /* anything else: auto */
    }
    if (no_hugepages && *no_hugepages && strcmp(no_hugepages, "0") != 0)
        return 0;
    return !reports_free_pages(virtio_dir);
}

static void huge_init(void)
{
    huge_on = lsio__hugepage_policy(getenv("LSIO_HUGEPAGES"), getenv("LSIO_NO_HUGEPAGES"),
                                    "/sys/bus/virtio/devices");
    long ps = sysconf(_SC_PAGESIZE);
    page_bytes = ps > 0 ? (size_t)ps : 4096;
}

int lsio_hugepages(void)
{
    pthread_once(&huge_once, huge_init);
    return huge_on;
}

void lsio_advise_huge(void *p, size_t len)
{
    uintptr_t a = ((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
    uintptr_t b = ((uintptr_t)p + len) & ~(uintptr_t)(HUGE_BYTES - 1);
    if (lsio_hugepages() && p && b > a)
        madvise((void *)a, b - a, MADV_HUGEPAGE);
}

static unsigned map_hash(uintptr_t p) { return (unsigned)((p >> 21) * 2654435761u) % MAP_BUCKETS; }

/* size bytes at an address aligned to align (>= 2 MiB), in huge pages where
 * whole ones fit; NULL when the mapping fails. */
static void *map_huge(size_t align, size_t size)
{
    size_t len = (size + page_bytes - 1) & ~(page_bytes - 1);
    mapped *m = calloc(1, sizeof *m);
    if (!m || len < size || len + align < len) {
        free(m);
        return NULL;
    }
    unsigned char *raw = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        free(m);
        return NULL;
    }
    uintptr_t p = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = p - (uintptr_t)raw, tail = align - head;
    if (head)
        munmap(raw, head);
    if (tail)
        munmap((void *)(p + len), tail);
    if (len >= HUGE_BYTES)
        madvise((void *)p, len & ~(HUGE_BYTES - 1), MADV_HUGEPAGE);
    m->p = p;
    m->len = len;
#ifdef LSIO_ASAN
    m->tag = (uintptr_t)malloc(1) ^ TAG_MASK;
    ASAN_POISON_MEMORY_REGION((void *)(p + size), len - size);
#endif
    unsigned h = map_hash(p);
    pthread_mutex_lock(&map_mu);
    m->next = map_tab[h];
    map_tab[h] = m;
    pthread_mutex_unlock(&map_mu);
    return (void *)p;
}

void *lsio_alloc_aligned(size_t align, size_t size)
{
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    pthread_once(&huge_once, huge_init);
    if (huge_on && size >= HUGE_BYTES && (p = map_huge(align > HUGE_BYTES ? align : HUGE_BYTES, size)))
        return p;
    if (posix_memalign(&p, align, size ? size : 1) != 0)
        return NULL;
    return p;
}

void lsio_free_aligned(void *p)
{
    uintptr_t u = (uintptr_t)p;
    if (p && (u & (HUGE_BYTES - 1)) == 0) {
        mapped *m = NULL;
        pthread_mutex_lock(&map_mu);
        for (mapped **pm = &map_tab[map_hash(u)]; *pm; pm = &(*pm)->next)
            if ((*pm)->p == u) {
                m = *pm;
                *pm = m->next;
                break;
            }
        pthread_mutex_unlock(&map_mu);
        if (m) {
#ifdef LSIO_ASAN
            ASAN_UNPOISON_MEMORY_REGION(p, m->len);
            free((void *)(m->tag ^ TAG_MASK));
#endif
            munmap(p, m->len);
            free(m);
            return;
        }
    }
    free(p);
}

char *lsio_join(const char *url, const char *key)
{
    size_t a = strlen(url), b = strlen(key);
    while (a > 1 && url[a - 1] == '/')
        a--;
    char *s = malloc(a + b + 2);
    if (!s)
        return NULL;
    memcpy(s, url, a);
    s[a] = '/';
    memcpy(s + a + 1, key, b + 1);
    return s;
}

int lsio_mul_size(size_t a, size_t b, size_t *out)
{
    if (__builtin_mul_overflow(a, b, out))
        return -EOVERFLOW;
    return 0;
}

int lsio_add_size(size_t a, size_t b, size_t *out)
{
    if (__builtin_add_overflow(a, b, out))
        return -EOVERFLOW;
    return 0;
}

int lsio_parse_bytes(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    uint64_t n = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (n > (UINT64_MAX - d) / 10)
            return -ERANGE;
        n = n * 10 + d;
    }
    unsigned shift = 0;
    switch (*s) {
    case 'k': case 'K': shift = 10; s++; break;
    case 'm': case 'M': shift = 20; s++; break;
    case 'g': case 'G': shift = 30; s++; break;
    case 't': case 'T': shift = 40; s++; break;
    default: break;
    }
    if (*s == '\n')
        s++;
    if (*s)
        return -EINVAL;
    if (n > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = n << shift;
    return 0;
}

int lsio_parse_int_text(const char *s, size_t n, int is_signed, unsigned bits, uint64_t *out)
{
    while (n && strchr(" \t\r\n", s[n - 1]))
        n--;
    while (n && strchr(" \t\r\n", *s)) {
        s++;
        n--;
    }
    size_t neg = n && *s == '-', k = neg, z = neg;
    if (n - neg < 1)
        return -EINVAL;
    for (; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            return -EINVAL;
    while (z + 1 < n && s[z] == '0') /* leading zeros (cJSON lets them by) */
        z++;
    char buf[32];
    if (n - z + neg >= sizeof buf)
        return -ERANGE; /* more digits than any 64-bit integer has */
    buf[0] = '-';
    memcpy(buf + neg, s + z, n - z);
    buf[neg + n - z] = 0;
    errno = 0;
    if (is_signed) {
        long long x = strtoll(buf, NULL, 10);
        long long lim = bits < 64 ? 1ll << (bits - 1) : 0;
        if (errno || (bits < 64 && (x < -lim || x > lim - 1)))
            return -ERANGE;
        *out = (uint64_t)x;
    } else {
        unsigned long long x = strtoull(buf, NULL, 10);
        if ((neg && x) || errno || (bits < 64 && x > (1ull << bits) - 1))
            return -ERANGE;
        *out = x;
    }
    return 0;
}

const char *lsio_version(void) { return "0.1.0"; }
