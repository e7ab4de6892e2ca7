"""Same random_state (and n_threads, BLAS threads) -> the same bits, also in
another process."""
import subprocess
import sys

import numpy as np

SCRIPT = """
import numpy as np, sys
from fastnn import DeepNetwork
rng = np.random.default_rng(0)
X = rng.standard_normal((300, 12)); y = np.arange(300) % 3
model = DeepNetwork((32, 16), batch_size=20, max_iter=6, keep_prob=(0.9, 0.8), optimizer="adam",
                    random_state=42, n_threads=int(sys.argv[1])).fit(X, y)
sys.stdout.write(np.concatenate([a.ravel() for a in model.coefs_ + model.intercepts_]).tobytes().hex())
"""


def weights_from_a_new_process(n_threads):
    output = subprocess.run([sys.executable, "-c", SCRIPT, str(n_threads)], check=True,
                            capture_output=True, text=True).stdout
    return np.frombuffer(bytes.fromhex(output), dtype=np.float64)


def test_same_seed_same_bits_across_processes():
    for n_threads in (1, 2):
        first = weights_from_a_new_process(n_threads)
        second = weights_from_a_new_process(n_threads)
        assert first.size > 0
        np.testing.assert_array_equal(first, second)
