/**
 * `samepage kernel calibrate`: this host's CPU profile, measured. Scenarios that weigh the cost
 * classes differently run on the real ksmd (its CPU time over the run) and in the simulator (its
 * operation counts per second over the same run); the costs are then fitted with the same code
 * as `samepage calibrate` (src/core/analysis/calibrate.ts: ridge least squares towards a prior, minimax
 * reweighting). The prior is the paper's Xeon X5560 profile scaled by nothing: the fit moves
 * each cost, and the ridge keeps the costs no scenario separates near their prior.
 *
 * The classes and the scenario that carries each (all at 2 VMs, 100 pages / 20 ms unless said):
 * - first visits and unique pages (page_visit, checksum, tree_step): all pages unique;
 * - merging (page_compare, merge): the static duplicates layout while it converges;
 * - already-merged pages (page_visit + a stable-tree search): every page duplicated across the
 *   VMs, run well past convergence;
 * - chains (tree steps through stable_node_chains): 600 copies of one page, max_page_sharing 16;
 * - non-present pages (page_skip): 4096 present pages in 256 MiB VMs;
 * - wake-ups (wakeup): unique pages at 10 pages / 20 ms against 1000 / 20 ms.
 */
import type { Assets } from '../core/experiment/assets.ts'
import { fitProfile, modelCpuPercent, OP_NAMES, type FitTarget } from '../core/analysis/calibrate.ts'
import { parseExperiment, type Experiment } from '../core/experiment/config.ts'
import { XEON_X5560, type CpuProfile, type OpName } from '../core/machine/cost.ts'
import { Engine } from '../core/experiment/engine.ts'
import { CPU_PROFILE_SCHEMA } from '../core/machine/profile.ts'
import { makeSnapshotHeader, type Snapshot } from '../core/formats/snapshot.ts'
import { manyCopiesSnapshot, staticSnapshot } from './scenarios.ts'
import { hash32 } from '../core/machine/rng.ts'
import type { KernelSummary } from './summary.ts'
import { timerWheelOf } from './proc.ts'

export interface CalibrationScenario {
  name: string
  config: Experiment
  assets: Assets
}

function uniqueSnapshot(vm: number, pages: number): Snapshot {
  const fps = new Uint32Array(2 * pages)
  for (let i = 0; i < pages; i++) {
    fps[2 * i] = hash32(7, vm, i, 0x63616c69)
    fps[2 * i + 1] = hash32(i, vm, 7, 0x62726174) | 1
  }
  return { header: makeSnapshotHeader(`calibrate-unique-${vm}`, 'raw'), extents: [{ gfn: 0, fps }] }
}

function commonSnapshot(pages: number): Snapshot {
  const fps = new Uint32Array(2 * pages)
  for (let i = 0; i < pages; i++) {
    fps[2 * i] = hash32(8, i, 0x636f6d6d)
    fps[2 * i + 1] = hash32(i, 8, 0x6f6e2121) | 1
  }
  return { header: makeSnapshotHeader('calibrate-common', 'raw'), extents: [{ gfn: 0, fps }] }
}

function calScenario(name: string, snaps: Snapshot[], memMib: number, duration: number, scanner: Record<string, unknown>): CalibrationScenario {
  const assets: Assets = new Map()
  const vms = snaps.map((s, i) => {
    const file = `${name}-${i}.spsnap`
    assets.set(file, { kind: 'snapshot', snapshot: s })
    return { name: `vm${i}`, memory_mib: memMib, snapshot_file: file, workload: { kind: 'idle', activity_pages_per_s: 0 } }
  })
  const config = parseExperiment({
    schema: 'samepage-lab/experiment@1',
    name: `calibrate-${name}`,
    duration_s: duration,
    sample_every_s: 1,
    vms,
    lanes: [{ name: 'KSM', scanner: { kind: 'ksm', smart_scan: false, ...scanner } }]
  })
  return { name, config, assets }
}

export function calibrationScenarios(): CalibrationScenario[] {
  const unique = [uniqueSnapshot(0, 4096), uniqueSnapshot(1, 4096)]
  return [
    calScenario('unique', unique, 32, 15, {}),
    calScenario('merging', [staticSnapshot(0), staticSnapshot(1)], 32, 15, {}),
    calScenario('merged', [commonSnapshot(4096), commonSnapshot(4096)], 32, 20, {}),
    calScenario('chains', [manyCopiesSnapshot(0, 2000, 0), manyCopiesSnapshot(1, 2000, 0)], 16, 15, { max_page_sharing: 16 }),
    calScenario('sparse', unique, 256, 15, {}),
    calScenario('wakeups-10', unique, 32, 15, { pages_to_scan: 10 }),
    calScenario('unique-1000', [uniqueSnapshot(0, 16384), uniqueSnapshot(1, 16384)], 64, 15, { pages_to_scan: 1000 }),
    // A whole pass per wake-up (the scan-time advisor's regime): 'merged' above is dominated by
    // its first pass's merges, this one by visits of pages already merged (cmp_and_merge_page
    // returns before the checksum), so page_visit and merge are told apart.
    calScenario('merged-pass', [commonSnapshot(4096), commonSnapshot(4096)], 32, 15, { pages_to_scan: 30000 }),
    calScenario('unique-pass', unique, 32, 15, { pages_to_scan: 30000 })
  ]
}

