// Bundles the Node session worker (src/host/node/session-worker.ts) into a folder, as
// electron-vite does for out/main/session-worker.js, so tests run it in a real worker thread.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Writes `dir`/session-worker.mjs (dependencies included) and returns its path. */
export async function bundleSessionWorker(dir: string): Promise<string> {
  const file = join(dir, 'session-worker.mjs')
  await build({
    entryPoints: [join(ROOT, 'src/host/node/session-worker.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error'
  })
  return file
}
