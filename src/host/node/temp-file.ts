/**
 * Temporary files of single-file atomic writes (`image build -o IMAGE`, `dump import -o
 * SNAPSHOT`): the output is written to `.NAME.PID.STAMP.tmp` beside NAME and renamed over it
 * when complete (rename(2) is atomic within a folder), so NAME is always the whole old file or
 * the whole new one. A process killed before the rename leaves its temporary file behind; the
 * next write of the same NAME recognises it by the pattern and removes it when the PID in its
 * name is no longer running (a live PID is another writer at work, left alone).
 *
 * `faultPoint` is the fault-injection hook the kill tests use: with SAMEPAGE_FAULT_AT=STEP in
 * the environment the process kills itself (SIGKILL, no clean-up of any kind) when it reaches
 * STEP, so every step of a write can be tested for what a kill there leaves, without timing luck.
 */
import { readdirSync, unlinkSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** The steps of a single-file write, in order. */
export const WRITE_STEPS = ['temp-created', 'temp-written', 'temp-synced', 'renamed'] as const
export type WriteStep = (typeof WRITE_STEPS)[number]

/** The fault-injection hook: SIGKILL this process at `step` when SAMEPAGE_FAULT_AT names it. */
export function faultPoint(step: string): void {
  if (process.env.SAMEPAGE_FAULT_AT === step) process.kill(process.pid, 'SIGKILL')
}

/** The temporary file a write of `out` uses: hidden, beside it, naming this process. */
export function tempPathFor(out: string): string {
  return join(dirname(out), `.${basename(out)}.${process.pid}.${Date.now().toString(36)}.tmp`)
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Whether a process with this id is running (kill(pid, 0): ESRCH = no such process). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by someone else
  }
}

/**
 * Removes the temporary files that writes of `out` killed before their rename left beside it
 * (their PID no longer runs); returns their names. Errors (an unreadable folder) remove nothing.
 */
export function removeStaleTemps(out: string): string[] {
  const dir = dirname(out)
  const pattern = new RegExp(`^\\.${escapeRegex(basename(out))}\\.(\\d+)\\.[0-9a-z]+\\.tmp$`)
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const m = pattern.exec(name)
    if (!m || pidAlive(Number(m[1]))) continue
    try {
      unlinkSync(join(dir, name))
      removed.push(name)
    } catch {
      // gone already, or not ours to remove: leave it
    }
  }
  return removed
}
