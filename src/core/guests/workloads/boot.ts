/**
 * Boot of an OS image: the kernel sets itself up (kernel memory, part of it identical in every
 * VM of the same kernel), init and the daemons start (their executables and libraries mapped as
 * text, configuration and data files read into the page cache, heaps and stacks allocated: about
 * a fifth identical across VMs, as the paper's Figure 2 reports for "other" pages), per-VM files
 * are written (hostname, keys, logs: same path, own content), zeroed kernel tables stay zero,
 * and early memory is freed again (keeping its bytes). Sizes: images.ts and docs/model.md.
 *
 * A VM booting from a real image (`image_file`) loads that image's files instead of the model's:
 * in the image's order, ELF files mapped as text, the others read into the page cache. The
 * model's kernel memory, heaps and per-VM files come along unless `modelMemory` is false (the
 * image's files alone: a static image).
 */
import { PT_KERNEL } from '../guest.ts'
import { pathId, NS_VAR } from './paths.ts'
import { StepPlan, type VmContext, type Workload } from './workload.ts'

/** Work time a boot takes at full speed (a 2014 Debian guest: about half a minute). */
export const BOOT_WORK_S = 30

/** A real image's files to load at boot: guest file ids, in load order. */
export interface RealBootFiles {
  files: Int32Array
  modelMemory: boolean
}

/**
 * Boot steps, one per page-sized piece of work, coded as (op, arg) pairs in typed arrays rather
 * than one closure per page: a boot of 64 VMs x 512 MiB has millions of steps, and closures made
 * the warm-up mostly garbage collection (docs/performance.md).
 */
const OP_KERNEL_SHARED = 0 // arg: page index in the kernel's shared part
const OP_KERNEL_OWN = 1
const OP_KERNEL_ZERO = 2
const OP_EARLY = 3 // an early buffer page, freed at OP_FREE_EARLY
const OP_TEXT = 4 // arg: file id, mapped whole as text
const OP_READ = 5 // arg: file id, read whole into the page cache
const OP_DAEMON_SHARED = 6 // arg: page index in the daemons' shared part
const OP_ZERO = 7
const OP_OWN = 8
const OP_WRITE = 9 // arg: file id, written whole (version 1)
const OP_FREE_EARLY = 10

/** A growable list of (op, arg) steps. */
class BootProgram {
  ops = new Uint8Array(1024)
  args = new Int32Array(1024)
  length = 0

  push(op: number, arg = 0): void {
    if (this.length === this.ops.length) {
      const ops = new Uint8Array(this.length * 2)
      ops.set(this.ops)
      const args = new Int32Array(this.length * 2)
      args.set(this.args)
      this.ops = ops
      this.args = args
    }
    this.ops[this.length] = op
    this.args[this.length++] = arg
  }

  repeat(op: number, count: number): void {
    for (let i = 0; i < count; i++) this.push(op, i)
  }
}

export class BootWorkload implements Workload {
  readonly kind = 'boot'
  private readonly plan: StepPlan
  private readonly prog = new BootProgram()
  /** Early buffers (initramfs, init sections): touched during boot, freed at its end. */
  private early: number[] = []

  constructor(
    private readonly ctx: VmContext,
    real?: RealBootFiles
  ) {
    if (real && !real.modelMemory) pushRealFiles(ctx, real.files, this.prog)
    else this.modelBoot(ctx, real)
    this.plan = new StepPlan(this.prog.length, BOOT_WORK_S, (i) => this.exec(this.prog.ops[i], this.prog.args[i]))
  }

