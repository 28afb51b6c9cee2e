"""Vectorized float32 numpy reference of the searchlight core (issue 5's comparison point).

Same job as analysis/bench/searchlight.bench.ts: correlation-distance RDM of every sphere
(radius 3 voxels, truncated at the mask, centres with >= half of their sphere in the mask), ranked
once, Spearman against 11 layers x (standard + residual) = 22 models. Used for side-by-side
timings on one machine and, with --check, as an independent implementation of the numbers:

    python3 searchlight_numpy.py                     # timing on synthetic data
    python3 searchlight_numpy.py --check in.json out.json   # r maps for given inputs

Only numpy and scipy are needed.
"""
import sys
import time

import numpy as np
from scipy.stats import rankdata


def sphere_offsets(radius):
    r = int(np.floor(radius + 1e-9))
    g = np.arange(-r, r + 1)
    di, dj, dk = np.meshgrid(g, g, g, indexing="ij")
    keep = di**2 + dj**2 + dk**2 <= radius * radius * (1 + 1e-9)
    return np.stack([di[keep], dj[keep], dk[keep]], axis=1)


def model_vectors(layer_rdms):
    """Ranked (average ties), residualized (OLS with intercept on the other layers' ranks), centred, unit norm."""
    ranks = np.stack([rankdata(r) for r in layer_rdms])
    out = []
    for method in ("standard", "residual"):
        for l in range(len(ranks)):
            y = ranks[l]
            if method == "residual":
                X = np.column_stack([np.ones(len(y))] + [ranks[k] for k in range(len(ranks)) if k != l])
                beta, *_ = np.linalg.lstsq(X, y, rcond=None)
                y = y - X @ beta
            y = y - y.mean()
            out.append(y / np.linalg.norm(y))
    return np.stack(out)


def searchlight(mask, betas_avg, layer_rdms, radius=3.0, min_fraction=0.5, chunk=4096):
    """mask: bool (nx, ny, nz), x fastest in the flat index (Fortran order); betas_avg: (K, nmask) run averages."""
    K = betas_avg.shape[0]
    off = sphere_offsets(radius)
    r = int(np.abs(off).max())
    dims = np.array(mask.shape)
    padded = np.zeros(dims + 2 * r, dtype=bool)
    padded[r:-r, r:-r, r:-r] = mask
    pdims = padded.shape
    lin = lambda ijk: ijk[..., 0] + pdims[0] * (ijk[..., 1] + pdims[1] * ijk[..., 2])
    mask_ijk = np.argwhere(mask.transpose(2, 1, 0))[:, ::-1]  # ascending Fortran-order index
    data = np.zeros((padded.size, K), dtype=np.float32)
    flat_mask = lin(mask_ijk + r)
    data[flat_mask] = betas_avg.T
    inmask = padded.ravel(order="F")
    nb = flat_mask[:, None] + lin(off)[None, :]
    members = inmask[nb]
    count = members.sum(1)
    centres = np.nonzero(count >= min_fraction * len(off))[0]
    U = model_vectors(layer_rdms).astype(np.float32)
    iu, ju = np.triu_indices(K, 1)
    out = np.full((len(U), len(centres)), np.nan, dtype=np.float32)
    for s in range(0, len(centres), chunk):
        c = centres[s : s + chunk]
        m = members[c].astype(np.float32)[:, :, None]
        X = data[nb[c]] * m  # (C, 123, K)
        p = m.sum(1)
        Xc = (X - X.sum(1, keepdims=True) / p[:, None, :]) * m
        G = np.matmul(Xc.transpose(0, 2, 1), Xc)  # (C, K, K)
        d = np.diagonal(G, axis1=1, axis2=2)
        rdm = 1 - G[:, iu, ju] / np.sqrt(d[:, iu] * d[:, ju])
        ranks = rankdata(rdm, axis=1).astype(np.float32)
        ranks -= ranks.mean(1, keepdims=True)
        ranks /= np.linalg.norm(ranks, axis=1, keepdims=True)
        out[:, s : s + len(c)] = U @ ranks.T
    return centres, out


def main():
    if "--check" in sys.argv:
        import json

        i = sys.argv.index("--check")
        with open(sys.argv[i + 1]) as f:
            z = json.load(f)
        dims = tuple(z["dims"])
        mask = np.array(z["mask"], dtype=bool).reshape(dims, order="F")
        K, R = z["nImages"], z["nRuns"]
        betas = np.array(z["betas"], dtype=np.float32).reshape(R, K, -1).mean(0)
        centres, out = searchlight(mask, betas, [np.array(r) for r in z["layerRdms"]], radius=z["radius"])
        with open(sys.argv[i + 2], "w") as f:
            json.dump({"centres": centres.tolist(), "r": [[round(float(v), 6) for v in row] for row in out]}, f)
        return
    rng = np.random.default_rng(1)
    dims = (91, 109, 91)
    i, j, k = np.meshgrid(*[np.arange(n) for n in dims], indexing="ij")
    mask = ((i - 45) / 31.6) ** 2 + ((j - 54) / 38.3) ** 2 + ((k - 45) / 29.7) ** 2 <= 1
    K, R = 16, 8
    betas = rng.standard_normal((R, K, int(mask.sum())), dtype=np.float32)
    shared = rng.random(K * (K - 1) // 2)
    layers = [shared + rng.random(len(shared)) for _ in range(11)]
    times = []
    for _ in range(3):
        t = time.perf_counter()
        avg = betas.mean(0)
        centres, out = searchlight(mask, avg, layers)
        times.append(time.perf_counter() - t)
    print(f"numpy searchlight core: {int(mask.sum())} mask voxels, {len(centres)} centres, 22 models: runs {', '.join(f'{x:.2f}' for x in times)} s")


if __name__ == "__main__":
    main()
