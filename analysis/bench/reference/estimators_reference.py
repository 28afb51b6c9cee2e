"""Reference numbers for the GLM and crossnobis estimators, from nilearn's and rsatoolbox's own code.

Writes analysis/src/glm/fixtures/estimators-reference.json (see the README there). The functions
below are copied from the upstream sources (numpy/scipy only, so neither package is needed):

- nilearn @ 59fffa24b817 (2026-08): glm/first_level/first_level.py `_yule_walker` and the AR(1)
  branch of `run_glm` (binning), glm/regression.py `OLSModel`/`ARModel` (pinv fit, whitening,
  whitened residuals, dispersion), image/image.py `smooth_array`; nilearn 0.7.1's lag ratio.
- rsatoolbox @ f1f83cadb724 (2026-07): data/noise.py `_check_demean`, `_variance`,
  `_covariance_eye`, `_covariance_diag`, `prec_from_residuals`; rdm/calc.py `calc_rdm_crossnobis`
  (both the single-precision and the list-of-precisions branch) and `_calc_rdm_crossnobis_single`.

Run: python3 analysis/bench/reference/estimators_reference.py <out.json>
"""

import json
import sys

import numpy as np
from scipy.linalg import toeplitz
from scipy.ndimage import gaussian_filter1d


# ---------------------------------------------------------------- nilearn (current)
def _yule_walker(x, order):
    denom = x.shape[-1] - np.arange(order + 1)
    n = np.prod(np.array(x.shape[:-1], int))
    r = np.zeros((n, order + 1), np.float64)
    y = x - x.mean()
    y = y.reshape(n, x.shape[-1])
    r[:, 0] += (y[:, np.newaxis, :] @ y[:, :, np.newaxis])[:, 0, 0]
    for k in range(1, order + 1):
        r[:, k] += (y[:, np.newaxis, 0:-k] @ y[:, k:, np.newaxis])[:, 0, 0]
    r /= denom * x.shape[-1]
    rt = np.array([toeplitz(rr[:-1]) for rr in r], np.float64)
    rho = np.linalg.solve(rt, r[:, 1:, None])[..., 0]
    return rho.reshape((*x.shape[:-1], order))


def ar_whiten(X, rho):
    X = np.asarray(X, np.float64)
    whitened_X = X.copy()
    whitened_X[1:] = whitened_X[1:] - rho * X[:-1]
    return whitened_X


def run_glm_ar1(Y, X, estimator, bins=100):
    """Betas, dispersion, rho and whitened residuals per voxel (columns of Y)."""
    beta_ols = np.linalg.pinv(X) @ Y
    resid = Y - X @ beta_ols
    if estimator == "yule-walker":
        ar_coef = _yule_walker(resid.T, 1)[:, 0]
    else:  # nilearn 0.7.1
        ar_coef = (resid[1:] * resid[:-1]).sum(axis=0) / (resid**2).sum(axis=0)
    for idx in range(len(ar_coef)):
        ar_coef[idx] = (ar_coef[idx] * bins).astype(int) * 1.0 / bins
    T, K = X.shape
    betas = np.zeros((K, Y.shape[1]))
    disp = np.zeros(Y.shape[1])
    wres = np.zeros_like(Y)
    for v in range(Y.shape[1]):
        wX = ar_whiten(X, ar_coef[v])
        wY = ar_whiten(Y[:, v], ar_coef[v])
        b = np.linalg.pinv(wX) @ wY
        e = wY - wX @ b
        betas[:, v] = b
        disp[v] = np.sum(e**2) / (T - np.linalg.matrix_rank(X))
        wres[:, v] = e
    return ar_coef, betas, disp, wres


def smooth_array(arr, affine, fwhm):
    arr = arr.copy()
    arr[~np.isfinite(arr)] = 0  # ensure_finite_data
    fwhm = np.asarray([fwhm]).ravel()
    affine = affine[:3, :3]
    fwhm_over_sigma_ratio = np.sqrt(8 * np.log(2))
    vox_size = np.sqrt(np.sum(affine**2, axis=0))
    sigma = fwhm / (fwhm_over_sigma_ratio * vox_size)
    for n, s in enumerate(sigma):
        if s > 0.0:
            gaussian_filter1d(arr, s, output=arr, axis=n)
    return arr


# ---------------------------------------------------------------- rsatoolbox
def _check_demean(matrix):
    matrix = matrix - np.mean(matrix, axis=0, keepdims=True)
    dof = matrix.shape[0] - 1
    return matrix, dof


