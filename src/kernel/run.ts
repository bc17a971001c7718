/**
 * `samepage kernel run`: an experiment's guests in real time on this host, with the real ksmd
 * scanning them under the knobs of one KSM lane.
 *
 * The guests are the simulator's: a Lane of the same config with the `none` scanner (no sharing
 * in the model, so every guest page holds what its guest last wrote) is advanced tick by tick
 * (TICK_S, src/core/experiment/lane.ts) as the wall clock passes, and every page a tick wrote is expanded
 * from its fingerprint (pagefill.ts) into the real mapping (mapping.ts). The same seed gives the
 * same guest events as a simulated lane (the guests' streams do not depend on the scanner). What
 * differs: the model's guests here never fault on a KSM page, so they are not slowed by
 * copy-on-write (the kernel pays those faults for real, in cow_ksm).
 *
 * Samples are taken every sample_every_s of the model's clock, reading every sysfs counter and
 * ksmd's CPU (schedstat ns where present, else utime + stime ticks), into the same columns as a
 * simulated lane (summary.ts).
 *
 * Warm-up: `warmup.boot` runs in real time too, with ksmd already scanning (as a simulated
 * lane's scanner runs during the boot); the measured run starts at t = 0 after it.
 * `warmup.share` (scan with the guests frozen until nothing new is found) is refused: a real
 * ksmd has no "converged" signal to stop on.
 */
import { release } from 'node:os'
import type { Assets } from '../core/experiment/assets.ts'
import { pagesToScan, type Experiment, type LaneConfig } from '../core/experiment/config.ts'
import { Engine } from '../core/experiment/engine.ts'
import { TICK_S, type Lane } from '../core/experiment/lane.ts'
import { Series } from '../core/experiment/metrics.ts'
import { GuestMapping, clockTicksPerSecond } from './mapping.ts'
import { fillPage, PAGE_WORDS } from './pagefill.ts'
import { ProcReader } from './proc.ts'
import { createState, readState, removeState, restoreFromState, pidAlive } from './state.ts'
import { kernelLaneName, kernelLaneSummary, kernelRow, LagStats, type KernelInfo, type KernelSample, type KernelSummary } from './summary.ts'
import { KsmError, KsmSysfs, type KnobState, type KsmCounter, type KsmKnob } from './sysfs.ts'

/** Bad input or a host that cannot run it: one line, exit 2 in the CLI. */
export class KernelUsageError extends Error {}

/** Model memory per guest page of the driving lane (docs/performance.md: ~50 bytes, with headroom). */
const MODEL_BYTES_PER_PAGE = 80
/** Headroom kept free besides the run's own needs. */
const MEM_HEADROOM_BYTES = 256 * 2 ** 20

export interface KernelRunOptions {
  /** Lane to take the knobs from (default: the first `ksm` lane). */
  lane?: string
  force?: boolean
  assets?: Assets
  sysfs?: KsmSysfs
  proc?: ProcReader
  statePath: string
  /** Lines for the user (stderr). */
  note: (line: string) => void
  onProgress?: (fraction: number, phase: 'boot' | 'run') => void
}

export interface KernelRunResult {
  /** The config that ran, its one lane renamed after the kernel (for the result file). */
  config: Experiment
  summary: KernelSummary
  series: Series
  /** The source lane's name in the experiment. */
  sourceLane: string
}

/** The lane whose knobs ksmd gets: named, or the first `ksm` lane. */
export function pickKsmLane(config: Experiment, name?: string): { lane: LaneConfig; index: number } {
  const index = name !== undefined ? config.lanes.findIndex((l) => l.name === name) : config.lanes.findIndex((l) => l.scanner.kind === 'ksm')
  if (index < 0) {
    throw new KernelUsageError(
      name !== undefined ? `--lane: no lane named "${name}" (lanes: ${config.lanes.map((l) => l.name).join(', ')})` : 'lanes: no lane has scanner kind "ksm"; the real kernel runs KSM only'
    )
  }
  const lane = config.lanes[index]
  if (lane.scanner.kind !== 'ksm') throw new KernelUsageError(`lanes[${index}].scanner.kind: lane "${lane.name}" is "${lane.scanner.kind}"; the real kernel runs KSM only`)
  if (lane.isolate_tenants && new Set(config.vms.map((v) => v.tenant)).size > 1) {
    throw new KernelUsageError(`lanes[${index}].isolate_tenants: Linux KSM cannot keep tenants apart; run this lane without it`)
  }
  if (config.warmup.share) throw new KernelUsageError('warmup.share: a real ksmd has no "converged" point to stop at; set warmup.share to false (warmup.boot runs in real time)')
  return { lane, index }
}

