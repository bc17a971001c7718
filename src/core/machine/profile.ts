/**
 * CPU profile files (`samepage-lab/cpu-profile@1`): a host's scanner costs as
 * `samepage kernel calibrate` measured them, named by an experiment's `host.cpu_profile_file`.
 * Pure: parsing and validation; the host reads the file (src/host/node/assets.ts).
 *
 *   { "schema": "samepage-lab/cpu-profile@1", "profile": { "id": ..., "label": ..., "cores": 2,
 *     "ghz": 0, "hz": 250, "timer_wheel": "non-cascading", "page_visit_ns": ..., ... every cost
 *     of CpuProfile }, "...": "informative" }
 */
import type { CpuProfile } from './cost.ts'

export const CPU_PROFILE_SCHEMA = 'samepage-lab/cpu-profile@1'

export class CpuProfileFormatError extends Error {}

/** The cost fields of a CpuProfile, every one a non-negative number of nanoseconds. */
export const PROFILE_COSTS = ['page_visit_ns', 'page_skip_ns', 'checksum_ns', 'tree_step_ns', 'dup_step_ns', 'page_compare_ns', 'hash_lookup_ns', 'merge_ns', 'cow_break_ns', 'hint_lookup_ns', 'wakeup_ns', 'vm_exit_ns'] as const
// Every `*_ns` field of CpuProfile is in the list: this fails to compile when a cost is added.
type CostField = Extract<keyof CpuProfile, `${string}_ns`>
const _allCosts: Record<CostField, true> = Object.fromEntries(PROFILE_COSTS.map((k) => [k, true])) as Record<(typeof PROFILE_COSTS)[number], true>
void _allCosts

export function parseCpuProfileFile(text: string, name: string): CpuProfile {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw new CpuProfileFormatError(`${name}: invalid JSON: ${(e as Error).message}`)
  }
  const d = doc as { schema?: unknown; profile?: Record<string, unknown> }
  if (d === null || typeof d !== 'object' || d.schema !== CPU_PROFILE_SCHEMA) throw new CpuProfileFormatError(`${name}: not a CPU profile (expected "schema": "${CPU_PROFILE_SCHEMA}")`)
  const p = d.profile
  if (p === null || typeof p !== 'object') throw new CpuProfileFormatError(`${name}: profile: missing`)
  for (const k of ['id', 'label'] as const) if (typeof p[k] !== 'string' || (p[k] as string).length === 0) throw new CpuProfileFormatError(`${name}: profile.${k}: expected a non-empty string`)
  if (!Number.isInteger(p.cores) || (p.cores as number) < 1 || (p.cores as number) > 1024) throw new CpuProfileFormatError(`${name}: profile.cores: expected an integer from 1 to 1024`)
  if (typeof p.ghz !== 'number' || !(p.ghz >= 0)) throw new CpuProfileFormatError(`${name}: profile.ghz: expected a number >= 0`)
  if (!Number.isInteger(p.hz) || (p.hz as number) < 10 || (p.hz as number) > 10_000) throw new CpuProfileFormatError(`${name}: profile.hz: expected the kernel's CONFIG_HZ, an integer from 10 to 10000`)
  if (p.timer_wheel !== 'cascading' && p.timer_wheel !== 'non-cascading') throw new CpuProfileFormatError(`${name}: profile.timer_wheel: expected "cascading" or "non-cascading"`)
  for (const k of PROFILE_COSTS) {
    const v = p[k]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e9) throw new CpuProfileFormatError(`${name}: profile.${k}: expected nanoseconds from 0 to 1e9`)
  }
  const out: Record<string, unknown> = { id: p.id, label: p.label, cores: p.cores, ghz: p.ghz, hz: p.hz, timer_wheel: p.timer_wheel }
  for (const k of PROFILE_COSTS) out[k] = p[k]
  return out as unknown as CpuProfile
}
