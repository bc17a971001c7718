/**
 * A lane: one host running the experiment's VMs and workloads with one scanner. Lanes of an
 * experiment share nothing; their guests get the same seeds, so they go through the same
 * events, and only their pace may differ where a scanner slows them.
 *
 * Time advances in ticks of TICK_S. In each tick every started VM gets CPU time (less what the
 * host takes from it: CoW faults and VM exits, and the share the scanner takes when the cores are
 * oversubscribed), runs the workload quanta that time pays for, and then the scanner thread runs
 * every wake-up due in the tick.
 */
import { checkMemoryInvariants } from './invariants.ts'
import type { Experiment, LaneConfig, VmConfig } from './config.ts'
import { pagesToScan } from './config.ts'
import { CPU_PROFILES, type CpuProfile, type OpName } from '../machine/cost.ts'
import { AttributeTable } from '../machine/attributes.ts'
import { fig2Category, GuestOS, PT_FREE, type AttributeSink, type DiskIoSink } from '../guests/guest.ts'
import { HintStack } from '../machine/hintstack.ts'
import { FLAG_SHARED, FLAG_ZERO, HostMemory } from '../machine/memory.ts'
import { METRIC_COLUMNS, METRIC_INDEX, Series } from './metrics.ts'
import { hash32, Rng } from '../machine/rng.ts'
import { EV_FULL_SCAN, EV_HINTS_DROPPING, EV_VM_BOOTED, EV_VM_STARTED, EV_WORKLOAD_DONE, EventLog } from './events.ts'
import { vmShares, VmShareHistory, VmShareScratch, type LaneVmShares, type VmShareInput } from './vmshares.ts'
export { InvariantError } from './invariants.ts'
import { EsxScanner } from '../scanners/esx.ts'
import { HintScanner } from '../scanners/hint.ts'
import { HybridScanner } from '../scanners/hybrid.ts'
import { KsmScanner } from '../scanners/ksm.ts'
import { NoScanner } from '../scanners/none.ts'
import type { Scanner } from '../scanners/scanner.ts'
import { SatoriScanner } from '../scanners/satori.ts'
import { XlhScanner } from '../scanners/xlh.ts'
import { StableTree, type TenantSetup } from '../machine/stable.ts'
import type { Assets } from './assets.ts'
import type { ImageIndex } from '../formats/image.ts'
import { BootWorkload, SnapshotBoot } from '../guests/workloads/boot.ts'
import { PathNames } from '../guests/workloads/paths.ts'
import { TraceWorkload } from '../guests/workloads/trace.ts'
import { imageModel } from '../guests/workloads/images.ts'
import { BootOnlyWorkload, CpuMicroWorkload, IdleWorkload, MemMicroWorkload } from '../guests/workloads/micro.ts'
import { KernelBuildWorkload } from '../guests/workloads/kernelbuild.ts'
import { FileCasesWorkload } from '../guests/workloads/cases.ts'
import { OfficeDocsWorkload } from '../guests/workloads/office.ts'
import { WebAppWorkload } from '../guests/workloads/webapp.ts'
import { QUANTUM_S, VmContext, type Workload } from '../guests/workloads/workload.ts'

export const TICK_S = 0.01
/** sizeof(struct ksm_rmap_item) on 64-bit (Documentation/admin-guide/mm/ksm.rst, general_profit). */
const RMAP_ITEM_BYTES = 64
/** Warm-up limit: a boot that has not finished after this much simulated time is an error. */
const WARMUP_BOOT_LIMIT_S = 3600
/** Warm-up sharing limit, in scanned pages per guest page. */
const SETTLE_SCANS_PER_PAGE = 12

/**
 * countTypes' table: index (guest page type << 2 | FLAG_ZERO | FLAG_SHARED) -> 2 x Figure 2
 * category + 1 if shared; free pages go to slot 8, which is not reported (Figure 2 counts
 * allocated pages only).
 */
const CATEGORY_SLOT = (() => {
  const t = new Uint8Array(32)
  for (let type = 0; type < 8; type++) {
    for (let fl = 0; fl < 4; fl++) {
      t[(type << 2) | fl] = type === PT_FREE ? 8 : 2 * fig2Category(type, (fl & FLAG_ZERO) !== 0) + ((fl & FLAG_SHARED) !== 0 ? 1 : 0)
    }
  }
  return t
})()

const QUANTUM_BOOTED = 1
const QUANTUM_DONE = 2

