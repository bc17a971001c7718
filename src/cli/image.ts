/**
 * `samepage image build SOURCE -o IMAGE` and `samepage image stats IMAGE...`: the Node side of
 * guest images (directory walk, tar reading, file IO). The format and the statistics are pure
 * and live in src/core/formats/image.ts; the format is documented in docs/file-formats.md.
 */
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from 'node:fs'
import { lstat, open, opendir, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createGunzip } from 'node:zlib'
import {
  checkPath,
  decodeImage,
  encodeFile,
  encodeHeader,
  encodeTrailer,
  formatImageStats,
  ImageFormatError,
  imageStats,
  loadH64Raw,
  makeHeader,
  PageHasher,
  pagesOf,
  type H64Raw,
  type ImageFile,
  type ImageIndex
} from '../core/formats/image.ts'
import { beyondStats, COMPRESS_MAX_BYTES_DEFAULT, encodeBeyond, formatBeyondStats, PATCH_MAX_BYTES_DEFAULT, type PageBeyond } from '../core/formats/beyond.ts'
import { analyzingH64, newAnalyzer } from './codecs.ts'
import { MAX_PAGES_PER_LANE } from '../core/experiment/config.ts'
import { decodeSnapshot, headerSchema, SNAPSHOT_SCHEMA, SnapshotFormatError } from '../core/formats/snapshot.ts'
import { FileReadError, readRegularFile } from '../host/node/read-file.ts'
import { oneLine } from '../core/experiment/messages.ts'
import { faultPoint, removeStaleTemps, tempPathFor } from '../host/node/temp-file.ts'

/** Bad input (missing SOURCE, unreadable archive, bad IMAGE file): one line, exit code 2. */
export class ImageUsageError extends Error {}

export interface ImageIo {
  stdout(s: string): void
  stderr(s: string): void
  stderrIsTTY: boolean
}

/** Usage errors are one line (exit 2): the problem and the command's usage. */
const BUILD_USAGE = 'usage: samepage image build SOURCE -o IMAGE [--beyond], SOURCE a directory, .tar or .tar.gz'
const STATS_USAGE = 'usage: samepage image stats IMAGE... [--json] [--beyond], IMAGE an image or a memory snapshot'

const READ_CHUNK = 1 << 20
/** Pages hard links may add however small the archive's own files are (1 GiB of content). */
const MIN_LINKED_PAGES = 1 << 18
/** Most pages one image may index: what one lane can simulate (MAX_PAGES_PER_LANE, 128 GiB). */
export const MAX_IMAGE_PAGES = MAX_PAGES_PER_LANE

export async function cmdImage(args: string[], io: ImageIo): Promise<number> {
  const [sub, ...rest] = args
  switch (sub) {
    case 'build': {
      const { values, positionals } = usage('image build', () => parseArgs({ args: rest, options: { out: { type: 'string', short: 'o' }, beyond: { type: 'boolean' } }, allowPositionals: true }))
      if (positionals.length !== 1) throw new ImageUsageError(`image build takes one SOURCE, got ${positionals.length} (${BUILD_USAGE})`)
      const out = values.out
      if (typeof out !== 'string' || out === '') throw new ImageUsageError(`image build needs -o IMAGE (${BUILD_USAGE})`)
      const r = await buildImage(positionals[0], out, io, values.beyond === true)
      io.stdout(
        `${out}: ${r.files} files, ${r.pages} pages (${((r.pages * 4096) / 1048576).toFixed(2)} MiB)` +
          `${r.skipped ? `, ${r.skipped} skipped` : ''}${r.unreadable ? `, ${r.unreadable} unreadable` : ''}\n`
      )
      return 0
    }
    case 'stats': {
      const { values, positionals } = usage('image stats', () => parseArgs({ args: rest, options: { json: { type: 'boolean' }, beyond: { type: 'boolean' } }, allowPositionals: true }))
      if (positionals.length === 0) throw new ImageUsageError(`image stats needs at least one IMAGE (${STATS_USAGE})`)
      const images: { name: string; files: ImageFile[]; beyond?: PageBeyond }[] = []
      for (const p of positionals) images.push({ name: p, ...(await readStatsInput(p)) })
      const report = imageStats(images)
      if (!values.beyond) {
        io.stdout(values.json ? JSON.stringify(report, null, 2) + '\n' : formatImageStats(report))
        return 0
      }
      const withData = images.map((img) => {
        if (!img.beyond) throw new ImageUsageError(`image stats --beyond: ${img.name} has no --beyond data; make it with "samepage image build SOURCE -o IMAGE --beyond" or "samepage dump import DUMP -o SNAPSHOT --beyond"`)
        return { name: img.name, files: img.files, beyond: img.beyond }
      })
      const beyond = beyondStats(withData, { patch_max_bytes: PATCH_MAX_BYTES_DEFAULT, compress_max_bytes: COMPRESS_MAX_BYTES_DEFAULT })
      io.stdout(values.json ? JSON.stringify({ ...report, beyond }, null, 2) + '\n' : formatImageStats(report) + '\n' + formatBeyondStats(beyond))
      return 0
    }
    default:
      throw new ImageUsageError(`${sub === undefined ? 'image needs a command' : `unknown image command "${sub}"`}: build or stats (samepage image build SOURCE -o IMAGE; samepage image stats IMAGE...)`)
  }
}

