/**
 * `samepage kernel run|compare|validate|calibrate|restore`: the host's real Linux KSM as a peer
 * of the simulator (src/kernel/). Needs root on Linux; every knob is recorded first and restored
 * on exit (docs/kernel-validation.md).
 */
import { writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, resolve } from 'node:path'
import type { Assets } from '../core/experiment/assets.ts'
import { assetRefs } from '../core/experiment/assets.ts'
import { cpuChart, sharingChart, type LaneData } from '../core/analysis/charts.ts'
import { ConfigError, overrideDuration, validateExperiment, type Experiment } from '../core/experiment/config.ts'
import { Engine, seriesCsv, type LaneSummary } from '../core/experiment/engine.ts'
import type { MetricName, Series } from '../core/experiment/metrics.ts'
import { buildResult, resultToText } from '../core/experiment/result.ts'
import { loadAssets, withAbsoluteAssetPaths } from '../host/node/assets.ts'
import { writeResultDir, type ResultFile } from '../host/node/result-dir.ts'
import { compareRuns, formatComparison, type Comparison } from '../kernel/compare.ts'
import { kernelRun, KernelUsageError, pickKsmLane, type KernelRunResult } from '../kernel/run.ts'
import { runCalibration } from '../kernel/calibrate.ts'
import { checkScenario, formatValidation, type ScenarioResult } from '../kernel/validate.ts'
import { validationScenarios } from '../kernel/scenarios.ts'
import { timerWheelOf } from '../kernel/proc.ts'
import { defaultStatePath, readState, restoreFromState } from '../kernel/state.ts'
import { KsmSysfs, KSM_SYSFS } from '../kernel/sysfs.ts'
import { renderChartPng } from './png.ts'
import { loadInput, numberOption, parse, prepareOutDir, UsageError, type CliIo } from './main.ts'

export const KERNEL_USAGE = `  kernel run CONFIG|PRESET|SCENARIO [--lane NAME] [--out DIR] [--duration S] [--force] [--json]
                      run the experiment's guests in real time with this host's ksmd scanning
                      (root, Linux; 1x real time: use short scenarios, e.g. the validation
                      scenarios static-100-20, copies-mps-16, rewrite-20, ...)
  kernel compare CONFIG|PRESET|SCENARIO [--lane NAME] [--out DIR] [--duration S] [--force] [--json]
                      kernel run and the simulator on the same config: one table (and compare.png)
  kernel validate [--out DIR] [--cpu-profile FILE] [--only NAME,...] [--json]
                      the battery of docs/kernel-validation.md, pass/fail per scenario (~4 min)
  kernel calibrate [-o PROFILE.json]   measure ksmd's CPU costs on this host: a CPU profile file
  kernel restore      put KSM's knobs back after a killed kernel run (its state file)`

function sysfs(): KsmSysfs {
  return new KsmSysfs(process.env.SAMEPAGE_KSM_SYSFS ?? KSM_SYSFS)
}

export async function cmdKernel(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args
  switch (sub) {
    case 'run':
      return await cmdKernelRun(rest, io)
    case 'compare':
      return await cmdKernelCompare(rest, io)
    case 'validate':
      return await cmdKernelValidate(rest, io)
    case 'calibrate':
      return await cmdKernelCalibrate(rest, io)
    case 'restore':
      return cmdKernelRestore(rest, io)
    case undefined:
      throw new UsageError('kernel: which? (kernel run, compare, validate, calibrate, restore)')
    default:
      throw new UsageError(`kernel: unknown subcommand "${sub}" (run, compare, validate, calibrate, restore)`)
  }
}

const RUN_OPTIONS = {
  lane: { type: 'string' },
  out: { type: 'string' },
  duration: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' }
} as const

/** The config and its files, as `samepage run` loads them. */
function loadConfig(positional: string | undefined, durationArg: string | undefined): { config: Experiment; assets?: Assets; baseDir: string } {
  const duration = numberOption('duration', durationArg, (n: number) => n > 0, 'a positive number of seconds')
  // A scenario of the validation battery by name (its snapshots are built in memory).
  const scenario = validationScenarios().find((s) => s.name === positional)
  if (scenario) {
    const doc = structuredClone(scenario.config) as unknown as Record<string, unknown>
    if (duration !== undefined) overrideDuration(doc, duration)
    const v = validateExperiment(doc)
    if (!v.ok) throw new ConfigError(v.issues)
    return { config: v.config, assets: scenario.assets, baseDir: process.cwd() }
  }
  const { doc, baseDir } = loadInput(positional)
  if (duration !== undefined && doc !== null && typeof doc === 'object' && !Array.isArray(doc)) overrideDuration(doc as Record<string, unknown>, duration)
  const v = validateExperiment(doc)
  if (!v.ok) throw new ConfigError(v.issues)
  let assets: Assets | undefined
  if (assetRefs(v.config).length > 0) {
    const loaded = loadAssets(v.config, baseDir)
    if (loaded.issues.length > 0) throw new ConfigError(loaded.issues)
    assets = loaded.assets
  }
  return { config: v.config, assets, baseDir }
}

