/**
 * Reads the files an experiment refers to (real images, memory snapshots, traces) for the
 * engine, in Node: the CLI and the desktop app's session worker. Relative paths resolve against
 * `baseDir` (the CLI: the config file's folder). Problems come back as config issues naming the
 * field (`vms[0].image_file: cannot read x.spimg: ENOENT`), like any other config problem.
 */
import { readFileSync, statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { assetRefs, checkAssets, decodeAsset, type Asset, type Assets } from '../../core/assets.ts'
import type { ConfigIssue, Experiment } from '../../core/config.ts'

/** Largest file read whole: images and snapshots hold 8 bytes per 4 KiB page, traces a line per event. */
export const MAX_ASSET_BYTES = 1 << 30

export function resolveAssetPath(file: string, baseDir: string): string {
  return isAbsolute(file) ? file : resolve(baseDir, file)
}

export function loadAssets(config: Experiment, baseDir: string): { assets: Assets; issues: ConfigIssue[] } {
  const assets: Assets = new Map()
  const issues: ConfigIssue[] = []
  const failed = new Set<string>()
  const tried = new Map<string, string | null>() // file -> error message, or null when loaded
  for (const ref of assetRefs(config)) {
    let problem = tried.get(ref.file)
    if (problem === undefined) {
      problem = null
      try {
        assets.set(ref.file, readAsset(ref.kind, resolveAssetPath(ref.file, baseDir), ref.file))
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

function readAsset(kind: Asset['kind'], abs: string, name: string): Asset {
  let size: number
  try {
    const st = statSync(abs)
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a regular file' })
    size = st.size
  } catch (e) {
    throw new Error(`cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e })
  }
  if (size > MAX_ASSET_BYTES) throw new Error(`${name} is larger than ${MAX_ASSET_BYTES / 2 ** 20} MiB`)
  let bytes: Uint8Array
  try {
    bytes = readFileSync(abs)
  } catch (e) {
    throw new Error(`cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e })
  }
  return decodeAsset(kind, bytes, name)
}
