#define _POSIX_C_SOURCE 200809L
#include "fastnn_threads.h"

#include <pthread.h>
#include <sched.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FNN_PAUSE() _mm_pause()
#else
#define FNN_PAUSE() ((void)0)
#endif

/* Spins before yielding: long enough to cover the gap between two threads
 * reaching a barrier within one step, short enough not to burn a core that
 * another process needs. */
#define FNN_SPINS_BEFORE_YIELD 20000

void fnn_barrier_init(fnn_barrier *barrier, int n_threads)
{
    atomic_store(&barrier->arrived, 0);
    atomic_store(&barrier->generation, 0);
    barrier->n_threads = n_threads;
}

void fnn_barrier_wait(fnn_barrier *barrier)
{
    if (barrier->n_threads <= 1) {
        return;
    }
    const int generation = atomic_load_explicit(&barrier->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&barrier->arrived, 1, memory_order_acq_rel)
        == barrier->n_threads - 1) {
        /* Last to arrive: reset for the next use, then release the others. */
        atomic_store_explicit(&barrier->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&barrier->generation, 1, memory_order_acq_rel);
        return;
    }
    int spins = 0;
    while (atomic_load_explicit(&barrier->generation, memory_order_acquire) == generation) {
        if (++spins < FNN_SPINS_BEFORE_YIELD) {
            FNN_PAUSE();
        } else {
            sched_yield();
        }
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
