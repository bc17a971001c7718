/**
 * `samepage reproduce`: runs the paper's experiments in worker threads (both cores), prints the
 * paper's numbers beside ours, and with --out writes the figures, CSVs and reproduce.json.
 *
 * Workers are this same bundled file (pool.ts), started for the role 'samepage-reproduce'.
 */
import { availableParallelism } from 'node:os'
import { barChart, sharingChart } from '../core/analysis/charts.ts'
import { overrideDuration, parseExperiment } from '../core/experiment/config.ts'
import { Engine } from '../core/experiment/engine.ts'
import { findPreset } from '../core/experiment/presets.ts'
import {
  FIG1_RATES,
  fig1RunTimes,
  fig2Data,
  fig6Metrics,
  rateOf,
  PAPER_RATES,
  PAPER_TABLE1,
  PARTS,
  planJobs,
  spread,
  table1Cells,
  TARGETS,
  type Job,
  type JobResult,
  type Part
} from '../core/analysis/reproduce.ts'
import { renderChartPng } from './png.ts'
import { runTasks, serveTasks } from './pool.ts'

const ROLE = 'samepage-reproduce'

/** Run one job to the end (in a worker). */
export function runJob(job: Job, onProgress: (f: number) => void): JobResult {
  const preset = findPreset(job.preset)
  if (!preset) throw new Error(`unknown preset ${job.preset}`)
  const doc = { ...preset.config, seed: job.seed } as Record<string, unknown>
  if (job.duration !== undefined) overrideDuration(doc, job.duration)
  if (job.workS !== undefined) {
    const vms = doc.vms as { workload: Record<string, unknown> }[]
    doc.vms = vms.map((v) => ({ ...v, workload: { ...v.workload, work_s: job.workS } }))
  }
  const engine = new Engine(parseExperiment(doc))
  const t0 = performance.now()
  engine.warmup()
  const fig2 = job.fig2 ? fig2Data(engine.lanes[0]) : undefined
  engine.run(onProgress)
  const summary = engine.summary((performance.now() - t0) / 1000)
  const series = engine.lanes.map((l) => ({
    name: l.cfg.name,
    scanner: l.cfg.scanner.kind,
    t: Array.from(l.series.column('t_s')),
    sharing: Array.from(l.series.column('sharing_ratio')),
    cpu: Array.from(l.series.column('cpu_percent')),
    ops: l.measuredOpsPerSecond()
  }))
  return { job, summary, series, fig2 }
}

serveTasks<Job, JobResult>(ROLE, (job, onProgress) => {
  try {
    return runJob(job, onProgress)
  } catch (e) {
    throw new Error(`${job.id}: ${(e as Error).message}`)
  }
})

/** Run jobs on a pool of worker threads; resolves with results in job order. */
export function runPool(jobs: Job[], threads: number, onProgress: (fraction: number) => void): Promise<JobResult[]> {
  return runTasks<Job, JobResult>(ROLE, new URL(import.meta.url), jobs, threads, onProgress)
}

export interface ReproduceReport {
  schema: 'samepage-lab/reproduce@1'
  quick: boolean
  seeds: number[]
  wall_seconds: number
  fig6?: {
    rows: { rate: number; paper_max_ratio: number | null; max_ratio: { min: number; mean: number; max: number }; in_band: boolean | null; ksm_ahead_at_zero: boolean; ksm_recovers: boolean; ksm_first_drop_s: (number | null)[]; hint_mean: number; ksm_mean: number; hint_cv: number }[]
  }
  table1?: { rows: { scanner: 'ksm' | 'hint'; rate: number; paper: number; cpu: { min: number; mean: number; max: number }; ratio: number; within: boolean }[]; ordering_holds: boolean }
  fig1?: { rows: { workload: string; rate: number; run_time_s: number | null; relative: number | null }[]; highest_slowdown: Record<string, number | null>; monotonic: Record<string, boolean> }
  fig2?: { rows: { type: string; allocated: number; shareable: number; fraction: number; target: string; ok: boolean }[] }
}