export interface KernelMeasurement {
  cpuNs: number
  wallS: number
  summary: KernelSummary
}

export interface CalibrationOutput {
  file: { schema: typeof CPU_PROFILE_SCHEMA; profile: CpuProfile; measured: { release: string; hz: number | null; cpu: string; date: string }; rows: { label: string; target: number; model: number; ratio: number }[]; targets: FitTarget[] }
  text: string
}

/** The simulator's operations per second over a scenario's run (the fit's input) and its pages scanned per second. */
export function simulatedOps(s: CalibrationScenario): { ops: Record<OpName, number>; scannedPerS: number } {
  const engine = new Engine(s.config, { assets: s.assets })
  engine.run()
  return { ops: engine.lanes[0].measuredOpsPerSecond(), scannedPerS: engine.summary(0).lanes[0].pages_scanned / engine.t }
}

/**
 * The CPU % the simulated run should show: the kernel's CPU per scanned page at the simulator's
 * scan rate. Per scanned page, because the simulator's scan period may differ from the kernel's
 * (timer rounding, ksmd waiting for a CPU on a busy host): that gap is the timing's, judged by
 * `kernel validate` apart, and must not be fitted into the per-operation costs.
 */
export function targetCpuPercent(kernelCpuNs: number, kernelScanned: number, simScannedPerS: number): number {
  return kernelScanned > 0 ? ((kernelCpuNs / kernelScanned) * simScannedPerS) / 1e7 : 0
}

export async function runCalibration(o: { kernelRun: (s: CalibrationScenario) => Promise<KernelMeasurement>; note: (line: string) => void; cores?: number; scenarios?: CalibrationScenario[] }): Promise<CalibrationOutput> {
  const targets: FitTarget[] = []
  let info: KernelSummary['kernel'] | null = null
  for (const s of o.scenarios ?? calibrationScenarios()) {
    o.note(`samepage: kernel calibrate: ${s.name} (${s.config.duration_s} s)`)
    const k = await o.kernelRun(s)
    info = k.summary.kernel
    const sim = simulatedOps(s)
    targets.push({ label: s.name, opsPerSecond: sim.ops, cpuPercent: targetCpuPercent(k.cpuNs, k.summary.lanes[0].pages_scanned, sim.scannedPerS) })
  }
  const prior: CpuProfile = {
    ...XEON_X5560,
    id: 'host',
    label: `${info?.cpu_model ?? 'this host'}, Linux ${info?.release ?? '?'} (kernel calibrate)`,
    cores: o.cores ?? XEON_X5560.cores,
    ghz: 0,
    hz: info?.hz ?? XEON_X5560.hz,
    timer_wheel: timerWheelOf(info?.release ?? '')
  }
  const fit = fitProfile(prior, targets)
  let text = `ksmd CPU on this host (${prior.label}), per scanned page at the simulator's scan rate: measured, with the paper's Xeon costs, and fitted\n`
  targets.forEach((t, i) => {
    text += `${t.label.padEnd(12)} kernel ${t.cpuPercent.toFixed(3).padStart(7)} %  xeon-x5560 ${modelCpuPercent(XEON_X5560, t.opsPerSecond).toFixed(3).padStart(7)} %  fitted ${fit.rows[i].model.toFixed(3).padStart(7)} % (x${fit.rows[i].ratio.toFixed(2)})\n`
  })
  text += '\nfitted costs (ns), the xeon-x5560 profile in parentheses:\n'
  for (const k of OP_NAMES) text += `  ${k}_ns: ${fit.profile[`${k}_ns`]} (${XEON_X5560[`${k}_ns`]})\n`
  return {
    file: {
      schema: CPU_PROFILE_SCHEMA,
      profile: fit.profile,
      measured: { release: info?.release ?? '', hz: info?.hz ?? null, cpu: info?.cpu_model ?? '', date: new Date().toISOString().slice(0, 10) },
      rows: fit.rows,
      targets
    },
    text
  }
}
