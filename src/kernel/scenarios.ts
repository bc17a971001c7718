/**
 * `samepage kernel validate`'s battery: short scenarios that each isolate one mechanism of KSM,
 * run on the kernel and in the simulator, with the bands they must meet. The guests start from
 * memory snapshots built here in memory (the same Snapshot objects `dump import` makes, handed to
 * the engine as assets), so each scenario's expected final state is known by construction. Pure.
 *
 * Layout of a static VM (4096 snapshot pages, 16 MiB, in a 32 MiB VM so a rewriting workload has
 * free pages): 1024 pages whose contents every VM shares, 64 contents x 8 copies within the VM,
 * 512 zero pages, 2048 unique pages. Two such VMs end, for KSM without use_zero_pages, at
 * 1024 + 2 x 64 + 1 = 1153 KSM pages and 1024 + 2 x 64 x 7 + 1023 = 2943 further mappings.
 */
import type { Assets } from '../core/experiment/assets.ts'
import { ZERO_FP_HI, ZERO_FP_LO } from '../core/machine/content.ts'
import { parseExperiment, type Experiment, type ExperimentInput } from '../core/experiment/config.ts'
import { hash32 } from '../core/machine/rng.ts'
import { makeSnapshotHeader, type Snapshot } from '../core/formats/snapshot.ts'

export interface Scenario {
  name: string
  /** What it checks, one line. */
  what: string
  config: Experiment
  assets: Assets
  /** Memory does not change after t = 0: the final state must be exactly equal. */
  static: boolean
  /**
   * Counters of the final state that are shown but not held exact, with the reason. Smart scan
   * ages every never-merging page in lockstep (they all enter at the same pass), so they are all
   * in the unstable tree in one pass and all skipped (removed from it) in the next:
   * pages_unshared then depends on the parity of the pass the run stops in, a timing matter.
   */
  notExact?: { counters: string[]; why: string }
}

/** A fingerprint no other scenario page has: (hash of kind, a, b) with the zero page avoided. */
function fp(out: Uint32Array, i: number, kind: number, a: number, b: number): void {
  let hi = hash32(kind, a, b, 0x6b65726e)
  const lo = hash32(b, a, kind, 0x6c616221)
  if (hi === ZERO_FP_HI && lo === ZERO_FP_LO) hi ^= 1
  out[2 * i] = hi
  out[2 * i + 1] = lo
}

export interface StaticLayout {
  pages: number
  common: number
  dupContents: number
  dupCopies: number
  zero: number
}

export const STATIC_LAYOUT: StaticLayout = { pages: 4096, common: 1024, dupContents: 64, dupCopies: 8, zero: 512 }

/** One VM's snapshot in the static layout (`scale` multiplies every part). */
export function staticSnapshot(vm: number, layout: StaticLayout = STATIC_LAYOUT, scale = 1): Snapshot {
  const n = layout.pages * scale
  const fps = new Uint32Array(2 * n)
  let i = 0
  for (let k = 0; k < layout.common * scale; k++) fp(fps, i++, 1, k, 0)
  for (let c = 0; c < layout.dupContents * scale; c++) for (let k = 0; k < layout.dupCopies; k++) fp(fps, i++, 2, vm, c)
  for (let k = 0; k < layout.zero * scale; k++, i++) {
    fps[2 * i] = ZERO_FP_HI
    fps[2 * i + 1] = ZERO_FP_LO
  }
  for (let u = 0; i < n; u++) fp(fps, i++, 3, vm, u)
  return { header: makeSnapshotHeader(`validate-static-${vm}`, 'raw'), extents: [{ gfn: 0, fps }] }
}

/** `copies` mappings of one content spread over the VMs, plus `unique` pages per VM. */
export function manyCopiesSnapshot(vm: number, copies: number, unique: number): Snapshot {
  const fps = new Uint32Array(2 * (copies + unique))
  for (let k = 0; k < copies; k++) fp(fps, k, 4, 0, 0)
  for (let u = 0; u < unique; u++) fp(fps, copies + u, 5, vm, u)
  return { header: makeSnapshotHeader(`validate-copies-${vm}`, 'raw'), extents: [{ gfn: 0, fps }] }
}

