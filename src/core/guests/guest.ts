/**
 * The guest OS model of one VM in one lane: what a Linux guest does with its memory.
 *
 * - A page cache indexed by (file, offset). Files are opened first: open binds the inode to its
 *   path, so that every later page-cache update can name (path, offset) to the hypervisor.
 * - Text: pages of mapped executables and libraries (page cache pages marked as text).
 * - Anonymous memory (heap, stack) allocated and freed by workloads; kernel memory.
 * - Free memory as Linux hands it out: a per-cpu list of recently freed ("hot") pages, reused
 *   first (LIFO, at most PCP_HIGH pages; overflow drains its coldest PCP_BATCH to the buddy
 *   pool), over the buddy allocator's free lists, which are LIFO too (list_add on free, taken
 *   from the head on allocation). Pages the guest never touched sit at the bottom of the pool,
 *   low gfns first, and are not present in the host.
 * - Freed pages keep their content (Linux does not clear pages on free by default,
 *   init_on_free=0); anonymous pages are zero-filled when allocated (clear_page at the fault),
 *   and what the program does not write stays zero.
 * - Reclaim under memory pressure with CLOCK (second chance), an LRU approximation: when free
 *   pages fall below the low watermark, unreferenced page-cache and text pages are evicted until
 *   the high watermark is reached. Anonymous and kernel pages are never reclaimed (no swap).
 *
 * Every write goes through the lane's HostMemory, which does copy-on-write on KSM pages; the
 * fault cost is charged to this guest as stolen time (`debtNs`).
 */
import type { CpuProfile } from '../machine/cost.ts'
import { synthFp, ZERO_FP_HI, ZERO_FP_LO } from '../machine/content.ts'
import type { HostMemory } from '../machine/memory.ts'
import { ZERO_PATH_ID } from './workloads/paths.ts'

import { PT_ANON, PT_FREE, PT_KERNEL, PT_PAGECACHE, PT_TEXT } from '../machine/page-types.ts'

export { PT_ANON, PT_FREE, PT_KERNEL, PT_PAGECACHE, PT_TEXT }
const TYPE_MASK = 0x7
const REFERENCED = 0x80

/** The paper's Figure 2 categories of an allocated page, in this order. */
export const FIG2_CATEGORIES = ['page_cache', 'text', 'zero', 'other'] as const

/**
 * Figure 2 category (index into FIG2_CATEGORIES) of an allocated page of type `type`
 * (PT_*, not PT_FREE): zero content wins over the type, as the paper counts zero pages apart.
 */
export function fig2Category(type: number, zero: boolean): number {
  if (zero) return 2
  return type === PT_PAGECACHE ? 0 : type === PT_TEXT ? 1 : 3
}

/**
 * Per-cpu page list limits for a 512 MiB zone, from mm/page_alloc.c zone_batchsize():
 * batch = rounddown_pow_of_two(1.5 x pages / 4096) - 1 = 31, high = 6 x batch = 186.
 */
export const PCP_BATCH = 31
export const PCP_HIGH = 6 * PCP_BATCH

/** Second content key of template pages (FileTable.setPrefix): apart from any file version. */
const PREFIX_TAG = 0x7e3b1a7e

/** Receives the guest's page attributes (the paper's pseudo hypercall). */
export interface AttributeSink {
  /** The guest updated page-cache page gfn of VM `vm`, holding (path, offset) of a file. */
  attribute(vm: number, gfn: number, pathId: number, offset: number, text: boolean): void
}

/**
 * Sees the guest's virtual-disk I/O from the host side (XLH's hints): QEMU serves every disk read
 * into a guest page and every write-back of one. No path, no guest change, no cost to the guest
 * (the host handles the I/O anyway). In this model a page-cache fill from a file is a disk read
 * into that page, and a written file page is written back at once (the write-back delay of a
 * real guest, up to dirty_expire_centisecs = 30 s, is not modelled).
 */
export interface DiskIoSink {
  diskIo(vm: number, gfn: number, write: boolean): void
  /**
   * Satori's free-page enlightenment: the guest names a page-cache page it just freed (called
   * only when the guest's `notifyFrees` is set; one hypercall, charged to the guest).
   */
  pageFreed?(vm: number, gfn: number): void
}

/**
 * Files known to one guest. Content of page `off` = synthFp(contentKey, version, off), except
 * the first `prefixPages` pages of a file made from a template (office documents: header, styles,
 * fonts), which hold the template's pages whatever the file: synthFp(prefixKey, PREFIX_TAG, off);
 * a file with real content (a real image's file, a traced file) has its fingerprints in `fps`.
 */
