"""Parameter documentation shared by the estimators (one text, four classes)."""

OPTIMIZATION = """    optimizer : {"gd", "momentum", "rmsprop", "adam"}, default "gd"
        The update rule (SPEC 10): plain gradient descent, momentum
        (v = momentum v + (1 - momentum) g), RMSprop (squared-gradient average
        with beta_2) or Adam (beta_1, beta_2, bias-corrected); epsilon guards
        the division of rmsprop and adam.
    momentum, beta_1, beta_2 : float in [0, 1), defaults 0.9, 0.9, 0.999
    epsilon : float > 0, default 1e-8
    learning_rate_schedule : {"constant", "inverse"}, default "constant"
        "inverse": the learning rate of epoch e is learning_rate / (1 + decay_rate * e).
    decay_rate : float >= 0, default 0.0
"""

TRAINING = """    cost_every : int in [1, 2**53] or None, default 100
        Record the cost (without dropout) every `cost_every` iterations; None
        records none (with dropout, a recorded epoch costs an extra forward pass).
        Each recorded cost also checks for divergence (below).
    early_stopping : bool, default False
        Hold out validation_fraction of the training data (or use fit's
        `dev=`), record its cost after every epoch in `dev_costs_`, stop after
        n_iter_no_change epochs without improvement and restore the best
        weights (`best_iteration_` is the epoch they came from). A dev cost
        that is not finite stops training as diverged.
    validation_fraction : float in (0, 1), default 0.1
    n_iter_no_change : int in [1, 2**53], default 10
    callbacks : list of callables, optional
        Each is called with a fastnn.TrainingProgress (iteration, cost,
        dev_cost) at every recorded cost; returning True stops training.
    warm_start : bool, default False
        fit goes on from the fitted weights and optimiser state instead of
        starting again (same layers required).
    dtype : None, "float32" or "float64"
        None keeps float32 input in float32, everything else trains in float64.
    n_threads : int in [1, 64] or None, default None
        Cores the fit may use: that many threads share each batch, and BLAS
        runs single-threaded inside each (threadpoolctl), so n_threads=1 is a
        strictly single-threaded fit (for running several fits side by side).
        None picks by the size of a step: one thread whose matrix products
        BLAS threads itself for small problems and small batches of wide
        layers, otherwise up to the cores BLAS may use divided by the fastnn
        fits running at once in the process (a threaded grid search does not
        oversubscribe). Results are reproducible for a fixed n_threads. A
        given n_threads above the available cores warns
        (fastnn.ThreadOversubscriptionWarning): spinning threads then wait
        for each other's cores.
    random_state : int in [0, 2**32 - 1], RandomState or None
        Seeds initial weights, shuffling and dropout (independent streams).
    verbose : int, default 0
        1: a progress bar over the epochs (with tqdm installed; else as 2);
        2: one line per recorded cost (and dev cost).
"""
