#!/usr/bin/env python3
"""Draws benches/soak.sh's samples as an SVG: resident memory (MiB) against
movements held, with the memory bound as a line, the peak so far (VmHWM,
when the samples have it) dotted, and bytes on disk per movement on a
second axis. Standard library only.

    benches/soak_plot.py SAMPLES.csv OUT.svg [--bound-mb 512] [--title TEXT]
"""
import argparse
import csv
import math

W, H = 880, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 70, 40, 50


def axis(v, ticks=5):
    """A round step (1, 2 or 5 times a power of ten) giving at most
    `ticks` steps up to `v`, and the axis top: a whole number of steps."""
    power = 10 ** math.floor(math.log10(v / ticks))
    step = next(power * m for m in (1, 2, 5, 10) if power * m * ticks >= v)
    return math.ceil(v / step) * step, step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    ap.add_argument("out")
    ap.add_argument("--bound-mb", type=float, default=512)
    ap.add_argument("--title", default="Site daemon under loadtest --saturate")
    a = ap.parse_args()
    rows, peaks = [], []
    with open(a.samples) as f:
        for r in csv.DictReader(f):
            try:
                rows.append((int(r["movements"]), int(r["rss_bytes"]) / 2**20,
                             int(r["store_bytes"])))
            except (ValueError, TypeError):
                continue  # a sample taken while the daemon was stopping
            try:
                peaks.append((rows[-1][0], int(r["peak_rss_bytes"]) / 2**20))
            except (KeyError, ValueError, TypeError):
                pass  # samples from before soak.sh recorded the peak
    if not rows:
        raise SystemExit(f"no samples in {a.samples}")
    max_m = max(m for m, _, _ in rows)
    max_mb, mb_step = axis(max([mb for _, mb, _ in rows] + [mb for _, mb in peaks]
                               + [a.bound_mb]) * 1.05)
    per = [(m, b / m) for m, _, b in rows if m > 0]
    max_per, per_step = axis(max(p for _, p in per) * 1.05) if per else (1, 1)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(m):
        return LEFT + pw * m / max_m

    def y(v, top):
        return TOP + ph * (1 - v / top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{a.title}</text>']
    for i in range(round(max_mb / mb_step) + 1):
        v = mb_step * i
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v, max_mb):.1f}" '
                   f'y2="{y(v, max_mb):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(v, max_mb) + 4:.1f}" '
                   f'text-anchor="end">{v:.0f}</text>')
    for i in range(round(max_per / per_step) + 1):
        p = per_step * i
        out.append(f'<text x="{W - RIGHT + 6}" y="{y(p, max_per) + 4:.1f}" '
                   f'fill="#b60">{p:.0f}</text>')
    for i in range(6):
        m = max_m * i / 5
        out.append(f'<text x="{x(m):.1f}" y="{H - BOTTOM + 18}" '
                   f'text-anchor="middle">{m / 1e6:.1f}M</text>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 10}" text-anchor="middle">'
               'movements in the store</text>')
    out.append(f'<text x="16" y="{TOP + ph / 2}" transform="rotate(-90 16 {TOP + ph / 2})" '
               'text-anchor="middle">resident memory (MiB)</text>')
    out.append(f'<text x="{W - 14}" y="{TOP + ph / 2}" fill="#b60" '
               f'transform="rotate(90 {W - 14} {TOP + ph / 2})" '
               'text-anchor="middle">bytes on disk per movement</text>')
    by = y(a.bound_mb, max_mb)
    out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{by:.1f}" y2="{by:.1f}" '
               'stroke="#c00" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{W - RIGHT - 4}" y="{by - 5:.1f}" text-anchor="end" '
               f'fill="#c00">memory_mb = {a.bound_mb:.0f}</text>')
    rss = " ".join(f"{x(m):.1f},{y(mb, max_mb):.1f}" for m, mb, _ in rows)
    out.append(f'<polyline points="{rss}" fill="none" stroke="#036" stroke-width="1.5"/>')
    if peaks:
        peak = " ".join(f"{x(m):.1f},{y(mb, max_mb):.1f}" for m, mb in peaks)
        out.append(f'<polyline points="{peak}" fill="none" stroke="#036" '
                   'stroke-width="1" stroke-dasharray="2 3"/>')
        out.append(f'<text x="{LEFT + 6}" y="{TOP + 16}" fill="#036">resident memory; '
                   'dotted: the peak so far</text>')
    disk = " ".join(f"{x(m):.1f},{y(p, max_per):.1f}" for m, p in per)
    out.append(f'<polyline points="{disk}" fill="none" stroke="#b60" stroke-width="1"/>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
    out.append("</svg>")
    with open(a.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
