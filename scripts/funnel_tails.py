#!/usr/bin/python3
"""Where funnel10's importance weights lose mass: the scale coordinate v = x[0] ~ N(0, 9) in bins
of width 1.5, with each bin's exact mass, its unweighted share of the samples, and its absolute
weighted mass (1/N) Σ w_i over the bin, which estimates the exact mass when Z = 1 (funnel10's
exact log Z is 0). A ratio below 1 in a bin means the proposal misses that part of the target.
usage: /usr/bin/python3 scripts/funnel_tails.py SAMPLES.npy LOGW.npy   (needs numpy)"""
import sys
from math import erf, sqrt

import numpy as np

x, lw = np.load(sys.argv[1]), np.load(sys.argv[2]).astype(float)
v = x.reshape(len(lw), -1)[:, 0]
top = lw[np.isfinite(lw)].max()
w = np.where(np.isfinite(lw), np.exp(lw - top), 0.0)
print(f"N {len(lw)}  log Z {np.log(w.mean()) + top:+.4f}  ESS {w.sum() ** 2 / (w ** 2).sum():.0f}")
cdf = lambda z: 0.5 * (1 + erf(z / (3 * sqrt(2))))
edges = [-np.inf, -9, -7.5, -6, -4.5, -3, -1.5, 0, 1.5, 3, 4.5, 6, 7.5, 9, np.inf]
print("| v | exact | unweighted | weighted (absolute) | weighted / exact |")
print("|---|---|---|---|---|")
for a, b in zip(edges[:-1], edges[1:]):
    m = (v >= a) & (v < b)
    ex = cdf(b) - cdf(a)
    est = np.exp(top) * w[m].sum() / len(w)
    print(f"| [{a:g}, {b:g}) | {ex:.4f} | {m.mean():.4f} | {est:.4f} | {est / ex:.2f} |")
