/*
 * pool_park.h — internal to lib/pool: parkers, the futex words threads of
 * the pool sleep on.
 *
 * A parker word is 1 while its thread is parked (or about to be) and 0
 * while it is awake. The sleeper arms it (stores 1), checks its condition
 * again, and sleeps only if the condition is still false; a waker makes the
 * condition true, then exchanges the word to 0 and wakes the futex. With
 * seq_cst on both sides, either the waker sees the 1 or the sleeper sees
 * the condition: no wake-up is lost (pool.c gives the whole protocol).
 *
 * Parkers that task groups may name live in a static table, never freed:
 * a wake that arrives after its thread stopped waiting lands on a live word
 * (at worst a spurious wake-up for whoever holds the slot now). Slots are
 * numbered from 1; 0 means "no slot" (the table was full).
 *
 * Thread safety: everything here is thread-safe.
 */
#ifndef LSIO_POOL_PARK_H
#define LSIO_POOL_PARK_H

#include <stdatomic.h>
#include <stdint.h>

enum { POOL_PARKER_SLOTS = 1024 };

typedef struct pool_parker {
    _Alignas(64) _Atomic uint32_t word;
} pool_parker;

extern pool_parker pool_parkers[POOL_PARKER_SLOTS];

/* A free slot (its word reset to 0), or 0 when the table is full. */
uint32_t pool_parker_alloc(void);
/* Give a slot back (0 is ignored). */
void pool_parker_free(uint32_t slot);
/* The calling thread's own slot, taken on first use and given back when
 * the thread exits; 0 if the table was full. */
uint32_t pool_parker_thread_slot(void);
/* The word of a slot; for slot 0, a word private to the calling thread
 * (nobody can wake it: sleep on it with a timeout). */
_Atomic uint32_t *pool_parker_word(uint32_t slot);
/* Wake the thread parked on w, if it is. 1 if it was. */
int pool_parker_wake(_Atomic uint32_t *w);
/* Sleep while *w is 1 (at most 1 ms when timed). The caller armed *w and
 * found nothing to do; it sets *w = 0 itself afterwards. */
void pool_parker_sleep(_Atomic uint32_t *w, int timed);
/* Around fork(): hold the slot table's lock (see pool.c's atfork). */
void pool_parker_fork_lock(void);
void pool_parker_fork_unlock(void);

#endif
