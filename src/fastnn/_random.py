"""Where fastnn's randomness comes from: NumPy bit generators seeded from
`random_state`, never the global NumPy state."""
import numpy as np
from sklearn.utils import check_random_state


def training_generators(random_state):
    """(Generator for the initial weights, PCG64 bit generator for shuffling,
    PCG64 bit generator for dropout masks).

    An int `random_state` fixes all three streams; a RandomState instance is
    advanced once; None draws fresh entropy. The streams are independent
    children of one SeedSequence, so turning shuffling or dropout on or off
    never changes the initial weights or the other stream.
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    init_seed, shuffle_seed, dropout_seed = np.random.SeedSequence(seed).spawn(3)
    return (np.random.default_rng(init_seed), np.random.PCG64(shuffle_seed),
            np.random.PCG64(dropout_seed))
