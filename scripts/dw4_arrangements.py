#!/usr/bin/python3
"""DW-4 arrangement weights: the fraction of configurations with k pairs closer than r = 4.

    scripts/dw4_arrangements.py FILE.npy ...     fractions in sample files (N × 8)
    scripts/dw4_arrangements.py --exact [DRAWS]  exact weights by importance sampling of
                                                 exp(-E) from a Gaussian on the zero-CoM space
                                                 (default 4e7 draws, about a minute)
    scripts/dw4_arrangements.py --mixing FILE.npy CHAINS
                                                 how often a chain changes arrangement between
                                                 consecutive kept samples (adjoint mcmc orders
                                                 samples by round, then chain)
    scripts/dw4_arrangements.py --match LIKE.npy IN.npy OUT.npy [N]
                                                 draw N (2000) of IN without replacement so that
                                                 their arrangement weights are those of LIKE
See docs/validation.md.
"""
import sys

import numpy as np

IU = np.triu_indices(4, 1)


def pair_r(x):
    x = x.reshape(-1, 4, 2)
    x = x - x.mean(1, keepdims=True)
    d = x[:, :, None, :] - x[:, None, :, :]
    return np.sqrt((d ** 2).sum(-1) + 1e-8)[:, IU[0], IU[1]]


def energy(r):
    s = r - 4
    return (0.9 * s ** 4 - 4 * s ** 2).sum(1)


def fractions(path):
    r = pair_r(np.load(path).astype(np.float64))
    k = (r < 4).sum(1)
    return np.bincount(k, minlength=7) / len(k), energy(r).mean()


def exact(draws, chunk=1_000_000, sd=2.2, seed=1):
    rng = np.random.default_rng(seed)
    logw, cls = [], []
    for _ in range(max(draws // chunk, 1)):
        z = rng.normal(0, sd, size=(chunk, 4, 2))
        z -= z.mean(1, keepdims=True)  # Gaussian on the zero-CoM space, density ∝ exp(-|z|²/2sd²)
        r = pair_r(z)
        logw.append(-energy(r) + (z ** 2).sum((1, 2)) / (2 * sd ** 2))
        cls.append((r < 4).sum(1))
    nb = len(logw)
    top = max(l.max() for l in logw)
    w = [np.exp(l - top) for l in logw]
    per = np.array([[wb[cb == k].sum() for k in range(7)] for wb, cb in zip(w, cls)])
    tot = per.sum(0) / per.sum()
    batch = per / per.sum(1, keepdims=True)
    wall = np.concatenate(w)
    ess = wall.sum() ** 2 / (wall ** 2).sum()
    return tot, batch.std(0) / np.sqrt(nb), ess


def main(args):
    if not args:
        print(__doc__)
        return 2
    if args[0] == "--mixing":
        chains = int(args[2])
        k = (pair_r(np.load(args[1]).astype(np.float64)) < 4).sum(1).reshape(-1, chains)
        print("%s: %.3f of consecutive samples of a chain change arrangement (%d rounds × %d chains)"
              % (args[1], (k[1:] != k[:-1]).mean(), k.shape[0], chains))
        return 0
    if args[0] == "--match":
        like, src, out = args[1], args[2], args[3]
        n = int(args[4]) if len(args) > 4 else 2000
        x = np.load(src).astype(np.float64)
        cx = (pair_r(x) < 4).sum(1)
        cl = (pair_r(np.load(like).astype(np.float64)) < 4).sum(1)
        fx = np.bincount(cx, minlength=7) / len(cx)
        fl = np.bincount(cl, minlength=7) / len(cl)
        w = fl[cx] / fx[cx]
        idx = np.random.default_rng(0).choice(len(x), size=n, replace=False, p=w / w.sum())
        np.save(out, x[idx].astype(np.float32))
        got = np.bincount(cx[idx], minlength=7) / n
        print("wrote %s: fractions by short pairs 0..6: %s (target %s)" % (out, np.round(got, 3), np.round(fl, 3)))
        return 0
    if args[0] == "--exact":
        draws = int(float(args[1])) if len(args) > 1 else 40_000_000
        f, se, ess = exact(draws)
        print("importance sampling, %d draws (ESS %.0f)" % (draws, ess))
        print("  fractions by short pairs 0..6:", np.round(f, 4))
        print("  standard errors (batch means):", np.round(se, 4))
        return 0
    for p in args:
        f, e = fractions(p)
        print("%s: fractions by short pairs 0..6: %s  mean energy %.3f" % (p, np.round(f, 3), e))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
