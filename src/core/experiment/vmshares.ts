/**
 * Per-VM sharing of one lane, read from its page tables and frames at one moment: which VM's
 * pages are shared, how much memory each VM's sharing saves, its CoW breaks, and which VMs share
 * with which (a VM x VM matrix of shared pages). And, for the app, the same figures recorded
 * over a run (`VmShareHistory`), so a paused run shows them at any earlier sample.
 *
 * Definitions (docs/model.md, "Per-VM results"):
 *  - shared_pages: pages of the VM on a frame with two or more mappings (the lane's
 *    sharing_ratio numerator, per VM).
 *  - saved: a KSM frame mapped by k guest pages saves k - 1 frames (pages_sharing in mm/ksm.c
 *    counts them); each mapping is given (k - 1) / k of a page. A mapping of the kernel zero page
 *    saves a whole page (ksm_zero_pages, `use_zero_pages`). So the VMs' saved pages sum to the
 *    lane's pages_sharing + ksm_zero_pages (its saved_mib).
 *  - matrix[a][b], a != b: pages of VM a on a frame that VM b also maps; matrix[a][a]: pages of VM
 *    a on a frame that another page of VM a also maps (sharing within the VM). Not symmetric: a
 *    VM holding one frame three times counts three pages against the other's one.
 *
 * Cost: one pass over the lane's guest pages, then one step per (group, VM) pair, where a group
 * is the set of pages on one KSM frame (its stable node) or on the zero page. Pages are visited
 * VM after VM, so per group only the current VM's count is kept (three words a group, one cache
 * line), and it becomes one (VM, pages) entry of the group when another VM's page comes. Groups of a few VMs add their pairs to
 * the matrix at once; larger groups whose VM sets are equal are added up first, so a frame
 * shared by all of 256 VMs costs its pages, not 256^2, except once per distinct set. Scratch
 * arrays are kept between calls (`VmShareScratch`). Measured in `npm run bench -- --only
 * vmshares` (docs/performance.md).
 */
import { FLAG_SHARED, type HostMemory } from '../machine/memory.ts'

export interface VmShare {
  /** The VM's name (vms[i].name). */
  vm: string
  /** Guest pages of the VM. */
  pages: number
  shared_pages: number
  /** shared_pages / pages. */
  sharing_ratio: number
  /** MiB this VM's sharing saves (its part of the lane's saved_mib). */
  saved_mib: number
  /** Copy-on-write breaks of the VM's pages since t = 0. */
  cow_breaks: number
}

export interface LaneVmShares {
  /** Simulated second the figures are from. */
  t_s: number
  vms: VmShare[]
  /** matrix[a][b]: pages of VM a on a frame VM b also maps (diagonal: within VM a). */
  matrix: number[][]
}

export interface VmShareInput {
  mem: HostMemory
  /** Stable node ids in use (StableTree.idCount): the KSM frames' group numbers. */
  nodeIds: number
  /** First guest page of each VM, and the end (length = VMs + 1). */
  vmBase: Int32Array
  names: readonly string[]
  /** CoW breaks per VM since t = 0. */
  cow: ArrayLike<number>
}

/** The figures as numbers, VM-indexed: what vmShares() and the history are made from. */
export interface VmShareCounts {
  /** Per VM: shared pages, saved pages (not MiB). */
  shared: Float64Array
  saved: Float64Array
  /** nVm x nVm, row-major. */
  matrix: Float64Array
}

/** Groups of at most this many VMs add their pairs to the matrix directly (no set lookup). */
const DIRECT_PAIRS_MAX_VMS = 4

/** Working arrays of vmShares, kept between calls of one lane (grown, never shrunk). */
export class VmShareScratch {
  /**
   * Per group g, three words in one cache line: [3g] its last entry (-1: none), [3g + 1] the VM
   * whose pages are being counted (-1: none yet), [3g + 2] their count so far.
   */
  groups = new Int32Array(0)
  /** Per entry: VM, pages, previous entry of the same group (-1 ends). */
  entVm = new Int32Array(1024)
  entCount = new Int32Array(1024)
  entPrev = new Int32Array(1024)
  members = new Int32Array(0)
  counts = new Float64Array(0)

  prepare(nGroups: number, nVm: number): void {
    if (this.groups.length < 3 * nGroups) this.groups = new Int32Array(Math.max(3 * nGroups, this.groups.length * 2))
    this.groups.fill(-1, 0, 3 * nGroups)
    this.nEnt = 0
    if (this.members.length < nVm) {
      this.members = new Int32Array(nVm)
      this.counts = new Float64Array(nVm)
    }
  }

