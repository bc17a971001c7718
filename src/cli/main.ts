/**
 * The `samepage` command line: run experiments headless, list presets, validate configs, print
 * the JSON Schema. Bad input gets one clear line on stderr and exit code 2; an invariant
 * violation under --check-invariants exits 1.
 */
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, experimentJsonSchema, formatIssueLine, overrideDuration, parseExperimentText, parseJsonText, validateExperiment, type Experiment } from '../core/experiment/config.ts'
import { oneLine, quoteValue } from '../core/experiment/messages.ts'
import { costWarning, memoryProblem } from '../core/experiment/estimate.ts'
import { seriesCsv, type Summary } from '../core/experiment/engine.ts'
import type { MetricName } from '../core/experiment/metrics.ts'
import { composeSummary, runLanes, type LaneRun } from './lanes.ts'
import { InvariantError } from '../core/experiment/lane.ts'
import { DEFAULT_PRESET, findPreset, PRESETS } from '../core/experiment/presets.ts'
import { CHARTS, figureFileName, laneHasHints, parseFormats, type ChartId, type ExportFormat, type LaneData } from '../core/analysis/charts.ts'
import type { ChartConfiguration } from 'chart.js'
import { renderFigure } from './png.ts'
import { withEventMarkers } from '../core/analysis/chart-events.ts'
import { ProgressBar } from './progress.ts'
import { cmdImage, ImageUsageError } from './image.ts'
import { cmdDump } from './dump.ts'
import { cmdKernel, KERNEL_USAGE } from './kernel.ts'
import { KernelUsageError } from '../kernel/run.ts'
import { KsmError } from '../kernel/sysfs.ts'
import { cmdPlace } from './place.ts'
import { cmdSweep, SweepUsageError } from './sweep.ts'
import { SweepError } from '../core/sweep/expand.ts'
import { sweepJsonSchema } from '../core/sweep/schema.ts'
import { SWEEP_PRESETS } from '../core/sweep/presets.ts'
import { loadAssets, withAbsoluteAssetPaths } from '../host/node/assets.ts'
import { FileReadError, readRegularTextSync } from '../host/node/read-file.ts'
import { WorkerMemoryError } from '../host/node/worker-limits.ts'
import { nodeMemoryBudget } from '../host/node/memory-budget.ts'
import { MAX_CONFIG_BYTES } from '../core/experiment/files.ts'
import { assetRefs, type Assets } from '../core/experiment/assets.ts'
import { formatReport, outputs, parseParts, reproduce } from './reproduce.ts'
import { prepareResultDirReporting, ResultDirError, writeResultDir, type ResultFile } from '../host/node/result-dir.ts'
import { fitProfile, modelCpuPercent, OP_NAMES, type FitTarget } from '../core/analysis/calibrate.ts'
import { XEON_X5560, XEON_X5560_PRIOR, type OpName } from '../core/machine/cost.ts'
import { PAPER_RATES, PAPER_TABLE1, table1Cells } from '../core/analysis/reproduce.ts'

/** Bad input: printed as one line, exit code 2. */
export class UsageError extends Error {}

const USAGE = `usage: samepage <command> [options]

commands:
  run [CONFIG.json | PRESET] [--out DIR] [--format png,svg,pdf] [--seed N] [--duration SECONDS]
      [--check-invariants] [--json]
                      run an experiment (default preset: ${DEFAULT_PRESET}); --out writes its
                      config, summary, series and every chart as NAME-CHART.FORMAT (default png)
  presets             list the presets
  reproduce [--only fig1,fig2,fig6,table1] [--out DIR] [--json] [--quick] [--seeds N]
                      run the paper's experiments and print its numbers beside ours
  image build SOURCE -o IMAGE   index a directory or .tar/.tar.gz: xxhash64 of every 4 KiB page
  image build SOURCE -o IMAGE --beyond   also Difference Engine's data: similar pages, patches, compression
  image stats IMAGE... [--json] [--beyond]  pages, distinct, zero and ideal sharing within and across
                      images; --beyond adds patching and compression savings (Difference Engine)
  place PLAN.json [--json] [--out DIR] [--run]  place VMs on hosts by memory fingerprints (Memory
                      Buddies) against first-fit; --run runs each host as an experiment
  dump import DUMP -o SNAPSHOT  hash a raw memory dump (pmemsave) or ELF core (dump-guest-memory)
                      per 4 KiB page into a snapshot a VM can start from (snapshot_file);
                      all-zero pages are left out as never touched (--keep-zero keeps them)
  dump capture --pid PID -o SNAPSHOT [--mapping ADDR]  a running QEMU's guest RAM as the host
                      holds it (/proc/PID/pagemap and /proc/PID/mem; Linux, ptrace access)
${KERNEL_USAGE}
  sweep FILE|PRESET [--out DIR] [--jobs N] [--shard I/N] [--dry-run] [--json]
                      run every point x seed of a sweep on a pool of workers; resumes from DIR
  sweep merge DIR... [--out DIR]  join the shard folders of one sweep
  validate FILE       check an experiment file (exit 2 and one line per problem if invalid)
  schema [--sweep]    print the JSON Schema of experiment files (of sweep files)
  help                this text`

