/**
 * Placement across hosts (Wood, Tarasuk-Levin, Shenoy, Desnoyers, Cecchet, Corner: "Memory
 * Buddies: exploiting page sharing for smart colocation in virtualized data centers", VEE 2009):
 * each VM's memory is summarised by a fingerprint, a Bloom filter of its page hashes; the
 * fingerprints of a host's VMs OR-ed together estimate how many distinct pages the host must
 * hold, so the sharing of any group of VMs is estimated without their page lists. A sharing-aware
 * placement puts each VM on the host it shares most with; a sharing-blind first-fit is the
 * baseline. Exact counts (a set of the page hashes) are kept where the data is small, to measure
 * the estimate's error. Pure: the CLI (src/cli/place.ts) boots the VMs and reads the files.
 *
 * Document `samepage-lab/placement@1` (docs/file-formats.md): hosts, VMs (experiment VM configs:
 * an image file, a snapshot, or a workload), an overcommit policy, the fingerprint's error rate.
 */
import { z } from 'zod'
import { EXPERIMENT_SCHEMA_ID, formatPath, LaneSchema, VmSchema, type ConfigIssue, type ExperimentInput, type VmConfig } from '../experiment/config.ts'
import { FpSet } from '../formats/image.ts'
import { mix32 } from '../machine/rng.ts'

export const PLACEMENT_SCHEMA_ID = 'samepage-lab/placement@1'
/** Bloom filter false-positive rate of a fingerprint (*estimate*, a common Bloom sizing: 1 %). */
export const BLOOM_FP_RATE_DEFAULT = 0.01
/** Up to this many pages over all VMs, exact counts are kept beside the Bloom estimates. */
export const EXACT_PAGES_MAX = 1 << 24

export const HostSpecSchema = z.strictObject({
  name: z.string().min(1).max(64),
  memory_mib: z.number().int().min(16).max(1 << 24),
  cores: z.number().int().min(1).max(1024),
  /** Identical hosts of this kind (named name-1, name-2, ...). */
  count: z.number().int().min(1).max(10_000).default(1)
})

export const PlacementSchema = z.strictObject({
  schema: z.literal(PLACEMENT_SCHEMA_ID),
  name: z.string().min(1).max(200),
  seed: z.number().int().min(0).max(0xffffffff).default(42),
  hosts: z.array(HostSpecSchema).min(1).max(1000),
  vms: z.array(VmSchema).min(1).max(256),
  overcommit: z
    .strictObject({
      /** Guest memory a host may hold after sharing, as a multiple of its memory. */
      memory: z.number().min(0.1).max(10).default(1),
      /** vCPUs per core a host may run. */
      vcpus_per_core: z.number().min(0.1).max(64).default(2)
    })
    .prefault({}),
  fingerprint: z
    .strictObject({
      /** What drives the sharing-aware placement: Bloom filter estimates, or exact counts. */
      kind: z.enum(['bloom', 'exact']).default('bloom'),
      false_positive_rate: z.number().min(1e-6).max(0.5).default(BLOOM_FP_RATE_DEFAULT),
      /** Simulated seconds the VMs run (after booting) before their memory is fingerprinted. */
      at_s: z.number().min(0).max(86_400).default(0)
    })
    .prefault({}),
  /** Per-host experiments (`samepage place --run`): lanes and duration. */
  run: z
    .strictObject({
      duration_s: z.number().positive().max(7 * 86_400).default(300),
      lanes: z.array(LaneSchema).min(1).max(8).prefault([{ name: 'KSM', scanner: { kind: 'ksm' } }])
    })
    .prefault({})
})

export type PlacementInput = z.input<typeof PlacementSchema>
export type Placement = z.output<typeof PlacementSchema>

export function validatePlacement(doc: unknown): { ok: true; plan: Placement } | { ok: false; issues: ConfigIssue[] } {
  const r = PlacementSchema.safeParse(doc)
  if (!r.success) return { ok: false, issues: r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) }
  const names = new Set<string>()
  for (const [i, v] of r.data.vms.entries()) {
    if (names.has(v.name)) return { ok: false, issues: [{ path: `vms[${i}].name`, message: `duplicate VM name "${v.name}"` }] }
    names.add(v.name)
  }
  return { ok: true, plan: r.data }
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

