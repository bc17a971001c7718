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

export class BootWorkload implements Workload {
  readonly kind = 'boot'
  private readonly plan: StepPlan

  constructor(ctx: VmContext, real?: RealBootFiles) {
    const steps: (() => void)[] = []
    if (real && !real.modelMemory) pushRealFiles(ctx, real.files, steps)
    else this.modelBoot(ctx, steps, real)
    this.plan = new StepPlan(steps, BOOT_WORK_S)
  }

  private modelBoot(ctx: VmContext, steps: (() => void)[], real: RealBootFiles | undefined): void {
    const { guest, image, rng, salt } = ctx
    const kernelShared = image.kernelSharedPages
    for (let i = 0; i < image.kernelPages; i++) {
      steps.push(i < kernelShared ? () => void ctx.allocSharedAnon(image.contentBase, 0x6b, i, PT_KERNEL) : () => void ctx.allocUniqueAnon(PT_KERNEL))
    }
    // Zeroed kernel tables (page tables, hash tables, per-cpu areas): allocated zero, kept.
    for (let i = 0; i < image.bootZeroPages; i++) steps.push(() => void guest.allocZero(PT_KERNEL))
    // Early buffers (initramfs, init sections) are touched now and freed at the end.
    const early: number[] = []
    for (let i = 0; i < image.bootEarlyPages; i++) {
      steps.push(() => {
        const g = ctx.allocUniqueAnon()
        if (g >= 0) early.push(g)
      })
    }
    // Executables and libraries (text), then data files (page cache), interleaved like a boot.
    if (real) pushRealFiles(ctx, real.files, steps)
    const text = real ? [] : image.bootText.slice()
    const read = real ? [] : image.bootRead.slice()
    while (text.length > 0 || read.length > 0) {
      const takeText = read.length === 0 || (text.length > 0 && rng.chance(0.4))
      const idx = takeText ? (text.shift() as number) : (read.shift() as number)
      const file = ctx.imageFile(idx)
      steps.push(takeText ? () => void guest.mapText(file) : () => void guest.readFile(file, 0, guest.files.sizePages[file]))
    }
    // Daemon heaps and stacks: some pages identical in every VM, some still zero, the rest own.
    for (let i = 0; i < image.daemonPages; i++) {
      if (i < image.daemonSharedPages) steps.push(() => void ctx.allocSharedAnon(image.contentBase, 0xd4, i))
      else if (i < image.daemonSharedPages + image.daemonZeroPages) steps.push(() => void guest.allocZero())
      else steps.push(() => void ctx.allocUniqueAnon())
    }
    // Per-VM files at common paths: same path in every VM, bytes of this VM.
    for (let i = 0; i < image.perVmFiles; i++) {
      const size = 1 + (i % 4)
      const file = guest.files.add(pathId(NS_VAR, i), (salt ^ (0x7a11 + i)) >>> 0, size, false)
      steps.push(() => guest.writeFile(file, 0, size, 1))
    }
    steps.push(() => {
      for (const g of early) guest.freePage(g)
      early.length = 0
    })
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
function pushRealFiles(ctx: VmContext, files: Int32Array, steps: (() => void)[]): void {
  const guest = ctx.guest
  for (const file of files) {
    steps.push(guest.files.isText[file] ? () => void guest.mapText(file) : () => void guest.readFile(file, 0, guest.files.sizePages[file]))
  }
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