export interface CliIo {
  stdout: (s: string) => void
  stderr: (s: string) => void
  stderrIsTTY: boolean
}

const defaultIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stderrIsTTY: Boolean(process.stderr.isTTY)
}

export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  try {
    const [cmd, ...rest] = argv
    switch (cmd) {
      case 'run':
        return await cmdRun(rest, io)
      case 'reproduce':
        return await cmdReproduce(rest, io)
      case 'calibrate':
        return await cmdCalibrate(rest, io)
      case 'image':
        return await cmdImage(rest, io)
      case 'dump':
        return await cmdDump(rest, io)
      case 'kernel':
        return await cmdKernel(rest, io)
      case 'place':
        return await cmdPlace(rest, io)
      case 'sweep':
        return await cmdSweep(rest, io)
      case 'presets':
        noArgs('presets', rest)
        printPresets(io)
        return 0
      case 'validate':
        return cmdValidate(rest, io)
      case 'schema': {
        const sweep = rest.length === 1 && rest[0] === '--sweep'
        if (!sweep) noArgs('schema', rest)
        io.stdout(JSON.stringify(sweep ? sweepJsonSchema() : experimentJsonSchema(), null, 2) + '\n')
        return 0
      }
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE + '\n')
        return 0
      case undefined:
        throw new UsageError('no command given (commands: run, reproduce, calibrate, image, dump, kernel, place, sweep, presets, validate, schema, help; `samepage help` for more)')
      default:
        throw new UsageError(`unknown command "${cmd}" (commands: run, reproduce, calibrate, image, dump, kernel, place, sweep, presets, validate, schema, help)`)
    }
  } catch (e) {
    // Every message is one line: control characters in echoed values are escaped (oneLine).
    if (e instanceof UsageError || e instanceof ImageUsageError || e instanceof ResultDirError || e instanceof KernelUsageError || e instanceof KsmError || e instanceof SweepUsageError) {
      io.stderr(`samepage: ${oneLine(e.message)}\n`)
      return 2
    }
    if (e instanceof SweepError) {
      for (const i of e.issues) io.stderr(`samepage: ${oneLine(`sweep: ${i.path}: ${i.message}`)}\n`)
      return 2
    }
    if (e instanceof ConfigError) {
      for (const i of e.issues) io.stderr(`samepage: ${formatIssueLine(i, e.file)}\n`)
      return 2
    }
    if (e instanceof WorkerMemoryError) {
      io.stderr(`samepage: ${oneLine(e.message)}\n`)
      return 1
    }
    if (e instanceof InvariantError) {
      io.stderr(`samepage: invariant violated: ${oneLine(e.message)}\n`)
      return 1
    }
    throw e
  }
}

function noArgs(cmd: string, rest: string[]): void {
  if (rest.length > 0) throw new UsageError(`${cmd} takes no arguments (got "${rest[0]}")`)
}

const RUN_OPTIONS = {
  out: { type: 'string' },
  format: { type: 'string' },
  seed: { type: 'string' },
  duration: { type: 'string' },
  'check-invariants': { type: 'boolean' },
  json: { type: 'boolean' }
} as const

