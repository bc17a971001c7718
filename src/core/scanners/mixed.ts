/**
 * One ksmd thread that feeds KSM's compare-and-merge from two sources: KSM's own linear walk
 * (scanners/ksm.ts: unstable tree, full passes, use_zero_pages and smart scan if configured) and
 * a hint stack whose pages go through the hint scanner's path (scanners/hint.ts: stable tree,
 * then a sized hash table keyed by checksum instead of the unstable tree). The base of
 * `xlh` (hints from virtual-disk I/O, interleaved with the walk at a ratio) and `hybrid` (the
 * paper's hints plus a slow background walk). Both halves count into one OpCounts, merge through
 * the one StableTree, and share KSM's records (a page has one rmap item whichever half saw it).
 *
 * Per wake-up the thread spends the same `pages_to_scan` budget as KSM; how it is split is the
 * subclass's `batch`. It sleeps with no CPU when it has nothing to do (no hints and no walk).
 */
import { OpCounts, type CpuProfile } from '../machine/cost.ts'
import type { HintStack } from '../machine/hintstack.ts'
import type { HostMemory } from '../machine/memory.ts'
import type { StableTree } from '../machine/stable.ts'
import { wakeAfterSleep } from '../machine/timer.ts'
import { HintScanner } from './hint.ts'
import { KsmScanner } from './ksm.ts'
import type { Scanner } from './scanner.ts'

export interface MixedParams {
  pages_to_scan: number
  sleep_millisecs: number
  hash_table_size: number
  use_zero_pages: boolean
  smart_scan: boolean
}

export abstract class LinearPlusHints implements Scanner {
  abstract readonly kind: string
  abstract readonly wantsAttributes: boolean
  nextWake = 0
  readonly ops = new OpCounts()
  /** KSM's linear walk (its unstable tree, passes and records). */
  readonly linear: KsmScanner
  /** The hint path: stack pops, stable tree, checksum hash table. */
  readonly hinted: HintScanner

  constructor(
    mem: HostMemory,
    protected readonly stable: StableTree,
    private readonly cost: CpuProfile,
    readonly stack: HintStack,
    readonly params: MixedParams
  ) {
    const rate = { pages_to_scan: params.pages_to_scan, sleep_millisecs: params.sleep_millisecs }
    this.linear = new KsmScanner(mem, stable, cost, { ...rate, use_zero_pages: params.use_zero_pages, smart_scan: params.smart_scan }, this.ops)
    const linear = this.linear
    this.hinted = new HintScanner(mem, stable, cost, stack, { ...rate, hash_table_size: params.hash_table_size }, this.ops, (gp) => linear.hintedPage(gp))
    const hinted = this.hinted
    // One record per page: a page either half scans leaves the other half's structure first.
    linear.leaveOthers = (gp) => hinted.forget(gp)
  }

  /** Whether the linear walk gets any of the budget. */
  protected abstract walks(): boolean
  /** Spend one wake-up's budget of `n` pages. */
  protected abstract batch(n: number): void

  get cpuNs(): number {
    return this.ops.ns(this.cost)
  }
  get pages_scanned(): number {
    return this.linear.pages_scanned + this.hinted.pages_scanned
  }
  get full_scans(): number {
    return this.linear.full_scans
  }
  /** Unstable tree nodes plus hash table entries. */
  get pages_unshared(): number {
    return this.linear.pages_unshared + this.hinted.pages_unshared
  }
  get records(): number {
    return this.linear.records
  }
  get pages_skipped(): number {
    return this.linear.pages_skipped
  }

  wake(now: number): void {
    const sleepMs = this.params.sleep_millisecs
    if (this.stack.depth === 0 && !this.walks()) {
      this.nextWake = wakeAfterSleep(now, sleepMs, this.cost)
      return
    }
    const before = this.cpuNs
    this.ops.wakeup++
    this.stable.nowMs = now * 1000
    this.batch(this.params.pages_to_scan)
    this.nextWake = wakeAfterSleep(now + (this.cpuNs - before) * 1e-9, sleepMs, this.cost)
  }

  beginSettle(): void {
    this.linear.beginSettle()
  }

  converged(): boolean {
    return this.stack.depth === 0 && (!this.walks() || this.linear.converged())
  }

  byteSize(): number {
    return this.linear.byteSize() + this.hinted.byteSize()
  }
}
