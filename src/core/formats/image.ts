/**
 * Guest images built from real bytes: a content index of every regular file of a tree (path,
 * size, ELF flag, xxhash64 of each 4 KiB page), its binary encoding (`samepage-lab/image@1`,
 * docs/file-formats.md) and the ideal sharing a perfect scanner could find in one or several
 * images. Pure: no Node APIs; the directory walk and tar reading live in src/cli/image.ts.
 */
import xxhash from 'xxhash-wasm'
import { decodeBeyond, encodeBeyond, type PageBeyond } from './beyond.ts'
import { isZeroFp, PAGE_SIZE } from '../machine/content.ts'

export const IMAGE_SCHEMA = 'samepage-lab/image@1'

/** Marks the trailer where a record's path length would be. */
const TRAILER_TAG = 0xffffffff
/** Longest path a record may hold (bytes of UTF-8). */
export const MAX_PATH_BYTES = 65535
const FLAG_ELF = 1

/** Bad or truncated image bytes. */
export class ImageFormatError extends Error {}

export interface ImageHeader {
  schema: string
  page_size: number
  hash: string
  /** What the image was built from (a directory or archive name), informative only. */
  source: string
}

export interface ImageFile {
  /** Absolute path in the image, '/'-separated, e.g. `/usr/bin/ls`. */
  path: string
  size: number
  /** An ELF executable or shared library (mapped as text when run). */
  elf: boolean
  /** Per page, fingerprint halves interleaved: [hi0, lo0, hi1, lo1, ...]; ceil(size / 4096) pages. */
  fps: Uint32Array
}

export interface ImageIndex {
  header: ImageHeader
  files: ImageFile[]
  /** Optional (`image build --beyond`): Difference Engine's per-page data, in file page order. */
  beyond?: PageBeyond
}

export type H64Raw = (data: Uint8Array, seed?: bigint) => bigint

/** xxhash-wasm's h64Raw (xxhash64, seed 0), loaded once. */
let h64Promise: Promise<H64Raw> | undefined
export function loadH64Raw(): Promise<H64Raw> {
  h64Promise ??= xxhash().then((api) => api.h64Raw)
  return h64Promise
}

export function pagesOf(size: number): number {
  return Math.ceil(size / PAGE_SIZE)
}

/**
 * ELF executable or shared library: magic 0x7f 'E' 'L' 'F' and e_type (offset 16, in the byte
 * order of e_ident[EI_DATA]) ET_EXEC (2) or ET_DYN (3). `head` is the file's first bytes (>= 18
 * are needed).
 */
export function isElfExecutable(head: Uint8Array): boolean {
  if (head.length < 18) return false
  if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return false
  const eType = head[5] === 2 ? (head[16] << 8) | head[17] : head[16] | (head[17] << 8)
  return eType === 2 || eType === 3
}

/**
 * Hashes a byte stream page by page as chunks arrive: each full 4 KiB page is hashed, the last
 * partial page is zero-padded at finish(). Keeps only one page of carry-over and the fingerprints.
 */
export class PageHasher {
  private readonly page = new Uint8Array(PAGE_SIZE)
  private fill = 0
  private fps = new Uint32Array(16)
  private count = 0
  private head = new Uint8Array(0)
  size = 0

  constructor(private readonly h64: H64Raw) {}

  push(chunk: Uint8Array): void {
    if (this.head.length < 18) {
      const need = 18 - this.head.length
      const merged = new Uint8Array(this.head.length + Math.min(need, chunk.length))
      merged.set(this.head)
      merged.set(chunk.subarray(0, need), this.head.length)
      this.head = merged
    }
    this.size += chunk.length
    let off = 0
    if (this.fill > 0) {
      const take = Math.min(PAGE_SIZE - this.fill, chunk.length)
      this.page.set(chunk.subarray(0, take), this.fill)
      this.fill += take
      off = take
      if (this.fill === PAGE_SIZE) {
        this.emit(this.page)
        this.fill = 0
      }
    }
    while (chunk.length - off >= PAGE_SIZE) {
      this.emit(chunk.subarray(off, off + PAGE_SIZE))
      off += PAGE_SIZE
    }
    if (off < chunk.length) {
      this.page.set(chunk.subarray(off), 0)
      this.fill = chunk.length - off
    }
  }