/** Option parsing errors as usage errors: one line, naming the command. */
export function usage<T>(cmd: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    throw new ImageUsageError(`${cmd}: ${(e as Error).message.split('\n')[0]}`)
  }
}

/** Largest image or snapshot read whole (8 bytes a 4 KiB page: 1 GiB indexes 512 GiB). */
export const MAX_IMAGE_FILE_BYTES = 1 << 30

/** The bytes of an image or snapshot file: a regular file, at most MAX_IMAGE_FILE_BYTES. */
async function readImageBytes(path: string): Promise<Uint8Array> {
  try {
    return await readRegularFile(path, MAX_IMAGE_FILE_BYTES)
  } catch (e) {
    if (e instanceof FileReadError) throw new ImageUsageError(`cannot read image ${path}: ${e.reason}`)
    throw e
  }
}

/** Reads and decodes an image file; ImageUsageError with one line if it is missing or bad. */
export async function readImageFile(path: string): Promise<ImageIndex> {
  const bytes = await readImageBytes(path)
  try {
    return decodeImage(bytes)
  } catch (e) {
    if (e instanceof ImageFormatError) throw new ImageUsageError(`${path}: ${e.message}`)
    throw e
  }
}

/**
 * The pages of an image, or of a memory snapshot (`samepage dump import`), for `image stats`: a
 * snapshot's extents count as its files.
 */
async function readStatsInput(path: string): Promise<{ files: ImageFile[]; beyond?: PageBeyond }> {
  const bytes = await readImageBytes(path)
  if (headerSchema(bytes) === SNAPSHOT_SCHEMA) {
    try {
      const snap = decodeSnapshot(bytes)
      return { files: snap.extents.map((e) => ({ path: `/gfn/${e.gfn}`, size: (e.fps.length / 2) * 4096, elf: false, fps: e.fps })), beyond: snap.beyond }
    } catch (e) {
      if (e instanceof SnapshotFormatError) throw new ImageUsageError(`${path}: ${e.message}`)
      throw e
    }
  }
  try {
    const index = decodeImage(bytes)
    return { files: index.files, beyond: index.beyond }
  } catch (e) {
    if (e instanceof ImageFormatError) throw new ImageUsageError(`${path}: ${e.message}`)
    throw e
  }
}

export interface BuildResult {
  files: number
  pages: number
  /** Entries not recorded: symlinks, special files, hard links in archives, duplicates, bad paths. */
  skipped: number
  unreadable: number
}

/** Called with each regular file's record, in walk (or archive) order. */
type Sink = (file: ImageFile) => Promise<void>

/**
 * Builds IMAGE from a directory or a .tar / .tar.gz archive; writes atomically (temp + rename).
 * With `beyond`, every page's bytes also go through Difference Engine's analysis (bounded memory)
 * and its per-page data is stored in the image's optional section.
 */
