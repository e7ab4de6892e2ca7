"""compare.py's fastnn rows for two builds of fastnn, interleaved in one run.

    python benchmarks/before_after.py --base /tmp/base/src [--rounds 6]
                                      [--workloads W1,W2] [--dtypes float32,float64]

`--base` is the `src` folder of another checkout, built in place (e.g. a
`git worktree` of the commit before a change, `python setup.py build_ext
--inplace` there); the other build is this checkout's. Each round times every
fastnn row of compare.py once per build, in a fresh process per build (the
two builds cannot share one), the builds' order alternating from round to
round (A B, B A, ...) so a drift of the machine's speed falls on both.

Reported per row: each build's median over the rounds and their ratio, the
ratio of the two builds' fastest rounds (interference from other processes
only ever slows a round down, so the fastest is the least disturbed), and
the noise: the spread (max / min - 1) of each build's own rounds, the larger
of the two. A ratio inside 1 +- noise is within noise.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "src"

# Run in the child: time each (workload, dtype) fastnn row once after an
# untimed warm-up fit; print {"W1 float32": seconds, ...} as JSON.
CHILD = r"""
import gc, json, sys, time
import compare
rows = {}
compare.warm_up(sys.argv[2].split(","))
for name in sys.argv[1].split(","):
    w = compare.WORKLOADS[name]
    data = compare.make_data(name, w)
    for dtype in sys.argv[2].split(","):
        gc.collect()
        start = time.perf_counter()
        compare.run_fastnn(w, data, dtype)
        rows[f"{name} {dtype}"] = time.perf_counter() - start
print(json.dumps(rows))
"""


def one_round(source, workloads, dtypes):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(source), str(HERE)]))
    out = subprocess.run([sys.executable, "-c", CHILD, workloads, dtypes], env=env,
                         capture_output=True, text=True, check=True, cwd=HERE).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="src folder of the other build")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5,W6")
    parser.add_argument("--dtypes", default="float32,float64")
    args = parser.parse_args(argv)
    builds = {"base": Path(args.base).resolve(), "this": SOURCE}
    times = {build: {} for build in builds}
    for round_ in range(args.rounds):
        order = list(builds) if round_ % 2 == 0 else list(reversed(builds))
        for build in order:
            rows = one_round(builds[build], args.workloads, args.dtypes)
            for row, seconds in rows.items():
                times[build].setdefault(row, []).append(seconds)
            print(f"round {round_ + 1}/{args.rounds} {build}: "
                  + ", ".join(f"{row} {seconds:.3f}" for row, seconds in rows.items()),
                  file=sys.stderr, flush=True)
    print("| row | base (s) | this (s) | this / base | fastest: this / base | noise |\n"
          "|---|---:|---:|---:|---:|---:|")
    for row in times["base"]:
        medians = {build: statistics.median(times[build][row]) for build in builds}
        noise = max(max(times[build][row]) / min(times[build][row]) - 1 for build in builds)
        fastest = min(times["this"][row]) / min(times["base"][row])
        print(f"| {row} | {medians['base']:.4f} | {medians['this']:.4f} | "
              f"{medians['this'] / medians['base']:.3f} | {fastest:.3f} | +-{noise:.3f} |")


if __name__ == "__main__":
    main()
