#!/usr/bin/env python3
"""Where DW-4 samples are hot: split the gap in mean energy against a reference into the share of
configurations by their number of short pairs (distance < 4) and the energy within each class, and
give the pair distances' spread.

usage: /usr/bin/python3 scripts/dw4_heat.py REF.npy SAMPLES.npy [SAMPLES.npy ...]
(numpy from scripts/setup.sh; the energy is DW-4's, a=0, b=-4, c=0.9, d0=4, tau=1, summed over the
six pairs: its mean on lib/refdata/exact_DW4.npy is the -22.55 that adjoint eval reports)"""
import sys

import numpy as np


def pairs(path):
    x = np.load(path).reshape(-1, 4, 2).astype(np.float64)
    i, j = np.triu_indices(4, 1)
    return np.linalg.norm(x[:, i] - x[:, j], axis=-1)


def pair_energy(r):
    return -4 * (r - 4) ** 2 + 0.9 * (r - 4) ** 4


def classes(r):
    e = pair_energy(r).sum(1)
    k = (r < 4).sum(1)
    return {c: ((k == c).mean(), e[k == c].mean() if (k == c).any() else np.nan) for c in range(7)}, e


def spread(r):
    r = r.ravel()
    s, l = r[r < 4], r[r >= 4]
    return s.std(), l.std(), (abs(r - 4) < 0.5).mean()


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    rr = pairs(argv[0])
    ref, eref = classes(rr)
    print("| samples | n | mean energy | gap | from class shares | within classes | short pairs: sd | long pairs: sd | pairs within 0.5 of 4 | share with 3 short pairs |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ss, sl, sb = spread(rr)
    print(f"| {argv[0]} (reference) | {len(eref)} | {eref.mean():.3f} | – | – | – | {ss:.3f} | {sl:.3f} | {sb:.4f} | {ref[3][0]:.3f} |")
    for path in argv[1:]:
        r = pairs(path)
        t, e = classes(r)
        share = sum((t[c][0] - ref[c][0]) * ref[c][1] for c in range(7) if ref[c][0] > 0)
        within = sum(t[c][0] * (t[c][1] - ref[c][1]) for c in range(7) if t[c][0] > 0 and ref[c][0] > 0)
        ss, sl, sb = spread(r)
        print(f"| {path} | {len(e)} | {e.mean():.3f} | {e.mean() - eref.mean():.3f} | {share:.3f} | {within:.3f} | {ss:.3f} | {sl:.3f} | {sb:.4f} | {t[3][0]:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