function progress(io: CliIo): ((f: number, phase: 'boot' | 'run') => void) | undefined {
  if (!io.stderrIsTTY) return undefined
  let last = -1
  return (f, phase) => {
    const pct = Math.floor(f * 100)
    if (pct === last) return
    last = pct
    io.stderr(`\r${phase === 'boot' ? 'booting' : 'running'} on the kernel: ${pct} %   `)
    if (f >= 1) io.stderr('\r' + ' '.repeat(40) + '\r')
  }
}

async function runOnKernel(config: Experiment, assets: Assets | undefined, lane: string | undefined, force: boolean, io: CliIo): Promise<KernelRunResult> {
  return kernelRun(config, { lane, force, assets, sysfs: sysfs(), statePath: defaultStatePath(), note: (l) => io.stderr(l + '\n'), onProgress: progress(io) })
}

function laneData(name: string, scanner: string, series: Series): LaneData {
  return { name, scanner, column: (m: MetricName) => series.column(m) }
}

/** The files of a kernel run's result folder, `kernel.result.json` among them (opens in the app). */
async function kernelFiles(r: KernelRunResult, baseDir: string): Promise<ResultFile[]> {
  const config = withAbsoluteAssetPaths(r.config, baseDir)
  const name = r.config.lanes[0].name
  const lane = laneData(name, r.summary.lanes[0].scanner, r.series)
  const doc = buildResult(config, r.summary, [{ name, scanner: r.summary.lanes[0].scanner, columns: r.series.slice(0) }])
  return [
    ['config.json', JSON.stringify(config, null, 2) + '\n'],
    ['summary.json', JSON.stringify(r.summary, null, 2) + '\n'],
    ['series.csv', seriesCsv([{ name, series: r.series }])],
    ['kernel.result.json', resultToText(doc)],
    ['sharing.png', await renderChartPng(sharingChart([lane], { responsive: false }))],
    ['cpu.png', await renderChartPng(cpuChart([lane], { responsive: false }))]
  ]
}

function kernelLine(r: KernelRunResult): string {
  const k = r.summary.kernel
  const l = r.summary.lanes[0]
  return (
    `${r.summary.config_name} on Linux ${k.release} (HZ ${k.hz ?? 'unknown'}, ${k.cpu_model}): ${r.summary.sim_seconds} s, lane "${r.sourceLane}" knobs\n` +
    `pages_shared ${l.pages_shared}  pages_sharing ${l.pages_sharing}  pages_unshared ${l.pages_unshared}  pages_volatile ${l.pages_volatile}  ksm_zero_pages ${l.ksm_zero_pages}  ` +
    `stable_node_chains ${l.stable_node_chains}  stable_node_dups ${l.stable_node_dups}  full_scans ${l.full_scans}  pages_scanned ${l.pages_scanned}\n` +
    `ksmd CPU ${l.cpu_percent.mean.toFixed(3)} % (${k.ksmd_cpu_ticks} ticks at ${k.clk_tck}/s; ${k.cpu_source}), waiting for a CPU ${Number.isFinite(k.ksmd_wait_percent) ? k.ksmd_wait_percent.toFixed(1) : '-'} %  writer lag max ${(k.writer_lag_s.max * 1000).toFixed(1)} ms, mean ${(k.writer_lag_s.mean * 1000).toFixed(1)} ms${k.fell_behind ? '  FELL BEHIND' : ''}\n`
  )
}

async function cmdKernelRun(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('kernel run', args, RUN_OPTIONS)
  if (positionals.length !== 1) throw new UsageError('kernel run takes one CONFIG or PRESET')
  const { config, assets, baseDir } = loadConfig(positionals[0], values.duration)
  pickKsmLane(config, values.lane)
  const outDir = values.out !== undefined ? prepareOutDir(values.out, io) : null
  const r = await runOnKernel(config, assets, values.lane, Boolean(values.force), io)
  if (outDir) await writeResultDir(outDir, await kernelFiles(r, baseDir))
  io.stdout(values.json ? JSON.stringify(r.summary, null, 2) + '\n' : kernelLine(r))
  return 0
}

