/**
 * Reproducing the paper: its numbers, the runs that reproduce them, and the quantities the
 * paper's words name, computed from run results. Pure; `samepage reproduce` (src/cli) runs the
 * jobs in worker threads and prints the tables.
 */
import { isZeroFp } from '../machine/content.ts'
import type { OpName } from '../machine/cost.ts'
import type { Summary } from '../experiment/engine.ts'
import { FIG2_CATEGORIES, fig2Category, PT_FREE } from '../guests/guest.ts'
import type { Lane } from '../experiment/lane.ts'
import { FIG1_RATES, PAPER_RATES } from '../experiment/presets.ts'

/** Table 1 of the paper: mean scanner CPU %, by scanner and rate (pages/s). */
export const PAPER_TABLE1: Record<'ksm' | 'hint', Record<number, number>> = {
  ksm: { 5000: 3.49, 1000: 0.65, 500: 0.274 },
  hint: { 5000: 1.72, 1000: 1.15, 500: 0.54 }
}

/** Acceptance bands (issue "Reproduce the paper"). */
export const TARGETS = {
  table1Tolerance: 0.25,
  fig6MaxRatio: { 5000: [1.6, 2.6], 1000: [4.5, 7.5] } as Record<number, [number, number]>,
  /** The paper's words: "up to 2x" at 5000 and "up to 6x" at 1000 pages/s. */
  fig6PaperRatio: { 5000: 2, 1000: 6 } as Record<number, number>,
  fig2MinShareable: 0.95,
  fig2Other: [0.15, 0.25] as [number, number],
  fig1Slowdown: [0.3, 0.4] as [number, number],
  /** Figure 1's words: "up to 35 % longer". */
  fig1PaperSlowdown: 0.35
}

export type Part = 'fig1' | 'fig2' | 'fig6' | 'table1'
export const PARTS: Part[] = ['fig1', 'fig2', 'fig6', 'table1']

/** One simulation to run. */
export interface Job {
  id: string
  preset: string
  seed: number
  /** Overrides the preset's duration (quick mode). */
  duration?: number
  /** Compute Figure 2's shareable pages after warm-up. */
  fig2?: boolean
  /** Overrides the micro-benchmarks' work (quick mode). */
  workS?: number
}

export interface ReproduceOptions {
  parts: Part[]
  seeds: number[]
  quick: boolean
}

/** Quick mode: the same experiments, shortened, for the test suite. */
export const QUICK = { fig6Duration: 240, fig1Duration: 20, fig1WorkS: 8 }

export function planJobs(o: ReproduceOptions): Job[] {
  const jobs: Job[] = []
  if (o.parts.includes('fig6') || o.parts.includes('table1')) {
    for (const seed of o.seeds) {
      for (const letter of ['a', 'b', 'c']) {
        jobs.push({ id: `fig6${letter}-seed${seed}`, preset: `paper-fig6${letter}`, seed, duration: o.quick ? QUICK.fig6Duration : undefined })
      }
    }
  }
  if (o.parts.includes('fig1')) {
    for (const preset of ['paper-fig1', 'paper-fig1-cpu']) jobs.push({ id: preset, preset, seed: o.seeds[0], ...(o.quick ? { duration: QUICK.fig1Duration, workS: QUICK.fig1WorkS } : {}) })
  }
  if (o.parts.includes('fig2')) jobs.push({ id: 'paper-fig2', preset: 'paper-fig2', seed: o.seeds[0], fig2: true })
  return jobs
}

/** Pages allocated and shareable (content also in another page of the host), per page type. */
export interface Fig2Data {
  types: { type: 'page_cache' | 'text' | 'zero' | 'other'; allocated: number; shareable: number }[]
}

/** What a worker sends back for a job. */
export interface JobResult {
  job: Job
  summary: Summary
  /** Per lane: t_s, sharing_ratio and cpu_percent columns, and scanner operations per second. */
  series: { name: string; scanner: string; t: number[]; sharing: number[]; cpu: number[]; ops: Record<OpName, number> }[]
  fig2?: Fig2Data
}

/** Figure 6's quantities for one rate and seed, in the paper's words. */
export interface Fig6Metrics {
  rate: number
  seed: number
  /** max over t of Hint ratio / KSM ratio. */
  maxRatio: number
  ksmAtZero: number
  hintAtZero: number
  ksmAheadAtZero: boolean
  /** KSM's first drop: the first sample below 80 % of its t = 0 ratio (null: none). */
  ksmFirstDropS: number | null
  /** Whether KSM later gets back to 90 % of its t = 0 ratio. */
  ksmRecovers: boolean
  /** Hint's ratio after the first tenth of the run: mean and coefficient of variation. */
  hintMean: number
  hintCv: number
  ksmMean: number
}

