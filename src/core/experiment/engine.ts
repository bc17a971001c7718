/**
 * The engine: one experiment, its lanes side by side on one simulated clock. Pure and
 * synchronous: the host layer (a worker, the CLI) decides how fast to call `advance`.
 */
import { assetRefs, checkAssets, type Assets } from './assets.ts'
import { ConfigError, type Experiment } from './config.ts'
import { Lane } from './lane.ts'
import { METRIC_COLUMNS, stat3, type Stat3 } from './metrics.ts'
import type { TimelineEvent } from './events.ts'
import type { VmShare } from './vmshares.ts'

export const SUMMARY_SCHEMA_ID = 'samepage-lab/summary@1'

export interface LaneSummary {
  name: string
  scanner: string
  sharing_ratio: Stat3
  saved_mib: Stat3
  /** mm/ksm.c general_profit in bytes: (pages_sharing + ksm_zero_pages) x 4 KiB - records x 64 B. NaN in older results. */
  general_profit: Stat3
  cpu_percent: { mean: number; max: number }
  pages_shared: number
  pages_sharing: number
  /**
   * Pages saved by the measured run: pages_sharing at the end minus at t = 0 (after warm-up),
   * net of what copy-on-write took back. Equals pages_sharing when nothing was shared before t = 0.
   */
  pages_sharing_gained: number
  /**
   * Modelled scanner CPU over the run (ns) per page the run saved (pages_sharing_gained); null
   * when the run saved none. NaN in results written before the field existed.
   */
  cpu_ns_per_shared_page: number | null
  pages_unshared: number
  pages_volatile: number
  full_scans: number
  stable_node_chains: number
  stable_node_dups: number
  pages_scanned: number
  hints: { pushed: number; popped: number; dropped: number }
  cow_breaks: number
  vm_exits: number
  /** Merges that put pages of two tenants on one frame, since the lane started (0 under isolation). */
  cross_tenant_merges: number
  /** Guest pages on the kernel zero page (use_zero_pages). */
  ksm_zero_pages: number
  /** Smart-scan skips during the run. */
  pages_skipped: number
  invariants_checked: boolean
  /** Simulated second at which each VM's workload finished (null: still running). */
  workload_done_s: (number | null)[]
  /** What happened when, from t = 0 (events.ts); empty in results written before the field existed. */
  events: TimelineEvent[]
  /** full_scan events past MAX_FULL_SCAN_EVENTS, counted but not listed. */
  events_omitted: number
  /** Per-VM sharing at the end (vmshares.ts), one entry per VM in config order. */
  vms: VmShare[]
  /** vm_shared_pages[a][b]: pages of VM a on a frame VM b also maps, at the end (diagonal: within VM a). */
  vm_shared_pages: number[][]
}

export interface Summary {
  schema: typeof SUMMARY_SCHEMA_ID
  config_name: string
  seed: number
  sim_seconds: number
  wall_seconds: number
  total_guest_pages: number
  lanes: LaneSummary[]
}

/** Boot ticks (10 ms of simulated time each) a lane runs between checks of a warm-up's budget. */
export const WARMUP_SLICE_TICKS = 20

/** The warm-up's progress, as the 'preparing' event carries it. */
export interface WarmupProgress {
  phase: 'boot' | 'share'
  booted: number
  vms: number
  /** How far the boot is, 0 to 1, over all lanes (Lane.bootFraction); absent from older hosts. */
  fraction?: number
}

export interface EngineOptions {
  checkInvariants?: boolean
  /** Parsed files the config refers to (image_file, snapshot_file, trace files), by path string. */
  assets?: Assets
  /** Record the per-VM figures at samples (Lane.recordVmHistory): the app's session does. */
  vmHistory?: boolean
}

export class Engine {
  readonly lanes: Lane[]
  private warmedUp = false
  /** Simulated seconds reached by every lane. */
  t = 0