interface Knobs {
  pages_to_scan?: number
  sleep_millisecs?: number
  max_page_sharing?: number
  use_zero_pages?: boolean
  smart_scan?: boolean
  advisor_mode?: 'none' | 'scan-time'
  advisor_target_scan_time?: number
}

function scenario(
  name: string,
  what: string,
  o: { duration: number; memMib: number; snaps: Snapshot[]; knobs: Knobs; workload?: ExperimentInput['vms'][number]['workload']; static: boolean; notExact?: Scenario['notExact'] }
): Scenario {
  const assets: Assets = new Map()
  const vms = o.snaps.map((s, i) => {
    const file = `${name}-${i}.spsnap`
    assets.set(file, { kind: 'snapshot', snapshot: s })
    return { name: `vm${i}`, memory_mib: o.memMib, snapshot_file: file, workload: o.workload ?? { kind: 'idle' as const, activity_pages_per_s: 0 } }
  })
  const config = parseExperiment({
    schema: 'samepage-lab/experiment@1',
    name,
    description: what,
    duration_s: o.duration,
    sample_every_s: 1,
    vms,
    lanes: [{ name: 'KSM', scanner: { kind: 'ksm', ...o.knobs } }]
  })
  return { name, what, config, assets, static: o.static, notExact: o.notExact }
}

/** Every scenario of the battery, in the order `kernel validate` runs them. */
export function validationScenarios(): Scenario[] {
  const two = [staticSnapshot(0), staticSnapshot(1)]
  const twoBig = [staticSnapshot(0, STATIC_LAYOUT, 4), staticSnapshot(1, STATIC_LAYOUT, 4)]
  const copies = [manyCopiesSnapshot(0, 300, 1000), manyCopiesSnapshot(1, 300, 1000)]
  return [
    scenario('static-100-20', 'duplicates within and across 2 VMs, 100 pages / 20 ms', { duration: 20, memMib: 32, snaps: two, knobs: { smart_scan: false }, static: true }),
    scenario('static-1000-20', 'the same, 4x the memory, 1000 pages / 20 ms', { duration: 12, memMib: 128, snaps: twoBig, knobs: { pages_to_scan: 1000, smart_scan: false }, static: true }),
    scenario('static-smart-scan', 'the same at 100 / 20 with smart_scan', {
      duration: 20,
      memMib: 32,
      snaps: two,
      knobs: { smart_scan: true },
      static: true,
      notExact: { counters: ['pages_unshared'], why: 'unique pages age in lockstep under smart_scan: all in the unstable tree one pass, all skipped the next' }
    }),
    scenario('static-zero-pages', 'the same at 100 / 20 with use_zero_pages', { duration: 20, memMib: 32, snaps: two, knobs: { use_zero_pages: true, smart_scan: false }, static: true }),
    scenario('copies-mps-256', '600 copies of one page, max_page_sharing 256 (a chain of 3 dups)', { duration: 10, memMib: 16, snaps: copies, knobs: { max_page_sharing: 256, smart_scan: false }, static: true }),
    scenario('copies-mps-16', '600 copies of one page, max_page_sharing 16 (a chain of 38 dups)', { duration: 10, memMib: 16, snaps: copies, knobs: { max_page_sharing: 16, smart_scan: false }, static: true }),
    scenario('rewrite-20', 'static VMs plus 20 page writes/s per VM (mem-micro, half shared content)', {
      duration: 30,
      memMib: 32,
      snaps: two,
      knobs: { smart_scan: false },
      workload: { kind: 'mem-micro', working_set_mib: 4, writes_per_s: 20, shared_fraction: 0.5, work_s: 3600 },
      static: false
    }),
    scenario('rewrite-100', 'static VMs plus 100 page writes/s per VM', {
      duration: 30,
      memMib: 32,
      snaps: two,
      knobs: { smart_scan: false },
      workload: { kind: 'mem-micro', working_set_mib: 4, writes_per_s: 100, shared_fraction: 0.5, work_s: 3600 },
      static: false
    }),
    scenario('advisor-scan-time', 'the scan-time advisor, target 2 s per pass', { duration: 30, memMib: 32, snaps: two, knobs: { advisor_mode: 'scan-time', advisor_target_scan_time: 2, smart_scan: false }, static: true })
  ]
}
