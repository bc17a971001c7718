/**
 * Replay of a measured guest trace (src/core/formats/trace.ts, docs/file-formats.md): the events of one
 * traced VM, at their times, as this VM's workload. Time runs from the workload's start in the
 * VM's work time (so a slowed VM replays the same events later).
 *
 * Traced gfns name pages as the traced guest numbered them. This guest's allocator places them:
 * the first alloc or write of a traced gfn takes a free page and remembers it, a free gives it
 * back. A VM started from a snapshot of the traced guest already holds its pages at their gfns,
 * so there every allocated page is its own traced gfn. Anonymous and kernel pages are never
 * reclaimed, so a remembered page stays the traced page until the trace frees it.
 *
 * - alloc: (re)allocate gfn as `type`, content fp (default: zero-filled at the fault).
 * - write: store fp in gfn (a first write to an unmapped gfn allocates it).
 * - free: give gfn back (its bytes stay, as Linux leaves them).
 * - read-file: page `offset` of `path` read into the page cache (a hit if cached), content fp,
 *   or the real image's bytes for a path of the VM's image, or bytes of the path (equal in every
 *   VM). `type: text` maps it as text.
 * - write-file: page `offset` of `path` written with fp (default: new bytes of the path).
 * A file line's gfn is informative: the page cache places file pages.
 */
import { synthFp } from '../../machine/content.ts'
import { PT_FREE, PT_TEXT } from '../guest.ts'
import { hashString } from '../../machine/rng.ts'
import { OP_ALLOC, OP_FREE, OP_READ_FILE, OP_WRITE, OP_WRITE_FILE, type Trace } from '../../formats/trace.ts'
import { QUANTUM_S, type VmContext, type Workload } from './workload.ts'

export class TraceWorkload implements Workload {
  readonly kind = 'trace'
  /** Indices of this VM's events in the trace, in order. */
  private readonly events: Int32Array
  private next = 0
  private clock = 0
  /** Traced gfn -> this guest's gfn, -1 when the traced page is not allocated. */
  private readonly map: Int32Array
  /** Trace path index -> guest file id, -1 until first used. */
  private readonly fileOf: Int32Array
  /** Files whose content array this workload owns (copied from a shared image array on first write). */
  private readonly ownFps = new Set<number>()
  private readonly fp = new Uint32Array(2)
  /** Allocations the guest could not satisfy (out of memory). */
  failedAllocs = 0

  constructor(
    private readonly ctx: VmContext,
    private readonly trace: Trace,
    vmName: string,
    private readonly cpu: number
  ) {
    const vi = trace.vms.indexOf(vmName)
    let n = 0
    for (let i = 0; i < trace.length; i++) if (trace.vm[i] === vi) n++
    this.events = new Int32Array(n)
    n = 0
    for (let i = 0; i < trace.length; i++) if (trace.vm[i] === vi) this.events[n++] = i
    const guest = ctx.guest
    this.map = new Int32Array(guest.nPages).fill(-1)
    if (ctx.fromSnapshot) for (let g = 0; g < guest.nPages; g++) if (guest.typeOf(g) !== PT_FREE) this.map[g] = g
    this.fileOf = new Int32Array(trace.paths.length).fill(-1)
  }

  cpuDemand(): number {
    return this.done() ? 0 : this.cpu
  }

  step(): void {
    this.clock += QUANTUM_S
    const tr = this.trace
    const ev = this.events
    while (this.next < ev.length && tr.t[ev[this.next]] <= this.clock + 1e-9) this.apply(ev[this.next++])
  }

  done(): boolean {
    return this.next >= this.events.length
  }

  progress(): number {
    return this.events.length === 0 ? 1 : this.next / this.events.length
  }

