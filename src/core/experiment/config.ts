/**
 * The experiment config: one versioned JSON document, validated with zod. Errors name the field
 * path (`vms[1].memory_mib: ...`); defaults are filled in; older versions are migrated by
 * `migrate` before validation; `experimentJsonSchema()` exports a JSON Schema for editors.
 */
import { z } from 'zod'
import { CPU_PROFILES } from '../machine/cost.ts'
import { HINT_STACK_SIZE_DEFAULT } from '../machine/hintstack.ts'
import { SHARE_SCAN_TIME_S_DEFAULT } from '../scanners/esx.ts'
import { HASH_TABLE_SIZE_DEFAULT } from '../scanners/hint.ts'
import { KSM_SHARE_DEFAULT } from '../scanners/hybrid.ts'
import { SATORI_TABLE_SIZE_DEFAULT } from '../scanners/satori.ts'
import { PAGES_TO_SCAN_DEFAULT, SLEEP_MILLISECS_DEFAULT } from '../scanners/ksm.ts'
import { CHAINS_PRUNE_MS_DEFAULT, MAX_PAGE_SHARING_DEFAULT } from '../machine/stable.ts'
import { IMAGE_NAMES } from '../guests/workloads/images.ts'
import { FILE_CASES, INSTALL_PREFIXES, RUNTIMES } from '../guests/workloads/names.ts'
import { OWN_PATH_FILES_MAX } from '../guests/workloads/paths.ts'
import { dropSafeIntegerNoise, escapeControl, groupDigits, hasControl, issueMessage, quantity, quoteValue, type SchemaIssue } from './messages.ts'
import { findJsonSyntaxError } from '../formats/json-error.ts'

export const EXPERIMENT_SCHEMA_ID = 'samepage-lab/experiment@1'

/**
 * What one lane may hold: guest pages summed over its VMs. Past this a run would need more than
 * a few GiB of this machine's memory (about 50 bytes per simulated page per lane, measured in
 * docs/performance.md).
 */
export const MAX_PAGES_PER_LANE = 1 << 25 // 128 GiB of guest memory
export const MAX_TOTAL_PAGES = 1 << 26 // summed over lanes
export const MAX_VMS = 256
export const MAX_LANES = 8
export const MAX_DURATION_S = 7 * 24 * 3600
export const SAMPLE_EVERY_DEFAULT_S = 10

const int = (min: number, max: number) => z.number().int().min(min).max(max)

/**
 * Most a workload's anonymous memory (heap, working set; jobs x heap for a build) may exceed its
 * VM's memory by: past it the guest only reclaims and faults (a 2^20 MiB heap in a 512 MiB VM
 * ran the worker out of memory in issue 13), which is no experiment.
 */
export const WORKLOAD_OVERCOMMIT_MAX = 4

/** Anonymous memory a workload asks for, MiB, and the field that sets it; null for the others. */
function workloadAnonMib(w: { kind: string } & Record<string, unknown>): [number, string] | null {
  const n = (k: string): number => (typeof w[k] === 'number' ? (w[k] as number) : 0)
  if (w.kind === 'web-app') return [n('heap_mib') + n('app_mib'), 'heap_mib']
  if (w.kind === 'kernel-build') return [n('heap_mib') * Math.max(1, n('jobs')), 'heap_mib']
  if (w.kind === 'mem-micro') return [n('working_set_mib'), 'working_set_mib']
  if (w.kind === 'cpu-micro') return [n('heap_mib'), 'heap_mib']
  return null
}

/** Most samples one lane may hold (duration_s / sample_every_s). */
export const MAX_SAMPLES_PER_LANE = 1_000_000

/**
 * A name (VM, lane, tenant, trace VM, experiment): 1 to `max` characters, no control characters,
 * so a name echoed in any message, CSV row or file name stays on its line.
 */
const nameString = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !hasControl(s), { message: 'must not contain control characters (a line break, a tab, an escape)' })

