#!/usr/bin/env python3
"""Side-by-side table of two benchmark CSVs (stdlib only).

Each CSV has lines `workload,seconds,gflops` (gflops may be empty); an optional
header line (first field "workload") and blank / '#' lines are ignored.

Usage:
    python3 bench/compare.py ours.csv peer.csv --peer-name neural-tangents
"""
import argparse
import csv
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


def main(argv=None):
    ap = argparse.ArgumentParser(description="Compare two workload,seconds,gflops CSV files.")
    ap.add_argument("ours")
    ap.add_argument("peer")
    ap.add_argument("--peer-name", default="peer")
    ap.add_argument("--ours-name", default="ours")
    args = ap.parse_args(argv)

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

    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(len(headers))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
