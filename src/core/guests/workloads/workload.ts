/**
 * Workloads are seeded generators of guest activity in simulated work time. A workload runs in
 * quanta of QUANTUM_S seconds of its vCPU time; a lane gives a VM's workload quanta as the VM gets
 * CPU, so the sequence of events is the same in every lane whatever the scanner (only the
 * simulated time at which a quantum runs may differ, when a scanner slows the guests).
 */
import { synthFp, ZERO_FP_HI } from '../../machine/content.ts'
import { FileTable, GuestOS, PT_ANON } from '../guest.ts'
import { hash32, Rng } from '../../machine/rng.ts'
import { type ImageModel } from './images.ts'
import { pathId, PathNames } from './paths.ts'

/** Work time per quantum, seconds. */
export const QUANTUM_S = 0.05

export interface Workload {
  readonly kind: string
  /** vCPUs kept busy while running (0 when done or idle). */
  cpuDemand(): number
  /** Run one quantum of work. */
  step(): void
  done(): boolean
  /** Fraction of the work done, 0..1. */
  progress(): number
}

/** What a workload may use of its VM. */
export class VmContext {
  readonly fp = new Uint32Array(2)
  private uniqueCounter = 0
  /**
   * Content no other page has: (uniqueHi, counter). uniqueHi is this VM's own 32-bit value, so
   * the pair is unique to the VM and cheap to make (this is the hottest write path).
   */
  private readonly uniqueHi: number
  /** Image file index -> file id in the guest's file table. */
  private readonly imageFiles: Int32Array
  /** Real path names of the lane (shared by its VMs, so equal paths get equal ids). */
  paths = new PathNames()
  /** Files of the real image the VM booted from (`image_file`): path -> file id. */
  realFiles = new Map<string, number>()
  /** The VM started from a memory snapshot (its pages are at the traced guest's gfns). */
  fromSnapshot = false

  constructor(
    readonly vmIndex: number,
    readonly guest: GuestOS,
    readonly rng: Rng,
    /** Content salt of this VM: content drawn with it is unique to the VM. */
    readonly salt: number,
    readonly image: ImageModel,
    readonly vcpus: number
  ) {
    let hi = hash32(salt, 0x0a11)
    if (hi === ZERO_FP_HI) hi ^= 1
    this.uniqueHi = hi
    const files: FileTable = guest.files
    this.imageFiles = new Int32Array(image.files.length)
    for (const f of image.files) {
      this.imageFiles[f.index] = files.add(pathId(image.ns, f.index), hash32(image.contentBase, f.index), f.sizePages, f.text)
    }
  }

  imageFile(index: number): number {
    return this.imageFiles[index]
  }

  /** A fresh anonymous page whose content no other page has. */
  allocUniqueAnon(type = PT_ANON): number {
    return this.guest.allocAnon(this.uniqueHi, ++this.uniqueCounter, type)
  }

  /** Rewrite a page with content no other page has. */
  writeUnique(gfn: number): void {
    this.guest.writePage(gfn, this.uniqueHi, ++this.uniqueCounter)
  }

  /** An anonymous page whose content is the same in every VM that uses the same key. */
  allocSharedAnon(k0: number, k1: number, k2: number, type = PT_ANON): number {
    synthFp(this.fp, k0, k1, k2, 0x5a4ed)
    return this.guest.allocAnon(this.fp[0], this.fp[1], type)
  }

  writeShared(gfn: number, k0: number, k1: number, k2: number): void {
    synthFp(this.fp, k0, k1, k2, 0x5a4ed)
    this.guest.writePage(gfn, this.fp[0], this.fp[1])
  }
}

/**
 * A numbered list of page-sized steps spread evenly over a fixed amount of work time: step i is
 * `run(i)`. The steps are numbers, not closures, so a boot of many VMs does not allocate an
 * object per page (docs/performance.md, warm-up).
 */
export class StepPlan {
  private i = 0
  private readonly perQuantum: number

  constructor(
    private readonly count: number,
    workSeconds: number,
    private readonly run: (i: number) => void
  ) {
    this.perQuantum = Math.max(1, Math.ceil(count / Math.max(1, Math.round(workSeconds / QUANTUM_S))))
  }

  runQuantum(): void {
    const end = Math.min(this.count, this.i + this.perQuantum)
    for (; this.i < end; this.i++) this.run(this.i)
  }

  get done(): boolean {
    return this.i >= this.count
  }

  get progress(): number {
    return this.count === 0 ? 1 : this.i / this.count
  }
}
