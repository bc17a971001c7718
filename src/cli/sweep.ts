/**
 * `samepage sweep FILE [--out DIR] [--jobs N] [--shard I/N] [--dry-run]` and
 * `samepage sweep merge DIR... [--out DIR]`: a sweep's runs on a pool of worker threads, one
 * lane per task, every finished run written at once and atomically under
 * DIR/points/<hash of its resolved config>/ (config.json, summary.json, series.csv). Running
 * the same command again skips the runs already there, so a killed sweep resumes and no run is
 * done twice. The expansion, the statistics and the charts are src/core/sweep's.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync, cpSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { assetRefs, type Assets } from '../core/experiment/assets.ts'
import { nominalRate, validateExperiment, type Experiment } from '../core/experiment/config.ts'
import { seriesCsv } from '../core/experiment/engine.ts'
import type { MetricName } from '../core/experiment/metrics.ts'
import { sweepCharts } from '../core/sweep/charts.ts'
import { expandSweep, parseShard, presetBase, runCost, shardRuns, SweepError, type PlanRun, type SweepPlan } from '../core/sweep/expand.ts'
import { canonicalJson, hash64 } from '../core/sweep/hash.ts'
import { findSweepPreset } from '../core/sweep/presets.ts'
import { sweepCsv, sweepResult, type RunResult } from '../core/sweep/results.ts'
import { validateSweep, type Sweep } from '../core/sweep/schema.ts'
import { loadAssets, withAbsoluteAssetPaths } from '../host/node/assets.ts'
import { composeSummary, LANE_ROLE, laneRunOf, type LaneOutput, type LaneRun, type LaneTask } from './lanes.ts'
import { renderChartPng } from './png.ts'
import { poolUtilisation, streamTasks, type PoolTimeline } from './pool.ts'
import { writeResultDir } from '../host/node/result-dir.ts'

/** Bad input to `samepage sweep`: one line, exit 2. */
export class SweepUsageError extends Error {}

export interface SweepIo {
  stdout: (s: string) => void
  stderr: (s: string) => void
  stderrIsTTY: boolean
}

/** The resolved sweep as DIR/sweep.file.json keeps it: the base inline, so merge needs no other file. */
export const SWEEP_FILE = 'sweep.file.json'
const POINTS = 'points'
/** What a sweep's --out folder may hold besides points/ and the charts (*.png). */
const OUR_FILES = new Set([SWEEP_FILE, 'sweep.csv', 'sweep.json', POINTS])

const SWEEP_OPTIONS = {
  out: { type: 'string' },
  jobs: { type: 'string' },
  shard: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' }
} as const

function parse<O extends Record<string, { type: 'string' | 'boolean' }>>(cmd: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new SweepUsageError(`${cmd}: ${(e as Error).message.split('\n')[0]}`)
  }
}

function readJson(path: string, what: string): unknown {
  let st
  try {
    st = statSync(path)
  } catch {
    throw new SweepUsageError(`cannot read ${what} "${path}": no such file`)
  }
  if (st.isDirectory()) throw new SweepUsageError(`cannot read ${what} "${path}": it is a directory`)
  if (st.size > 16 * 1024 * 1024) throw new SweepUsageError(`${what} "${path}" is larger than 16 MiB`)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new SweepUsageError(`cannot read ${what} "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new SweepUsageError(`${what} "${path}" is not valid JSON: ${(e as Error).message}`)
  }
}

function firstIssue(issues: { path: string; message: string }[]): never {
  throw new SweepError([issues[0]])
}

/** A sweep named by a preset or a file, validated, with the folder its relative paths resolve against. */
export function loadSweep(arg: string): { sweep: Sweep; dir: string } {
  const preset = findSweepPreset(arg)
  const doc = preset ? structuredClone(preset.sweep) : existsSync(arg) || /[./\\]/.test(arg) ? readJson(arg, 'sweep file') : undefined
  if (doc === undefined) throw new SweepUsageError(`unknown sweep preset "${arg}" (sweep presets: sweep-scan-rate, sweep-hint-stack; or a sweep file)`)
  const v = validateSweep(doc)
  if (!v.ok) firstIssue(v.issues)
  return { sweep: v.sweep, dir: preset ? process.cwd() : dirname(resolve(arg)) }
}

/**
 * The base experiment document: inline, a preset, or a file relative to the sweep's folder.
 * Files the experiment refers to get absolute paths, so the points run from any folder.
 */
function loadBase(sweep: Sweep, dir: string): { doc: unknown; baseDir: string } {
  if (typeof sweep.base !== 'string') return { doc: sweep.base, baseDir: dir }
  const preset = presetBase(sweep.base)
  if (preset !== undefined) return { doc: preset, baseDir: dir }
  const file = resolve(dir, sweep.base)
  if (!existsSync(file)) {
    const looksLikeFile = /[./\\]/.test(sweep.base)
    throw new SweepError([{ path: 'base', message: looksLikeFile ? `cannot read "${sweep.base}": no such file` : `unknown preset "${sweep.base}" (see \`samepage presets\`)` }])
  }
  return { doc: readJson(file, 'base experiment'), baseDir: dirname(file) }
}