const ksmKnobs = {
  pages_to_scan: int(1, 1_000_000).default(PAGES_TO_SCAN_DEFAULT),
  sleep_millisecs: int(1, 600_000).default(SLEEP_MILLISECS_DEFAULT),
  /** Alternative to pages_to_scan: pages per second at sleep_millisecs. */
  pages_per_s: z.number().positive().max(10_000_000).optional(),
  max_page_sharing: int(2, 1 << 20).default(MAX_PAGE_SHARING_DEFAULT),
  stable_node_chains_prune_millisecs: int(0, 3_600_000).default(CHAINS_PRUNE_MS_DEFAULT)
}

/**
 * Options of KSM's linear scan in later kernels, off by default: the paper's Linux 3.0 had none of
 * them (use_zero_pages came in 4.11, smart_scan in 6.7, where the kernel turns it on by default).
 */
const linearScanOptions = {
  /** Map unchanged zero pages to the kernel zero page (ksm_zero_pages). */
  use_zero_pages: z.boolean().default(false),
  /** Skip pages that repeatedly failed to merge (Linux 6.7+; counted in pages_skipped). */
  smart_scan: z.boolean().default(false)
}

/** The scan-time advisor of Linux 6.8+ (defaults from Documentation/admin-guide/mm/ksm.rst). */
const advisorKnobs = {
  advisor_mode: z.enum(['none', 'scan-time']).default('none'),
  /** Seconds a full pass should take. */
  advisor_target_scan_time: int(1, 1_000_000).default(200),
  /** Highest ksmd CPU share the advisor may reach, percent. */
  advisor_max_cpu: int(1, 100).default(70),
  /** pages_to_scan when the advisor starts. */
  advisor_min_pages_to_scan: int(1, 10_000_000).default(500),
  /** Cap on the advisor's pages_to_scan. */
  advisor_max_pages_to_scan: int(1, 10_000_000).default(30000)
}

const hintStackSize = int(1, 1 << 24).default(HINT_STACK_SIZE_DEFAULT)
const hashTableSize = int(16, 1 << 26).default(HASH_TABLE_SIZE_DEFAULT)

export const KsmScannerSchema = z.strictObject({ kind: z.literal('ksm'), ...ksmKnobs, ...linearScanOptions, ...advisorKnobs })
export const HintScannerSchema = z.strictObject({
  kind: z.literal('hint'),
  ...ksmKnobs,
  hint_stack_size: hintStackSize,
  /** The modified guest also names pages it zero-fills (the paper: "zero pages are a target too"). */
  hint_zero_pages: z.boolean().default(false),
  hash_table_size: hashTableSize
})
/** XLH (Miller et al., ATC 2013): hints from virtual-disk I/O interleaved with KSM's walk. */
export const XlhScannerSchema = z.strictObject({
  kind: z.literal('xlh'),
  ...ksmKnobs,
  ...linearScanOptions,
  hint_stack_size: hintStackSize,
  hash_table_size: hashTableSize,
  /** Hinted pages per interleave cycle (XLH's default 1:1). */
  hint_ratio: int(0, 1000).default(1),
  /** Linearly scanned pages per interleave cycle (hint_ratio 0 = plain KSM). */
  linear_ratio: int(0, 1000).default(1)
})
/** ESX (Waldspurger, OSDI 2002): random sampling, one global hash table with hint entries. */
export const EsxScannerSchema = z.strictObject({
  kind: z.literal('esx'),
  ...ksmKnobs,
  hash_table_size: hashTableSize,
  /** Every VM is sampled at most its memory's worth per this many seconds (Mem.ShareScanTime). */
  share_scan_time_s: z.number().min(1).max(MAX_DURATION_S).default(SHARE_SCAN_TIME_S_DEFAULT),
  /**
   * Page-sharing salt (VMware KB 2097593): `none` shares across all VMs (ESX before 5.5U2d/6.0,
   * Waldspurger 2002; or Mem.ShareForceSalting 0); `vm` is ESXi 6.0+'s default (each VM its own
   * salt: no sharing between VMs); `tenant` is the administrator's setting of one
   * sched.mem.pshare.salt per tenant's VMs (as the lane's isolate_tenants).
   */
  salt: z.enum(['none', 'vm', 'tenant']).default('none')
})
/**
 * Satori (Miłoś et al., ATC 2009): sharing-aware virtual block devices share a page when a VM
 * reads a block of its disk image that another VM already holds; no scanning.
 */