/** The simulator on one lane of the config, in this thread. */
export function simulateLane(config: Experiment, laneIndex: number, assets?: Assets): { series: Series; summary: LaneSummary; cpuNs: number } {
  const engine = new Engine({ ...config, lanes: [config.lanes[laneIndex]] }, { assets })
  engine.run()
  const lane = engine.lanes[0]
  return { series: lane.series, summary: engine.summary(0).lanes[0], cpuNs: lane.measuredCpuNs() }
}

/** Kernel run, then the simulator on the same lane; their comparison. */
export async function compareOnKernel(config: Experiment, assets: Assets | undefined, laneName: string | undefined, force: boolean, io: CliIo) {
  const { index } = pickKsmLane(config, laneName)
  const k = await runOnKernel(config, assets, laneName, force, io)
  const sim = simulateLane(withHostTimer(config, k.summary.kernel), index, assets)
  const comparison = compareRuns(sim, { series: k.series, summary: k.summary.lanes[0], cpuNs: k.summary.kernel.ksmd_cpu_ns }, config.duration_s)
  return { kernel: k, sim, comparison, laneIndex: index }
}

/**
 * The config as the simulator should run it to compare with this kernel: ksmd's sleep on this
 * kernel's timer (its CONFIG_HZ, and the wheel of its release), unless the config or its CPU
 * profile file names them.
 */
export function withHostTimer(config: Experiment, k: { hz: number | null; release: string }): Experiment {
  if (config.host.cpu_profile_file !== undefined) return config
  return { ...config, host: { ...config.host, hz: config.host.hz ?? k.hz ?? undefined, timer_wheel: config.host.timer_wheel ?? timerWheelOf(k.release) } }
}

async function comparePng(config: Experiment, laneIndex: number, sim: { series: Series }, k: KernelRunResult): Promise<Uint8Array> {
  const lanes = [laneData(`${config.lanes[laneIndex].name} (simulator)`, 'ksm', sim.series), laneData(k.config.lanes[0].name, k.summary.lanes[0].scanner, k.series)]
  return renderChartPng(sharingChart(lanes, { responsive: false }))
}

async function cmdKernelCompare(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('kernel compare', args, RUN_OPTIONS)
  if (positionals.length !== 1) throw new UsageError('kernel compare takes one CONFIG or PRESET')
  const { config, assets, baseDir } = loadConfig(positionals[0], values.duration)
  pickKsmLane(config, values.lane)
  const outDir = values.out !== undefined ? prepareOutDir(values.out, io) : null
  const { kernel, sim, comparison, laneIndex } = await compareOnKernel(config, assets, values.lane, Boolean(values.force), io)
  if (outDir) {
    await writeResultDir(outDir, [
      ...(await kernelFiles(kernel, baseDir)),
      ['compare.json', JSON.stringify({ schema: 'samepage-lab/kernel-compare@1', kernel_info: kernel.summary.kernel, ...comparison }, null, 2) + '\n'],
      ['compare.png', await comparePng(config, laneIndex, sim, kernel)]
    ])
  }
  if (values.json) io.stdout(JSON.stringify({ kernel_info: kernel.summary.kernel, ...comparison }, null, 2) + '\n')
  else io.stdout(kernelLine(kernel) + '\n' + formatComparison(comparison, `Linux ${kernel.summary.kernel.release}`))
  return 0
}

