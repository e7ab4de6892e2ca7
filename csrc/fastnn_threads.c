#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* syscall() */
#include "fastnn_threads.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

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


/* Team steps between probes alone while the team is the faster, the length
 * of a probe, and the windows alone while alone is the faster: they double
 * from the first to the last while alone stays ahead, so the team step
 * between two windows (which times the team again, and may wait for a
 * member without a core) costs a few percent at most. A rate must beat the
 * other by 5 % to switch (the timings are noisy). */
#define FNN_PACER_TEAM_PHASE 256
#define FNN_PACER_FIRST_PROBE 32
#define FNN_PACER_PROBE 8
#define FNN_PACER_FIRST_WINDOW 64
#define FNN_PACER_LAST_WINDOW 1024
#define FNN_PACER_MARGIN 0.95
#define FNN_PACER_WEIGHT 0.3   /* of the newest step in the moving averages */

static double fnn_seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

void fnn_pacer_init(fnn_pacer *pacer)
{
    pacer->team_rate = -1.0;
    pacer->solo_rate = -1.0;
    pacer->step_started = -1.0;
    pacer->step_rows = 0;
    pacer->step_alone = 0;
    pacer->prefer_alone = 0;
    pacer->team_steps_to_probe = FNN_PACER_FIRST_PROBE;
    pacer->window = FNN_PACER_PROBE;
    pacer->steps_alone = 0;
}

static void fnn_pacer_average(double *rate, double sample)
{
    *rate = *rate < 0.0 ? sample : (1.0 - FNN_PACER_WEIGHT) * *rate + FNN_PACER_WEIGHT * sample;
}

void fnn_pacer_step_starts(fnn_pacer *pacer, long rows, int alone)
{
    const double now = fnn_seconds_now();
    if (pacer->step_started >= 0.0 && pacer->step_rows > 0) {
        const double rate = (now - pacer->step_started) / (double)pacer->step_rows;
        fnn_pacer_average(pacer->step_alone ? &pacer->solo_rate : &pacer->team_rate, rate);
    }
    pacer->step_started = now;
    pacer->step_rows = rows;
    pacer->step_alone = alone;
    pacer->steps_alone += alone != 0;
}

void fnn_pacer_forget_step(fnn_pacer *pacer)
{
    pacer->step_started = -1.0;
}

long fnn_pacer_window(fnn_pacer *pacer, int step_is_timed)
{
    if (pacer->team_rate >= 0.0 && pacer->solo_rate >= 0.0) {
        if (!pacer->prefer_alone && pacer->solo_rate < FNN_PACER_MARGIN * pacer->team_rate) {
            pacer->prefer_alone = 1;
            pacer->window = FNN_PACER_FIRST_WINDOW;
        } else if (pacer->prefer_alone && pacer->team_rate < FNN_PACER_MARGIN * pacer->solo_rate) {
            pacer->prefer_alone = 0;
            pacer->team_steps_to_probe = FNN_PACER_TEAM_PHASE;
        }
    }
    if (pacer->prefer_alone) {
        if (!step_is_timed) {
            return 0; /* a team step first: it times the team again */
        }
        const long window = pacer->window;
        pacer->window = window * 2 < FNN_PACER_LAST_WINDOW ? window * 2 : FNN_PACER_LAST_WINDOW;
        return window;
    }
    if (--pacer->team_steps_to_probe > 0) {
        return 0;
    }
    pacer->team_steps_to_probe = FNN_PACER_TEAM_PHASE;
    return FNN_PACER_PROBE;
}
