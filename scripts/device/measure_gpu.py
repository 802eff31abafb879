#!/usr/bin/env python3
"""Measure a GPU the way tests/data/calibration/h100_calibration.json was measured, on shapes that file does not hold.

Writes a calibration-cases JSON (the schema `xpusim validate --cases` reads: gemm, attention, elementwise, models,
with `method` and `device`) so that a config can be checked against it without refitting, e.g.

    python3 scripts/device/measure_gpu.py --out tests/data/calibration/h200_measured.json
    build/xpusim validate --hw configs/h200.yaml --cases tests/data/calibration/h200_measured.json --rows

Why these shapes: they are the regimes where the model is weakest or has only one harness's word (docs in
models/README.md): GEMMs with 32 < M <= 512 and with a short K (the library's per-shape kernel choice; each row keeps
the kernel names, grid and block the profiler saw, which name the tile shape), fp16 against bf16, long K, a grouped-
query attention and causal attention at sequence lengths between the file's, its forward+backward, and eager decode
and prefill steps of the calibration harness's block (rms_norm, fused qkv, SDPA, fused gate+up, silu, mul, down).

Timing, as the H100 file: ms_cold is the median over calls of CUDA-event time with the L2 flushed before each call
(a 256 MB buffer zeroed, as triton's do_bench does); ms_warm is the median over CUDA-graph replays of `--graph-calls`
back-to-back calls, divided by that count. Model rows: ms_per_iter_events is CUDA-event time per eager iteration
(launch gaps included), gpu_busy_us the sum of kernel durations of one profiled iteration, gpu_span_us the first
kernel's start to the last one's end.

Device time is short: the script writes the file after every section, prints progress on stderr, and stops starting
new rows once `--budget` seconds have passed. `--plan` prints what it would measure and exits (no GPU needed). On a
lent device (the session's `run` tool): `python3 scripts/device/measure_gpu.py --out $OUT/h200_measured.json
--budget 360` with a timeout of ~480 s, then copy the file under tests/data/calibration/ and predict it with
configs/h200.yaml before fitting anything.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

FLUSH_BYTES = 256 * 1024 * 1024


def log(msg):
    print(f"[measure_gpu {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the plan: shapes not in h100_calibration.json -------------------------------------------------------------------

def gemm_plan(quick):
    rows = []
    # Skinny M on three Llama-3-8B layers (the calibration file has Llama-2-7B's at M = 1, 8, 32, 128, 512, 2048).
    layers = [("llama3-8b:qkv", 6144, 4096), ("llama3-8b:out", 4096, 4096), ("llama3-8b:gate_up", 28672, 4096),
              ("llama3-8b:down", 4096, 14336)]
    ms = [1, 16, 48, 64, 80, 96, 160, 192, 256, 320, 384, 768, 1536, 3072]
    if quick:
        ms = [1, 64, 96, 256, 768]
    for tag, n, k in layers:
        for m in ms:
            if (m, n, k) == (1, 4096, 4096):
                continue  # Llama-2-7B's output projection at M = 1 is in the calibration file
            rows.append({"M": m, "N": n, "K": k, "dtype": "bfloat16", "tag": tag})
    # Short K (a tensor-parallel slice of a down projection): where Vidur's profiles are 10-28 % slower than the model.
    for m in ([256, 1024, 4096] if not quick else [1024]):
        for k in (512, 1024):
            rows.append({"M": m, "N": 4096, "K": k, "dtype": "bfloat16", "tag": "short_k"})
    # Long K (throughput rising with K to a plateau).
    for k in ([8192, 32768, 65536] if not quick else [32768]):
        rows.append({"M": 2048, "N": 2048, "K": k, "dtype": "bfloat16", "tag": "long_k"})
    # fp16 beside bf16 on the same shapes, squares between the file's powers of two.
    for s in ([768, 1536, 3072, 6144, 12288] if not quick else [1536, 6144]):
        for dt in ("bfloat16", "float16"):
            rows.append({"M": s, "N": s, "K": s, "dtype": dt, "tag": "square"})
    # fp8 e4m3 (torch._scaled_mm, bf16 out), skipped if this PyTorch lacks it.
    for s in ([2048, 4096, 8192] if not quick else [4096]):
        rows.append({"M": s, "N": s, "K": s, "dtype": "float8_e4m3fn", "tag": "square"})
    return rows


def attention_plan(quick):
    rows = []
    for s in ([768, 1536, 3072, 6144] if not quick else [1536, 3072]):
        rows.append({"B": 1, "Hq": 32, "Hkv": 32, "Sq": s, "Skv": s, "D": 128, "kind": "prefill_causal"})
    # Grouped-query heads (Llama-3-8B: 32 query heads over 8 KV heads).
    rows.append({"B": 1, "Hq": 32, "Hkv": 8, "Sq": 2048, "Skv": 2048, "D": 128, "kind": "prefill_causal"})
    # Decode over a KV cache.
    for b, kv in ([(1, 4096), (16, 1024), (64, 2048)] if not quick else [(16, 1024)]):
        rows.append({"B": b, "Hq": 32, "Hkv": 32, "Sq": 1, "Skv": kv, "D": 128, "kind": "decode"})
    return rows


def elementwise_plan(quick):
    rows = []
    for r, c in ([(4096, 4096), (32768, 4096), (1024, 14336)] if not quick else [(32768, 4096)]):
        for op in ("copy", "add", "gelu", "silu_mul", "rmsnorm", "layernorm", "softmax"):
            rows.append({"op": op, "rows": r, "cols": c, "dtype": "bfloat16"})
    return rows


def model_plan(quick):
    base = {"model": "llama2-7b", "d": 4096, "ffn": 11008, "heads": 32, "kv_heads": 32, "layers": 2}
    rows = []
    for b, kv in ([(1, 1024), (16, 1024), (16, 4096), (64, 2048)] if not quick else [(1, 1024), (16, 4096)]):
        rows.append(dict(base, B=b, S=1, KV=kv, mode="decode", name=f"llama2-7b_decode_b{b}_s1_kv{kv}_L2"))
    for b, s in ([(1, 1024), (4, 512), (1, 4096)] if not quick else [(1, 1024)]):
        rows.append(dict(base, B=b, S=s, KV=0, mode="prefill", name=f"llama2-7b_prefill_b{b}_s{s}_kv0_L2"))
    return rows


# --- timing ------------------------------------------------------------------------------------------------------------

class Timer:
    def __init__(self, torch, reps, graph_calls):
        self.torch = torch
        self.reps = reps
        self.graph_calls = graph_calls
        self.flush = torch.empty(FLUSH_BYTES, dtype=torch.int8, device="cuda")

    def cold(self, fn, before=None):
        """Median CUDA-event time of fn with the L2 flushed (and `before` run) ahead of each call."""
        torch = self.torch
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(self.reps)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(self.reps)]
        for i in range(self.reps):
            if before:
                before()
            self.flush.zero_()
            starts[i].record()
            fn()
            ends[i].record()
        torch.cuda.synchronize()
        return statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends))

    def warm(self, fn):
        """Median over CUDA-graph replays of graph_calls back-to-back calls, per call (ms); None if not capturable."""
        torch = self.torch
        try:
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(3):
                    fn()
            torch.cuda.current_stream().wait_stream(stream)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                for _ in range(self.graph_calls):
                    fn()
        except Exception as e:  # some ops cannot be captured (host syncs); the row keeps ms_cold only
            log(f"  no CUDA graph: {type(e).__name__}: {e}")
            torch.cuda.synchronize()
            return None
        g.replay()
        torch.cuda.synchronize()
        times = []
        for _ in range(max(5, self.reps // 4)):
            s = torch.cuda.Event(enable_timing=True)
            e = torch.cuda.Event(enable_timing=True)
            s.record()
            g.replay()
            e.record()
            torch.cuda.synchronize()
            times.append(s.elapsed_time(e) / self.graph_calls)
        del g
        return statistics.median(times)

    def kernels(self, fn):
        """Kernel names, grids, blocks and durations (us) of one call, from the profiler's trace."""
        torch = self.torch
        from torch.profiler import ProfilerActivity, profile
        fn()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
            fn()
            torch.cuda.synchronize()
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            path = f.name
        try:
            prof.export_chrome_trace(path)
            with open(path) as f:
                trace = json.load(f)
        finally:
            os.unlink(path)
        out = []
        for ev in trace.get("traceEvents", []):
            if ev.get("cat") == "kernel":
                a = ev.get("args", {})
                out.append({"name": ev.get("name", ""), "us": ev.get("dur", 0), "ts": ev.get("ts", 0),
                            "grid": a.get("grid"), "block": a.get("block")})
        out.sort(key=lambda k: k["ts"])
        return out


