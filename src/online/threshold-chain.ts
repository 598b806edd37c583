/**
 * The gain of one request type in an inference delivery network, as a weighted threshold
 * potential over a "chain" of candidates (docs/idn.md).
 *
 * A chain lists the candidates (node, model) of one request type sorted by unit serving cost
 * gamma_1 <= ... <= gamma_n, every one cheaper than the repository's gamma_K, which has unbounded
 * capacity. Candidate k offers capacity c_k = l_k * y_k (l_k its potential available capacity, y_k
 * its allocation in [0, 1]). Demand r fills the cheapest first:
 *   z_k = min(c_k, r - sum_{k'<k} z_k'),   the rest goes to the repository.
 * The gain against serving everything at the repository is
 *   G = sum_k (gamma_K - gamma_k) z_k = sum_k (gamma_{k+1} - gamma_k) min(r, sum_{k'<=k} c_k')   [D]
 * (telescoping, with gamma_{n+1} = gamma_K). On integral y this is exactly the cost saved by the
 * serving rule; on fractional y it is the concave relaxation L(y) (a sum of c * min(b, w.y)).
 * A supergradient with respect to y_k is
 *   l_k * max(0, gamma_{K*} - gamma_k),   K* = first k with sum_{k'<=k} c_k' >= r (else the repository)
 * [D; the third-party WFUing/idn infida.py computes the same expression as "formula (18)"].
 * The functions read a slice [from, to) of flat arrays, so a network stores every chain in one
 * CSR layout and calls them per request type.
 */

/** G (or L on fractional capacities): the cost saved by the chain's candidates for demand r. */
export function chainGain(
  gamma: ArrayLike<number>,
  capacity: ArrayLike<number>,
  from: number,
  to: number,
  demand: number,
  repositoryCost: number,
): number {
  let left = demand;
  let gain = 0;
  for (let k = from; k < to && left > 0; k++) {
    const c = capacity[k];
    if (c <= 0) continue;
    const z = Math.min(c, left);
    gain += (repositoryCost - gamma[k]) * z;
    left -= z;
  }
  return gain;
}

/**
 * gamma_{K*}: the unit cost of the candidate at which cumulative capacity first covers the demand
 * (the repository's cost when the chain never does). This is the one number the control message
 * of a path returns to the nodes on it.
 */
export function chainThreshold(
  gamma: ArrayLike<number>,
  capacity: ArrayLike<number>,
  from: number,
  to: number,
  demand: number,
  repositoryCost: number,
): number {
  let covered = 0;
  for (let k = from; k < to; k++) {
    covered += capacity[k];
    if (covered >= demand) return gamma[k];
  }
  return repositoryCost;
}

/**
 * The telescoping form of G, term by term (the definition, used by tests as a reference for
 * {@link chainGain}).
 */
export function chainGainTelescoped(
  gamma: ArrayLike<number>,
  capacity: ArrayLike<number>,
  from: number,
  to: number,
  demand: number,
  repositoryCost: number,
): number {
  let cumulative = 0;
  let gain = 0;
  for (let k = from; k < to; k++) {
    cumulative += capacity[k];
    const next = k + 1 < to ? gamma[k + 1] : repositoryCost;
    gain += (next - gamma[k]) * Math.min(demand, cumulative);
  }
  return gain;
}