export const SatoriScannerSchema = z.strictObject({
  kind: z.literal('satori'),
  ...ksmKnobs,
  /** Entries of the host's block table (block -> a guest page holding it). */
  hash_table_size: int(16, 1 << 26).default(SATORI_TABLE_SIZE_DEFAULT),
  /** The enlightened guest names the page-cache pages it frees (a hypercall each). */
  free_page_hints: z.boolean().default(true)
})
/** The paper's future work: the hint scanner plus a slow background KSM pass. */
export const HybridScannerSchema = z.strictObject({
  kind: z.literal('hybrid'),
  ...ksmKnobs,
  ...linearScanOptions,
  hint_stack_size: hintStackSize,
  hint_zero_pages: z.boolean().default(false),
  hash_table_size: hashTableSize,
  /** Share of pages_to_scan given to the background linear scan, 0..1. */
  ksm_share: z.number().min(0).max(1).default(KSM_SHARE_DEFAULT)
})
/** No page sharing at all: the baseline lane ("KSM off"). */
export const NoScannerSchema = z.strictObject({ kind: z.literal('none'), ...ksmKnobs })
export const ScannerSchema = z.discriminatedUnion('kind', [KsmScannerSchema, HintScannerSchema, XlhScannerSchema, EsxScannerSchema, HybridScannerSchema, SatoriScannerSchema, NoScannerSchema])

export const LaneSchema = z.strictObject({
  name: nameString(64),
  scanner: ScannerSchema,
  /** Never merge pages of VMs of different tenants (ESX's per-tenant page-sharing salt). */
  isolate_tenants: z.boolean().default(false)
})

