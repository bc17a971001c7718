/**
 * A tenant's web application on a PaaS host: a language runtime installed under an install
 * prefix, the tenant's application code, a heap, and requests.
 *
 * - Runtime: an interpreter or VM (text: executables and native libraries) and its standard
 *   library (read into the page cache as the app imports it). A runtime's files are the same
 *   bytes wherever it is installed; their path depends on `install_prefix`, so two VMs with the
 *   same runtime under /usr/local and /opt hold equal pages at different paths (case 4).
 * - Application: `app_mib` of code and assets read at start, at the same path (/srv/app) for
 *   every tenant; the bytes are the tenant's (the VM's `tenant`): the same within a tenant
 *   (case 1), different across tenants at the same path (case 3).
 * - Heap (`heap_mib`): a part identical in every VM of the same runtime (the runtime's own
 *   structures after start-up), a part identical within the tenant (the app's loaded state),
 *   a part still zero, the rest the VM's own.
 * - Requests (`requests_per_s` per second of work): each rewrites a few of the VM's own heap
 *   pages; every LOG_EVERY requests a page is appended to the access log (same path in every
 *   VM, own bytes), rotated every LOG_PAGES pages.
 * Sizes: docs/model.md ("Workloads").
 */
import { PT_ANON } from '../guest.ts'
import { hash32, hashString, Rng } from '../../machine/rng.ts'
import { INSTALL_PREFIXES, RUNTIMES, type InstallPrefix, type RuntimeName } from './names.ts'
import { NS_APP, NS_RUNTIME_BASE, NS_VAR, pathId } from './paths.ts'
import { QUANTUM_S, StepPlan, type VmContext, type Workload } from './workload.ts'

export { INSTALL_PREFIXES, RUNTIMES, type InstallPrefix, type RuntimeName }

export interface WebAppParams {
  runtime: RuntimeName
  install_prefix: InstallPrefix
  app_mib: number
  heap_mib: number
  requests_per_s: number
}

/** Installed size of each runtime, MiB: executables and native libraries, standard library. */
const RUNTIME_MIB: Record<RuntimeName, { text: number; lib: number }> = {
  'python-2.7': { text: 6, lib: 20 },
  'ruby-2.0': { text: 5, lib: 14 },
  'openjdk-7': { text: 16, lib: 64 }
}
/** Fraction of the standard library an application imports at start. */
const LIB_LOADED_FRACTION = 0.5
/** Heap shares: identical per runtime, identical per tenant, zero; the rest is the VM's own. */
const HEAP_RUNTIME_SHARED = 0.15
const HEAP_TENANT_SHARED = 0.1
const HEAP_ZERO = 0.1
/** Work time of the start-up (runtime, app and heap loaded), seconds. */
const START_WORK_S = 10
/** Own heap pages rewritten per request; requests per access-log page; CPU per request. */
const REQUEST_HEAP_WRITES = 4
const LOG_EVERY = 20
/** Access log pages before logrotate. */
const LOG_PAGES = 256
const REQUEST_CPU_S = 0.005
/** The access log's index among the per-VM files at common paths (NS_VAR). */
const ACCESS_LOG_INDEX = 2000
/** Application files: mean size in pages (log-normal). */
const APP_FILE_PAGES = 4

interface RuntimeFile {
  index: number
  sizePages: number
  text: boolean
}

interface RuntimeModel {
  index: number
  key: number
  files: RuntimeFile[]
  /** Library files an application imports at start (the same modules for every app). */
  imported: number[]
}

const runtimes = new Map<RuntimeName, RuntimeModel>()

/** A runtime's files: a deterministic function of its name (the same bytes wherever installed). */
export function runtimeModel(name: RuntimeName): RuntimeModel {
  const hit = runtimes.get(name)
  if (hit) return hit
  const key = hashString(`runtime/${name}`)
  const rng = new Rng(key, 3)
  const files: RuntimeFile[] = []
  const imported: number[] = []
  for (const [text, mib] of [
    [true, RUNTIME_MIB[name].text],
    [false, RUNTIME_MIB[name].lib]
  ] as const) {
    let pages = 0
    while (pages < mib * 256) {
      const size = Math.max(1, rng.lognormalInt(text ? 48 : 6, 1))
      if (!text && rng.chance(LIB_LOADED_FRACTION)) imported.push(files.length)
      files.push({ index: files.length, sizePages: size, text })
      pages += size
    }
  }
  const model = { index: RUNTIMES.indexOf(name), key, files, imported }
  runtimes.set(name, model)
  return model
}

