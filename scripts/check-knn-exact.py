"""Reference check for `mammals knn --index flat` (run by scripts/check-knn-exact.ts).

Usage: /usr/bin/python3 scripts/check-knn-exact.py BASE.fvecs QUERIES.fvecs OURS.ivecs K

Inputs must hold small non-negative integers (Fashion-MNIST pixels 0..255), so squared distances
are integers and ties are real. The reference is faiss IndexFlatL2 (python3-faiss; a reference
only, never a Mammals dependency). It works in float32 with |x|^2 + |y|^2 - 2 x.y, whose terms
reach 5e7 > 2^24 here, so its distances are rounded and it may misorder near-ties; so it is used
for candidates and the judge is exact integer arithmetic:
  1. faiss returns C = 100 candidates per query; their exact squared distances are computed in
     int64 and sorted;
  2. the candidates provably hold the true k+1 nearest when the C-th faiss distance minus a
     rounding-error bound E exceeds the exact (k+1)-th distance: every other row then has an exact
     distance >= faiss(row) - E >= faiss(C-th) - E > d(k+1). E = 2 g (|q|^2 + max |b|^2), with
     g = (n+2)u / (1 - (n+2)u), u = 2^-24, bounds the error of float32 dot products and norms
     in any summation order. Queries that fail this get an exact brute-force scan instead.
A query passes when its ids are distinct base rows whose exact distances, in the order given, equal
the true k smallest distances: ids may differ from another exact answer only among equal distances.
Prints one JSON object on the last line.
"""

import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # a shared 2-core machine: stay on one core
os.environ.setdefault("OMP_NUM_THREADS", "1")

import faiss  # noqa: E402
import numpy as np  # noqa: E402


CANDIDATES = 100


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype="<i4")
    dim = int(raw[0])
    rows = raw.reshape(-1, dim + 1)
    if not (rows[:, 0] == dim).all():
        sys.exit(f"{path}: records of different dimensions")
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


def check(ids, exact, true_sorted, nb):
    """Per query: distinct valid ids whose exact distances equal the true sorted k distances."""
    k = ids.shape[1]
    valid = ((ids >= 0) & (ids < nb)).all(axis=1)
    distinct = np.array([len(set(r)) == k for r in ids])
    same = (exact == true_sorted).all(axis=1)
    return valid & distinct & same


def main():
    base_path, query_path, ours_path, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    xb = read_vecs(base_path, "<f4")
    xq = read_vecs(query_path, "<f4")
    ours = read_vecs(ours_path, "<i4")
    nb, nq = xb.shape[0], xq.shape[0]
    if ours.shape != (nq, k):
        sys.exit(f"{ours_path}: shape {ours.shape}, expected ({nq}, {k})")
    for name, x in (("base", xb), ("queries", xq)):
        if not (np.array_equal(x, np.round(x)) and x.min() >= 0 and x.max() <= 255):
            sys.exit(f"{name}: values must be integers in 0..255 for the exact reference")

    # Above this many queries faiss switches to sgemm; Debian's numpy/faiss may sit on the slow
    # reference BLAS, so keep faiss on its SIMD direct-distance path (the bound E covers both).
    faiss.cvar.distance_compute_blas_threshold = 1 << 30
    t0 = time.perf_counter()
    index = faiss.IndexFlatL2(xb.shape[1])
    index.add(xb)
    cand_d, cand = index.search(xq, CANDIDATES)
    faiss_s = time.perf_counter() - t0
    faiss_ids = cand[:, :k]

    t0 = time.perf_counter()
    xb_i = xb.astype(np.int64)
    xq_i = xq.astype(np.int64)
    dim = xb.shape[1]
    u = 2.0**-24
    g = (dim + 2) * u / (1 - (dim + 2) * u)
    max_b2 = float((xb_i * xb_i).sum(axis=1).max())
    true_sorted = np.empty((nq, k + 1), dtype=np.int64)
    brute_forced = 0
    for i in range(nq):
        q = xq_i[i]
        exact = ((xb_i[cand[i]] - q) ** 2).sum(axis=1)
        top = np.sort(exact)[: k + 1]
        bound = 2 * g * (float(q @ q) + max_b2)
        if not cand_d[i, -1] - bound > top[k]:
            brute_forced += 1
            top = np.sort(((xb_i - q) ** 2).sum(axis=1))[: k + 1]
        true_sorted[i] = top

    def exact_of(ids):
        safe = np.clip(ids, 0, nb - 1)
        return np.stack([((xb_i[safe[i]] - xq_i[i]) ** 2).sum(axis=1) for i in range(nq)])

    ours_exact = exact_of(ours)
    faiss_exact = exact_of(faiss_ids)
    ties_at_k = int((true_sorted[:, k - 1] == true_sorted[:, k]).sum())
    true_sorted = true_sorted[:, :k]
    exact_s = time.perf_counter() - t0

    ours_ok = check(ours, ours_exact, true_sorted, nb)
    faiss_ok = check(faiss_ids, faiss_exact, true_sorted, nb)
    agree = (np.sort(ours_exact, axis=1) == np.sort(faiss_exact, axis=1)).all(axis=1)
    result = {
        "queries": nq,
        "k": k,
        "oursExactFraction": float(ours_ok.mean()),
        "oursFailures": [int(i) for i in np.nonzero(~ours_ok)[0][:20]],
        "oursSameIdsAsFaiss": float((ours == faiss_ids).all(axis=1).mean()),
        "oursSameDistancesAsFaiss": float(agree.mean()),
        "faissExactFraction": float(faiss_ok.mean()),
        "queriesWithTieAtK": ties_at_k,
        "candidatesNotCertified": brute_forced,
        "faissSeconds": round(faiss_s, 2),
        "exactSeconds": round(exact_s, 2),
        "faissVersion": faiss.__version__,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
