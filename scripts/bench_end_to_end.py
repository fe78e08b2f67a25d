#!/usr/bin/python3
"""End-to-end rows of scripts/bench: what users run, against the kernels, in one run.

Usage: scripts/bench_end_to_end.py BNLAB [SHAPE]   (SHAPE default 64,256,56,56)

Writes one JSON object on stdout (the "end_to_end" block of bnlab.bench-suite/1)
and a readable summary on stderr. Every figure is taken in this one run, so the
ratios hold even on a machine shared with other work:
  kernels_fwd_bwd_ms   `bnlab bench`: forward + backward of methods 1, 2, 3 (sum
                       of the medians), and of method 3 alone
  compare              `bnlab compare --input x.npy --methods 1,2,3`: wall time,
                       its ratio to kernels_fwd_bwd_ms, peak RSS and its ratio to
                       the input's size
  normalize            `bnlab normalize --method 3 --dy dy.npy` (default: written
                       atomically, no fsync) and with --sync: wall, CPU time, peak RSS
  torch                the same job in numpy + torch (numpy.load,
                       torch.nn.functional.batch_norm forward and backward,
                       numpy.save of y, dx, dgamma, dbeta), when /usr/bin/python3
                       can import torch (Debian's python3-torch); its time over
                       normalize's, with and without the time `import numpy,
                       torch` alone takes. The normalize runs and the torch runs
                       alternate (normalize, normalize --sync, torch, import;
                       REPEATS times), so that all of them meet the same load.
  busy_neighbour       default `bnlab compare`, BUSY_PAIRS times alone and then
                       beside one busy process per spare core (a Python busy
                       loop, not pinned: the scheduler places it), alternating;
                       the ratio of the medians of the wall times, and the median
                       CPU times (user + system), which show whether bnlab does
                       more work beside the neighbour or only waits for a core
Wall and CPU times are medians of REPEATS runs; peak RSS is "Maximum resident
set size" from /usr/bin/time -v (null, like the CPU times, when /usr/bin/time
is not installed: Debian's package `time`). load_average is the 1-minute load
before and after: on a machine shared with other work it says how much the
figures are worth.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPEATS = 3
BUSY_PAIRS = 9

TORCH_JOB = r"""
import sys, numpy as np, torch
x_path, dy_path, out = sys.argv[1:4]
torch.set_grad_enabled(True)
x = torch.from_numpy(np.load(x_path)).requires_grad_(True)
dy = torch.from_numpy(np.load(dy_path))
c = x.shape[1]
gamma = torch.ones(c, requires_grad=True)
beta = torch.zeros(c, requires_grad=True)
y = torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
y.backward(dy)
with torch.no_grad():
    for name, t in (("y", y), ("dx", x.grad), ("dgamma", gamma.grad), ("dbeta", beta.grad)):
        np.save(f"{out}/{name}.npy", t.detach().numpy())