/** Bloom filter bits and hash count for n elements at false-positive rate p (the standard sizing). */
export function bloomSize(n: number, p: number): { bits: number; k: number } {
  const bits = Math.max(64, Math.ceil((-Math.max(1, n) * Math.log(p)) / (Math.LN2 * Math.LN2)))
  const words = Math.ceil(bits / 32)
  return { bits: words * 32, k: Math.max(1, Math.round((words * 32 * Math.LN2) / Math.max(1, n))) }
}

/** A Bloom filter of 64-bit page fingerprints (double hashing of the two halves). */
export class Bloom {
  readonly words: Uint32Array
  constructor(
    readonly bits: number,
    readonly k: number
  ) {
    this.words = new Uint32Array(bits / 32)
  }

  add(hi: number, lo: number): void {
    // Both hashes from both halves: pages may share one half (synthetic content does).
    const h1 = mix32(hi ^ mix32(lo)) >>> 0
    const h2 = (mix32(lo ^ mix32(hi ^ 0x85ebca6b)) | 1) >>> 0
    for (let i = 0; i < this.k; i++) {
      const b = (h1 + Math.imul(i, h2)) >>> 0
      const at = b % this.bits
      this.words[at >>> 5] |= 1 << (at & 31)
    }
  }

  /** OR of this and other (same size). */
  or(other: Bloom): Bloom {
    const out = new Bloom(this.bits, this.k)
    for (let i = 0; i < this.words.length; i++) out.words[i] = this.words[i] | other.words[i]
    return out
  }

  /** Estimated number of distinct elements: -(m / k) ln(1 - X / m), X the set bits. */
  estimate(): number {
    let x = 0
    for (const w of this.words) {
      let v = w - ((w >>> 1) & 0x55555555)
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
      x += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number
    }
    if (x >= this.bits) return Infinity
    return (-this.bits / this.k) * Math.log(1 - x / this.bits)
  }
}

/** One VM's memory as Memory Buddies sees it. */
export interface VmPrint {
  name: string
  memory_mib: number
  vcpus: number
  /** Present pages fingerprinted. */
  pages: number
  /** Distinct contents among them (exact: the VM's own hash list). */
  distinct: number
  bloom: Bloom
  /** Exact set of its contents, when the plan is small enough (EXACT_PAGES_MAX). */
  exact: FpSet | null
}

/** A VM's fingerprint from its pages' fingerprints ([hi, lo] pairs). */
export function fingerprintVm(vm: VmConfig, fps: Uint32Array, bits: number, k: number, exact: boolean): VmPrint {
  const bloom = new Bloom(bits, k)
  const own = new FpSet(fps.length / 2)
  for (let i = 0; i < fps.length; i += 2) {
    own.add(fps[i], fps[i + 1])
    bloom.add(fps[i], fps[i + 1])
  }
  return { name: vm.name, memory_mib: vm.memory_mib, vcpus: vm.vcpus, pages: fps.length / 2, distinct: own.size, bloom, exact: exact ? own : null }
}

/** A group of VMs on one host: their pages, and distinct contents estimated and (if kept) exact. */
class Group {
  vms: number[] = []
  pages = 0
  memoryPages = 0
  vcpus = 0
  bloom: Bloom | null = null
  exact: FpSet | null

  constructor(exact: boolean) {
    this.exact = exact ? new FpSet() : null
  }

  /** Pages saved if every identical page merges: pages - distinct (Bloom estimate). */
  savedEstimate(): number {
    return this.bloom ? Math.max(0, this.pages - this.bloom.estimate()) : 0
  }
  savedExact(): number | null {
    return this.exact ? this.pages - this.exact.size : null
  }

  withVm(p: VmPrint): { pages: number; estimate: number } {
    const bloom = this.bloom ? this.bloom.or(p.bloom) : p.bloom
    return { pages: this.pages + p.pages, estimate: Math.max(0, this.pages + p.pages - bloom.estimate()) }
  }

  add(i: number, p: VmPrint): void {
    this.vms.push(i)
    this.pages += p.pages
    this.memoryPages += p.memory_mib * 256
    this.vcpus += p.vcpus
    this.bloom = this.bloom ? this.bloom.or(p.bloom) : p.bloom
    if (this.exact && p.exact) p.exact.forEach((hi, lo) => (this.exact as FpSet).add(hi, lo))
  }
}