export class FileTable {
  pathId: Int32Array = new Int32Array(64)
  contentKey: Uint32Array = new Uint32Array(64)
  prefixKey: Uint32Array = new Uint32Array(64)
  prefixPages: Int32Array = new Int32Array(64)
  version: Uint32Array = new Uint32Array(64)
  sizePages: Int32Array = new Int32Array(64)
  isText: Uint8Array = new Uint8Array(64)
  opened: Uint8Array = new Uint8Array(64)
  /**
   * 1 once this guest wrote the file: on a copy-on-write disk its blocks now live in the VM's own
   * overlay, not in the base image it booted from (Satori's sharing-aware block device).
   */
  overlay: Uint8Array = new Uint8Array(64)
  /**
   * The page-cache index, flat: file f's pages offset -> gfn (-1: not cached) are
   * slots[cacheStart[f] + offset] for offset < cacheLen[f]; cacheStart -1 before first use. One
   * typed array for all files (not an array per file), so a lookup is two dense loads. A run
   * that outgrows its room moves to the end (room doubled); the old run and a deleted file's run
   * are not reused: slots grow with the page-cache room ever given out, as the table itself
   * grows with every file ever added.
   */
  cacheStart: Int32Array = new Int32Array(64).fill(-1)
  cacheLen: Int32Array = new Int32Array(64)
  slots: Int32Array = new Int32Array(1024)
  private slotsUsed = 0
  /** Real content per page ([hi0, lo0, ...]), or null: synthetic content. */
  fps: (Uint32Array | null)[] = []
  count = 0

  add(pathId: number, contentKey: number, sizePages: number, isText: boolean): number {
    const id = this.count++
    if (id >= this.pathId.length) this.grow()
    this.pathId[id] = pathId
    this.contentKey[id] = contentKey >>> 0
    this.version[id] = 0
    this.sizePages[id] = Math.max(1, sizePages)
    this.isText[id] = isText ? 1 : 0
    this.opened[id] = 0
    this.overlay[id] = 0
    this.prefixKey[id] = 0
    this.prefixPages[id] = 0
    this.cacheStart[id] = -1
    this.cacheLen[id] = 0
    this.fps.push(null)
    return id
  }

  /** A file whose pages hold real content (fingerprints [hi0, lo0, ...], one pair per page). */
  addReal(pathId: number, fps: Uint32Array, isText: boolean): number {
    const id = this.add(pathId, 0, fps.length / 2, isText)
    this.fps[id] = fps
    return id
  }

  /**
   * Room for `size` pages in file `file`'s page-cache index (what it holds is kept); returns
   * the start of its run in `slots`.
   */
  ensureCache(file: number, size: number): number {
    const start = this.cacheStart[file]
    const len = this.cacheLen[file]
    if (start >= 0 && len >= size) return start
    const room = start >= 0 ? Math.max(size, 2 * len) : size
    if (this.slotsUsed + room > this.slots.length) {
      let n = this.slots.length * 2
      while (n < this.slotsUsed + room) n *= 2
      const grown = new Int32Array(n)
      grown.set(this.slots.subarray(0, this.slotsUsed))
      this.slots = grown
    }
    const at = this.slotsUsed
    this.slotsUsed += room
    this.slots.fill(-1, at, at + room)
    if (start >= 0) this.slots.copyWithin(at, start, start + len)
    this.cacheStart[file] = at
    this.cacheLen[file] = room
    return at
  }

  /** The page caching page `off` of `file`, or -1. */
  cachedGfn(file: number, off: number): number {
    const start = this.cacheStart[file]
    return start >= 0 && off < this.cacheLen[file] ? this.slots[start + off] : -1
  }

  /**
   * A copy of `file`'s page-cache index (offset -> gfn, -1 not cached) or null when it has none
   * (for tests and inspection).
   */
  cacheOf(file: number): Int32Array | null {
    const start = this.cacheStart[file]
    return start < 0 ? null : this.slots.slice(start, start + this.cacheLen[file])
  }

  /** Make the first `pages` pages of file `id` the pages of template `key` (all versions). */
  setPrefix(id: number, key: number, pages: number): void {
    this.prefixKey[id] = key >>> 0
    this.prefixPages[id] = Math.max(0, pages)
  }