export const WorkloadSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('boot') }),
  z.strictObject({
    kind: z.literal('idle'),
    /** Page-cache pages touched per second by daemons (logs, timers). */
    activity_pages_per_s: z.number().min(0).max(100_000).default(2)
  }),
  z.strictObject({
    kind: z.literal('kernel-build'),
    /** Compilation units in the build (enough that it outlasts the paper's 2400 s window). */
    units: int(1, 1_000_000).default(2000),
    /** Mean CPU time per compilation unit at full speed, seconds (fitted, docs/calibration.md). */
    unit_cpu_s: z.number().positive().max(3600).default(1.35),
    /** Median compiler (cc1) heap per unit, MiB. */
    heap_mib: z.number().positive().max(4096).default(48),
    /** Parallel jobs (make -j); each takes a vCPU. */
    jobs: int(1, 64).default(1),
    /** Header files the build draws from (fitted: sets how hard the page cache thrashes). */
    headers: int(1, 1_000_000).default(40000),
    /** Distinct headers a compilation unit reads (a kernel .c pulls in several hundred). */
    headers_per_unit: int(0, 100_000).default(600)
  }),
  z.strictObject({
    kind: z.literal('mem-micro'),
    /** Memory the benchmark writes over and over, MiB. */
    working_set_mib: z.number().positive().max(1 << 20).default(256),
    /** Page writes per second at full speed. */
    writes_per_s: z.number().positive().max(10_000_000).default(20_000),
    /** Fraction of writes that store content shared with the other VMs' copies. */
    shared_fraction: z.number().min(0).max(1).default(0.5),
    /** CPU seconds of work at full speed; the run time grows when the host is oversubscribed. */
    work_s: z.number().positive().max(MAX_DURATION_S).default(300)
  }),
  z.strictObject({
    kind: z.literal('trace'),
    /** A samepage-lab/trace@1 file (JSON Lines); relative paths resolve against the config file's folder. */
    file: z.string().min(1).max(4096),
    /** Which VM of the trace to replay (its lines' `vm`); default: this VM's name. */
    vm: nameString(64).optional(),
    /** vCPUs the traced guest keeps busy until its last event. */
    cpu: z.number().min(0).max(256).default(1)
  }),
  z.strictObject({
    kind: z.literal('cpu-micro'),
    /** Small heap the benchmark keeps, MiB. */
    heap_mib: z.number().min(0).max(1 << 20).default(4),
    work_s: z.number().positive().max(MAX_DURATION_S).default(300)
  }),
  z.strictObject({
    kind: z.literal('file-cases'),
    /** Files each VM reads once into its page cache (file i is in the same case in every VM). */
    files: int(1, OWN_PATH_FILES_MAX - 1).default(400),
    pages_per_file: int(1, 1 << 16).default(8),
    /** Pages read per second of work. */
    read_pages_per_s: z.number().positive().max(10_000_000).default(2000),
    /** Weights of the paper's four cases among the files (normalized by their sum). */
    same_path_same_content: z.number().min(0).max(1_000_000).default(1),
    different_path_different_content: z.number().min(0).max(1_000_000).default(1),
    same_path_different_content: z.number().min(0).max(1_000_000).default(1),
    different_path_same_content: z.number().min(0).max(1_000_000).default(1)
  }),
  z.strictObject({
    kind: z.literal('office-docs'),
    /** Documents each VM opens (reads whole into its page cache). */
    documents: int(1, OWN_PATH_FILES_MAX - 1).default(300),
    /** Leading pages of a document that are its template's (header, styles, fonts). */
    header_pages: int(0, 4096).default(3),
    /** Median body pages per document (log-normal), the document's own bytes. */
    body_pages: z.number().positive().max(1 << 16).default(8),
    /** Templates the documents are made from. */
    templates: int(1, 100_000).default(4),
    /** Fraction of documents in a folder every VM mounts at the same path (same bytes). */
    common_fraction: z.number().min(0).max(1).default(0.1),
    /** Documents opened per second of work. */
    opens_per_s: z.number().positive().max(1_000_000).default(20)
  }),
  z.strictObject({
    kind: z.literal('web-app'),
    /** Language runtime the application runs on. */
    runtime: z.enum(RUNTIMES).default('python-2.7'),
    /** Where the runtime is installed: the same bytes at another path. */
    install_prefix: z.enum(INSTALL_PREFIXES).default('/usr/local'),
    /** Application code and assets (the tenant's), MiB. */
    app_mib: z.number().min(0).max(1 << 16).default(8),
    /** Application heap, MiB. */
    heap_mib: z.number().min(0).max(1 << 20).default(48),
    /** Requests served per second of work. */
    requests_per_s: z.number().min(0).max(1_000_000).default(20)
  })
])

export const VmSchema = z.strictObject({
  name: nameString(64),
  vcpus: int(1, 256).default(1),
  memory_mib: int(16, 1 << 20).default(512),
  image: z.enum(IMAGE_NAMES).default('debian-7'),
  /**
   * Boot from a real image (`samepage image build`): its files are loaded into the page cache at
   * their real paths, ELF files mapped as text. Relative paths resolve against the config file's folder.
   */
  image_file: z.string().min(1).max(4096).optional(),
  /** Paths of image_file to load at boot (default: every file). */
  working_set: z.array(z.string().min(1).max(4096).startsWith('/', { message: 'must be an absolute path in the image' })).max(1_000_000).optional(),
  /**
   * With image_file: also boot the `image` model's kernel memory, daemon heaps, zeroed tables and
   * per-VM files (default true); false boots the image's files alone (a static image).
   */
  model_memory: z.boolean().optional(),
  /** Start from a memory snapshot (`samepage dump import`) instead of booting. */
  snapshot_file: z.string().min(1).max(4096).optional(),
  workload: WorkloadSchema,
  /** Simulated time at which the VM is started (it boots first). */
  start_s: z.number().min(0).max(MAX_DURATION_S).default(0),
  tenant: nameString(64).default('default')
})

