/**
 * Host memory of one lane: host frames holding content, and the guest page tables that map
 * every guest page to a frame.
 *
 * Guest pages are numbered globally within a lane ("gp" = VM base + gfn) so that page tables,
 * scanner records and trees index one flat typed array. A guest page that the guest never
 * touched is not present (frame -1): it reads as zeros and KSM's walk skips it, as
 * follow_page() finds nothing there. Once touched, a page stays present: a guest's free does not
 * give memory back to the host.
 *
 * A frame mapped by a KSM stable node is write-protected, whatever its map count: a guest write
 * to it is a copy-on-write break (the writer gets a private frame, the stable node loses one
 * mapping). Frames that are not KSM frames always have exactly one mapping, except the kernel
 * zero page.
 *
 * The kernel zero page (KSM's `use_zero_pages`): one frame holding zeros that any number of guest
 * pages may map instead of a KSM page. It reads back zero like any zero-filled frame, is
 * write-protected like a KSM page (a write to it is a copy-on-write break, reported through the
 * same hook), and is not a KSM page: no stable node owns it, so it is not in pages_shared or
 * pages_sharing. The frame is allocated when the first page maps it and freed when the last
 * mapping leaves (the kernel's zero page always exists; here it costs nothing while unused).
 *
 * Frame numbering: frame gp is guest page gp's "home" frame, used whenever the page needs a
 * frame and its home is free; only a page whose home is held by a KSM page (the page it was
 * merged into was its own, and others still map it) takes an overflow frame (numbers from
 * totalPages up, recycled through a free list). This keeps a page's content where its page
 * table entry points in address order, so the guests' page writes stay cache-friendly after
 * many merges and CoW breaks (a LIFO frame free list scattered them: docs/performance.md).
 */
import { ZERO_FP_HI, ZERO_FP_LO } from './content.ts'

/** Called when a guest write breaks a KSM frame's sharing, before the page is remapped. */
export interface KsmUnmapHook {
  unmapKsm(gp: number, frame: number): void
}

export const FLAG_ZERO = 1
export const FLAG_SHARED = 2
/**
 * The frame is write-protected: a KSM page (mirrors the frame's stable node word) or the kernel
 * zero page. Kept in the dense flags so that a guest write tests one byte, not the frame.
 */
export const FLAG_WP = 4

/** Words per frame in HostMemory.frames: content hi, content lo, map count, stable node + 1. */
const FW = 4

export class HostMemory {
  /** gp -> host frame, -1 when the guest page is not present. */
  readonly pageFrame: Int32Array
  /**
   * Frames, FW words each, interleaved so that one frame is one cache line access:
   * [4f] content hi, [4f+1] content lo, [4f+2] map count, [4f+3] stable node id + 1 (0: private).
   */
  private frames: Uint32Array
  /**
   * Per frame, derived from `frames` for the per-type statistics (one byte a frame, so the
   * sampling pass stays in cache): FLAG_ZERO content is the zero page, FLAG_SHARED two or more
   * mappings, FLAG_WP write-protected (a KSM frame or the zero page).
   */
  flags: Uint8Array
  private freeList: Int32Array
  private nFree = 0
  private nFrames = 0
  /** Pages present in the host (ever touched by their guest). */
  presentPages = 0
  /** Copy-on-write breaks since start. */
  cowBreaks = 0
  /** Frames in use (allocated and not freed). */
  framesInUse = 0
  /** What each guest last wrote (hi, lo), kept only when invariants are checked. */
  readonly shadow: Uint32Array | null
  hook: KsmUnmapHook | null = null
  /** The kernel zero page's frame while some guest page maps it, else -1. */
  zeroFrame = -1

  constructor(
    readonly totalPages: number,
    keepShadow: boolean
  ) {
    this.pageFrame = new Int32Array(totalPages).fill(-1)
    const cap = totalPages + 1024
    this.frames = new Uint32Array(cap * FW)
    this.flags = new Uint8Array(cap)
    this.freeList = new Int32Array(1024)
    this.nFrames = totalPages
    if (keepShadow) {
      this.shadow = new Uint32Array(totalPages * 2)
      for (let i = 0; i < totalPages; i++) {
        this.shadow[2 * i] = ZERO_FP_HI
        this.shadow[2 * i + 1] = ZERO_FP_LO
      }
    } else {
      this.shadow = null
    }
  }

  get frameCapacity(): number {
    return this.frames.length / FW
  }

  /** Content of frame f, high 32 bits. */
  hi(f: number): number {
    return this.frames[f * FW]
  }

  /** Content of frame f, low 32 bits. */
  lo(f: number): number {
    return this.frames[f * FW + 1]
  }

  /** Guest pages mapping frame f. */
  mapcountOf(f: number): number {
    return this.frames[f * FW + 2]
  }

  incMap(f: number): number {
    const c = ++this.frames[f * FW + 2]
    if (c === 2) this.flags[f] |= FLAG_SHARED
    return c
  }

