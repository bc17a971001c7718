/**
 * Linux KSM as in mm/ksm.c (the order of Linux 3.0, the paper's kernel; see docs/model.md):
 *
 * ksm_scan_thread: run ksm_do_scan(pages_to_scan), then sleep sleep_millisecs.
 * scan_get_next_rmap_item: the next present guest page in address order, VM by VM; passing the
 *   end of the last VM ends a full pass (seqnr++, full_scans++) and ksm_do_scan returns with the
 *   rest of its budget unused; the next wake-up starts the new pass at the first page with an
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
 *
 * Options of later kernels (all off by default, so the paper's Linux 3.0 is what runs):
 * - use_zero_pages (4.11+): after the volatility check, a page whose checksum is the zero page's
 *   (and whose content is zero) is mapped to the kernel zero page (ksm_zero_pages), not merged.
 *   The walk then passes over it as over a non-present page (folio_walk_start without
 *   FW_ZEROPAGE finds no normal page there) and frees its record on the way.
 * - smart_scan (6.7+): should_skip_rmap_item(): a non-KSM page's record ages by one at every
 *   visit; from age 3 on, it is scanned only when its skip budget is used up, the budget being
 *   reset to skip_age(age) = 1 (age <= 3), 2 (<= 5), 4 (<= 8) or 8; a skipped page leaves the
 *   unstable tree, is counted in pages_skipped and does not use up pages_to_scan (the skip is
 *   inside scan_get_next_rmap_item). It still costs a page visit (the page-table walk and the
 *   rmap item lookup come first).
 * - advisor_mode scan-time (6.8+): scan_time_advisor() at the end of every pass sets
 *   pages_to_scan so that a pass takes advisor_target_scan_time (integer arithmetic as in
 *   mm/ksm.c: EWMA weight 30 %, CPU bounds 10 % and advisor_max_cpu, advisor_max_pages_to_scan);
 *   pages_to_scan starts at advisor_min_pages_to_scan (set_advisor_defaults()).
 */
import { checksumOf, isZeroFp, ZERO_FP_HI, ZERO_FP_LO } from '../machine/content.ts'
import { OpCounts, type CpuProfile } from '../machine/cost.ts'
import type { HostMemory } from '../machine/memory.ts'
import { RbTree } from '../machine/rbtree.ts'
import type { StableTree } from '../machine/stable.ts'
import { wakeAfterSleep } from '../machine/timer.ts'
import type { Scanner } from './scanner.ts'

export const PAGES_TO_SCAN_DEFAULT = 100 // Documentation/admin-guide/mm/ksm.rst
export const SLEEP_MILLISECS_DEFAULT = 20 // Documentation/admin-guide/mm/ksm.rst

const RMAP_EXISTS = 1
const RMAP_UNSTABLE = 2

/** Zero page checksum (zero_checksum in mm/ksm.c). */
const ZERO_CHECKSUM = checksumOf(ZERO_FP_HI, ZERO_FP_LO)
/** Scan-time advisor constants of mm/ksm.c (Linux 6.8): EWMA_WEIGHT and the minimum CPU share. */
const ADVISOR_EWMA_WEIGHT = 30
const ADVISOR_MIN_CPU = 10

export interface AdvisorParams {
  /** Seconds a full pass should take (advisor_target_scan_time, default 200). */
  target_scan_time: number
  /** Highest ksmd CPU share in percent (advisor_max_cpu, default 70). */
  max_cpu: number
  /** pages_to_scan when the advisor starts (advisor_min_pages_to_scan, default 500). */
  min_pages_to_scan: number
  /** Cap on pages_to_scan (advisor_max_pages_to_scan, default 30000). */
  max_pages_to_scan: number
}

export interface KsmParams {
  pages_to_scan: number
  sleep_millisecs: number
  use_zero_pages?: boolean
  smart_scan?: boolean
  /** The scan-time advisor, or null/absent for advisor_mode none. */
  advisor?: AdvisorParams | null
}

