/**
 * A Linux kernel build (make -jN) in the guest, the paper's workload (section 5).
 *
 * Each compilation unit: the compiler driver and cc1 are mapped (text, cached after the first
 * unit); the .c file and a few dozen headers are read (headers are popular: mostly page-cache
 * hits); cc1's heap grows and is rewritten while it compiles (unique content); cc1 writes the
 * assembly to a mkstemp file in /tmp (a random name per VM, but the same bytes in every VM: the
 * paper's case 4); `as` reads it and writes the object file (same path, same bytes in every VM:
 * deterministic build); the temporary is unlinked and the heap freed (zeroed). Every
 * `UNITS_PER_DIR` units the directory's objects are linked into built-in.o.
 *
 * The page cache grows by tens of pages per unit, so a 512 MiB guest runs out of free memory
 * and reclaim recycles old page-cache pages: shareable pages are rewritten within minutes, as
 * the paper and XLH report. Parameters: docs/model.md.
 */
import { hash32, hashString, Rng } from '../../machine/rng.ts'
import { NS_KBUILD_OBJ, NS_KBUILD_SRC, NS_TMP, pathId, PATH_INDEX_MASK } from './paths.ts'
import { QUANTUM_S, type VmContext, type Workload } from './workload.ts'

const SRC_CONTENT = hashString('linux-3.0-source')
const OBJ_CONTENT = hashString('linux-3.0-objects')
const ASM_CONTENT = hashString('linux-3.0-assembly')
const UNITS_PER_DIR = 24 // objects linked per built-in.o
/** Fraction of the heap rewritten per quantum while cc1 runs (GC and reallocation). */
const HEAP_CHURN_PER_QUANTUM = 0.01
/** One in HEAP_ZERO_EVERY of cc1's heap pages stays zero (allocated, zero-filled, never written). */
const HEAP_ZERO_EVERY = 7
/** Log-normal spread (sigma) of cc1's heap size around heap_mib across units. */
const HEAP_SPREAD = 0.25
/** Per-VM noise on a unit's compile time: +-5 % (scheduling, cache effects). */
const TIMING_NOISE = 0.05
/** Header popularity: header index = count x u^HEADER_SKEW for uniform u (a power law). */
const HEADER_SKEW = 3

export interface KernelBuildParams {
  units: number
  unit_cpu_s: number
  heap_mib: number
  jobs: number
  headers: number
  headers_per_unit: number
}

interface Job {
  unit: number
  quanta: number
  left: number
  heapTarget: number
  heap: Int32Array
  heapLen: number
  asmFile: number
  asmWritten: boolean
}

export class KernelBuildWorkload implements Workload {
  readonly kind = 'kernel-build'
  private nextUnit = 0
  private finished = 0
  private readonly jobs: (Job | null)[]
  private readonly srcFiles: Int32Array
  private readonly srcSize: Int32Array
  private readonly hdrFiles: Int32Array
  private readonly objFiles: Int32Array
  private readonly dirObjs: number[] = []
  private dirCount = 0

  constructor(
    private readonly ctx: VmContext,
    private readonly p: KernelBuildParams
  ) {
    const files = ctx.guest.files
    // The source tree is the same in every VM: its sizes come from a fixed stream, not the VM's.
    this.srcFiles = new Int32Array(p.units)
    this.srcSize = new Int32Array(p.units)
    this.objFiles = new Int32Array(p.units)
    for (let u = 0; u < p.units; u++) {
      const size = 1 + (hash32(SRC_CONTENT, u) % 12)
      this.srcSize[u] = size
      this.srcFiles[u] = files.add(pathId(NS_KBUILD_SRC, u), hash32(SRC_CONTENT, u), size, false)
      this.objFiles[u] = files.add(pathId(NS_KBUILD_OBJ, u), hash32(OBJ_CONTENT, u), 1, false)
    }
    this.hdrFiles = new Int32Array(p.headers)
    for (let h = 0; h < p.headers; h++) {
      const size = 1 + (hash32(SRC_CONTENT, h, 1) % 6)
      this.hdrFiles[h] = files.add(pathId(NS_KBUILD_SRC, p.units + h), hash32(SRC_CONTENT, h, 1), size, false)
    }
    this.jobs = new Array<Job | null>(p.jobs).fill(null)
  }

  cpuDemand(): number {
    let n = 0
    for (const j of this.jobs) if (j) n++
    if (n === 0 && this.nextUnit < this.p.units) n = 1
    return Math.min(n, this.ctx.vcpus)
  }

  done(): boolean {
    return this.finished >= this.p.units
  }

  progress(): number {
    return this.finished / this.p.units
  }