  private grow(): void {
    const n = this.pathId.length * 2
    const g32 = <T extends Int32Array | Uint32Array>(a: T, b: T): T => {
      b.set(a)
      return b
    }
    this.pathId = g32(this.pathId, new Int32Array(n))
    this.contentKey = g32(this.contentKey, new Uint32Array(n))
    this.prefixKey = g32(this.prefixKey, new Uint32Array(n))
    this.prefixPages = g32(this.prefixPages, new Int32Array(n))
    this.version = g32(this.version, new Uint32Array(n))
    this.sizePages = g32(this.sizePages, new Int32Array(n))
    this.cacheStart = g32(this.cacheStart, new Int32Array(n).fill(-1))
    this.cacheLen = g32(this.cacheLen, new Int32Array(n))
    const t = new Uint8Array(n)
    t.set(this.isText)
    this.isText = t
    const o = new Uint8Array(n)
    o.set(this.opened)
    this.opened = o
    const v = new Uint8Array(n)
    v.set(this.overlay)
    this.overlay = v
  }
}

/** Content of page `off` of `file` at its current version, into out as (hi, lo). */
export function filePageFp(out: Uint32Array, files: FileTable, file: number, off: number): void {
  const real = files.fps[file]
  if (real !== null && off * 2 < real.length) {
    out[0] = real[off * 2]
    out[1] = real[off * 2 + 1]
  } else if (off < files.prefixPages[file]) synthFp(out, files.prefixKey[file], PREFIX_TAG, off)
  else synthFp(out, files.contentKey[file], files.version[file], off)
}

export class GuestOS {
  /** Page type per gfn, with the CLOCK referenced bit in bit 7. */
  readonly type: Uint8Array
  readonly fileOf: Int32Array
  readonly offOf: Int32Array
  /** The buddy pool: free gfns in no particular order. */
  private readonly pool: Int32Array
  private nPool: number
  /** The per-cpu hot list: a ring used as a stack; overflow drains its coldest pages to the pool. */
  private readonly pcp = new Int32Array(PCP_HIGH)
  private pcpBottom = 0
  private nPcp = 0
  private clockHand = 0
  readonly files = new FileTable()
  /** Stolen time owed by this guest (CoW faults, VM exits), paid from its next CPU time. */
  debtNs = 0
  cowFaults = 0
  vmExits = 0
  /** Allocations that failed even after reclaim. */
  oomEvents = 0
  evictions = 0
  /** Pages of page cache or text: all reclaim could ever evict (0: reclaim has nothing to do). */
  private nEvictable = 0
  /** The modified guest also names pages it zeroed (the paper: "zero pages are a target too"). */
  reportZeroPages = false
  /** The host's view of this guest's disk I/O (XLH and Satori lanes), or null. */
  diskSink: DiskIoSink | null = null
  /** The enlightened guest names the page-cache pages it frees to `diskSink` (Satori). */
  notifyFrees = false
  readonly lowWatermark: number
  readonly highWatermark: number
  private readonly fp = new Uint32Array(2)

  constructor(
    readonly vm: number,
    readonly base: number,
    readonly nPages: number,
    private readonly mem: HostMemory,
    private readonly cost: CpuProfile,
    private readonly sink: AttributeSink | null
  ) {
    this.type = new Uint8Array(nPages)
    this.fileOf = new Int32Array(nPages).fill(-1)
    this.offOf = new Int32Array(nPages)
    this.pool = new Int32Array(nPages)
    for (let i = 0; i < nPages; i++) this.pool[i] = nPages - 1 - i
    this.nPool = nPages
    // Linux's low/high watermarks are small fractions of memory (min_free_kbytes scaled).
    this.lowWatermark = Math.max(32, Math.floor(nPages / 128))
    this.highWatermark = this.lowWatermark * 2
  }

  get freePages(): number {
    return this.nPool + this.nPcp
  }

  typeOf(gfn: number): number {
    return this.type[gfn] & TYPE_MASK
  }

  /** Write content to a page of this guest; CoW faults are charged to the guest. */
  writePage(gfn: number, hi: number, lo: number): void {
    if (this.mem.write(this.base + gfn, hi, lo)) {
      this.cowFaults++
      this.debtNs += this.cost.cow_break_ns
    }
  }

  /** A free page, reclaiming page cache if the free list is at the low watermark; -1 when out of memory. */
  allocPage(type: number): number {
    if (this.nPool + this.nPcp <= this.lowWatermark) this.reclaim()
    let gfn: number
    if (this.nPcp > 0) {
      this.nPcp--
      const i = this.pcpBottom + this.nPcp
      gfn = this.pcp[i >= PCP_HIGH ? i - PCP_HIGH : i]
    } else if (this.nPool > 0) {
      gfn = this.pool[--this.nPool]
    } else {
      this.oomEvents++
      return -1
    }
    this.type[gfn] = type
    const kind = type & TYPE_MASK
    if (kind === PT_PAGECACHE || kind === PT_TEXT) this.nEvictable++
    return gfn
  }