/** The plan of a loaded sweep, and the sweep as DIR/sweep.file.json keeps it (base inline, absolute file paths). */
export function planSweep(sweep: Sweep, dir: string): { plan: SweepPlan; resolved: Sweep } {
  const { doc, baseDir } = loadBase(sweep, dir)
  const v = validateExperiment(doc)
  if (!v.ok) throw new SweepError([{ path: `base: ${v.issues[0].path}`, message: v.issues[0].message }])
  const base = assetRefs(v.config).length > 0 ? withAbsoluteAssetPaths(v.config, baseDir) : v.config
  const resolved: Sweep = { ...sweep, base: base as unknown as Sweep['base'] }
  const plan = expandSweep(resolved, base)
  resolved.seeds = plan.seeds
  resolved.name = plan.name
  return { plan, resolved }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** The sweep id a folder's sweep.file.json names, or null if the folder has none. */
function folderSweepId(dir: string): string | null {
  const f = join(dir, SWEEP_FILE)
  if (!existsSync(f)) return null
  const doc = readJson(f, 'sweep folder file') as { sweep_id?: unknown }
  return typeof doc.sweep_id === 'string' ? doc.sweep_id : null
}

/**
 * An --out folder for `plan`: created if missing; refused if it is a file, holds files that are
 * not a sweep's, or holds another sweep (its results are never touched). Leftovers of a killed
 * write (`.tmp-` folders) are removed.
 */
export function prepareSweepDir(dir: string, plan: SweepPlan, option = '--out'): string {
  if (dir.trim() === '') throw new SweepUsageError(`${option}: an empty folder name`)
  const abs = resolve(dir)
  if (existsSync(abs) && !isDir(abs)) throw new SweepUsageError(`${option}: "${dir}" exists and is not a folder`)
  if (isDir(abs)) {
    const foreign = readdirSync(abs).find((n) => !OUR_FILES.has(n) && !n.endsWith('.png') && !n.startsWith('.'))
    if (foreign !== undefined) throw new SweepUsageError(`${option}: "${dir}" holds "${foreign}", which is not part of a sweep's results; choose an empty or a sweep folder`)
    const id = folderSweepId(abs)
    if (id !== null && id !== plan.id) throw new SweepUsageError(`${option}: "${dir}" holds the results of another sweep (id ${id}, this one is ${plan.id}); choose another folder`)
  }
  try {
    mkdirSync(join(abs, POINTS), { recursive: true })
  } catch (e) {
    throw new SweepUsageError(`${option}: cannot write to "${dir}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  removeLeftovers(join(abs, POINTS))
  return abs
}

/**
 * Staging folders of writes killed before their rename (writeResultDir's `.<hash>.samepage-new.<pid>`,
 * merge's `.<hash>.tmp-<pid>`), unless that process still runs here. A point is only ever
 * written where none was, so nothing parked needs bringing back.
 */
function removeLeftovers(pointsDir: string): void {
  for (const n of readdirSync(pointsDir)) {
    const m = /^\..*\.(?:tmp-|samepage-new\.|samepage-old\.|samepage-probe\.)(\d+)$/.exec(n)
    if (!m) continue
    if (Number(m[1]) !== process.pid && processAlive(Number(m[1]))) continue
    rmSync(join(pointsDir, n), { recursive: true, force: true })
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A run's cached result, or undefined if it has none (or an unreadable one, which is then redone). */
function readPoint(dir: string, hash: string): RunResult | undefined {
  const f = join(dir, POINTS, hash, 'summary.json')
  if (!existsSync(f)) return undefined
  try {
    const s = JSON.parse(readFileSync(f, 'utf8')) as { lanes?: unknown }
    if (!Array.isArray(s.lanes)) return undefined
    return { hash, lanes: s.lanes as RunResult['lanes'] }
  } catch {
    return undefined
  }
}

function cachedResults(dir: string, plan: SweepPlan): Map<string, RunResult> {
  const out = new Map<string, RunResult>()
  for (const r of plan.runs) {
    const p = readPoint(dir, r.hash)
    if (p) out.set(r.hash, p)
  }
  return out
}

/** sweep.csv, sweep.json, the charts: from every run of the plan the folder holds. */
export async function writeSweepOutputs(dir: string, plan: SweepPlan, resolved: Sweep): Promise<ReturnType<typeof sweepResult>> {
  const results = cachedResults(dir, plan)
  const result = sweepResult(plan, results)
  const files: [string, string | Uint8Array][] = [
    [SWEEP_FILE, JSON.stringify({ sweep_id: plan.id, sweep: resolved }, null, 2) + '\n'],
    ['sweep.csv', sweepCsv(plan, results)],
    ['sweep.json', JSON.stringify(result, null, 2) + '\n']
  ]
  if (result.points.length > 0) for (const [name, chart] of sweepCharts(result, { responsive: false })) files.push([`${name}.png`, await renderChartPng(chart)])
  for (const [name, data] of files) writeAtomic(join(dir, name), data)
  return result
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${path.slice(dirname(path).length + 1)}.tmp-${process.pid}`)
  try {
    writeFileSync(tmp, data)
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}

function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new SweepUsageError(`--${name}: "${value}" is not an integer from ${min} to ${max}`)
  return n
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?'
  if (s < 90) return `${Math.round(s)} s`
  if (s < 5400) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}

function coordsText(plan: SweepPlan, point: number): string {
  return plan.axes.map((a, i) => `${a.path}=${JSON.stringify(plan.points[point].coords[i])}`).join(' ') || '(no axes)'
}

/** What a sweep run did: for the bench and the tests. */
export interface SweepRunReport {
  dir: string
  runsTotal: number
  runsCached: number
  runsDone: number
  failures: { point: number; seed: number; message: string }[]
  wallSeconds: number
  timeline: PoolTimeline | null
  /** process.cpuUsage() over the run (this process and its worker threads), seconds. */
  cpuSeconds: number
}

export async function cmdSweep(args: string[], io: SweepIo): Promise<number> {
  if (args[0] === 'merge') return cmdSweepMerge(args.slice(1), io)
  const { values, positionals } = parse('sweep', args, SWEEP_OPTIONS)
  if (positionals.length !== 1) throw new SweepUsageError(`sweep takes one FILE or sweep preset (got ${positionals.length}); or \`sweep merge DIR...\``)
  const jobs = intOption('jobs', values.jobs, 1, 1024)
  let shard: { index: number; count: number } | undefined
  if (values.shard !== undefined) {
    const s = parseShard(values.shard)
    if (!s.ok) throw new SweepUsageError(`--shard: ${s.message}`)
    shard = s
  }
  const { sweep, dir } = loadSweep(positionals[0])
  const { plan, resolved } = planSweep(sweep, dir)
  const mine = shardRuns(plan, shard)
  const outArg = values.out ?? join('results', 'sweep', plan.name.replace(/[^A-Za-z0-9_.-]+/g, '-'))
  if (values['dry-run']) {
    io.stdout(dryRun(plan, mine, isDir(resolve(outArg)) && folderSweepId(resolve(outArg)) === plan.id ? resolve(outArg) : null, shard))
    return 0
  }
  const out = prepareSweepDir(outArg, plan)
  const report = await runSweep(mine, out, { threads: jobs ?? availableParallelism(), io, label: plan.name })
  const result = await writeSweepOutputs(out, plan, resolved)
  if (values.json) io.stdout(JSON.stringify(result, null, 2) + '\n')
  else io.stdout(resultTable(result, report))
  if (report.failures.length > 0) {
    for (const f of report.failures) io.stderr(`samepage: sweep: point ${f.point} seed ${f.seed} failed: ${f.message}\n`)
    return 1
  }
  return 0
}

function dryRun(plan: SweepPlan, runs: PlanRun[], cacheDir: string | null, shard: { index: number; count: number } | undefined): string {
  const lines: string[] = []
  let cost = 0
  let cached = 0
  const byPoint = new Map<number, PlanRun[]>()
  for (const r of runs) byPoint.set(r.point, [...(byPoint.get(r.point) ?? []), r])
  for (const [p, rs] of byPoint) {
    const done = cacheDir ? rs.filter((r) => existsSync(join(cacheDir, POINTS, r.hash, 'summary.json'))).length : 0
    const c = rs.reduce((s, r) => s + (cacheDir && existsSync(join(cacheDir, POINTS, r.hash, 'summary.json')) ? 0 : runCost(r.config)), 0)
    cost += c
    cached += done
    lines.push(`point ${String(p).padStart(3)}  ${coordsText(plan, p)}  seeds ${rs.map((r) => r.seed).join(',')}${done ? `  (${done} cached)` : ''}  ${c} sim-s x lanes`)
  }
  const head = `${plan.name}: ${plan.points.length} points x ${plan.seeds.length} seeds = ${plan.runs.length} runs${shard ? `; shard ${shard.index}/${shard.count}: ${runs.length} runs` : ''}; ${cached} cached; to run: ${cost} simulated seconds x lanes (sweep id ${plan.id})`
  return [head, ...lines].join('\n') + '\n'
}

/**
 * Run `runs` (those not cached in `out`) and write each as it finishes. Lanes of one run are
 * adjacent in the queue so runs complete one after another; the costliest runs go first, so the
 * last tasks are short and no core idles long at the end.
 */
export async function runSweep(runs: PlanRun[], out: string, o: { threads: number; io: SweepIo; label: string }): Promise<SweepRunReport> {
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const todo = runs.filter((r) => !existsSync(join(out, POINTS, r.hash, 'summary.json')))
  const cachedCount = runs.length - todo.length
  todo.sort((a, b) => laneWork(b.config) - laneWork(a.config) || a.index - b.index)
  const assetsCache = new Map<string, Assets>()
  // A lane whose config (the experiment with that lane alone) recurs in several runs, e.g. the
  // Hint lane of a sweep over KSM's knobs, runs once: lanes share nothing (lanes.ts).
  const tasks: LaneTask[] = []
  const taskUsers: { run: number; lane: number }[][] = [] // (index into todo, lane) per task
  const byLaneHash = new Map<string, number>()
  for (const [ti, r] of todo.entries()) {
    const assets = assetsFor(r.config, assetsCache, r.point)
    r.config.lanes.forEach((lane, index) => {
      const key = hash64(canonicalJson({ ...r.config, name: '', lanes: [lane] }))
      const known = byLaneHash.get(key)
      if (known !== undefined) return void taskUsers[known].push({ run: ti, lane: index })
      byLaneHash.set(key, tasks.length)
      tasks.push({ config: r.config, index, checkInvariants: false, assets })
      taskUsers.push([{ run: ti, lane: index }])
    })
  }
  const pending = todo.map((r) => ({ outputs: new Array<LaneOutput | undefined>(r.config.lanes.length), left: r.config.lanes.length, failed: false }))
  const fraction = tasks.map(() => 0)
  const taskCost = tasks.map((t) => laneWork(t.config))
  const totalCost = taskCost.reduce((a, b) => a + b, 0)
  const failures: SweepRunReport['failures'] = []
  let runsDone = 0
  const writes: Promise<void>[] = []
  const progress = new SweepProgress(o.io, o.label, cachedCount, runs.length)
  const tick = () => {
    const f = totalCost > 0 ? fraction.reduce((s, x, i) => s + x * taskCost[i], 0) / totalCost : 1
    progress.update(cachedCount + runsDone, failures.length, f, (performance.now() - t0) / 1000)
  }
  const settle = (ti: number) => {
    const p = pending[ti]
    if (p.left > 0 || p.failed) return
    const r = todo[ti]
    const lanes = p.outputs.map((x, i) => laneRunOf(r.config, i, x!))
    writes.push(writePoint(out, r, lanes).then(() => {
      runsDone++
      tick()
    }))
  }
  const timeline =
    tasks.length === 0
      ? null
      : await streamTasks<LaneTask, LaneOutput>(LANE_ROLE, new URL(import.meta.url), tasks, o.threads, {
          progress: (i, f) => {
            fraction[i] = f
            tick()
          },
          done: (i, result) => {
            fraction[i] = 1
            for (const u of taskUsers[i]) {
              pending[u.run].outputs[u.lane] = result
              pending[u.run].left--
              settle(u.run)
            }
            tick()
          },
          failed: (i, message) => {
            fraction[i] = 1
            for (const { run: ti, lane } of taskUsers[i]) {
              if (!pending[ti].failed) failures.push({ point: todo[ti].point, seed: todo[ti].seed, message: `lane ${todo[ti].config.lanes[lane].name}: ${message}` })
              pending[ti].failed = true
            }
            tick()
          }
        })
  await Promise.all(writes)
  tick()
  progress.finish()
  const cpu = process.cpuUsage(cpu0)
  return {
    dir: out,
    runsTotal: runs.length,
    runsCached: cachedCount,
    runsDone,
    failures,
    wallSeconds: (performance.now() - t0) / 1000,
    timeline,
    cpuSeconds: (cpu.user + cpu.system) / 1e6
  }
}

/**
 * Relative work of one lane of a config, for ordering and the ETA: simulated seconds x guest
 * pages x (1 + the mean nominal scan rate over 5000 pages/s), a rough fit of this machine's times.
 */
function laneWork(config: Experiment): number {
  const pages = config.vms.reduce((s, v) => s + v.memory_mib * 256, 0)
  const rate = config.lanes.reduce((s, l) => s + (l.scanner.kind === 'none' ? 0 : nominalRate(l.scanner)), 0) / config.lanes.length
  return config.duration_s * pages * (1 + rate / 5000)
}

function assetsFor(config: Experiment, cache: Map<string, Assets>, point: number): Assets | undefined {
  const refs = assetRefs(config)
  if (refs.length === 0) return undefined
  const key = JSON.stringify(refs)
  const hit = cache.get(key)
  if (hit) return hit
  const loaded = loadAssets(config, process.cwd())
  if (loaded.issues.length > 0) throw new SweepError([{ path: `point ${point}: ${loaded.issues[0].path}`, message: loaded.issues[0].message }])
  cache.set(key, loaded.assets)
  return loaded.assets
}

/** One run's folder, written whole or not at all. */
async function writePoint(out: string, run: PlanRun, lanes: LaneRun[]): Promise<void> {
  const summary = composeSummary(run.config, lanes, 0)
  const series = lanes.map((l) => ({ name: l.name, series: l.series, column: (n: MetricName) => l.series.column(n) }))
  await writeResultDir(join(out, POINTS, run.hash), [
    ['config.json', JSON.stringify(run.config, null, 2) + '\n'],
    ['summary.json', JSON.stringify(summary, null, 2) + '\n'],
    ['series.csv', seriesCsv(series)]
  ])
}

/**
 * Progress on stderr: on a terminal a bar redrawn in place, otherwise (a cluster's log) a line
 * at most every 10 s and at the end. Runs done (of this shard), failures and the ETA.
 */
class SweepProgress {
  private lastLine = 0
  private lastText = ''
  constructor(
    private readonly io: SweepIo,
    private readonly label: string,
    private readonly cached: number,
    private readonly total: number
  ) {}

  update(done: number, failed: number, fraction: number, elapsedS: number): void {
    const eta = fraction > 0 && fraction < 1 ? (elapsedS * (1 - fraction)) / fraction : 0
    const width = 24
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.')
    const text = `${this.label} [${bar}] ${done}/${this.total} points${this.cached ? ` (${this.cached} cached)` : ''}, ${failed} failed, ETA ${fraction >= 1 ? '0 s' : fmtDuration(eta)}`
    if (text === this.lastText) return
    this.lastText = text
    if (this.io.stderrIsTTY) this.io.stderr(`\r${text} `)
    else if (elapsedS - this.lastLine >= 10) {
      this.lastLine = elapsedS
      this.io.stderr(text + '\n')
    }
  }

  finish(): void {
    if (this.io.stderrIsTTY) this.io.stderr('\r' + ' '.repeat(this.lastText.length + 1) + '\r')
  }
}

function resultTable(result: ReturnType<typeof sweepResult>, report: SweepRunReport): string {
  const head = ['point', ...result.axes.map((a) => a.path), 'lane', 'seeds', ...result.metrics, 'frontier']
  const rows: string[][] = []
  for (const p of result.points) {
    for (const l of p.lanes) {
      rows.push([
        String(p.point),
        ...result.axes.map((a) => JSON.stringify(p.coords[a.path])),
        l.lane,
        String(l.seeds),
        ...result.metrics.map((m) => {
          const s = l.metrics[m]
          return s ? `${fmtNum(s.mean)}${s.n > 1 ? ` ±${fmtNum(s.sd)}` : ''}` : '-'
        }),
        l.pareto ? 'yes' : ''
      ])
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  const missing = result.missing.length > 0 ? `; ${result.missing.length} runs missing (other shards, failed or not run)` : ''
  return (
    `${result.name}: ${result.runs_done}/${result.runs_total} runs (${report.runsCached} cached, ${report.runsDone} run now, ${report.failures.length} failed) in ${report.wallSeconds.toFixed(1)} s${missing}\n` +
    `results: ${report.dir}\n` +
    [line(head), ...rows.map(line)].join('\n') +
    '\n'
  )
}

function fmtNum(x: number): string {
  if (Number.isInteger(x)) return String(x)
  const a = Math.abs(x)
  return a >= 100 ? x.toFixed(1) : a >= 1 ? x.toFixed(3) : x.toPrecision(3)
}

/** `sweep merge DIR... [--out DIR]`: the shard folders of one sweep joined into one. */
async function cmdSweepMerge(args: string[], io: SweepIo): Promise<number> {
  const { values, positionals } = parse('sweep merge', args, { out: { type: 'string' }, json: { type: 'boolean' } } as const)
  if (positionals.length === 0) throw new SweepUsageError('sweep merge takes one or more sweep folders (DIR...)')
  let first: { id: string; dir: string; sweep: Sweep } | undefined
  for (const d of positionals) {
    if (!isDir(d)) throw new SweepUsageError(`sweep merge: "${d}" is not a folder`)
    const f = join(d, SWEEP_FILE)
    if (!existsSync(f)) throw new SweepUsageError(`sweep merge: "${d}" is not a sweep folder (no ${SWEEP_FILE})`)
    const doc = readJson(f, 'sweep folder file') as { sweep_id?: unknown; sweep?: unknown }
    const v = validateSweep(doc.sweep)
    if (typeof doc.sweep_id !== 'string' || !v.ok) throw new SweepUsageError(`sweep merge: "${f}" is damaged (not a sweep folder file)`)
    if (first && doc.sweep_id !== first.id) throw new SweepUsageError(`sweep merge: "${d}" holds another sweep than "${first.dir}" (ids ${doc.sweep_id} and ${first.id}); only shards of one sweep can be merged`)
    first ??= { id: doc.sweep_id, dir: d, sweep: v.sweep }
  }
  const { plan, resolved } = planSweep(first!.sweep, resolve(first!.dir))
  if (plan.id !== first!.id) throw new SweepUsageError(`sweep merge: "${first!.dir}" names sweep ${first!.id} but its file expands to ${plan.id} (written by another version?)`)
  const out = prepareSweepDir(values.out ?? positionals[0], plan)
  let copied = 0
  for (const d of positionals) {
    const src = resolve(d)
    if (src === out) continue
    for (const r of plan.runs) {
      if (existsSync(join(out, POINTS, r.hash, 'summary.json')) || !readPoint(src, r.hash)) continue
      const stage = join(out, POINTS, `.${r.hash}.tmp-${process.pid}`)
      rmSync(stage, { recursive: true, force: true })
      cpSync(join(src, POINTS, r.hash), stage, { recursive: true })
      renameSync(stage, join(out, POINTS, r.hash))
      copied++
    }
  }
  const result = await writeSweepOutputs(out, plan, resolved)
  if (values.json) io.stdout(JSON.stringify(result, null, 2) + '\n')
  else io.stdout(`${plan.name}: merged ${positionals.length} folders into ${out}: ${result.runs_done}/${result.runs_total} runs (${copied} copied)${result.missing.length ? `, ${result.missing.length} missing` : ''}\n`)
  return 0
}

export { poolUtilisation }
