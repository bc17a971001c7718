/**
 * A kernel run's samples and summary in the simulator's terms (src/core/experiment/metrics.ts,
 * src/core/experiment/engine.ts): one sample row from sysfs counters, ksmd's CPU and the driving model's
 * guest state, and the lane summary of `samepage run`'s schema with the kernel's facts beside
 * it. Pure: unit-tested without a kernel.
 */
import type { LaneSummary, Summary } from '../core/experiment/engine.ts'
import { cpuPerSharedPage } from '../core/experiment/engine.ts'
import { METRIC_INDEX, stat3, type Series } from '../core/experiment/metrics.ts'
import type { KsmCounter } from './sysfs.ts'

/** The scanner name of a kernel lane in summaries and results. */
export const KERNEL_SCANNER = 'kernel-ksm'

export interface KernelInfo {
  /** uname -r */
  release: string
  /** CONFIG_HZ, or null when no kernel config was readable. */
  hz: number | null
  /** Unit of /proc/PID/stat utime and stime (sysconf(_SC_CLK_TCK)). */
  clk_tck: number
  cpu_model: string
  ksmd_pid: number
  /** ksmd's utime + stime over the measured run, clock ticks. */
  ksmd_cpu_ticks: number
  /** ksmd's CPU time over the measured run, ns (schedstat when present, else ticks). */
  ksmd_cpu_ns: number
  cpu_source: 'schedstat' | 'stat'
  /**
   * Time ksmd spent runnable but waiting for a CPU (schedstat's second field), % of the run's wall
   * time; NaN without schedstat. Other processes on the host take that time from its scan rate.
   */
  ksmd_wait_percent: number
  /** How far the guest writes landed behind their simulated time, seconds. */
  writer_lag_s: { max: number; mean: number }
  /** The writer fell more than one sample interval behind at some point. */
  fell_behind: boolean
  /** The knobs the run set (file name -> value written). */
  knobs: Record<string, string>
  /** sysfs counters at the end of the run, as the files showed them (before restoring). */
  final_counters: Record<KsmCounter, number>
  /** Wall seconds of the warm-up boot before t = 0 (0 without one). */
  warmup_wall_s: number
}

export interface KernelSummary extends Summary {
  kernel: KernelInfo
}

/** Counter values and ksmd CPU at one sample, relative to the run's start where they count events. */
export interface KernelSample {
  counters: Record<KsmCounter, number>
  /** ksmd CPU ns since the previous sample, and the wall seconds since it. */
  cpuNsDelta: number
  wallDelta: number
  /** KSM copy-on-write faults since t = 0 (NaN if the kernel does not count them). */
  cowSinceStart: number
}

/**
 * Overwrite the scanner columns of a row the driving model sampled (t_s, workload progress and
 * the allocated pages per type stay the model's: the guests are the same) with the kernel's.
 */
export function kernelRow(row: Float64Array, s: KernelSample, base: Record<KsmCounter, number>, totalPages: number, singleTenant: boolean): void {
  const I = METRIC_INDEX
  const c = s.counters
  // Guest pages on a KSM page (each KSM page and its further mappings) or the zero page.
  row[I.sharing_ratio] = (c.pages_shared + c.pages_sharing + nz(c.ksm_zero_pages)) / totalPages
  row[I.saved_mib] = (c.pages_sharing + nz(c.ksm_zero_pages)) / 256
  row[I.cpu_percent] = s.wallDelta > 0 ? (s.cpuNsDelta / (s.wallDelta * 1e9)) * 100 : 0
  row[I.pages_shared] = c.pages_shared
  row[I.pages_sharing] = c.pages_sharing
  row[I.pages_unshared] = c.pages_unshared
  row[I.pages_volatile] = c.pages_volatile
  row[I.full_scans] = c.full_scans - base.full_scans
  row[I.pages_scanned] = c.pages_scanned - base.pages_scanned
  row[I.stable_node_chains] = c.stable_node_chains
  row[I.stable_node_dups] = c.stable_node_dups
  row[I.hint_stack_depth] = 0
  row[I.hints_pushed] = 0
  row[I.hints_popped] = 0
  row[I.hints_dropped] = 0
  row[I.cow_breaks] = s.cowSinceStart
  row[I.vm_exits] = 0
  // The kernel does not say which guest pages are merged: unknown per type.
  row[I.shared_page_cache] = Number.NaN
  row[I.shared_text] = Number.NaN
  row[I.shared_zero] = Number.NaN
  row[I.shared_other] = Number.NaN
  row[I.cross_tenant_merges] = singleTenant ? 0 : Number.NaN
  row[I.ksm_zero_pages] = nz(c.ksm_zero_pages)
  row[I.pages_skipped] = nz(c.pages_skipped) - nz(base.pages_skipped)
  row[I.general_profit] = c.general_profit
}

