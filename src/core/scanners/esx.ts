/**
 * VMware ESX content-based page sharing (Waldspurger, "Memory Resource Management in VMware ESX
 * Server", OSDI 2002, section 3): pages are picked at random, hashed, and looked up in one global
 * hash table. A match with a shared frame maps the page onto it copy-on-write; a page with no
 * match becomes a "hint" entry (hash, VM, guest page) and is not write-protected. When a later
 * page's hash matches a hint entry, the hint's page is rehashed first, since it may have changed:
 * an unchanged page is shared with the new one (both then map one shared frame); a changed one is
 * a stale hint: it is removed, and the new page becomes the hint.
 *
 * Model:
 * - Shared frame entries (hash, frame, refcount) are the StableTree's KSM pages, so CoW and
 *   invariants are the same as for KSM (counters change at the fault: ESX is no Linux; and no
 *   max_page_sharing: a shared frame takes any number of references); ESX finds them through the
 *   same hash table, so a lookup is charged one hash probe (no tree steps).
 * - Hint entries: one global hash table of `hash_table_size` buckets with chaining (section 3.2:
 *   "a single global hash table"), keyed by the 64-bit content hash (salted under isolation);
 *   each chained entry examined is a hash probe. A page sampled again leaves its old hint entry
 *   first, so a page has one entry at most.
 * - Rates: the thread wakes every sleep_millisecs with a system-wide budget of pages_to_scan
 *   samples; each VM also has a cap of (its pages / share_scan_time_s) samples per second (ESX's
 *   Mem.ShareScanTime: every VM is scanned once per that time; default 60 minutes), with at
 *   most two wake-ups' worth saved up. When the caps ask for more than the budget, VMs are
 *   served in turn from a rotating start. Each VM's pages are visited in a random permutation
 *   (the lane's seeded generator, Fisher-Yates), a new one each time the last is used up, so a
 *   share_scan_time_s covers every page once; a page the guest never touched costs a lookup.
 */
import { OpCounts, type CpuProfile } from '../machine/cost.ts'
import type { HostMemory } from '../machine/memory.ts'
import { hash32, type Rng } from '../machine/rng.ts'
import type { StableTree } from '../machine/stable.ts'
import type { Scanner } from './scanner.ts'

export const SHARE_SCAN_TIME_S_DEFAULT = 3600 // ESX Mem.ShareScanTime, 60 minutes

export interface EsxParams {
  pages_to_scan: number
  sleep_millisecs: number
  hash_table_size: number
  share_scan_time_s: number
}

export class EsxScanner implements Scanner {
  readonly kind = 'esx'
  readonly wantsAttributes = false
  nextWake = 0
  readonly ops = new OpCounts()
  get cpuNs(): number {
    return this.ops.ns(this.cost)
  }
  pages_scanned = 0
  readonly full_scans = 0
  /** Hint entries in the table. */
  pages_unshared = 0
  records = 0
  readonly pages_skipped = 0
  /** Hint matches whose page had changed when rehashed (not shared; the entry moved). */
  stale_hints = 0
  /** Samples taken per VM since the start. */
  readonly sampledPerVm: Float64Array
  private readonly tracked: Uint8Array
  /** Bucket heads of the hint table (a guest page, or -1). */
  private readonly head: Int32Array
  /** Per guest page with a hint entry: its hash and the chain links (next, prev; -1 ends). */
  private readonly hintHi: Uint32Array
  private readonly hintLo: Uint32Array
  private readonly next: Int32Array
  private readonly prev: Int32Array
  /** Per guest page: 1 while it holds a hint entry. */
  private readonly hinted: Uint8Array
  private readonly mask: number
  /** Per VM: a permutation of its pages (VM-relative), and how far this period has used it. */
  private readonly perm: Int32Array
  private readonly permPos: Int32Array
  private readonly tokens: Float64Array
  private readonly vmRate: Float64Array
  private readonly want: Int32Array
  private rotate = 0
  private lastWake = -1
  private sinceMerge = 0