  /** Give a page back to the free lists; its content stays as it was. */
  freePage(gfn: number): void {
    const t = this.type[gfn] & TYPE_MASK
    if (t === PT_FREE) throw new Error(`guest ${this.vm}: double free of gfn ${gfn}`)
    if (t === PT_PAGECACHE || t === PT_TEXT) {
      this.nEvictable--
      const start = this.files.cacheStart[this.fileOf[gfn]]
      if (start >= 0) this.files.slots[start + this.offOf[gfn]] = -1
      this.fileOf[gfn] = -1
      if (this.notifyFrees && this.diskSink?.pageFreed) {
        this.vmExits++
        this.debtNs += this.cost.vm_exit_ns
        this.diskSink.pageFreed(this.vm, gfn)
      }
    }
    this.type[gfn] = PT_FREE
    if (this.nPcp === PCP_HIGH) {
      for (let i = 0; i < PCP_BATCH; i++) {
        this.pool[this.nPool++] = this.pcp[this.pcpBottom]
        this.pcpBottom = this.pcpBottom + 1 === PCP_HIGH ? 0 : this.pcpBottom + 1
      }
      this.nPcp -= PCP_BATCH
    }
    const top = this.pcpBottom + this.nPcp
    this.pcp[top >= PCP_HIGH ? top - PCP_HIGH : top] = gfn
    this.nPcp++
  }

  /**
   * A zero-filled anonymous page (clear_page at the fault) that the program leaves untouched
   * for now; -1 when out of memory. The modified guest may name it to the hypervisor.
   */
  allocZero(type = PT_ANON): number {
    const gfn = this.allocPage(type)
    if (gfn < 0) return gfn
    this.writePage(gfn, ZERO_FP_HI, ZERO_FP_LO)
    if (this.sink && this.reportZeroPages) {
      this.vmExits++
      this.debtNs += this.cost.vm_exit_ns
      this.sink.attribute(this.vm, gfn, ZERO_PATH_ID, 0, false)
    }
    return gfn
  }

  /** Anonymous page with the given content; -1 when out of memory. */
  allocAnon(hi: number, lo: number, type = PT_ANON): number {
    const gfn = this.allocPage(type)
    if (gfn >= 0) this.writePage(gfn, hi, lo)
    return gfn
  }

  /** open(2): binds the file's inode to its path (the paper's guest change). */
  open(file: number): void {
    this.files.opened[file] = 1
  }

  /**
   * Read `count` pages of a file from `off` into the page cache (a hit only sets the referenced
   * bit). Returns the number of pages read from disk.
   */
  readFile(file: number, off: number, count: number, asText = false): number {
    const files = this.files
    if (!files.opened[file]) this.open(file)
    const size = files.sizePages[file]
    const start = files.ensureCache(file, size)
    const end = Math.min(size, off + count)
    let misses = 0
    for (let o = off; o < end; o++) {
      let gfn = files.slots[start + o]
      if (gfn >= 0) {
        this.type[gfn] |= REFERENCED
        if (asText && (this.type[gfn] & TYPE_MASK) === PT_PAGECACHE) this.type[gfn] = PT_TEXT | REFERENCED
        continue
      }
      gfn = this.allocPage(asText || files.isText[file] ? PT_TEXT : PT_PAGECACHE)
      if (gfn < 0) break
      misses++
      this.fillFilePage(file, o, gfn, start, false)
    }
    return misses
  }

  /** Map a whole executable or library: its pages are read as text. */
  mapText(file: number): number {
    return this.readFile(file, 0, this.files.sizePages[file], true)
  }

  /**
   * Write `count` pages of a file from `off` with a new version of its content (a file rewrite,
   * an object file written by the compiler). The file grows if needed.
   */
  writeFile(file: number, off: number, count: number, version: number): void {
    const files = this.files
    if (!files.opened[file]) this.open(file)
    const need = off + count
    if (need > files.sizePages[file]) files.sizePages[file] = need
    const start = files.ensureCache(file, files.sizePages[file])
    files.version[file] = version >>> 0
    files.overlay[file] = 1
    for (let o = off; o < need; o++) {
      let gfn = files.slots[start + o]
      if (gfn < 0) {
        gfn = this.allocPage(files.isText[file] ? PT_TEXT : PT_PAGECACHE)
        if (gfn < 0) break
      }
      this.fillFilePage(file, o, gfn, start, true)
    }
  }

