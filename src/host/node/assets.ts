/**
 * Reads the files an experiment refers to (real images, memory snapshots, traces) for the
 * engine, in Node: the CLI and the desktop app's session worker. Relative paths resolve against
 * `baseDir` (the CLI: the config file's folder). Problems come back as config issues naming the
 * field (`vms[0].image_file: cannot read x.spimg: ENOENT`), like any other config problem.
 */
import { isAbsolute, resolve } from 'node:path'
import { assetRefs, checkAssets, decodeAsset, type Asset, type Assets } from '../../core/experiment/assets.ts'
import { MAX_ASSET_BYTES, MAX_CPU_PROFILE_BYTES, MAX_TRACE_BYTES, maxAssetBytes } from '../../core/experiment/asset-refs.ts'
import type { ConfigIssue, Experiment } from '../../core/experiment/config.ts'
import { FileReadError, formatBytes, readRegularFileSync } from './read-file.ts'

export { MAX_ASSET_BYTES, MAX_CPU_PROFILE_BYTES, MAX_TRACE_BYTES }

export function resolveAssetPath(file: string, baseDir: string): string {
  return isAbsolute(file) ? file : resolve(baseDir, file)
}

/**
 * Read and parse every file `config` names. `quote` false: parse errors say where, not what the
 * file holds (the desktop app's worker; the CLI quotes, for the user's own terminal).
 */
export function loadAssets(config: Experiment, baseDir: string, quote = true): { assets: Assets; issues: ConfigIssue[] } {
  const assets: Assets = new Map()
  const issues: ConfigIssue[] = []
  const failed = new Set<string>()
  const tried = new Map<string, string | null>() // file -> error message, or null when loaded
  for (const ref of assetRefs(config)) {
    let problem = tried.get(ref.file)
    if (problem === undefined) {
      problem = null
      try {
        assets.set(ref.file, readAsset(ref.kind, resolveAssetPath(ref.file, baseDir), ref.file, quote))
      } catch (e) {
        problem = (e as Error).message
      }
      tried.set(ref.file, problem)
    }
    if (problem !== null) {
      issues.push({ path: ref.field, message: problem })
      failed.add(ref.field)
    }
  }
  // Kind, size and content checks for what did load (what did not is reported above).
  for (const i of checkAssets(config, assets)) if (!failed.has(i.path)) issues.push(i)
  return { assets, issues }
}

function readAsset(kind: Asset['kind'], abs: string, name: string, quote: boolean): Asset {
  const limit = maxAssetBytes(kind)
  let bytes: Uint8Array
  try {
    bytes = readRegularFileSync(abs, limit)
  } catch (e) {
    if (e instanceof FileReadError && e.code === 'EFBIG') throw new Error(`${name} is larger than ${formatBytes(limit)}, the most a ${kind} may be`, { cause: e })
    if (e instanceof FileReadError) throw new Error(`cannot read ${name}: ${e.reason}`, { cause: e })
    throw e
  }
  return decodeAsset(kind, bytes, name, quote)
}

/** The config with every file path it names made absolute (against `baseDir`). */
export function withAbsoluteAssetPaths(config: Experiment, baseDir: string): Experiment {
  const abs = (f: string): string => resolveAssetPath(f, baseDir)
  return {
    ...config,
    host: config.host.cpu_profile_file !== undefined ? { ...config.host, cpu_profile_file: abs(config.host.cpu_profile_file) } : config.host,
    vms: config.vms.map((v) => ({
      ...v,
      ...(v.image_file !== undefined ? { image_file: abs(v.image_file) } : {}),
      ...(v.snapshot_file !== undefined ? { snapshot_file: abs(v.snapshot_file) } : {}),
      workload: v.workload.kind === 'trace' ? { ...v.workload, file: abs(v.workload.file) } : v.workload
    }))
  }
}
