/**
 * Whole-folder atomic results (DESIGN.md, "Files the user keeps"): after a kill at any point, a
 * result folder holds the whole old result or the whole new one, never a mix.
 *
 * How: every file is written and flushed into a hidden staging folder beside DIR
 * (`.NAME.samepage-new.PID`), the list of files last (`.samepage-result`, the mark of a complete
 * result). Then one system call switches the two folders: `rename(2)` when DIR does not exist
 * yet, `renameat2(RENAME_EXCHANGE)` (Linux 3.15+) or `renamex_np(RENAME_SWAP)` (macOS) when it
 * does, so DIR is the old folder or the new one at every instant. The old one, now under the
 * staging name, is removed. Where no exchange call exists (Windows, a file system without it) the
 * switch takes two renames with the old folder parked as `.NAME.samepage-old.PID`; a kill
 * between them leaves DIR missing for a moment, and the next write (or prepare) puts the complete
 * folder back.
 *
 * Leftovers of a killed writer are recognised by their names and a dead PID and cleaned by the
 * next `prepareResultDir` / `writeResultDir` on the same DIR; a live writer's are left alone.
 *
 * Tests kill the writer at every step through `SAMEPAGE_FAULT_AT` (FAULT_STEPS), not by timing.
 */
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, resolve } from 'node:path'

export type ResultFile = [name: string, data: string | Uint8Array]

/** A result folder's own file: written last, it marks the folder complete and lists its files. */
export const RESULT_MARK = '.samepage-result'
const MARK_SCHEMA = 'samepage-lab/result-dir@1'

/** Folders written before the mark existed are still results: one of these file sets identifies them. */
const LEGACY_RESULT_FILES = [['config.json', 'summary.json'], ['reproduce.json']]

/** Where the writer can be killed on purpose (SAMEPAGE_FAULT_AT=step): one per durable state change. */
export const FAULT_STEPS = ['first-file', 'files-written', 'marked', 'switched', 'parked-old', 'cleaned'] as const
export type FaultStep = (typeof FAULT_STEPS)[number]

/** A result folder that cannot be prepared or written: one line for the user, naming the option. */
export class ResultDirError extends Error {}

function fault(step: FaultStep): void {
  if (process.env.SAMEPAGE_FAULT_AT === step) process.kill(process.pid, 'SIGKILL')
}

// ---------------------------------------------------------------------------------------------
// The exchange system call, through koffi (prebuilt; no compiler at install). null: not available.

type Exchange = (from: string, to: string) => number
let exchangeFn: Exchange | null | undefined

function loadExchange(): Exchange | null {
  if (process.env.SAMEPAGE_RESULT_DIR_NO_EXCHANGE === '1') return null
  try {
    const require = createRequire(import.meta.url)
    const koffi = require('koffi') as typeof import('koffi')
    if (process.platform === 'linux') {
      for (const name of ['libc.so.6', 'libc.so']) {
        try {
          const lib = koffi.load(name)
          const renameat2 = lib.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)')
          const AT_FDCWD = -100
          const RENAME_EXCHANGE = 2
          return (from, to) => renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) as number
        } catch {
          // next candidate
        }
      }
    } else if (process.platform === 'darwin') {
      const lib = koffi.load('libSystem.dylib')
      const renamexNp = lib.func('int renamex_np(const char *from, const char *to, unsigned int flags)')
      const RENAME_SWAP = 2
      return (from, to) => renamexNp(from, to, RENAME_SWAP) as number
    }
  } catch {
    // koffi missing or not loadable here: the two-rename fallback
  }
  return null
}

/** Swap two folders in one step; false when this system or file system cannot. */
function exchange(from: string, to: string): boolean {
  if (exchangeFn === undefined) exchangeFn = loadExchange()
  return exchangeFn !== null && exchangeFn(from, to) === 0
}

// ---------------------------------------------------------------------------------------------

const stagingPrefix = (dir: string) => `.${basename(dir)}.samepage-new.`
const parkedPrefix = (dir: string) => `.${basename(dir)}.samepage-old.`
const probePrefix = (dir: string) => `.${basename(dir)}.samepage-probe.`

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A folder whose mark lists files that are all there: a complete result. */
function isComplete(path: string): boolean {
  try {
    const mark = JSON.parse(readFileSync(join(path, RESULT_MARK), 'utf8')) as { schema?: unknown; files?: unknown }
    return mark.schema === MARK_SCHEMA && Array.isArray(mark.files) && mark.files.every((f) => typeof f === 'string' && existsSync(join(path, f)))
  } catch {
    return false
  }
}

/** An existing folder that holds a result (or nothing), so replacing it loses nothing of the user's. */
function isResultFolder(path: string): boolean {
  const entries = readdirSync(path)
  if (entries.length === 0 || entries.includes(RESULT_MARK)) return true
  return LEGACY_RESULT_FILES.some((set) => set.every((f) => entries.includes(f)))
}