# --- the measurements --------------------------------------------------------------------------------------------------

DTYPES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32", "float8_e4m3fn": "float8_e4m3fn"}


def measure_gemm(torch, t, row):
    m, n, k, dt = row["M"], row["N"], row["K"], row["dtype"]
    if dt == "float8_e4m3fn":
        if not hasattr(torch, "_scaled_mm") or not hasattr(torch, "float8_e4m3fn"):
            raise RuntimeError("this PyTorch has no fp8 matmul")
        a = torch.randn(m, k, device="cuda").to(torch.float8_e4m3fn)
        b = torch.randn(n, k, device="cuda").to(torch.float8_e4m3fn).t()  # column-major, as _scaled_mm needs
        one = torch.tensor(1.0, device="cuda")
        fn = lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
        row["out_dtype"] = "bfloat16"
        row["min_bytes"] = m * k + k * n + 2 * m * n
    else:
        tdt = getattr(torch, dt)
        a = torch.randn(m, k, device="cuda", dtype=tdt)
        w = torch.randn(n, k, device="cuda", dtype=tdt)  # nn.Linear's weight layout: y = x W^T
        fn = lambda: torch.nn.functional.linear(a, w)
        eb = a.element_size()
        row["min_bytes"] = (m * k + k * n + m * n) * eb
    row["ms_cold"] = t.cold(fn)
    row["ms_warm"] = t.warm(fn)
    row["TFLOPs_cold"] = 2.0 * m * n * k / (row["ms_cold"] * 1e-3) / 1e12
    row["kernels"] = t.kernels(fn)
    if row["ms_warm"] is None:
        del row["ms_warm"]