export function parse<O extends Record<string, { type: 'string' | 'boolean' }>>(cmd: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message.split('\n')[0]}`)
  }
}

/** An experiment file: a regular file of at most MAX_CONFIG_BYTES (a device or FIFO is refused). */
function readJsonFile(path: string): string {
  try {
    return readRegularTextSync(path, MAX_CONFIG_BYTES)
  } catch (e) {
    if (e instanceof FileReadError) throw new UsageError(`cannot read "${path}": ${e.reason}${e.code === 'EFBIG' ? ' (an experiment file is a few KiB)' : ''}`)
    throw e
  }
}

function cmdValidate(args: string[], io: CliIo): number {
  const { positionals } = parse('validate', args, {})
  if (positionals.length !== 1) throw new UsageError('validate takes exactly one FILE')
  const r = parseExperimentText(readJsonFile(positionals[0]))
  // Files the config refers to must exist and be what the field says (relative to the config's folder).
  const issues = r.ok ? loadAssets(r.config, dirname(resolve(positionals[0]))).issues : r.issues
  if (r.ok && issues.length === 0) {
    io.stdout(`${positionals[0]}: valid (${r.config.name})\n`)
    return 0
  }
  for (const i of issues) io.stderr(`${formatIssueLine(i, positionals[0])}\n`)
  return 2
}

/** `samepage presets`: one per line, names padded to the longest. */
function printPresets(io: CliIo): void {
  const all = [...PRESETS, ...SWEEP_PRESETS]
  const width = Math.max(...all.map((p) => p.name.length))
  for (const p of PRESETS) io.stdout(`${p.name.padEnd(width)}  ${p.description}\n`)
  // Sweep presets run with `samepage sweep NAME`.
  for (const p of SWEEP_PRESETS) io.stdout(`${p.name.padEnd(width)}  (sweep) ${p.description}\n`)
}

/**
 * The experiment document named by a preset or a file, before overrides, and the folder that
 * relative file paths in it resolve against (the file's folder; the working directory for a preset).
 */
export function loadInput(arg: string | undefined): { doc: unknown; baseDir: string } {
  const name = arg ?? DEFAULT_PRESET
  const preset = findPreset(name)
  if (preset) return { doc: structuredClone(preset.config), baseDir: process.cwd() }
  if (!existsSync(name)) {
    const looksLikeFile = /[./\\]/.test(name)
    throw new UsageError(looksLikeFile ? `cannot read ${quoteValue(name, 4096)}: no such file` : `unknown preset ${quoteValue(name)} (see \`samepage presets\`)`)
  }
  const j = parseJsonText(readJsonFile(name))
  if (!j.ok) throw new ConfigError(j.issues, name)
  return { doc: j.doc, baseDir: dirname(resolve(name)) }
}

