#!/usr/bin/env python3
"""Prints the medians of the last `cargo bench` run as the Markdown table of
docs/performance.md.

    cargo bench --manifest-path runtime/bench/Cargo.toml --bench workloads -- --warm-up-time 1 --measurement-time 3
    python3 runtime/bench/summarize.py            # reads runtime/bench/target/criterion

Each cell is criterion's median (`new/estimates.json`). "vs fastest peer" is
the fastest peer's median divided by the Pol engine's (above 1: Pol is
faster), for the JIT (the default engine) and the interpreter; "JIT vs
interp" is the interpreter's median divided by the JIT's; "vs serde_json" is
the JIT's JSON-to-decision median divided by parsing the same bytes into a
`serde_json::Value` (below 2: within the target). W3 cells add the
throughput over the prompt (eval) or the JSON text (json).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "target", "criterion")
POL = ["pol-interp", "pol-jit"]
PEERS = ["cedar", "rego-interp", "rego-rvm", "cel"]
ROWS = [
    ("W1 tool permission", "w1", "eval", None),
    ("W1 tool permission", "w1", "json", None),
    ("W2 retrieval, 50 docs", "w2", "eval", None),
    ("W2 retrieval, 50 docs", "w2", "json", None),
    ("W3 input guard, benign", "w3", "eval", "benign"),
    ("W3 input guard, benign", "w3", "json", "benign"),
    ("W3 input guard, malicious", "w3", "eval", "malicious"),
    ("W3 input guard, malicious", "w3", "json", "malicious"),
    ("W4 alert thresholds", "w4", "eval", None),
    ("W4 alert thresholds", "w4", "json", None),
]


def load(group, engine, variant):
    name = engine if variant is None else f"{engine}_{variant}"
    path = os.path.join(ROOT, f"{group}", name, "new")
    try:
        with open(os.path.join(path, "estimates.json")) as f:
            median = json.load(f)["median"]["point_estimate"]
        with open(os.path.join(path, "benchmark.json")) as f:
            throughput = json.load(f).get("throughput")
    except FileNotFoundError:
        return None, None
    nbytes = throughput.get("Bytes") if isinstance(throughput, dict) else None
    return median, nbytes


def fmt_time(ns):
    if ns is None:
        return "–"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def cell(ns, nbytes):
    text = fmt_time(ns)
    if ns is not None and nbytes:
        text += f" ({nbytes / (ns / 1e9) / (1 << 20):.0f} MiB/s)"
    return text


def main():
    if not os.path.isdir(ROOT):
        sys.exit(f"no criterion results in {ROOT}: run the benchmarks first")
    header = ["workload", "mode", "serde_json"] + POL + PEERS + [
        "fastest peer", "pol-jit vs fastest peer", "pol-interp vs fastest peer",
        "JIT vs interp", "pol-jit vs serde_json"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for title, key, mode, variant in ROWS:
        group = f"{key}_{mode}"
        times = {}
        sizes = {}
        for engine in ["serde_json-value"] + POL + PEERS:
            times[engine], sizes[engine] = load(group, engine, variant)
        peers = {p: times[p] for p in PEERS if times[p] is not None}
        fastest = min(peers, key=peers.get) if peers else None
        jit, interp = times["pol-jit"], times["pol-interp"]
        row = [title, "eval-only" if mode == "eval" else "JSON → decision"]
        row.append(cell(times["serde_json-value"], sizes["serde_json-value"]) if mode == "json" else "–")
        for engine in POL:
            if engine == "pol-jit" and times[engine] is None:
                row.append("pending")
            else:
                row.append(cell(times[engine], sizes[engine]))
        for engine in PEERS:
            text = cell(times[engine], sizes[engine])
            row.append(f"**{text}**" if engine == fastest else text)
        row.append(fastest or "–")
        for pol in (jit, interp):
            row.append(f"{peers[fastest] / pol:.1f}×" if fastest and pol else "–")
        row.append(f"{interp / jit:.1f}×" if jit and interp else "–")
        serde = times["serde_json-value"]
        row.append(f"{jit / serde:.2f}×" if mode == "json" and jit and serde else "–")
        print("| " + " | ".join(row) + " |")
    extra = []
    for variant in ["benign", "malicious"]:
        ns, nbytes = load("w3_eval", "cel-stock-matches", variant)
        if ns is not None:
            extra.append(f"W3 {variant}, CEL with cel-interpreter's own `matches` "
                         f"(regex compiled per call): {cell(ns, nbytes)}")
    ns, _ = load("compile", "pol-sema", "10k-lines")
    if ns is not None:
        extra.append(f"Compile a generated 10,000-line policy set (`pol_sema::compile`): {fmt_time(ns)}")
    ns, _ = load("compile", "pol-jit", "10k-lines")
    extra.append("Load the compiled set into an engine on the JIT (params, verification, "
                 "regexes and phrase sets, Cranelift): "
                 + (fmt_time(ns) if ns is not None else "pending"))
    ns, _ = load("compile", "bundle-load", "10k-lines")
    if ns is not None:
        extra.append(f"Load a bundle of the same set from bytes (checks, decoding, "
                     f"verification, JIT): {fmt_time(ns)}")
    print()
    for line in extra:
        print(f"- {line}")


if __name__ == "__main__":
    main()