  /** Entries in use. */
  nEnt = 0

  /**
   * The count in group slot `o` (3g) becomes an entry (VM, pages) chained to the group's last
   * one. Called once per group and VM met, not per page.
   */
  flush(o: number): void {
    if (this.nEnt === this.entVm.length) this.grow()
    const grp = this.groups
    const e = this.nEnt++
    this.entVm[e] = grp[o + 1]
    this.entCount[e] = grp[o + 2]
    this.entPrev[e] = grp[o]
    grp[o] = e
  }

  private grow(): void {
    const n = this.entVm.length * 2
    const vm = new Int32Array(n)
    vm.set(this.entVm)
    this.entVm = vm
    const c = new Int32Array(n)
    c.set(this.entCount)
    this.entCount = c
    const p = new Int32Array(n)
    p.set(this.entPrev)
    this.entPrev = p
  }
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6

/** Fill `out` (zeroed here) with the lane's per-VM figures now. */
export function countVmShares(inp: VmShareInput, out: VmShareCounts, scratch: VmShareScratch = new VmShareScratch()): void {
  const { mem, vmBase } = inp
  const nVm = inp.names.length
  const pf = mem.pageFrame
  const flags = mem.flags
  const zf = mem.zeroFrame
  const zeroGroup = inp.nodeIds // the zero page is one more group
  const nGroups = inp.nodeIds + 1
  const { shared, saved, matrix } = out
  shared.fill(0)
  saved.fill(0)
  matrix.fill(0)
  scratch.prepare(nGroups, nVm)
  // The pass: per-VM figures, and per group the pages of the VM being counted (scratch.groups);
  // when a page of another VM comes, that count becomes an entry (VM, pages) of the group.
  const grp = scratch.groups
  for (let v = 0; v < nVm; v++) {
    let sh = 0
    let sv = 0
    const end = vmBase[v + 1]
    for (let gp = vmBase[v]; gp < end; gp++) {
      const f = pf[gp]
      if (f < 0) continue
      let o: number
      if (f === zf) {
        sv += 1
        if ((flags[f] & FLAG_SHARED) !== 0) sh++
        o = 3 * zeroGroup
      } else {
        if ((flags[f] & FLAG_SHARED) === 0) continue
        const k = mem.mapcountOf(f)
        sh++
        sv += (k - 1) / k
        o = 3 * mem.ksmNode(f)
      }
      if (grp[o + 1] === v) {
        grp[o + 2]++
        continue
      }
      if (grp[o + 1] >= 0) scratch.flush(o)
      grp[o + 1] = v
      grp[o + 2] = 1
    }
    shared[v] = sh
    saved[v] = sv
  }
  // Each group's last VM's count becomes an entry too.
  for (let g = 0; g < nGroups; g++) if (grp[3 * g + 1] >= 0) scratch.flush(3 * g)
  const { entVm, entCount, entPrev } = scratch
  // Per group: within-VM pages on the diagonal, pairs across VMs off it. Groups of many VMs with
  // the same members add their counts into one entry; the pairs are added once per distinct set.
  const members = scratch.members
  const counts = scratch.counts
  let sets: PairSets | null = null
  for (let g = 0; g < nGroups; g++) {
    let e = grp[3 * g]
    if (e < 0) continue
    const first = entPrev[e]
    if (first < 0) {
      // One VM: sharing within it, if it has two or more pages here.
      if (entCount[e] >= 2) matrix[entVm[e] * (nVm + 1)] += entCount[e]
      continue
    }
    let m = 0
    for (; e >= 0; e = entPrev[e]) {
      members[m] = entVm[e]
      counts[m] = entCount[e]
      if (counts[m] >= 2) matrix[members[m] * (nVm + 1)] += counts[m]
      m++
    }
    if (m <= DIRECT_PAIRS_MAX_VMS) {
      for (let i = 0; i < m; i++) {
        const row = members[i] * nVm
        const c = counts[i]
        for (let j = 0; j < m; j++) if (j !== i) matrix[row + members[j]] += c
      }
      continue
    }
    if (sets === null) sets = new PairSets()
    sets.add(members, counts, m)
  }
  sets?.addPairs(matrix, nVm)
}

/**
 * Pairs across VMs of groups with many VMs: groups whose distinct VMs (members, in order) are
 * the same add their pages per VM into one entry, and each distinct set's pairs are added to
 * the matrix once (a frame shared by all of 256 VMs costs its pages, not 256^2, except once).
 */
export class PairSets {
  private readonly ids = new Map<number, number[]>() // hash of the members -> set ids
  private readonly setMembers: Int32Array[] = []
  private readonly setCounts: Float64Array[] = []