/** The sysfs values a KSM lane's knobs give. */
export function laneKnobs(lane: LaneConfig): Partial<Record<KsmKnob, string>> {
  const s = lane.scanner
  if (s.kind !== 'ksm') throw new KernelUsageError(`lane "${lane.name}" is not a ksm lane`)
  return {
    pages_to_scan: String(pagesToScan(s)),
    sleep_millisecs: String(s.sleep_millisecs),
    max_page_sharing: String(s.max_page_sharing),
    // The simulator has one stable tree across all memory: merge_across_nodes 1.
    merge_across_nodes: '1',
    use_zero_pages: s.use_zero_pages ? '1' : '0',
    smart_scan: s.smart_scan ? '1' : '0',
    stable_node_chains_prune_millisecs: String(s.stable_node_chains_prune_millisecs),
    advisor_mode: s.advisor_mode,
    advisor_max_cpu: String(s.advisor_max_cpu),
    advisor_min_pages_to_scan: String(s.advisor_min_pages_to_scan),
    advisor_max_pages_to_scan: String(s.advisor_max_pages_to_scan),
    advisor_target_scan_time: String(s.advisor_target_scan_time)
  }
}

/** Refuse a host that cannot run the kernel: one line naming what is missing. */
export function preflight(sysfs: KsmSysfs): void {
  if (process.platform !== 'linux') throw new KernelUsageError(`kernel: needs Linux (this is ${process.platform})`)
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new KernelUsageError('kernel: needs root (it writes /sys/kernel/mm/ksm); run it with sudo')
  if (!sysfs.has('run')) throw new KernelUsageError(`kernel: ${sysfs.root} not found: this kernel has no KSM (CONFIG_KSM)`)
}

/** Bytes the run may need: every guest page resident, plus the driving model. */
export function memoryNeeded(config: Experiment): number {
  const pages = config.vms.reduce((s, v) => s + v.memory_mib * 256, 0)
  return pages * 4096 + pages * MODEL_BYTES_PER_PAGE + MEM_HEADROOM_BYTES
}

/**
 * Take KSM for this run: restore after a killed run (its state file), refuse KSM in use, record
 * the knobs in the state file. Returns the recorded state.
 */
export function acquireKsm(sysfs: KsmSysfs, statePath: string, force: boolean, note: (s: string) => void): KnobState {
  const left = readState(statePath)
  if (left !== null) {
    if (pidAlive(left.pid)) throw new KernelUsageError(`kernel: another kernel run (pid ${left.pid}) is using KSM (${statePath})`)
    restoreFromState(statePath)
    note(`samepage: restored the KSM knobs left by a killed run (pid ${left.pid}, ${left.started})`)
  }
  const state = sysfs.record()
  if (!force) {
    if (state.run === '1') throw new KernelUsageError(`kernel: KSM is already running (${sysfs.root}/run is 1); stop its other user or pass --force`)
    const shared = sysfs.readNumber('pages_shared')
    if (shared > 0) throw new KernelUsageError(`kernel: KSM is in use (pages_shared is ${shared}); stop its other user or pass --force`)
  }
  try {
    createState(statePath, sysfs, state)
  } catch (e) {
    if (e instanceof KsmError) throw new KernelUsageError(`kernel: ${e.message}`)
    throw e
  }
  return state
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)))

/**
 * Run the experiment's guests on the real KSM. Restores every knob and `run` on every exit path
 * this process can see: normal end, a thrown error, SIGINT, SIGTERM, an uncaught exception.
 */
