/**
 * What the editor needs to know about the config schema beyond its types: the choices of each
 * select, the defaults a new VM, workload or scanner starts from (taken from the zod schema
 * itself, so they cannot drift), and labels for the parameters.
 */
import { ScannerSchema, VmSchema, WorkloadSchema, type ScannerConfig, type VmConfig, type WorkloadConfig } from '../../../core/experiment/config.ts'
import { CPU_PROFILES } from '../../../core/machine/cost.ts'
import { IMAGE_NAMES } from '../../../core/guests/workloads/images.ts'

export type WorkloadKind = WorkloadConfig['kind']
export type ScannerKind = ScannerConfig['kind']

export const WORKLOAD_KINDS: readonly WorkloadKind[] = WorkloadSchema.options.map((o) => o.shape.kind.value)
export const SCANNER_KINDS: readonly ScannerKind[] = ScannerSchema.options.map((o) => o.shape.kind.value)
export const IMAGES: readonly string[] = IMAGE_NAMES
export const CPU_PROFILE_LIST = Object.values(CPU_PROFILES).map((p) => ({ id: p.id, label: p.label, cores: p.cores }))

/** Labels of the workload kinds; a kind not named here shows as itself. */
export const WORKLOAD_LABELS: Readonly<Record<string, string>> = {
  boot: 'Boot only',
  idle: 'Idle',
  'kernel-build': 'Kernel build',
  'mem-micro': 'Memory micro-benchmark',
  'cpu-micro': 'CPU micro-benchmark',
  trace: 'Trace replay',
  'file-cases': "The paper's four file cases",
  'office-docs': 'Office documents',
  'web-app': 'Web application (PaaS)'
}

/** Labels of the scanner kinds; a kind not named here shows as itself. */
export const SCANNER_LABELS: Readonly<Record<string, string>> = {
  ksm: 'KSM (linear scan)',
  hint: 'Hint (the paper)',
  xlh: 'XLH (disk I/O hints + KSM)',
  esx: 'ESX (random sampling)',
  satori: 'Satori (sharing at disk reads)',
  hybrid: 'Hybrid (hints + slow KSM pass)',
  none: 'None (no sharing)'
}

/** Label of each kind-specific scanner knob (docs/model.md names them); a knob not named here shows as itself. */
export const SCANNER_KNOB_LABELS: Readonly<Record<string, string>> = {
  hint_stack_size: 'Hint stack size',
  hash_table_size: 'Hash table size',
  free_page_hints: 'Guest names freed pages',
  hint_zero_pages: 'Hint zero pages',
  use_zero_pages: 'use_zero_pages',
  smart_scan: 'Smart scan (Linux 6.7+)',
  advisor_mode: 'Advisor (Linux 6.8+)',
  advisor_target_scan_time: 'Target scan time (s)',
  advisor_max_cpu: 'Advisor max CPU (%)',
  advisor_min_pages_to_scan: 'Advisor min pages_to_scan',
  advisor_max_pages_to_scan: 'Advisor max pages_to_scan',
  hint_ratio: 'Hint ratio',
  linear_ratio: 'Linear ratio',
  share_scan_time_s: 'Share scan time (s)',
  ksm_share: 'KSM share of the rate'
}

/** A one-line explanation shown under a boolean knob. */
export const SCANNER_KNOB_HINTS: Readonly<Record<string, string>> = {
  hint_zero_pages: 'the guest also names the pages it zero-fills',
  use_zero_pages: 'map unchanged zero pages to the kernel zero page',
  smart_scan: 'skip pages that keep failing to merge'
}

/** Label and unit of each workload parameter (docs/model.md names them). */
export const WORKLOAD_PARAM_LABELS: Record<string, string> = {
  activity_pages_per_s: 'Activity (pages/s)',
  units: 'Units',
  unit_cpu_s: 'CPU per unit (s)',
  heap_mib: 'Heap (MiB)',
  jobs: 'Jobs (make -j)',
  working_set_mib: 'Working set (MiB)',
  writes_per_s: 'Writes/s',
  shared_fraction: 'Shared fraction',
  work_s: 'Work (CPU s)',
  file: 'Trace file',
  cpu: 'vCPUs busy',
  headers: 'Headers',
  headers_per_unit: 'Headers per unit',
  files: 'Files',
  pages_per_file: 'Pages per file',
  read_pages_per_s: 'Read (pages/s)',
  same_path_same_content: 'Case 1 weight: same path, same content',
  different_path_different_content: 'Case 2 weight: different path, different content',
  same_path_different_content: 'Case 3 weight: same path, different content',
  different_path_same_content: 'Case 4 weight: different path, same content',
  documents: 'Documents',
  header_pages: 'Template pages per document',
  body_pages: 'Body pages (median)',
  templates: 'Templates',
  common_fraction: 'Shared-folder fraction',
  opens_per_s: 'Opens/s',
  runtime: 'Runtime',
  install_prefix: 'Install prefix',
  app_mib: 'Application (MiB)',
  requests_per_s: 'Requests/s'
}

