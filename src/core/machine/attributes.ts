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
 * Storage: per guest page (path, offset) and a doubly linked bucket chain, interleaved in one
 * typed array; bucket heads in a power-of-two array. Path ids are the lane's interned path ids.
 */
import { hash32 } from './rng.ts'

const NONE = -1
/** Chain entries examined per lookup (bounds the cost of popular keys). */
export const ATTR_MAX_WALK = 64

export class AttributeTable {
  /**
   * Per guest page gp, four words interleaved so that a chain step touches one cache line:
   * [4gp] path id (NONE: no attribute), [4gp+1] offset, [4gp+2] next in chain, [4gp+3] previous.
   */
  private readonly e: Int32Array
  private readonly heads: Int32Array
  private readonly mask: number
  /** Attributes received. */
  received = 0

  constructor(totalPages: number) {
    this.e = new Int32Array(totalPages * 4)
    for (let gp = 0; gp < totalPages; gp++) {
      this.e[4 * gp] = NONE
      this.e[4 * gp + 2] = NONE
      this.e[4 * gp + 3] = NONE
    }
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
    const e = this.e
    const b = hash32(pathId, offset) & this.mask
    const g = 4 * gp
    if (e[g] !== pathId || e[g + 1] !== offset) {
      if (e[g] !== NONE) this.unlink(gp)
      e[g] = pathId
      e[g + 1] = offset
      const h = this.heads[b]
      e[g + 2] = h
      e[g + 3] = NONE
      if (h !== NONE) e[4 * h + 3] = gp
      this.heads[b] = gp
    }
    // A guest caches a file page once: another page of the same VM still naming this
    // (path, offset) is stale (evicted and reused since) and is dropped on the way.
    let partner = -1
    let walk = ATTR_MAX_WALK
    let x = this.heads[b]
    while (x !== NONE && walk-- > 0) {
      const i = 4 * x
      const nx = e[i + 2]
      if (x !== gp && e[i] === pathId && e[i + 1] === offset) {
        if (x >= vmLo && x < vmHi) {
          this.unlink(x)
          e[i] = NONE
        } else if (partner < 0) {
          partner = x
        }
      }
      x = nx
    }
    return partner
  }

  private unlink(gp: number): void {
    const e = this.e
    const g = 4 * gp
    const n = e[g + 2]
    const p = e[g + 3]
    if (p !== NONE) e[4 * p + 2] = n
    else this.heads[hash32(e[g], e[g + 1]) & this.mask] = n
    if (n !== NONE) e[4 * n + 3] = p
  }

  byteSize(): number {
    return this.e.byteLength + this.heads.byteLength
  }
}