"""


def say(text):
    print(f"[bnlab bench] {text}", file=sys.stderr, flush=True)


def run(cmd, env=None):
    """Runs cmd (stdout discarded); returns (wall seconds, peak RSS in MB or None, CPU seconds or None)."""
    timed = os.path.exists("/usr/bin/time")
    full = ["/usr/bin/time", "-v"] + cmd if timed else cmd
    start = time.perf_counter()
    done = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"scripts/bench: {' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    peak = cpu = None
    if timed:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        peak = int(m.group(1)) / 1024 if m else None
        user = re.search(r"User time \(seconds\): ([\d.]+)", done.stderr)
        system = re.search(r"System time \(seconds\): ([\d.]+)", done.stderr)
        cpu = float(user.group(1)) + float(system.group(1)) if user and system else None
    return wall, peak, cpu


class Runs:
    """Walls, peaks and CPU times of repeated runs of one command."""

    def __init__(self):
        self.walls, self.peaks, self.cpus = [], [], []

    def add(self, measured):
        wall, peak, cpu = measured
        self.walls.append(wall)
        if peak is not None:
            self.peaks.append(peak)
        if cpu is not None:
            self.cpus.append(cpu)

    def wall(self):
        return statistics.median(self.walls)

    def peak(self):
        return max(self.peaks) if self.peaks else None

    def cpu(self):
        return statistics.median(self.cpus) if self.cpus else None


def median_run(cmd, repeats=REPEATS, env=None):
    runs = Runs()
    for _ in range(repeats):
        runs.add(run(cmd, env))
    return runs.wall(), runs.peak()


def interleaved(cmds, repeats=REPEATS):
    """Runs each command of {label: cmd} once per round, `repeats` rounds; returns {label: Runs}."""
    runs = {label: Runs() for label in cmds}
    for _ in range(repeats):
        for label, cmd in cmds.items():
            runs[label].add(run(cmd))
    return runs


def load_average():
    return os.getloadavg()[0]


def torch_available():
    probe = subprocess.run(["/usr/bin/python3", "-c", "import numpy, torch"], capture_output=True)
    return probe.returncode == 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bnlab = sys.argv[1]
    shape = sys.argv[2] if len(sys.argv) > 2 else "64,256,56,56"
    load_start = load_average()
    with tempfile.TemporaryDirectory(prefix="bnlab-e2e-") as tmp:
        x, dy = os.path.join(tmp, "x.npy"), os.path.join(tmp, "dy.npy")
        say(f"end to end on {shape}: writing x.npy and dy.npy")
        for args in (["--seed", "1", "--output", x], ["--dist", "normal", "--seed", "2", "--output", dy]):
            subprocess.run([bnlab, "synth", "--shape", shape] + args, check=True, stdout=subprocess.DEVNULL)
        input_mb = os.path.getsize(x) / 2**20

        say("kernels: bnlab bench --methods 1,2,3")
        bench = json.loads(subprocess.run([bnlab, "bench", "--shape", shape, "--methods", "1,2,3", "--repeat", "3"],
                                          check=True, capture_output=True, text=True).stdout)
        fwd_bwd = {m: bench["methods"][m]["forward_backward_ms"] for m in ("1", "2", "3")}
        kernels_ms = sum(fwd_bwd.values())

        say("compare --input x.npy --methods 1,2,3")
        compare_s, compare_mb = median_run([bnlab, "compare", "--input", x, "--methods", "1,2,3", "--format", "json"])

        say("normalize --method 3 --dy dy.npy (and --sync), alternating with numpy + torch")
        out = os.path.join(tmp, "out")
        normalize_cmd = [bnlab, "normalize", "--method", "3", "--input", x, "--dy", dy, "--out-dir", out]
        cmds = {"normalize": normalize_cmd, "normalize_sync": normalize_cmd + ["--sync"]}
        has_torch = torch_available()
        if has_torch:
            torch_out = os.path.join(tmp, "torch")
            os.makedirs(torch_out)
            cmds["torch"] = ["/usr/bin/python3", "-c", TORCH_JOB, x, dy, torch_out]
            cmds["import"] = ["/usr/bin/python3", "-c", "import numpy, torch"]
        else:
            say("numpy + torch: skipped (/usr/bin/python3 cannot import torch; Debian: python3-torch)")
        runs = interleaved(cmds)
        normalize_s, normalize_mb = runs["normalize"].wall(), runs["normalize"].peak()
        sync_s = runs["normalize_sync"].wall()
        torch_row = None
        if has_torch:
            torch_s, torch_mb, import_s = runs["torch"].wall(), runs["torch"].peak(), runs["import"].wall()
            torch_row = {"wall_s": torch_s, "cpu_s": runs["torch"].cpu(), "peak_rss_mb": torch_mb,
                         "torch_over_normalize": torch_s / normalize_s,
                         "torch_over_normalize_sync": torch_s / sync_s,
                         "import_s": import_s, "without_import_over_normalize": (torch_s - import_s) / normalize_s}

        say(f"busy neighbour: default compare, alone then beside a busy process per spare core, {BUSY_PAIRS} times")
        spare = max(1, (os.cpu_count() or 2) - 1)
        alone, busy = Runs(), Runs()
        compare_cmd = [bnlab, "compare", "--format", "json"]
        load_before = load_average()
        for _ in range(BUSY_PAIRS):
            alone.add(run(compare_cmd))
            hogs = [subprocess.Popen(["/usr/bin/python3", "-c", "while True: pass"]) for _ in range(spare)]
            try:
                time.sleep(0.05)  # the busy loops are running
                busy.add(run(compare_cmd))
            finally:
                for hog in hogs:
                    hog.kill()
                    hog.wait()
        alone_s, busy_s = alone.wall(), busy.wall()

    block = {
        "shape": [int(v) for v in shape.split(",")],
        "input_mb": input_mb,
        "threads": bench["threads"],
        "kernels_fwd_bwd_ms": {"1": fwd_bwd["1"], "2": fwd_bwd["2"], "3": fwd_bwd["3"], "sum": kernels_ms},
        "compare": {"wall_s": compare_s, "over_kernels": compare_s * 1000 / kernels_ms, "peak_rss_mb": compare_mb,
                    "peak_over_input": compare_mb / input_mb if compare_mb else None},
        "normalize": {"wall_s": normalize_s, "cpu_s": runs["normalize"].cpu(),
                      "over_kernel": normalize_s * 1000 / fwd_bwd["3"],
                      "sync_wall_s": sync_s, "sync_cpu_s": runs["normalize_sync"].cpu(),
                      "peak_rss_mb": normalize_mb, "peak_over_input": normalize_mb / input_mb if normalize_mb else None},
        "torch": torch_row,
        "busy_neighbour": {"alone_s": alone_s, "busy_s": busy_s, "ratio": busy_s / alone_s,
                           "alone_cpu_s": alone.cpu(), "busy_cpu_s": busy.cpu(), "busy_processes": spare,
                           "pinned": False, "pairs": BUSY_PAIRS},
        "repeats": REPEATS,
        "load_average": {"start": load_start, "end": load_average()},
    }
    print(json.dumps(block, indent=2))

    def mb(v):
        return f"{v:.0f} MB" if v else "n/a"

    say(f"kernels fwd+bwd 1,2,3: {kernels_ms:.1f} ms (3: {fwd_bwd['3']:.1f} ms), {bench['threads']} threads")
    say(f"compare 1,2,3: {compare_s:.2f} s = {block['compare']['over_kernels']:.0f}x the kernels, peak {mb(compare_mb)}"
        f" ({input_mb:.0f} MB input)")
    def sec(v):
        return f"{v:.2f} s" if v is not None else "n/a"

    say(f"normalize 3 --dy: {normalize_s:.2f} s (CPU {sec(runs['normalize'].cpu())}), --sync {sync_s:.2f} s, "
        f"peak {mb(normalize_mb)}")
    if torch_row:
        say(f"numpy + torch: {torch_row['wall_s']:.2f} s = {torch_row['torch_over_normalize']:.2f}x normalize, "
            f"{torch_row['torch_over_normalize_sync']:.2f}x normalize --sync"
            f" (of which {torch_row['import_s']:.2f} s importing; without it "
            f"{torch_row['without_import_over_normalize']:.2f}x)")
    say(f"default compare: {alone_s:.3f} s alone, {busy_s:.3f} s with {spare} busy neighbour(s): "
        f"{busy_s / alone_s:.2f}x (CPU {sec(alone.cpu())} alone, {sec(busy.cpu())} busy)")
    say(f"load average: {load_start:.1f} at the start, {block['load_average']['end']:.1f} at the end")


if __name__ == "__main__":
    main()