async function cmdKernelValidate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('kernel validate', args, { out: { type: 'string' }, 'cpu-profile': { type: 'string' }, only: { type: 'string' }, json: { type: 'boolean' }, force: { type: 'boolean' } } as const)
  if (positionals.length > 0) throw new UsageError(`kernel validate takes no arguments (got "${positionals[0]}")`)
  let scenarios = validationScenarios()
  if (values.only !== undefined) {
    const want = values.only.split(',').map((x: string) => x.trim())
    const unknown = want.filter((w: string) => !scenarios.some((s) => s.name === w))
    if (unknown.length > 0) throw new UsageError(`--only: unknown scenario "${unknown[0]}" (scenarios: ${scenarios.map((s) => s.name).join(', ')})`)
    scenarios = scenarios.filter((s) => want.includes(s.name))
  }
  let profileFile: string | undefined
  if (values['cpu-profile'] !== undefined) {
    profileFile = resolve(values['cpu-profile'])
    // Read and checked as an experiment's host.cpu_profile_file would be.
    const probe = loadAssets({ ...scenarios[0].config, host: { ...scenarios[0].config.host, cpu_profile_file: profileFile } }, process.cwd())
    const bad = probe.issues.find((i) => i.path.startsWith('host'))
    if (bad) throw new UsageError(`--cpu-profile: ${bad.message}`)
    for (const s of scenarios) {
      s.config = { ...s.config, host: { ...s.config.host, cpu_profile_file: profileFile } }
      s.assets.set(profileFile, probe.assets.get(profileFile) as never)
    }
  }
  const outDir = values.out !== undefined ? prepareOutDir(values.out, io) : null
  const t0 = performance.now()
  const results: ScenarioResult[] = []
  let release = ''
  let hz: number | null = null
  let cpu = ''
  for (const s of scenarios) {
    io.stderr(`samepage: kernel validate: ${s.name} (${s.config.duration_s} s)\n`)
    const { kernel, comparison } = await compareOnKernel(s.config, s.assets, undefined, Boolean(values.force), io)
    release = kernel.summary.kernel.release
    hz = kernel.summary.kernel.hz
    cpu = kernel.summary.kernel.cpu_model
    results.push(checkScenario(s, comparison, kernel.summary.kernel, profileFile !== undefined))
  }
  const wall = (performance.now() - t0) / 1000
  const meta = { date: new Date().toISOString().slice(0, 10), release, hz, cpu, wall_s: Math.round(wall), cpu_profile: profileFile ?? null }
  const text = formatValidation(results, meta)
  if (outDir) {
    await writeResultDir(outDir, [
      ['validation.json', JSON.stringify({ schema: 'samepage-lab/kernel-validation@1', ...meta, results }, null, 2) + '\n'],
      ['validation.md', text]
    ])
  }
  io.stdout(values.json ? JSON.stringify({ ...meta, results }, null, 2) + '\n' : text)
  return results.every((r) => r.pass) ? 0 : 1
}

async function cmdKernelCalibrate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse('kernel calibrate', args, { o: { type: 'string', short: 'o' }, output: { type: 'string' }, json: { type: 'boolean' }, force: { type: 'boolean' } } as never) as {
    values: { o?: string; output?: string; json?: boolean; force?: boolean }
    positionals: string[]
  }
  if (positionals.length > 0) throw new UsageError(`kernel calibrate takes no arguments (got "${positionals[0]}")`)
  const out = values.o ?? values.output
  const r = await runCalibration({
    kernelRun: async (s) => {
      const k = await runOnKernel(s.config, s.assets, undefined, Boolean(values.force), io)
      return { cpuNs: k.summary.kernel.ksmd_cpu_ns, wallS: k.summary.wall_seconds, summary: k.summary }
    },
    note: (l) => io.stderr(l + '\n'),
    cores: availableParallelism()
  })
  if (out !== undefined) {
    const abs = resolve(out)
    try {
      writeFileSync(abs, JSON.stringify(r.file, null, 2) + '\n')
    } catch (e) {
      throw new UsageError(`-o: cannot write "${out}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
    io.stderr(`samepage: wrote ${abs} (name it in an experiment as host.cpu_profile_file, relative to ${dirname(abs)})\n`)
  }
  io.stdout(values.json ? JSON.stringify(r.file, null, 2) + '\n' : r.text)
  return 0
}

function cmdKernelRestore(args: string[], io: CliIo): number {
  const { positionals } = parse('kernel restore', args, {})
  if (positionals.length > 0) throw new UsageError(`kernel restore takes no arguments (got "${positionals[0]}")`)
  const path = defaultStatePath()
  if (readState(path) === null) {
    io.stdout(`no state file (${path}): nothing to restore\n`)
    return 0
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0 && !process.env.SAMEPAGE_KSM_SYSFS) throw new KernelUsageError('kernel restore: needs root (it writes /sys/kernel/mm/ksm)')
  const doc = restoreFromState(path)
  io.stdout(`restored KSM as it was before pid ${doc?.pid} (${doc?.started}): run ${doc?.run}, ${Object.entries(doc?.knobs ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}\n`)
  return 0
}

export { sysfs as kernelSysfs, type Comparison }
