/**
 * The paper's future work (section 6): the hint method plus KSM for the pages hints never cover
 * (heap and stack, files with the same content under different paths, the paper's case 4).
 * One ksmd thread: of each wake-up's pages_to_scan, `ksm_share` (rounded) goes to a slow
 * background KSM linear walk (unstable tree, full passes) and the rest to popping hints of the
 * paper's attribute channel (stable tree, checksum hash table). With no hints and a zero share
 * it sleeps without CPU like the hint scanner.
 *
 * Default ksm_share 0.2 (*estimate*, docs/model.md): at the paper's 5000 pages/s the walk gets
 * 1000 pages/s, a full pass over two 512 MiB VMs in about 4.4 minutes (the paper's 1000 pages/s
 * KSM lane), while hints keep four fifths of the budget.
 */
import type { CpuProfile } from '../machine/cost.ts'
import type { HintStack } from '../machine/hintstack.ts'
import type { HostMemory } from '../machine/memory.ts'
import type { StableTree } from '../machine/stable.ts'
import { LinearPlusHints, type MixedParams } from './mixed.ts'

export const KSM_SHARE_DEFAULT = 0.2

export interface HybridParams extends MixedParams {
  /** Share of pages_to_scan given to the linear walk, 0..1. */
  ksm_share: number
}

export class HybridScanner extends LinearPlusHints {
  readonly kind = 'hybrid'
  readonly wantsAttributes = true
  private readonly linearPages: number

  constructor(mem: HostMemory, stable: StableTree, cost: CpuProfile, stack: HintStack, readonly hybrid: HybridParams) {
    super(mem, stable, cost, stack, hybrid)
    this.linearPages = Math.round(hybrid.pages_to_scan * hybrid.ksm_share)
  }

  protected walks(): boolean {
    return this.linearPages > 0
  }

  protected batch(n: number): void {
    const hintPages = n - this.linearPages
    for (let i = 0; i < hintPages; i++) {
      const gp = this.stack.pop()
      if (gp < 0) break
      this.hinted.scanHinted(gp)
    }
    if (this.linearPages > 0) this.linear.scanPages(this.linearPages)
  }
}