  constructor(
    readonly config: Experiment,
    readonly options: EngineOptions = {}
  ) {
    if (assetRefs(config).length > 0) {
      const issues = checkAssets(config, options.assets)
      if (issues.length > 0) throw new ConfigError(issues)
    }
    this.lanes = config.lanes.map((l) => new Lane(config, l, options.checkInvariants ?? false, options.assets))
    if (options.vmHistory) for (const lane of this.lanes) lane.recordVmHistory()
  }

  get duration(): number {
    return this.config.duration_s
  }

  get done(): boolean {
    return this.t >= this.config.duration_s - 1e-9
  }

  /** Warm-up (boot and optional sharing before t = 0); runs once, on the first advance. */
  warmup(): void {
    while (!this.warmupSlice(() => false)) {
      // one slice runs to completion when the deadline never comes
    }
  }

  /** Whether the warm-up is complete (the state at t = 0 is sampled). */
  get warmedUpAlready(): boolean {
    return this.warmedUp
  }

  /**
   * Warm up in slices: boot ticks of lane after lane, in slices of WARMUP_SLICE_TICKS, until
   * `overBudget()` says to stop or the warm-up is complete (returns true). The result is the
   * same however it is sliced; a host calls it once per frame to report progress in between.
   */
  warmupSlice(overBudget: () => boolean): boolean {
    if (this.warmedUp) return true
    for (const lane of this.lanes) {
      while (!lane.warmupSlice(WARMUP_SLICE_TICKS)) if (overBudget()) return false
    }
    this.warmedUp = true
    for (const lane of this.lanes) {
      lane.sample() // the state at t = 0: what each scanner had shared before the run
      if (this.options.checkInvariants) lane.checkInvariants()
    }
    return true
  }

  /**
   * How far the warm-up is: VMs booted so far, averaged over the lanes (floored), of the VMs the
   * warm-up boots; `phase` 'share' once every lane booted and the scanners settle before t = 0.
   */
  warmupProgress(): WarmupProgress {
    const vms = this.lanes[0]?.warmupVms ?? 0
    let booted = 0
    for (const lane of this.lanes) booted += lane.warmupState === 'boot' || lane.warmupState === null ? lane.bootedVms() : vms
    booted = this.lanes.length > 0 ? Math.floor(booted / this.lanes.length) : 0
    const sharing = this.config.warmup.share && booted >= vms && this.lanes.some((l) => l.warmupState === 'share')
    let fraction = 0
    for (const lane of this.lanes) fraction += lane.bootFraction()
    fraction = this.lanes.length > 0 ? Math.round((fraction / this.lanes.length) * 1e4) / 1e4 : 0
    return { phase: sharing ? 'share' : 'boot', booted, vms, fraction }
  }

  /**
   * Advance every lane by `seconds` of simulated time (clamped to the duration). With
   * invariant checks on, they run at every sample and throw on the first violation.
   */
  advance(seconds: number): void {
    this.warmup()
    const until = Math.min(this.config.duration_s, this.t + seconds)
    const check = this.options.checkInvariants ? (l: Lane) => l.checkInvariants() : undefined
    for (const lane of this.lanes) lane.advanceTo(until, check)
    this.t = until
    if (this.done && check) for (const lane of this.lanes) check(lane)
  }

  /** Run to the end; `onProgress` gets the fraction done after each slice. */
  run(onProgress?: (fraction: number) => void, sliceSeconds = 10): void {
    while (!this.done) {
      this.advance(sliceSeconds)
      if (onProgress) onProgress(this.t / this.config.duration_s)
    }
  }

  summary(wallSeconds: number): Summary {
    const totalPages = this.lanes[0]?.totalPages ?? 0
    return {
      schema: SUMMARY_SCHEMA_ID,
      config_name: this.config.name,
      seed: this.config.seed,
      sim_seconds: round6(this.t),
      wall_seconds: round6(wallSeconds),
      total_guest_pages: totalPages,
      lanes: this.lanes.map((lane) => laneSummary(lane, this.t))
    }
  }
}

