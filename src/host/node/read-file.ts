/**
 * Reading a file the user names, safely: only a regular file (not a device such as /dev/zero,
 * not a FIFO, which would block, not a socket or a folder), and never more than a bound, whatever
 * `stat` reports (a file that grows while being read, or a /proc file whose st_size is 0, is
 * still cut off at the bound). Every user file the CLI, the app and the session worker read
 * (experiment configs, results, images, snapshots, traces) goes through here.
 *
 * The file is opened with O_NONBLOCK so that opening a FIFO returns at once instead of waiting
 * for a writer (open(2)); the type is then checked on the open descriptor (fstat), so a path
 * swapped between a check and the open cannot slip a device in.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { open } from 'node:fs/promises'

/** Why a user file could not be read: `reason` is a short phrase for "cannot read X: <reason>". */
export class FileReadError extends Error {
  constructor(
    readonly reason: string,
    readonly code?: string
  ) {
    super(reason)
    this.name = 'FileReadError'
  }
}

const CHUNK = 1 << 20
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK

/** "16 MiB", "256 KiB", "1 GiB": a byte limit in the unit it is a whole number of. */
export function formatBytes(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 30 === 0) return `${n / 2 ** 30} GiB`
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20} MiB`
  if (n >= 2 ** 10 && n % 2 ** 10 === 0) return `${n / 2 ** 10} KiB`
  return `${n} bytes`
}

/** Any error of reading a file as a short reason ("no such file", "permission denied", EIO). */
export function readErrorReason(e: unknown): string {
  return e instanceof FileReadError ? e.reason : openError(e).reason
}

function openError(e: unknown): FileReadError {
  const code = (e as NodeJS.ErrnoException)?.code
  if (code === 'ENOENT') return new FileReadError('no such file', code)
  if (code === 'EACCES' || code === 'EPERM') return new FileReadError('permission denied', code)
  if (code === 'EISDIR') return new FileReadError('it is a folder', code)
  return new FileReadError(code ?? String((e as Error)?.message ?? e), code)
}

function kindProblem(st: { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): FileReadError | null {
  if (st.isFile()) return null
  if (st.isDirectory()) return new FileReadError('it is a folder', 'EISDIR')
  if (st.isFIFO()) return new FileReadError('not a regular file (a FIFO)', 'ENOTREG')
  if (st.isSocket()) return new FileReadError('not a regular file (a socket)', 'ENOTREG')
  if (st.isCharacterDevice() || st.isBlockDevice()) return new FileReadError('not a regular file (a device)', 'ENOTREG')
  return new FileReadError('not a regular file', 'ENOTREG')
}

function tooLarge(maxBytes: number): FileReadError {
  return new FileReadError(`larger than ${formatBytes(maxBytes)}, the most that is read`, 'EFBIG')
}

/**
 * The chunks of one bounded read: read until EOF, but at most maxBytes + 1 bytes (the +1 tells
 * "exactly the limit" from "more"), whatever the file's size said.
 */
class BoundedBytes {
  private readonly chunks: Uint8Array[] = []
  private total = 0

  constructor(private readonly maxBytes: number) {}

  /** The buffer for the next read; throws once more than maxBytes came. */
  next(): Uint8Array {
    const want = Math.min(CHUNK, this.maxBytes + 1 - this.total)
    if (want <= 0) throw tooLarge(this.maxBytes)
    return new Uint8Array(want)
  }

  got(buf: Uint8Array, n: number): void {
    this.chunks.push(buf.subarray(0, n))
    this.total += n
  }

  bytes(): Uint8Array {
    if (this.total > this.maxBytes) throw tooLarge(this.maxBytes)
    return concat(this.chunks, this.total)
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0].subarray(0, total)
  const out = new Uint8Array(total)
  let o = 0
  for (const c of chunks) {
    out.set(c, o)
    o += c.length
  }
  return out
}

/** The bytes of the regular file at `path`, at most `maxBytes` of them; FileReadError otherwise. */
export function readRegularFileSync(path: string, maxBytes: number): Uint8Array {
  let fd: number
  try {
    fd = openSync(path, OPEN_FLAGS)
  } catch (e) {
    throw openError(e)
  }
  try {
    const st = fstatSync(fd)
    const bad = kindProblem(st)
    if (bad) throw bad
    if (st.size > maxBytes) throw tooLarge(maxBytes)
    const acc = new BoundedBytes(maxBytes)
    for (let buf = acc.next(); buf; buf = acc.next()) {
      let n: number
      try {
        n = readSync(fd, buf, 0, buf.length, null)
      } catch (e) {
        throw openError(e)
      }
      if (n === 0) break
      acc.got(buf, n)
    }
    return acc.bytes()
  } finally {
    closeSync(fd)
  }
}

/** The async form of readRegularFileSync (the app's main process must not block). */
export async function readRegularFile(path: string, maxBytes: number): Promise<Uint8Array> {
  let fh
  try {
    fh = await open(path, OPEN_FLAGS)
  } catch (e) {
    throw openError(e)
  }
  try {
    const st = await fh.stat()
    const bad = kindProblem(st)
    if (bad) throw bad
    if (st.size > maxBytes) throw tooLarge(maxBytes)
    const acc = new BoundedBytes(maxBytes)
    for (let buf = acc.next(); buf; buf = acc.next()) {
      let n: number
      try {
        n = (await fh.read(buf, 0, buf.length, null)).bytesRead
      } catch (e) {
        throw openError(e)
      }
      if (n === 0) break
      acc.got(buf, n)
    }
    return acc.bytes()
  } finally {
    await fh.close()
  }
}

/** UTF-8 text of a bounded regular file. */
export function readRegularTextSync(path: string, maxBytes: number): string {
  return new TextDecoder().decode(readRegularFileSync(path, maxBytes))
}

export async function readRegularText(path: string, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readRegularFile(path, maxBytes))
}