  constructor(
    private readonly mem: HostMemory,
    private readonly stable: StableTree,
    private readonly cost: CpuProfile,
    /** VM v owns guest pages [vmBase[v], vmBase[v + 1]). */
    private readonly vmBase: Int32Array,
    private readonly rng: Rng,
    readonly params: EsxParams
  ) {
    let size = 1
    while (size < params.hash_table_size) size *= 2
    this.head = new Int32Array(size).fill(-1)
    this.mask = size - 1
    const n = mem.totalPages
    this.hintHi = new Uint32Array(n)
    this.hintLo = new Uint32Array(n)
    this.next = new Int32Array(n)
    this.prev = new Int32Array(n)
    this.hinted = new Uint8Array(n)
    this.tracked = new Uint8Array(n)
    this.perm = new Int32Array(n)
    const nVm = vmBase.length - 1
    this.permPos = new Int32Array(nVm)
    for (let v = 0; v < nVm; v++) this.permPos[v] = vmBase[v + 1] - vmBase[v] // used up: shuffle first
    this.tokens = new Float64Array(nVm)
    this.vmRate = new Float64Array(nVm)
    this.want = new Int32Array(nVm)
    this.sampledPerVm = new Float64Array(nVm)
    for (let v = 0; v < nVm; v++) this.vmRate[v] = (vmBase[v + 1] - vmBase[v]) / params.share_scan_time_s
  }

  wake(now: number): void {
    const sleep = this.params.sleep_millisecs / 1000
    // A wake-up stands for at least one period (warm-up calls it without advancing the clock).
    const dt = this.lastWake < 0 ? sleep : Math.max(sleep, now - this.lastWake)
    this.lastWake = now
    const before = this.cpuNs
    this.ops.wakeup++
    this.stable.nowMs = now * 1000
    const nVm = this.tokens.length
    let total = 0
    for (let v = 0; v < nVm; v++) {
      const r = this.vmRate[v]
      this.tokens[v] = Math.min(this.tokens[v] + r * dt, Math.max(1, 2 * r * sleep))
      this.want[v] = Math.floor(this.tokens[v])
      total += this.want[v]
    }
    let budget = this.params.pages_to_scan
    if (total > budget) {
      // The system-wide cap: VMs take turns from a rotating start.
      for (let k = 0; k < nVm; k++) {
        const v = (this.rotate + k) % nVm
        const n = Math.min(this.want[v], budget)
        this.want[v] = n
        budget -= n
      }
      this.rotate = (this.rotate + 1) % nVm
    }
    for (let v = 0; v < nVm; v++) {
      const n = this.want[v]
      if (n === 0) continue
      this.tokens[v] -= n
      this.sampledPerVm[v] += n
      for (let i = 0; i < n; i++) this.sample(this.nextOf(v))
    }
    this.nextWake = now + (this.cpuNs - before) * 1e-9 + sleep
  }

  /** VM v's next page of this period's permutation; a new permutation when it is used up. */
  private nextOf(v: number): number {
    const base = this.vmBase[v]
    const size = this.vmBase[v + 1] - base
    const perm = this.perm
    if (this.permPos[v] >= size) {
      for (let i = 0; i < size; i++) perm[base + i] = i
      for (let i = size - 1; i > 0; i--) {
        const j = this.rng.int(i + 1)
        const t = perm[base + i]
        perm[base + i] = perm[base + j]
        perm[base + j] = t
      }
      this.permPos[v] = 0
    }
    return base + perm[base + this.permPos[v]++]
  }