export async function buildImage(source: string, out: string, io: ImageIo, beyond = false): Promise<BuildResult> {
  let st
  try {
    st = await stat(source)
  } catch (e) {
    throw new ImageUsageError(`cannot read ${source}: ${errText(e)}`)
  }
  if (!st.isDirectory() && !st.isFile()) throw new ImageUsageError(`${source} is neither a directory nor a tar archive`)
  const stale = removeStaleTemps(out)
  if (stale.length > 0) io.stderr(`samepage: ${oneLine(`removed ${stale.length} temporary file(s) an interrupted write of ${out} left: ${stale.join(', ')}`)}\n`)
  const analyzer = beyond ? newAnalyzer() : null
  const h64 = analyzer ? analyzingH64(await loadH64Raw(), analyzer) : await loadH64Raw()
  const writer = await ImageWriter.create(out, basename(source), !st.isDirectory())
  const result: BuildResult = { files: 0, pages: 0, skipped: 0, unreadable: 0 }
  const progress = new Progress(io)
  const warn = (msg: string): void => {
    progress.clear()
    io.stderr(`samepage: ${oneLine(msg)}\n`)
  }
  const sink: Sink = async (file) => {
    result.files++
    result.pages += pagesOf(file.size)
    if (result.pages > MAX_IMAGE_PAGES) throw new ImageUsageError(`${source}: more than ${MAX_IMAGE_PAGES} pages (${MAX_IMAGE_PAGES / 262144} GiB) of files, the most one image may index (docs/file-formats.md, "Limits")`)
    analyzer?.commitFile(pagesOf(file.size))
    await writer.add(file)
    progress.tick(result.files, file.size)
  }
  try {
    // The image may be written inside the tree it indexes: never index it (or its temporary file),
    // whatever path leads there (a symlinked folder in IMAGE's path): by path and by inode.
    if (st.isDirectory()) {
      const inodes = new Set<string>()
      for (const p of [writer.tmp, out]) {
        const s = await lstat(p, { bigint: true }).catch(() => undefined)
        if (s) inodes.add(`${s.dev}:${s.ino}`)
      }
      await walkDirectory(source, h64, sink, warn, result, { paths: new Set([resolve(writer.tmp), resolve(out)]), inodes })
    }
    else await readTar(source, h64, sink, warn, result, (path) => writer.recall(path))
    progress.clear()
    await writer.commit(analyzer ? encodeBeyond(analyzer.result()) : undefined)
  } catch (e) {
    progress.clear()
    await writer.abort()
    throw e
  }
  return result
}

/** Writes records to a temporary file beside IMAGE, renamed over it on commit. */
class ImageWriter {
  private buf = new Uint8Array(READ_CHUNK)
  private fill = 0
  private files = 0
  private pages = 0
  /** Bytes written to the file so far (the buffer's start). */
  private flushed = 0
  /**
   * Where each record is in the file (path -> [offset, length]) when `remember` (tar archives),
   * to read one back for a hard link: a few bytes per file, the content stays on disk.
   */
  private readonly records: Map<string, [number, number]> | null

  private constructor(
    private readonly fh: FileHandle,
    readonly tmp: string,
    private readonly out: string,
    remember: boolean
  ) {
    this.records = remember ? new Map() : null
  }

  static async create(out: string, source: string, remember: boolean): Promise<ImageWriter> {
    const tmp = tempPathFor(out)
    let fh: FileHandle
    try {
      fh = await open(tmp, 'wx+') // read too: a tar hard link reads its target's record back
    } catch (e) {
      throw new ImageUsageError(`cannot write ${out}: ${errText(e)}`)
    }
    faultPoint('temp-created')
    const w = new ImageWriter(fh, tmp, out, remember)
    await w.write(encodeHeader(makeHeader(source)))
    return w
  }

  async add(file: ImageFile): Promise<void> {
    const rec = encodeFile(file)
    this.records?.set(file.path, [this.flushed + this.fill, rec.length])
    await this.write(rec)
    this.files++
    this.pages += pagesOf(file.size)
  }

  /** The record of `path` written earlier, read back from the file; undefined if none was. */
  async recall(path: string): Promise<ImageFile | undefined> {
    const at = this.records?.get(path)
    if (!at) return undefined
    await this.flush()
    const rec = new Uint8Array(at[1])
    const { bytesRead } = await this.io(() => this.fh.read(rec, 0, rec.length, at[0]))
    if (bytesRead !== rec.length) throw new ImageUsageError(`cannot write ${this.out}: cannot read back the record of ${path}`)
    return decodeRecord(rec)
  }

