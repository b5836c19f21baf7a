"""Benchmark (`make bench`): build/test times, widget latency, backprop_lib vs PyTorch, Jacobian vs VJP.

Prints a table and writes it to bench/results.md. With --quick the slow part (make book on a
clean _build, make test) is skipped and its previous results are kept from bench/results.md.

    .venv/bin/python tools/bench.py            # everything (several minutes)
    .venv/bin/python tools/bench.py --quick    # skip make book / make test
    .venv/bin/python tools/bench.py --only deep  # one section (repeatable); the rest keep their numbers
    .venv/bin/python tools/bench.py --only pages # page weight and math time of _build/html
    .venv/bin/python tools/bench.py --only block # Chapter 9's transformer block against PyTorch
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results.md"
sys.path.insert(0, str(ROOT / "tools"))

TARGETS = {
    "book": 60.0, "test": 120.0, "widget": 0.050,
    "net342": 1 / 2.0,  # ours / torch <= 0.5 (at least 2x faster)
    "net784": 1.5, "head": 2.0, "deep_bn": 1.5, "block": 2.0,
}


def ok(flag: bool) -> str:
    return "yes" if flag else "**no**"


def median_time(fn, repeat: int = 5, number: int = 1) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


# ---------------------------------------------------------------- 1. make book, make test

def run_make(target: str, clean: bool) -> float:
    if clean:
        shutil.rmtree(ROOT / "_build", ignore_errors=True)
    # as CI runs it: with CI=true every optional oracle (torch, the browser) is mandatory
    env = {**os.environ, "CI": "true"} if target == "test" else None
    t0 = time.perf_counter()
    proc = subprocess.run(["make", target], cwd=ROOT, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"make {target} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        return float("nan")
    return dt


def build_section(book_runs: int, test_runs: int) -> str:
    book = [run_make("book", clean=True) for _ in range(book_runs)]
    print("make book:", ", ".join(f"{t:.1f} s" for t in book))
    test = [run_make("test", clean=True) for _ in range(test_runs)]
    print("make test:", ", ".join(f"{t:.1f} s" for t in test))
    mb, mt = statistics.median(book), statistics.median(test)
    rows = [
        "| what | runs (s) | median (s) | target (s) | met |",
        "| --- | --- | --- | --- | --- |",
        f"| `make book`, clean `_build`, all chapters executed | {', '.join(f'{t:.1f}' for t in book)} "
        f"| {mb:.1f} | {TARGETS['book']:.0f} | {ok(mb <= TARGETS['book'])} |",
        f"| `make test` as CI runs it (`CI=true`: ruff, pytest incl. nbval, PyTorch cross-checks, "
        f"widget tests, book build, browser tests), clean `_build` "
        f"| {', '.join(f'{t:.1f}' for t in test)} | {mt:.1f} | {TARGETS['test']:.0f} "
        f"| {ok(mt <= TARGETS['test'])} |",
    ]
    return "\n".join(rows)


# ---------------------------------------------------------------- 2. widget latency

def widget_section(samples: int) -> str:
    from widget_driver import chapters_with_widgets, drive

    rows = ["| chapter | widget | control moved | median update (ms) | max (ms) | target (ms) | met |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for path in chapters_with_widgets():
        for w in drive(path, latency_samples=samples):
            lat = w["latency_s"]
            if not lat:
                continue
            med = statistics.median(lat)
            print(f"widget {path.stem} {w['function']}: median {1e3 * med:.1f} ms")
            rows.append(f"| {path.stem} | `{w['function']}` | {w['latency_control']} | {1e3 * med:.1f} "
                        f"| {1e3 * max(lat):.1f} | {1e3 * TARGETS['widget']:.0f} "
                        f"| {ok(med <= TARGETS['widget'])} |")
    return "\n".join(rows)


# ---------------------------------------------------------------- 3. backprop_lib vs PyTorch

def ours_342(steps=1000):
    from backprop_lib import network as nw

    ex = nw.example()
    return lambda: nw.train(ex["x"], ex["y"], ex["params"], lr=0.5, steps=steps)


def torch_mlp(torch, x, y, params, lr, steps):
    """Same math as backprop_lib.network: sigmoid hidden layer, softmax over dim 0, L = mean 1/2 sum."""
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    X = torch.tensor(x, dtype=torch.float64)
    Y = torch.tensor(y, dtype=torch.float64)
    n = 1 if X.dim() == 1 else X.shape[1]
    col = (lambda b: b) if X.dim() == 1 else (lambda b: b[:, None])

    def run():
        for _ in range(steps):
            a1 = torch.sigmoid(P["W1"] @ X + col(P["b1"]))
            a2 = torch.softmax(P["W2"] @ a1 + col(P["b2"]), dim=0)
            loss = 0.5 * ((a2 - Y) ** 2).sum() / n
            loss.backward()
            with torch.no_grad():
                for p in P.values():
                    p -= lr * p.grad
                    p.grad = None
        return float(loss.detach())

    return run


def mlp784(rng):
    D, H, D_out, N = 784, 128, 10, 128
    params = {"W1": rng.normal(scale=D ** -0.5, size=(H, D)), "b1": np.zeros(H),
              "W2": rng.normal(scale=H ** -0.5, size=(D_out, H)), "b2": np.zeros(D_out)}
    x = rng.normal(size=(D, N))
    y = np.eye(D_out)[:, rng.integers(0, D_out, size=N)]
    return x, y, params


def torch_head(torch, T=128, d=64, seed=0):
    """The same workload as backprop_lib.attention_head.make_benchmark, with torch autograd."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(1, d, T))
    Ws = [rng.normal(size=(d, d)) / np.sqrt(d) for _ in range(3)]
    dout = torch.tensor(rng.normal(size=(1, d, T)))
    Xt = torch.tensor(X, requires_grad=True)
    Wq, Wk, Wv = (torch.tensor(W, requires_grad=True) for W in Ws)
    scale = 1.0 / np.sqrt(d)

    def run():
        Q, K, V = Wq @ Xt, Wk @ Xt, Wv @ Xt
        A = torch.softmax((K.transpose(-1, -2) @ Q) * scale, dim=-2)
        Vbar = V @ A
        Vbar.backward(dout)
        s = float(Xt.grad.sum())
        for t in (Xt, Wq, Wk, Wv):
            t.grad = None
        return s

    return run


