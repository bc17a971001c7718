/**
 * Satori (Miłoś, Murray, Hand, Fetterman: "Satori: Enlightened page sharing", USENIX ATC 2009):
 * sharing-aware virtual block devices. There is no scanner thread: a page is shared at the moment
 * the host serves the guest's disk read into it, when another VM already holds the same block of
 * the same disk image in its memory. Blocks are named by disk identity and block number, not by
 * content, so only VMs booted from one image (a copy-on-write overlay over one base image counts
 * as that image) ever match; a block the guest wrote lives in its own overlay and matches nothing.
 *
 * The host keeps a table from block to one guest page that holds it (hashed, in buckets of 8
 * slots; a full bucket forgets the holder in its first slot). A read of a block held elsewhere maps the reader onto that page's
 * frame, which becomes a write-protected shared page (the StableTree's KSM page: copy-on-write on
 * a later guest write, max_page_sharing as everywhere); otherwise the reader becomes the block's
 * holder. Enlightenment in scope: the guest tells the host which page-cache pages it frees (one
 * hypercall each, charged to the guest), so the host never offers a page the guest has reused.
 *
 * Cost (scanner CPU): one table probe per block read and a merge per shared page; nothing at all
 * while no disk I/O happens.
 */
import { OpCounts, type CpuProfile } from '../machine/cost.ts'
import type { HostMemory } from '../machine/memory.ts'
import { hash32 } from '../machine/rng.ts'
import type { StableTree } from '../machine/stable.ts'
import type { Scanner } from './scanner.ts'

/**
 * Block table entries (*estimate*): the paper's block device knows every block it has served, so
 * the table is sized to hold a few hosts' worth of page cache without collisions (a collision
 * forgets the older holder); 2^20 entries are 12 MiB per lane.
 */
export const SATORI_TABLE_SIZE_DEFAULT = 1 << 20
/** Slots per bucket of the block table (a block is looked for in its bucket only). */
const BUCKET = 8

export interface SatoriParams {
  hash_table_size: number
}

export class SatoriScanner implements Scanner {
  readonly kind = 'satori'
  readonly wantsAttributes = false
  nextWake = Infinity
  readonly ops = new OpCounts()
  /** Block reads looked up in the block table. */
  pages_scanned = 0
  readonly full_scans = 0
  records = 0
  readonly pages_skipped = 0
  /** Block reads that found the block in another VM's memory and were shared. */
  shared_reads = 0
  /** Reads of blocks from a VM's own overlay (written by that guest): never shared. */
  overlay_reads = 0
  private readonly tableGp: Int32Array
  private readonly tableK1: Uint32Array
  private readonly tableK2: Uint32Array
  /** 1 while the slot's holder is a private page (counted in pages_unshared). */
  private readonly tablePrivate: Uint8Array
  /** Per guest page: its slot in the block table + 1, or 0. */
  private readonly slotOf: Int32Array
  private readonly tracked: Uint8Array
  private readonly mask: number

  constructor(
    private readonly mem: HostMemory,
    private readonly stable: StableTree,
    private readonly cost: CpuProfile,
    params: SatoriParams
  ) {
    let size = BUCKET
    while (size < params.hash_table_size) size *= 2
    this.tableGp = new Int32Array(size).fill(-1)
    this.tableK1 = new Uint32Array(size)
    this.tableK2 = new Uint32Array(size)
    this.tablePrivate = new Uint8Array(size)
    this.mask = size - 1
    this.slotOf = new Int32Array(mem.totalPages)
    this.tracked = new Uint8Array(mem.totalPages)
  }

  get cpuNs(): number {
    return this.ops.ns(this.cost)
  }

  /** Block holders that are still private pages (waiting for a second reader). */
  pages_unshared = 0

  /**
   * The host served a read of block (image, path, offset, base content) into guest page gp, whose
   * content is already there. Share it with the block's holder if there is one, else hold it.
   */
  blockRead(gp: number, image: number, pathId: number, offset: number): void {
    const mem = this.mem
    const st = this.stable
    const f = mem.pageFrame[gp]
    if (f < 0) return
    this.ops.hash_lookup++
    this.pages_scanned++
    if (!this.tracked[gp]) {
      this.tracked[gp] = 1
      this.records++
    }
    this.drop(gp)
    const hi = mem.hi(f)
    const lo = mem.lo(f)
    // The block's name: disk image, file and block within it; a base-image block has one content.
    const k1 = hash32(image, pathId, offset)
    const k2 = hash32(hi, lo, k1)
    // Buckets of BUCKET slots: the block's holder is in its bucket, or the block has none.
    const first = (k1 ^ Math.imul(k2, 0x9e3779b1)) & this.mask & ~(BUCKET - 1)
    let slot = -1
    let free = -1
    for (let s = first; s < first + BUCKET; s++) {
      const g = this.tableGp[s]
      if (g < 0) {
        if (free < 0) free = s
      } else if (this.tableK1[s] === k1 && this.tableK2[s] === k2) {
        slot = s
        break
      }
    }
    const holder = slot >= 0 ? this.tableGp[slot] : -1
    if (holder >= 0 && holder !== gp) {
      const hf = mem.pageFrame[holder]
      // The model's guard against a hash collision naming two blocks alike: equal content.
      if (hf >= 0 && mem.hi(hf) === hi && mem.lo(hf) === lo && st.mayMerge(holder, gp)) {
        const node = mem.ksmNode(hf)
        if (node >= 0) {
          if (mem.mapcountOf(hf) < st.maxPageSharing && st.mergeInto(gp, node)) {
            this.ops.merge++
            this.shared_reads++
            return
          }
        } else if (mem.ksmNode(f) < 0 && st.mergeTwo(gp, holder) >= 0) {
          this.tablePrivate[slot] = 0
          this.pages_unshared--
          this.ops.merge += 2
          this.shared_reads++
          return
        }
      }
    }
    // A full bucket forgets its first holder (the table is bounded).
    if (slot < 0) slot = free >= 0 ? free : first
    // No partner (or the holder's page is full): this page holds the block from now on.
    if (this.tableGp[slot] >= 0) this.leave(slot)
    this.tableGp[slot] = gp
    this.tableK1[slot] = k1
    this.tableK2[slot] = k2
    this.slotOf[gp] = slot + 1
    if (mem.ksmNode(f) < 0) {
      this.tablePrivate[slot] = 1
      this.pages_unshared++
    }
  }

  /** The holder of `slot` leaves it. */
  private leave(slot: number): void {
    this.slotOf[this.tableGp[slot]] = 0
    this.tableGp[slot] = -1
    if (this.tablePrivate[slot]) {
      this.tablePrivate[slot] = 0
      this.pages_unshared--
    }
  }

  /** A read from the VM's own overlay (a block it wrote): served, never shared. */
  overlayRead(): void {
    this.overlay_reads++
  }

  /**
   * Page gp no longer holds its block: the guest wrote it (the block moves to its overlay) or
   * freed it (the free-page enlightenment).
   */
  drop(gp: number): void {
    const s = this.slotOf[gp]
    if (s === 0) return
    if (this.tableGp[s - 1] === gp) this.leave(s - 1)
    else this.slotOf[gp] = 0
  }

  wake(): void {
    this.nextWake = Infinity
  }
  beginSettle(): void {}
  converged(): boolean {
    return true
  }
  byteSize(): number {
    return this.tableGp.byteLength + this.tableK1.byteLength + this.tableK2.byteLength + this.tablePrivate.byteLength + this.slotOf.byteLength + this.tracked.byteLength
  }
}