class VmRun {
  started = false
  booted = false
  workClock = 0
  nextQuantum = QUANTUM_S
  main: Workload | null = null
  readonly boot: Workload
  /** Simulated time at which the main workload finished, or -1. */
  doneAt = -1

  constructor(
    readonly cfg: VmConfig,
    readonly ctx: VmContext,
    private readonly assets: Assets | undefined
  ) {
    const snap = cfg.snapshot_file !== undefined ? assets?.get(cfg.snapshot_file) : undefined
    const image = cfg.image_file !== undefined ? assets?.get(cfg.image_file) : undefined
    if (snap?.kind === 'snapshot') {
      ctx.fromSnapshot = true
      this.boot = new SnapshotBoot(ctx, snap.snapshot.extents)
    } else if (image?.kind === 'image') {
      this.boot = new BootWorkload(ctx, { files: loadRealImage(ctx, image.index, cfg.working_set, cfg.memory_mib * 256), modelMemory: cfg.model_memory ?? true })
    } else {
      this.boot = new BootWorkload(ctx)
    }
  }

  get guest(): GuestOS {
    return this.ctx.guest
  }

  current(): Workload | null {
    return this.booted ? this.main : this.boot
  }

  cpuDemand(): number {
    const w = this.current()
    return w ? Math.min(this.cfg.vcpus, w.cpuDemand()) : 0
  }

  /** Run one workload quantum; returns QUANTUM_BOOTED or QUANTUM_DONE when that happened in it, else 0. */
  runQuantum(t: number): number {
    if (!this.booted) {
      this.boot.step()
      if (this.boot.done()) {
        this.booted = true
        this.main = makeWorkload(this.cfg, this.ctx, this.assets)
        return QUANTUM_BOOTED
      }
      return 0
    }
    const w = this.main as Workload
    if (!w.done()) {
      w.step()
      if (w.done() && this.doneAt < 0) {
        this.doneAt = t
        return QUANTUM_DONE
      }
    }
    return 0
  }
}

/**
 * Registers every file of a real image in the guest's file table at its real path (ids shared
 * by the lane's VMs) and returns those the boot loads: the working set's, or all, in image order,
 * up to the VM's memory: a guest cannot cache more than it has, and a boot that read a 1 GB image
 * (128 Mi pages) into a 1 GiB VM only churned its page cache at 5.5 GB of host memory (issue 13).
 */
export function loadRealImage(ctx: VmContext, index: ImageIndex, workingSet: string[] | undefined, vmPages: number): Int32Array {
  const files = ctx.guest.files
  for (const f of index.files) ctx.realFiles.set(f.path, files.addReal(ctx.paths.id(f.path), f.fps, f.elf))
  const want = workingSet ? new Set(workingSet) : null
  const boot: number[] = []
  let pages = 0
  for (const f of index.files) {
    if (f.size === 0 || (want && !want.has(f.path))) continue
    pages += f.fps.length / 2
    if (pages > vmPages) break
    boot.push(ctx.realFiles.get(f.path) as number)
  }
  return Int32Array.from(boot)
}

function makeWorkload(cfg: VmConfig, ctx: VmContext, assets: Assets | undefined): Workload {
  const w = cfg.workload
  switch (w.kind) {
    case 'trace': {
      const a = assets?.get(w.file)
      if (a?.kind !== 'trace') throw new Error(`vms[${ctx.vmIndex}].workload.file: ${w.file} was not loaded`)
      return new TraceWorkload(ctx, a.trace, w.vm ?? cfg.name, w.cpu)
    }
    case 'boot':
      return new BootOnlyWorkload()
    case 'idle':
      return new IdleWorkload(ctx, w.activity_pages_per_s)
    case 'kernel-build':
      return new KernelBuildWorkload(ctx, w)
    case 'mem-micro':
      return new MemMicroWorkload(ctx, w)
    case 'cpu-micro':
      return new CpuMicroWorkload(ctx, w)
    case 'file-cases':
      return new FileCasesWorkload(ctx, w)
    case 'office-docs':
      return new OfficeDocsWorkload(ctx, w)
    case 'web-app':
      return new WebAppWorkload(ctx, w, cfg.tenant)
  }
}

/** Stream of the ESX scanner's sampling generator (the lane's seed, this stream). */
const ESX_RNG_STREAM = 0xe5c

