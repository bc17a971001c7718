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
 * mapping). Frames that are not KSM frames always have exactly one mapping.
 */
import { ZERO_FP_HI, ZERO_FP_LO } from './content.ts'

/** Called when a guest write breaks a KSM frame's sharing, before the page is remapped. */
export interface KsmUnmapHook {
  unmapKsm(gp: number, frame: number): void
}

export class HostMemory {
  /** gp -> host frame, -1 when the guest page is not present. */
  readonly pageFrame: Int32Array
  /** Frame content fingerprint, high and low 32 bits. */
  fpHi: Uint32Array
  fpLo: Uint32Array
  /** Guest pages mapping the frame. */
  mapcount: Uint32Array
  /** Stable node (dup) owning the frame, or -1 for a private frame. */
  frameKsm: Int32Array
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
  /** Guest index of each gp's VM is not needed here; CoW breaks are charged by the caller. */

  constructor(
    readonly totalPages: number,
    keepShadow: boolean
  ) {
    this.pageFrame = new Int32Array(totalPages).fill(-1)
    const cap = Math.max(1024, totalPages >>> 2)
    this.fpHi = new Uint32Array(cap)
    this.fpLo = new Uint32Array(cap)
    this.mapcount = new Uint32Array(cap)
    this.frameKsm = new Int32Array(cap).fill(-1)
    this.freeList = new Int32Array(cap)
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
    return this.fpHi.length
  }

  /** A fresh frame with one mapping and no content yet. */
  allocFrame(): number {
    let f: number
    if (this.nFree > 0) {
      f = this.freeList[--this.nFree]
    } else {
      if (this.nFrames === this.fpHi.length) this.growFrames()
      f = this.nFrames++
    }
    this.mapcount[f] = 1
    this.frameKsm[f] = -1
    this.framesInUse++
    return f
  }

  freeFrame(f: number): void {
    this.mapcount[f] = 0
    this.frameKsm[f] = -1
    this.freeList[this.nFree++] = f
    this.framesInUse--
  }

  private growFrames(): void {
    const cap = Math.min(Math.max(this.fpHi.length * 2, 1024), this.totalPages + 1024)
    const g32 = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(cap)
      b.set(a)
      return b
    }
    this.fpHi = g32(this.fpHi)
    this.fpLo = g32(this.fpLo)
    this.mapcount = g32(this.mapcount)
    const k = new Int32Array(cap).fill(-1)
    k.set(this.frameKsm)
    this.frameKsm = k
    const fl = new Int32Array(cap)
    fl.set(this.freeList)
    this.freeList = fl
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
      f = this.allocFrame()
      this.pageFrame[gp] = f
      this.presentPages++
    } else if (this.frameKsm[f] >= 0) {
      ;(this.hook as KsmUnmapHook).unmapKsm(gp, f)
      f = this.allocFrame()
      this.pageFrame[gp] = f
      this.cowBreaks++
      cow = true
    }
    this.fpHi[f] = hi
    this.fpLo[f] = lo
    if (this.shadow) {
      this.shadow[2 * gp] = hi
      this.shadow[2 * gp + 1] = lo
    }
    return cow
  }

  /** Content of a guest page as the guest reads it, written into out as (hi, lo). */
  read(gp: number, out: Uint32Array): void {
    const f = this.pageFrame[gp]
    if (f < 0) {
      out[0] = ZERO_FP_HI
      out[1] = ZERO_FP_LO
    } else {
      out[0] = this.fpHi[f]
      out[1] = this.fpLo[f]
    }
  }

  /** Bytes held by the typed arrays of this object (for the memory-per-page figure). */
  byteSize(): number {
    return (
      this.pageFrame.byteLength +
      this.fpHi.byteLength +
      this.fpLo.byteLength +
      this.mapcount.byteLength +
      this.frameKsm.byteLength +
      this.freeList.byteLength +
      (this.shadow ? this.shadow.byteLength : 0)
    )
  }
}