export class KsmScanner implements Scanner {
  readonly kind = 'ksm'
  readonly wantsAttributes = false
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
  /** Smart-scan skips since start (sysfs pages_skipped). */
  pages_skipped = 0
  /** Pages found volatile (checksum changed) since start. */
  volatile_skips = 0
  /** pages_to_scan in force: the configured value, or the advisor's latest. */
  pagesToScanNow: number
  private readonly useZeroPages: boolean
  private readonly smartScan: boolean
  private readonly advisor: AdvisorParams | null
  /** Smart scan per record: age and remaining skips (rmap_item->age, ->remaining_skips). */
  private readonly age: Uint8Array | null
  private readonly skips: Uint8Array | null
  /** Simulated time of the current wake-up (seconds). */
  private now = 0
  /** advisor_ctx: start of this pass (s), previous scan time (s), change (%), CPU at the pass start (ns). */
  private advStart = 0
  private advScanTime = 0
  private advChange = 0
  private advCpuNs = 0
  /** ksm_scan.seqnr: low 8 bits tag unstable-tree items with their pass. */
  private seqnr = 0
  private cursor = 0
  private readonly rmapFlags: Uint8Array
  private readonly rmapSeq: Uint8Array
  private readonly oldChecksum: Uint32Array
  readonly unstable: RbTree
  /**
   * xlh, hybrid: called when the walk scans or skips page gp, which then leaves the hint half's
   * hash table too (step 1 of cmp_and_merge_page: the record leaves whichever structure holds it).
   */
  leaveOthers: ((gp: number) => void) | null = null
  private mergesAtPassStart = 0
  private volatileAtPassStart = 0
  private quietPasses = 0

  constructor(
    private readonly mem: HostMemory,
    private readonly stable: StableTree,
    private readonly cost: CpuProfile,
    readonly params: KsmParams,
    ops?: OpCounts
  ) {
    const n = mem.totalPages
    this.ops = ops ?? new OpCounts()
    this.rmapFlags = new Uint8Array(n)
    this.rmapSeq = new Uint8Array(n)
    this.oldChecksum = new Uint32Array(n)
    // The unstable tree reads each node's key from its page now; salted under tenant isolation.
    this.unstable = stable.isolated
      ? new RbTree(n, (gp, out) => {
          mem.read(gp, out)
          out[0] = stable.keyHi(gp, out[0])
        })
      : new RbTree(n, (gp, out) => mem.read(gp, out))
    this.useZeroPages = params.use_zero_pages ?? false
    this.smartScan = params.smart_scan ?? false
    this.age = this.smartScan ? new Uint8Array(n) : null
    this.skips = this.smartScan ? new Uint8Array(n) : null
    this.advisor = params.advisor ?? null
    this.pagesToScanNow = this.advisor ? this.advisor.min_pages_to_scan : params.pages_to_scan
  }

  wake(now: number): void {
    const before = this.cpuNs
    this.ops.wakeup++
    this.stable.nowMs = now * 1000
    this.now = now
    this.scanPages(this.pagesToScanNow)
    // ksmd sleeps msecs_to_jiffies(sleep_millisecs) after the batch: the timer wheel sets the period.
    this.nextWake = wakeAfterSleep(now + (this.cpuNs - before) * 1e-9, this.params.sleep_millisecs, this.cost)
  }

  /**
   * ksm_do_scan: up to n present pages through cmp_and_merge_page; returns how many. It returns
   * early when scan_get_next_rmap_item reaches the end of a pass (or finds no page at all): the
   * rest of this wake-up's budget is not used, and the next call starts the new pass at page 0.
   */
  scanPages(n: number): number {
    for (let i = 0; i < n; i++) {
      const gp = this.nextPage()
      if (gp < 0) return i
      this.cmpAndMerge(gp)
    }
    return n
  }