/** ESX shared frames have a reference count, no mapping limit (Waldspurger 2002, section 3.2). */
const ESX_NO_SHARING_LIMIT = 2 ** 30

/** ESXi 6.0+'s default salting: every VM its own salt, so no page is shared between VMs. */
function perVmSalt(vms: readonly VmConfig[]): TenantSetup | null {
  if (vms.length < 2) return null
  const of = new Uint8Array(vms.reduce((s, v) => s + v.memory_mib * 256, 0))
  let base = 0
  vms.forEach((v, i) => {
    of.fill(i, base, base + v.memory_mib * 256)
    base += v.memory_mib * 256
  })
  return { of, count: vms.length, isolate: true }
}

/**
 * Tenant index per guest page (tenants numbered by first appearance among the VMs), or null
 * when every VM has the same tenant.
 */
export function tenantSetup(vms: readonly VmConfig[], isolate: boolean): TenantSetup | null {
  const index = new Map<string, number>()
  for (const v of vms) if (!index.has(v.tenant)) index.set(v.tenant, index.size)
  if (index.size < 2) return null
  const of = new Uint8Array(vms.reduce((s, v) => s + v.memory_mib * 256, 0))
  let base = 0
  for (const v of vms) {
    const n = v.memory_mib * 256
    of.fill(index.get(v.tenant) as number, base, base + n)
    base += n
  }
  return { of, count: index.size, isolate }
}

/**
 * Disk image per VM for Satori, numbered by first appearance: a real image file (by the path the
 * config names) or else the VM's image model. VMs with equal numbers boot copy-on-write overlays
 * of one base image; a snapshot VM's later file reads come from its image model's disk.
 */
export function diskImageIds(vms: readonly VmConfig[]): Int32Array {
  const ids = new Map<string, number>()
  return Int32Array.from(vms, (v) => {
    const key = v.image_file !== undefined ? `file:${v.image_file}` : `model:${v.image}`
    if (!ids.has(key)) ids.set(key, ids.size)
    return ids.get(key) as number
  })
}

export class Lane implements AttributeSink, DiskIoSink {
  readonly mem: HostMemory
  readonly stable: StableTree
  readonly scanner: Scanner
  readonly hints: HintStack | null
  readonly attrs: AttributeTable | null
  readonly vms: VmRun[] = []
  readonly cost: CpuProfile
  readonly cores: number
  readonly totalPages: number
  readonly series = new Series()
  /** What happened when (events.ts), in simulated time from t = 0. */
  readonly events = new EventLog()
  /** Hints dropped when the last drop was seen, and when (-Infinity: none since t = 0). */
  private dropsSeen = 0
  private lastDropT = -Infinity
  /** Simulated time, seconds. */
  t = 0
  /** Ticks since t = 0 (t is derived from it, so no rounding error accumulates). */
  private ticks = 0
  private nextSample: number
  private samplesTaken = 0
  private lastSampleT = 0
  private lastSampleCpuNs = 0
  /** Scanner CPU time (s) done at wake-ups but not yet spread over ticks: ksmd is busy then. */
  private scannerBusyCarry = 0
  private readonly row = new Float64Array(METRIC_COLUMNS.length)
  private readonly typeCounts = new Float64Array(9)
  private readonly vmBase: Int32Array
  /** Counters at t = 0, so that event counts cover the measured run only. */
  private base = { cpuNs: 0, pages_scanned: 0, full_scans: 0, cow: 0, exits: 0, pushed: 0, popped: 0, dropped: 0, skipped: 0, pagesSharing: 0 }
  /** Each VM's CoW faults at t = 0. */
  private cowBase: Float64Array
  invariantsChecked = false
  private opsBase: Record<OpName, number>
  /** Satori lanes: the scanner, and each VM's disk image (equal ids: the same base image). */
  private readonly satori: SatoriScanner | null = null
  private readonly diskImage: Int32Array
  /** vmShares' working arrays, kept between calls. */
  private readonly shareScratch = new VmShareScratch()
  /** Per-VM figures recorded at samples (the app's paused view), when enabled. */
  vmHistory: VmShareHistory | null = null

