/**
 * What every scanner offers the lane. A scanner runs as one host thread (ksmd): it wakes at
 * `nextWake` (simulated seconds), does a batch of work whose CPU time is modelled, then sleeps.
 */
import type { OpCounts } from '../machine/cost.ts'

export interface Scanner {
  readonly kind: string
  /** Whether the lane's guests run the paper's modified kernel (they send page attributes). */
  readonly wantsAttributes: boolean
  /** Simulated time of the next wake-up, in seconds. */
  nextWake: number
  /** Operations done since the start (the cost model's inputs). */
  readonly ops: OpCounts
  /** Modelled CPU time used since the start, in ns. */
  readonly cpuNs: number
  /** Pages given to the compare-and-merge step (sysfs pages_scanned). */
  pages_scanned: number
  /** Completed passes over all memory (sysfs full_scans); 0 for scanners that do not walk. */
  full_scans: number
  /** Candidates waiting for a partner: unstable tree nodes, or hash table entries. */
  pages_unshared: number
  /** Pages with a tracking record (rmap items). */
  records: number
  /** Pages KSM's smart scan skipped since the start (sysfs pages_skipped); 0 without it. */
  pages_skipped: number
  /** One wake-up at `now` seconds: scan, charge CPU, set nextWake. */
  wake(now: number): void
  /** Start judging convergence afresh (the guests were just frozen for warm-up sharing). */
  beginSettle(): void
  /** Whether the scanner has nothing left to find on a frozen memory (for warm-up sharing). */
  converged(): boolean
  /** The lane set its clock back to t = 0 after warm-up (scanners that measure time restart). */
  clockReset?(): void
  byteSize(): number
}
