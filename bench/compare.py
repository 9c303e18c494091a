#!/usr/bin/env python3
"""Side-by-side table of our benchmark CSV and one or more peers' (stdlib only).

Each CSV has lines `workload,seconds,gflops` (gflops may be empty); an optional
header line (first field "workload") and blank / '#' lines are ignored.

Usage:
    python3 bench/compare.py ours.csv peer.csv --peer-name neural-tangents
    python3 bench/compare.py ours.csv --peer numpy=out/bench/numpy.csv \
        --peer torch=out/bench/torch.csv --peer jax=out/bench/jax.csv [--rate "steps/s"]

The first form prints ours, the peer, ours/peer and our GFLOP/s (unchanged). The
second (used whenever --peer or --rate is given; a positional peer then joins as
the first peer, named by --peer-name) prints, per workload, our seconds, each
peer's seconds, "speedup vs X" = X seconds / our seconds (> 1: ours is faster),
with --rate also 1/seconds columns labelled with the rate name, and our GFLOP/s
if our CSV has any.
"""
import argparse
import csv
import math
import sys


def read_csv(path):
    """Return {workload: (seconds or None, gflops or None)} in file order."""
    out = {}
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
                continue
            name = row[0].strip()
            if name.lower() == "workload":
                continue
            out[name] = (_num(row[1] if len(row) > 1 else ""),
                         _num(row[2] if len(row) > 2 else ""))
    return out


def _num(s):
    s = s.strip()
    if not s or s == "-":
        return None
    try:
        return float(s)
    except ValueError:
        return None


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def sig(x, digits=4):
    """Fixed-point with `digits` significant digits (no exponent): 0.001235, 812.3, 12345."""
    if x is None:
        return "-"
    if x == 0 or not math.isfinite(x):
        return format(x, "g")
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return format(x, f".{decimals}f")


def print_table(headers, rows):
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(len(headers))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def parse_peer(spec):
    name, sep, path = spec.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {spec!r}")
    return name.strip(), path.strip()


def compare_two(args):
    ours = read_csv(args.ours)
    peer = read_csv(args.peer)
    names = list(ours) + [n for n in peer if n not in ours]

    headers = ["workload", f"{args.ours_name} (s)", f"{args.peer_name} (s)",
               f"{args.ours_name}/{args.peer_name}", f"{args.ours_name} GFLOP/s"]
    rows = []
    for n in names:
        o_s, o_g = ours.get(n, (None, None))
        p_s, _ = peer.get(n, (None, None))
        ratio = o_s / p_s if (o_s is not None and p_s) else None
        rows.append([n, fmt(o_s, ".4f"), fmt(p_s, ".4f"), fmt(ratio, ".2f"), fmt(o_g, ".1f")])
    print_table(headers, rows)
    return 0


def compare_many(args, peers):
    ours = read_csv(args.ours)
    tables = [(name, read_csv(path)) for name, path in peers]
    names = list(ours)
    for _, t in tables:
        names += [n for n in t if n not in names]
    show_gflops = any(g is not None for _, g in ours.values())
    o = args.ours_name

    headers = ["workload", f"{o} (s)"] + [f"{p} (s)" for p, _ in tables]
    if args.rate:
        headers += [f"{o} {args.rate}"] + [f"{p} {args.rate}" for p, _ in tables]
    headers += [f"speedup vs {p}" for p, _ in tables]
    if show_gflops:
        headers.append(f"{o} GFLOP/s")

    inv = lambda x: 1.0 / x if x else None
    rows = []
    for n in names:
        o_s, o_g = ours.get(n, (None, None))
        p_s = [t.get(n, (None, None))[0] for _, t in tables]
        row = [n, sig(o_s)] + [sig(x) for x in p_s]
        if args.rate:
            row += [sig(inv(o_s))] + [sig(inv(x)) for x in p_s]
        row += [fmt(x / o_s if (x is not None and o_s) else None, ".2f") for x in p_s]
        if show_gflops:
            row.append(fmt(o_g, ".1f"))
        rows.append(row)
    print_table(headers, rows)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="Compare workload,seconds,gflops CSV files: ours and one or more peers.")
    ap.add_argument("ours")
    ap.add_argument("peer", nargs="?", help="a single peer CSV (named by --peer-name)")
    ap.add_argument("--peer-name", default="peer")
    ap.add_argument("--ours-name", default="ours")
    ap.add_argument("--peer", dest="peers", metavar="NAME=CSV", action="append", type=parse_peer, default=[],
                    help="a peer CSV with its name; repeat for several peers")
    ap.add_argument("--rate", metavar="LABEL",
                    help='also show 1/seconds columns labelled LABEL (e.g. "steps/s")')
    args = ap.parse_args(argv)

    if not args.peers and args.rate is None:
        if args.peer is None:
            ap.error("give a peer CSV, or one or more --peer NAME=CSV")
        return compare_two(args)
    peers = ([(args.peer_name, args.peer)] if args.peer is not None else []) + args.peers
    if not peers:
        ap.error("--rate needs at least one peer (--peer NAME=CSV)")
    return compare_many(args, peers)


if __name__ == "__main__":
    sys.exit(main())
