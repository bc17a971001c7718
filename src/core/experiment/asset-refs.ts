/**
 * The files a config refers to (host.cpu_profile_file, image_file, snapshot_file, a trace workload's file) and the
 * largest each may be. Apart from assets.ts so that a host can check references (the desktop
 * app's main process) without loading the parsers and the guest model.
 */
import type { Experiment } from './config.ts'

/** Largest image or snapshot read whole: they hold 8 bytes per 4 KiB page. */
export const MAX_ASSET_BYTES = 1 << 30
/** Largest trace: it is read as one string (a line per event, about 100 bytes a line). */
export const MAX_TRACE_BYTES = 256 << 20
/** Largest CPU profile file: a few hundred bytes of JSON; 1 MiB is generous. */
export const MAX_CPU_PROFILE_BYTES = 1 << 20

/** The most a file of this kind may be. */
export function maxAssetBytes(kind: AssetRef['kind']): number {
  return kind === 'trace' ? MAX_TRACE_BYTES : kind === 'cpu-profile' ? MAX_CPU_PROFILE_BYTES : MAX_ASSET_BYTES
}

export interface AssetRef {
  /** Field path of the reference (`vms[0].image_file`). */
  field: string
  /** The path as the config writes it. */
  file: string
  kind: 'image' | 'snapshot' | 'trace' | 'cpu-profile'
  /** The VM it belongs to; -1 for the host's (host.cpu_profile_file). */
  vm: number
}

/** Every file the config refers to, in config order. */
export function assetRefs(config: Experiment): AssetRef[] {
  const refs: AssetRef[] = []
  if (config.host.cpu_profile_file !== undefined) refs.push({ field: 'host.cpu_profile_file', file: config.host.cpu_profile_file, kind: 'cpu-profile', vm: -1 })
  config.vms.forEach((v, i) => {
    if (v.image_file !== undefined) refs.push({ field: `vms[${i}].image_file`, file: v.image_file, kind: 'image', vm: i })
    if (v.snapshot_file !== undefined) refs.push({ field: `vms[${i}].snapshot_file`, file: v.snapshot_file, kind: 'snapshot', vm: i })
    if (v.workload.kind === 'trace') refs.push({ field: `vms[${i}].workload.file`, file: v.workload.file, kind: 'trace', vm: i })
  })
  return refs
}