def _variance(matrix, dof):
    return np.diag(np.einsum("ij, ij-> j", matrix, matrix) / dof)


def _covariance_eye(matrix, dof):
    s_sum = np.zeros((matrix.shape[1], matrix.shape[1]))
    s2_sum = np.zeros((matrix.shape[1], matrix.shape[1]))
    for m_line in matrix:
        xt_x = np.outer(m_line, m_line)
        s_sum += xt_x
        s2_sum += xt_x**2
    s = s_sum / matrix.shape[0]
    b2 = np.sum(s2_sum / matrix.shape[0] - s * s) / matrix.shape[0]
    m = np.sum(np.diag(s)) / s.shape[0]
    d2 = np.sum((s - m * np.eye(s.shape[0])) ** 2)
    b2 = min(d2, b2)
    s_shrink = b2 / d2 * m * np.eye(s.shape[0]) + (d2 - b2) / d2 * s
    s_shrink = s_shrink * matrix.shape[0] / dof
    return s_shrink


def _covariance_diag(matrix, dof):
    s_sum = np.zeros((matrix.shape[1], matrix.shape[1]))
    s2_sum = np.zeros((matrix.shape[1], matrix.shape[1]))
    for m_line in matrix:
        xt_x = np.outer(m_line, m_line)
        s_sum += xt_x
        s2_sum += xt_x**2
    s = s_sum / dof
    var = np.diag(s)
    std = np.sqrt(var)
    s_mean = s_sum / np.expand_dims(std, 0) / np.expand_dims(std, 1) / (matrix.shape[0] - 1)
    s2_mean = s2_sum / np.expand_dims(var, 0) / np.expand_dims(var, 1) / (matrix.shape[0] - 1)
    var_hat = matrix.shape[0] / dof**2 * (s2_mean - s_mean**2)
    mask = ~np.eye(s.shape[0], dtype=bool)
    lamb = np.sum(var_hat[mask]) / np.sum(s_mean[mask] ** 2)
    lamb = max(min(lamb, 1), 0)
    scaling = np.eye(s.shape[0]) + (1 - lamb) * mask
    return s * scaling


def prec_from_residuals(residuals, dof=None, method="shrinkage_diag"):
    matrix, dof_nat = _check_demean(residuals)
    if dof is None:
        dof = dof_nat
    cov = {"shrinkage_eye": _covariance_eye, "shrinkage_diag": _covariance_diag, "diag": _variance}[method](
        matrix, dof
    )
    return np.linalg.inv(cov)


def _extract_triu_(rdm):
    return rdm[np.triu_indices(rdm.shape[0], 1)]


def _calc_rdm_crossnobis_single(meas1, meas2, noise):
    kernel = meas1 @ noise @ meas2.T
    rdm = np.expand_dims(np.diag(kernel), 0) + np.expand_dims(np.diag(kernel), 1) - kernel - kernel.T
    return _extract_triu_(rdm) / meas1.shape[1]


def calc_rdm_crossnobis(runs, noise=None):
    """runs: list of (K images x p voxels) arrays, one per cross-validation fold (run)."""
    if noise is None:
        noise = np.eye(runs[0].shape[1])
    rdms = []
    if isinstance(noise, np.ndarray) and noise.ndim == 2:
        for i_fold in range(len(runs)):
            train = np.mean([runs[j] for j in range(len(runs)) if j != i_fold], axis=0)
            rdms.append(_calc_rdm_crossnobis_single(train, runs[i_fold], noise))
    else:
        variances = [np.linalg.inv(n) for n in noise]
        for i_fold in range(len(runs)):
            for j_fold in range(i_fold + 1, len(runs)):
                rdms.append(
                    _calc_rdm_crossnobis_single(
                        runs[i_fold], runs[j_fold], np.linalg.inv((variances[i_fold] + variances[j_fold]) / 2)
                    )
                )
    rdms = np.array(rdms)
    return np.einsum("ij->j", rdms) / rdms.shape[0]


# ---------------------------------------------------------------- inputs
def f32(a):
    return np.asarray(a, np.float32).astype(np.float64)


