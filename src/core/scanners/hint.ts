/**
 * The paper's hint scanner (section 4): KSM's thread, but its targets come from the hint stack
 * instead of a linear walk. Per wake-up it pops up to pages_to_scan hints, newest first; for
 * each page: stable tree search (merge on a hit), else a checksum and a lookup in a hash table
 * keyed by the checksum, which replaces KSM's unstable tree (as in XLH): an entry whose page
 * still holds equal content is merged with this page into a new KSM page; otherwise this page
 * takes the entry. While the stack is empty the thread sleeps on a wait queue and costs no CPU.
 *
 * The hash table is direct-mapped with `hash_table_size` entries (a sized table, as XLH's): a
 * colliding insert replaces the older entry. Entries are verified by a full compare before a
 * merge, since their pages may have changed since. A page scanned again first leaves its entry
 * (`forget`), as a record leaves its tree in step 1 of cmp_and_merge_page: a page has one entry
 * at most and an entry's page is private, so pages_unshared counts each unshared page once.
 *
 * Keys are salted per tenant under tenant isolation (StableTree.keyHi), so the table never pairs
 * pages of two tenants. The same code is the hint half of the xlh and hybrid scanners, which pass
 * their shared OpCounts and KSM's records.
 */
import { checksumOf } from '../machine/content.ts'
import { OpCounts, type CpuProfile } from '../machine/cost.ts'
import type { HintStack } from '../machine/hintstack.ts'
import type { HostMemory } from '../machine/memory.ts'
import type { StableTree } from '../machine/stable.ts'
import { wakeAfterSleep } from '../machine/timer.ts'
import type { Scanner } from './scanner.ts'

export const HASH_TABLE_SIZE_DEFAULT = 1 << 18

export interface HintParams {
  pages_to_scan: number
  sleep_millisecs: number
  hash_table_size: number
}

export class HintScanner implements Scanner {
  readonly kind = 'hint'
  readonly wantsAttributes = true
  nextWake = 0
  readonly ops: OpCounts
  /** Modelled CPU time used since the start, ns. */
  get cpuNs(): number {
    return this.ops.ns(this.cost)
  }
  pages_scanned = 0
  full_scans = 0
  pages_unshared = 0
  records = 0
  readonly pages_skipped = 0
  /** Hints whose page had no partner in either structure. */
  misses = 0
  private readonly tracked: Uint8Array | null
  private readonly tableGp: Int32Array
  private readonly tableSum: Uint32Array
  /** Per guest page: the bucket of its hash entry + 1, or 0 (the entry may since have been replaced). */
  private readonly slotOf: Int32Array
  private readonly mask: number

  constructor(
    private readonly mem: HostMemory,
    private readonly stable: StableTree,
    private readonly cost: CpuProfile,
    readonly stack: HintStack,
    readonly params: HintParams,
    ops?: OpCounts,
    /**
     * Records kept by someone else (xlh, hybrid: KSM's rmap items), told of every page this
     * scanner compares and merges (the scanned page, and a hash entry's page before it is merged);
     * else this scanner keeps its own.
     */
    private readonly track: ((gp: number) => void) | null = null
  ) {
    let size = 1
    while (size < params.hash_table_size) size *= 2
    this.ops = ops ?? new OpCounts()
    this.tableGp = new Int32Array(size).fill(-1)
    this.tableSum = new Uint32Array(size)
    this.mask = size - 1
    this.slotOf = new Int32Array(mem.totalPages)
    this.tracked = track ? null : new Uint8Array(mem.totalPages)
  }

  wake(now: number): void {
    const sleepMs = this.params.sleep_millisecs
    if (this.stack.depth === 0) {
      this.nextWake = wakeAfterSleep(now, sleepMs, this.cost)
      return
    }
    const before = this.cpuNs
    this.ops.wakeup++
    this.stable.nowMs = now * 1000
    for (let i = 0; i < this.params.pages_to_scan; i++) {
      const gp = this.stack.pop()
      if (gp < 0) break
      this.scanHinted(gp)
    }
    this.nextWake = wakeAfterSleep(now + (this.cpuNs - before) * 1e-9, sleepMs, this.cost)
  }

  /**
   * Page gp leaves the hash table if it holds an entry there, as a record leaves its tree in
   * step 1 of cmp_and_merge_page: a page is scanned again (by this scanner, or by the walk of
   * xlh and hybrid), so whatever it holds now decides where it goes. A page thus has at most one
   * entry, and an entry's page is never a KSM page: pages_unshared counts each unshared page once.
   */
  forget(gp: number): void {
    const s = this.slotOf[gp]
    if (s === 0) return
    this.slotOf[gp] = 0
    if (this.tableGp[s - 1] === gp) {
      this.tableGp[s - 1] = -1
      this.pages_unshared--
    }
  }

  scanHinted(gp: number): void {
    const mem = this.mem
    const st = this.stable
    this.ops.hint_lookup++
    const f = mem.pageFrame[gp]
    if (f < 0 || f === mem.zeroFrame) return
    this.pages_scanned++
    this.ops.page_visit++
    this.forget(gp)
    if (this.track) this.track(gp)
    else if (!(this.tracked as Uint8Array)[gp]) {
      ;(this.tracked as Uint8Array)[gp] = 1
      this.records++
    }
    const hi = mem.hi(f)
    const lo = mem.lo(f)
    const kh = st.keyHi(gp, hi)
    // Already a KSM page (merged, its record listed from it): no tree search, as in ksmd.
    if (mem.ksmNode(f) >= 0) return
    st.resetSteps()
    // remove_rmap_item_from_tree: a record still listed from the KSM page this page left by CoW
    // leaves it now, and only now do pages_shared / pages_sharing drop.
    st.unlist(gp)
    const node = st.search(kh, lo)
    st.chargeTo(this.ops)
    if (node >= 0) {
      this.ops.page_compare++
      if (st.mergeInto(gp, node)) {
        this.ops.merge++
        return
      }
    }
    const sum = checksumOf(kh, lo)
    this.ops.checksum++
    this.ops.hash_lookup++
    const b = sum & this.mask
    const e = this.tableGp[b]
    if (e >= 0 && e !== gp && this.tableSum[b] === sum) {
      this.ops.page_compare++
      const ef = mem.pageFrame[e]
      if (ef >= 0 && ef !== mem.zeroFrame && mem.ksmNode(ef) < 0 && mem.hi(ef) === hi && mem.lo(ef) === lo && st.mayMerge(e, gp)) {
        this.tableGp[b] = -1
        this.slotOf[e] = 0
        this.pages_unshared--
        if (this.track) this.track(e)
        st.resetSteps()
        st.mergeTwo(e, gp) // stable_tree_insert's walk is charged too
        st.chargeTo(this.ops)
        this.ops.merge += 2
        return
      }
    }
    if (e < 0) this.pages_unshared++
    else this.slotOf[e] = 0 // a colliding insert replaces the older entry
    this.tableGp[b] = gp
    this.tableSum[b] = sum
    this.slotOf[gp] = b + 1
    this.misses++
  }

  beginSettle(): void {}

  converged(): boolean {
    return this.stack.depth === 0
  }

  byteSize(): number {
    return (this.tracked ? this.tracked.byteLength : 0) + this.slotOf.byteLength + this.tableGp.byteLength + this.tableSum.byteLength + this.stack.byteSize()
  }
}
