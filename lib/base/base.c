/*
 * base.c — error codes and messages, clocks, aligned memory.
 *
 * The last-error slot is a thread-local buffer so that synchronous calls can
 * report what failed without an error object in every signature.
 */
#include "lsio_base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

void *lsio_alloc_aligned(size_t align, size_t size)
{
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, size ? size : 1) != 0)
        return NULL;
    return p;
}

void lsio_free_aligned(void *p) { free(p); }

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

const char *lsio_version(void) { return "0.1.0"; }
