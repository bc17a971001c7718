/**
 * Small workloads: idle (daemons touching a few log pages), and the two micro-benchmarks of the
 * paper's Figure 1 (after Wood et al.): mem-micro rewrites pages of a working set over and over,
 * cpu-micro computes with little memory change. Both do a fixed amount of work (`work_s` at full
 * speed), so their run time grows when the host is oversubscribed.
 */
import { NS_VAR, pathId } from './paths.ts'
import { QUANTUM_S, type VmContext, type Workload } from './workload.ts'

export class BootOnlyWorkload implements Workload {
  readonly kind = 'boot'
  cpuDemand(): number {
    return 0
  }
  step(): void {}
  done(): boolean {
    return true
  }
  progress(): number {
    return 1
  }
}

/** Log files rotated by idle daemons: same paths in every VM, each VM's own lines. */
const IDLE_LOG_INDEX = 1000
/** Log pages before logrotate. */
const IDLE_LOG_PAGES = 256

export class IdleWorkload implements Workload {
  readonly kind = 'idle'
  private readonly log: number
  private credit = 0
  private offset = 0
  /** logrotate generation: the version of every page written since the last rotation. */
  private gen = 1

  constructor(
    private readonly ctx: VmContext,
    private readonly pagesPerS: number
  ) {
    this.log = ctx.guest.files.add(pathId(NS_VAR, IDLE_LOG_INDEX), (ctx.salt ^ 0x1095) >>> 0, 1, false)
  }

  cpuDemand(): number {
    return 0.01
  }

  step(): void {
    this.credit += this.pagesPerS * QUANTUM_S
    while (this.credit >= 1) {
      this.credit--
      // Appended log pages keep their bytes; after LOG_PAGES the log is rotated (a file of the
      // same path with new bytes), so a page evicted and read again still holds what was written.
      if (this.offset === IDLE_LOG_PAGES) {
        this.ctx.guest.deleteFile(this.log)
        this.offset = 0
        this.gen++
      }
      this.ctx.guest.writeFile(this.log, this.offset++, 1, this.gen)
    }
  }

  done(): boolean {
    return false
  }

  progress(): number {
    return 0
  }
}

export class MemMicroWorkload implements Workload {
  readonly kind = 'mem-micro'
  private readonly pages: number[] = []
  private readonly sharedPages: number
  private quanta = 0
  private readonly totalQuanta: number
  private credit = 0

  constructor(
    private readonly ctx: VmContext,
    private readonly p: { working_set_mib: number; writes_per_s: number; shared_fraction: number; work_s: number }
  ) {
    const n = Math.round(p.working_set_mib * 256)
    this.sharedPages = Math.round(n * p.shared_fraction)
    for (let i = 0; i < n; i++) {
      const g = i < this.sharedPages ? ctx.allocSharedAnon(0x3e3, 1, i) : ctx.allocUniqueAnon()
      if (g < 0) break
      this.pages.push(g)
    }
    this.totalQuanta = Math.max(1, Math.round(p.work_s / QUANTUM_S))
  }

  cpuDemand(): number {
    return this.done() ? 0 : 1
  }

  step(): void {
    if (this.done()) return
    this.quanta++
    this.credit += this.p.writes_per_s * QUANTUM_S
    const n = this.pages.length
    if (n === 0) return
    const rng = this.ctx.rng
    while (this.credit >= 1) {
      this.credit--
      const i = rng.int(n)
      // Shared pages are rewritten with the same bytes (a write still faults on a merged page);
      // the others get new bytes.
      if (i < this.sharedPages) this.ctx.writeShared(this.pages[i], 0x3e3, 1, i)
      else this.ctx.writeUnique(this.pages[i])
    }
  }

  done(): boolean {
    return this.quanta >= this.totalQuanta
  }

  progress(): number {
    return this.quanta / this.totalQuanta
  }
}

export class CpuMicroWorkload implements Workload {
  readonly kind = 'cpu-micro'
  private quanta = 0
  private readonly totalQuanta: number
  private readonly heap: number[] = []

  constructor(
    private readonly ctx: VmContext,
    p: { heap_mib: number; work_s: number }
  ) {
    const n = Math.round(p.heap_mib * 256)
    for (let i = 0; i < n; i++) {
      const g = ctx.allocUniqueAnon()
      if (g < 0) break
      this.heap.push(g)
    }
    this.totalQuanta = Math.max(1, Math.round(p.work_s / QUANTUM_S))
  }

  cpuDemand(): number {
    return this.done() ? 0 : 1
  }

  step(): void {
    if (this.done()) return
    this.quanta++
    // A stack page or two is dirtied per quantum.
    if (this.heap.length > 0) this.ctx.writeUnique(this.heap[this.quanta % this.heap.length])
  }

  done(): boolean {
    return this.quanta >= this.totalQuanta
  }

  progress(): number {
    return this.quanta / this.totalQuanta
  }
}
