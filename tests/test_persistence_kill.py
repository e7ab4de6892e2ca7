"""SIGKILL at random moments while a model is saved over and over onto one
path: after every kill the path holds a whole model, the old one or the new.

One helper process imports fastnn and fits two models once, then forks a
saver for each round (a fork costs a millisecond; a fresh interpreter with
fastnn and scikit-learn would cost about a second per kill). The test kills
the saver with SIGKILL after a random 1-25 ms (longer where a save takes
longer than 6 ms: up to four saves' time), has the helper reap it, and loads
the file."""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fastnn

KILLS = 60

HELPER = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from fastnn import DeepNetwork
    path, reference = sys.argv[1], sys.argv[2]
    X = np.random.default_rng(0).standard_normal((200, 50))
    y = np.arange(200) % 2
    # about 200 KB each (adam moments, row order): a save takes a few ms
    models = [DeepNetwork((128,), max_iter=n, optimizer="adam", batch_size=50,
                          random_state=0).fit(X, y) for n in (1, 2)]
    for n, model in zip((1, 2), models):
        model.save(f"{reference}{n}.npz")
    # How long one save takes here and now (a busy machine is slower): the
    # kills are spread over a few saves' time, so some land mid-write and
    # some after a whole save of either model.
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        models[0].save(path)
        timings.append(time.perf_counter() - start)
    print("ready", sorted(timings)[1], flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == "fork":
            pid = os.fork()
            if pid == 0:
                try:
                    saves = 0
                    while True:
                        models[saves % 2].save(path)
                        saves += 1
                finally:
                    os._exit(1)
            print(pid, flush=True)
        elif command[0] == "reap":
            print(os.waitpid(int(command[1]), 0)[1], flush=True)
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_sigkill_during_saves_always_leaves_a_loadable_model(tmp_path):
    start = time.perf_counter()
    folder = tmp_path / "models"
    folder.mkdir()
    path = folder / "model.npz"
    helper = subprocess.Popen(
        [sys.executable, "-c", HELPER, str(path), str(tmp_path / "reference")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready, save_seconds = helper.stdout.readline().split()
        assert ready == "ready"
        # two saves (one of each model) must fit in the longest wait
        longest_wait = max(0.025, 4 * float(save_seconds))
        references = {n: fastnn.load(tmp_path / f"reference{n}.npz") for n in (1, 2)}
        rng = random.Random(12)
        mid_save, seen = 0, set()
        for _ in range(KILLS):
            helper.stdin.write("fork\n")
            helper.stdin.flush()
            pid = int(helper.stdout.readline())
            time.sleep(rng.uniform(0.001, longest_wait))
            os.kill(pid, signal.SIGKILL)
            helper.stdin.write(f"reap {pid}\n")
            helper.stdin.flush()
            status = int(helper.stdout.readline())
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            # A killed save leaves its temporary file (nothing can remove it),
            # never a damaged model file.
            leftovers = [name for name in os.listdir(folder) if name != "model.npz"]
            assert all(name.startswith(".model.npz.") and name.endswith(".tmp")
                       for name in leftovers), leftovers
            mid_save += bool(leftovers)
            for name in leftovers:
                os.unlink(folder / name)
            model = fastnn.load(path)
            assert model.n_iter_ in references
            for a, b in zip(model.coefs_ + model.intercepts_,
                            references[model.n_iter_].coefs_ + references[model.n_iter_].intercepts_):
                np.testing.assert_array_equal(a, b)
            seen.add(model.n_iter_)
    finally:
        helper.stdin.close()
        try:
            helper.wait(timeout=30)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()
    seconds = time.perf_counter() - start
    print(f"{KILLS} kills in {seconds:.1f} s, {mid_save} in the middle of a save, "
          f"models seen: {sorted(seen)}")
    # The kills did land inside saves, and saves did complete between them.
    assert mid_save >= KILLS // 10
    assert seen == {1, 2}