function fsyncPath(path: string): void {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    fsyncSync(fd)
  } catch {
    // Some file systems cannot fsync a folder; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * Recognise and clean what a killed writer left beside DIR. When DIR itself is missing (a kill
 * between the fallback's two renames), the complete folder comes back: the new one if it was
 * complete, else the parked old one. Returns what was done, one phrase each.
 */
export function recoverResultDir(dir: string): string[] {
  const abs = resolve(dir)
  const parent = dirname(abs)
  let names: string[]
  try {
    names = readdirSync(parent)
  } catch {
    return []
  }
  const dead = (prefix: string) =>
    names
      .filter((n) => n.startsWith(prefix))
      .filter((n) => {
        const pid = Number(n.slice(prefix.length))
        return Number.isInteger(pid) && pid > 0 && !pidAlive(pid)
      })
      .map((n) => join(parent, n))
  const staged = dead(stagingPrefix(abs))
  const parked = dead(parkedPrefix(abs))
  const probes = dead(probePrefix(abs))
  const done: string[] = []
  if (!existsSync(abs)) {
    const back = staged.find(isComplete) ?? parked.find(isComplete) ?? parked[0]
    if (back !== undefined) {
      renameSync(back, abs)
      done.push(`restored "${basename(abs)}" from an interrupted write`)
    }
  }
  for (const p of [...staged, ...parked, ...probes]) {
    if (!existsSync(p)) continue
    rmSync(p, { recursive: true, force: true })
    done.push(`removed "${basename(p)}" left by an interrupted write`)
  }
  return done
}

/**
 * Validate an output folder option and clean what an interrupted write left there. Refuses an
 * empty name, a path that is a file, and a folder holding files that are not a Samepage result
 * (replacing it would lose them). Creates nothing: the folder appears when the result is whole.
 * Returns the absolute path and what recovery did (for a line on stderr).
 */
export function prepareResultDir(dir: string, option = '--out'): string {
  return prepareResultDirReporting(dir, option).path
}

export function prepareResultDirReporting(dir: string, option = '--out'): { path: string; recovered: string[] } {
  if (dir.trim() === '') throw new ResultDirError(`${option}: give a folder name (got an empty string)`)
  const abs = resolve(dir)
  const recovered = recoverResultDir(abs)
  let st
  try {
    st = lstatSync(abs)
  } catch {
    st = null
  }
  if (st !== null) {
    if (!st.isDirectory()) throw new ResultDirError(`${option}: "${dir}" exists and is not a directory`)
    if (!isResultFolder(abs)) throw new ResultDirError(`${option}: "${dir}" holds files that are not a Samepage result; name a new or empty folder`)
  }
  const parent = dirname(abs)
  try {
    mkdirSync(parent, { recursive: true })
    const probe = join(parent, `${probePrefix(abs)}${process.pid}`)
    mkdirSync(probe)
    rmSync(probe, { recursive: true })
  } catch (e) {
    throw new ResultDirError(`${option}: cannot write beside "${dir}": ${describeFsError(e)}`)
  }
  return { path: abs, recovered }
}

/** A file-system error in words: the code's meaning, then the code. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code
  const words: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOENT: 'no such folder',
    ENOTDIR: 'a part of the path is not a folder',
    EIO: 'input/output error'
  }
  if (code !== undefined && Object.hasOwn(words, code)) return `${words[code]} (${code})`
  return code ?? String((e as Error).message ?? e).split('\n')[0]
}

function writeFileDurably(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'wx', 0o644)
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function checkNames(files: ResultFile[]): void {
  const seen = new Set<string>()
  for (const [name] of files) {
    if (name === '' || name === RESULT_MARK || name.includes('/') || name.includes('\\') || name === '.' || name === '..' || seen.has(name)) {
      throw new ResultDirError(`result file name "${name}" is not allowed`)
    }
    seen.add(name)
  }
}

/**
 * Write FILES as the folder DIR, replacing the result DIR held (if any) in one step. On failure
 * (a full disk, permissions) nothing of the new result stays and DIR is as it was; the error is
 * one line naming `option`.
 */
export async function writeResultDir(dir: string, files: ResultFile[], option = '--out'): Promise<void> {
  writeResultDirSync(dir, files, option)
}

export function writeResultDirSync(dir: string, files: ResultFile[], option = '--out'): void {
  checkNames(files)
  const abs = resolve(dir)
  recoverResultDir(abs)
  const parent = dirname(abs)
  const staging = join(parent, `${stagingPrefix(abs)}${process.pid}`)
  rmSync(staging, { recursive: true, force: true })
  try {
    mkdirSync(parent, { recursive: true })
    mkdirSync(staging)
    for (const [i, [name, data]] of files.entries()) {
      writeFileDurably(join(staging, name), data)
      if (i === 0) fault('first-file')
    }
    fault('files-written')
    writeFileDurably(join(staging, RESULT_MARK), JSON.stringify({ schema: MARK_SCHEMA, files: files.map(([n]) => n) }) + '\n')
    fsyncPath(staging)
    fault('marked')
  } catch (e) {
    rmSync(staging, { recursive: true, force: true })
    throw new ResultDirError(`${option}: cannot write "${dir}": ${describeFsError(e)}`)
  }
  switchIn(staging, abs, dir, option)
}

/** Put the complete staging folder at DIR in one step (or two, with the old one parked). */
function switchIn(staging: string, abs: string, dir: string, option: string): void {
  const parent = dirname(abs)
  let existing = true
  try {
    lstatSync(abs)
  } catch {
    existing = false
  }
  try {
    if (existing && !isResultFolder(abs)) throw new ResultDirError(`${option}: "${dir}" holds files that are not a Samepage result; name a new or empty folder`)
    if (!existing) {
      renameSync(staging, abs)
      fsyncPath(parent)
      fault('switched')
      return
    }
    if (exchange(staging, abs)) {
      fsyncPath(parent)
      fault('switched')
    } else {
      const parked = join(parent, `${parkedPrefix(abs)}${process.pid}`)
      renameSync(abs, parked)
      fault('parked-old')
      try {
        renameSync(staging, abs)
      } catch (e) {
        renameSync(parked, abs)
        throw e
      }
      fsyncPath(parent)
      fault('switched')
      renameSync(parked, staging)
    }
  } catch (e) {
    rmSync(staging, { recursive: true, force: true })
    if (e instanceof ResultDirError) throw e
    throw new ResultDirError(`${option}: cannot write "${dir}": ${describeFsError(e)}`)
  }
  // The old result is now under the staging name.
  rmSync(staging, { recursive: true, force: true })
  fault('cleaned')
}
