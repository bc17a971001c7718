// Atomic file writes (DESIGN.md, "Files the user keeps"): write a temporary file next to the
// target, flush it to disk, then rename it over the target. A crash or a full disk leaves the
// old file or the new one, never half of either.
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

let counter = 0

/** The temporary file `atomicWrite` uses for `path`: hidden, in the same folder (same file system). */
export function tempPathFor(path: string): string {
  counter = (counter + 1) % 1e9
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.tmp`)
}

/** Write `data` to `path` atomically; on failure the temporary file is removed and the error rethrown. */
export async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(path)
  const handle = await open(tmp, 'wx', 0o644)
  try {
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
  } catch (e) {
    await unlink(tmp).catch(() => undefined)
    throw e
  }
}

/** The synchronous form, for small state files written while the app quits. */
export function atomicWriteSync(path: string, data: string): void {
  const tmp = tempPathFor(path)
  try {
    writeFileSync(tmp, data, { flag: 'wx', mode: 0o644 })
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}