/**
 * A workload of `kind` with every parameter at its default. A parameter with no default (the
 * trace workload's file) starts empty, so the editor asks for it.
 */
export function defaultWorkload(kind: WorkloadKind): WorkloadConfig {
  if (kind === 'trace') return { ...WorkloadSchema.parse({ kind, file: '-' }), file: '' } as WorkloadConfig
  return WorkloadSchema.parse({ kind })
}

/** A scanner knob or workload parameter as the editor shows it: an enum is a select. */
export interface ParamInfo {
  name: string
  type: 'number' | 'boolean' | 'string' | 'select'
  /** Choices of a select. */
  options?: readonly string[]
}

/** The values of an enum field of the schema (through its default), or []. */
function enumValues(field: unknown): readonly string[] {
  let f = field as { options?: unknown; unwrap?: () => unknown } | undefined
  for (let i = 0; i < 3 && f && !Array.isArray(f.options) && typeof f.unwrap === 'function'; i++) f = f.unwrap() as typeof f
  return f && Array.isArray(f.options) ? (f.options as string[]) : []
}

/** Fields of a parsed config object (in schema order, those `skip` does not name) with their types. */
function paramInfos(values: object, shape: Record<string, unknown>, skip: (name: string) => boolean): ParamInfo[] {
  return Object.entries(values)
    .filter(([name]) => !skip(name))
    .map(([name, v]): ParamInfo => {
      if (typeof v === 'boolean') return { name, type: 'boolean' }
      if (typeof v !== 'string') return { name, type: 'number' }
      const options = enumValues(shape[name])
      return options.length > 0 ? { name, type: 'select', options } : { name, type: 'string' }
    })
}

/** The parameters of a workload (everything but its kind), in schema order, with their types. */
export function workloadParams(kind: WorkloadKind): ParamInfo[] {
  const shape = (WorkloadSchema.options.find((o) => o.shape.kind.value === kind)?.shape ?? {}) as Record<string, unknown>
  return paramInfos(defaultWorkload(kind), shape, (name) => name === 'kind')
}

/** Knobs every scanner kind has; the lane editor shows them in its own rows. */
const COMMON_SCANNER_KNOBS = new Set(['kind', 'pages_to_scan', 'sleep_millisecs', 'pages_per_s', 'max_page_sharing', 'stable_node_chains_prune_millisecs'])

/** The knobs of a scanner kind beyond the common ones, in schema order, with their types. */
export function scannerKnobs(kind: ScannerKind): ParamInfo[] {
  const shape = (ScannerSchema.options.find((o) => o.shape.kind.value === kind)?.shape ?? {}) as Record<string, unknown>
  return paramInfos(ScannerSchema.parse({ kind }), shape, (name) => COMMON_SCANNER_KNOBS.has(name))
}

/** Whether a knob matters with the scanner's other settings (the advisor's knobs only with the advisor on). */
export function knobApplies(scanner: Record<string, unknown>, name: string): boolean {
  if (name.startsWith('advisor_') && name !== 'advisor_mode') return scanner.advisor_mode === 'scan-time'
  return true
}

/** A scanner of `kind`, keeping the knobs both kinds share from `from` when given. */
export function scannerOfKind(kind: ScannerKind, from?: Partial<ScannerConfig>): ScannerConfig {
  const shared: Record<string, unknown> = {}
  if (from) {
    for (const k of ['pages_to_scan', 'sleep_millisecs', 'pages_per_s', 'max_page_sharing', 'stable_node_chains_prune_millisecs'] as const) {
      if (from[k] !== undefined) shared[k] = from[k]
    }
  }
  const parsed = ScannerSchema.safeParse({ ...shared, kind })
  return parsed.success ? parsed.data : ScannerSchema.parse({ kind })
}

/** A new VM with the schema's defaults. */
export function defaultVm(name: string): VmConfig {
  return VmSchema.parse({ name, workload: { kind: 'idle' } })
}

/** `base`, or `base-2`, `base-3`... whichever is not taken. */
export function uniqueName(base: string, taken: Iterable<string>): string {
  const names = new Set(taken)
  if (!names.has(base)) return base
  const stem = base.replace(/-\d+$/, '')
  for (let i = 2; ; i++) if (!names.has(`${stem}-${i}`)) return `${stem}-${i}`
}