  /** unlink(2) of a file: its cached pages are freed. */
  deleteFile(file: number): void {
    const files = this.files
    const start = files.cacheStart[file]
    if (start >= 0) {
      const end = start + files.cacheLen[file]
      for (let i = start; i < end; i++) if (files.slots[i] >= 0) this.freePage(files.slots[i])
      files.cacheStart[file] = -1
      files.cacheLen[file] = 0
    }
    files.opened[file] = 0
  }

  /**
   * Page `o` of `file` (index run at `start`) now in page gfn: read from disk (write false) or
   * written (write true).
   */
  private fillFilePage(file: number, o: number, gfn: number, start: number, write: boolean): void {
    const files = this.files
    files.slots[start + o] = gfn
    this.fileOf[gfn] = file
    this.offOf[gfn] = o
    this.type[gfn] |= REFERENCED
    filePageFp(this.fp, files, file, o)
    this.writePage(gfn, this.fp[0], this.fp[1])
    if (this.sink) {
      this.vmExits++
      this.debtNs += this.cost.vm_exit_ns
      this.sink.attribute(this.vm, gfn, files.pathId[file], o, (this.type[gfn] & TYPE_MASK) === PT_TEXT)
    }
    if (this.diskSink) this.diskSink.diskIo(this.vm, gfn, write)
  }

  /**
   * Start from a memory snapshot: page `gfn` of each extent gets its content (the host restored
   * the dump, so every page it holds is present). Pages of unknown type: a non-zero page is an
   * allocated anonymous page; a zero page is free memory the guest may hand out (content is zero
   * either way, so what a scanner can share does not depend on it). Only on a fresh guest.
   */
  loadSnapshot(extents: readonly { gfn: number; fps: Uint32Array }[]): void {
    if (this.nPool !== this.nPages || this.nPcp !== 0) throw new Error(`guest ${this.vm}: a snapshot loads into a fresh guest only`)
    const taken = new Uint8Array(this.nPages)
    for (const e of extents) {
      const n = e.fps.length / 2
      if (e.gfn + n > this.nPages) throw new Error(`guest ${this.vm}: snapshot extent at gfn ${e.gfn} is past the guest's ${this.nPages} pages`)
      for (let i = 0; i < n; i++) {
        const gfn = e.gfn + i
        const hi = e.fps[i * 2]
        const lo = e.fps[i * 2 + 1]
        this.writePage(gfn, hi, lo)
        if (!(hi === ZERO_FP_HI && lo === ZERO_FP_LO)) {
          this.type[gfn] = PT_ANON
          taken[gfn] = 1
        }
      }
    }
    // The free pool again, lowest gfn on top (handed out first), as a fresh guest's.
    let k = 0
    for (let gfn = this.nPages - 1; gfn >= 0; gfn--) if (!taken[gfn]) this.pool[k++] = gfn
    this.nPool = k
  }

  /**
   * CLOCK reclaim: sweep gfns; a referenced page-cache page loses its bit, an unreferenced one
   * is evicted, until the high watermark is reached. Text (mapped executable) pages are kept,
   * as Linux keeps referenced VM_EXEC pages on the active list (mm/vmscan.c,
   * shrink_active_list); they go only when a whole sweep found nothing else to evict.
   */
  reclaim(): void {
    // With no page cache and no text, every sweep would find nothing and leave the hand where it
    // was: skip it (a guest whose memory is all anonymous allocated in O(pages) per page).
    if (this.nEvictable === 0) return
    const n = this.nPages
    for (let round = 0; round < 3 && this.nPool + this.nPcp < this.highWatermark; round++) {
      const takeText = round === 2
      let budget = n
      while (this.nPool + this.nPcp < this.highWatermark && budget-- > 0) {
        const gfn = this.clockHand
        this.clockHand = gfn + 1 === n ? 0 : gfn + 1
        const t = this.type[gfn]
        const kind = t & TYPE_MASK
        if (kind !== PT_PAGECACHE && !(takeText && kind === PT_TEXT)) continue
        if (t & REFERENCED) {
          this.type[gfn] = kind
          continue
        }
        this.freePage(gfn)
        this.evictions++
      }
    }
  }

  /** Pages per type (index by PT_*) among all pages of this guest. */
  countTypes(out: Float64Array): void {
    for (let g = 0; g < this.nPages; g++) out[this.type[g] & TYPE_MASK]++
  }

  byteSize(): number {
    return this.type.byteLength + this.fileOf.byteLength + this.offOf.byteLength + this.pool.byteLength + this.pcp.byteLength
  }
}