export function analyse(results: JobResult[], parts: Part[], seeds: number[], quick: boolean, wallSeconds: number): ReproduceReport {
  const rep: ReproduceReport = { schema: 'samepage-lab/reproduce@1', quick, seeds, wall_seconds: Math.round(wallSeconds * 10) / 10 }
  const fig6 = results.filter((r) => r.job.preset.startsWith('paper-fig6'))
  if (parts.includes('fig6')) {
    rep.fig6 = {
      rows: PAPER_RATES.map((rate) => {
        const ms = fig6.map(fig6Metrics).filter((m) => m.rate === rate)
        const ratios = spread(ms.map((m) => m.maxRatio))
        const band = TARGETS.fig6MaxRatio[rate]
        return {
          rate,
          paper_max_ratio: TARGETS.fig6PaperRatio[rate] ?? null,
          max_ratio: ratios,
          in_band: band ? ms.every((m) => m.maxRatio >= band[0] && m.maxRatio <= band[1]) : null,
          ksm_ahead_at_zero: ms.every((m) => m.ksmAheadAtZero),
          ksm_recovers: ms.some((m) => m.ksmRecovers),
          ksm_first_drop_s: ms.map((m) => m.ksmFirstDropS),
          hint_mean: spread(ms.map((m) => m.hintMean)).mean,
          ksm_mean: spread(ms.map((m) => m.ksmMean)).mean,
          hint_cv: spread(ms.map((m) => m.hintCv)).mean
        }
      })
    }
  }
  if (parts.includes('table1')) {
    const cells = fig6.flatMap(table1Cells)
    const rows = (['ksm', 'hint'] as const).flatMap((scanner) =>
      PAPER_RATES.map((rate) => {
        const s = spread(cells.filter((c) => c.scanner === scanner && c.rate === rate).map((c) => c.cpu))
        const paper = PAPER_TABLE1[scanner][rate]
        return { scanner, rate, paper, cpu: s, ratio: s.mean / paper, within: Math.abs(s.min / paper - 1) <= TARGETS.table1Tolerance && Math.abs(s.max / paper - 1) <= TARGETS.table1Tolerance }
      })
    )
    const cpu = (sc: 'ksm' | 'hint', r: number) => rows.find((x) => x.scanner === sc && x.rate === r)?.cpu.mean ?? 0
    rep.table1 = { rows, ordering_holds: cpu('hint', 5000) < cpu('ksm', 5000) && cpu('hint', 1000) > cpu('ksm', 1000) && cpu('hint', 500) > cpu('ksm', 500) }
  }
  if (parts.includes('fig1')) {
    const rows: NonNullable<ReproduceReport['fig1']>['rows'] = []
    const highest: Record<string, number | null> = {}
    const monotonic: Record<string, boolean> = {}
    for (const r of results.filter((x) => x.job.preset.startsWith('paper-fig1'))) {
      const workload = r.job.preset === 'paper-fig1' ? 'mem-micro' : 'cpu-micro'
      const times = fig1RunTimes(r)
      for (const t of times) rows.push({ workload, rate: t.rate, run_time_s: t.runTimeS, relative: t.relative })
      const rel = times.map((t) => t.relative ?? Infinity)
      highest[workload] = times[times.length - 1].relative === null ? null : (times[times.length - 1].relative as number) - 1
      monotonic[workload] = rel.every((x, i) => i === 0 || x >= rel[i - 1] - 1e-9)
    }
    rep.fig1 = { rows, highest_slowdown: highest, monotonic }
  }
  if (parts.includes('fig2')) {
    const f = results.find((r) => r.fig2)?.fig2
    if (f) {
      rep.fig2 = {
        rows: f.types.map((t) => {
          const fraction = t.allocated > 0 ? t.shareable / t.allocated : 0
          const other = t.type === 'other'
          return {
            type: t.type,
            allocated: t.allocated,
            shareable: t.shareable,
            fraction,
            target: other ? `${TARGETS.fig2Other[0] * 100}-${TARGETS.fig2Other[1] * 100} %` : `>= ${TARGETS.fig2MinShareable * 100} %`,
            ok: other ? fraction >= TARGETS.fig2Other[0] && fraction <= TARGETS.fig2Other[1] : fraction >= TARGETS.fig2MinShareable
          }
        })
      }
    }
  }
  return rep
}

const f2 = (x: number) => x.toFixed(2)
const f3 = (x: number) => x.toFixed(3)
const yes = (b: boolean) => (b ? 'yes' : 'no')

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ')
  return [line(head), ...rows.map(line)].join('\n') + '\n'
}