  /** One sampled page: hash it, look it up, share it or leave a hint. */
  sample(gp: number): void {
    const mem = this.mem
    const st = this.stable
    this.ops.hint_lookup++ // a random guest page to its host frame: a cold lookup
    const f = mem.pageFrame[gp]
    if (f < 0 || f === mem.zeroFrame) return
    this.pages_scanned++
    this.ops.page_visit++
    this.sinceMerge++
    // A page sampled again is hashed afresh: its old hint entry, if any, goes (one entry a page).
    this.forget(gp)
    if (!this.tracked[gp]) {
      this.tracked[gp] = 1
      this.records++
    }
    if (mem.ksmNode(f) >= 0) return // already shared (and write-protected)
    const hi = mem.hi(f)
    const lo = mem.lo(f)
    const kh = st.keyHi(gp, hi)
    this.ops.checksum++
    this.ops.hash_lookup++
    const node = st.search(kh, lo)
    if (node >= 0) {
      this.ops.page_compare++
      if (st.mergeInto(gp, node)) {
        this.ops.merge++
        this.sinceMerge = 0
        return
      }
    }
    const e = this.findHint(kh, lo, gp)
    if (e >= 0) {
      // A hint matches: rehash its page before sharing.
      this.ops.checksum++
      const ef = mem.pageFrame[e]
      const candidate = ef >= 0 && ef !== mem.zeroFrame && mem.ksmNode(ef) < 0
      const ekh = candidate ? st.keyHi(e, mem.hi(ef)) : 0
      const elo = candidate ? mem.lo(ef) : 0
      this.unlink(e)
      if (candidate && ekh === kh && elo === lo && st.mayMerge(e, gp)) {
        this.ops.page_compare++
        st.mergeTwo(e, gp)
        this.ops.merge += 2
        this.sinceMerge = 0
        return
      }
      // The hint's page changed since it was hashed: a stale hint, removed (section 3.2).
      this.stale_hints++
    }
    this.putHint(gp, kh, lo)
  }

  /** The hint entry for key (kh, lo) other than page gp, walking its bucket's chain, or -1. */
  private findHint(kh: number, lo: number, gp: number): number {
    for (let e = this.head[hash32(kh, lo) & this.mask]; e >= 0; e = this.next[e]) {
      this.ops.hash_lookup++
      if (e !== gp && this.hintHi[e] === kh && this.hintLo[e] === lo) return e
    }
    return -1
  }

  /** Page gp becomes a hint entry for key (kh, lo), at the head of its bucket's chain. */
  private putHint(gp: number, kh: number, lo: number): void {
    const b = hash32(kh, lo) & this.mask
    const h = this.head[b]
    this.hintHi[gp] = kh
    this.hintLo[gp] = lo
    this.next[gp] = h
    this.prev[gp] = -1
    if (h >= 0) this.prev[h] = gp
    this.head[b] = gp
    this.hinted[gp] = 1
    this.pages_unshared++
  }

  /** Page gp's hint entry leaves the table. */
  private unlink(gp: number): void {
    const n = this.next[gp]
    const p = this.prev[gp]
    if (p >= 0) this.next[p] = n
    else this.head[hash32(this.hintHi[gp], this.hintLo[gp]) & this.mask] = n
    if (n >= 0) this.prev[n] = p
    this.hinted[gp] = 0
    this.pages_unshared--
  }

  /** Page gp's hint entry, if it has one, leaves the table. */
  private forget(gp: number): void {
    if (this.hinted[gp]) this.unlink(gp)
  }

  /** The hint entry for key (kh, lo), for tests: the page, or -1. */
  hintAt(kh: number, lo: number): number {
    for (let e = this.head[hash32(kh, lo) & this.mask]; e >= 0; e = this.next[e]) if (this.hintHi[e] === kh && this.hintLo[e] === lo) return e
    return -1
  }

  beginSettle(): void {
    this.sinceMerge = 0
  }

  /** Random sampling never finishes: converged after two memories' worth of samples without a merge. */
  converged(): boolean {
    return this.sinceMerge >= 2 * Math.max(1, this.mem.presentPages)
  }

  byteSize(): number {
    return this.tracked.byteLength * 2 + this.head.byteLength + this.hintHi.byteLength * 5 + this.perm.byteLength
  }
}