export const HostSchema = z.strictObject({
  // Own keys only: "__proto__", "toString" or "constructor" are not profiles.
  cpu_profile: z.string().refine((p) => Object.hasOwn(CPU_PROFILES, p), { message: `CPU profile must be one of: ${Object.keys(CPU_PROFILES).join(', ')}` }).default('xeon-x5560'),
  /** Cores; defaults to the CPU profile's. */
  cores: int(1, 1024).optional(),
  /**
   * A CPU profile file (`samepage kernel calibrate -o`), replacing cpu_profile's costs; relative
   * paths resolve against the experiment file's folder.
   */
  cpu_profile_file: z.string().min(1).max(4096).optional(),
  /** The host kernel's CONFIG_HZ; defaults to the CPU profile's (250 for the paper's host). */
  hz: int(10, 10_000).optional(),
  /** The host kernel's timer wheel: `cascading` (before Linux 4.8) or `non-cascading` (4.8+). */
  timer_wheel: z.enum(['cascading', 'non-cascading']).optional()
})

export const ExperimentSchema = z
  .strictObject({
    schema: z.literal(EXPERIMENT_SCHEMA_ID),
    name: nameString(200),
    description: z.string().max(4000).default(''),
    seed: int(0, 0xffffffff).default(42),
    duration_s: z.number().positive().max(MAX_DURATION_S),
    sample_every_s: z.number().min(0.01).max(MAX_DURATION_S).default(SAMPLE_EVERY_DEFAULT_S),
    host: HostSchema.default({ cpu_profile: 'xeon-x5560' }),
    warmup: z
      .strictObject({
        /** VMs that start at t = 0 boot before it (their boot is not measured). */
        boot: z.boolean().default(true),
        /** Each lane's scanner then runs, with the guests frozen, until it finds nothing new. */
        share: z.boolean().default(false)
      })
      .default({ boot: true, share: false }),
    vms: z.array(VmSchema).min(1).max(MAX_VMS),
    lanes: z.array(LaneSchema).min(1).max(MAX_LANES)
  })
  .superRefine((cfg, ctx) => {
    // Cross-field checks only on fields that are valid themselves (zod runs this either way):
    // a duration of 1e9 is reported once, as a duration, not again as a sampling problem.
    const memoryOk = Array.isArray(cfg.vms) && cfg.vms.every((v) => Number.isInteger(v?.memory_mib) && v.memory_mib >= 16 && v.memory_mib <= 1 << 20)
    const pages = memoryOk ? cfg.vms.reduce((s, v) => s + v.memory_mib * 256, 0) : 0
    const laneCount = Array.isArray(cfg.lanes) ? cfg.lanes.length : 0
    if (pages > MAX_PAGES_PER_LANE) {
      ctx.addIssue({ code: 'custom', path: ['vms'], message: `Memory of all VMs together must be at most ${quantity(MAX_PAGES_PER_LANE / 256, 'MiB')} per lane (it is ${quantity(pages / 256, 'MiB')})` })
    } else if (pages * laneCount > MAX_TOTAL_PAGES) {
      ctx.addIssue({ code: 'custom', path: ['lanes'], message: `${laneCount} lanes x ${quantity(pages / 256, 'MiB')} of VM memory is more than the ${quantity(MAX_TOTAL_PAGES / 256, 'MiB')} that can be simulated at once: use fewer lanes or less memory` })
    }
    const durationOk = typeof cfg.duration_s === 'number' && cfg.duration_s > 0 && cfg.duration_s <= MAX_DURATION_S
    const everyOk = typeof cfg.sample_every_s === 'number' && cfg.sample_every_s >= 0.01 && cfg.sample_every_s <= MAX_DURATION_S
    if (durationOk && everyOk && cfg.sample_every_s > cfg.duration_s) {
      ctx.addIssue({ code: 'custom', path: ['sample_every_s'], message: `Sample interval must not exceed the duration (${quantity(cfg.duration_s, 's')})` })
    }
    if (durationOk && everyOk && cfg.duration_s / cfg.sample_every_s > MAX_SAMPLES_PER_LANE) {
      // The duration is what grew: blame it, with the longest one this interval allows.
      ctx.addIssue({
        code: 'custom',
        path: ['duration_s'],
        message: `Duration must be at most ${quantity(MAX_SAMPLES_PER_LANE * cfg.sample_every_s, 's')} at a sample interval of ${quantity(cfg.sample_every_s, 's')} (${groupDigits(MAX_SAMPLES_PER_LANE)} samples per lane); lengthen the sample interval for a longer run`
      })
    }
    const names = new Set<string>()
    cfg.lanes.forEach((l, i) => {
      if (names.has(l.name)) ctx.addIssue({ code: 'custom', path: ['lanes', i, 'name'], message: `duplicate lane name ${quoteValue(l.name)}` })
      names.add(l.name)
      const s = l.scanner
      if (s.pages_per_s !== undefined && Math.round((s.pages_per_s * s.sleep_millisecs) / 1000) < 1) {
        ctx.addIssue({ code: 'custom', path: ['lanes', i, 'scanner', 'pages_per_s'], message: 'gives less than one page per wake-up at this sleep_millisecs' })
      }
      if (s.kind === 'xlh' && s.hint_ratio + s.linear_ratio === 0) {
        ctx.addIssue({ code: 'custom', path: ['lanes', i, 'scanner', 'linear_ratio'], message: 'hint_ratio and linear_ratio cannot both be 0' })
      }
      if (s.kind === 'ksm' && s.advisor_min_pages_to_scan > s.advisor_max_pages_to_scan) {
        ctx.addIssue({ code: 'custom', path: ['lanes', i, 'scanner', 'advisor_min_pages_to_scan'], message: 'must not exceed advisor_max_pages_to_scan' })
      }
    })
    const vmNames = new Set<string>()
    cfg.vms.forEach((v, i) => {
      if (vmNames.has(v.name)) ctx.addIssue({ code: 'custom', path: ['vms', i, 'name'], message: `duplicate VM name ${quoteValue(v.name)}` })
      vmNames.add(v.name)
      if (v.working_set !== undefined && v.image_file === undefined) ctx.addIssue({ code: 'custom', path: ['vms', i, 'working_set'], message: 'needs image_file' })
      if (v.model_memory !== undefined && v.image_file === undefined) ctx.addIssue({ code: 'custom', path: ['vms', i, 'model_memory'], message: 'needs image_file' })
      if (v.snapshot_file !== undefined && v.image_file !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['vms', i, 'snapshot_file'], message: 'a VM starts from a snapshot or boots from image_file, not both' })
      }
      const w = v.workload
      const anon = w ? workloadAnonMib(w as never) : null
      if (anon && Number.isInteger(v.memory_mib) && anon[0] > v.memory_mib * WORKLOAD_OVERCOMMIT_MAX) {
        ctx.addIssue({
          code: 'custom',
          path: ['vms', i, 'workload', anon[1]],
          message: `the workload asks for ${quantity(anon[0], 'MiB')}, more than ${WORKLOAD_OVERCOMMIT_MAX}x the VM's memory (${quantity(v.memory_mib, 'MiB')}): the guest would only thrash; make it smaller or give the VM more memory`
        })
      }
      if (w.kind === 'file-cases' && FILE_CASES.every((c) => w[c] === 0)) {
        ctx.addIssue({ code: 'custom', path: ['vms', i, 'workload', FILE_CASES[0]], message: 'the four case weights are all 0: give at least one case a weight' })
      }
    })
  })