  /** A group: members[0..m) its VMs, counts[0..m) their pages in it. */
  add(members: Int32Array, counts: Float64Array, m: number): void {
    let h = 0x811c9dc5 ^ m
    for (let j = 0; j < m; j++) h = Math.imul(h ^ members[j], 0x01000193)
    let ids = this.ids.get(h)
    if (!ids) this.ids.set(h, (ids = []))
    let id = -1
    for (const c of ids) {
      const ms = this.setMembers[c]
      if (ms.length !== m) continue
      let same = true
      for (let j = 0; j < m && same; j++) same = ms[j] === members[j]
      if (same) {
        id = c
        break
      }
    }
    if (id < 0) {
      id = this.setMembers.length
      ids.push(id)
      this.setMembers.push(members.slice(0, m))
      this.setCounts.push(new Float64Array(m))
    }
    const sc = this.setCounts[id]
    for (let j = 0; j < m; j++) sc[j] += counts[j]
  }

  /** matrix[a][b] += pages of VM a in the groups of every set holding a and b (a != b). */
  addPairs(matrix: Float64Array, nVm: number): void {
    for (let s = 0; s < this.setMembers.length; s++) {
      const ms = this.setMembers[s]
      const cs = this.setCounts[s]
      for (let i = 0; i < ms.length; i++) {
        const row = ms[i] * nVm
        for (let j = 0; j < ms.length; j++) if (j !== i) matrix[row + ms[j]] += cs[i]
      }
    }
  }
}

/** The figures as the summary and the app show them. */
export function sharesFromCounts(names: readonly string[], vmBase: Int32Array, counts: VmShareCounts, cow: ArrayLike<number>, t: number): LaneVmShares {
  const nVm = names.length
  const vms: VmShare[] = names.map((name, v) => {
    const pages = vmBase[v + 1] - vmBase[v]
    return {
      vm: name,
      pages,
      shared_pages: counts.shared[v],
      sharing_ratio: round6(pages > 0 ? counts.shared[v] / pages : 0),
      saved_mib: round6(counts.saved[v] / 256),
      cow_breaks: cow[v]
    }
  })
  const rows: number[][] = []
  for (let a = 0; a < nVm; a++) rows.push(Array.from(counts.matrix.subarray(a * nVm, (a + 1) * nVm)))
  return { t_s: round6(t), vms, matrix: rows }
}

export function newCounts(nVm: number): VmShareCounts {
  return { shared: new Float64Array(nVm), saved: new Float64Array(nVm), matrix: new Float64Array(nVm * nVm) }
}

export function vmShares(inp: VmShareInput, t: number, scratch?: VmShareScratch): LaneVmShares {
  const counts = newCounts(inp.names.length)
  countVmShares(inp, counts, scratch)
  return sharesFromCounts(inp.names, inp.vmBase, counts, inp.cow, t)
}

/**
 * The per-VM figures over a run, for the app: recorded at samples, with bounded memory and
 * work. A record is (t, shared[n], saved[n], cow[n], matrix[n x n]) in one Float64Array. Every
 * `every`-th sample is recorded, `every` chosen at the start so that the run's samples give at
 * most `capacity` records, evenly over the run: HISTORY_MAX_RECORDS, or fewer when they would
 * pass HISTORY_MAX_BYTES. A record costs about two samples' time (docs/performance.md), so the
 * cap is what bounds the time recording adds to a run: 64 records add about 2 % to
 * paper-fig6b's 241 samples. Off (`off` says why) when fewer than
 * HISTORY_MIN_RECORDS records of this many VMs fit in the bytes: the matrix grows as n^2.
 */
export const HISTORY_MAX_RECORDS = 64
/** Bytes a lane's history may hold (one lane; the app holds a copy per lane at a pause). */
export const HISTORY_MAX_BYTES = 8 * 2 ** 20
export const HISTORY_MIN_RECORDS = 32

/** Values of one record for n VMs: t, then shared, saved and cow per VM, then the matrix. */
export const historyRecordSize = (nVm: number): number => 1 + 3 * nVm + nVm * nVm

/** Records a lane's history can hold for n VMs (0: off). */
export function historyCapacity(nVm: number): number {
  const cap = Math.min(HISTORY_MAX_RECORDS, Math.floor(HISTORY_MAX_BYTES / (8 * historyRecordSize(nVm))))
  return cap >= HISTORY_MIN_RECORDS ? cap : 0
}

/** The most VMs a history is recorded for. */
export function historyMaxVms(): number {
  let n = 1
  while (historyCapacity(n + 1) > 0) n++
  return n
}

/** A lane's recorded history as sent to the app (copies: the buffers may be transferred). */
export interface VmShareHistoryData {
  vms: number
  /** Records held. */
  records: number
  /** Every `every`-th sample is recorded. */
  every: number
  /** records x historyRecordSize(vms) values. */
  data: Float64Array
}

export type VmShareHistoryWire = VmShareHistoryData | { off: string }

export class VmShareHistory {
  readonly capacity: number
  readonly recordSize: number
  /** Record sample i when i % every === 0. */
  readonly every: number
  private data: Float64Array
  records = 0
  private readonly counts: VmShareCounts
  private readonly scratch = new VmShareScratch()

