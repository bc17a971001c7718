/**
 * The hypervisor's attribute table (the paper, section 4): for every guest page whose guest sent
 * an attribute, the (path, offset) it last named. A new attribute that matches one held by a page
 * of another VM makes page hints for both pages.
 *
 * The guest reports page-cache updates only, not evictions, so an attribute stays until the same
 * page gets a new one, or the same VM names the same (path, offset) for another page (a guest
 * caches a file page once, so the older one is stale): a page reused for something else keeps
 * a stale attribute meanwhile, and a match on it is a hint that finds nothing (wasted work, as
 * in real life).
 *
 * Storage: per guest page (path, offset) and a doubly linked bucket chain; bucket heads in a
 * power-of-two array. Path ids are the lane's interned path ids.
 */
import { hash32 } from './rng.ts'

const NONE = -1
/** Chain entries examined per lookup (bounds the cost of popular keys). */
export const ATTR_MAX_WALK = 64

export class AttributeTable {
  private readonly path: Int32Array
  private readonly off: Int32Array
  private readonly next: Int32Array
  private readonly prev: Int32Array
  private readonly heads: Int32Array
  private readonly mask: number
  /** Attributes received. */
  received = 0

  constructor(totalPages: number) {
    this.path = new Int32Array(totalPages).fill(NONE)
    this.off = new Int32Array(totalPages)
    this.next = new Int32Array(totalPages).fill(NONE)
    this.prev = new Int32Array(totalPages).fill(NONE)
    let size = 1024
    while (size < totalPages) size *= 2
    this.heads = new Int32Array(size).fill(NONE)
    this.mask = size - 1
  }

  /**
   * Page gp now holds (pathId, offset). Returns a page outside [vmLo, vmHi) holding the same
   * attribute (the newest such), or -1.
   */
  set(gp: number, pathId: number, offset: number, vmLo: number, vmHi: number): number {
    this.received++
    const b = hash32(pathId, offset) & this.mask
    if (this.path[gp] !== pathId || this.off[gp] !== offset) {
      if (this.path[gp] !== NONE) this.unlink(gp)
      this.path[gp] = pathId
      this.off[gp] = offset
      const h = this.heads[b]
      this.next[gp] = h
      this.prev[gp] = NONE
      if (h !== NONE) this.prev[h] = gp
      this.heads[b] = gp
    }
    // A guest caches a file page once: another page of the same VM still naming this
    // (path, offset) is stale (evicted and reused since) and is dropped on the way.
    let partner = -1
    let walk = ATTR_MAX_WALK
    let e = this.heads[b]
    while (e !== NONE && walk-- > 0) {
      const nx = this.next[e]
      if (e !== gp && this.path[e] === pathId && this.off[e] === offset) {
        if (e >= vmLo && e < vmHi) {
          this.unlink(e)
          this.path[e] = NONE
        } else if (partner < 0) {
          partner = e
        }
      }
      e = nx
    }
    return partner
  }

  private unlink(gp: number): void {
    const n = this.next[gp]
    const p = this.prev[gp]
    if (p !== NONE) this.next[p] = n
    else this.heads[hash32(this.path[gp], this.off[gp]) & this.mask] = n
    if (n !== NONE) this.prev[n] = p
  }

  byteSize(): number {
    return this.path.byteLength * 4 + this.heads.byteLength
  }
}