export interface HostPlacement {
  host: string
  memory_mib: number
  cores: number
  vms: string[]
  vcpus: number
  /** Guest memory of its VMs without sharing. */
  memory_needed_mib: number
  /** Memory sharing frees there: Bloom estimate and exact count (null when not kept). */
  saved_mib_estimate: number
  saved_mib_exact: number | null
  /** (estimate - exact) / exact; null without exact counts or when nothing is shared. */
  estimate_error: number | null
}

export interface PlacementResult {
  policy: 'sharing-aware' | 'first-fit'
  hosts_needed: number
  hosts: HostPlacement[]
  /** VMs that fit on no host. */
  unplaced: string[]
  saved_mib_estimate: number
  saved_mib_exact: number | null
}

export interface PlacementReport {
  name: string
  fingerprint: { kind: 'bloom' | 'exact'; bits: number; k: number; false_positive_rate: number; bytes_per_vm: number; exact_counts: boolean }
  vms: { name: string; memory_mib: number; pages: number; distinct: number }[]
  sharing_aware: PlacementResult
  first_fit: PlacementResult
}

interface HostSlot {
  name: string
  memory_mib: number
  cores: number
}

export function hostSlots(plan: Placement): HostSlot[] {
  const out: HostSlot[] = []
  for (const h of plan.hosts) for (let i = 0; i < h.count; i++) out.push({ name: h.count > 1 ? `${h.name}-${i + 1}` : h.name, memory_mib: h.memory_mib, cores: h.cores })
  return out
}

/** Pages of memory a VM group needs on a host after sharing `saved` pages. */
const fits = (slot: HostSlot, plan: Placement, memoryPages: number, saved: number, vcpus: number): boolean =>
  memoryPages - saved <= slot.memory_mib * 256 * plan.overcommit.memory && vcpus <= slot.cores * plan.overcommit.vcpus_per_core

/**
 * Places the VMs in the plan's order. first-fit: the first host where the VM's whole memory fits
 * (sharing ignored). sharing-aware (Memory Buddies): among the hosts already in use where the VM
 * fits after sharing, the one whose VMs share most with it (estimated; exact with kind 'exact');
 * if none, the next unused host.
 */
export function place(plan: Placement, prints: VmPrint[], policy: 'sharing-aware' | 'first-fit'): PlacementResult {
  const slots = hostSlots(plan)
  const exactKept = prints.every((p) => p.exact !== null)
  const groups: Group[] = slots.map(() => new Group(exactKept))
  const useExact = plan.fingerprint.kind === 'exact' && exactKept
  const unplaced: string[] = []
  let opened = 0
  const sharedWith = (g: Group, p: VmPrint): number => {
    if (useExact) {
      let common = 0
      ;(p.exact as FpSet).forEach((hi, lo) => {
        if ((g.exact as FpSet).has(hi, lo)) common++
      })
      return (g.savedExact() as number) + (p.pages - p.distinct) + common
    }
    return g.withVm(p).estimate
  }
  prints.forEach((p, i) => {
    let chosen = -1
    if (policy === 'first-fit') {
      for (let h = 0; h < slots.length && chosen < 0; h++) if (fits(slots[h], plan, groups[h].memoryPages + p.memory_mib * 256, 0, groups[h].vcpus + p.vcpus)) chosen = h
    } else {
      let best = -Infinity
      for (let h = 0; h < opened; h++) {
        const g = groups[h]
        const saved = sharedWith(g, p)
        const gain = saved - (useExact ? (g.savedExact() as number) : g.savedEstimate())
        if (fits(slots[h], plan, g.memoryPages + p.memory_mib * 256, saved, g.vcpus + p.vcpus) && gain > best) {
          best = gain
          chosen = h
        }
      }
      for (let h = opened; h < slots.length && chosen < 0; h++) if (fits(slots[h], plan, p.memory_mib * 256, p.pages - p.distinct, p.vcpus)) chosen = h
    }
    if (chosen < 0) {
      unplaced.push(p.name)
      return
    }
    groups[chosen].add(i, p)
    if (policy !== 'first-fit' && chosen >= opened) {
      // Hosts are opened in order; one skipped because the VM did not fit stays unused.
      opened = chosen + 1
    }
  })
  const hosts: HostPlacement[] = []
  groups.forEach((g, h) => {
    if (g.vms.length === 0) return
    const est = g.savedEstimate() / 256
    const exact = g.savedExact()
    const exactMib = exact === null ? null : exact / 256
    hosts.push({
      host: slots[h].name,
      memory_mib: slots[h].memory_mib,
      cores: slots[h].cores,
      vms: g.vms.map((i) => prints[i].name),
      vcpus: g.vcpus,
      memory_needed_mib: g.memoryPages / 256,
      saved_mib_estimate: est,
      saved_mib_exact: exactMib,
      estimate_error: exactMib === null || exactMib === 0 ? null : (est - exactMib) / exactMib
    })
  })
  const sum = (f: (h: HostPlacement) => number): number => hosts.reduce((n, h) => n + f(h), 0)
  return {
    policy,
    hosts_needed: hosts.length,
    hosts,
    unplaced,
    saved_mib_estimate: sum((h) => h.saved_mib_estimate),
    saved_mib_exact: exactKept ? sum((h) => h.saved_mib_exact as number) : null
  }
}