export function formatReport(rep: ReproduceReport): string {
  let out = `Reproducing Inoue, Yamada, Kono (IPSJ SIG OS 2014)${rep.quick ? ' -- QUICK mode: shortened runs, numbers are not comparable to the paper' : ''}\nseeds ${rep.seeds.join(', ')}; ${rep.wall_seconds} s wall\n`
  if (rep.fig6) {
    out += '\nFigure 6: max over time of Hint/KSM sharing ratio (min-max over seeds)\n'
    out += table(
      ['rate (pages/s)', 'paper', 'ours (mean)', 'min-max', 'ours/paper', 'in band', 'KSM ahead at t=0', 'KSM recovers', 'Hint mean', 'KSM mean'],
      rep.fig6.rows.map((r) => [
        String(r.rate),
        r.paper_max_ratio ? `up to ${r.paper_max_ratio}x` : '-',
        f2(r.max_ratio.mean),
        `${f2(r.max_ratio.min)}-${f2(r.max_ratio.max)}`,
        r.paper_max_ratio ? f2(r.max_ratio.mean / r.paper_max_ratio) : '-',
        r.in_band === null ? '-' : yes(r.in_band),
        `${yes(r.ksm_ahead_at_zero)} (paper: yes)`,
        r.rate === 1000 ? `${yes(r.ksm_recovers)} (paper: no)` : yes(r.ksm_recovers),
        f3(r.hint_mean),
        f3(r.ksm_mean)
      ])
    )
  }
  if (rep.table1) {
    out += `\nTable 1: mean scanner CPU % (min-max over seeds); target within +-${TARGETS.table1Tolerance * 100} %\n`
    out += table(
      ['scanner', 'rate', 'paper', 'ours (mean)', 'min-max', 'ours/paper', 'within'],
      rep.table1.rows.map((r) => [r.scanner === 'ksm' ? 'KSM' : 'Hint', String(r.rate), String(r.paper), f3(r.cpu.mean), `${f3(r.cpu.min)}-${f3(r.cpu.max)}`, f2(r.ratio), yes(r.within)])
    )
    out += `Hint below KSM at 5000 and above it at 1000 and 500 (the paper's ordering): ${yes(rep.table1.ordering_holds)}\n`
  }
  if (rep.fig1) {
    out += `\nFigure 1: workload run time relative to KSM off (paper: up to ${1 + TARGETS.fig1PaperSlowdown}x at the highest rate)\n`
    const rates = [0, ...FIG1_RATES]
    const get = (w: string, rate: number) => rep.fig1?.rows.find((r) => r.workload === w && r.rate === rate)?.relative
    out += table(
      ['rate (pages/s)', 'mem-micro', 'cpu-micro'],
      rates.map((rate) => [rate === 0 ? 'KSM off' : String(rate), ...['mem-micro', 'cpu-micro'].map((w) => (get(w, rate) == null ? 'unfinished' : f3(get(w, rate) as number)))])
    )
    for (const w of Object.keys(rep.fig1.highest_slowdown)) {
      const s = rep.fig1.highest_slowdown[w]
      out += `${w}: ${s === null ? 'did not finish' : `${(s * 100).toFixed(1)} % longer at the highest rate`}; grows with the rate: ${yes(rep.fig1.monotonic[w])}\n`
    }
  }
  if (rep.fig2) {
    out += '\nFigure 2: pages allocated and shareable right after booting two identical VMs\n'
    out += table(
      ['type', 'allocated', 'shareable', 'ours', 'paper', 'ok'],
      rep.fig2.rows.map((r) => [r.type, String(r.allocated), String(r.shareable), `${(r.fraction * 100).toFixed(1)} %`, r.target, yes(r.ok)])
    )
  }
  return out
}