export type ExperimentInput = z.input<typeof ExperimentSchema>
export type Experiment = z.output<typeof ExperimentSchema>
export type VmConfig = Experiment['vms'][number]
export type LaneConfig = Experiment['lanes'][number]
export type ScannerConfig = LaneConfig['scanner']
export type WorkloadConfig = VmConfig['workload']

/** One problem with a config: the field path as users write it, and what is wrong. */
export interface ConfigIssue {
  path: string
  message: string
  /** Where in the file, for a JSON syntax error (1-based). */
  line?: number
  column?: number
}

export class ConfigError extends Error {
  /** `file`: the file the issues are in, for `file:line:column` of a JSON syntax error. */
  constructor(
    readonly issues: ConfigIssue[],
    readonly file?: string
  ) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('\n'))
    this.name = 'ConfigError'
  }
}

/** `vms[1].workload.kind` from zod's path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`
    else out += out ? `.${String(p)}` : String(p)
  }
  return out || '(root)'
}

/**
 * Bring an older document up to the current version. There is only version 1 so far; a
 * document without a schema id is rejected with a clear message rather than guessed at.
 */
export function migrate(doc: unknown): unknown {
  return doc
}

export type ValidationResult = { ok: true; config: Experiment } | { ok: false; issues: ConfigIssue[] }