  constructor(
    readonly exp: Experiment,
    readonly cfg: LaneConfig,
    checkInvariants: boolean,
    assets?: Assets
  ) {
    const file = exp.host.cpu_profile_file !== undefined ? assets?.get(exp.host.cpu_profile_file) : undefined
    const profile = file?.kind === 'cpu-profile' ? file.profile : CPU_PROFILES[exp.host.cpu_profile]
    this.cost = { ...profile, hz: exp.host.hz ?? profile.hz, timer_wheel: exp.host.timer_wheel ?? profile.timer_wheel }
    this.cores = exp.host.cores ?? this.cost.cores
    this.totalPages = exp.vms.reduce((s, v) => s + v.memory_mib * 256, 0)
    this.mem = new HostMemory(this.totalPages, checkInvariants)
    // Linux scanners update pages_shared / pages_sharing when they next visit a record; ESX and
    // Satori (no scanner revisits a record) at the fault.
    // ESX: no max_page_sharing (a shared frame takes any number of references), and its salt.
    const esx = cfg.scanner.kind === 'esx' ? cfg.scanner : null
    const maxSharing = esx ? ESX_NO_SHARING_LIMIT : cfg.scanner.max_page_sharing
    const tenants = esx?.salt === 'vm' ? perVmSalt(exp.vms) : tenantSetup(exp.vms, cfg.isolate_tenants || esx?.salt === 'tenant')
    this.stable = new StableTree(this.mem, maxSharing, cfg.scanner.stable_node_chains_prune_millisecs, tenants, !esx && cfg.scanner.kind !== 'satori')
    this.vmBase = new Int32Array(exp.vms.length + 1)
    let base = 0
    const paths = new PathNames()
    exp.vms.forEach((v, i) => {
      this.vmBase[i] = base
      base += v.memory_mib * 256
    })
    this.vmBase[exp.vms.length] = base
    this.cowBase = new Float64Array(exp.vms.length)
    const sc = cfg.scanner
    const rate = { pages_to_scan: pagesToScan(sc), sleep_millisecs: sc.sleep_millisecs }
    this.hints = null
    this.attrs = null
    switch (sc.kind) {
      case 'ksm': {
        const advisor =
          sc.advisor_mode === 'scan-time'
            ? { target_scan_time: sc.advisor_target_scan_time, max_cpu: sc.advisor_max_cpu, min_pages_to_scan: sc.advisor_min_pages_to_scan, max_pages_to_scan: sc.advisor_max_pages_to_scan }
            : null
        this.scanner = new KsmScanner(this.mem, this.stable, this.cost, { ...rate, use_zero_pages: sc.use_zero_pages, smart_scan: sc.smart_scan, advisor })
        break
      }
      case 'none':
        this.scanner = new NoScanner()
        break
      case 'hint':
        this.hints = new HintStack(sc.hint_stack_size)
        this.attrs = new AttributeTable(this.totalPages)
        this.scanner = new HintScanner(this.mem, this.stable, this.cost, this.hints, { ...rate, hash_table_size: sc.hash_table_size })
        break
      case 'xlh':
        this.hints = new HintStack(sc.hint_stack_size)
        this.scanner = new XlhScanner(this.mem, this.stable, this.cost, this.hints, { ...rate, hash_table_size: sc.hash_table_size, use_zero_pages: sc.use_zero_pages, smart_scan: sc.smart_scan, hint_ratio: sc.hint_ratio, linear_ratio: sc.linear_ratio })
        break
      case 'hybrid':
        this.hints = new HintStack(sc.hint_stack_size)
        this.attrs = new AttributeTable(this.totalPages)
        this.scanner = new HybridScanner(this.mem, this.stable, this.cost, this.hints, { ...rate, hash_table_size: sc.hash_table_size, use_zero_pages: sc.use_zero_pages, smart_scan: sc.smart_scan, ksm_share: sc.ksm_share })
        break
      case 'satori':
        this.satori = new SatoriScanner(this.mem, this.stable, this.cost, { hash_table_size: sc.hash_table_size })
        this.scanner = this.satori
        break
      case 'esx':
        this.scanner = new EsxScanner(this.mem, this.stable, this.cost, this.vmBase, new Rng(exp.seed, ESX_RNG_STREAM), { ...rate, hash_table_size: sc.hash_table_size, share_scan_time_s: sc.share_scan_time_s })
        break
    }
    const sink = this.scanner.wantsAttributes ? this : null
    const disk = sc.kind === 'xlh' || sc.kind === 'satori' ? this : null
    this.diskImage = diskImageIds(exp.vms)
    exp.vms.forEach((v, i) => {
      base = this.vmBase[i]
      const n = v.memory_mib * 256
      const guest = new GuestOS(i, base, n, this.mem, this.cost, sink)
      guest.diskSink = disk
      guest.notifyFrees = sc.kind === 'satori' && sc.free_page_hints
      guest.reportZeroPages = (sc.kind === 'hint' || sc.kind === 'hybrid') && sc.hint_zero_pages
      // The VM's stream depends on the seed and its index only: the same in every lane.
      const rng = new Rng(exp.seed, 0x1000 + i)
      const ctx = new VmContext(i, guest, rng, hash32(exp.seed, i, 0x5a17), imageModel(v.image), v.vcpus)
      ctx.paths = paths
      this.vms.push(new VmRun(v, ctx, assets))
    })
    this.nextSample = exp.sample_every_s
    this.opsBase = this.scanner.ops.snapshot()
  }

