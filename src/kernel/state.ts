/**
 * The state file: KSM's knobs as they were before a `kernel run` changed them, kept on disk while
 * it runs. It is also the lock that keeps two runs from using KSM at once (created with O_EXCL).
 * A run that exits in any way a process can catch (normal end, error, SIGINT, SIGTERM) restores
 * the knobs and removes the file; after a SIGKILL the file stays, and `samepage kernel restore`
 * or the next `kernel run` puts the knobs back from it.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { KsmError, KsmSysfs, type KnobState } from './sysfs.ts'

export const STATE_SCHEMA = 'samepage-lab/ksm-state@1'

/** /run is root's tmpfs: it empties at reboot, as the kernel's knobs go back to their defaults. */
export function defaultStatePath(): string {
  return process.env.SAMEPAGE_KSM_STATE ?? (existsSync('/run') ? '/run/samepage-lab/ksm-state.json' : '/tmp/samepage-lab-ksm-state.json')
}

export interface StateFile extends KnobState {
  schema: typeof STATE_SCHEMA
  pid: number
  sysfs: string
  started: string
}

/** Whether a process with this pid exists (signal 0). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function readState(path: string): StateFile | null {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new KsmError(`cannot read the KSM state file ${path}: ${(e as NodeJS.ErrnoException).code}`, { cause: e })
  }
  let doc: StateFile
  try {
    doc = JSON.parse(text) as StateFile
  } catch {
    throw new KsmError(`the KSM state file ${path} is not JSON; check /sys/kernel/mm/ksm by hand and remove it`)
  }
  if (doc?.schema !== STATE_SCHEMA || typeof doc.run !== 'string' || typeof doc.knobs !== 'object' || typeof doc.pid !== 'number') {
    throw new KsmError(`the KSM state file ${path} is not a ${STATE_SCHEMA} document; check /sys/kernel/mm/ksm by hand and remove it`)
  }
  return doc
}

/**
 * Create the state file; throws KsmError if one exists (the caller restores or refuses first).
 * The content is written to a temporary file and fsynced; the final name is then taken with an
 * O_EXCL open (the lock: of two runs starting at once, one gets it) and the content renamed over
 * it, so the file is either absent, briefly empty (a reader reports it as not JSON), or whole.
 */
export function createState(path: string, sysfs: KsmSysfs, state: KnobState): StateFile {
  mkdirSync(dirname(path), { recursive: true })
  const doc: StateFile = { schema: STATE_SCHEMA, pid: process.pid, sysfs: sysfs.root, started: new Date().toISOString(), ...state }
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w', 0o600)
  writeSync(fd, JSON.stringify(doc, null, 2) + '\n')
  fsyncSync(fd)
  closeSync(fd)
  // O_EXCL on the final name is the lock; the content arrives by rename over the empty lock file.
  let lock: number
  try {
    lock = openSync(path, 'wx', 0o600)
  } catch (e) {
    rmSync(tmp, { force: true })
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KsmError(`another kernel run holds ${path}`)
    throw e
  }
  closeSync(lock)
  renameSync(tmp, path)
  return doc
}

export function removeState(path: string): void {
  rmSync(path, { force: true })
}

/**
 * Restore from a state file left by a run that is gone: the knobs and `run` as recorded, then
 * the file is removed. Returns the restored state, or null when there was no file. Refuses while
 * the process that wrote it still runs.
 */
export function restoreFromState(path: string, sysfsFor: (root: string) => KsmSysfs = (r) => new KsmSysfs(r)): StateFile | null {
  const doc = readState(path)
  if (doc === null) return null
  if (doc.pid !== process.pid && pidAlive(doc.pid)) throw new KsmError(`kernel run (pid ${doc.pid}) is still using KSM; stop it first (it restores the knobs itself)`)
  sysfsFor(doc.sysfs).restore(doc)
  removeState(path)
  return doc
}
