// Bundles a TypeScript entry of this repo with esbuild into node_modules/.cache/samepage/ when
// any source changed, and imports it. Used by bin/samepage.js and bench/run.js, so the CLI
// works right after `npm install` and runs as plain ESM at full speed.
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, 'node_modules', '.cache', 'samepage')
const SOURCE_DIRS = ['src/core', 'src/host', 'src/cli', 'src/kernel', 'bench']

/** Newest modification time (ms) of a file or anything under a folder; 0 if missing (scripts/web.mjs). */
export function newestMtime(path) {
  let st
  try {
    st = statSync(path)
  } catch {
    return 0
  }
  if (!st.isDirectory()) return st.mtimeMs
  let newest = st.mtimeMs
  for (const e of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, e)))
  return newest
}

/**
 * A key of the sources the bundle is built from: every file's path, size and modification time
 * (and this repo's root), hashed. A bundle is reused only when it was built from exactly these
 * files: a newer bundle written by another checkout that shares node_modules, or files put back
 * with older times, no longer pass for fresh (a newest-mtime test let both through).
 */
export function sourceKey(paths) {
  const h = createHash('sha256')
  h.update(root)
  const walk = (path) => {
    let st
    try {
      st = statSync(path)
    } catch {
      h.update(`${path}\0missing\n`)
      return
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(path).sort()) walk(join(path, e))
      return
    }
    h.update(`${path}\0${st.size}\0${st.mtimeMs}\n`)
  }
  for (const p of paths) walk(p)
  return h.digest('hex')
}

/** Bundle `entry` (a path relative to the repo root) as `name`.mjs if stale; return its URL. */
export async function bundled(name, entry) {
  const out = join(outDir, `${name}.mjs`)
  const keyFile = `${out}.key`
  const key = sourceKey([...SOURCE_DIRS.map((d) => join(root, d)), fileURLToPath(import.meta.url), join(root, 'package-lock.json')])
  let built = ''
  try {
    built = readFileSync(keyFile, 'utf8')
  } catch {
    built = ''
  }
  if (built !== key || !existsSync(out)) {
    mkdirSync(outDir, { recursive: true })
    const result = await build({
      entryPoints: [join(root, entry)],
      outfile: out,
      write: false,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'error'
    })
    // Write then rename, so a concurrent run never imports a half-written bundle.
    const tmp = `${out}.${process.pid}.tmp`
    writeFileSync(tmp, result.outputFiles[0].contents)
    renameSync(tmp, out)
    const tmpKey = `${keyFile}.${process.pid}.tmp`
    writeFileSync(tmpKey, key)
    renameSync(tmpKey, keyFile)
  }
  return pathToFileURL(out).href
}