def torch_section() -> str:
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed: comparison skipped (`pip install torch==2.13.0`, CPU build)."
    from backprop_lib import network as nw
    from backprop_lib.attention_head import make_benchmark

    threads = torch.get_num_threads()
    rows = ["| workload | backprop_lib (ms) | PyTorch eager (ms) | ours / torch | target | met |",
            "| --- | --- | --- | --- | --- | --- |"]

    ex = nw.example()
    ours = median_time(ours_342(), repeat=5)
    theirs = median_time(torch_mlp(torch, ex["x"], ex["y"], ex["params"], 0.5, 1000), repeat=5)
    r = ours / theirs
    print(f"3-4-2 x1000: ours {ours * 1e3:.1f} ms, torch {theirs * 1e3:.1f} ms, ratio {r:.2f}")
    rows.append(f"| 3-4-2 network (Chapter 4), 1000 full-batch steps, `network.train` | {ours * 1e3:.1f} "
                f"| {theirs * 1e3:.1f} | {r:.2f} | <= 0.50 (2x faster) | {ok(r <= TARGETS['net342'])} |")

    x, y, p = mlp784(np.random.default_rng(0))
    ours = median_time(lambda: nw.train(x, y, p, lr=0.5, steps=100), repeat=3)
    theirs = median_time(torch_mlp(torch, x, y, p, 0.5, 100), repeat=3)
    r = ours / theirs
    print(f"784-128-10 x100: ours {ours * 1e3:.1f} ms, torch {theirs * 1e3:.1f} ms, ratio {r:.2f}")
    rows.append(f"| 784-128-10 sigmoid network, random data, batch 128, 100 steps | {ours * 1e3:.1f} "
                f"| {theirs * 1e3:.1f} | {r:.2f} | <= 1.5 | {ok(r <= TARGETS['net784'])} |")

    ours = median_time(make_benchmark(T=128, d=64), repeat=7, number=20)
    theirs = median_time(torch_head(torch), repeat=7, number=20)
    r = ours / theirs
    print(f"head T=128 d=64: ours {ours * 1e3:.2f} ms, torch {theirs * 1e3:.2f} ms, ratio {r:.2f}")
    rows.append(f"| self-attention head forward + backward, T = 128, d = 64 (`make_benchmark`) "
                f"| {ours * 1e3:.2f} | {theirs * 1e3:.2f} | {r:.2f} | <= 2 | {ok(r <= TARGETS['head'])} |")
    return (f"float64 on both sides; torch {torch.__version__}, {threads} threads; numpy "
            f"{np.__version__}. Median of repeated runs after one warm-up run.\n\n" + "\n".join(rows))


