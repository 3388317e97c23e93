"""Kernel ridge regression on count fingerprints: a second learner for bench/accuracy.py.

The min-max kernel (Tanimoto generalized to counts) is sum(min(a, b)) / sum(max(a, b)). Writing
each count c as c ones ("count >= 1", "count >= 2", ...) turns sum(min(a, b)) into a dot product,
so the kernel is one sparse matrix product. The ridge penalty is chosen by an inner k-fold
cross-validation on the training molecules only, so held-out molecules never steer it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse

PENALTIES = (0.01, 0.03, 0.1, 0.3)
MAX_TRAINING_MOLECULES = 25_000  # the n x n kernel in float64: 5 GB at this size


def unary_counts(counts: np.ndarray, top: int) -> scipy.sparse.csr_matrix:
    """Binary columns "count >= k" for k = 1..top: their dot products are sums of minima."""
    levels = [scipy.sparse.csr_matrix(counts >= level) for level in range(1, top + 1)]
    return scipy.sparse.hstack(levels, format="csr", dtype=np.float64)


def minmax_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum(min) / sum(max) between every row of a and every row of b (non-negative counts)."""
    top = int(max(a.max(), b.max()))
    shared = (unary_counts(a, top) @ unary_counts(b, top).T).toarray()
    totals = a.sum(axis=1, dtype=np.float64)[:, None] + b.sum(axis=1, dtype=np.float64)[None, :]
    return shared / np.maximum(totals - shared, 1e-12)


def ridge_weights(kernel: np.ndarray, targets: np.ndarray, penalty: float) -> np.ndarray:
    factor = scipy.linalg.cho_factor(kernel + penalty * np.eye(len(kernel)))
    return scipy.linalg.cho_solve(factor, targets)


@dataclass
class KernelRidge:
    """A fitted model: training fingerprints, dual weights and the label scaling."""

    training: np.ndarray
    weights: np.ndarray
    mean: float
    scale: float
    penalty: float

    def predict(self, counts: np.ndarray) -> np.ndarray:
        return minmax_kernel(counts, self.training) @ self.weights * self.scale + self.mean


def inner_fold_mae(kernel: np.ndarray, targets: np.ndarray, folds: np.ndarray, penalty: float):
    errors = []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        weights = ridge_weights(kernel[np.ix_(train, train)], targets[train], penalty)
        errors.append(np.abs(kernel[np.ix_(test, train)] @ weights - targets[test]))
    return float(np.mean(np.concatenate(errors)))


def fit_kernel_ridge(counts: np.ndarray, labels: np.ndarray, seed: int,
                     inner_folds: int = 3) -> KernelRidge:  # fmt: skip
    """Fit on standardized labels, with the penalty that scores best in inner cross-validation."""
    if len(counts) > MAX_TRAINING_MOLECULES:
        gigabytes = len(counts) ** 2 * 8 / 1e9
        raise ValueError(
            f"kernel recipe: {len(counts):,} training molecules need a {gigabytes:.0f} GB kernel "
            f"(limit {MAX_TRAINING_MOLECULES:,}); use --subsample"
        )
    mean, scale = float(labels.mean()), float(labels.std())
    targets = (labels - mean) / scale
    kernel = minmax_kernel(counts, counts)
    folds = np.random.default_rng(seed).permutation(len(counts)) % inner_folds
    penalty = min(PENALTIES, key=lambda p: inner_fold_mae(kernel, targets, folds, p))
    weights = ridge_weights(kernel, targets, penalty)
    return KernelRidge(counts, weights, mean, scale, penalty)
