/**
 * Stand-in for src/host/node/result-dir.ts (the lead's whole-folder atomic writer, arriving on
 * main) with the same signature, until it lands; then the sweep imports that one instead.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

export type ResultFile = [name: string, data: string | Uint8Array]

/** Writes all files so that after any kill DIR holds the whole old result or the whole new one. */
export async function writeResultDir(dir: string, files: ResultFile[]): Promise<void> {
  const parent = dirname(dir)
  mkdirSync(parent, { recursive: true })
  const stage = join(parent, `.${basename(dir)}.tmp-${process.pid}`)
  rmSync(stage, { recursive: true, force: true })
  mkdirSync(stage)
  try {
    for (const [name, data] of files) writeFileSync(join(stage, name), data)
    if (existsSync(dir)) {
      const old = join(parent, `.${basename(dir)}.old-${process.pid}`)
      renameSync(dir, old)
      renameSync(stage, dir)
      rmSync(old, { recursive: true, force: true })
    } else renameSync(stage, dir)
  } catch (e) {
    rmSync(stage, { recursive: true, force: true })
    throw e
  }
}
