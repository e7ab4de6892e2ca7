#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* syscall() */
#include "fastnn_threads.h"

#include <pthread.h>
#include <sched.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FNN_PAUSE() _mm_pause()
#else
#define FNN_PAUSE() ((void)0)
#endif

#if defined(__linux__)
#include <linux/futex.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* Spins before sleeping (about 80 us at the 40 ns a pause takes on this
 * machine's cores): long enough to cover the gap between two threads
 * reaching a barrier within one step, short enough that a member whose
 * partner lost its core to another thread (another process, another
 * library's spinning BLAS threads) soon gives its own core back: the
 * scheduler can then run the late partner there. */
#define FNN_SPINS_BEFORE_SLEEP 2000

/* Sleeps while *word == expected (or returns at once if it no longer is);
 * wakes every sleeper on word. Linux: futex; elsewhere a yielding spin. */
static void fnn_sleep_while_equal(atomic_int *word, int expected)
{
#if defined(__linux__)
    syscall(SYS_futex, (int *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    if (atomic_load(word) == expected) {
        sched_yield();
    }
#endif
}

static void fnn_wake_all(atomic_int *word)
{
#if defined(__linux__)
    syscall(SYS_futex, (int *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)word;
#endif
}

void fnn_barrier_init(fnn_barrier *barrier, int n_threads)
{
    atomic_store(&barrier->arrived, 0);
    atomic_store(&barrier->generation, 0);
    atomic_store(&barrier->sleepers, 0);
    barrier->n_threads = n_threads;
}

void fnn_barrier_wait(fnn_barrier *barrier)
{
    if (barrier->n_threads <= 1) {
        return;
    }
    const int generation = atomic_load(&barrier->generation);
    if (atomic_fetch_add(&barrier->arrived, 1) == barrier->n_threads - 1) {
        /* Last to arrive: reset for the next use, then release the others.
         * Sequentially consistent order: a waiter counts itself a sleeper
         * before it reads the generation, the releaser bumps the generation
         * before it reads the sleepers, so either the waiter sees the new
         * generation or the releaser sees the sleeper and wakes it. */
        atomic_store(&barrier->arrived, 0);
        atomic_fetch_add(&barrier->generation, 1);
        if (atomic_load(&barrier->sleepers) > 0) {
            fnn_wake_all(&barrier->generation);
        }
        return;
    }
    for (int spins = 0; spins < FNN_SPINS_BEFORE_SLEEP; spins++) {
        if (atomic_load_explicit(&barrier->generation, memory_order_acquire) != generation) {
            return;
        }
        FNN_PAUSE();
    }
    while (atomic_load(&barrier->generation) == generation) {
        atomic_fetch_add(&barrier->sleepers, 1);
        if (atomic_load(&barrier->generation) == generation) {
            fnn_sleep_while_equal(&barrier->generation, generation);
        }
        atomic_fetch_sub(&barrier->sleepers, 1);
    }
}

typedef struct {
    void (*work)(void *context, int thread);
    void *context;
    atomic_int go; /* 0: wait, 1: run the work, -1: leave without running it */
} fnn_launch;

typedef struct {
    fnn_launch *launch;
    int thread;
} fnn_job;

static void *fnn_thread_main(void *arg)
{
    fnn_job *job = (fnn_job *)arg;
    int go;
    while ((go = atomic_load_explicit(&job->launch->go, memory_order_acquire)) == 0) {
        sched_yield();
    }
    if (go > 0) {
        job->launch->work(job->launch->context, job->thread);
    }
    return NULL;
}


int fnn_run_team(int n_threads, void (*work)(void *context, int thread), void *context)
{
    pthread_t threads[FNN_MAX_THREADS];
    fnn_job jobs[FNN_MAX_THREADS];
    fnn_launch launch;
    launch.work = work;
    launch.context = context;
    atomic_store(&launch.go, 0);
    if (n_threads > FNN_MAX_THREADS) {
        n_threads = FNN_MAX_THREADS;
    }
    int started = 1;
    for (int t = 1; t < n_threads; t++) {
        jobs[t].launch = &launch;
        jobs[t].thread = t;
        if (pthread_create(&threads[t], NULL, fnn_thread_main, &jobs[t]) != 0) {
            break;
        }
        started++;
    }
    /* The work is split n_threads ways, so it runs only if every thread
     * started; otherwise nothing runs and the caller falls back. */
    const int all_started = started == n_threads;
    atomic_store_explicit(&launch.go, all_started ? 1 : -1, memory_order_release);
    if (all_started) {
        work(context, 0);
    }
    for (int t = 1; t < started; t++) {
        pthread_join(threads[t], NULL);
    }
    return all_started ? n_threads : 0;
}