  /** Trailer, then the optional section `extra`, then fsync and rename. */
  async commit(extra?: Uint8Array): Promise<void> {
    await this.write(encodeTrailer(this.files, this.pages))
    if (extra) await this.write(extra)
    await this.flush()
    faultPoint('temp-written')
    await this.io(() => this.fh.sync())
    await this.io(() => this.fh.close())
    faultPoint('temp-synced')
    try {
      await rename(this.tmp, this.out)
    } catch (e) {
      await unlink(this.tmp).catch(() => undefined)
      throw new ImageUsageError(`cannot write ${this.out}: ${errText(e)}`)
    }
    faultPoint('renamed')
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined)
    await unlink(this.tmp).catch(() => undefined)
  }

  private async write(bytes: Uint8Array): Promise<void> {
    if (this.fill + bytes.length > this.buf.length) await this.flush()
    if (bytes.length >= this.buf.length) {
      await this.writeAt(bytes)
      return
    }
    this.buf.set(bytes, this.fill)
    this.fill += bytes.length
  }

  private async flush(): Promise<void> {
    if (this.fill > 0) await this.writeAt(this.buf.subarray(0, this.fill))
    this.fill = 0
  }

  /**
   * Writes all of `bytes` at the end of what is written: a write may take fewer bytes than
   * asked (a disk filling up); an error (ENOSPC, EIO) is one line naming IMAGE.
   */
  private async writeAt(bytes: Uint8Array): Promise<void> {
    let done = 0
    while (done < bytes.length) {
      const { bytesWritten } = await this.io(() => this.fh.write(bytes, done, bytes.length - done, this.flushed))
      if (bytesWritten <= 0) throw new ImageUsageError(`cannot write ${this.out}: no space written`)
      done += bytesWritten
      this.flushed += bytesWritten
    }
  }

  /** A file operation whose failure is IMAGE's write error (one line, exit 2). */
  private async io<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (e) {
      throw new ImageUsageError(`cannot write ${this.out}: ${errText(e)}`)
    }
  }
}

/** Files and MiB so far, on one self-overwriting stderr line, only when stderr is a TTY. */
class Progress {
  private bytes = 0
  private last = 0
  private shown = false

  constructor(private readonly io: ImageIo) {}

  tick(files: number, size: number): void {
    this.bytes += size
    if (!this.io.stderrIsTTY) return
    const now = Date.now()
    if (now - this.last < 100) return
    this.last = now
    this.shown = true
    this.io.stderr(`\rimage: ${files} files, ${(this.bytes / 1048576).toFixed(1)} MiB `)
  }

  clear(): void {
    if (!this.shown) return
    this.shown = false
    this.io.stderr('\r' + ' '.repeat(60) + '\r')
  }
}

// ---------------------------------------------------------------------------------------------
// Directory walk

/**
 * Depth-first walk in name order. Symlinks are never followed (not even to read what they point
 * at) and record nothing; special files are skipped; a file is opened with O_NOFOLLOW so a swap
 * to a symlink after listing cannot lead out of the tree.
 */