function laneSummary(lane: Lane, t: number): LaneSummary {
  const s = lane.series
  const st = lane.stable
  const sc = lane.scanner
  const cpu = s.column('cpu_percent')
  let cpuMax = 0
  for (let i = 0; i < cpu.length; i++) cpuMax = Math.max(cpuMax, cpu[i])
  const last = (name: (typeof METRIC_COLUMNS)[number]): number => {
    const c = s.column(name)
    return c.length > 0 ? c[c.length - 1] : 0
  }
  return {
    name: lane.cfg.name,
    scanner: lane.cfg.scanner.kind,
    sharing_ratio: round3(stat3(s.column('sharing_ratio'))),
    saved_mib: round3(stat3(s.column('saved_mib'))),
    general_profit: round3(stat3(s.column('general_profit'))),
    cpu_percent: { mean: round6(t > 0 ? (lane.measuredCpuNs() / (t * 1e9)) * 100 : 0), max: round6(cpuMax) },
    pages_shared: st.pages_shared,
    pages_sharing: st.pages_sharing,
    pages_sharing_gained: lane.pagesSharingGained(),
    cpu_ns_per_shared_page: cpuPerSharedPage(lane.measuredCpuNs(), lane.pagesSharingGained()),
    pages_unshared: sc.pages_unshared,
    pages_volatile: lane.pagesVolatile(),
    full_scans: last('full_scans'),
    stable_node_chains: st.stable_node_chains,
    stable_node_dups: st.stable_node_dups,
    pages_scanned: last('pages_scanned'),
    hints: { pushed: last('hints_pushed'), popped: last('hints_popped'), dropped: last('hints_dropped') },
    cow_breaks: last('cow_breaks'),
    vm_exits: last('vm_exits'),
    cross_tenant_merges: st.cross_tenant_merges,
    ksm_zero_pages: st.ksm_zero_pages,
    pages_skipped: last('pages_skipped'),
    invariants_checked: lane.invariantsChecked,
    workload_done_s: lane.workloadDoneTimes().map((x) => (x === null ? null : round6(x))),
    events: lane.events.list(),
    events_omitted: lane.events.omitted,
    ...vmPart(lane)
  }
}

function vmPart(lane: Lane): { vms: VmShare[]; vm_shared_pages: number[][] } {
  const v = lane.vmShares()
  return { vms: v.vms, vm_shared_pages: v.matrix }
}

/** Scanner CPU (ns) per page saved, rounded to 0.1 ns; null when no page was saved. */
export function cpuPerSharedPage(cpuNs: number, pagesSaved: number): number | null {
  return pagesSaved > 0 ? Math.round((cpuNs / pagesSaved) * 10) / 10 : null
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6
}

function round3(s: Stat3): Stat3 {
  return { mean: round6(s.mean), max: round6(s.max), final: round6(s.final) }
}

/** series.csv: a header row, then one row per sample per lane. */
export function seriesCsv(lanes: { name: string; series: { length: number; column(n: (typeof METRIC_COLUMNS)[number]): Float64Array } }[]): string {
  const lines = ['lane,' + METRIC_COLUMNS.join(',')]
  for (const lane of lanes) {
    const cols = METRIC_COLUMNS.map((c) => lane.series.column(c))
    const name = csvField(lane.name)
    for (let i = 0; i < lane.series.length; i++) {
      let line = name
      for (const c of cols) line += ',' + fmt(c[i])
      lines.push(line)
    }
  }
  return lines.join('\n') + '\n'
}

function fmt(x: number): string {
  if (Number.isInteger(x)) return String(x)
  return String(Math.round(x * 1e6) / 1e6)
}

/** RFC 4180 section 2: a field holding a comma, a quote, CR or LF is quoted, quotes doubled. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}
