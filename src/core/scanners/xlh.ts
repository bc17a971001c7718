/**
 * XLH (Miller, Franz, Rittinghaus, Hillenbrand, Bellosa: "XLH: More effective memory
 * deduplication scanners through cross-layer hints", USENIX ATC 2013): the host turns the
 * virtual disk I/O it serves into hints. When QEMU reads a disk block into a guest page or the
 * guest writes a page back to its disk, that guest page (very likely page cache, and likely to be
 * shared with other VMs that read the same files) is pushed on a bounded circular hint stack. No
 * guest change, no file paths: every disk page is a hint, whatever its content.
 *
 * ksmd interleaves hinted pages with its usual linear walk at `hint_ratio`:`linear_ratio` pages
 * (XLH's default 1:1; 0:1 is plain KSM, page for page), all within pages_to_scan per wake-up.
 * A hint slot with the stack empty goes to the walk. Hinted pages are looked up in the stable tree
 * and then in a sized hash table (XLH's replacement of the unstable tree for hinted pages);
 * walked pages take KSM's path (volatility check, unstable tree). Host-side hint generation costs
 * the guest nothing (the host handles the I/O anyway) and is not ksmd's CPU either.
 */
import type { CpuProfile } from '../machine/cost.ts'
import type { HintStack } from '../machine/hintstack.ts'
import type { HostMemory } from '../machine/memory.ts'
import type { StableTree } from '../machine/stable.ts'
import { LinearPlusHints, type MixedParams } from './mixed.ts'

export interface XlhParams extends MixedParams {
  /** Hinted pages per cycle of the interleave. */
  hint_ratio: number
  /** Linearly walked pages per cycle of the interleave. */
  linear_ratio: number
}

export class XlhScanner extends LinearPlusHints {
  readonly kind = 'xlh'
  readonly wantsAttributes = false
  /** Position in the interleave cycle (hint slots first), kept across wake-ups. */
  private slot = 0

  constructor(mem: HostMemory, stable: StableTree, cost: CpuProfile, stack: HintStack, readonly xlh: XlhParams) {
    super(mem, stable, cost, stack, xlh)
  }

  protected walks(): boolean {
    return this.xlh.linear_ratio > 0
  }

  protected batch(n: number): void {
    const h = this.xlh.hint_ratio
    const cycle = h + this.xlh.linear_ratio
    const walks = this.walks()
    for (let i = 0; i < n; i++) {
      const s = this.slot
      this.slot = s + 1 === cycle ? 0 : s + 1
      if (s < h) {
        const gp = this.stack.pop()
        if (gp >= 0) {
          this.hinted.scanHinted(gp)
          continue
        }
        if (!walks) break
      }
      if (this.linear.scanPages(1) === 0) break // the walk ended its pass: ksm_do_scan returns
    }
  }
}
