// Bundles a TypeScript entry of this repo with esbuild into node_modules/.cache/samepage/ when
// any source changed, and imports it. Used by bin/samepage.js and bench/run.js, so the CLI
// works right after `npm install` and runs as plain ESM at full speed.
import { build } from 'esbuild'
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, 'node_modules', '.cache', 'samepage')
const SOURCE_DIRS = ['src/core', 'src/host', 'src/cli', 'src/kernel', 'bench']

/** Newest modification time (ms) of a file or anything under a folder; 0 if missing. */
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

/** Bundle `entry` (a path relative to the repo root) as `name`.mjs if stale; return its URL. */
export async function bundled(name, entry) {
  const out = join(outDir, `${name}.mjs`)
  const sources = Math.max(...SOURCE_DIRS.map((d) => newestMtime(join(root, d))), newestMtime(fileURLToPath(import.meta.url)), newestMtime(join(root, 'package-lock.json')))
  if (newestMtime(out) < sources) {
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
  }
  return pathToFileURL(out).href
}
