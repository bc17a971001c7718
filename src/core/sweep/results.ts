/**
 * What a sweep's runs add up to: `sweep.csv` (one row per point x lane x seed), `sweep.json`
 * (per point and lane, each metric's mean, standard deviation, min and max over seeds) and the
 * cost-benefit frontier (mean scanner CPU against mean memory saved, per point x lane, the
 * Pareto-optimal ones marked). Pure: the same runs give the same bytes, in whatever order or
 * shard they finished.
 */
import type { LaneSummary } from '../experiment/engine.ts'
import type { PlanRun, SweepPlan } from './expand.ts'
import type { SweepMetric } from './schema.ts'

export const SWEEP_RESULT_SCHEMA_ID = 'samepage-lab/sweep-result@1'

/** A finished run: its lanes' summaries (summary.json's `lanes`). */
export interface RunResult {
  hash: string
  lanes: LaneSummary[]
}

/** A metric's value in a lane summary; null when it has none (cpu_ns_per_shared_page of a run that saved nothing). */
export function metricValue(lane: LaneSummary, metric: SweepMetric): number | null {
  let v: unknown = lane
  for (const k of metric.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

export interface Stats {
  mean: number
  /** Sample standard deviation (n - 1); 0 for one seed. */
  sd: number
  min: number
  max: number
  /** Seeds that gave a value. */
  n: number
}

export function stats(values: readonly number[]): Stats | null {
  const n = values.length
  if (n === 0) return null
  let sum = 0
  let min = Infinity
  let max = -Infinity
  for (const v of values) {
    sum += v
    if (v < min) min = v
    if (v > max) max = v
  }
  const mean = sum / n
  let ss = 0
  for (const v of values) ss += (v - mean) ** 2
  return { mean: r6(mean), sd: n > 1 ? r6(Math.sqrt(ss / (n - 1))) : 0, min: r6(min), max: r6(max), n }
}

function r6(x: number): number {
  return Math.round(x * 1e6) / 1e6
}

export interface LanePoint {
  lane: string
  scanner: string
  seeds: number
  metrics: Record<string, Stats | null>
  /** Mean over seeds of cpu_percent.mean and saved_mib.mean: this lane's place on the frontier. */
  cpu_percent: number
  saved_mib: number
  pareto: boolean
}

export interface SweepResultPoint {
  point: number
  coords: Record<string, unknown>
  lanes: LanePoint[]
}

export interface SweepResult {
  schema: typeof SWEEP_RESULT_SCHEMA_ID
  sweep_id: string
  name: string
  axes: { path: string; values: unknown[]; scale: 'linear' | 'log' }[]
  metrics: SweepMetric[]
  seeds: number[]
  runs_total: number
  runs_done: number
  /** Runs without a result yet (not run, failed, or in another shard): point and seed. */
  missing: { point: number; seed: number; hash: string }[]
  points: SweepResultPoint[]
  /** Every point x lane with a result, in order of CPU; the Pareto-optimal ones joined on the chart. */
  frontier: { point: number; lane: string; scanner: string; cpu_percent: number; saved_mib: number; pareto: boolean }[]
}

/**
 * Which of the (cost, benefit) pairs are Pareto-optimal: no other pair has at most the cost
 * and at least the benefit with one of them strictly better.
 */
export function paretoFlags(items: readonly { cost: number; benefit: number }[]): boolean[] {
  const order = items.map((_, i) => i).sort((a, b) => items[a].cost - items[b].cost || items[b].benefit - items[a].benefit)
  const flags = items.map(() => false)
  let best = -Infinity
  for (const i of order) {
    if (items[i].benefit > best) {
      flags[i] = true
      best = items[i].benefit
    }
  }
  return flags
}

/** The result document of the runs done so far (`results` by run hash). */
export function sweepResult(plan: SweepPlan, results: ReadonlyMap<string, RunResult>): SweepResult {
  const byPoint = new Map<number, PlanRun[]>()
  for (const r of plan.runs) byPoint.set(r.point, [...(byPoint.get(r.point) ?? []), r])
  const missing: SweepResult['missing'] = []
  const points: SweepResultPoint[] = []
  for (const p of plan.points) {
    const runs = (byPoint.get(p.index) ?? []).filter((r) => {
      if (results.has(r.hash)) return true
      missing.push({ point: p.index, seed: r.seed, hash: r.hash })
      return false
    })
    const lanes: LanePoint[] = []
    const laneNames = runs.length > 0 ? results.get(runs[0].hash)!.lanes.map((l) => l.name) : []
    for (const [li, name] of laneNames.entries()) {
      const summaries = runs.map((r) => results.get(r.hash)!.lanes[li]).filter((l) => l !== undefined)
      const metrics: Record<string, Stats | null> = {}
      for (const m of plan.metrics) metrics[m] = stats(summaries.map((l) => metricValue(l, m)).filter((v): v is number => v !== null))
      lanes.push({
        lane: name,
        scanner: summaries[0].scanner,
        seeds: summaries.length,
        metrics,
        cpu_percent: stats(summaries.map((l) => l.cpu_percent.mean))!.mean,
        saved_mib: stats(summaries.map((l) => l.saved_mib.mean))!.mean,
        pareto: false
      })
    }
    if (runs.length > 0) points.push({ point: p.index, coords: Object.fromEntries(plan.axes.map((a, i) => [a.path, p.coords[i]])), lanes })
  }
  const all = points.flatMap((p) => p.lanes.map((l) => ({ p, l })))
  const flags = paretoFlags(all.map(({ l }) => ({ cost: l.cpu_percent, benefit: l.saved_mib })))
  all.forEach(({ l }, i) => (l.pareto = flags[i]))
  const frontier = all
    .map(({ p, l }) => ({ point: p.point, lane: l.lane, scanner: l.scanner, cpu_percent: l.cpu_percent, saved_mib: l.saved_mib, pareto: l.pareto }))
    .sort((a, b) => a.cpu_percent - b.cpu_percent || b.saved_mib - a.saved_mib || a.point - b.point)
  return {
    schema: SWEEP_RESULT_SCHEMA_ID,
    sweep_id: plan.id,
    name: plan.name,
    axes: plan.axes,
    metrics: plan.metrics,
    seeds: plan.seeds,
    runs_total: plan.runs.length,
    runs_done: plan.runs.length - missing.length,
    missing,
    points,
    frontier
  }
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

function csvValue(v: unknown): string {
  if (typeof v === 'number') return String(v)
  if (typeof v === 'string') return csvField(v)
  return csvField(JSON.stringify(v))
}

/**
 * sweep.csv: columns point, lane, seed, one per axis (its path as written), one per metric (as
 * written); one row per point x lane x seed with a result, in run order. An empty cell: no value.
 */
export function sweepCsv(plan: SweepPlan, results: ReadonlyMap<string, RunResult>): string {
  const lines = [['point', 'lane', 'seed', ...plan.axes.map((a) => a.path), ...plan.metrics].map(csvField).join(',')]
  for (const run of plan.runs) {
    const r = results.get(run.hash)
    if (!r) continue
    const coords = plan.points[run.point].coords.map(csvValue)
    for (const lane of r.lanes) {
      const metrics = plan.metrics.map((m) => {
        const v = metricValue(lane, m)
        return v === null ? '' : String(v)
      })
      lines.push([String(run.point), csvField(lane.name), String(run.seed), ...coords, ...metrics].join(','))
    }
  }
  return lines.join('\n') + '\n'
}
