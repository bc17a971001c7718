// Which files a page may make the session worker read. A config names files (image_file,
// snapshot_file, a trace's file) that the worker reads; the page is not trusted to name any
// path on the machine, or a compromised page could probe the file system through the errors.
// A file may be read only when it is under the folder of the window's experiment file, or is a
// file the user picked in a dialog in this window; it must be a regular file (not a device, a
// FIFO or a folder) within the size limit of its kind. Paths outside are refused before the
// file system is touched, so a refusal says nothing about what exists there.
import { realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { assetRefs, maxAssetBytes, type AssetRef } from '../core/experiment/asset-refs.ts'
import { validateExperiment, type ConfigIssue } from '../core/experiment/config.ts'

export interface AssetAccess {
  /** The window's experiment file, or null when it was never saved or opened. */
  docPath: string | null
  /** Absolute paths the user picked in a dialog in this window. */
  picked: ReadonlySet<string>
}

function within(path: string, folder: string): boolean {
  const rel = relative(folder, path)
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel)
}

function realpath(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}

/**
 * Issues (by field) for every file `doc` names that may not be read; empty when all may (or the
 * document is not a valid experiment: the session reports that itself).
 */
export function assetAccessIssues(doc: unknown, access: AssetAccess): ConfigIssue[] {
  const r = validateExperiment(doc)
  if (!r.ok) return []
  const issues: ConfigIssue[] = []
  const folder = access.docPath === null ? null : dirname(access.docPath)
  const realFolder = folder === null ? null : realpath(folder)
  for (const ref of assetRefs(r.config)) {
    const problem = refProblem(ref.file, ref.kind, folder, realFolder, access.picked)
    if (problem !== null) issues.push({ path: ref.field, message: problem })
  }
  return issues
}

function refProblem(file: string, kind: AssetRef['kind'], folder: string | null, realFolder: string | null, picked: ReadonlySet<string>): string | null {
  if (folder === null && !isAbsolute(file)) return `${file}: save the experiment first; files are read from its folder`
  const abs = isAbsolute(file) ? resolve(file) : resolve(folder as string, file)
  const outside = `${file} is outside the experiment's folder; only files in that folder, or picked in a dialog, can be read`
  const wasPicked = picked.has(abs)
  if (!wasPicked && (folder === null || !within(abs, folder))) return outside
  const real = realpath(abs)
  if (real === null) return `cannot read ${file}: no such file`
  // A link inside the folder that points out of it is outside too.
  if (!wasPicked && !picked.has(real) && (realFolder === null || !within(real, realFolder))) return outside
  let st
  try {
    st = statSync(real)
  } catch {
    return `cannot read ${file}`
  }
  if (!st.isFile()) return `${file} is not a regular file`
  const limit = maxAssetBytes(kind)
  if (st.size > limit) return `${file} is larger than ${limit / 2 ** 20} MiB, the most a ${kind} may be`
  return null
}