/** Figures and CSVs for --out: name -> content. */
export async function outputs(results: JobResult[], rep: ReproduceReport): Promise<[string, string | Buffer][]> {
  const files: [string, string | Buffer][] = [['reproduce.json', JSON.stringify(rep, null, 2) + '\n']]
  const seed0 = rep.seeds[0]
  for (const r of results.filter((x) => x.job.preset.startsWith('paper-fig6') && x.job.seed === seed0)) {
    const letter = r.job.preset.slice(-1)
    const lanes = r.series.map((s) => ({ name: s.name, scanner: s.scanner, column: (n: string) => (n === 't_s' ? s.t : n === 'sharing_ratio' ? s.sharing : n === 'cpu_percent' ? s.cpu : []) }))
    const rate = rateOf(r.job.preset)
    files.push([`fig6${letter}.png`, await renderChartPng(sharingChart(lanes, { responsive: false, title: `Figure 6(${letter}): sharing ratio, ${rate} pages/s (seed ${seed0})` }))])
    const csv = ['t_s,' + r.series.flatMap((s) => [`${s.name}_sharing_ratio`, `${s.name}_cpu_percent`]).join(',')]
    for (let i = 0; i < r.series[0].t.length; i++) csv.push([r.series[0].t[i], ...r.series.flatMap((s) => [s.sharing[i], s.cpu[i]])].join(','))
    files.push([`fig6${letter}.csv`, csv.join('\n') + '\n'])
  }
  if (rep.table1) {
    files.push(['table1.csv', 'scanner,rate,paper_cpu_percent,cpu_percent_mean,cpu_percent_min,cpu_percent_max\n' + rep.table1.rows.map((r) => [r.scanner, r.rate, r.paper, r.cpu.mean, r.cpu.min, r.cpu.max].join(',')).join('\n') + '\n'])
  }
  if (rep.fig1) {
    files.push(['fig1.csv', 'workload,rate,run_time_s,relative\n' + rep.fig1.rows.map((r) => [r.workload, r.rate, r.run_time_s ?? '', r.relative ?? ''].join(',')).join('\n') + '\n'])
    const rates = [0, ...FIG1_RATES]
    const series = ['mem-micro', 'cpu-micro'].map((w, i) => ({
      label: w,
      color: i === 0 ? '#1f5fbf' : '#d62728',
      data: rates.map((rate) => rep.fig1?.rows.find((r) => r.workload === w && r.rate === rate)?.relative ?? 0)
    }))
    files.push(['fig1.png', await renderChartPng(barChart({ title: 'Figure 1: run time relative to KSM off', labels: rates.map((r) => (r === 0 ? 'off' : String(r))), series, xTitle: 'KSM scan rate (pages/s)', yTitle: 'Relative run time' }, { responsive: false }))])
  }
  if (rep.fig2) {
    files.push(['fig2.csv', 'type,allocated,shareable,fraction\n' + rep.fig2.rows.map((r) => [r.type, r.allocated, r.shareable, r.fraction].join(',')).join('\n') + '\n'])
    const labels = rep.fig2.rows.map((r) => r.type.replace('_', ' '))
    files.push([
      'fig2.png',
      await renderChartPng(
        barChart(
          {
            title: 'Figure 2: pages after booting two identical VMs',
            labels,
            series: [
              { label: 'Allocated', color: '#7f7f7f', data: rep.fig2.rows.map((r) => r.allocated) },
              { label: 'Shareable', color: '#1f5fbf', data: rep.fig2.rows.map((r) => r.shareable) }
            ],
            xTitle: 'Page type',
            yTitle: 'Guest pages'
          },
          { responsive: false }
        )
      )
    ])
  }
  return files
}

export function parseParts(only: string | undefined): Part[] {
  if (only === undefined) return PARTS
  const parts = only.split(',').map((s) => s.trim()).filter(Boolean)
  for (const p of parts) if (!PARTS.includes(p as Part)) throw new Error(`--only: unknown part "${p}" (parts: ${PARTS.join(', ')})`)
  if (parts.length === 0) throw new Error('--only: give at least one part')
  return parts as Part[]
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(2, availableParallelism()))
}

/** Plan, run on worker threads, analyse. */
export async function reproduce(o: { parts: Part[]; seeds: number[]; quick: boolean; threads?: number }, onProgress: (f: number) => void): Promise<{ results: JobResult[]; report: ReproduceReport }> {
  const t0 = performance.now()
  const jobs = planJobs(o)
  const results = await runPool(jobs, o.threads ?? defaultThreads(), onProgress)
  return { results, report: analyse(results, o.parts, o.seeds, o.quick, (performance.now() - t0) / 1000) }
}