function nz(x: number): number {
  return Number.isFinite(x) ? x : 0
}

function r6(x: number): number {
  return Math.round(x * 1e6) / 1e6
}

/** The lane summary of `samepage run`'s schema, from a kernel run's series. */
export function kernelLaneSummary(
  name: string,
  series: Series,
  o: {
    runWallS: number
    cpuNs: number
    workloadDone: (number | null)[]
    /** The counters at the end (read with ksmd stopped) and at t = 0: the summary's final state. */
    final?: { counters: Record<KsmCounter, number>; base: Record<KsmCounter, number> }
  }
): LaneSummary {
  const col = (m: Parameters<Series['column']>[0]) => series.column(m)
  const last = (m: Parameters<Series['column']>[0]) => {
    const c = col(m)
    return c.length > 0 ? c[c.length - 1] : 0
  }
  const first = (m: Parameters<Series['column']>[0]) => {
    const c = col(m)
    return c.length > 0 ? c[0] : 0
  }
  let cpuMax = 0
  for (const v of col('cpu_percent')) cpuMax = Math.max(cpuMax, v)
  const fc = o.final?.counters
  const fb = o.final?.base
  const gauge = (m: 'pages_shared' | 'pages_sharing' | 'pages_unshared' | 'pages_volatile' | 'stable_node_chains' | 'stable_node_dups' | 'ksm_zero_pages') => (fc ? nz(fc[m]) : last(m))
  const event = (m: 'full_scans' | 'pages_scanned' | 'pages_skipped') => (fc && fb ? nz(fc[m]) - nz(fb[m]) : last(m))
  const gained = gauge('pages_sharing') + gauge('ksm_zero_pages') - (first('pages_sharing') + first('ksm_zero_pages'))
  const s3 = (m: 'sharing_ratio' | 'saved_mib' | 'general_profit') => {
    const s = stat3(col(m))
    return { mean: r6(s.mean), max: r6(s.max), final: r6(s.final) }
  }
  return {
    name,
    scanner: KERNEL_SCANNER,
    sharing_ratio: s3('sharing_ratio'),
    saved_mib: s3('saved_mib'),
    general_profit: s3('general_profit'),
    cpu_percent: { mean: r6(o.runWallS > 0 ? (o.cpuNs / (o.runWallS * 1e9)) * 100 : 0), max: r6(cpuMax) },
    pages_shared: gauge('pages_shared'),
    pages_sharing: gauge('pages_sharing'),
    pages_sharing_gained: gained,
    cpu_ns_per_shared_page: cpuPerSharedPage(o.cpuNs, gained),
    pages_unshared: gauge('pages_unshared'),
    pages_volatile: gauge('pages_volatile'),
    full_scans: event('full_scans'),
    stable_node_chains: gauge('stable_node_chains'),
    stable_node_dups: gauge('stable_node_dups'),
    pages_scanned: event('pages_scanned'),
    hints: { pushed: 0, popped: 0, dropped: 0 },
    cow_breaks: last('cow_breaks'),
    vm_exits: 0,
    cross_tenant_merges: last('cross_tenant_merges'),
    ksm_zero_pages: gauge('ksm_zero_pages'),
    pages_skipped: event('pages_skipped'),
    invariants_checked: false,
    workload_done_s: o.workloadDone,
    // The kernel's run records no timeline events and cannot see which VM a KSM page serves.
    events: [],
    events_omitted: 0,
    vms: [],
    vm_shared_pages: []
  }
}

/** A lane name for the kernel's result: "Linux <release> KSM", at most 64 characters. */
export function kernelLaneName(release: string): string {
  const n = `Linux ${release} KSM`
  return n.length <= 64 ? n : `${n.slice(0, 60)} KSM`
}

/** Writer lag statistics, accumulated per simulated tick written. */
export class LagStats {
  max = 0
  private sum = 0
  private n = 0
  add(lagS: number): void {
    const l = Math.max(0, lagS)
    if (l > this.max) this.max = l
    this.sum += l
    this.n++
  }
  get mean(): number {
    return this.n > 0 ? this.sum / this.n : 0
  }
}

