/**
 * Fitting the CPU profile to measured scanner CPU (the paper's Table 1). The modelled CPU % of
 * a lane is linear in the profile: sum over operations of (operations per second x ns each)
 * / 1e7. So the fit is a ridge least-squares problem solved exactly: minimise
 *   sum_i (model_i / target_i - 1)^2 + lambda^2 sum_j ((c_j - prior_j) / prior_j)^2
 * over the costs c, where the prior is the first-principles estimate of each constant.
 */
import type { CpuProfile, OpName } from '../machine/cost.ts'

export const OP_NAMES: OpName[] = ['page_visit', 'page_skip', 'checksum', 'tree_step', 'dup_step', 'page_compare', 'hash_lookup', 'merge', 'wakeup', 'hint_lookup']

export interface FitTarget {
  label: string
  /** Operations per simulated second in the lane. */
  opsPerSecond: Record<OpName, number>
  /** Measured CPU %, one core = 100. */
  cpuPercent: number
}

export interface FitResult {
  profile: CpuProfile
  rows: { label: string; target: number; model: number; ratio: number }[]
}

/** CPU % a profile gives for a lane's operation rates. */
export function modelCpuPercent(profile: CpuProfile, ops: Record<OpName, number>): number {
  let ns = 0
  for (const k of OP_NAMES) ns += ops[k] * profile[`${k}_ns`]
  return ns / 1e7
}

/**
 * Solve the ridge fit; costs never go below 1 % of their prior. The acceptance is a band
 * (every cell within +-25 %), so the target rows are reweighted towards the smallest
 * worst-case error rather than the smallest sum of squares.
 */
export function fitProfile(prior: CpuProfile, targets: FitTarget[], lambda: number | Partial<Record<OpName, number>> = FIT_LAMBDA): FitResult {
  // Lawson's algorithm: the weight of a row grows with its residual, so the weighted least
  // squares solutions converge to the minimax (Chebyshev) fit.
  let weights = targets.map(() => 1 / targets.length)
  let costs = solve(prior, targets, lambda, weights)
  let best = costs
  let bestWorst = Infinity
  for (let iter = 0; iter < LAWSON_ITERATIONS; iter++) {
    const res = targets.map((t) => Math.abs(modelCpuPercent(costs, t.opsPerSecond) / t.cpuPercent - 1))
    const worst = Math.max(...res)
    if (worst < bestWorst) {
      bestWorst = worst
      best = costs
    }
    const next = weights.map((w, i) => w * Math.max(1e-6, res[i]))
    const sum = next.reduce((a, b) => a + b, 0)
    weights = next.map((w) => w / sum)
    costs = solve(prior, targets, lambda, weights)
  }
  costs = best
  return {
    profile: costs,
    rows: targets.map((t) => {
      const model = modelCpuPercent(costs, t.opsPerSecond)
      return { label: t.label, target: t.cpuPercent, model, ratio: model / t.cpuPercent }
    })
  }
}

const LAWSON_ITERATIONS = 200

/**
 * How strongly each cost is held to its prior (relative units). A ksmd wake-up is a timer, a
 * context switch and lock round trips: microseconds whatever the fit would like, so it is
 * held tighter than the per-page costs.
 */
export const FIT_LAMBDA: Partial<Record<OpName, number>> = { wakeup: 1 }
const DEFAULT_LAMBDA = 0.1

function solve(prior: CpuProfile, targets: FitTarget[], lambdaSpec: number | Partial<Record<OpName, number>>, weights: number[]): CpuProfile {
  const lambdaOf = (k: OpName): number => (typeof lambdaSpec === 'number' ? lambdaSpec : (lambdaSpec[k] ?? DEFAULT_LAMBDA))
  const n = OP_NAMES.length
  const p = OP_NAMES.map((k) => prior[`${k}_ns`])
  const rows: number[][] = []
  const rhs: number[] = []
  targets.forEach((t, i) => {
    const w = Math.sqrt(weights[i] * targets.length)
    rows.push(OP_NAMES.map((k) => (w * t.opsPerSecond[k]) / (1e7 * t.cpuPercent)))
    rhs.push(w)
  })
  for (let j = 0; j < n; j++) {
    const r = new Array<number>(n).fill(0)
    const l = lambdaOf(OP_NAMES[j])
    r[j] = l / p[j]
    rows.push(r)
    rhs.push(l)
  }
  // Normal equations (A^T A) c = A^T b, solved by Gaussian elimination with partial pivoting.
  const M = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0))
  rows.forEach((r, i) => {
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) M[a][b] += r[a] * r[b]
      M[a][n] += r[a] * rhs[i]
    }
  })
  for (let col = 0; col < n; col++) {
    let piv = col
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r][col]) > Math.abs(M[piv][col])) piv = r
    ;[M[col], M[piv]] = [M[piv], M[col]]
    for (let r = 0; r < n; r++) {
      if (r === col) continue
      const f = M[r][col] / M[col][col]
      for (let c = col; c <= n; c++) M[r][c] -= f * M[col][c]
    }
  }
  const profile: CpuProfile = { ...prior }
  OP_NAMES.forEach((k, j) => {
    profile[`${k}_ns`] = Math.max(p[j] * 0.01, Math.round(M[j][n] / M[j][j]))
  })
  return profile
}