  /** The paper's hypercall handler: record the attribute; a match in another VM makes hints. */
  attribute(vm: number, gfn: number, pathIdValue: number, offset: number): void {
    const attrs = this.attrs as AttributeTable
    const hints = this.hints as HintStack
    const gp = this.vmBase[vm] + gfn
    const partner = attrs.set(gp, pathIdValue, offset, this.vmBase[vm], this.vmBase[vm + 1])
    // Under tenant isolation the hypervisor makes no hints it could never act on.
    if (partner < 0 || !this.stable.mayMerge(partner, gp)) return
    const pf = this.mem.pageFrame[partner]
    if (pf >= 0 && this.mem.ksmNode(pf) < 0) hints.push(partner)
    hints.push(gp)
  }

  /**
   * The host served a disk read into, or a write-back from, this guest page. XLH: a hint.
   * Satori: a read of a base-image block is shared with another VM holding it; a write moves the
   * file's blocks to the VM's overlay.
   */
  diskIo(vm: number, gfn: number, write: boolean): void {
    const gp = this.vmBase[vm] + gfn
    const sat = this.satori
    if (sat === null) {
      ;(this.hints as HintStack).push(gp)
      return
    }
    if (write) {
      sat.drop(gp)
      return
    }
    const g = this.vms[vm].guest
    const file = g.fileOf[gfn]
    if (g.files.overlay[file]) sat.overlayRead()
    else sat.blockRead(gp, this.diskImage[vm], g.files.pathId[file], g.offOf[gfn])
  }

  /** Satori's free-page enlightenment: the page no longer holds its block. */
  pageFreed(vm: number, gfn: number): void {
    ;(this.satori as SatoriScanner).drop(this.vmBase[vm] + gfn)
  }

  /** Boot the VMs that start at 0 and, if asked, let the scanner converge; then t = 0. */
  warmup(): void {
    while (!this.warmupSlice(Number.POSITIVE_INFINITY)) {
      // each slice runs to completion here
    }
  }

  /** Where the warm-up is: booting (ticks until every VM started at 0 is up), settling, done. */
  private warmupPhase: 'boot' | 'share' | 'done' | null = null
  private settleStart = 0
  private readonly bootVms: VmRun[] = []

  /**
   * Run at most `units` of warm-up work (boot ticks, or settle wake-ups) and return whether the
   * warm-up is complete. Slicing lets a host report progress and stop in the middle: the
   * result is the same however the warm-up is sliced (the same ticks and wake-ups in order).
   */
  warmupSlice(units: number): boolean {
    if (this.warmupPhase === 'done') return true
    if (this.warmupPhase === null) {
      for (const v of this.vms) if (v.cfg.start_s === 0) this.bootVms.push(v)
      if (this.exp.warmup.boot) this.warmupPhase = 'boot'
      else this.beginShare()
    }
    let n = 0
    if (this.warmupPhase === 'boot') {
      while (this.bootedVms() < this.bootVms.length) {
        if (n++ >= units) return false
        if (this.t > WARMUP_BOOT_LIMIT_S) throw new Error('warm-up: the VMs did not finish booting within an hour of simulated time')
        this.tick(true)
      }
      this.beginShare()
    }
    if (this.warmupPhase === 'share') {
      const limit = SETTLE_SCANS_PER_PAGE * Math.max(1, this.mem.presentPages)
      const s = this.scanner
      while (this.exp.warmup.share && !s.converged() && s.pages_scanned - this.settleStart < limit) {
        if (n++ >= units) return false
        const before = s.pages_scanned
        s.wake(this.t)
        if (s.pages_scanned === before && !s.converged()) break
      }
      this.endWarmup()
    }
    return true
  }