export async function kernelRun(config: Experiment, opts: KernelRunOptions): Promise<KernelRunResult> {
  const sysfs = opts.sysfs ?? new KsmSysfs()
  const proc = opts.proc ?? new ProcReader()
  preflight(sysfs)
  const { lane: laneCfg } = pickKsmLane(config, opts.lane)
  const need = memoryNeeded(config)
  const avail = proc.memAvailable()
  if (avail !== null && need > avail) {
    throw new KernelUsageError(`vms: the run needs up to ${Math.ceil(need / 2 ** 20)} MiB (guest memory, model, headroom) and MemAvailable is ${Math.floor(avail / 2 ** 20)} MiB`)
  }
  const ksmdPid = proc.ksmdPid()
  if (ksmdPid === null) throw new KernelUsageError('kernel: no ksmd thread found in /proc')
  // The driving model: the same guests, no sharing (checks the config's files too).
  const driverLane: LaneConfig = {
    name: laneCfg.name,
    isolate_tenants: false,
    scanner: { kind: 'none', pages_to_scan: laneCfg.scanner.pages_to_scan, sleep_millisecs: laneCfg.scanner.sleep_millisecs, max_page_sharing: laneCfg.scanner.max_page_sharing, stable_node_chains_prune_millisecs: laneCfg.scanner.stable_node_chains_prune_millisecs }
  }
  // Throws ConfigError naming the field when the config's files do not fit it.
  const lane: Lane = new Engine({ ...config, lanes: [driverLane] }, { assets: opts.assets }).lanes[0]
  const knobs = laneKnobs(laneCfg)
  const recorded = acquireKsm(sysfs, opts.statePath, Boolean(opts.force), opts.note)

  let mapping: GuestMapping | null = null
  let restored = false
  const restore = (): void => {
    if (restored) return
    restored = true
    try {
      sysfs.restore(recorded)
      removeState(opts.statePath)
    } catch (e) {
      opts.note(`samepage: could not restore KSM (${(e as Error).message}); run \`samepage kernel restore\``)
    }
    mapping?.close()
    mapping = null
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    restore()
    opts.note(`samepage: ${sig}: stopped; KSM knobs restored`)
    process.exit(sig === 'SIGINT' ? 130 : 143)
  }
  const onUncaught = (e: unknown): void => {
    restore()
    opts.note(`samepage: ${(e as Error)?.stack ?? String(e)}`)
    process.exit(1)
  }
  const onExit = (): void => restore()
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('uncaughtException', onUncaught)
  process.on('exit', onExit)
  try {
    sysfs.unmerge()
    sysfs.applyKnobs(knobs)
    const m = new GuestMapping(lane.totalPages)
    mapping = m
    const written = trackWrites(lane)
    const flush = (): void => {
      const tmp = new Uint32Array(2)
      for (let i = 0; i < written.count; i++) {
        const gp = written.list[i]
        written.flag[gp] = 0
        lane.mem.read(gp, tmp)
        fillPage(m.words, gp * PAGE_WORDS, tmp[0], tmp[1])
      }
      written.count = 0
    }
    sysfs.write('run', '1')

    // Warm-up boot, in real time, ksmd running.
    const bootStart = performance.now()
    if (config.warmup.boot) {
      const bootVms = lane.vms.filter((v) => v.cfg.start_s === 0)
      let ticks = 0
      while (bootVms.some((v) => !v.booted)) {
        if (ticks * TICK_S > 3600) throw new KernelUsageError('warmup.boot: the VMs did not finish booting within an hour')
        lane.tick(true)
        ticks++
        flush()
        const wait = bootStart + ticks * TICK_S * 1000 - performance.now()
        if (wait > 1) await sleep(wait)
        opts.onProgress?.(0, 'boot')
      }
    }
    lane.warmup() // t = 0: resets the model's clock and bases (the boot already ran)
    flush()
    const warmupWall = (performance.now() - bootStart) / 1000

    const clkTck = clockTicksPerSecond()
    const readCpu = (): { ticks: number; ns: number; waitNs: number; source: 'schedstat' | 'stat' } => {
      const c = proc.cpu(ksmdPid)
      return c.ns !== null ? { ticks: c.ticks, ns: c.ns, waitNs: c.waitNs ?? Number.NaN, source: 'schedstat' } : { ticks: c.ticks, ns: (c.ticks * 1e9) / clkTck, waitNs: Number.NaN, source: 'stat' }
    }
    const singleTenant = new Set(config.vms.map((v) => v.tenant)).size === 1
    const series = new Series()
    const base = sysfs.counters()
    const cowBase = proc.cowKsm()
    const cpu0 = readCpu()
    let lastCpu = cpu0
    const t0 = performance.now()
    let lastWall = t0
    const takeSample = (): void => {
      lane.sample()
      const row = Float64Array.from(lane.series.slice(lane.series.length - 1).map((c) => c[0]))
      const now = performance.now()
      const cpu = readCpu()
      const cow = proc.cowKsm()
      const s: KernelSample = {
        counters: sysfs.counters(),
        cpuNsDelta: cpu.ns - lastCpu.ns,
        wallDelta: (now - lastWall) / 1000,
        cowSinceStart: cow !== null && cowBase !== null ? cow - cowBase : Number.NaN
      }
      lastCpu = cpu
      lastWall = now
      kernelRow(row, s, base, lane.totalPages, singleTenant)
      series.push(row)
    }
    takeSample() // t = 0

    const lag = new LagStats()
    const every = config.sample_every_s
    let nextSample = every
    let samples = 1
    const end = config.duration_s
    let ticks = 0
    let lagged = 0
    let warnedBehind = false
    while (lane.t < end - 1e-9) {
      const wallT = (performance.now() - t0) / 1000
      // Every tick whose end has passed: run it, write its pages, sample on the boundary.
      while ((ticks + 1) * TICK_S <= wallT + 1e-9 && lane.t < end - 1e-9) {
        lane.tick()
        ticks++
        if (lane.t + 1e-9 >= nextSample) {
          flush()
          recordLag(lag, lagged, ticks, t0)
          lagged = ticks
          takeSample()
          samples++
          nextSample = samples * every
        }
      }
      flush()
      recordLag(lag, lagged, ticks, t0)
      lagged = ticks
      if (!warnedBehind && lag.max > every) {
        warnedBehind = true
        opts.note(`samepage: the writer fell ${lag.max.toFixed(2)} s behind real time (more than one sample, ${every} s)`)
      }
      opts.onProgress?.(lane.t / end, 'run')
      const wait = t0 + (ticks + 1) * TICK_S * 1000 - performance.now()
      if (wait > 0) await sleep(wait)
    }
    const runWall = (performance.now() - t0) / 1000
    const cpuEnd = lastCpu
    // run 0 returns once ksmd has finished its batch (run_store() takes ksm_thread_mutex, which
    // ksmd holds while it scans): the counters read after it are one consistent state, not one
    // with a page between leaving a tree and entering another.
    sysfs.write('run', '0')
    const finalCounters = sysfs.counters()

    const name = kernelLaneName(release())
    const info: KernelInfo = {
      release: release(),
      hz: proc.hz(),
      clk_tck: clkTck,
      cpu_model: proc.cpuModel(),
      ksmd_pid: ksmdPid,
      ksmd_cpu_ticks: cpuEnd.ticks - cpu0.ticks,
      ksmd_cpu_ns: Math.round(cpuEnd.ns - cpu0.ns),
      cpu_source: cpu0.source,
      ksmd_wait_percent: Math.round(((cpuEnd.waitNs - cpu0.waitNs) / ((lastWall - t0) * 1e6)) * 100 * 1000) / 1000,
      writer_lag_s: { max: Math.round(lag.max * 1e6) / 1e6, mean: Math.round(lag.mean * 1e6) / 1e6 },
      fell_behind: lag.max > every,
      knobs: Object.fromEntries(Object.entries(knobs).filter(([k]) => sysfs.has(k))) as Record<string, string>,
      final_counters: finalCounters,
      warmup_wall_s: Math.round(warmupWall * 1000) / 1000
    }
    const laneSummary = kernelLaneSummary(name, series, {
      runWallS: (lastWall - t0) / 1000,
      cpuNs: cpuEnd.ns - cpu0.ns,
      workloadDone: lane.workloadDoneTimes().map((x) => (x === null ? null : Math.round(x * 1e6) / 1e6)),
      final: { counters: finalCounters, base }
    })
    const summary: KernelSummary = {
      schema: 'samepage-lab/summary@1',
      config_name: config.name,
      seed: config.seed,
      sim_seconds: Math.round(lane.t * 1e6) / 1e6,
      wall_seconds: Math.round(runWall * 1e6) / 1e6,
      total_guest_pages: lane.totalPages,
      lanes: [laneSummary],
      kernel: info
    }
    return { config: { ...config, lanes: [{ ...laneCfg, name }] }, summary, series, sourceLane: laneCfg.name }
  } finally {
    restore()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('uncaughtException', onUncaught)
    process.off('exit', onExit)
  }
}

/** Lag of ticks [from, to) written now: wall time minus each tick's end on the model's clock. */
function recordLag(lag: LagStats, from: number, to: number, t0: number): void {
  const wallT = (performance.now() - t0) / 1000
  for (let k = from + 1; k <= to; k++) lag.add(wallT - k * TICK_S)
}

/**
 * Note every guest page the model writes (HostMemory.write is the only way a guest changes a
 * page; with the `none` scanner nothing else changes one), each once until flushed.
 */
function trackWrites(lane: Lane): { list: Int32Array; flag: Uint8Array; count: number } {
  const w = { list: new Int32Array(lane.totalPages), flag: new Uint8Array(lane.totalPages), count: 0 }
  const mem = lane.mem
  const write = mem.write.bind(mem)
  mem.write = (gp: number, hi: number, lo: number): boolean => {
    if (w.flag[gp] === 0) {
      w.flag[gp] = 1
      w.list[w.count++] = gp
    }
    return write(gp, hi, lo)
  }
  return w
}

export type { KsmCounter }
