/*
 * lsio_base.h — what every LSIO library shares: error codes, error messages,
 * clocks and small helpers.
 *
 * Errors: every fallible function returns 0 (or a count) on success and a
 * negative value on failure: either a negative errno (-ENOENT, -ENOMEM, ...)
 * or a negative LSIO_E* code, which lies beyond errno's range. lsio_strerror()
 * names either kind. A synchronous call that fails also leaves a message that
 * names what failed (path, URL, byte range, chunk key) in a thread-local slot
 * read by lsio_last_error(); asynchronous operations carry their own message
 * in their completion.
 *
 * Thread safety: every function here is thread-safe; the last-error slot is
 * per thread.
 */
#ifndef LSIO_BASE_H
#define LSIO_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* LSIO's own error codes. Functions return them negated (-LSIO_EFORMAT). */
enum {
    LSIO_EBASE = 4096,   /* first LSIO code: errno values stay below it */
    LSIO_EFORMAT,        /* malformed metadata or data (bad JSON, bad header) */
    LSIO_ECODEC,         /* a codec failed: corrupt or truncated input */
    LSIO_ESIZE,          /* decoded or received size differs from the expected */
    LSIO_EUNSUPPORTED,   /* valid input that LSIO cannot handle (unknown codec) */
    LSIO_ERANGE,         /* a byte range outside the object */
    LSIO_EHTTP,          /* an HTTP error status from a server */
    LSIO_ENET,           /* a transport failure (connect, TLS, reset, timeout) */
    LSIO_ECHECKSUM,      /* a checksum did not match */
    LSIO_ESELECTION,     /* a selection outside an array or malformed */
    LSIO_EFALLBACK,      /* not an error: a backend fell back (see lsio_io.h) */
    LSIO_ELAST
};

/* The name of an error code (negative or positive; errno values included).
 * Never NULL; the string is static. */
const char *lsio_strerror(int err);

/* The message of the last failed synchronous call in this thread, or "" if
 * none. The pointer stays valid until the next LSIO call in this thread. */
const char *lsio_last_error(void);

/* Record a message for this thread and return `err` unchanged, so a failing
 * function can write `return lsio_error(-ENOENT, "open %s", path);`. The
 * message is formatted as "<fmt...>: <lsio_strerror(err)>". */
int lsio_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lsio_verror(int err, const char *fmt, va_list ap);
/* Record a message verbatim (already complete) and return err. */
int lsio_error_set(int err, const char *msg);
/* Prefix this thread's message with "<fmt...>: " (when there is none, the
 * message becomes "<fmt...>: <lsio_strerror(err)>") and return err: a
 * layer names what a lower layer's failure concerns (array, chunk key). */
int lsio_error_wrap(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forget this thread's message. */
void lsio_error_clear(void);

/* Format a heap-allocated message "<fmt...>: <lsio_strerror(err)>"; the
 * caller frees it. NULL only when memory is exhausted. */
char *lsio_error_msg(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic time in nanoseconds. */
uint64_t lsio_now_ns(void);

/* Number of online CPUs (at least 1). */
unsigned lsio_ncpus(void);

/* Aligned allocation of `size` bytes (align a power of two); never
 * zero-filled. Free with lsio_free_aligned. NULL on failure. */
void *lsio_alloc_aligned(size_t align, size_t size);
void lsio_free_aligned(void *p);

/* The first line of the file at path (sysfs, procfs settings) into buf,
 * NUL-terminated, its newline dropped, truncated to cap - 1 bytes. 0, or -1
 * when the file cannot be opened or is empty. */
int lsio_read_line(const char *path, char *buf, size_t cap);

/* Whether LSIO backs its large buffers (lsio_alloc_aligned of 2 MiB and
 * more, decode scratch, `lsio get`'s slabs, the Python result cache) with
 * transparent huge pages (MADV_HUGEPAGE); decided once per process,
 * thread-safe. $LSIO_HUGEPAGES: on|1, off|0, auto (the default);
 * $LSIO_NO_HUGEPAGES=1 means off. auto is on unless the kernel reports free
 * memory to its hypervisor (a virtio balloon with free page reporting, as
 * Firecracker and QEMU offer): there a free 2 MiB page has usually been
 * handed back to the host, and touching a fresh one costs the host's faults
 * (measured on such a guest: 2.7-3.1 s/GiB in huge pages against
 * 0.4-0.8 s/GiB in small ones, a few seconds after the memory was freed). */
int lsio_hugepages(void);
/* madvise(MADV_HUGEPAGE) over the whole 2 MiB pages inside [p, p + len)
 * when lsio_hugepages(); nothing otherwise. */
void lsio_advise_huge(void *p, size_t len);
/* The decision itself, for tests: the values of $LSIO_HUGEPAGES and
 * $LSIO_NO_HUGEPAGES (NULL when unset) and the sysfs directory of virtio
 * devices (/sys/bus/virtio/devices). 1 on, 0 off. */
int lsio__hugepage_policy(const char *hugepages, const char *no_hugepages, const char *virtio_dir);

/* Checked size arithmetic: returns 0 and stores a*b (a+b) in *out, or
 * -EOVERFLOW. */
int lsio_mul_size(size_t a, size_t b, size_t *out);
int lsio_add_size(size_t a, size_t b, size_t *out);

/* The integer a JSON number's text s[0, n) spells, exactly (a double holds
 * integers exactly only up to 2^53): surrounding blanks allowed, then an
 * optional '-' and digits only. 0 with the value in *out (two's complement
 * when is_signed), -EINVAL when the text is no plain integer literal (1e3,
 * 5.0: the caller's double applies), -ERANGE when it does not fit an
 * integer of `bits` (8..64) bits, signed or not. */
int lsio_parse_int_text(const char *s, size_t n, int is_signed, unsigned bits, uint64_t *out);

/* A byte count as settings spell it: decimal digits, then optionally K, M,
 * G or T (either case; powers of 1024), nothing else (a trailing newline
 * allowed, as a sysfs file ends). 0 with the count in *out; -EINVAL for
 * other text; -ERANGE when it exceeds 2^64 - 1. *out is untouched on error. */
int lsio_parse_bytes(const char *s, uint64_t *out);

/* "url/key" (trailing slashes of url dropped), malloc'd; NULL when out of
 * memory. Locations and Zarr keys are joined with it everywhere. */
char *lsio_join(const char *url, const char *key);

/* Version string of the library ("0.1.0"). */
const char *lsio_version(void);

#ifdef __cplusplus
}
#endif
#endif /* LSIO_BASE_H */