def measure_attention(torch, t, row):
    F = torch.nn.functional
    b, hq, hkv, sq, skv, d = row["B"], row["Hq"], row["Hkv"], row["Sq"], row["Skv"], row["D"]
    q = torch.randn(b, hq, sq, d, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(b, hkv, skv, d, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(b, hkv, skv, d, device="cuda", dtype=torch.bfloat16)
    causal = row["kind"].startswith("prefill") and "noncausal" not in row["kind"]
    gqa = hq != hkv
    kw = {"is_causal": causal}
    if gqa:
        kw["enable_gqa"] = True
    fn = lambda: F.scaled_dot_product_attention(q, k, v, **kw)
    row["dtype"] = "bfloat16"
    row["min_bytes"] = (2 * q.numel() + k.numel() + v.numel()) * 2
    row["ms_cold"] = t.cold(fn)
    row["ms_warm"] = t.warm(fn)
    if row["ms_warm"] is None:
        del row["ms_warm"]
    row["kernels"] = t.kernels(fn)
    if causal:
        qg, kg, vg = (x.clone().requires_grad_(True) for x in (q, k, v))
        go = torch.randn_like(q)

        def fwd_bwd():
            F.scaled_dot_product_attention(qg, kg, vg, **kw).backward(go)

        def clear():
            qg.grad = kg.grad = vg.grad = None

        row["ms_fwd_bwd_cold"] = t.cold(fwd_bwd, before=clear)
        clear()
        row["kernels_fwd_bwd"] = t.kernels(fwd_bwd)


def measure_elementwise(torch, t, row):
    F = torch.nn.functional
    r, c = row["rows"], row["cols"]
    x = torch.randn(r, c, device="cuda", dtype=torch.bfloat16)
    z = torch.randn(r, c, device="cuda", dtype=torch.bfloat16)
    wt = torch.randn(c, device="cuda", dtype=torch.bfloat16)
    op = row["op"]
    fns = {
        "copy": (lambda: x.clone(), 2),
        "add": (lambda: x + z, 3),
        "gelu": (lambda: F.gelu(x), 2),
        "silu_mul": (lambda: F.silu(x) * z, 3),
        "rmsnorm": (lambda: F.rms_norm(x, (c,), wt), 2),
        "layernorm": (lambda: F.layer_norm(x, (c,), wt), 2),
        "softmax": (lambda: torch.softmax(x, dim=-1), 2),
    }
    fn, passes = fns[op]
    row["min_bytes"] = passes * r * c * 2
    row["ms_cold"] = t.cold(fn)
    row["GBps_cold"] = row["min_bytes"] / (row["ms_cold"] * 1e-3) / 1e9
    row["ms_warm"] = t.warm(fn)
    if row["ms_warm"] is None:
        del row["ms_warm"]


class Block:
    """The calibration harness's transformer block (its Kineto traces): rms_norm, fused qkv, split, SDPA over a
    static KV cache (decode) or causal (prefill), output projection, residual add, rms_norm, fused gate+up, chunk,
    silu, mul, down projection, residual add. No embedding, no lm_head, no rotary embedding."""

    def __init__(self, torch, d, ffn, heads, kv_heads, batch, seq, kv):
        dt = torch.bfloat16
        self.torch, self.d, self.heads, self.kv_heads, self.seq, self.kv = torch, d, heads, kv_heads, seq, kv
        hd = d // heads
        mk = lambda *s: torch.randn(*s, device="cuda", dtype=dt) * 0.02
        self.w_qkv = mk((heads + 2 * kv_heads) * hd, d)
        self.w_o, self.w_gu, self.w_down = mk(d, d), mk(2 * ffn, d), mk(d, ffn)
        self.n1 = torch.ones(d, device="cuda", dtype=dt)
        self.n2 = torch.ones(d, device="cuda", dtype=dt)
        if kv > 0:
            self.k_cache = mk(batch, kv_heads, kv, hd)
            self.v_cache = mk(batch, kv_heads, kv, hd)

    def __call__(self, x):
        torch, F = self.torch, self.torch.nn.functional
        b, s, d = x.shape
        hd = d // self.heads
        h = F.rms_norm(x, (d,), self.n1)
        q, k, v = F.linear(h, self.w_qkv).split([self.heads * hd, self.kv_heads * hd, self.kv_heads * hd], dim=-1)
        q = q.view(b, s, self.heads, hd).transpose(1, 2)
        k = k.view(b, s, self.kv_heads, hd).transpose(1, 2)
        v = v.view(b, s, self.kv_heads, hd).transpose(1, 2)
        if self.kv > 0:
            k, v = self.k_cache, self.v_cache
        kw = {"is_causal": self.kv == 0}
        if self.heads != self.kv_heads:
            kw["enable_gqa"] = True
        a = F.scaled_dot_product_attention(q, k, v, **kw).transpose(1, 2).reshape(b, s, d)
        x = x + F.linear(a, self.w_o)
        h = F.rms_norm(x, (d,), self.n2)
        g, u = F.linear(h, self.w_gu).chunk(2, dim=-1)
        return x + F.linear(F.silu(g) * u, self.w_down)


def measure_model(torch, t, row):
    b, s, kv = row["B"], row["S"], row["KV"]
    blocks = [Block(torch, row["d"], row["ffn"], row["heads"], row["kv_heads"], b, s, kv) for _ in range(row["layers"])]
    x0 = torch.randn(b, s, row["d"], device="cuda", dtype=torch.bfloat16)

    def step():
        x = x0
        for blk in blocks:
            x = blk(x)
        return x

    with torch.inference_mode():
        for _ in range(5):
            step()
        torch.cuda.synchronize()
        iters = 30
        times = []
        for _ in range(iters):
            s_ev = torch.cuda.Event(enable_timing=True)
            e_ev = torch.cuda.Event(enable_timing=True)
            s_ev.record()
            step()
            e_ev.record()
            torch.cuda.synchronize()
            times.append(s_ev.elapsed_time(e_ev))
        row["ms_per_iter_events"] = statistics.median(times)
        ks = t.kernels(step)
    row["kernels"] = len(ks)
    row["gpu_busy_us"] = sum(k["us"] for k in ks)
    row["gpu_span_us"] = (ks[-1]["ts"] + ks[-1]["us"] - ks[0]["ts"]) if ks else 0
    row["kernel_names"] = sorted({k["name"] for k in ks})


# --- driver ------------------------------------------------------------------------------------------------------------

def device_info(torch):
    p = torch.cuda.get_device_properties(0)
    info = {"name": p.name, "sm_count": p.multi_processor_count, "total_memory_bytes": p.total_memory,
            "torch": torch.__version__, "cuda": torch.version.cuda}
    l2 = getattr(p, "L2_cache_size", None)
    if l2:
        info["l2_cache_bytes"] = l2
    try:
        q = "clocks.max.sm,clocks.max.mem,power.limit,clocks.sm,driver_version"
        info["nvidia_smi"] = subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv,noheader"],
                                            capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as e:
        info["nvidia_smi"] = f"unavailable: {e}"
    return info


SECTIONS = [("gemm", gemm_plan, measure_gemm), ("attention", attention_plan, measure_attention),
            ("models", model_plan, measure_model), ("elementwise", elementwise_plan, measure_elementwise)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="calibration-cases JSON to write (rewritten after every section)")
    ap.add_argument("--budget", type=float, default=420, help="seconds after which no new row starts (default 420)")
    ap.add_argument("--reps", type=int, default=40, help="timed calls per cold measurement (default 40)")
    ap.add_argument("--graph-calls", type=int, default=10, help="calls captured per CUDA graph (default 10)")
    ap.add_argument("--quick", action="store_true", help="a fifth of the shapes")
    ap.add_argument("--sections", default="gemm,attention,models,elementwise", help="comma-separated, in this order")
    ap.add_argument("--plan", action="store_true", help="print the rows that would be measured and exit")
    args = ap.parse_args()

    wanted = [s for s in args.sections.split(",") if s]
    unknown = [s for s in wanted if s not in {n for n, _, _ in SECTIONS}]
    if unknown:
        print(f"error: --sections: unknown section(s) {', '.join(unknown)} (expected gemm, attention, models, "
              "elementwise)", file=sys.stderr)
        return 2
    plan = {name: plan_fn(args.quick) for name, plan_fn, _ in SECTIONS if name in wanted}
    if args.plan:
        json.dump(plan, sys.stdout, indent=1)
        print()
        return 0

    import torch
    if not torch.cuda.is_available():
        print("error: no CUDA device visible to PyTorch", file=sys.stderr)
        return 2
    t0 = time.time()
    t = Timer(torch, args.reps, args.graph_calls)
    result = {
        "device": device_info(torch),
        "method": (f"{torch.cuda.get_device_name(0)}, PyTorch {torch.__version__} + CUDA {torch.version.cuda}, default "
                   f"clocks. ms_cold: median of {args.reps} CUDA-event timed calls with the L2 flushed before each "
                   f"(256 MB zeroed, as triton do_bench); ms_warm: median over CUDA-graph replays of {args.graph_calls} "
                   "back-to-back calls, per call (L2 warm). min_bytes: each input read once and each output written "
                   "once. kernels: the profiler's kernels of one call (name, grid, block, us). Model rows: the "
                   "calibration harness's block in bf16, eager, inference_mode; ms_per_iter_events = CUDA-event time per "
                   "iteration (median of 30, launch gaps included); gpu_busy_us = sum of kernel durations of one "
                   "profiled iteration; gpu_span_us = first kernel start to last kernel end. Written by "
                   "scripts/device/measure_gpu.py."),
    }
    skipped = []
    total = sum(len(v) for v in plan.values())
    done = 0
    for name, _, measure in SECTIONS:
        if name not in plan:
            continue
        rows = []
        for row in plan[name]:
            done += 1
            if time.time() - t0 > args.budget:
                skipped.append(f"{name} {json.dumps(row)}")
                continue
            log(f"{done}/{total} {name} {json.dumps(row)}")
            try:
                measure(torch, t, row)
                rows.append(row)
            except Exception as e:  # a row this GPU or PyTorch cannot run is reported, not invented
                log(f"  failed: {type(e).__name__}: {e}")
                skipped.append(f"{name} {json.dumps(row)}: {type(e).__name__}: {e}")
                torch.cuda.empty_cache()
        result[name] = rows
        result["skipped"] = skipped
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
        log(f"wrote {args.out} ({name}: {len(rows)} rows, {time.time() - t0:.0f} s)")
    if skipped:
        log(f"{len(skipped)} rows skipped (budget or errors): listed under 'skipped' in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