  /** VMs started at t = 0 that have booted (the warm-up's progress). */
  bootedVms(): number {
    let k = 0
    for (const v of this.bootVms) if (v.booted) k++
    return k
  }

  /**
   * How far the boot is, 0 to 1: the mean of the booting VMs' boot workloads' progress (a
   * booted VM counts 1). VMs started together boot together, so `bootedVms` stays 0 until
   * nearly the end; this moves all along. 1 once the boot is over (or when there is none).
   */
  bootFraction(): number {
    if (this.warmupPhase !== 'boot' && this.warmupPhase !== null) return 1
    if (this.bootVms.length === 0) return this.warmupPhase === null ? 0 : 1
    let sum = 0
    for (const v of this.bootVms) sum += v.booted ? 1 : Math.min(1, Math.max(0, v.boot.progress()))
    return sum / this.bootVms.length
  }

  /** VMs the warm-up boots (those started at t = 0), or 0 when it does not boot. */
  get warmupVms(): number {
    return this.exp.warmup.boot ? this.vms.filter((v) => v.cfg.start_s === 0).length : 0
  }

  /** The warm-up's phase: 'boot', 'share', or 'done' (null: not begun). */
  get warmupState(): 'boot' | 'share' | 'done' | null {
    return this.warmupPhase
  }

  private beginShare(): void {
    this.warmupPhase = 'share'
    if (!this.exp.warmup.share) return
    this.settleStart = this.scanner.pages_scanned
    this.scanner.beginSettle()
  }

  private endWarmup(): void {
    this.warmupPhase = 'done'
    this.t = 0
    this.ticks = 0
    this.scanner.nextWake = 0
    this.scanner.clockReset?.()
    this.scannerBusyCarry = 0
    this.base = {
      cpuNs: this.scanner.cpuNs,
      pages_scanned: this.scanner.pages_scanned,
      full_scans: this.scanner.full_scans,
      cow: this.mem.cowBreaks,
      exits: this.vmExits(),
      pushed: this.hints?.pushed ?? 0,
      popped: this.hints?.popped ?? 0,
      dropped: this.hints?.dropped ?? 0,
      skipped: this.scanner.pages_skipped,
      pagesSharing: this.stable.savedPages + this.stable.ksm_zero_pages
    }
    this.opsBase = this.scanner.ops.snapshot()
    this.lastSampleCpuNs = this.scanner.cpuNs
    this.lastSampleT = 0
    this.vms.forEach((v, i) => {
      this.cowBase[i] = v.guest.cowFaults
      // What the warm-up did is the state at t = 0.
      if (v.started) this.events.push(0, EV_VM_STARTED, i, -1)
      if (v.booted) this.events.push(0, EV_VM_BOOTED, i, -1)
      if (v.doneAt >= 0) this.events.push(0, EV_WORKLOAD_DONE, i, -1)
    })
    this.dropsSeen = this.hints?.dropped ?? 0
    this.lastDropT = -Infinity
  }

  /** Scanner operations per simulated second over the measured run (the calibration's input). */
  measuredOpsPerSecond(): Record<OpName, number> {
    const now = this.scanner.ops.snapshot()
    const out = { ...now }
    for (const k of Object.keys(now) as OpName[]) out[k] = this.t > 0 ? (now[k] - this.opsBase[k]) / this.t : 0
    return out
  }

  private vmExits(): number {
    let n = 0
    for (const v of this.vms) n += v.guest.vmExits
    return n
  }

