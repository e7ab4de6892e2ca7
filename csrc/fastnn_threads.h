/* A tiny team of threads for the training loop: run one function on n
 * threads and let them meet at a barrier. Plain C11 atomics and POSIX
 * threads; the team lives for one fit, so no thread is created per step. */
#ifndef FASTNN_THREADS_H
#define FASTNN_THREADS_H

#include <stdatomic.h>

/* Most threads one fit's team may have (fnn_run_team's arrays, the training
 * loop's per-thread cost slots). fastnn._core.vocabulary.MAX_THREADS reads
 * it: the n_threads check and the automatic thread count cap at it too. */
#define FNN_MAX_THREADS 64

typedef struct {
    atomic_int arrived;
    atomic_int generation;
    atomic_int sleepers; /* members asleep on generation (futex) */
    int n_threads;
} fnn_barrier;

void fnn_barrier_init(fnn_barrier *barrier, int n_threads);

/* Every thread of the team calls it; all return once the last has arrived.
 * Spins briefly (a training step is short), then sleeps until released. */
void fnn_barrier_wait(fnn_barrier *barrier);

/* Runs work(context, t) for t = 0 .. n_threads-1, thread 0 on the calling
 * thread, and returns when all have returned: n_threads. If the system
 * refuses to start a thread, nothing runs and it returns 0 (the caller then
 * runs the work on one thread). */
int fnn_run_team(int n_threads, void (*work)(void *context, int thread), void *context);

#endif /* FASTNN_THREADS_H */
