"""Prints the JSON lines of chainrule-bench and peers.py as one Markdown table with ratios.

For W1-W3 the ratio is the fastest peer's median time over ChainRule's (above 1: ChainRule is
faster); for W4 it is ChainRule's nodes/s over micrograd's; for W5 ChainRule's GFLOP/s over the
best peer's.
"""

import json
import platform
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
peers = ["numpy", "torch", "jax", "micrograd"]
results = {}
versions = {}
for row in rows:
    if "error" in row:
        print(f"note: {row['peer']} unavailable: {row['error']}")
        continue
    results.setdefault(row["workload"], {})[row["peer"]] = row
    if "torch" in row and row["peer"] == "torch":
        versions["torch"] = row["torch"]
    if "version" in row:
        versions[row["peer"]] = row["version"]


def cell(row, workload):
    if row is None:
        return "—"
    if workload.startswith("W5"):
        return f"{row['gflops']:.0f} GFLOP/s"
    if workload == "W4":
        return f"{row['median_us']:.1f} µs ({row['nodes_per_second']:.3g} nodes/s)"
    return f"{row['median_us']:.1f} µs"


print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
      + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
print()
print("| workload | ChainRule | allocs/step | " + " | ".join(peers) + " | ratio vs fastest peer |")
print("| --- | --- | --- | " + " | ".join("---" for _ in peers) + " | --- |")
order = ["W1", "W2", "W2-Adam", "W3", "W3-Adam", "W4", "Conv"] + sorted((w for w in results if w.startswith("W5")), key=lambda w: int(w.split("=")[1]))
for workload in order:
    if workload not in results:
        continue
    entries = results[workload]
    ours = entries.get("chainrule")
    others = [entries[p] for p in peers if p in entries]
    ratio = "—"
    if ours and others:
        if workload.startswith("W5"):
            best = max(o["gflops"] for o in others)
            ratio = f"{ours['gflops'] / best:.2f}×"
        elif workload == "W4":
            best = max(o["nodes_per_second"] for o in others)
            ratio = f"{ours['nodes_per_second'] / best:.0f}×"
        else:
            best = min(o["median_us"] for o in others)
            ratio = f"{best / ours['median_us']:.2f}×"
    name = ours["name"] if ours else workload
    allocs = f"{ours['allocations_per_step']:.3g}" if ours else "—"
    print(f"| {name} | {cell(ours, workload)} | {allocs} | "
          + " | ".join(cell(entries.get(p), workload) for p in peers) + f" | {ratio} |")

cli = [w for w in results if w.startswith("CLI")]
if cli:
    print()
    print("| CLI workload (`chainrule train`, Adam, batch 32) | ChainRule | PyTorch | ratio |")
    print("| --- | --- | --- | --- |")
    for workload in cli:
        ours, torch = results[workload].get("chainrule"), results[workload].get("torch")
        cell = lambda r: f"{r['samples_per_second']:,.0f} samples/s" if r else "—"
        ratio = f"{ours['samples_per_second'] / torch['samples_per_second']:.2f}×" if ours and torch else "—"
        print(f"| {workload} | {cell(ours)} | {cell(torch)} | {ratio} |")