  private apply(i: number): void {
    const tr = this.trace
    const guest = this.ctx.guest
    const op = tr.op[i]
    if (op === OP_READ_FILE || op === OP_WRITE_FILE) return this.fileOp(i, op)
    const tg = tr.gfn[i]
    const g = this.map[tg]
    if (op === OP_FREE) {
      if (g >= 0 && guest.typeOf(g) !== PT_FREE) guest.freePage(g)
      this.map[tg] = -1
    } else if (op === OP_WRITE && g >= 0) {
      guest.writePage(g, tr.fpHi[i], tr.fpLo[i])
    } else if (op === OP_ALLOC || op === OP_WRITE) {
      if (g >= 0 && guest.typeOf(g) !== PT_FREE) guest.freePage(g)
      const ng = tr.hasFp[i] ? guest.allocAnon(tr.fpHi[i], tr.fpLo[i], tr.type[i]) : guest.allocZero(tr.type[i])
      if (ng < 0) this.failedAllocs++
      this.map[tg] = ng
    }
  }

  private fileOp(i: number, op: number): void {
    const tr = this.trace
    const guest = this.ctx.guest
    const files = guest.files
    const file = this.file(tr.path[i])
    const off = tr.offset[i]
    const cached = files.cachedGfn(file, off) >= 0
    if (op === OP_READ_FILE && cached) {
      guest.readFile(file, off, 1, tr.type[i] === PT_TEXT) // a hit: referenced (and mapped as text)
      return
    }
    let fps = this.ensureFps(file, off + 1, tr.paths[tr.path[i]])
    if (tr.hasFp[i]) {
      fps = this.own(file, fps)
      fps[off * 2] = tr.fpHi[i]
      fps[off * 2 + 1] = tr.fpLo[i]
    } else if (op === OP_WRITE_FILE) {
      fps = this.own(file, fps)
      files.version[file]++
      synthFp(this.fp, hashString(tr.paths[tr.path[i]]), files.version[file], off)
      fps[off * 2] = this.fp[0]
      fps[off * 2 + 1] = this.fp[1]
    }
    if (op === OP_READ_FILE) guest.readFile(file, off, 1, tr.type[i] === PT_TEXT)
    else guest.writeFile(file, off, 1, files.version[file])
  }

  /** The guest file of a trace path: the VM's real image file of that path, or a new file. */
  private file(pathIndex: number): number {
    let f = this.fileOf[pathIndex]
    if (f >= 0) return f
    const path = this.trace.paths[pathIndex]
    const ctx = this.ctx
    const real = ctx.realFiles.get(path)
    if (real !== undefined) f = real
    else {
      f = ctx.guest.files.addReal(ctx.paths.id(path), new Uint32Array(0), false)
      this.ownFps.add(f)
    }
    this.fileOf[pathIndex] = f
    return f
  }

  /**
   * The file's content array covering `pages` pages; pages past its old end get bytes of the
   * path (the same in every VM), as a file nobody traced the bytes of.
   */
  private ensureFps(file: number, pages: number, path: string): Uint32Array {
    const files = this.ctx.guest.files
    const old = files.fps[file] as Uint32Array
    if (old.length >= pages * 2) return old
    const oldPages = old.length / 2
    const grown = new Uint32Array(Math.max(pages, oldPages * 2) * 2) // at least double: amortised growth
    grown.set(old)
    const key = hashString(path)
    for (let o = oldPages; o < grown.length / 2; o++) {
      synthFp(this.fp, key, 0, o)
      grown[o * 2] = this.fp[0]
      grown[o * 2 + 1] = this.fp[1]
    }
    files.fps[file] = grown
    if (files.sizePages[file] < grown.length / 2) files.sizePages[file] = grown.length / 2
    this.ownFps.add(file)
    this.growCache(file)
    return grown
  }

  /** A file's cache index must cover its size (GuestOS.readFile sizes it on first use only). */
  private growCache(file: number): void {
    const files = this.ctx.guest.files
    if (files.cacheStart[file] >= 0) files.ensureCache(file, files.sizePages[file])
  }

  /** The file's content array, copied first if it is a real image's (shared by every VM of it). */
  private own(file: number, fps: Uint32Array): Uint32Array {
    if (this.ownFps.has(file)) return fps
    const copy = fps.slice()
    this.ctx.guest.files.fps[file] = copy
    this.ownFps.add(file)
    return copy
  }
}