  /** For n VMs over a run of `samples` samples (t = 0 included). */
  constructor(
    readonly nVm: number,
    samples: number
  ) {
    this.capacity = historyCapacity(nVm)
    this.recordSize = historyRecordSize(nVm)
    this.every = this.capacity > 0 ? Math.max(1, Math.ceil(samples / this.capacity)) : 1
    this.data = new Float64Array(0)
    this.counts = newCounts(nVm)
  }

  get off(): string | null {
    return this.capacity > 0 ? null : `per-VM results over time are kept for up to ${historyMaxVms()} VMs (the VM x VM matrices of more would take over ${HISTORY_MAX_BYTES / 2 ** 20} MiB a lane)`
  }

  /** At sample number `i` (0 = t = 0): record it if it is due. */
  atSample(i: number, inp: VmShareInput, t: number): void {
    if (this.capacity === 0 || i % this.every !== 0 || this.records === this.capacity) return
    if (this.data.length < (this.records + 1) * this.recordSize) {
      const next = new Float64Array(Math.min(this.capacity, Math.max(8, this.records * 2)) * this.recordSize)
      next.set(this.data.subarray(0, this.records * this.recordSize))
      this.data = next
    }
    countVmShares(inp, this.counts, this.scratch)
    const n = this.nVm
    const o = this.records * this.recordSize
    const d = this.data
    d[o] = Math.round(t * 1e6) / 1e6
    d.set(this.counts.shared, o + 1)
    d.set(this.counts.saved, o + 1 + n)
    for (let v = 0; v < n; v++) d[o + 1 + 2 * n + v] = inp.cow[v]
    d.set(this.counts.matrix, o + 1 + 3 * n)
    this.records++
  }

  /** A copy of what is held, or why there is none. */
  wire(): VmShareHistoryWire {
    const off = this.off
    if (off !== null) return { off }
    return { vms: this.nVm, records: this.records, every: this.every, data: this.data.slice(0, this.records * this.recordSize) }
  }
}

/** Record r of a history as the app shows it. */
export function historyShares(h: VmShareHistoryData, r: number, names: readonly string[], vmBase: Int32Array | readonly number[]): LaneVmShares {
  const n = h.vms
  const rs = historyRecordSize(n)
  const o = r * rs
  const d = h.data
  const base = vmBase instanceof Int32Array ? vmBase : Int32Array.from(vmBase)
  const counts: VmShareCounts = { shared: d.subarray(o + 1, o + 1 + n), saved: d.subarray(o + 1 + n, o + 1 + 2 * n), matrix: d.subarray(o + 1 + 3 * n, o + rs) }
  return sharesFromCounts(names, base, counts, d.subarray(o + 1 + 2 * n, o + 1 + 3 * n), d[o])
}

/** The record nearest simulated time t (ties: the earlier), or -1 when none. */
export function historyRecordAt(h: VmShareHistoryData, t: number): number {
  const rs = historyRecordSize(h.vms)
  let lo = 0
  let hi = h.records - 1
  if (hi < 0) return -1
  // Records are in time order: the last at or before t, then compare with the next.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (h.data[mid * rs] <= t) lo = mid
    else hi = mid - 1
  }
  if (lo + 1 < h.records && Math.abs(h.data[(lo + 1) * rs] - t) < Math.abs(h.data[lo * rs] - t)) return lo + 1
  return lo
}