  /**
   * scan_get_next_rmap_item: the next present page (not the kernel zero page; with smart scan,
   * not one it skips), or -1 when the walk passes the end of the last VM: the pass ends there
   * (seqnr++, full_scans++) and the caller returns, as ksm_do_scan does on a NULL rmap_item.
   */
  private nextPage(): number {
    const mem = this.mem
    const total = mem.totalPages
    const zf = mem.zeroFrame
    // The start of a pass (ksm_scan.mm_slot at ksm_mm_head): root_unstable_tree = RB_ROOT.
    if (this.cursor === 0) this.unstable.reset()
    while (this.cursor < total) {
      const gp = this.cursor++
      const f = mem.pageFrame[gp]
      if (f >= 0 && f !== zf) {
        if (this.smartScan && this.shouldSkip(gp, f)) continue
        return gp
      }
      // A page on the kernel zero page is no longer an anonymous page: the walk passing it frees
      // its rmap item (get_next_rmap_item / try_to_get_old_rmap_item free the items of addresses
      // it finds no page at), so ksm_rmap_items, and pages_volatile, drop.
      if (f >= 0 && this.rmapFlags[gp] & RMAP_EXISTS) this.freeRecord(gp)
      this.ops.page_skip++
    }
    this.endPass()
    return -1
  }

  /** should_skip_rmap_item (Linux 6.7+), for a present page with a record or about to get one. */
  private shouldSkip(gp: number, f: number): boolean {
    if (this.mem.ksmNode(f) >= 0) return false
    const age = (this.age as Uint8Array)[gp]
    if (age !== 255) (this.age as Uint8Array)[gp] = age + 1
    if (age < 3) return false
    const skips = this.skips as Uint8Array
    if (skips[gp] === 0) {
      skips[gp] = age <= 3 ? 1 : age <= 5 ? 2 : age <= 8 ? 4 : 8
      return false
    }
    skips[gp]--
    this.pages_skipped++
    this.ops.page_visit++
    const flags = this.rmapFlags[gp]
    if (flags & RMAP_UNSTABLE) {
      if (this.rmapSeq[gp] === this.seqnr) this.unstable.erase(gp)
      this.pages_unshared--
      this.rmapFlags[gp] = flags & ~RMAP_UNSTABLE
    }
    if (this.leaveOthers) this.leaveOthers(gp)
    return true
  }

  /** free_rmap_item for the record of page gp (not in the unstable tree: it is on the zero page). */
  private freeRecord(gp: number): void {
    this.rmapFlags[gp] = 0
    this.oldChecksum[gp] = 0
    if (this.age) {
      this.age[gp] = 0
      ;(this.skips as Uint8Array)[gp] = 0
    }
    this.records--
  }

  /**
   * The hint half of xlh and hybrid is about to compare-and-merge page gp, with KSM's records:
   * gp gets a record if it has none and, as in step 1 of cmp_and_merge_page, leaves the unstable
   * tree (else a page merged by the hint half would stay there as a "private" partner).
   */
  hintedPage(gp: number): void {
    const flags = this.rmapFlags[gp]
    if (!(flags & RMAP_EXISTS)) {
      this.rmapFlags[gp] = flags | RMAP_EXISTS
      this.records++
    } else if (flags & RMAP_UNSTABLE) {
      if (this.rmapSeq[gp] === this.seqnr) this.unstable.erase(gp)
      this.pages_unshared--
      this.rmapFlags[gp] = flags & ~RMAP_UNSTABLE
    }
  }

