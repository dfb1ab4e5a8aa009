#!/usr/bin/env python3
"""Draws the plots of a `jetlm bench --scenarios ... --json FILE` result.

Usage: bench_plots.py RESULT.json [--out DIR]

Writes into DIR (default: plots/):
  ttft_vs_size.png       TTFT p50 against model size, one line per scenario
  gen_tps_vs_size.png    generation tokens/s against model size
  backend_bars.png       generation tokens/s per model and backend / -ngl, by scenario
  memory_vs_speed.png    peak resident memory against generation tokens/s, per model (quantization)
  itl_distribution.png   inter-token latency distribution of every run (box plot)
  scenario_heatmap.png   scenario x configuration heatmap of generation tokens/s
  timeline.png           tokens/s of each run over time, with temperature, clocks and power
  roofline.png           achieved weight bandwidth of each run against the measured peak

Only matplotlib (Debian: python3-matplotlib) is needed; jetlm itself does not depend on it.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def config_of(run):
    """The configuration a run belongs to: model label and backend (with -ngl) or load mode."""
    label = run.get("model_type") or run.get("target", "?")
    backend = run.get("backend", "?")
    if backend.startswith("remote"):
        return "%s (%s %s)" % (run.get("target", label), backend, run.get("load", "sync"))
    return "%s [%s ngl %s]" % (label, backend, run.get("n_gpu_layers", 0))


def backend_of(run):
    if run.get("backend", "").startswith("remote"):
        return "%s %s" % (run["backend"], run.get("load", "sync"))
    return "%s ngl %s" % (run.get("backend", "?"), run.get("n_gpu_layers", 0))


def size_mb(run):
    return (run.get("model_size") or 0) / 1e6


def legend(ax):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def save(fig, out, name):
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=110)
    plt.close(fig)


def by_scenario(runs):
    groups = {}
    for r in runs:
        groups.setdefault(r["scenario"], []).append(r)
    return groups


def plot_vs_size(runs, out, key, stat, ylabel, name):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for scen, rs in by_scenario(runs).items():
        series = {}
        for r in rs:
            series.setdefault(backend_of(r), []).append((size_mb(r), r[key][stat]))
        for backend, pts in series.items():
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label="%s, %s" % (scen, backend))
    ax.set_xlabel("model size (MB)")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    legend(ax)
    save(fig, out, name)


def plot_backend_bars(runs, out):
    models = sorted({r.get("model_type") or r.get("target", "?") for r in runs})
    backends = sorted({backend_of(r) for r in runs})
    scenarios = list(by_scenario(runs).keys())
    fig, axes = plt.subplots(1, len(scenarios), figsize=(max(6, 3.2 * len(scenarios)), 4.5), squeeze=False)
    width = 0.8 / max(1, len(backends))
    for ax, scen in zip(axes[0], scenarios):
        for bi, b in enumerate(backends):
            vals = []
            for m in models:
                v = [r["gen_tps"]["mean"] for r in runs if r["scenario"] == scen and backend_of(r) == b
                     and (r.get("model_type") or r.get("target", "?")) == m]
                vals.append(v[0] if v else 0)
            ax.bar([i + bi * width for i in range(len(models))], vals, width, label=b)
        ax.set_xticks([i + width * (len(backends) - 1) / 2 for i in range(len(models))])
        ax.set_xticklabels(models, rotation=30, ha="right", fontsize=7)
        ax.set_title(scen, fontsize=9)
        ax.set_ylabel("generation tokens/s")
    legend(axes[0][0])
    save(fig, out, "backend_bars.png")


def plot_memory_vs_speed(runs, out):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in runs:
        mon = r.get("monitor") or {}
        mem = mon.get("rss_max_bytes") or r.get("model_size") or 0
        ax.scatter(mem / 2**20, r["gen_tps"]["mean"], s=40)
        ax.annotate("%s %s" % (r.get("model_type") or r.get("target", "?"), r["scenario"]), (mem / 2**20, r["gen_tps"]["mean"]),
                    fontsize=6, alpha=0.8)
    ax.set_xlabel("peak resident memory (MiB)")
    ax.set_ylabel("generation tokens/s")
    ax.grid(True, alpha=0.3)
    save(fig, out, "memory_vs_speed.png")


def plot_itl(runs, out):
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(runs)), 4.5))
    data = [r["samples"]["itl_ms"] or [0] for r in runs]
    ax.boxplot(data, showfliers=True)
    ax.set_xticks(range(1, len(runs) + 1))
    ax.set_xticklabels(["%s\n%s" % (r["scenario"], backend_of(r)) for r in runs], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("inter-token latency (ms)")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    save(fig, out, "itl_distribution.png")


def plot_heatmap(runs, out):
    scenarios = list(by_scenario(runs).keys())
    configs = sorted({config_of(r) for r in runs})
    grid = [[float("nan")] * len(configs) for _ in scenarios]
    for r in runs:
        grid[scenarios.index(r["scenario"])][configs.index(config_of(r))] = r["gen_tps"]["mean"]
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(configs)), max(3, 0.5 * len(scenarios) + 1.5)))
    im = ax.imshow(grid, aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(configs)))
    ax.set_xticklabels(configs, rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(len(scenarios)))
    ax.set_yticklabels(scenarios, fontsize=8)
    for i, row in enumerate(grid):
        for k, v in enumerate(row):
            if v == v:
                ax.text(k, i, "%.1f" % v, ha="center", va="center", color="w", fontsize=7)
    fig.colorbar(im, ax=ax, label="generation tokens/s")
    save(fig, out, "scenario_heatmap.png")


def plot_timeline(result, runs, out):
    tl = result.get("timeline") or {}
    t = [x / 1000 for x in tl.get("t_ms", [])]
    fig, axes = plt.subplots(4, 1, figsize=(9, 8), sharex=True)
    for r in runs:
        a, b = r.get("t_start_ms", 0) / 1000, r.get("t_end_ms", 0) / 1000
        axes[0].plot([a, b], [r["gen_tps"]["mean"]] * 2, lw=3)
        axes[0].text(a, r["gen_tps"]["mean"], r["scenario"], fontsize=6)
    axes[0].set_ylabel("gen tokens/s")

    def series(ax, key, label, scale=1.0):
        vals = tl.get(key, [])
        pts = [(x, v * scale) for x, v in zip(t, vals) if v is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=label)
        return bool(pts)

    series(axes[1], "temp_max_c", "hottest zone (C)")
    axes[1].set_ylabel("temperature (C)")
    throttled = [x for x, v in zip(t, tl.get("throttled", [])) if v]
    if throttled:
        axes[1].scatter(throttled, [0] * len(throttled), color="r", marker="x", label="throttled")
        legend(axes[1])
    series(axes[2], "cpu_mhz", "CPU MHz (mean)")
    series(axes[2], "gpu_mhz", "GPU MHz")
    axes[2].set_ylabel("clock (MHz)")
    legend(axes[2])
    if not series(axes[3], "power_w", "power (W)"):
        axes[3].text(0.5, 0.5, "power: n/a (no power monitor)", transform=axes[3].transAxes, ha="center")
    axes[3].set_ylabel("power (W)")
    axes[3].set_xlabel("time (s)")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    save(fig, out, "timeline.png")


def plot_roofline(runs, out):
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(runs)), 4.5))
    labels = ["%s\n%s" % (r["scenario"], backend_of(r)) for r in runs]
    bw = [r.get("bandwidth_gbs") or 0 for r in runs]
    ax.bar(range(len(runs)), bw, label="achieved (weights x tokens/s)")
    peaks = [r["bandwidth_gbs"] * 100 / r["roofline_pct"] for r in runs if r.get("roofline_pct")]
    if peaks:
        peak = max(peaks)
        ax.axhline(peak, color="r", ls="--", label="measured peak %.1f GB/s" % peak)
        for i, r in enumerate(runs):
            if r.get("roofline_pct"):
                ax.text(i, bw[i], "%.0f%%" % r["roofline_pct"], ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(runs)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("GB/s")
    legend(ax)
    save(fig, out, "roofline.png")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("--out", default="plots")
    args = ap.parse_args()
    with open(args.json) as f:
        result = json.load(f)
    runs = [r for r in result.get("runs", []) if r.get("n_ok", 1) > 0]
    if not runs:
        sys.exit("bench_plots.py: %s has no successful runs" % args.json)
    os.makedirs(args.out, exist_ok=True)
    plot_vs_size(runs, args.out, "ttft_ms", "p50", "TTFT p50 (ms)", "ttft_vs_size.png")
    plot_vs_size(runs, args.out, "gen_tps", "mean", "generation tokens/s", "gen_tps_vs_size.png")
    plot_backend_bars(runs, args.out)
    plot_memory_vs_speed(runs, args.out)
    plot_itl(runs, args.out)
    plot_heatmap(runs, args.out)
    plot_timeline(result, runs, args.out)
    plot_roofline(runs, args.out)


if __name__ == "__main__":
    main()