export class WebAppWorkload implements Workload {
  readonly kind = 'web-app'
  private readonly start: StepPlan
  /** The VM's own heap pages (rewritten by requests). */
  private readonly own: number[] = []
  private readonly log: number
  private logOff = 0
  /** logrotate generation: the version of every page written since the last rotation. */
  private logGen = 1
  private credit = 0
  private requests = 0

  constructor(
    private readonly ctx: VmContext,
    private readonly p: WebAppParams,
    tenant: string
  ) {
    const { guest } = ctx
    const files = guest.files
    const rt = runtimeModel(p.runtime)
    const ns = NS_RUNTIME_BASE + INSTALL_PREFIXES.indexOf(p.install_prefix)
    const rtFile = (f: RuntimeFile) => files.add(pathId(ns, (rt.index << 16) | f.index), hash32(rt.key, f.index), f.sizePages, f.text)
    const tenantKey = hashString(`tenant/${tenant}`)
    const steps: (() => void)[] = []
    for (const f of rt.files) {
      if (!f.text) continue
      const id = rtFile(f)
      steps.push(() => void guest.mapText(id))
    }
    for (const i of rt.imported) {
      const id = rtFile(rt.files[i])
      steps.push(() => void guest.readFile(id, 0, files.sizePages[id]))
    }
    // The application tree: sizes from the tenant's stream (one app per tenant).
    const appRng = new Rng(tenantKey, 5)
    let appPages = 0
    for (let i = 0; appPages < p.app_mib * 256; i++) {
      const size = Math.max(1, appRng.lognormalInt(APP_FILE_PAGES, 1))
      const id = files.add(pathId(NS_APP, i), hash32(tenantKey, 0xa99, i), size, false)
      steps.push(() => void guest.readFile(id, 0, size))
      appPages += size
    }
    const heap = Math.round(p.heap_mib * 256)
    const rtShared = Math.round(heap * HEAP_RUNTIME_SHARED)
    const tenantShared = Math.round(heap * HEAP_TENANT_SHARED)
    const zero = Math.round(heap * HEAP_ZERO)
    for (let i = 0; i < heap; i++) {
      if (i < rtShared) steps.push(() => void ctx.allocSharedAnon(rt.key, 0x4ea9, i))
      else if (i < rtShared + tenantShared) steps.push(() => void ctx.allocSharedAnon(tenantKey, 0x4eaa, i))
      else if (i < rtShared + tenantShared + zero) steps.push(() => void guest.allocZero(PT_ANON))
      else
        steps.push(() => {
          const g = ctx.allocUniqueAnon()
          if (g >= 0) this.own.push(g)
        })
    }
    this.start = new StepPlan(steps.length, START_WORK_S, (i) => steps[i]())
    this.log = files.add(pathId(NS_VAR, ACCESS_LOG_INDEX), hash32(ctx.salt, 0xacce55), 1, false)
  }

  cpuDemand(): number {
    return this.start.done ? Math.min(1, this.p.requests_per_s * REQUEST_CPU_S) : 1
  }

  step(): void {
    if (!this.start.done) {
      this.start.runQuantum()
      return
    }
    this.credit += this.p.requests_per_s * QUANTUM_S
    const { rng } = this.ctx
    while (this.credit >= 1) {
      this.credit--
      this.requests++
      if (this.own.length > 0) for (let i = 0; i < REQUEST_HEAP_WRITES; i++) this.ctx.writeUnique(this.own[rng.int(this.own.length)])
      if (this.requests % LOG_EVERY === 0) this.appendLog()
    }
  }

  /**
   * Append a page to the access log; after LOG_PAGES pages logrotate starts a new file
   * (the old pages are freed, the new lines are a new generation).
   */
  private appendLog(): void {
    const guest = this.ctx.guest
    if (this.logOff === LOG_PAGES) {
      guest.deleteFile(this.log)
      this.logOff = 0
      this.logGen++
    }
    guest.writeFile(this.log, this.logOff++, 1, this.logGen)
  }

  /** A service: it never finishes. */
  done(): boolean {
    return false
  }

  /** Start-up progress (the service then runs for ever). */
  progress(): number {
    return this.start.progress
  }
}