  private endPass(): void {
    this.cursor = 0
    this.seqnr = (this.seqnr + 1) & 0xff
    this.full_scans++
    this.unstable.reset() // and again at the next pass start, as mm/ksm.c resets it there
    if (this.advisor) this.scanTimeAdvisor(this.advisor)
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
    const f = mem.pageFrame[gp]
    const hi = mem.hi(f)
    const lo = mem.lo(f)
    const kh = st.keyHi(gp, hi)
    // Already a KSM page with its record in the stable tree: nothing to do, no tree search
    // (3.0's ksm_do_scan skips PageKsm(page) && in_stable_tree(rmap_item); 6.x's
    // cmp_and_merge_page returns when rmap_item->head == stable_node). Only the visit is paid.
    if (st.listedOn(gp, f)) return
    // 1. remove_rmap_item_from_tree: a record listed from a stable node (its page was written
    // since it merged) leaves it now, and only now do pages_shared / pages_sharing drop.
    st.unlist(gp)
    if (flags & RMAP_UNSTABLE) {
      if (this.rmapSeq[gp] === this.seqnr) this.unstable.erase(gp)
      this.pages_unshared--
      flags &= ~RMAP_UNSTABLE
    }
    this.rmapFlags[gp] = flags
    if (this.leaveOthers) this.leaveOthers(gp)
    // 2. stable tree
    if (mem.ksmNode(f) >= 0) return // a KSM page (its record always listed from it here)
    st.resetSteps()
    const node = st.search(kh, lo)
    st.chargeTo(this.ops)
    if (node >= 0) {
      this.ops.page_compare++
      if (st.mergeInto(gp, node)) {
        this.ops.merge++
        return
      }
    }
    // 3. volatility check
    const sum = checksumOf(hi, lo)
    this.ops.checksum++
    if (this.oldChecksum[gp] !== sum) {
      this.oldChecksum[gp] = sum
      this.volatile_skips++
      return
    }
    // use_zero_pages: an unchanged page of zeros goes to the kernel zero page.
    if (this.useZeroPages && sum === ZERO_CHECKSUM && isZeroFp(hi, lo)) {
      this.ops.page_compare++
      this.ops.merge++
      st.mergeZero(gp)
      return
    }
    // 4. unstable tree
    const u = this.unstable
    u.steps = 0
    const partner = u.searchInsert(gp, kh, lo)
    this.ops.tree_step += u.steps
    if (partner < 0) {
      this.rmapFlags[gp] = flags | RMAP_UNSTABLE
      this.rmapSeq[gp] = this.seqnr
      this.pages_unshared++
      return
    }
    this.ops.page_compare++
    if (!st.mayMerge(partner, gp)) return // a salted-key collision across tenants: never merged
    u.erase(partner)
    this.rmapFlags[partner] &= ~RMAP_UNSTABLE
    this.pages_unshared--
    // try_to_merge_two_pages, then stable_tree_insert walks the stable tree again: charged too.
    st.resetSteps()
    st.mergeTwo(partner, gp)
    st.chargeTo(this.ops)
    this.ops.merge += 2
  }

  /**
   * scan_time_advisor() of mm/ksm.c, at the end of a pass: scale pages_to_scan by target/actual
   * pass time, smoothed by an EWMA of the pass-to-pass change, within the CPU bounds.
   */
  private scanTimeAdvisor(a: AdvisorParams): void {
    const scanTime = Math.max(1, Math.floor(this.now - this.advStart))
    const cpuNs = this.cpuNs
    const cpuMs = Math.floor((cpuNs - this.advCpuNs) / 1e6)
    const cpuPercent = Math.max(1, Math.floor((cpuMs * 100) / (scanTime * 1000)))
    const lastScanTime = this.advScanTime || scanTime
    const factor = Math.max(1, Math.floor((a.target_scan_time * 100) / scanTime))
    let change = Math.max(1, Math.floor((scanTime * 100) / lastScanTime))
    change = Math.floor(((100 - ADVISOR_EWMA_WEIGHT) * this.advChange + ADVISOR_EWMA_WEIGHT * change) / 100)
    let pages = Math.floor((this.pagesToScanNow * 100) / factor)
    pages = Math.floor((pages * change) / 100)
    const perPageCost = Math.max(1, Math.floor(this.pagesToScanNow / cpuPercent))
    pages = Math.min(pages, perPageCost * a.max_cpu)
    pages = Math.max(pages, perPageCost * ADVISOR_MIN_CPU)
    pages = Math.min(pages, a.max_pages_to_scan)
    this.advChange = change
    this.advScanTime = scanTime
    this.advCpuNs = cpuNs
    this.advStart = this.now
    this.pagesToScanNow = Math.max(1, pages)
  }

  /** The lane set its clock back to 0 after warm-up: start the advisor afresh (set_advisor_defaults). */
  clockReset(): void {
    if (!this.advisor) return
    this.advStart = 0
    this.advScanTime = 0
    this.advChange = 0
    this.advCpuNs = this.cpuNs
    this.pagesToScanNow = this.advisor.min_pages_to_scan
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
    const smart = this.age ? this.age.byteLength * 2 : 0
    return this.rmapFlags.byteLength * 2 + this.oldChecksum.byteLength + this.mem.totalPages * 13 + smart
  }
}