  /** Advance one tick. During warm-up only VMs starting at 0 run. */
  tick(warmup = false): void {
    const t0 = this.t
    const t1 = (this.ticks + 1) * TICK_S
    // The scanner thread first: the model does a wake-up's work at once, but ksmd is busy for
    // the CPU time it took, so that time occupies a core over the following ticks.
    const s = this.scanner
    while (s.nextWake < t1) {
      const before = s.cpuNs
      const passes = s.full_scans
      const at = Math.max(s.nextWake, t0)
      s.wake(at)
      this.scannerBusyCarry += (s.cpuNs - before) * 1e-9
      if (!warmup) for (let p = passes; p < s.full_scans; p++) this.events.push(at, EV_FULL_SCAN, -1, p + 1 - this.base.full_scans)
    }
    const busy = Math.min(this.scannerBusyCarry, TICK_S)
    this.scannerBusyCarry -= busy
    const scannerUtil = busy / TICK_S
    let demand = 0
    for (let i = 0; i < this.vms.length; i++) {
      const v = this.vms[i]
      if (!v.started && !warmup && t0 >= v.cfg.start_s) {
        v.started = true
        this.events.push(t0, EV_VM_STARTED, i, -1)
      }
      if (warmup && v.cfg.start_s === 0) v.started = true
      if (v.started) demand += v.cpuDemand()
    }
    const avail = this.cores - scannerUtil
    const speed = demand <= avail ? 1 : Math.max(0, avail / demand)
    for (let i = 0; i < this.vms.length; i++) {
      const v = this.vms[i]
      if (!v.started) continue
      let work = TICK_S * speed
      const g = v.guest
      if (g.debtNs > 0) {
        const pay = Math.min(work, g.debtNs * 1e-9)
        work -= pay
        g.debtNs -= pay * 1e9
      }
      v.workClock += work
      while (v.workClock >= v.nextQuantum) {
        const happened = v.runQuantum(t1)
        v.nextQuantum += QUANTUM_S
        if (happened !== 0 && !warmup) this.events.push(t1, happened === QUANTUM_BOOTED ? EV_VM_BOOTED : EV_WORKLOAD_DONE, i, -1)
      }
    }
    const hints = this.hints
    if (hints !== null && hints.dropped !== this.dropsSeen && !warmup) {
      // A drop after a quiet sample interval starts a dropping episode.
      if (t1 - this.lastDropT > this.exp.sample_every_s) this.events.push(t1, EV_HINTS_DROPPING, -1, hints.dropped - this.base.dropped)
      this.dropsSeen = hints.dropped
      this.lastDropT = t1
    }
    this.ticks++
    this.t = t1
  }

  /** Advance to simulated time `until` (seconds), sampling on the way. */
  advanceTo(until: number, onSample?: (lane: Lane) => void): void {
    const eps = 1e-9
    while (this.t + TICK_S <= until + eps) {
      this.tick()
      if (this.t + eps >= this.nextSample) {
        this.sample()
        this.nextSample = ++this.samplesTaken * this.exp.sample_every_s + this.exp.sample_every_s
        if (onSample) onSample(this)
      }
    }
  }

  /** Take one sample row now. */
  sample(): void {
    const r = this.row
    const I = METRIC_INDEX
    const s = this.scanner
    const st = this.stable
    const dt = this.t - this.lastSampleT
    r[I.t_s] = Math.round(this.t * 1e6) / 1e6
    r[I.sharing_ratio] = st.sharedGuestPages / this.totalPages
    // Pages freed (ground truth): further mappings of KSM pages and mappings of the kernel zero page.
    r[I.saved_mib] = (st.savedPages + st.ksm_zero_pages) / 256
    // mm/ksm.c general_profit_show: (pages_sharing + ksm_zero_pages) x PAGE_SIZE - rmap items x
    // sizeof(struct ksm_rmap_item), from the sysfs counters, in bytes.
    r[I.general_profit] = (st.pages_sharing + st.ksm_zero_pages) * 4096 - s.records * RMAP_ITEM_BYTES
    r[I.cpu_percent] = dt > 0 ? ((s.cpuNs - this.lastSampleCpuNs) / (dt * 1e9)) * 100 : 0
    r[I.pages_shared] = st.pages_shared
    r[I.pages_sharing] = st.pages_sharing
    r[I.pages_unshared] = s.pages_unshared
    r[I.pages_volatile] = this.pagesVolatile()
    r[I.full_scans] = s.full_scans - this.base.full_scans
    r[I.pages_scanned] = s.pages_scanned - this.base.pages_scanned
    r[I.stable_node_chains] = st.stable_node_chains
    r[I.stable_node_dups] = st.stable_node_dups
    r[I.hint_stack_depth] = this.hints?.depth ?? 0
    r[I.hints_pushed] = (this.hints?.pushed ?? 0) - this.base.pushed
    r[I.hints_popped] = (this.hints?.popped ?? 0) - this.base.popped
    r[I.hints_dropped] = (this.hints?.dropped ?? 0) - this.base.dropped
    r[I.cow_breaks] = this.mem.cowBreaks - this.base.cow
    r[I.vm_exits] = this.vmExits() - this.base.exits
    let prog = 0
    for (const v of this.vms) prog += v.booted && v.main ? v.main.progress() : 0
    r[I.workload_progress] = prog / this.vms.length
    this.countTypes(r)
    // Every cross-tenant merge since the lane started, warm-up included: a property of what is
    // shared, not an event rate of the measured run.
    r[I.cross_tenant_merges] = st.cross_tenant_merges
    r[I.ksm_zero_pages] = st.ksm_zero_pages
    r[I.pages_skipped] = s.pages_skipped - this.base.skipped
    this.series.push(r)
    this.lastSampleT = this.t
    this.lastSampleCpuNs = s.cpuNs
    if (this.vmHistory !== null) this.vmHistory.atSample(this.series.length - 1, this.vmShareInput(), this.t)
  }