  private modelBoot(ctx: VmContext, real: RealBootFiles | undefined): void {
    const { guest, image, rng, salt } = ctx
    const prog = this.prog
    const kernelShared = image.kernelSharedPages
    for (let i = 0; i < image.kernelPages; i++) prog.push(i < kernelShared ? OP_KERNEL_SHARED : OP_KERNEL_OWN, i)
    // Zeroed kernel tables (page tables, hash tables, per-cpu areas): allocated zero, kept.
    prog.repeat(OP_KERNEL_ZERO, image.bootZeroPages)
    // Early buffers (initramfs, init sections) are touched now and freed at the end.
    prog.repeat(OP_EARLY, image.bootEarlyPages)
    // Executables and libraries (text), then data files (page cache), interleaved like a boot.
    if (real) pushRealFiles(ctx, real.files, prog)
    const text = real ? [] : image.bootText.slice()
    const read = real ? [] : image.bootRead.slice()
    let ti = 0
    let ri = 0
    while (ti < text.length || ri < read.length) {
      const takeText = ri >= read.length || (ti < text.length && rng.chance(0.4))
      const idx = takeText ? text[ti++] : read[ri++]
      prog.push(takeText ? OP_TEXT : OP_READ, ctx.imageFile(idx))
    }
    // Daemon heaps and stacks: some pages identical in every VM, some still zero, the rest own.
    for (let i = 0; i < image.daemonPages; i++) {
      if (i < image.daemonSharedPages) prog.push(OP_DAEMON_SHARED, i)
      else prog.push(i < image.daemonSharedPages + image.daemonZeroPages ? OP_ZERO : OP_OWN)
    }
    // Per-VM files at common paths: same path in every VM, bytes of this VM.
    for (let i = 0; i < image.perVmFiles; i++) {
      const size = 1 + (i % 4)
      prog.push(OP_WRITE, guest.files.add(pathId(NS_VAR, i), (salt ^ (0x7a11 + i)) >>> 0, size, false))
    }
    prog.push(OP_FREE_EARLY)
  }

  private exec(op: number, arg: number): void {
    const ctx = this.ctx
    const guest = ctx.guest
    switch (op) {
      case OP_KERNEL_SHARED:
        ctx.allocSharedAnon(ctx.image.contentBase, 0x6b, arg, PT_KERNEL)
        return
      case OP_KERNEL_OWN:
        ctx.allocUniqueAnon(PT_KERNEL)
        return
      case OP_KERNEL_ZERO:
        guest.allocZero(PT_KERNEL)
        return
      case OP_EARLY: {
        const g = ctx.allocUniqueAnon()
        if (g >= 0) this.early.push(g)
        return
      }
      case OP_TEXT:
        guest.mapText(arg)
        return
      case OP_READ:
        guest.readFile(arg, 0, guest.files.sizePages[arg])
        return
      case OP_DAEMON_SHARED:
        ctx.allocSharedAnon(ctx.image.contentBase, 0xd4, arg)
        return
      case OP_ZERO:
        guest.allocZero()
        return
      case OP_OWN:
        ctx.allocUniqueAnon()
        return
      case OP_WRITE:
        guest.writeFile(arg, 0, guest.files.sizePages[arg], 1)
        return
      case OP_FREE_EARLY:
        for (const g of this.early) guest.freePage(g)
        this.early = []
        return
    }
  }

  cpuDemand(): number {
    return this.plan.done ? 0 : 1
  }

  step(): void {
    this.plan.runQuantum()
  }

  done(): boolean {
    return this.plan.done
  }

  progress(): number {
    return this.plan.progress
  }
}

/** One step per real file: ELF files mapped as text, the others read whole into the page cache. */
function pushRealFiles(ctx: VmContext, files: Int32Array, prog: BootProgram): void {
  const guest = ctx.guest
  for (const file of files) prog.push(guest.files.isText[file] ? OP_TEXT : OP_READ, file)
}

/**
 * Start from a memory snapshot: the host restores the dump's pages into the VM (GuestOS
 * loadSnapshot) in the first quantum; nothing else boots.
 */
export class SnapshotBoot implements Workload {
  readonly kind = 'snapshot'
  private loaded = false

  constructor(
    private readonly ctx: VmContext,
    private readonly extents: readonly { gfn: number; fps: Uint32Array }[]
  ) {}

  cpuDemand(): number {
    return this.loaded ? 0 : 1
  }

  step(): void {
    if (this.loaded) return
    this.ctx.guest.loadSnapshot(this.extents)
    this.loaded = true
  }

  done(): boolean {
    return this.loaded
  }

  progress(): number {
    return this.loaded ? 1 : 0
  }
}
