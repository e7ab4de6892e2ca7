"""Matrix-kernel candidates on the training step's own products, GFLOP/s.

    python benchmarks/kernels.py [--output FILE] [--repeats N]

For each product of the step of compare.py's workloads (W3/W4: 784-256-128-10
at batch 64 and 1024; W5: 12288-20-7-5-1 on 209 rows, each half as a team
member sees it; H1: 100-64-32-5 at batch 32; scikit-learn's defaults:
digits 64-100-10 and 100-100-2 at batch 200) - the forward product Z = A W
(NN), the weight gradient A^T delta (TN) and the backward delta W^T (NT) -
the fastest of many calls of:

- OpenBLAS, SciPy's (what fastnn's `gemm` calls; one thread, then two),
- oneDNN's matmul through fastnn's `gemm` as a team member runs it (float32,
  one thread: the team is the parallelism),
- XLA's jitted jnp.dot (JAX, when installed; in a subprocess pinned to one
  core, then on two), timed as 64 dots in one
  compiled loop so that dispatch is not in the figure,
- torch.matmul (PyTorch, when installed; one thread, then two).

OpenBLAS picks its kernels at load unless OPENBLAS_CORETYPE names them (this
project's machines set OPENBLAS_CORETYPE=Haswell: AVX2 kernels on an AVX-512
core); the header says which ran. To see OpenBLAS's own pick, run with
`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

# (label, op, m, k, n): C (m x n) = op(A) (m x k) @ op(B) (k x n)
SHAPES = [
    ("W3 forward 1", "NN", 64, 784, 256), ("W3 forward 2", "NN", 64, 256, 128),
    ("W3 forward 3", "NN", 64, 128, 10), ("W3 dW1", "TN", 784, 64, 256),
    ("W3 dW2", "TN", 256, 64, 128), ("W3 dW3", "TN", 128, 64, 10),
    ("W3 delta 2", "NT", 64, 10, 128), ("W3 delta 1", "NT", 64, 128, 256),
    ("W3 member forward 1", "NN", 32, 784, 256),
    ("W4 forward 1", "NN", 1024, 784, 256), ("W4 member forward 1", "NN", 512, 784, 256),
    ("W4 member dW1", "TN", 392, 1024, 256),
    ("W5 member forward 1", "NN", 105, 12288, 20), ("W5 member dW1", "TN", 6144, 209, 20),
    ("H1 forward 1", "NN", 32, 100, 64), ("H1 forward 2", "NN", 32, 64, 32),
    ("H1 forward 3", "NN", 32, 32, 5), ("H1 dW1", "TN", 100, 32, 64),
    ("digits forward 1", "NN", 200, 64, 100), ("digits forward 2", "NN", 200, 100, 10),
    ("digits dW1", "TN", 64, 200, 100), ("digits delta 1", "NT", 200, 10, 100),
    ("50k forward 1", "NN", 200, 100, 100), ("50k dW1", "TN", 100, 200, 100),
]
DTYPES = ("float32", "float64")
XLA_DOTS = 64


def operands(op, m, k, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((k, m) if op == "TN" else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if op == "NT" else (k, n)).astype(dtype)
    return A, B, np.empty((m, n), dtype)


def repeats_for(m, k, n, budget):
    """Calls for about `budget` seconds at 100 GFLOP/s, 20 to 20 000."""
    return int(min(20000, max(20, budget * 100e9 / (2.0 * m * k * n))))


def fastnn_rows(budget):
    from threadpoolctl import threadpool_limits
    from fastnn._core import blas
    rows = {}
    for label, op, m, k, n in SHAPES:
        for dtype in DTYPES:
            A, B, C = operands(op, m, k, n, dtype)
            reps = repeats_for(m, k, n, budget)
            flop = 2.0 * m * k * n
            cell = {}
            for threads in (1, 2):
                with threadpool_limits(limits=threads, user_api="blas"):
                    cell[f"OpenBLAS {threads}t"] = flop / blas.gemm_seconds(
                        op == "TN", op == "NT", A, B, C, reps, kernel="blas") * 1e-9
            if op != "NT":
                cell["fastnn narrow 1t"] = flop / blas.gemm_seconds(
                    op == "TN", False, A, B, C, reps, kernel="narrow") * 1e-9
            if dtype == "float32" and blas.onednn_available():
                with threadpool_limits(limits=1, user_api="blas"):
                    cell["oneDNN 1t"] = flop / blas.gemm_seconds(
                        op == "TN", op == "NT", A, B, C, reps, kernel="onednn") * 1e-9
            rows[(label, dtype)] = cell
    return rows


def torch_rows(budget):
    try:
        import torch
    except ImportError:
        return {}
    rows = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for label, op, m, k, n in SHAPES:
            for dtype in DTYPES:
                A, B, C = (torch.from_numpy(x) for x in operands(op, m, k, n, dtype))
                a = A.T if op == "TN" else A
                b = B.T if op == "NT" else B
                best = 1e300
                for _ in range(repeats_for(m, k, n, budget)):
                    start = time.perf_counter()
                    torch.matmul(a, b, out=C)
                    best = min(best, time.perf_counter() - start)
                rows.setdefault((label, dtype), {})[f"PyTorch {threads}t"] = \
                    2.0 * m * k * n / best * 1e-9
    return rows


def xla_worker(threads, budget):
    """In a subprocess (XLA's threads are fixed at its start): JSON rows.
    One thread: the process is pinned to one core (XLA's thread flags alone
    left it running two)."""
    if threads == 1:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    rows = {}
    for label, op, m, k, n in SHAPES:
        for dtype in DTYPES:
            A, B, _ = operands(op, m, k, n, dtype)

            def dots(a, b):
                def body(i, c):
                    x = a.T if op == "TN" else a
                    y = b.T if op == "NT" else b
                    # feed c back in (scaled to nothing) so XLA keeps every dot
                    return jnp.dot(x + c[0, 0] * 0, y)
                return jax.lax.fori_loop(0, XLA_DOTS, body, jnp.zeros((m, n), a.dtype))
            run = jax.jit(dots)
            a, b = jnp.asarray(A), jnp.asarray(B)
            run(a, b).block_until_ready()
            best = 1e300
            for _ in range(max(3, repeats_for(m, k, n, budget) // XLA_DOTS)):
                start = time.perf_counter()
                run(a, b).block_until_ready()
                best = min(best, (time.perf_counter() - start) / XLA_DOTS)
            rows[f"{label}|{dtype}"] = 2.0 * m * k * n / best * 1e-9
    print(json.dumps({"threads": threads, "rows": rows}))


def xla_rows(budget):
    try:
        import jax  # noqa: F401
    except ImportError:
        return {}
    rows = {}
    for threads in (1, 2):
        env = dict(os.environ, JAX_PLATFORMS="cpu")
        out = subprocess.run([sys.executable, __file__, "--xla-worker", str(threads),
                              "--budget", str(budget)], env=env, capture_output=True,
                             text=True, check=True).stdout
        for key, value in json.loads(out.strip().splitlines()[-1])["rows"].items():
            label, dtype = key.split("|")
            rows.setdefault((label, dtype), {})[f"XLA {threads}t"] = value
    return rows


def header():
    from threadpoolctl import threadpool_info
    from fastnn import _onednn
    lines = [f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
             f"- OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
             f"- oneDNN: {_onednn.status()}"]
    for info in threadpool_info():
        if info.get("internal_api") == "openblas":
            lines.append(f"- {os.path.basename(info['filepath'])}: OpenBLAS "
                         f"{info.get('version')}, kernels {info.get('architecture')}")
    return lines


def table(rows):
    columns = sorted({c for cell in rows.values() for c in cell},
                     key=lambda c: (c.split()[-1], c))
    out = ["| product | op | m x k x n | dtype | " + " | ".join(columns) + " |",
           "|---|---|---|---|" + "---:|" * len(columns)]
    for label, op, m, k, n in SHAPES:
        for dtype in DTYPES:
            cell = rows.get((label, dtype), {})
            best = max(cell.values()) if cell else 0
            values = [(f"**{cell[c]:.0f}**" if cell[c] == best else f"{cell[c]:.0f}")
                      if c in cell else "-" for c in columns]
            out.append(f"| {label} | {op} | {m}x{k}x{n} | {dtype} | " + " | ".join(values) + " |")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output")
    parser.add_argument("--budget", type=float, default=0.02,
                        help="seconds of calls per product and candidate (at 100 GFLOP/s)")
    parser.add_argument("--xla-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.xla_worker:
        return xla_worker(args.xla_worker, args.budget)
    rows = fastnn_rows(args.budget)
    for extra in (torch_rows(args.budget), xla_rows(args.budget)):
        for key, cell in extra.items():
            rows.setdefault(key, {}).update(cell)
    text = ["# Matrix kernels on the step's products (GFLOP/s, best call; bold: the fastest)", ""]
    text += header() + [""] + table(rows)
    print("\n".join(text))
    if args.output:
        with open(args.output, "w") as f:
            f.write("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