  /** sysfs pages_volatile: records - shared - sharing - unshared, never below 0. */
  pagesVolatile(): number {
    const s = this.scanner
    return Math.max(0, s.records - this.stable.pages_shared - this.stable.pages_sharing - s.pages_unshared)
  }

  /** Allocated (present) and shared guest pages per Figure 2 category. */
  private countTypes(r: Float64Array): void {
    const I = METRIC_INDEX
    const mem = this.mem
    const pf = mem.pageFrame
    const flags = mem.flags
    // One table lookup per page: slot (type << 2 | frame flags) -> Figure 2 category x 2 + shared.
    const slot = CATEGORY_SLOT
    const counts = this.typeCounts.fill(0)
    for (const v of this.vms) {
      const type = v.guest.type
      const base = v.guest.base
      const n = v.guest.nPages
      for (let g = 0; g < n; g++) {
        const f = pf[base + g]
        if (f >= 0) counts[slot[((type[g] & 7) << 2) | (flags[f] & 3)]]++
      }
    }
    r[I.alloc_page_cache] = counts[0] + counts[1]
    r[I.alloc_text] = counts[2] + counts[3]
    r[I.alloc_zero] = counts[4] + counts[5]
    r[I.alloc_other] = counts[6] + counts[7]
    r[I.shared_page_cache] = counts[1]
    r[I.shared_text] = counts[3]
    r[I.shared_zero] = counts[5]
    r[I.shared_other] = counts[7]
  }

  /** Modelled scanner CPU during the measured run, ns. */
  measuredCpuNs(): number {
    return this.scanner.cpuNs - this.base.cpuNs
  }

  /** Pages saved (ground truth: further mappings of KSM pages, and zero-page mappings) now minus at t = 0: what the measured run saved (negative if it lost some). */
  pagesSharingGained(): number {
    return this.stable.savedPages + this.stable.ksm_zero_pages - this.base.pagesSharing
  }

  /** Per-VM sharing and the VM x VM matrix now (vmshares.ts). */
  vmShares(): LaneVmShares {
    return vmShares(this.vmShareInput(), this.t, this.shareScratch)
  }

  private vmShareInput(): VmShareInput {
    const cow = this.vms.map((v, i) => v.guest.cowFaults - this.cowBase[i])
    return { mem: this.mem, nodeIds: this.stable.idCount, vmBase: this.vmBase, names: this.exp.vms.map((v) => v.name), cow }
  }

  /**
   * Record the per-VM figures at samples from now on (bounded: vmshares.ts, VmShareHistory),
   * for the app's paused view. Reads the model only: results are unchanged.
   */
  recordVmHistory(): void {
    if (this.vmHistory === null) this.vmHistory = new VmShareHistory(this.exp.vms.length, Math.floor(this.exp.duration_s / this.exp.sample_every_s + 1e-9) + 1)
  }

  /** When each VM's main workload finished (simulated seconds), or null. */
  workloadDoneTimes(): (number | null)[] {
    return this.vms.map((v) => (v.doneAt >= 0 ? v.doneAt : null))
  }

  /**
   * Check the invariants that matter most (invariants.ts); throws InvariantError naming the
   * first violation.
   */
  checkInvariants(): void {
    this.invariantsChecked = true
    checkMemoryInvariants(`lane ${this.cfg.name}`, this.mem, this.stable, this.scanner, this.hints)
  }

  /** Bytes held in typed arrays by this lane (memory per simulated page). */
  byteSize(): number {
    let n = this.mem.byteSize() + this.stable.byteSize() + this.scanner.byteSize()
    if (this.attrs) n += this.attrs.byteSize()
    for (const v of this.vms) n += v.guest.byteSize()
    return n
  }
}
