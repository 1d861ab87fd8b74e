"""Prints the JSON lines of chainrule-bench and peers.py as one Markdown table with ratios.

For W1-W3 the ratio is the fastest peer's median time over ChainRule's (above 1: ChainRule is
faster); for W4 it is ChainRule's nodes/s over micrograd's; for W5 ChainRule's GFLOP/s over the
best peer's. When the file holds several rounds (`run.sh --rounds N`), each cell is the median
of that side's rounds, the ratio is taken between those medians, and a last column gives the
ratio of each round on its own.

`--unheld=jax` (given by `run.sh --avx2`) names a peer that ran outside the run's instruction
set — JAX's matrix products use AVX-512 on an AVX-512 machine whatever XLA's flags say — so it
is shown with its own ratio and left out of the fastest peer.
"""

import json
import platform
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
probes = [row for row in rows if row.get("probe") == "host"]  # host_probe.c, one per round
rows = [row for row in rows if "probe" not in row]
peers = ["numpy", "torch", "jax", "micrograd"]
# Peers not held to the run's instruction set: shown, not counted as the fastest peer.
UNHELD = {a.split("=", 1)[1] for a in sys.argv[2:] if a.startswith("--unheld=")}
rounds = {}  # (workload, peer) -> that side's rows, one per round, in order
versions = {}
for row in rows:
    if "error" in row:
        print(f"note: {row['peer']} unavailable: {row['error']}")
        continue
    rounds.setdefault((row["workload"], row["peer"]), []).append(row)
    if "torch" in row and row["peer"] == "torch":
        versions["torch"] = row["torch"]
    if "version" in row:
        versions[row["peer"]] = row["version"]


def speed(row, workload):
    """The row's figure of merit, larger is better."""
    if "samples_per_second" in row:
        return row["samples_per_second"]
    if workload.startswith("W5"):
        return row["gflops"]
    if workload == "W4":
        return row["nodes_per_second"]
    return 1 / row["median_us"]


def median_row(side, workload):
    """The round with the median speed (the upper one of an even count)."""
    ordered = sorted(side, key=lambda row: speed(row, workload))
    return ordered[len(ordered) // 2]


results = {}
for (workload, peer), side in rounds.items():
    results.setdefault(workload, {})[peer] = median_row(side, workload)
count = max((len(side) for side in rounds.values()), default=1)
unheld = [p for p in peers if p in UNHELD]


def round_ratios(workload, best_of):
    """ChainRule's ratio against the fastest peer, round by round."""
    ours = rounds.get((workload, "chainrule"), [])
    ratios = []
    for index, row in enumerate(ours):
        others = [side[index] for (w, p), side in rounds.items()
                  if w == workload and p != "chainrule" and p not in UNHELD and index < len(side)]
        if others:
            ratios.append(speed(row, workload) / best_of(speed(o, workload) for o in others))
    return " / ".join(f"{r:.2f}" if workload != "W4" else f"{r:.0f}" for r in ratios)


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
if count > 1:
    print(f"Each cell: the median of {count} rounds; the last column, each round's own ratio.")
    print()
if probes:
    # A quiet core runs the probe's independent adds at ~3.5 per cycle; a busy sibling thread on
    # the host lowers that at the same clock (see host_probe.c).
    print("host probe before each round (median of its slices, range in brackets): "
          + "; ".join(f"{p['ghz']:.2f} GHz [{p['ghz_min']:.2f}–{p['ghz_max']:.2f}], "
                      f"{p['adds_per_cycle']:.2f} adds/cycle "
                      f"[{p['adds_per_cycle_min']:.2f}–{p['adds_per_cycle_max']:.2f}]"
                      if "ghz" in p else p.get("error", "no reading") for p in probes))
    print()
extra = " ratio per round |" if count > 1 else ""
against_unheld = "".join(f" ratio vs {p} (its own kernels) |" for p in unheld)
print("| workload | ChainRule | allocs/step | " + " | ".join(peers) + " | ratio vs fastest peer |"
      + against_unheld + extra)
print("| --- | --- | --- | " + " | ".join("---" for _ in peers) + " | --- |"
      + " --- |" * len(unheld) + (" --- |" if count > 1 else ""))


def ratio_against(ours, others, workload):
    """ChainRule's ratio against the best of `others` (rows), larger is better."""
    if not ours or not others:
        return "—"
    ratio = speed(ours, workload) / max(speed(o, workload) for o in others)
    return f"{ratio:.0f}×" if workload == "W4" else f"{ratio:.2f}×"


order = ["W1", "W2", "W2-Adam", "W3", "W3-Adam", "W4", "Conv"] + sorted((w for w in results if w.startswith("W5")), key=lambda w: int(w.split("=")[1]))
for workload in order:
    if workload not in results:
        continue
    entries = results[workload]
    ours = entries.get("chainrule")
    others = [entries[p] for p in peers if p in entries and p not in UNHELD]
    ratio = ratio_against(ours, others, workload)
    unheld_ratios = "".join(
        f" {ratio_against(ours, [entries[p]] if p in entries else [], workload)} |" for p in unheld)
    name = ours["name"] if ours else workload
    allocs = f"{ours['allocations_per_step']:.3g}" if ours else "—"
    per_round = f" {round_ratios(workload, max)} |" if count > 1 else ""
    print(f"| {name} | {cell(ours, workload)} | {allocs} | "
          + " | ".join(cell(entries.get(p), workload) for p in peers) + f" | {ratio} |"
          + unheld_ratios + per_round)

# W2 with SGD and with Adam timed together, their steps alternating (chainrule-bench's
# pairedOptimizerWorkload): Adam's step over SGD's, free of the minutes between two workloads.
paired_sgd = rounds.get(("W2-paired-SGD", "chainrule"), [])
paired_adam = rounds.get(("W2-paired-Adam", "chainrule"), [])
if paired_sgd and paired_adam:
    per_round = [a["median_us"] / s["median_us"] for s, a in zip(paired_sgd, paired_adam)]
    middle = sorted(per_round)[len(per_round) // 2]
    print()
    print(f"W2 with Adam ÷ W2 with SGD, steps alternating in one measurement: {middle:.2f} "
          f"(median of {len(per_round)} round(s): "
          + " / ".join(f"{a['median_us']:.1f} ÷ {s['median_us']:.1f} µs = {r:.2f}"
                       for s, a, r in zip(paired_sgd, paired_adam, per_round)) + ")")

cli = [w for w in results if w.startswith("CLI")]
if cli:
    print()
    print("| CLI workload (`chainrule train`, Adam, batch 32) | ChainRule | PyTorch | ratio |"
          + extra)
    print("| --- | --- | --- | --- |" + (" --- |" if count > 1 else ""))
    for workload in cli:
        ours, torch = results[workload].get("chainrule"), results[workload].get("torch")
        cell = lambda r: f"{r['samples_per_second']:,.0f} samples/s" if r else "—"
        ratio = f"{ours['samples_per_second'] / torch['samples_per_second']:.2f}×" if ours and torch else "—"
        per_round = f" {round_ratios(workload, max)} |" if count > 1 else ""
        print(f"| {workload} | {cell(ours)} | {cell(torch)} | {ratio} |" + per_round)