export function numberOption(name: string, value: string | undefined, check: (n: number) => boolean, want: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: "${value}" is not ${want}`)
  return n
}

async function cmdRun(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('run', args, RUN_OPTIONS)
  if (positionals.length > 1) throw new UsageError(`run takes one CONFIG or PRESET (got ${positionals.length})`)
  const seed = numberOption('seed', values.seed, (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, 'an integer from 0 to 4294967295')
  const duration = numberOption('duration', values.duration, (n) => n > 0, 'a positive number of seconds')
  const { doc, baseDir } = loadInput(positionals[0])
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    const d = doc as Record<string, unknown>
    if (seed !== undefined) d.seed = seed
    if (duration !== undefined) overrideDuration(d, duration)
  }
  const v = validateExperiment(doc)
  if (!v.ok) throw new ConfigError(v.issues)
  const config = v.config
  checkMachineFits(config, io)
  let assets: Assets | undefined
  if (assetRefs(config).length > 0) {
    const loaded = loadAssets(config, baseDir)
    if (loaded.issues.length > 0) throw new ConfigError(loaded.issues)
    assets = loaded.assets
  }
  let formats: ExportFormat[] = ['png']
  if (values.format !== undefined) {
    if (values.out === undefined) throw new UsageError('--format: give --out DIR too (the figures are written there)')
    try {
      formats = parseFormats(values.format)
    } catch (e) {
      throw new UsageError(`--format: ${(e as Error).message}`)
    }
  }
  const outDir = values.out !== undefined ? prepareOutDir(values.out, io) : null

  const bar = io.stderrIsTTY ? new ProgressBar(io.stderr, config.name) : null
  const t0 = performance.now()
  // Lanes run side by side on worker threads (lanes.ts): the same results, both cores busy.
  const lanes = await runLanes(config, { checkInvariants: Boolean(values['check-invariants']), assets }, (f) => bar?.update(f, (performance.now() - t0) / 1000, f * config.duration_s))
  bar?.finish()
  const summary = composeSummary(config, lanes, (performance.now() - t0) / 1000)
  // config.json names the files it ran with by absolute path, so it runs again from the output folder.
  if (outDir) await writeOutputs(outDir, withAbsoluteAssetPaths(config, baseDir), lanes, summary, formats)
  io.stdout(values.json ? JSON.stringify(summary, null, 2) + '\n' : summaryTable(summary))
  return 0
}

const REPRODUCE_OPTIONS = {
  only: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  quick: { type: 'boolean' },
  seeds: { type: 'string' }
} as const

/** Seeds of the sensitivity check: the presets' seed and the next ones. */
const FIRST_SEED = 42

async function cmdReproduce(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('reproduce', args, REPRODUCE_OPTIONS)
  if (positionals.length > 0) throw new UsageError(`reproduce takes no arguments (got "${positionals[0]}")`)
  let parts
  try {
    parts = parseParts(values.only)
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
  const quick = Boolean(values.quick)
  const nSeeds = numberOption('seeds', values.seeds, (n) => Number.isInteger(n) && n >= 1 && n <= 20, 'an integer from 1 to 20') ?? (quick ? 1 : 3)
  const seeds = Array.from({ length: nSeeds }, (_, i) => FIRST_SEED + i)
  const outDir = values.out !== undefined ? prepareOutDir(values.out, io) : null
  const bar = io.stderrIsTTY ? new ProgressBar(io.stderr, 'reproduce') : null
  const t0 = performance.now()
  const { results, report } = await reproduce({ parts, seeds, quick }, (f) => bar?.update(f, (performance.now() - t0) / 1000))
  bar?.finish()
  if (outDir) await writeResultDir(outDir, await outputs(results, report))
  io.stdout(values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report))
  return 0
}

/**
 * `samepage calibrate`: run Figure 6's experiments, then refit the CPU profile's costs to the
 * paper's Table 1 from the scanners' operation counts (src/core/analysis/calibrate.ts). Prints the fit;
 * the default profile in src/core/machine/cost.ts holds its result (docs/calibration.md).
 */
async function cmdCalibrate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('calibrate', args, { seeds: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' } } as const)
  if (positionals.length > 0) throw new UsageError(`calibrate takes no arguments (got "${positionals[0]}")`)
  const quick = Boolean(values.quick)
  const nSeeds = numberOption('seeds', values.seeds, (n) => Number.isInteger(n) && n >= 1 && n <= 20, 'an integer from 1 to 20') ?? 1
  const seeds = Array.from({ length: nSeeds }, (_, i) => FIRST_SEED + i)
  const bar = io.stderrIsTTY ? new ProgressBar(io.stderr, 'calibrate') : null
  const t0 = performance.now()
  const { results } = await reproduce({ parts: ['table1'], seeds, quick }, (f) => bar?.update(f, (performance.now() - t0) / 1000))
  bar?.finish()
  const targets: FitTarget[] = []
  for (const scanner of ['ksm', 'hint'] as const) {
    for (const rate of PAPER_RATES) {
      const lanes = results.filter((r) => table1Cells(r)[0]?.rate === rate).flatMap((r) => r.series.filter((s) => s.scanner === scanner))
      const ops = Object.fromEntries(OP_NAMES.map((k) => [k, lanes.reduce((a, l) => a + l.ops[k], 0) / lanes.length])) as Record<OpName, number>
      targets.push({ label: `${scanner === 'ksm' ? 'KSM' : 'Hint'} ${rate}`, opsPerSecond: ops, cpuPercent: PAPER_TABLE1[scanner][rate] })
    }
  }
  const fit = fitProfile(XEON_X5560_PRIOR, targets)
  if (values.json) {
    io.stdout(JSON.stringify({ seeds, quick, profile: fit.profile, rows: fit.rows, targets }, null, 2) + '\n')
    return 0
  }
  let out = `Table 1 fit (${seeds.length} seed(s)${quick ? ', QUICK runs' : ''}): CPU % with the prior estimates, the current profile and the fitted one\n`
  for (const [i, t] of targets.entries()) {
    const prior = modelCpuPercent(XEON_X5560_PRIOR, t.opsPerSecond)
    const now = modelCpuPercent(XEON_X5560, t.opsPerSecond)
    out += `${t.label.padEnd(10)} paper ${String(t.cpuPercent).padStart(6)}  prior ${prior.toFixed(3).padStart(6)}  current ${now.toFixed(3).padStart(6)}  fitted ${fit.rows[i].model.toFixed(3).padStart(6)} (x${fit.rows[i].ratio.toFixed(2)})\n`
  }
  out += '\nfitted costs (ns), prior in parentheses:\n'
  for (const k of OP_NAMES) out += `  ${k}_ns: ${fit.profile[`${k}_ns`]} (${XEON_X5560_PRIOR[`${k}_ns`]})\n`
  io.stdout(out)
  return 0
}

/**
 * Refuses a run that does not fit this machine (src/core/experiment/estimate.ts: guest pages, workload
 * sizes, samples x lanes x columns) before anything runs, naming the estimate and the field to
 * change; warns when its work is large.
 */
function checkMachineFits(config: Experiment, io: CliIo): void {
  const problem = memoryProblem(config, nodeMemoryBudget())
  if (problem) throw new ConfigError([problem])
  const reference = validateExperiment(findPreset('paper-fig6b')?.config)
  const warning = reference.ok ? costWarning(config, reference.config) : null
  if (warning) io.stderr(`samepage: warning: ${warning}\n`)
}

/**
 * An --out folder: refused when it cannot hold a result (src/host/node/result-dir.ts); what an
 * interrupted earlier write left there is cleaned, and said on stderr.
 */
export function prepareOutDir(dir: string, io: CliIo): string {
  const { path, recovered } = prepareResultDirReporting(dir)
  for (const r of recovered) io.stderr(`samepage: --out: ${r}\n`)
  return path
}

/** The charts `run --out` draws: every chart of CHARTS, the hint stack only when a lane has hints. */
export function figureCharts(lanes: readonly LaneData[]): ChartId[] {
  return (Object.keys(CHARTS) as ChartId[]).filter((id) => id !== 'hints' || lanes.some(laneHasHints))
}

async function writeOutputs(dir: string, config: Experiment, runs: LaneRun[], summary: Summary, formats: readonly ExportFormat[]): Promise<void> {
  const lanes = runs.map((l) => ({ name: l.name, scanner: l.scanner, series: l.series, column: (n: MetricName) => l.series.column(n) }))
  // The first lane's events (all but the many full scans) as markers on the sharing and CPU
  // charts, as the app shows a lane's.
  const events = (summary.lanes[0]?.events ?? []).filter((e) => e.kind !== 'full_scan')
  const vmNames = config.vms.map((v) => v.name)
  const files: ResultFile[] = [
    ['config.json', JSON.stringify(config, null, 2) + '\n'],
    ['summary.json', JSON.stringify(summary, null, 2) + '\n'],
    ['series.csv', seriesCsv(lanes)]
  ]
  // The same chart spec in every format (src/core/analysis/charts.ts), named after the experiment.
  for (const id of figureCharts(lanes)) {
    const built = CHARTS[id].build(lanes, { responsive: false })
    const spec = id === 'sharing' || id === 'cpu' ? withEventMarkers(built, events, vmNames) : built
    for (const f of formats) files.push([figureFileName(config.name, id, f), await renderFigure(spec as ChartConfiguration, f, { title: `${config.name}: ${CHARTS[id].title}` })])
  }
  await writeResultDir(dir, files)
}

/** cpu_ns_per_shared_page in µs, or "-" when the run saved no page. */
function usPerPage(ns: number | null): string {
  return ns === null || !Number.isFinite(ns) ? '-' : (ns / 1000).toFixed(2)
}

/**
 * The table `samepage run` prints. "gained" is pages_sharing_gained (pages the run saved),
 * "CPU us/page" the scanner CPU per such page.
 */
function summaryTable(s: Summary): string {
  const head = ['lane', 'scanner', 'sharing mean', 'max', 'final', 'saved MiB', 'CPU %', 'gained', 'CPU us/page', 'shared', 'sharing', 'unshared', 'volatile', 'full_scans', 'hints pushed', 'dropped', 'CoW breaks', 'cross-tenant']
  const rows = s.lanes.map((l) => [
    l.name,
    l.scanner,
    l.sharing_ratio.mean.toFixed(3),
    l.sharing_ratio.max.toFixed(3),
    l.sharing_ratio.final.toFixed(3),
    l.saved_mib.final.toFixed(1),
    l.cpu_percent.mean.toFixed(3),
    String(l.pages_sharing_gained),
    usPerPage(l.cpu_ns_per_shared_page),
    String(l.pages_shared),
    String(l.pages_sharing),
    String(l.pages_unshared),
    String(l.pages_volatile),
    String(l.full_scans),
    String(l.hints.pushed),
    String(l.hints.dropped),
    String(l.cow_breaks),
    String(l.cross_tenant_merges)
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  return (
    `${s.config_name}: ${s.sim_seconds} s simulated in ${s.wall_seconds.toFixed(1)} s, seed ${s.seed}, ${s.total_guest_pages} guest pages\n` +
    [line(head), ...rows.map(line)].join('\n') +
    '\n'
  )
}
