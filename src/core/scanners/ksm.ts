/**
 * Linux KSM as in mm/ksm.c (the order of Linux 3.0, the paper's kernel; see docs/model.md):
 *
 * ksm_scan_thread: run ksm_do_scan(pages_to_scan), then sleep sleep_millisecs.
 * scan_get_next_rmap_item: the next present guest page in address order, VM by VM; passing the
 *   end of the last VM ends a full pass (seqnr++, full_scans++) and the next pass starts with an
 *   empty unstable tree (the old nodes are abandoned, not freed).
 * cmp_and_merge_page(page, rmap_item):
 *   1. remove_rmap_item_from_tree: an item in the unstable tree of this pass is erased from it;
 *      one from the previous pass is just forgotten; pages_unshared-- either way.
 *   2. stable_tree_search: equal content in the stable tree -> merge into that KSM page.
 *   3. checksum; if it differs from oldchecksum, store it and stop: the page is volatile. A new
 *      record has oldchecksum 0, so a new page needs two visits.
 *   4. unstable_tree_search_insert: equal content -> merge both into a new KSM page inserted in
 *      the stable tree, the partner leaves the unstable tree; else insert (pages_unshared++).
 * The unstable tree is keyed by the pages' current content and is not write-protected: a page
 * that changes after insertion misplaces itself and can hide nodes below it.
 */
import { checksumOf } from '../content.ts'
import { OpCounts, type CpuProfile } from '../cost.ts'
import type { HostMemory } from '../memory.ts'
import { RbTree } from '../rbtree.ts'
import type { StableTree } from '../stable.ts'
import type { Scanner } from './scanner.ts'

export const PAGES_TO_SCAN_DEFAULT = 100 // Documentation/admin-guide/mm/ksm.rst
export const SLEEP_MILLISECS_DEFAULT = 20 // Documentation/admin-guide/mm/ksm.rst

const RMAP_EXISTS = 1
const RMAP_UNSTABLE = 2

export interface KsmParams {
  pages_to_scan: number
  sleep_millisecs: number
}

export class KsmScanner implements Scanner {
  readonly kind = 'ksm'
  readonly wantsAttributes = false
  nextWake = 0
  readonly ops = new OpCounts()
  /** Modelled CPU time used since the start, ns. */
  get cpuNs(): number {
    return this.ops.ns(this.cost)
  }
  pages_scanned = 0
  full_scans = 0
  pages_unshared = 0
  records = 0
  /** Pages found volatile (checksum changed) since start. */
  volatile_skips = 0
  /** ksm_scan.seqnr: low 8 bits tag unstable-tree items with their pass. */
  private seqnr = 0
  private cursor = 0
  private readonly rmapFlags: Uint8Array
  private readonly rmapSeq: Uint8Array
  private readonly oldChecksum: Uint32Array
  readonly unstable: RbTree
  private mergesAtPassStart = 0
  private volatileAtPassStart = 0
  private quietPasses = 0

  constructor(
    private readonly mem: HostMemory,
    private readonly stable: StableTree,
    private readonly cost: CpuProfile,
    readonly params: KsmParams
  ) {
    const n = mem.totalPages
    this.rmapFlags = new Uint8Array(n)
    this.rmapSeq = new Uint8Array(n)
    this.oldChecksum = new Uint32Array(n)
    this.unstable = new RbTree(n, (gp, out) => mem.read(gp, out))
  }

  wake(now: number): void {
    const before = this.cpuNs
    this.ops.wakeup++
    this.stable.nowMs = now * 1000
    this.scanPages(this.params.pages_to_scan)
    const used = this.cpuNs - before
    this.nextWake = now + used * 1e-9 + this.params.sleep_millisecs / 1000
  }

  /** ksm_do_scan: up to n present pages through cmp_and_merge_page. */
  scanPages(n: number): void {
    for (let i = 0; i < n; i++) {
      const gp = this.nextPage()
      if (gp < 0) break
      this.cmpAndMerge(gp)
    }
  }

  /** scan_get_next_rmap_item: the next present page, or -1 if no page is present at all. */
  private nextPage(): number {
    const mem = this.mem
    const total = mem.totalPages
    for (let tries = 0; tries <= total; tries++) {
      if (this.cursor >= total) this.endPass()
      const gp = this.cursor++
      if (mem.pageFrame[gp] >= 0) return gp
      this.ops.page_skip++
    }
    return -1
  }

  private endPass(): void {
    this.cursor = 0
    this.seqnr = (this.seqnr + 1) & 0xff
    this.full_scans++
    this.unstable.reset()
    // A quiet pass merged nothing and found no page volatile: memory has nothing new for KSM.
    const merges = this.stable.merges
    const quiet = merges === this.mergesAtPassStart && this.volatile_skips === this.volatileAtPassStart
    this.quietPasses = quiet ? this.quietPasses + 1 : 0
    this.mergesAtPassStart = merges
    this.volatileAtPassStart = this.volatile_skips
  }

  /** cmp_and_merge_page for page gp. */
  cmpAndMerge(gp: number): void {
    const mem = this.mem
    const st = this.stable
    this.pages_scanned++
    this.ops.page_visit++
    let flags = this.rmapFlags[gp]
    if (!(flags & RMAP_EXISTS)) {
      flags = RMAP_EXISTS
      this.records++
    }
    // 1. remove_rmap_item_from_tree
    if (flags & RMAP_UNSTABLE) {
      if (this.rmapSeq[gp] === this.seqnr) this.unstable.erase(gp)
      this.pages_unshared--
      flags &= ~RMAP_UNSTABLE
    }
    this.rmapFlags[gp] = flags
    const f = mem.pageFrame[gp]
    const hi = mem.hi(f)
    const lo = mem.lo(f)
    // 2. stable tree
    st.tree.steps = 0
    if (mem.ksmNode(f) >= 0) {
      // Already a KSM page: the search finds the page itself and nothing changes.
      st.tree.search(hi, lo)
      this.ops.tree_step += st.tree.steps
      return
    }
    const node = st.search(hi, lo)
    this.ops.tree_step += st.tree.steps
    if (node >= 0) {
      st.mergeInto(gp, node)
      this.ops.page_compare++
      this.ops.merge++
      return
    }
    // 3. volatility check
    const sum = checksumOf(hi, lo)
    this.ops.checksum++
    if (this.oldChecksum[gp] !== sum) {
      this.oldChecksum[gp] = sum
      this.volatile_skips++
      return
    }
    // 4. unstable tree
    const u = this.unstable
    u.steps = 0
    const partner = u.searchInsert(gp, hi, lo)
    this.ops.tree_step += u.steps
    if (partner < 0) {
      this.rmapFlags[gp] = flags | RMAP_UNSTABLE
      this.rmapSeq[gp] = this.seqnr
      this.pages_unshared++
      return
    }
    u.erase(partner)
    this.rmapFlags[partner] &= ~RMAP_UNSTABLE
    this.pages_unshared--
    st.mergeTwo(partner, gp)
    this.ops.page_compare++
    this.ops.merge += 2
  }

  beginSettle(): void {
    this.quietPasses = 0
    this.mergesAtPassStart = this.stable.merges
    this.volatileAtPassStart = this.volatile_skips
  }

  /** Two full passes in a row were quiet (no merge, no volatile page). */
  converged(): boolean {
    return this.quietPasses >= 2
  }

  byteSize(): number {
    return this.rmapFlags.byteLength * 2 + this.oldChecksum.byteLength + this.mem.totalPages * 13
  }
}