# ---------------------------------------------------------------- 5. Chapter 8: deep networks

def deep_bn_workload(torch, depth=20, width=256, batch=128, seed=0):
    """Forward + backward of a depth-20, width-256 ReLU MLP with BatchNorm (training mode), batch
    128, a random upstream gradient: backprop_lib.deep and the same graph in torch autograd."""
    import torch.nn.functional as F

    from backprop_lib.deep import init_mlp, mlp_backward, mlp_forward

    rng = np.random.default_rng(seed)
    params = init_mlp([width] * depth + [10], init="he", norm="batch", seed=seed)
    X = rng.normal(size=(batch, width))
    dout = rng.normal(size=(batch, 10))

    def ours():
        out, cache = mlp_forward(X, params, activation="relu", norm="batch")
        return mlp_backward(dout, cache).grads["W1"][0, 0]

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx, tdout = torch.tensor(X), torch.tensor(dout)

    def theirs():
        a = tx
        for layer in range(1, depth + 1):
            z = a @ tp[f"W{layer}"] + tp[f"b{layer}"]
            if layer == depth:
                a = z
                break
            a = torch.relu(F.batch_norm(z, None, None, tp[f"gamma{layer}"], tp[f"beta{layer}"],
                                        training=True, eps=1e-5))
        a.backward(tdout)
        g = float(tp["W1"].grad[0, 0])
        for t in tp.values():
            t.grad = None
        return g

    return ours, theirs


def _deep_times() -> dict:
    """Run in a subprocess (the BLAS thread count is fixed when numpy loads): the two timings."""
    import torch

    ours, theirs = deep_bn_workload(torch)
    ours(), theirs()  # warm up
    # interleaved, so that both see the same machine load (2 shared cores: it changes by the minute)
    pairs = [(median_time(ours, repeat=1, number=3), median_time(theirs, repeat=1, number=3))
             for _ in range(9)]
    return {"ours": statistics.median(p[0] for p in pairs), "theirs": statistics.median(p[1] for p in pairs),
            "threads": torch.get_num_threads(), "torch": torch.__version__}


