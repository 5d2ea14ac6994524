/*
 * pool_park.c — the parkers of pool_park.h: futex sleep and wake, and the
 * static table of slots that task groups name their waiter by.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pool_park.h"

pool_parker pool_parkers[POOL_PARKER_SLOTS];

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static uint32_t g_free[POOL_PARKER_SLOTS];
static uint32_t g_nfree, g_used;
static pthread_key_t g_key;
static int g_key_ok;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
/* This thread's slot (0: none yet, UINT32_MAX: the table was full). */
static _Thread_local uint32_t t_slot;
static _Thread_local _Atomic uint32_t t_private; /* the word of slot 0 */

uint32_t pool_parker_alloc(void)
{
    uint32_t s = 0;
    pthread_mutex_lock(&g_mu);
    if (g_nfree)
        s = g_free[--g_nfree];
    else if (g_used < POOL_PARKER_SLOTS)
        s = ++g_used;
    pthread_mutex_unlock(&g_mu);
    if (s)
        atomic_store(&pool_parkers[s - 1].word, 0);
    return s;
}

void pool_parker_free(uint32_t slot)
{
    if (!slot)
        return;
    pthread_mutex_lock(&g_mu);
    g_free[g_nfree++] = slot;
    pthread_mutex_unlock(&g_mu);
}

static void key_release(void *v)
{
    pool_parker_free((uint32_t)(uintptr_t)v);
}

static void key_init(void)
{
    g_key_ok = pthread_key_create(&g_key, key_release) == 0;
}

uint32_t pool_parker_thread_slot(void)
{
    if (t_slot == 0) {
        pthread_once(&g_key_once, key_init);
        uint32_t s = pool_parker_alloc();
        if (s && g_key_ok) /* without the key the slot is never given back */
            (void)pthread_setspecific(g_key, (void *)(uintptr_t)s);
        t_slot = s ? s : UINT32_MAX;
    }
    return t_slot == UINT32_MAX ? 0 : t_slot;
}

_Atomic uint32_t *pool_parker_word(uint32_t slot)
{
    return slot ? &pool_parkers[slot - 1].word : &t_private;
}

int pool_parker_wake(_Atomic uint32_t *w)
{
    if (atomic_load_explicit(w, memory_order_seq_cst) != 1)
        return 0;
    if (atomic_exchange_explicit(w, 0, memory_order_seq_cst) != 1)
        return 0;
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return 1;
}

void pool_parker_sleep(_Atomic uint32_t *w, int timed)
{
    static const struct timespec ms = {0, 1000000};
    while (atomic_load_explicit(w, memory_order_seq_cst) == 1) {
        syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, 1, timed ? &ms : NULL, NULL, 0);
        if (timed)
            break;
    }
}

void pool_parker_fork_lock(void)
{
    pthread_mutex_lock(&g_mu);
}

void pool_parker_fork_unlock(void)
{
    pthread_mutex_unlock(&g_mu);
}