def glm_case(rng):
    T = 40
    t = np.arange(T)
    X = np.column_stack(
        [
            ((t % 20) < 5).astype(float),
            (((t + 10) % 20) < 5).astype(float),
            np.cos(np.pi * (t + 0.5) / T),
            np.ones(T),
        ]
    )
    X = f32(X)
    Y = np.zeros((T, 6))
    for v, rho in enumerate([0.0, 0.2, 0.35, 0.5, 0.7, -0.3]):
        e = np.zeros(T)
        z = rng.standard_normal(T)
        for k in range(T):
            e[k] = (rho * e[k - 1] if k else 0) + z[k]
        Y[:, v] = X @ np.array([1.5 - 0.3 * v, 0.4 * v, 0.8, 0.2]) + e
    Y = f32(Y)
    out = {"design": X.tolist(), "series": Y.T.tolist()}
    for est in ["yule-walker", "lag-ratio"]:
        rho, betas, disp, wres = run_glm_ar1(Y, X, est)
        out[est] = {
            "rho": rho.tolist(),
            "betas": betas.tolist(),
            "residualVariance": disp.tolist(),
            "whitenedResiduals": wres.T.tolist(),
        }
    return out


def smoothing_case(rng):
    dims = (7, 6, 5, 2)
    arr = f32(rng.standard_normal(dims) * 10 + 100)
    arr[3, 2, 1, 0] = np.nan
    affine = np.array([[2.0, 0, 0, -10], [0, 0, 3.0, 5], [0, -2.5, 0, 7], [0, 0, 0, 1]])  # axes 1 and 2 swapped
    out = smooth_array(arr, affine, 6.0)
    order = "F"  # NIfTI order: x fastest
    return {
        "dims": list(dims),
        "affine": affine.ravel().tolist(),
        "fwhmMm": 6.0,
        "input": [None if not np.isfinite(x) else float(x) for x in arr.ravel(order=order)],
        "smoothed": out.ravel(order=order).tolist(),
    }


def crossnobis_case(rng):
    R, K, p, T = 3, 4, 6, 15
    mixing = rng.standard_normal((p, p)) * 0.6 + np.eye(p)  # spatially correlated noise
    scales = np.array([0.5, 1.0, 2.0, 1.5, 0.8, 3.0])  # heteroscedastic voxels
    t = np.arange(T)
    Xr = np.column_stack([np.ones(T), np.cos(np.pi * (t + 0.5) / T), (t % 5 == 0).astype(float)])
    proj = np.eye(T) - Xr @ np.linalg.pinv(Xr)
    df_run = T - Xr.shape[1]
    signal = rng.standard_normal((K, p))
    runs, residuals, variances = [], [], []
    for r in range(R):
        noise = (rng.standard_normal((T, p)) @ mixing) * scales * (1 + 0.3 * r)
        e = f32(proj @ noise)
        residuals.append(e)
        variances.append(f32(np.sum(e**2, axis=0) / df_run))
        runs.append(f32(signal + rng.standard_normal((K, p)) * scales * 0.5))
    E = np.concatenate(residuals)
    dof = R * df_run
    expected = {
        "univariate": calc_rdm_crossnobis([b / np.sqrt(v) for b, v in zip(runs, variances)]),
        "pooled": calc_rdm_crossnobis(runs, prec_from_residuals(E, dof=dof, method="diag")),
        "pairwise": calc_rdm_crossnobis(runs, [np.diag(1 / v) for v in variances]),
        "multivariate": calc_rdm_crossnobis(runs, prec_from_residuals(E, dof=dof, method="shrinkage_diag")),
        "multivariate-eye": calc_rdm_crossnobis(runs, prec_from_residuals(E, dof=dof, method="shrinkage_eye")),
        "multivariate-default-dof": calc_rdm_crossnobis(runs, prec_from_residuals(E, method="shrinkage_diag")),
    }
    return {
        "nRuns": R,
        "nImages": K,
        "nVoxels": p,
        "betas": [b.tolist() for b in runs],  # [run][image][voxel]
        "residualVariance": [v.tolist() for v in variances],  # [run][voxel]
        "residuals": E.T.tolist(),  # [voxel][row], runs stacked
        "dof": dof,
        "rdms": {k: v.tolist() for k, v in expected.items()},
    }


if __name__ == "__main__":
    rng = np.random.default_rng(20261204)
    result = {
        "generator": "analysis/bench/reference/estimators_reference.py",
        "numpy": np.__version__,
        "glm": glm_case(rng),
        "smoothing": smoothing_case(rng),
        "crossnobis": crossnobis_case(rng),
    }
    with open(sys.argv[1], "w") as f:
        json.dump(result, f, separators=(",", ":"))
        f.write("\n")
