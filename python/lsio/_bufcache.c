/*
 * _bufcache.c — the memory of large result arrays, recycled.
 *
 * A result of `a[...]` or `read()` without `out` needs fresh memory, and
 * fresh memory costs the kernel a page fault and zeroing per page before
 * LSIO can write a byte of it: about a third of a warm 1 GiB read here
 * (0.05-0.1 s of 0.15-0.25 s), and far more when a virtual machine's host
 * must back the pages again. Readers that produce results of the same
 * sizes over and over (epochs, dask tasks loading chunks, benchmarks)
 * can reuse the memory of results already dropped instead.
 *
 * Results of LSIO_PY_BIG bytes or more live in their own mappings (huge
 * pages where the kernel gives them and lsio_hugepages() says so). When such an array goes, its mapping
 * is kept, up to a total of `limit` bytes (the oldest let go first). All
 * but the newest kept mapping are madvise(MADV_FREE)d: the kernel may take
 * their pages back under memory pressure, and until it does, writing them
 * again costs no fault, but the first write to each page sets its dirty
 * bit again (a page-table walk per page: 0.02-0.04 s per GiB on this
 * guest, 0.12-0.15 s reads against 0.10-0.12 s). The newest is left as it
 * is, since a loop that drops a result and reads the next of the same
 * size takes it straight back; it gets MADV_FREE when another is kept
 * after it. So at most one dropped result (one that was just the
 * caller's) stays unreclaimable. A new result takes a kept mapping of its
 * size class (at most 1/8 larger) when there is one. LSIO fills every
 * byte of a result (missing chunks with the fill value), so old contents
 * never show.
 *
 * The limit: $LSIO_BUFFER_CACHE (bytes, with an optional K, M or G; 0 turns
 * the cache off), else an eighth of the physical memory, at most 4 GiB;
 * lsio.buffer_cache(limit=None) reads and sets it.
 *
 * Thread safety: every call runs with the GIL held (allocation in the
 * reader before the GIL is released, release from the array's base
 * object's destructor), which guards the lists; no lock of its own, so a
 * fork() never inherits one held.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "_lsio.h"

#define LSIO_PY_BIG (4u << 20) /* smaller results: numpy's own allocation */
#define HUGE (2u << 20)
#define MAX_KEPT 64

typedef struct kept {
    void *p;
    size_t cap;
    int dirty; /* not MADV_FREE'd (only the newest) */
} kept;

static kept cache[MAX_KEPT]; /* oldest first */
static size_t ncache, cached_bytes, limit;
static int limit_set;
static unsigned long long hits, misses;

static size_t parse_size(const char *s)
{
    uint64_t v;
    return lsio_parse_bytes(s, &v) < 0 || v >= SIZE_MAX ? (size_t)-1 : (size_t)v;
}

static size_t get_limit(void)
{
    if (!limit_set) {
        limit_set = 1;
        const char *e = getenv("LSIO_BUFFER_CACHE");
        size_t v = e && *e ? parse_size(e) : (size_t)-1;
        if (v == (size_t)-1) {
            long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
            v = pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz / 8 : 0;
            if (v > (4ull << 30))
                v = 4ull << 30;
        }
        limit = v;
    }
    return limit;
}

static void drop(size_t i)
{
    munmap(cache[i].p, cache[i].cap);
    cached_bytes -= cache[i].cap;
    memmove(&cache[i], &cache[i + 1], (ncache - i - 1) * sizeof *cache);
    ncache--;
}

/* Keep at most `lim` bytes (and MAX_KEPT mappings), the newest. */
static void trim(size_t lim)
{
    while (ncache && (cached_bytes > lim || ncache > MAX_KEPT - 1))
        drop(0);
}

static void release(PyObject *capsule)
{
    size_t cap = (size_t)(uintptr_t)PyCapsule_GetContext(capsule);
    void *p = PyCapsule_GetPointer(capsule, "lsio.buffer");
    if (!p)
        return;
    if (cap > get_limit()) {
        munmap(p, cap);
        return;
    }
    trim(get_limit() - cap);
    if (ncache && cache[ncache - 1].dirty) { /* no longer the newest */
        madvise(cache[ncache - 1].p, cache[ncache - 1].cap, MADV_FREE);
        cache[ncache - 1].dirty = 0;
    }
    cache[ncache++] = (kept){p, cap, 1};
    cached_bytes += cap;
}

PyArrayObject *lsio_py_empty(PyArray_Descr *descr, int nd, npy_intp *dims, lsio_pool *pool)
{
    size_t n = (size_t)descr->elsize;
    for (int i = 0; i < nd; i++)
        n *= (size_t)dims[i];
    if (n < LSIO_PY_BIG || !get_limit())
        return (PyArrayObject *)PyArray_Empty(nd, dims, descr, 0);
    size_t cap = (n + HUGE - 1) & ~(size_t)(HUGE - 1);
    void *p = NULL;
    for (size_t i = ncache; i-- > 0;) /* newest first */
        if (cache[i].cap >= cap && cache[i].cap - cap <= cap / 8) {
            p = cache[i].p;
            cap = cache[i].cap;
            cached_bytes -= cap;
            memmove(&cache[i], &cache[i + 1], (ncache - i - 1) * sizeof *cache);
            ncache--;
            hits++;
            break;
        }
    if (!p) {
        misses++;
        p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            trim(0); /* give back what is kept, then try once more */
            p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        }
        if (p == MAP_FAILED) {
            Py_DECREF(descr);
            return (PyArrayObject *)PyErr_NoMemory();
        }
        lsio_advise_huge(p, cap);
        /* fresh pages: fault them in parallel now, not one by one (and
         * twice where two decode threads meet in a page) during the read */
        static int no_prefault = -1;
        if (no_prefault < 0)
            no_prefault = getenv("LSIO_NO_PREFAULT") != NULL;
        if (!no_prefault) {
            Py_BEGIN_ALLOW_THREADS
            lsio_pool_prefault(pool ? pool : lsio_pool_default(), p, n);
            Py_END_ALLOW_THREADS
        }
    }
    PyObject *base = PyCapsule_New(p, "lsio.buffer", release);
    if (!base || PyCapsule_SetContext(base, (void *)(uintptr_t)cap) < 0) {
        if (base)
            Py_DECREF(base); /* returns p to the cache */
        else
            munmap(p, cap);
        Py_DECREF(descr);
        return NULL;
    }
    PyObject *a = PyArray_NewFromDescr(&PyArray_Type, descr, nd, dims, NULL, p,
                                       NPY_ARRAY_CARRAY, NULL);
    if (!a || PyArray_SetBaseObject((PyArrayObject *)a, base) < 0) {
        Py_XDECREF(a);
        if (!a)
            Py_DECREF(base);
        return NULL;
    }
    return (PyArrayObject *)a;
}

PyObject *lsio_py_buffer_cache(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    static char *kw[] = {"limit", NULL};
    PyObject *lim = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:buffer_cache", kw, &lim))
        return NULL;
    get_limit();
    if (lim != Py_None) {
        Py_ssize_t v = PyNumber_AsSsize_t(lim, PyExc_OverflowError);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (v < 0) {
            PyErr_SetString(PyExc_ValueError, "buffer_cache: limit must be >= 0");
            return NULL;
        }
        limit = (size_t)v;
        trim(limit);
    }
    return Py_BuildValue("{s:n,s:n,s:n,s:K,s:K}", "limit", (Py_ssize_t)limit, "cached_bytes",
                         (Py_ssize_t)cached_bytes, "cached", (Py_ssize_t)ncache, "hits", hits,
                         "misses", misses);
}
