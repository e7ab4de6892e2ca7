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

/* Pacing an automatic team: when another process holds one of the cores,
 * each step waits for the member that lost its core, and the team is slower
 * than thread 0 alone. Thread 0 times the steps it takes with the team and
 * alone (seconds per row, moving averages) and chooses: mostly the faster,
 * with short probes of the other, so that a change of load is noticed.
 * Thread 0 alone runs windows of steps [solo_from, solo_until); the other
 * members skip those steps and wait at the next team step. */
typedef struct {
    double team_rate, solo_rate; /* seconds per row; < 0: not measured yet */
    double step_started;         /* when the step being timed started; < 0: none */
    long step_rows;
    int step_alone;
    int prefer_alone;
    long team_steps_to_probe;    /* team steps before the next probe alone */
    long window;                 /* steps of the next window alone */
    long steps_alone;            /* steps thread 0 has taken alone */
} fnn_pacer;

void fnn_pacer_init(fnn_pacer *pacer);

/* Thread 0, at the start of every step: times the step before (if timed). */
void fnn_pacer_step_starts(fnn_pacer *pacer, long rows, int alone);

/* Thread 0, between steps that are not one after the other (an epoch's
 * end, the end of a call): the step being timed ends untimed. */
void fnn_pacer_forget_step(fnn_pacer *pacer);

/* Thread 0, where the team meets (in a team step, before its last barrier:
 * step_is_timed; or at an epoch's end): the number of steps to take alone
 * from the next one on, 0 for none. */
long fnn_pacer_window(fnn_pacer *pacer, int step_is_timed);

#endif /* FASTNN_THREADS_H */