/** The scan rate (pages/s) of a Figure 6 preset. */
export function rateOf(preset: string): number {
  return { 'paper-fig6a': 5000, 'paper-fig6b': 1000, 'paper-fig6c': 500 }[preset] ?? 0
}

export function fig6Metrics(r: JobResult): Fig6Metrics {
  const ksm = r.series.find((s) => s.scanner === 'ksm')
  const hint = r.series.find((s) => s.scanner === 'hint')
  if (!ksm || !hint) throw new Error(`${r.job.id}: needs a KSM and a Hint lane`)
  let maxRatio = 0
  for (let i = 0; i < ksm.sharing.length; i++) {
    if (ksm.sharing[i] > 1e-3) maxRatio = Math.max(maxRatio, hint.sharing[i] / ksm.sharing[i])
  }
  const k0 = ksm.sharing[0]
  let drop: number | null = null
  let recovers = false
  for (let i = 1; i < ksm.sharing.length; i++) {
    if (drop === null && ksm.sharing[i] < 0.8 * k0) drop = ksm.t[i]
    else if (drop !== null && ksm.sharing[i] >= 0.9 * k0) recovers = true
  }
  const from = Math.floor(hint.sharing.length / 10)
  const tail = hint.sharing.slice(from)
  const mean = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length)
  const sd = Math.sqrt(tail.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, tail.length))
  const ksmTail = ksm.sharing.slice(from)
  return {
    rate: rateOf(r.job.preset),
    seed: r.job.seed,
    maxRatio,
    ksmAtZero: k0,
    hintAtZero: hint.sharing[0],
    ksmAheadAtZero: k0 > hint.sharing[0],
    ksmFirstDropS: drop,
    ksmRecovers: drop !== null && recovers,
    hintMean: mean,
    hintCv: mean > 0 ? sd / mean : 0,
    ksmMean: ksmTail.reduce((a, b) => a + b, 0) / Math.max(1, ksmTail.length)
  }
}

/** Mean scanner CPU % per scanner and rate from a fig6 job. */
export function table1Cells(r: JobResult): { scanner: 'ksm' | 'hint'; rate: number; cpu: number }[] {
  return r.summary.lanes
    .filter((l) => l.scanner === 'ksm' || l.scanner === 'hint')
    .map((l) => ({ scanner: l.scanner as 'ksm' | 'hint', rate: rateOf(r.job.preset), cpu: l.cpu_percent.mean }))
}

/** Figure 1: mean workload run time per lane, relative to the lane without a scanner. */
export function fig1RunTimes(r: JobResult): { lane: string; rate: number; runTimeS: number | null; relative: number | null }[] {
  const mean = (xs: (number | null)[]): number | null => (xs.some((x) => x === null) ? null : (xs as number[]).reduce((a, b) => a + b, 0) / xs.length)
  const base = mean(r.summary.lanes[0].workload_done_s)
  return r.summary.lanes.map((l, i) => {
    const t = mean(l.workload_done_s)
    return { lane: l.name, rate: i === 0 ? 0 : FIG1_RATES[i - 1], runTimeS: t, relative: t !== null && base ? t / base : null }
  })
}

/** Spread of a list: min, mean, max. */
export function spread(xs: number[]): { min: number; mean: number; max: number } {
  return { min: Math.min(...xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) }
}

export { PAPER_RATES, FIG1_RATES }

/**
 * Figure 2 from a lane's memory now: allocated guest pages per type, and how many of them are
 * shareable, i.e. hold content that another allocated page of the host also holds.
 */
export function fig2Data(lane: Lane): Fig2Data {
  const mem = lane.mem
  const cat: number[] = []
  const keys: bigint[] = []
  const counts = new Map<bigint, number>()
  for (const v of lane.vms) {
    const g = v.guest
    for (let gfn = 0; gfn < g.nPages; gfn++) {
      const f = mem.pageFrame[g.base + gfn]
      const t = g.typeOf(gfn)
      if (f < 0 || t === PT_FREE) continue
      const hi = mem.hi(f)
      const lo = mem.lo(f)
      const key = (BigInt(hi) << 32n) | BigInt(lo)
      keys.push(key)
      cat.push(fig2Category(t, isZeroFp(hi, lo)))
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
  }
  const types = FIG2_CATEGORIES.map((type) => ({ type, allocated: 0, shareable: 0 }))
  keys.forEach((k, i) => {
    types[cat[i]].allocated++
    if ((counts.get(k) ?? 0) >= 2) types[cat[i]].shareable++
  })
  return { types }
}