  /** The file's record; the hasher must not be reused. */
  finish(path: string): ImageFile {
    if (this.fill > 0) {
      this.page.fill(0, this.fill)
      this.emit(this.page)
      this.fill = 0
    }
    return { path, size: this.size, elf: isElfExecutable(this.head), fps: this.fps.slice(0, this.count * 2) }
  }

  private emit(page: Uint8Array): void {
    const h = this.h64(page)
    if (this.count * 2 === this.fps.length) {
      const grown = new Uint32Array(this.fps.length * 2)
      grown.set(this.fps)
      this.fps = grown
    }
    this.fps[this.count * 2] = Number(h >> 32n)
    this.fps[this.count * 2 + 1] = Number(h & 0xffffffffn)
    this.count++
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding: one JSON header line, then little-endian binary records, then a trailer.

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

export function makeHeader(source: string): ImageHeader {
  return { schema: IMAGE_SCHEMA, page_size: PAGE_SIZE, hash: 'xxh64', source }
}

export function encodeHeader(header: ImageHeader): Uint8Array {
  return utf8.encode(JSON.stringify(header) + '\n')
}

/** Path bytes of a record, or an error message if the path cannot be stored. */
export function checkPath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'path must start with /'
  if (path.includes('\n') || path.includes('\0')) return 'path holds a NUL or newline'
  if (utf8.encode(path).length > MAX_PATH_BYTES) return 'path too long'
  return undefined
}

export function encodeFile(file: ImageFile): Uint8Array {
  const problem = checkPath(file.path)
  if (problem) throw new ImageFormatError(`${file.path}: ${problem}`)
  const pages = pagesOf(file.size)
  if (file.fps.length !== pages * 2) throw new ImageFormatError(`${file.path}: ${file.fps.length / 2} fingerprints for ${pages} pages`)
  const path = utf8.encode(file.path)
  const out = new Uint8Array(4 + path.length + 1 + 8 + pages * 8)
  const dv = new DataView(out.buffer)
  dv.setUint32(0, path.length, true)
  out.set(path, 4)
  let o = 4 + path.length
  out[o] = file.elf ? FLAG_ELF : 0
  o += 1
  dv.setUint32(o, file.size >>> 0, true)
  dv.setUint32(o + 4, Math.floor(file.size / 2 ** 32), true)
  o += 8
  for (let p = 0; p < pages; p++) {
    // The fingerprint as a little-endian u64: low half first.
    dv.setUint32(o, file.fps[p * 2 + 1], true)
    dv.setUint32(o + 4, file.fps[p * 2], true)
    o += 8
  }
  return out
}

export function encodeTrailer(files: number, pages: number): Uint8Array {
  const out = new Uint8Array(16)
  const dv = new DataView(out.buffer)
  dv.setUint32(0, TRAILER_TAG, true)
  dv.setUint32(4, files, true)
  dv.setUint32(8, pages >>> 0, true)
  dv.setUint32(12, Math.floor(pages / 2 ** 32), true)
  return out
}

/** A whole image in memory (tests, small images). */
export function encodeImage(index: ImageIndex): Uint8Array {
  const parts = [encodeHeader(index.header)]
  let pages = 0
  for (const f of index.files) {
    parts.push(encodeFile(f))
    pages += pagesOf(f.size)
  }
  parts.push(encodeTrailer(index.files.length, pages))
  if (index.beyond) parts.push(encodeBeyond(index.beyond))
  return concatBytes(parts)
}

/** The byte arrays one after the other, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Parses an image; throws ImageFormatError with one clear line if the bytes are not one. */
export function decodeImage(bytes: Uint8Array): ImageIndex {
  const nl = bytes.indexOf(0x0a)
  if (nl < 0 || bytes[0] !== 0x7b) throw new ImageFormatError(`not a ${IMAGE_SCHEMA} file (no JSON header line)`)
  let header: ImageHeader
  try {
    header = JSON.parse(utf8Strict.decode(bytes.subarray(0, nl))) as ImageHeader
  } catch {
    throw new ImageFormatError(`not a ${IMAGE_SCHEMA} file (bad JSON header line)`)
  }
  if (typeof header !== 'object' || header === null || header.schema !== IMAGE_SCHEMA) {
    const got = typeof header === 'object' && header !== null ? String(header.schema) : 'none'
    throw new ImageFormatError(`not a ${IMAGE_SCHEMA} file (schema: ${got})`)
  }
  if (header.page_size !== PAGE_SIZE || header.hash !== 'xxh64') {
    throw new ImageFormatError(`unsupported image: page_size ${header.page_size}, hash ${header.hash}`)
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const files: ImageFile[] = []
  let o = nl + 1
  let pagesTotal = 0
  // A path occurs at most once: a guest's file table holds one file per path.
  const paths = new Set<string>()
  const need = (n: number, what: string): void => {
    if (o + n > bytes.length) throw new ImageFormatError(`truncated image: ${what} at byte ${o}`)
  }
  for (;;) {
    need(4, 'record')
    const len = dv.getUint32(o, true)
    if (len === TRAILER_TAG) {
      need(16, 'trailer')
      const nFiles = dv.getUint32(o + 4, true)
      const nPages = dv.getUint32(o + 8, true) + dv.getUint32(o + 12, true) * 2 ** 32
      if (nFiles !== files.length || nPages !== pagesTotal) {
        throw new ImageFormatError(`corrupt image: trailer says ${nFiles} files ${nPages} pages, found ${files.length} files ${pagesTotal} pages`)
      }
      if (o + 16 === bytes.length) return { header, files }
      return { header, files, beyond: decodeBeyond(bytes, o + 16, pagesTotal, (m) => new ImageFormatError(`corrupt image: ${m}`)) }
    }
    if (len === 0 || len > MAX_PATH_BYTES) throw new ImageFormatError(`corrupt image: path length ${len} at byte ${o}`)
    o += 4
    need(len + 9, 'record')
    let path: string
    try {
      path = utf8Strict.decode(bytes.subarray(o, o + len))
    } catch {
      throw new ImageFormatError(`corrupt image: path is not UTF-8 at byte ${o}`)
    }
    const problem = checkPath(path)
    if (problem) throw new ImageFormatError(`corrupt image: ${problem} at byte ${o}`)
    if (paths.has(path)) throw new ImageFormatError(`corrupt image: ${path} occurs twice (at byte ${o})`)
    paths.add(path)
    o += len
    const flags = bytes[o]
    o += 1
    const size = dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 2 ** 32
    o += 8
    if (!Number.isSafeInteger(size)) throw new ImageFormatError(`corrupt image: size of ${path}`)
    const pages = pagesOf(size)
    need(pages * 8, `pages of ${path}`)
    const fps = new Uint32Array(pages * 2)
    for (let p = 0; p < pages; p++) {
      fps[p * 2 + 1] = dv.getUint32(o, true)
      fps[p * 2] = dv.getUint32(o + 4, true)
      o += 8
    }
    pagesTotal += pages
    files.push({ path, size, elf: (flags & FLAG_ELF) !== 0, fps })
  }
}

// ---------------------------------------------------------------------------------------------
// Ideal sharing

/** A set of 64-bit fingerprints: open addressing over typed arrays, no object per page. */
export class FpSet {
  private hi: Uint32Array
  private lo: Uint32Array
  private used: Uint8Array
  private mask: number
  size = 0

  constructor(capacity = 1024) {
    let cap = 16
    while (cap < capacity * 2) cap *= 2
    this.hi = new Uint32Array(cap)
    this.lo = new Uint32Array(cap)
    this.used = new Uint8Array(cap)
    this.mask = cap - 1
  }

  /** Adds (hi, lo); true if it was not there. */
  add(hi: number, lo: number): boolean {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask
    while (this.used[i]) {
      if (this.hi[i] === hi && this.lo[i] === lo) return false
      i = (i + 1) & this.mask
    }
    this.used[i] = 1
    this.hi[i] = hi
    this.lo[i] = lo
    this.size++
    if (this.size * 2 > this.mask) this.grow()
    return true
  }

  has(hi: number, lo: number): boolean {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask
    while (this.used[i]) {
      if (this.hi[i] === hi && this.lo[i] === lo) return true
      i = (i + 1) & this.mask
    }
    return false
  }

  /** Calls fn with every fingerprint in the set (in table order). */
  forEach(fn: (hi: number, lo: number) => void): void {
    for (let i = 0; i < this.used.length; i++) if (this.used[i]) fn(this.hi[i], this.lo[i])
  }

  private grow(): void {
    const { hi, lo, used } = this
    const cap = used.length * 2
    this.hi = new Uint32Array(cap)
    this.lo = new Uint32Array(cap)
    this.used = new Uint8Array(cap)
    this.mask = cap - 1
    this.size = 0
    for (let i = 0; i < used.length; i++) if (used[i]) this.add(hi[i], lo[i])
  }
}

export interface SharingStats {
  files: number
  pages: number
  distinct: number
  zero: number
  /** Pages a perfect scanner could free: pages - distinct. */
  saved_pages: number
  saved_mib: number
}

export interface ImageStatsReport {
  images: (SharingStats & { name: string })[]
  /** All images together (one host running one VM per image). */
  all: SharingStats
  /** What sharing across images adds to the sum of the within-image savings. */
  cross_saved_pages: number
  cross_saved_mib: number
}

const toMib = (pages: number): number => (pages * PAGE_SIZE) / (1024 * 1024)

/**
 * Ideal sharing within each image and across all of them: every page with equal content merged
 * into one frame, zero pages included (they merge into one zero page too). Independent of any
 * scanner.
 */
export function imageStats(images: { name: string; files: Iterable<ImageFile> }[]): ImageStatsReport {
  const union = new FpSet()
  const all: SharingStats = { files: 0, pages: 0, distinct: 0, zero: 0, saved_pages: 0, saved_mib: 0 }
  const per: (SharingStats & { name: string })[] = []
  for (const img of images) {
    const own = new FpSet()
    const s = { name: img.name, files: 0, pages: 0, distinct: 0, zero: 0, saved_pages: 0, saved_mib: 0 }
    for (const f of img.files) {
      s.files++
      const fps = f.fps
      for (let i = 0; i < fps.length; i += 2) {
        const hi = fps[i]
        const lo = fps[i + 1]
        s.pages++
        if (isZeroFp(hi, lo)) s.zero++
        own.add(hi, lo)
        union.add(hi, lo)
      }
    }
    s.distinct = own.size
    s.saved_pages = s.pages - s.distinct
    s.saved_mib = toMib(s.saved_pages)
    per.push(s)
    all.files += s.files
    all.pages += s.pages
    all.zero += s.zero
  }
  all.distinct = union.size
  all.saved_pages = all.pages - all.distinct
  all.saved_mib = toMib(all.saved_pages)
  const cross = all.saved_pages - per.reduce((n, s) => n + s.saved_pages, 0)
  return { images: per, all, cross_saved_pages: cross, cross_saved_mib: toMib(cross) }
}

/** The stats as a text table. */
export function formatImageStats(r: ImageStatsReport): string {
  const rows: string[][] = [['image', 'files', 'pages', 'distinct', 'zero', 'ideal saved pages', 'saved MiB']]
  const row = (name: string, s: SharingStats): string[] => [
    name,
    String(s.files),
    String(s.pages),
    String(s.distinct),
    String(s.zero),
    String(s.saved_pages),
    s.saved_mib.toFixed(2)
  ]
  for (const s of r.images) rows.push(row(s.name, s))
  if (r.images.length > 1) rows.push(row('all images', r.all))
  const widths = rows[0].map((_, c) => Math.max(...rows.map((x) => x[c].length)))
  const lines = rows.map((x) => x.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
  if (r.images.length > 1) {
    lines.push(`sharing across images adds ${r.cross_saved_pages} pages (${r.cross_saved_mib.toFixed(2)} MiB) to the within-image savings`)
  }
  return lines.join('\n') + '\n'
}
