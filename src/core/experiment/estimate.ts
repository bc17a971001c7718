/**
 * What a run will cost before it runs: its memory (guest pages, the workloads' own pages, the
 * sampled series) and its work (events per simulated second), from the config alone. Hosts
 * refuse a run whose memory does not fit (`memoryProblem`, with the estimate and the field to
 * change) and warn when its work is large (`costWarning`), instead of dying of memory after
 * minutes of compute or running silently for an hour. Pure: the host passes in what it has.
 */
import { nominalRate, type Experiment, type VmConfig } from './config.ts'
import { METRIC_COLUMNS } from './metrics.ts'
import { groupDigits, quantity } from './messages.ts'

/** Typed arrays per simulated guest page per lane, with headroom (docs/performance.md). */
export const BYTES_PER_GUEST_PAGE = 80
/**
 * Per page a workload allocates or reads (its step queue and index arrays): heap, app, working
 * set, files. Set from the issue's measurement: a web-app heap of 2^20 MiB (2^28 pages) ran out
 * of a 4 GiB heap, about 16 bytes a page at the least; 64 leaves headroom.
 */
export const BYTES_PER_WORKLOAD_PAGE = 64
/**
 * Per sampled value (one column of one sample of one lane): the worker's Float64 column, the
 * owner's copy, and the text of series.csv / the result JSON written from it.
 */
export const BYTES_PER_SAMPLE_VALUE = 32
/** Of those, the part that lives on the V8 heap (the owner's copy and the text). */
export const HEAP_BYTES_PER_SAMPLE_VALUE = 24

/** Pages a VM's workload allocates or reads, 4 KiB each (its demand, before any reclaim). */
export function workloadPages(vm: VmConfig): number {
  const w = vm.workload
  switch (w.kind) {
    case 'web-app':
      return Math.round((w.heap_mib + w.app_mib) * 256)
    case 'kernel-build':
      return Math.round(w.heap_mib * 256 * w.jobs)
    case 'mem-micro':
      return Math.round(w.working_set_mib * 256)
    case 'cpu-micro':
      return Math.round(w.heap_mib * 256)
    case 'file-cases':
      return w.files * w.pages_per_file
    case 'office-docs':
      return Math.round(w.documents * (w.header_pages + w.body_pages))
    default:
      return 0
  }
}

/** The field that sets a workload's demand, for messages. */
export function workloadSizeField(vm: VmConfig): string | null {
  switch (vm.workload.kind) {
    case 'web-app':
    case 'kernel-build':
    case 'cpu-micro':
      return 'heap_mib'
    case 'mem-micro':
      return 'working_set_mib'
    case 'file-cases':
      return 'files'
    case 'office-docs':
      return 'documents'
    default:
      return null
  }
}

export interface MemoryEstimate {
  /** Bytes in all, and by part. */
  bytes: number
  guestBytes: number
  workloadBytes: number
  seriesBytes: number
  /** The part of seriesBytes on the owner's V8 heap. */
  seriesHeapBytes: number
  samplesPerLane: number
}

export function estimateMemory(config: Experiment): MemoryEstimate {
  const lanes = config.lanes.length
  const guestPages = config.vms.reduce((s, v) => s + v.memory_mib * 256, 0)
  const wlPages = config.vms.reduce((s, v) => s + workloadPages(v), 0)
  const samplesPerLane = Math.floor(config.duration_s / config.sample_every_s) + 1
  const values = samplesPerLane * lanes * METRIC_COLUMNS.length
  const guestBytes = guestPages * lanes * BYTES_PER_GUEST_PAGE
  const workloadBytes = wlPages * lanes * BYTES_PER_WORKLOAD_PAGE
  const seriesBytes = values * BYTES_PER_SAMPLE_VALUE
  return { bytes: guestBytes + workloadBytes + seriesBytes, guestBytes, workloadBytes, seriesBytes, seriesHeapBytes: values * HEAP_BYTES_PER_SAMPLE_VALUE, samplesPerLane }
}

/** What the host can give a run: its memory (with headroom taken off) and its V8 heap for the series. */
export interface MemoryBudget {
  machineBytes: number
  heapBytes: number
  /** Who gives the memory, in the message: "this machine" unless said (the app in a browser). */
  holder?: string
}

