/**
 * The cost model: scanner CPU time is modelled, not measured from the simulator's own clock.
 * A CPU profile gives the cost in nanoseconds of each operation a scanner or the channel does;
 * scanner CPU % = modelled scanner CPU time / simulated time, in percent of one core, as `top`
 * shows ksmd. Sources of every constant: docs/model.md.
 */
import type { TimerWheel } from './timer.ts'

export interface CpuProfile {
  id: string
  label: string
  cores: number
  ghz: number
  /** The host kernel's CONFIG_HZ: ksmd's sleep is counted in jiffies of 1/hz s (src/core/machine/timer.ts). */
  hz: number
  /** The host kernel's timer wheel: `cascading` before Linux 4.8, `non-cascading` since. */
  timer_wheel: TimerWheel
  /** rmap item lookup and follow_page() for one page handed to cmp_and_merge_page. */
  page_visit_ns: number
  /** Walking past one guest page that is not present in the host. */
  page_skip_ns: number
  /** The 32-bit page checksum (jhash2 in Linux 3.0, xxhash32 since 5.x) of 4 KiB. */
  checksum_ns: number
  /** One step of a content-ordered tree: kmap and a memcmp that stops at the first difference. */
  tree_step_ns: number
  /**
   * One dup of a stable-node chain examined by stable_node_dup (get_ksm_page on it: a struct
   * page read and a reference taken and dropped).
   */
  dup_step_ns: number
  /** A full 4 KiB compare of two equal pages before a merge. */
  page_compare_ns: number
  /** One hash-table probe (hint scanner's checksum table). */
  hash_lookup_ns: number
  /** Write-protecting a page and replacing its mapping by the KSM page (per merged page). */
  merge_ns: number
  /** A write fault on a write-protected shared page and the 4 KiB copy (charged to the guest). */
  cow_break_ns: number
  /**
   * The hint scanner turning a popped hint (VM, gfn) into its page: memslot lookup and a page
   * table walk with cold cache lines (KSM's walk advances a cursor through page tables it has
   * just read, so its page_visit is cheaper).
   */
  hint_lookup_ns: number
  /** ksmd waking up from its sleep: timer, context switch and locking (per wake-up). */
  wakeup_ns: number
  /** One hypercall from the guest to the hypervisor: VM exit, handling, VM entry (charged to the guest). */
  vm_exit_ns: number
}

/**
 * First-principles estimates for the paper's host (docs/model.md gives the reasoning for each):
 * the prior of the calibration, which fits them to the paper's Table 1 (`samepage calibrate`).
 */
export const XEON_X5560_PRIOR: CpuProfile = {
  id: 'xeon-x5560',
  label: 'Intel Xeon X5560, 2.80 GHz, 4 cores (the paper, section 5)',
  cores: 4,
  ghz: 2.8,
  // Linux 3.0.4 (the paper, section 5): the cascading wheel, and HZ 250, kernel/Kconfig.hz's
  // default (docs/model.md, "Scan period": for 20 ms sleeps HZ 100, 250 and 1000 give one period).
  hz: 250,
  timer_wheel: 'cascading',
  page_visit_ns: 400,
  page_skip_ns: 15,
  checksum_ns: 1460,
  tree_step_ns: 180,
  dup_step_ns: 20,
  page_compare_ns: 600,
  hash_lookup_ns: 120,
  merge_ns: 4000,
  cow_break_ns: 3500,
  hint_lookup_ns: 1500,
  wakeup_ns: 3500,
  vm_exit_ns: 6000
}

/**
 * The paper's host: Intel Xeon X5560, 2.80 GHz, 4 cores (section 5), with the scanner costs
 * fitted to Table 1 by `samepage calibrate` (docs/calibration.md has the run and the residuals).
 */
export const XEON_X5560: CpuProfile = {
  ...XEON_X5560_PRIOR,
  label: 'Intel Xeon X5560, 2.80 GHz, 4 cores (the paper, section 5; costs fitted to Table 1)',
  // `samepage calibrate` (seed 42, full 2400 s runs), 2026-12-01, after the fidelity fixes of
  // docs/model.md (scan period, pass ends, no descent for merged pages, insert and chain walks,
  // sysfs counters): docs/calibration.md.
  page_visit_ns: 355,
  checksum_ns: 788,
  tree_step_ns: 270,
  page_compare_ns: 607,
  hash_lookup_ns: 115,
  merge_ns: 6601,
  hint_lookup_ns: 863,
  wakeup_ns: 3447
}

export const CPU_PROFILES: Record<string, CpuProfile> = {
  [XEON_X5560.id]: XEON_X5560
}

/**
 * Operations a scanner performed, counted; CPU time = the dot product with a profile. Keeping
 * counts (not nanoseconds) lets the calibration refit the profile from one run's counts.
 */
export class OpCounts {
  page_visit = 0
  page_skip = 0
  checksum = 0
  tree_step = 0
  dup_step = 0
  page_compare = 0
  hash_lookup = 0
  merge = 0
  wakeup = 0
  hint_lookup = 0

  /** Modelled CPU time of these operations on profile p, ns. */
  ns(p: CpuProfile): number {
    return (
      this.page_visit * p.page_visit_ns +
      this.page_skip * p.page_skip_ns +
      this.checksum * p.checksum_ns +
      this.tree_step * p.tree_step_ns +
      this.dup_step * p.dup_step_ns +
      this.page_compare * p.page_compare_ns +
      this.hash_lookup * p.hash_lookup_ns +
      this.merge * p.merge_ns +
      this.wakeup * p.wakeup_ns +
      this.hint_lookup * p.hint_lookup_ns
    )
  }

  snapshot(): Record<OpName, number> {
    return { page_visit: this.page_visit, page_skip: this.page_skip, checksum: this.checksum, tree_step: this.tree_step, dup_step: this.dup_step, page_compare: this.page_compare, hash_lookup: this.hash_lookup, merge: this.merge, wakeup: this.wakeup, hint_lookup: this.hint_lookup }
  }
}

export type OpName = 'page_visit' | 'page_skip' | 'checksum' | 'tree_step' | 'dup_step' | 'page_compare' | 'hash_lookup' | 'merge' | 'wakeup' | 'hint_lookup'
