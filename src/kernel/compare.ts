/**
 * `samepage kernel compare`'s figures: the simulator's KSM lane against the kernel's run of the
 * same config, from their series and summaries. Pure (unit-tested without a kernel).
 *
 * "Saved pages" below is pages_sharing + ksm_zero_pages, the pages of general_profit
 * (mm/ksm.c): with use_zero_pages most of what KSM frees is on the zero page, not in
 * pages_sharing. Time-to-fraction points are interpolated linearly between samples.
 */
import type { LaneSummary } from '../core/experiment/engine.ts'
import type { MetricName } from '../core/experiment/metrics.ts'

export interface SeriesLike {
  column(name: MetricName): ArrayLike<number>
}

export const FINAL_COUNTERS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'ksm_zero_pages', 'stable_node_chains', 'stable_node_dups', 'full_scans', 'pages_scanned'] as const
export type FinalCounter = (typeof FINAL_COUNTERS)[number]
/** The final state that must be equal on static memory (the harness found these exact). */
export const EXACT_COUNTERS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'ksm_zero_pages', 'stable_node_chains', 'stable_node_dups'] as const

export const FRACTIONS = [0.5, 0.9, 1] as const

export interface SideFigures {
  final: Record<FinalCounter, number>
  /** Seconds to 50 / 90 / 100 % of the final saved pages (null: never, or nothing saved). */
  time_to: (number | null)[]
  /** pages_scanned at those points. */
  scanned_to: (number | null)[]
  /** pages_scanned per second over the run. */
  scan_rate: number
  /** Scanner CPU, % of one core, mean over the run. */
  cpu_percent: number
  /** Scanner CPU ns per scanned page (null: nothing scanned). */
  cpu_ns_per_scanned_page: number | null
}

export interface Comparison {
  duration_s: number
  sim: SideFigures
  kernel: SideFigures
  /** |sim - kernel| of saved pages over the common sample times, % of the kernel's final. */
  saved_gap_pct: { mean: number; max: number }
}

function saved(s: SeriesLike): Float64Array {
  const a = s.column('pages_sharing')
  const z = s.column('ksm_zero_pages')
  const out = new Float64Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i] + (Number.isFinite(z[i]) ? z[i] : 0)
  return out
}

/** First time the series reaches `level` (linear between samples), or null. */
export function timeToLevel(t: ArrayLike<number>, y: ArrayLike<number>, level: number): number | null {
  for (let i = 0; i < y.length; i++) {
    if (y[i] >= level) {
      if (i === 0 || y[i] === y[i - 1]) return t[i]
      return t[i - 1] + ((level - y[i - 1]) / (y[i] - y[i - 1])) * (t[i] - t[i - 1])
    }
  }
  return null
}

/** y interpolated at time x (clamped to the ends). */
export function valueAt(t: ArrayLike<number>, y: ArrayLike<number>, x: number): number {
  if (t.length === 0) return Number.NaN
  if (x <= t[0]) return y[0]
  for (let i = 1; i < t.length; i++) {
    if (x <= t[i]) return y[i - 1] + ((x - t[i - 1]) / (t[i] - t[i - 1])) * (y[i] - y[i - 1])
  }
  return y[t.length - 1]
}

export function sideFigures(series: SeriesLike, summary: LaneSummary, cpuNs: number, duration: number): SideFigures {
  const t = series.column('t_s')
  const y = saved(series)
  const fin = y.length > 0 ? y[y.length - 1] : 0
  const scanned = series.column('pages_scanned')
  const time_to = FRACTIONS.map((f) => (fin > 0 ? timeToLevel(t, y, f * fin) : null))
  const final = {} as Record<FinalCounter, number>
  for (const c of FINAL_COUNTERS) final[c] = summary[c]
  return {
    final,
    time_to,
    scanned_to: time_to.map((x) => (x === null ? null : Math.round(valueAt(t, scanned, x)))),
    scan_rate: duration > 0 ? summary.pages_scanned / duration : 0,
    cpu_percent: summary.cpu_percent.mean,
    cpu_ns_per_scanned_page: summary.pages_scanned > 0 ? cpuNs / summary.pages_scanned : null
  }
}

/** Compare two runs of one config: sim and kernel series with their lane summaries and CPU ns. */
export function compareRuns(
  sim: { series: SeriesLike; summary: LaneSummary; cpuNs: number },
  kernel: { series: SeriesLike; summary: LaneSummary; cpuNs: number },
  duration: number
): Comparison {
  const ts = sim.series.column('t_s')
  const tk = kernel.series.column('t_s')
  const ys = saved(sim.series)
  const yk = saved(kernel.series)
  const fin = yk.length > 0 ? yk[yk.length - 1] : 0
  let sum = 0
  let max = 0
  let n = 0
  for (let i = 0; i < tk.length; i++) {
    const d = Math.abs(valueAt(ts, ys, tk[i]) - yk[i])
    sum += d
    max = Math.max(max, d)
    n++
  }
  const pct = (x: number) => (fin > 0 ? (x / fin) * 100 : x > 0 ? Infinity : 0)
  return {
    duration_s: duration,
    sim: sideFigures(sim.series, sim.summary, sim.cpuNs, duration),
    kernel: sideFigures(kernel.series, kernel.summary, kernel.cpuNs, duration),
    saved_gap_pct: { mean: pct(n > 0 ? sum / n : 0), max: pct(max) }
  }
}

const fmtNum = (x: number | null, digits = 0): string => (x === null || !Number.isFinite(x) ? '-' : digits === 0 ? String(Math.round(x)) : x.toFixed(digits))

/** The table `kernel compare` prints. */
export function formatComparison(c: Comparison, kernelName: string): string {
  const rows: [string, string, string][] = []
  for (const k of FINAL_COUNTERS) rows.push([k, fmtNum(c.sim.final[k]), fmtNum(c.kernel.final[k])])
  FRACTIONS.forEach((f, i) => rows.push([`time to ${f * 100} % saved (s)`, fmtNum(c.sim.time_to[i], 2), fmtNum(c.kernel.time_to[i], 2)]))
  FRACTIONS.forEach((f, i) => rows.push([`scanned to ${f * 100} % saved`, fmtNum(c.sim.scanned_to[i]), fmtNum(c.kernel.scanned_to[i])]))
  rows.push(['scan rate (pages/s)', fmtNum(c.sim.scan_rate), fmtNum(c.kernel.scan_rate)])
  rows.push(['ksmd CPU %', fmtNum(c.sim.cpu_percent, 3), fmtNum(c.kernel.cpu_percent, 3)])
  rows.push(['CPU ns per scanned page', fmtNum(c.sim.cpu_ns_per_scanned_page), fmtNum(c.kernel.cpu_ns_per_scanned_page)])
  const head: [string, string, string] = ['', 'simulator', kernelName]
  const w = [0, 1, 2].map((i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)))
  const line = (r: [string, string, string]) => `${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padStart(w[2])}`
  return (
    [line(head), ...rows.map(line)].join('\n') +
    `\nsaved pages over time, |sim - kernel|: mean ${fmtNum(c.saved_gap_pct.mean, 1)} %, max ${fmtNum(c.saved_gap_pct.max, 1)} % of the kernel's final\n`
  )
}