def _times_per_thread_setting(function: str) -> list[dict]:
    """bench.<function>() in a fresh process with one BLAS thread on both sides, then with each
    library's default (the thread count is read when numpy and torch load)."""
    out = []
    for threads in (1, None):
        env = dict(os.environ)
        if threads:
            env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        code = ("import json, sys; sys.path.insert(0, 'tools'); import bench; "
                f"print(json.dumps(bench.{function}()))")
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                              text=True, check=True)
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def deep_section(samples: int) -> str:
    rows = ["| workload | threads | backprop_lib (ms) | PyTorch eager (ms) | ours / torch | target | met |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    try:
        import torch  # noqa: F401
    except ImportError:
        rows.append("| (PyTorch is not installed: comparison skipped) | | | | | | |")
    else:
        for t in _times_per_thread_setting("_deep_times"):
            r = t["ours"] / t["theirs"]
            print(f"deep BN MLP, {t['threads']} threads: ours {t['ours'] * 1e3:.2f} ms, torch "
                  f"{t['theirs'] * 1e3:.2f} ms, ratio {r:.2f}")
            rows.append(f"| depth-20 width-256 ReLU MLP with BatchNorm (training mode), forward + backward, "
                        f"batch 128 (`deep.mlp_forward` + `mlp_backward`; torch {t['torch']}) "
                        f"| {t['threads']} | {t['ours'] * 1e3:.2f} | {t['theirs'] * 1e3:.2f} | {r:.2f} "
                        f"| <= 1.5 "
                        f"| {ok(r <= TARGETS['deep_bn'])} |")
    from widget_driver import drive

    wrows = ["| widget | control moved | median update (ms) | max (ms) | target (ms) | met |",
             "| --- | --- | --- | --- | --- | --- |"]
    for w in drive(ROOT / "chapters" / "08_deep_networks.ipynb", latency_samples=samples):
        lat = w["latency_s"]
        med = statistics.median(lat)
        print(f"widget 08 {w['function']}: median {1e3 * med:.1f} ms")
        wrows.append(f"| 08_deep_networks `{w['function']}` | {w['latency_control']} | {1e3 * med:.1f} "
                     f"| {1e3 * max(lat):.1f} | {1e3 * TARGETS['widget']:.0f} "
                     f"| {ok(med <= TARGETS['widget'])} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return ("float64; ours and torch's runs interleaved, median of 9 rounds of 3 runs after a warm-up, in a "
            "fresh process per thread setting (1: OPENBLAS/OMP/MKL_NUM_THREADS=1 for numpy and torch; 2: "
            "their defaults, at the mercy of the shared cores' load); "
            f"load average {load:.1f} on {os.cpu_count()} cores when measured. The widget row is also in "
            "section 2 "
            "after a full run.\n\n" + "\n".join(rows) + "\n\n" + "\n".join(wrows))


# ---------------------------------------------------------------- 7. Chapter 9: the transformer block

BLOCK_SHAPE = dict(B=8, T=128, d=128, h=4)


def block_workload(torch, B=8, T=128, d=128, h=4, seed=0):
    """One pre-norm block (causal, d_ff = 4 d), forward + backward with a random upstream
    gradient: backprop_lib.transformer and the same graph in torch autograd, same weights."""
    import torch.nn.functional as F

    from backprop_lib.transformer import block_backward, block_forward, init_block

    rng = np.random.default_rng(seed)
    params = init_block(d, h, seed=seed)
    X, dY = rng.normal(size=(B, T, d)), rng.normal(size=(B, T, d))

    def ours():
        _, cache = block_forward(X, params, h=h)
        return block_backward(dY, cache)[0][0, 0, 0]

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tX, tdY = torch.tensor(X, requires_grad=True), torch.tensor(dY)

    def split(M):
        return M.reshape(B, T, h, d // h).transpose(1, 2)

    def theirs():
        U = F.layer_norm(tX, (d,), tp["ln1_gamma"], tp["ln1_beta"], eps=1e-5)
        q, k, v = (split(F.linear(U, tp[f"W_{n}"], tp[f"b_{n}"])) for n in "QKV")
        Vbar = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, d)
        H = tX + F.linear(Vbar, tp["W_O"], tp["b_O"])
        U2 = F.layer_norm(H, (d,), tp["ln2_gamma"], tp["ln2_beta"], eps=1e-5)
        Y = H + F.linear(F.gelu(F.linear(U2, tp["W_1"], tp["b_1"]), approximate="tanh"), tp["W_2"], tp["b_2"])
        Y.backward(tdY)
        g = float(tX.grad[0, 0, 0])
        for t in (tX, *tp.values()):
            t.grad = None
        return g

    return ours, theirs


def _block_times() -> dict:
    """Run in a subprocess (the BLAS thread count is fixed when numpy loads): the two timings."""
    import torch

    ours, theirs = block_workload(torch, **BLOCK_SHAPE)
    ours(), theirs()  # warm up
    pairs = [(median_time(ours, repeat=1, number=3), median_time(theirs, repeat=1, number=3))
             for _ in range(9)]
    return {"ours": statistics.median(p[0] for p in pairs), "theirs": statistics.median(p[1] for p in pairs),
            "threads": torch.get_num_threads(), "torch": torch.__version__}


def _checkpoint_costs(n_blocks: int):
    """Run in a one-thread subprocess: checkpoint_cost at the bench's shape (interleaved runs)."""
    from backprop_lib.transformer import checkpoint_cost

    return checkpoint_cost(**BLOCK_SHAPE, n_blocks=n_blocks, repeat=7)


def block_section() -> str:
    from backprop_lib.transformer import CheckpointCost, activation_bytes

    rows = ["| workload | threads | backprop_lib (ms) | PyTorch eager (ms) | ours / torch | target | met |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    what = ("one pre-norm transformer block (causal, d_ff = 4 d), forward + backward, B = 8, T = 128, "
            "d = 128, h = 4 (`transformer.block_forward` + `block_backward`; torch: F.layer_norm, F.linear, "
            "F.scaled_dot_product_attention, F.gelu, autograd")
    try:
        import torch  # noqa: F401
    except ImportError:
        rows.append("| (PyTorch is not installed: comparison skipped) | | | | | | |")
    else:
        for t in _times_per_thread_setting("_block_times"):
            r = t["ours"] / t["theirs"]
            print(f"transformer block, {t['threads']} threads: ours {t['ours'] * 1e3:.2f} ms, torch "
                  f"{t['theirs'] * 1e3:.2f} ms, ratio {r:.2f}")
            rows.append(f"| {what} {t['torch']}) | {t['threads']} | {t['ours'] * 1e3:.2f} "
                        f"| {t['theirs'] * 1e3:.2f} | {r:.2f} | <= 2 | {ok(r <= TARGETS['block'])} |")
    n_blocks = 4
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    code = ("import dataclasses, json, sys; sys.path.insert(0, 'tools'); import bench; "
            f"print(json.dumps([dataclasses.asdict(c) for c in bench._checkpoint_costs({n_blocks})]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    plain, ckpt = (CheckpointCost(**c) for c in json.loads(proc.stdout.strip().splitlines()[-1]))
    mib = 2.0 ** 20
    formula = activation_bytes(**BLOCK_SHAPE)
    print(f"checkpointing, {n_blocks} blocks: kept {plain.kept_bytes / mib:.1f} -> "
          f"{ckpt.kept_bytes / mib:.1f} MiB, peak {plain.peak_bytes / mib:.1f} -> "
          f"{ckpt.peak_bytes / mib:.1f} MiB, time "
          f"{plain.seconds * 1e3:.0f} -> {ckpt.seconds * 1e3:.0f} ms")
    crows = ["| stack of 4 blocks, B = 8, T = 128, d = 128, h = 4 | kept for backward (MiB) | peak traced "
             "during forward + backward (MiB) | forward + backward (ms) |",
             "| --- | --- | --- | --- |"]
    for name, c in (("without checkpointing", plain), ("with checkpointing (`checkpoint=True`)", ckpt)):
        crows.append(f"| {name} | {c.kept_bytes / mib:.1f} | {c.peak_bytes / mib:.1f} "
                     f"| {c.seconds * 1e3:.0f} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return ("float64; ours and torch's runs interleaved, median of 9 rounds of 3 runs after a warm-up, in a "
            "fresh process per thread setting (1: OPENBLAS/OMP/MKL_NUM_THREADS=1 for numpy and torch; 2: "
            f"their defaults, at the mercy of the shared cores' load); load average {load:.1f} on "
            f"{os.cpu_count()} cores when measured. Profiled (cProfile): the time is in the six linear "
            "maps' matrix products, each done as one (B T, d) product (numpy runs a (B, T, d) stack as B "
            "products: up to four times slower with two threads on this shared machine), then GELU, "
            "written in place (`x ** 3` is numpy's general power: 30 ms of the first version's 120), then "
            "the attention products, one "
            "batched product per step over all B h heads.\n\n" + "\n".join(rows)
            + "\n\nActivation checkpointing (`transformer.checkpoint_cost`: one BLAS thread, the two "
            "settings interleaved, median of 7 runs; peak traced by tracemalloc; "
            f"`activation_bytes` = {formula / mib:.1f} MiB per block):\n\n" + "\n".join(crows))


# ---------------------------------------------------------------- 4. Jacobian vs VJP

def jacobian_section(n=4096) -> str:
    from backprop_lib.vectorized import jacobian_vs_vjp_cost

    (row,) = jacobian_vs_vjp_cost([n], np.random.default_rng(0), repeat=5)
    print(f"n={n}: Jacobian {row['t_jacobian'] * 1e3:.1f} ms / {row['peak_jacobian'] / 2**20:.0f} MiB, "
          f"VJP {row['t_vjp'] * 1e6:.1f} us / {row['peak_vjp'] / 2**10:.0f} KiB")
    return "\n".join([
        "| n | method | fastest time | peak traced memory |",
        "| --- | --- | --- | --- |",
        f"| {n} | build J = diag(1[x > 0]), then J^T dout | {row['t_jacobian'] * 1e3:.2f} ms "
        f"| {row['peak_jacobian'] / 2**20:.1f} MiB |",
        f"| {n} | VJP dout * 1[x > 0] (`relu_vjp`) | {row['t_vjp'] * 1e6:.1f} µs "
        f"| {row['peak_vjp'] / 2**10:.1f} KiB |",
        f"| | ratio | {row['t_jacobian'] / row['t_vjp']:.0f}x | "
        f"{row['peak_jacobian'] / max(row['peak_vjp'], 1):.0f}x |",
    ])


# ---------------------------------------------------------------- report

# ---------------------------------------------------------------- 6. page weight and math time

def pages_section(loads: int = 3) -> str:
    """Every page of _build/html in chromium, served gzipped (tools/page_weight.py): bytes
    transferred and the time from `load` to MathJax's startup promise (median of ``loads``)."""
    import page_weight
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from common import toc_pages

    html = ROOT / "_build" / "html"
    if not (html / "intro.html").exists():  # the stored outputs are what `make book` shows
        subprocess.run([sys.executable, "tools/build_book.py", "-W", "-n", "--keep-going"], cwd=ROOT,
                       env={**os.environ, "BACKPROP_BOOK_EXECUTE": "off"}, check=True)
    rows = ["| page | transferred, gzip (MB) | target (MB) | met | math after `load` (s), median "
            f"of {loads} | target (s) | met | `load`, math done after navigation (s) "
            "| biggest transfers (kB) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    with page_weight.Server(html) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu"])
        for page_path in toc_pages():
            runs = []
            for _ in range(loads):
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                page = ctx.new_page()
                page.add_init_script(page_weight.INIT_SCRIPT)
                page.goto(f"{base}/{page_path}", wait_until="load")
                try:
                    page.wait_for_load_state("networkidle", timeout=15000)
                except PlaywrightTimeout:
                    pass
                runs.append(page_weight.measure(page))
                ctx.close()
            mb = max(r["bytes"] for r in runs) / 1e6
            maths = [r["math_s"] for r in runs if r["math_s"] is not None]
            math = statistics.median(maths) if maths else None
            load = statistics.median(r["load_s"] for r in runs)
            done = [r["math_at_s"] for r in runs if r["math_at_s"] is not None]
            timeline = f"{load:.2f}, {statistics.median(done):.2f}" if done else f"{load:.2f}, -"
            big = ", ".join(f"{u.rsplit('/', 1)[-1].split('?')[0]} {b / 1e3:.0f}"
                            for u, b in runs[0]["biggest"][:3])
            print(f"page {page_path}: {mb:.2f} MB, math {math}")
            math_cells = (f"{math:.2f} | {page_weight.MAX_MATH_S:.0f} | {ok(math <= page_weight.MAX_MATH_S)}"
                          if math is not None else "no math | | ")
            math_cells += f" | {timeline}"
            rows.append(f"| {page_path} | {mb:.2f} | {page_weight.MAX_BYTES / 1e6:.1f} "
                        f"| {ok(mb * 1e6 <= page_weight.MAX_BYTES)} | {math_cells} | {big} |")
        browser.close()
    return "\n".join(rows)


NOTES = (ROOT / "bench" / "NOTES.md")


def previous_section(name: str) -> str | None:
    if not OUT.exists():
        return None
    m = re.search(rf"<!-- {name} -->\n(.*?)\n<!-- /{name} -->", OUT.read_text(), re.S)
    return m.group(1) if m else None


def section(name: str, title: str, body: str) -> str:
    return f"## {title}\n\n<!-- {name} -->\n{body}\n<!-- /{name} -->\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip make book / make test (keep old numbers)")
    ap.add_argument("--book-runs", type=int, default=3)
    ap.add_argument("--test-runs", type=int, default=3)
    ap.add_argument("--widget-samples", type=int, default=50)
    ap.add_argument("--only", choices=["build", "widgets", "torch", "jacobian", "deep", "pages", "block"],
                    action="append",
                    help="measure only these sections (repeatable); the others keep their old numbers")
    args = ap.parse_args(argv)
    want = set(args.only or ["build", "widgets", "torch", "jacobian", "deep", "pages", "block"])
    if args.quick:
        want.discard("build")

    cpu = platform.processor() or platform.machine()
    header = (f"# Benchmark results\n\nWritten by `make bench` (tools/bench.py) on "
              f"{datetime.date.today().isoformat()}: {os.cpu_count()} cores ({cpu}), Python "
              f"{platform.python_version()}, numpy {np.__version__}. Timings depend on the machine and its "
              f"load; ratios are the comparable numbers.\n")
    parts = {}
    specs = [("build", "1. Build and test times", lambda: build_section(args.book_runs, args.test_runs)),
             ("widgets", f"2. Widget update latency (median of {args.widget_samples} programmatic slider "
                         f"changes, figure redraw included)", lambda: widget_section(args.widget_samples)),
             ("torch", "3. backprop_lib against PyTorch (CPU, eager)", torch_section),
             ("jacobian", "4. Jacobian against vector-Jacobian product", jacobian_section),
             ("deep", "5. Chapter 8: a deep BatchNorm network against PyTorch, and the widget",
              lambda: deep_section(args.widget_samples)),
             ("pages", "6. Page weight and math time (chromium, site served gzipped, `_build/html`)",
              pages_section),
             ("block", "7. Chapter 9: a transformer block against PyTorch, and activation checkpointing",
              block_section)]
    for name, title, run in specs:
        if name in want:
            parts[name] = section(name, title, run())
        else:
            old = previous_section(name)
            note = "" if old else "not measured yet: run `make bench` without --quick"
            parts[name] = section(name, title, old or note)
    text = header + "\n" + "\n".join(parts[n] for n, _, _ in specs)
    if NOTES.exists():
        text += "\n" + NOTES.read_text()
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text)
    print(f"\nwrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