export interface MemoryProblem {
  path: string
  message: string
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`

/**
 * Why the run does not fit `budget`, naming the estimate and the field to change, or null. The
 * field is the largest part's: the sample interval for the series, the workload's size, or the
 * VMs' memory.
 */
export function memoryProblem(config: Experiment, budget: MemoryBudget): MemoryProblem | null {
  const e = estimateMemory(config)
  const lanes = config.lanes.length
  const cols = METRIC_COLUMNS.length
  if (e.seriesHeapBytes > budget.heapBytes || e.seriesBytes > budget.machineBytes / 2) {
    const perLaneMax = Math.floor(Math.min(budget.heapBytes / HEAP_BYTES_PER_SAMPLE_VALUE, budget.machineBytes / 2 / BYTES_PER_SAMPLE_VALUE) / (lanes * cols))
    const minEvery = config.duration_s / Math.max(1, perLaneMax - 1)
    return {
      path: 'sample_every_s',
      message:
        `${lanes} lanes x ${groupDigits(e.samplesPerLane)} samples x ${cols} columns need about ${gib(e.seriesBytes)} of memory for the series, more than this process can hold (${gib(Math.min(budget.heapBytes / HEAP_BYTES_PER_SAMPLE_VALUE, budget.machineBytes / 2 / BYTES_PER_SAMPLE_VALUE) * BYTES_PER_SAMPLE_VALUE)}): ` +
        `make the sample interval at least ${quantity(Math.ceil(minEvery * 100) / 100, 's')}, or run fewer lanes`
    }
  }
  if (e.bytes <= budget.machineBytes) return null
  // The VM whose workload or memory is the largest part names the field.
  let worst = 0
  let worstBytes = -1
  let worstIsWorkload = false
  config.vms.forEach((v, i) => {
    const wl = workloadPages(v) * BYTES_PER_WORKLOAD_PAGE
    const g = v.memory_mib * 256 * BYTES_PER_GUEST_PAGE
    if (Math.max(wl, g) > worstBytes) {
      worstBytes = Math.max(wl, g)
      worst = i
      worstIsWorkload = wl > g
    }
  })
  const vm = config.vms[worst]
  const wf = workloadSizeField(vm)
  const path = worstIsWorkload && wf ? `vms[${worst}].workload.${wf}` : lanes > 1 ? 'lanes' : `vms[${worst}].memory_mib`
  return {
    path,
    message:
      `the run needs about ${gib(e.bytes)} of memory (${gib(e.guestBytes)} for ${lanes} lane(s) of guest memory, ${gib(e.workloadBytes)} for the workloads, ${gib(e.seriesBytes)} for the series); ` +
      `${budget.holder ?? 'this machine'} can give it ${gib(budget.machineBytes)}: ${worstIsWorkload && wf ? `make VM "${vm.name}"'s ${wf} smaller` : lanes > 1 ? 'run fewer lanes or give the VMs less memory' : `give VM "${vm.name}" less memory`}`
  }
}

/**
 * Events per simulated second, summed over lanes: pages the scanner visits (its nominal rate;
 * the advisor's cap when it may raise it) and the guest events of each workload. A workload whose
 * demand exceeds its VM's memory thrashes (each page it touches is reclaimed and faulted back):
 * its events count OVERCOMMIT_PENALTY times. Issue 13 measured such runs 80 to 1000 times
 * slower, most of it reclaim sweeping every page per allocation; since reclaim skips sweeps
 * that can find nothing (guest.ts), 60 s in a 512 MiB VM took, fitting / overcommitted: web-app
 * heap 200 / 700 MiB 1.2 / 1.3 s (250 s before), kernel-build heap 48 / 300 MiB 1.5 / 2.3 s
 * (20 s before), mem-micro 200 / 700 MiB 1.6 / 1.9 s (`samepage run`, 2026-12-02): at most 1.5x.
 */
export const OVERCOMMIT_PENALTY = 2

export function eventsPerSimSecond(config: Experiment): number {
  let guest = 0
  for (const v of config.vms) {
    const w = v.workload
    let ev = 0
    switch (w.kind) {
      case 'web-app':
        ev = w.requests_per_s * 5
        break
      case 'kernel-build':
        // cc1 rewrites 1 % of its heap each 10 ms quantum, per job (kernelbuild.ts).
        ev = w.jobs * (w.heap_mib * 256 * 0.01 * 100 + 50)
        break
      case 'mem-micro':
        ev = w.writes_per_s
        break
      case 'cpu-micro':
        ev = 100
        break
      case 'file-cases':
        ev = w.read_pages_per_s
        break
      case 'office-docs':
        ev = w.opens_per_s * (w.header_pages + w.body_pages)
        break
      case 'idle':
        ev = w.activity_pages_per_s
        break
      default:
        ev = 100
    }
    if (workloadPages(v) > v.memory_mib * 256) ev *= OVERCOMMIT_PENALTY
    guest += ev
  }
  let scan = 0
  for (const l of config.lanes) {
    const s = l.scanner
    if (s.kind === 'none') continue
    const rate = s.kind === 'ksm' && s.advisor_mode === 'scan-time' ? (s.advisor_max_pages_to_scan * 1000) / s.sleep_millisecs : nominalRate(s)
    scan += rate
  }
  return guest * config.lanes.length + scan
}

/** Total events of a run. */
export function runEvents(config: Experiment): number {
  return eventsPerSimSecond(config) * config.duration_s
}

/** A run this many times paper-fig6b's events or more gets a warning (fig6b: ~19 s here). */
export const COST_WARN_RATIO = 10

/**
 * A warning when the run costs COST_WARN_RATIO times `reference`'s events or more (the host
 * passes paper-fig6b), with the estimate; null otherwise.
 */
export function costWarning(config: Experiment, reference: Experiment): string | null {
  const ratio = runEvents(config) / runEvents(reference)
  if (!(ratio >= COST_WARN_RATIO)) return null
  return (
    `this run is large: about ${groupDigits(Math.round(eventsPerSimSecond(config)))} events per simulated second, ` +
    `${groupDigits(Math.round(ratio))}x the work of paper-fig6b; it may take a long time (the progress line shows simulated seconds per wall second)`
  )
}