  step(): void {
    for (let j = 0; j < this.jobs.length; j++) {
      let job = this.jobs[j]
      if (!job) {
        if (this.nextUnit >= this.p.units) continue
        job = this.startUnit(this.nextUnit++)
        this.jobs[j] = job
      }
      this.runJob(job)
      if (job.left <= 0) {
        this.finishUnit(job)
        this.jobs[j] = null
      }
    }
  }

  private startUnit(unit: number): Job {
    const { guest, image, rng } = this.ctx
    // What a unit reads, how long it compiles and how much heap it takes are properties of the
    // source tree, the same in every VM; only a little timing noise is the VM's own.
    const tree = new Rng(SRC_CONTENT, unit)
    guest.mapText(this.ctx.imageFile(image.tool.gcc))
    guest.mapText(this.ctx.imageFile(image.tool.cc1))
    guest.readFile(this.srcFiles[unit], 0, this.srcSize[unit])
    for (let i = 0; i < this.p.headers_per_unit; i++) {
      // Popular headers first: a power law over the header set.
      const h = Math.floor(this.p.headers * Math.pow(tree.float(), HEADER_SKEW))
      const f = this.hdrFiles[h]
      guest.readFile(f, 0, guest.files.sizePages[f])
    }
    const jitter = 1 + TIMING_NOISE * (2 * rng.float() - 1)
    const quanta = Math.max(1, Math.round((this.p.unit_cpu_s * (0.5 + tree.float()) * jitter) / QUANTUM_S))
    const heapTarget = Math.max(16, tree.lognormalInt(this.p.heap_mib * 256, HEAP_SPREAD))
    // mkstemp: a random name, different in each VM.
    const asmFile = guest.files.add(pathId(NS_TMP, rng.u32() & PATH_INDEX_MASK), hash32(ASM_CONTENT, unit), 1, false)
    return { unit, quanta, left: quanta, heapTarget, heap: new Int32Array(heapTarget), heapLen: 0, asmFile, asmWritten: false }
  }

  private runJob(job: Job): void {
    const ctx = this.ctx
    job.left--
    const elapsed = job.quanta - job.left
    // cc1's heap grows over the first 60 % of the unit and is partly rewritten each quantum.
    const want = Math.min(job.heapTarget, Math.ceil((job.heapTarget * elapsed) / Math.max(1, job.quanta * 0.6)))
    while (job.heapLen < want) {
      const g = job.heapLen % HEAP_ZERO_EVERY === 0 ? ctx.guest.allocZero() : ctx.allocUniqueAnon()
      if (g < 0) break
      job.heap[job.heapLen++] = g
    }
    const churn = Math.floor(job.heapLen * HEAP_CHURN_PER_QUANTUM)
    for (let i = 0; i < churn; i++) ctx.writeUnique(job.heap[ctx.rng.int(job.heapLen)])
    if (!job.asmWritten && elapsed >= job.quanta * 0.7) {
      job.asmWritten = true
      ctx.guest.writeFile(job.asmFile, 0, this.srcSize[job.unit] * 3, 1)
    }
  }

  private finishUnit(job: Job): void {
    const { guest } = this.ctx
    for (let i = 0; i < job.heapLen; i++) guest.freePage(job.heap[i])
    guest.mapText(this.ctx.imageFile(this.ctx.image.tool.as))
    const asmPages = this.srcSize[job.unit] * 3
    if (!job.asmWritten) guest.writeFile(job.asmFile, 0, asmPages, 1)
    guest.readFile(job.asmFile, 0, asmPages)
    guest.writeFile(this.objFiles[job.unit], 0, this.srcSize[job.unit] * 2, 1)
    guest.deleteFile(job.asmFile)
    this.finished++
    this.dirObjs.push(job.unit)
    if (this.dirObjs.length >= UNITS_PER_DIR || this.finished === this.p.units) this.linkDir()
  }

  /** ld -r of a directory's objects into built-in.o (same path and bytes in every VM). */
  private linkDir(): void {
    const { guest, image } = this.ctx
    guest.mapText(this.ctx.imageFile(image.tool.ld))
    let pages = 0
    for (const u of this.dirObjs) {
      const f = this.objFiles[u]
      guest.readFile(f, 0, guest.files.sizePages[f])
      pages += guest.files.sizePages[f]
    }
    const dir = this.dirCount++
    const out = guest.files.add(pathId(NS_KBUILD_OBJ, this.p.units + dir), hash32(OBJ_CONTENT, dir, 2), 1, false)
    guest.writeFile(out, 0, Math.max(1, pages >> 1), 1)
    this.dirObjs.length = 0
  }
}