  decMap(f: number): number {
    const c = --this.frames[f * FW + 2]
    if (c === 1) this.flags[f] &= ~FLAG_SHARED
    return c
  }

  /** Stable node (dup) owning frame f, or -1 for a private frame. */
  ksmNode(f: number): number {
    return this.frames[f * FW + 3] - 1
  }

  setKsmNode(f: number, node: number): void {
    this.frames[f * FW + 3] = node + 1
    if (node >= 0) this.flags[f] |= FLAG_WP
    else this.flags[f] &= ~FLAG_WP
  }

  /** A fresh frame for guest page gp, with one mapping and no content yet: gp's home if free. */
  allocFrame(gp: number): number {
    let f = gp
    if (this.frames[gp * FW + 2] !== 0) {
      if (this.nFree > 0) {
        f = this.freeList[--this.nFree]
      } else {
        if (this.nFrames === this.frameCapacity) this.growFrames()
        f = this.nFrames++
      }
    }
    this.frames[f * FW + 2] = 1
    this.frames[f * FW + 3] = 0
    this.flags[f] = 0
    this.framesInUse++
    return f
  }

  freeFrame(f: number): void {
    this.frames[f * FW + 2] = 0
    this.frames[f * FW + 3] = 0
    this.flags[f] = 0
    if (f >= this.totalPages) {
      if (this.nFree === this.freeList.length) {
        const fl = new Int32Array(this.freeList.length * 2)
        fl.set(this.freeList)
        this.freeList = fl
      }
      this.freeList[this.nFree++] = f
    }
    this.framesInUse--
  }

  private growFrames(): void {
    // Overflow frames: at most one per guest page (a page holds one frame at a time).
    const cap = Math.min(this.frameCapacity + Math.max(1024, (this.frameCapacity - this.totalPages) * 2), 2 * this.totalPages + 1024)
    const frames = new Uint32Array(cap * FW)
    frames.set(this.frames)
    this.frames = frames
    const flags = new Uint8Array(cap)
    flags.set(this.flags)
    this.flags = flags
  }

  isPresent(gp: number): boolean {
    return this.pageFrame[gp] >= 0
  }

  /**
   * The guest writes a whole page with content (hi, lo). Returns true when the write was a
   * copy-on-write break (the caller charges the fault to the guest).
   */
  write(gp: number, hi: number, lo: number): boolean {
    let f = this.pageFrame[gp]
    let cow = false
    if (f < 0) {
      f = this.allocFrame(gp)
      this.pageFrame[gp] = f
      this.presentPages++
    } else if ((this.flags[f] & FLAG_WP) !== 0) {
      ;(this.hook as KsmUnmapHook).unmapKsm(gp, f)
      f = this.allocFrame(gp)
      this.pageFrame[gp] = f
      this.cowBreaks++
      cow = true
    }
    const i = f * FW
    this.frames[i] = hi
    this.frames[i + 1] = lo
    this.flags[f] = (this.flags[f] & (FLAG_SHARED | FLAG_WP)) | (hi === ZERO_FP_HI && lo === ZERO_FP_LO ? FLAG_ZERO : 0)
    if (this.shadow) {
      this.shadow[2 * gp] = hi
      this.shadow[2 * gp + 1] = lo
    }
    return cow
  }

  /**
   * Map private page gp to the kernel zero page (its old frame is freed; the caller checked that
   * it holds zeros). Returns the zero page's map count afterwards.
   */
  mapZero(gp: number): number {
    const old = this.pageFrame[gp]
    let z = this.zeroFrame
    let c: number
    if (z < 0) {
      z = this.allocFrame(gp)
      this.frames[z * FW] = ZERO_FP_HI
      this.frames[z * FW + 1] = ZERO_FP_LO
      this.flags[z] = FLAG_ZERO | FLAG_WP
      this.zeroFrame = z
      c = 1
    } else {
      c = this.incMap(z)
    }
    this.freeFrame(old)
    this.pageFrame[gp] = z
    return c
  }

  /** A guest write left the zero page: drop one mapping (the frame goes with the last one). */
  unmapZero(): number {
    const z = this.zeroFrame
    const c = this.decMap(z)
    if (c === 0) {
      this.freeFrame(z)
      this.zeroFrame = -1
    }
    return c
  }

  /** Content of a guest page as the guest reads it, written into out as (hi, lo). */
  read(gp: number, out: Uint32Array): void {
    const f = this.pageFrame[gp]
    if (f < 0) {
      out[0] = ZERO_FP_HI
      out[1] = ZERO_FP_LO
    } else {
      out[0] = this.frames[f * FW]
      out[1] = this.frames[f * FW + 1]
    }
  }

  /** Bytes held by the typed arrays of this object (for the memory-per-page figure). */
  byteSize(): number {
    return this.pageFrame.byteLength + this.frames.byteLength + this.flags.byteLength + this.freeList.byteLength + (this.shadow ? this.shadow.byteLength : 0)
  }
}