async function walkDirectory(
  root: string,
  h64: H64Raw,
  sink: Sink,
  warn: (m: string) => void,
  result: BuildResult,
  exclude: { paths: Set<string>; inodes: Set<string> }
): Promise<void> {
  const stack: string[] = [''] // paths relative to root, '' = root
  while (stack.length > 0) {
    const rel = stack.pop() as string
    const abs = rel === '' ? root : join(root, rel)
    const entries: { name: string; kind: 'file' | 'dir' | 'other' }[] = []
    try {
      if (rel !== '' && !(await lstat(abs)).isDirectory()) {
        result.skipped++
        continue
      }
      // Names as bytes: an image path is UTF-8, and a name that is not (a Latin-1 file name) would
      // come back from a string listing with U+FFFD in it and fail to open as ENOENT.
      const dir = await opendir(abs, { encoding: 'buffer' as BufferEncoding })
      for await (const entry of dir) {
        const raw = entry.name as unknown as Uint8Array
        let name: string
        try {
          name = utf8Strict.decode(raw)
        } catch {
          warn(`skipping ${join(abs, utf8.decode(raw))}: the name is not UTF-8`)
          result.skipped++
          continue
        }
        let kind: 'file' | 'dir' | 'other' = entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : 'other'
        if (kind === 'other' && !entry.isSymbolicLink() && !entry.isFIFO() && !entry.isSocket() && !entry.isBlockDevice() && !entry.isCharacterDevice()) {
          // DT_UNKNOWN on some file systems: ask lstat (which does not follow links).
          const s = await lstat(join(abs, name)).catch(() => undefined)
          kind = s?.isFile() ? 'file' : s?.isDirectory() ? 'dir' : 'other'
        }
        entries.push({ name, kind })
      }
    } catch (e) {
      warn(`cannot read directory ${abs}: ${errText(e)}`)
      result.unreadable++
      continue
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const subdirs: string[] = []
    for (const e of entries) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`
      if (e.kind === 'dir') subdirs.push(childRel)
      else if (e.kind === 'other') result.skipped++
      else if (exclude.paths.has(resolve(root, childRel))) result.skipped++
      else {
        const path = '/' + childRel
        const problem = checkPath(path)
        if (problem) {
          warn(`skipping ${join(root, childRel)}: ${problem}`)
          result.skipped++
          continue
        }
        const file = hashFile(join(root, childRel), path, h64, warn, exclude.inodes)
        if (file === 'excluded') result.skipped++
        else if (file) await sink(file)
        else result.unreadable++
      }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i])
  }
}

/** One read buffer for the walk: files are hashed one at a time and the hasher copies what it keeps. */
const readBuffer = new Uint8Array(READ_CHUNK)

/**
 * Hashes one file in chunks. Synchronous reads: a CLI doing nothing else, and for trees of many
 * small files several times faster than a promise round trip per open/stat/read/close.
 */
function hashFile(abs: string, path: string, h64: H64Raw, warn: (m: string) => void, exclude: Set<string>): ImageFile | undefined | 'excluded' {
  let fd: number | undefined
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    const st = fstatSync(fd, { bigint: true })
    if (!st.isFile()) return undefined
    if (exclude.has(`${st.dev}:${st.ino}`)) return 'excluded'
    const hasher = new PageHasher(h64)
    for (;;) {
      const n = readSync(fd, readBuffer, 0, readBuffer.length, null)
      if (n === 0) break
      hasher.push(readBuffer.subarray(0, n))
    }
    return hasher.finish(path)
  } catch (e) {
    warn(`cannot read ${abs}: ${errText(e)}`)
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

// ---------------------------------------------------------------------------------------------
// Tar (ustar, GNU and pax), streamed, through gunzip when the archive starts with gzip's magic

/** Pulls exact byte counts out of a stream of chunks. */
class ByteReader {
  private cur: Uint8Array = new Uint8Array(0)
  private off = 0
  /** Bytes consumed so far (for error messages). */
  pos = 0

  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    /** The archive's name, for error messages. */
    private readonly name: string
  ) {}

  private async more(): Promise<boolean> {
    for (;;) {
      const r = await this.it.next()
      if (r.done) return false
      if (r.value.length > 0) {
        this.cur = r.value
        this.off = 0
        return true
      }
    }
  }

  /** n bytes (copied), or undefined at a clean end of stream; throws if it ends midway. */
  async read(n: number): Promise<Uint8Array | undefined> {
    const out = new Uint8Array(n)
    let got = 0
    while (got < n) {
      if (this.off >= this.cur.length && !(await this.more())) {
        if (got === 0) return undefined
        throw new ImageUsageError(`${this.name}: truncated archive at byte ${this.pos}`)
      }
      const take = Math.min(n - got, this.cur.length - this.off)
      out.set(this.cur.subarray(this.off, this.off + take), got)
      this.off += take
      got += take
      this.pos += take
    }
    return out
  }

  /** Passes the next n bytes to fn in pieces (views valid only during the call). */
  async stream(n: number, fn: (piece: Uint8Array) => void): Promise<void> {
    let left = n
    while (left > 0) {
      if (this.off >= this.cur.length && !(await this.more())) throw new ImageUsageError(`${this.name}: truncated archive at byte ${this.pos}`)
      const take = Math.min(left, this.cur.length - this.off)
      fn(this.cur.subarray(this.off, this.off + take))
      this.off += take
      this.pos += take
      left -= take
    }
  }
}

const latin1 = new TextDecoder('latin1')
const utf8 = new TextDecoder('utf-8')
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

function cString(b: Uint8Array, off: number, len: number): string {
  const field = b.subarray(off, off + len)
  const end = field.indexOf(0)
  return utf8.decode(end < 0 ? field : field.subarray(0, end))
}

/** A numeric header field: octal text, or GNU base-256 when the top bit of the first byte is set. */
function tarNumber(b: Uint8Array, off: number, len: number): number {
  if (b[off] & 0x80) {
    let v = b[off] & 0x7f
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]
    return v
  }
  const text = latin1.decode(b.subarray(off, off + len)).replace(/[\0 ]+$/, '').replace(/^[ \0]+/, '')
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) return NaN
  return parseInt(text, 8)
}

/**
 * The header checksum: the sum of its bytes (the checksum field as spaces), unsigned as POSIX
 * says, or signed as old tar implementations computed it (GNU tar and Python accept both: they
 * differ only in a header with a byte >= 0x80, e.g. a UTF-8 name).
 */
function checksumOk(h: Uint8Array): boolean {
  const want = tarNumber(h, 148, 8)
  let sum = 0
  let signed = 0
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]
    sum += b
    signed += b >= 0x80 ? b - 256 : b
  }
  return sum === want || signed === want
}

/** pax extended header records: "LEN key=value\n". */
function parsePax(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>()
  let o = 0
  while (o < data.length) {
    const sp = data.indexOf(0x20, o)
    if (sp < 0) break
    const len = parseInt(latin1.decode(data.subarray(o, sp)), 10)
    if (!(len > 0) || o + len > data.length) break
    const rec = utf8.decode(data.subarray(sp + 1, o + len - 1))
    const eq = rec.indexOf('=')
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1))
    o += len
  }
  return out
}

/** An archive member name as an image path, or undefined if it would leave the tree. */
function imagePath(name: string): string | undefined {
  const parts: string[] = []
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue
    if (p === '..') return undefined
    parts.push(p)
  }
  return '/' + parts.join('/')
}

/**
 * Reads a tar archive's regular files into `sink`. A hard link (type 1) records its target's
 * pages at its own path, as a directory walk of the same tree does; `recall` gives the record
 * of a path already written (a link's target comes before it in the archive).
 */
async function readTar(
  archive: string,
  h64: H64Raw,
  sink: Sink,
  warn: (m: string) => void,
  result: BuildResult,
  recall: (path: string) => Promise<ImageFile | undefined>
): Promise<void> {
  let gz = false
  try {
    const fh = await open(archive, 'r')
    const magic = new Uint8Array(2)
    await fh.read(magic, 0, 2, 0)
    await fh.close()
    gz = magic[0] === 0x1f && magic[1] === 0x8b
  } catch (e) {
    throw new ImageUsageError(`cannot read ${archive}: ${errText(e)}`)
  }
  const file = createReadStream(archive, { highWaterMark: READ_CHUNK })
  const stream = gz ? file.pipe(createGunzip()) : file
  if (gz) file.on('error', (e) => stream.destroy(e))
  const r = new ByteReader(stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>, archive)
  const seen = new Set<string>()
  let linkedPages = 0
  let linkedPagesIn = 0
  try {
    let longName: string | undefined
    let longLink: string | undefined
    let pax = new Map<string, string>()
    for (let first = true; ; first = false) {
      const at = r.pos
      let h: Uint8Array | undefined
      try {
        h = await r.read(512)
      } catch (e) {
        // Shorter than one header: not an archive at all (a text file, a failed download).
        if (first && e instanceof ImageUsageError) throw new ImageUsageError(`${archive}: not a tar archive (${r.pos} bytes, less than one 512-byte header)`)
        throw e
      }
      // An empty file is not an archive (GNU tar refuses it too); a real one has a header or end blocks.
      if (!h && first) throw new ImageUsageError(`${archive}: not a tar archive (empty${gz ? ' once decompressed' : ''})`)
      if (!h || h.every((b) => b === 0)) break // end-of-archive blocks (or a bare end)
      if (!checksumOk(h)) throw new ImageUsageError(`${archive}: not a tar archive (bad header checksum at byte ${at})`)
      const type = String.fromCharCode(h[156])
      let size = tarNumber(h, 124, 12)
      if (!Number.isSafeInteger(size)) throw new ImageUsageError(`${archive}: bad size field at byte ${at}`)
      const pad = (512 - (size % 512)) % 512
      if (type === 'L' || type === 'x' || type === 'g' || type === 'K') {
        if (size > 1 << 24) throw new ImageUsageError(`${archive}: oversized ${type} record at byte ${at}`)
        const data = (await r.read(size)) ?? new Uint8Array(0)
        if (data.length < size) throw new ImageUsageError(`${archive}: truncated archive at byte ${r.pos}`)
        await r.stream(pad, () => undefined)
        if (type === 'L') longName = cString(data, 0, data.length)
        else if (type === 'K') longLink = cString(data, 0, data.length)
        else if (type === 'x') pax = parsePax(data)
        continue
      }
      let name = cString(h, 0, 100)
      const ustar = latin1.decode(h.subarray(257, 263)) === 'ustar\0'
      if (ustar && h[345] !== 0) name = cString(h, 345, 155) + '/' + name
      if (longName !== undefined) name = longName
      const paxPath = pax.get('path')
      if (paxPath !== undefined) name = paxPath
      const paxSize = pax.get('size')
      if (paxSize !== undefined && /^\d+$/.test(paxSize)) size = Number(paxSize)
      const linkName = pax.get('linkpath') ?? longLink ?? cString(h, 157, 100)
      longName = undefined
      longLink = undefined
      pax = new Map()
      const fullPad = (512 - (size % 512)) % 512
      if (type === '1') {
        // A hard link: the target's content at the link's path (the target came earlier).
        await r.stream(size + fullPad, () => undefined)
        const path = imagePath(name)
        const problem = name.includes('\ufffd') ? 'the name is not UTF-8' : path === undefined ? 'leaves the tree' : path === '/' ? 'not a file' : checkPath(path)
        const target = imagePath(linkName)
        const file = problem || seen.has(path as string) || target === undefined ? undefined : await recall(target)
        if (!file) {
          const why = problem ?? (seen.has(path as string) ? 'duplicate path (first copy kept)' : `its target ${linkName} is not a file of the image`)
          warn(`skipping hard link ${name} in ${archive}: ${why}`)
          result.skipped++
          continue
        }
        // Amplification cap: a link is a second name for content already counted, so links may
        // add at most as many pages as the archive's own files hold (2,000 links in a 273 KB
        // archive made a 1.05 GB image).
        linkedPages += pagesOf(file.size)
        if (linkedPages > Math.max(MIN_LINKED_PAGES, result.pages - linkedPagesIn)) {
          throw new ImageUsageError(`${archive}: its hard links would add more pages than its files hold (${linkedPages} pages through links); refusing an image that expands past twice its content (docs/file-formats.md, "Limits")`)
        }
        seen.add(path as string)
        linkedPagesIn += pagesOf(file.size)
        await sink({ ...file, path: path as string })
        continue
      }
      // A regular type with a name ending in '/' is a directory of an old (V7) tar: as type 5.
      if ((type === '0' || type === '\0') && name.endsWith('/')) {
        await r.stream(size + fullPad, () => undefined)
        continue
      }
      const regular = type === '0' || type === '\0' || type === '7'
      const path = regular ? imagePath(name) : undefined
      // Names are decoded leniently (U+FFFD for bytes that are not UTF-8): an image path is UTF-8.
      const problem = name.includes('\ufffd') ? 'the name is not UTF-8' : path === undefined ? 'leaves the tree' : checkPath(path)
      if (!regular || problem || path === '/' || seen.has(path as string)) {
        if (regular) warn(`skipping ${name} in ${archive}: ${path !== undefined && seen.has(path) ? 'duplicate path (first copy kept)' : (problem ?? 'not a file')}`)
        if (regular || type !== '5') result.skipped++
        await r.stream(size + fullPad, () => undefined)
        continue
      }
      const hasher = new PageHasher(h64)
      await r.stream(size, (piece) => hasher.push(piece))
      await r.stream(fullPad, () => undefined)
      seen.add(path as string)
      await sink(hasher.finish(path as string))
    }
  } catch (e) {
    if (e instanceof ImageUsageError) throw e
    throw new ImageUsageError(`cannot read archive ${archive}: ${errText(e)}`)
  } finally {
    stream.destroy()
    file.destroy()
  }
}

/** One record as encodeFile wrote it (the writer's own bytes, read back). */
function decodeRecord(rec: Uint8Array): ImageFile {
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength)
  const len = dv.getUint32(0, true)
  const path = utf8.decode(rec.subarray(4, 4 + len))
  let o = 4 + len
  const elf = (rec[o] & 1) !== 0
  const size = dv.getUint32(o + 1, true) + dv.getUint32(o + 5, true) * 2 ** 32
  o += 9
  const pages = pagesOf(size)
  const fps = new Uint32Array(pages * 2)
  for (let p = 0; p < pages; p++, o += 8) {
    fps[p * 2] = dv.getUint32(o + 4, true)
    fps[p * 2 + 1] = dv.getUint32(o, true)
  }
  return { path, size, elf, fps }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException
  return err?.code ?? (err?.message || String(e))
}