export function placementReport(plan: Placement, prints: VmPrint[]): PlacementReport {
  const b = prints[0].bloom
  return {
    name: plan.name,
    fingerprint: {
      kind: plan.fingerprint.kind,
      bits: b.bits,
      k: b.k,
      false_positive_rate: plan.fingerprint.false_positive_rate,
      bytes_per_vm: b.bits / 8,
      exact_counts: prints.every((p) => p.exact !== null)
    },
    vms: prints.map((p) => ({ name: p.name, memory_mib: p.memory_mib, pages: p.pages, distinct: p.distinct })),
    sharing_aware: place(plan, prints, 'sharing-aware'),
    first_fit: place(plan, prints, 'first-fit')
  }
}

/** The report as text. */
export function formatPlacement(r: PlacementReport): string {
  const f = r.fingerprint
  const lines = [
    `${r.name}: ${r.vms.length} VMs; fingerprints: Bloom filters of ${f.bits} bits (${(f.bytes_per_vm / 1024).toFixed(1)} KiB a VM), ${f.k} hashes, ${f.false_positive_rate} false positives; placement by ${f.kind === 'exact' ? 'exact counts' : 'Bloom estimates'}`
  ]
  const mib = (v: number | null): string => (v === null ? '-' : v.toFixed(1))
  for (const p of [r.sharing_aware, r.first_fit]) {
    lines.push('')
    lines.push(`${p.policy}: ${p.hosts_needed} hosts, saves ${mib(p.saved_mib_estimate)} MiB estimated, ${mib(p.saved_mib_exact)} MiB exact${p.unplaced.length ? `; unplaced: ${p.unplaced.join(', ')}` : ''}`)
    for (const h of p.hosts) {
      const err = h.estimate_error === null ? '-' : `${(h.estimate_error * 100).toFixed(2)} %`
      lines.push(`  ${h.host} (${h.memory_mib} MiB, ${h.cores} cores): ${h.vms.join(', ')}; needs ${mib(h.memory_needed_mib)} MiB, saves ${mib(h.saved_mib_estimate)} estimated / ${mib(h.saved_mib_exact)} exact (error ${err})`)
    }
  }
  return lines.join('\n') + '\n'
}

/**
 * The experiment of one host of a placement: its VMs, the plan's lanes and duration. Each host's
 * experiment stands alone (no shared state), so hosts run anywhere, in any order: sweep points.
 */
export function hostExperiment(plan: Placement, host: HostPlacement): ExperimentInput {
  const byName = new Map(plan.vms.map((v) => [v.name, v]))
  return {
    schema: EXPERIMENT_SCHEMA_ID,
    name: `${plan.name} / ${host.host}`,
    description: `Host ${host.host} of placement ${plan.name} (samepage place): ${host.vms.join(', ')}`,
    seed: plan.seed,
    duration_s: plan.run.duration_s,
    sample_every_s: Math.min(10, plan.run.duration_s),
    host: { cpu_profile: 'xeon-x5560', cores: host.cores },
    warmup: { boot: true, share: true },
    vms: host.vms.map((n) => byName.get(n) as VmConfig) as ExperimentInput['vms'],
    lanes: plan.run.lanes as ExperimentInput['lanes']
  }
}