/** Validate a parsed JSON document, filling defaults. */
export function validateExperiment(doc: unknown): ValidationResult {
  const r = ExperimentSchema.safeParse(migrate(doc), { reportInput: true })
  if (r.success) return { ok: true, config: r.data }
  return { ok: false, issues: schemaIssues(r.error.issues as unknown as SchemaIssue[]) }
}

/** Zod's issues as ConfigIssues in the user's words (src/core/experiment/messages.ts), paths escaped. */
export function schemaIssues(issues: readonly SchemaIssue[]): ConfigIssue[] {
  return dropSafeIntegerNoise(issues).map((i) => {
    const path = escapeControl(formatPath(i.path))
    return { path, message: issueMessage(i, path) }
  })
}

/** Validate or throw a ConfigError naming every bad field. */
export function parseExperiment(doc: unknown): Experiment {
  const r = validateExperiment(doc)
  if (!r.ok) throw new ConfigError(r.issues)
  return r.config
}

/** JSON text as a document, or a syntax error reported as one issue at the root. */
export function parseJsonText(text: string): { ok: true; doc: unknown } | { ok: false; issues: ConfigIssue[] } {
  try {
    return { ok: true, doc: JSON.parse(text) }
  } catch {
    // Not JSON.parse's message: it quotes the text (raw newlines, file contents).
    const where = findJsonSyntaxError(text)
    if (!where) return { ok: false, issues: [{ path: '(root)', message: 'invalid JSON' }] }
    return { ok: false, issues: [{ path: '(root)', message: `invalid JSON at line ${where.line}, column ${where.column}: ${where.message}`, line: where.line, column: where.column }] }
  }
}

/** An issue as one line, `file:line:column: message` for a JSON syntax error, `path: message` otherwise. */
export function formatIssueLine(i: ConfigIssue, file?: string): string {
  if (i.line !== undefined && i.column !== undefined && file !== undefined) {
    return escapeControl(`${file}:${i.line}:${i.column}: ${i.message.replace(/^invalid JSON at line \d+, column \d+: /, 'invalid JSON: ')}`)
  }
  return escapeControl(`${i.path}: ${i.message}`)
}

/** Parse JSON text and validate it; a syntax error is reported as a ConfigIssue at the root. */
export function parseExperimentText(text: string): ValidationResult {
  const j = parseJsonText(text)
  return j.ok ? validateExperiment(j.doc) : j
}

/**
 * Replace an experiment document's duration (before validation). A sampling interval longer
 * than the new duration is shortened to it, so a shortened run still gets its final sample.
 */
export function overrideDuration(doc: Record<string, unknown>, duration: number): void {
  doc.duration_s = duration
  const every = typeof doc.sample_every_s === 'number' ? doc.sample_every_s : SAMPLE_EVERY_DEFAULT_S
  if (every > duration) doc.sample_every_s = duration
}

/** pages_to_scan in force for a scanner config (pages_per_s wins when given). */
export function pagesToScan(s: ScannerConfig): number {
  if (s.pages_per_s !== undefined) return Math.max(1, Math.round((s.pages_per_s * s.sleep_millisecs) / 1000))
  return s.pages_to_scan
}

/** Nominal scan rate in pages per second (ignoring the scan's own CPU time). */
export function nominalRate(s: ScannerConfig): number {
  return (pagesToScan(s) * 1000) / s.sleep_millisecs
}

/** The JSON Schema of the experiment document (input form: defaults are optional). */
export function experimentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ExperimentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return { $id: 'https://samepage-lab.invalid/schema/experiment-1.json', title: 'Samepage Lab experiment', ...schema }
}
