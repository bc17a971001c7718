/**
 * Beyond identical pages: the further savings Difference Engine (Gupta et al., "Difference
 * Engine: harnessing memory redundancy in virtual machines", OSDI 2008) finds in real memory,
 * on top of identical-page sharing: patching similar pages (a page kept as a delta against a
 * similar reference page) and compressing the pages that remain (docs/model.md, "Beyond
 * identical pages").
 *
 * `BeyondAnalyzer` sees the real bytes of each page once, in order, with bounded memory: per page
 * it keeps 13 bytes of results (`PageBeyond`), and it holds at most `referencePages` whole pages
 * as patch references (a ring) and a fixed-size similarity index. Candidates are found as the
 * paper does: each page is indexed by hashes of a few 64-byte blocks at fixed offsets (its
 * HashSimilarityDetector with 2 indices of 1 block); a page sharing an index with an earlier
 * reference is patched against it with a real delta encoder, and compressed with a real
 * compressor. Both are injected (the CLI passes fossil-delta and zlib): core imports nothing
 * platform-specific. `beyondStats` turns the per-page results of one or more images into savings.
 */
import { isZeroFp, PAGE_SIZE } from '../machine/content.ts'
import { FpSet, type ImageFile } from './image.ts'
import { mix32 } from '../machine/rng.ts'

/** Sub-page block hashed for similarity (Difference Engine: 64-byte blocks). */
export const SUBPAGE_BLOCK = 64
/**
 * Offsets of the blocks each page is indexed by: HashSimilarityDetector(2, 1), two indices of one
 * block each, at offsets picked at random once and then fixed for every page (these two were).
 */
export const SIMILARITY_OFFSETS = [832, 2944] as const
/**
 * A patch is kept only if it is at most this many bytes (*estimate*: half a page, so that a patched
 * page saves at least half of itself; Difference Engine keeps a patch only when it saves memory).
 */
export const PATCH_MAX_BYTES_DEFAULT = 2048
/** A compressed page is kept only if it is at most this many bytes (*estimate*, as for patches). */
export const COMPRESS_MAX_BYTES_DEFAULT = 2048
/** Whole pages kept as patch references: 64 MiB (the analyzer's memory bound). */
export const REFERENCE_PAGES_DEFAULT = 16384
/** Entries of the similarity index (2 x 4 bytes each: 8 MiB). */
export const SIMILARITY_INDEX_DEFAULT = 1 << 20
/** No value (a duplicate page: nothing was computed for it; or no patch candidate). */
export const NONE16 = 0xffff
/** flags: the page was a patch reference for a later page (kept whole, never compressed). */
export const FLAG_REFERENCE = 1

/** Per page of an image or snapshot, in page order: what Difference Engine could do with it. */
export interface PageBeyond {
  /** Similarity index keys (hashes of the blocks at SIMILARITY_OFFSETS). */
  k1: Uint32Array
  k2: Uint32Array
  /** Compressed size in bytes of a page's first occurrence; NONE16 for a duplicate. */
  zsize: Uint16Array
  /** Size of the best patch against a similar earlier page; NONE16 when there was none. */
  patch: Uint16Array
  flags: Uint8Array
}

export interface Codecs {
  /** Bytes of a delta that rebuilds `target` from `reference` (a real delta encoder). */
  delta(reference: Uint8Array, target: Uint8Array): number
  /** Bytes of `page` compressed (a real compressor). */
  compress(page: Uint8Array): number
}

/** 32-bit hash of the 64-byte block of `page` at `off` (FNV-1a folded through mix32). */
export function blockHash(page: Uint8Array, off: number): number {
  let h = 0x811c9dc5
  for (let i = off; i < off + SUBPAGE_BLOCK; i++) h = Math.imul(h ^ page[i], 0x01000193)
  return mix32(h) >>> 0
}

export class BeyondAnalyzer {
  private k1 = new Uint32Array(1024)
  private k2 = new Uint32Array(1024)
  private zsize = new Uint16Array(1024)
  private patch = new Uint16Array(1024)
  private flags = new Uint8Array(1024)
  /** Pages pushed so far. */
  pages = 0
  /** Pages of the current file not yet committed (commitFile). */
  private fileStart = 0
  private readonly seen = new FpSet()
  private readonly refs: Uint8Array
  /** Page index held by each reference slot, -1 free. */
  private readonly refPage: Int32Array
  private refNext = 0
  private readonly idxSlot: Int32Array
  private readonly idxPage: Int32Array
  private readonly idxMask: number

  constructor(
    private readonly codecs: Codecs,
    referencePages = REFERENCE_PAGES_DEFAULT,
    indexSize = SIMILARITY_INDEX_DEFAULT
  ) {
    this.refs = new Uint8Array(referencePages * PAGE_SIZE)
    this.refPage = new Int32Array(referencePages).fill(-1)
    let n = 1
    while (n < indexSize) n *= 2
    this.idxSlot = new Int32Array(n).fill(-1)
    this.idxPage = new Int32Array(n).fill(-1)
    this.idxMask = n - 1
  }

  /** The next page's bytes (4 KiB) and fingerprint. */
  push(page: Uint8Array, hi: number, lo: number): void {
    const i = this.pages++
    this.ensure(i + 1)
    const k1 = blockHash(page, SIMILARITY_OFFSETS[0])
    const k2 = blockHash(page, SIMILARITY_OFFSETS[1])
    this.k1[i] = k1
    this.k2[i] = k2
    this.flags[i] = 0
    if (isZeroFp(hi, lo) || !this.seen.add(hi, lo)) {
      // Identical to an earlier page (or the zero page): sharing takes it, nothing more to do.
      this.zsize[i] = NONE16
      this.patch[i] = NONE16
      return
    }
    this.zsize[i] = Math.min(NONE16 - 1, this.codecs.compress(page))
    let best = NONE16
    let bestPage = -1
    for (const k of [k1, k2]) {
      const e = k & this.idxMask
      const slot = this.idxSlot[e]
      const ref = this.idxPage[e]
      if (slot < 0 || this.refPage[slot] !== ref || ref === bestPage) continue
      const size = this.codecs.delta(this.refs.subarray(slot * PAGE_SIZE, (slot + 1) * PAGE_SIZE), page)
      if (size < best) {
        best = size
        bestPage = ref
      }
    }
    this.patch[i] = Math.min(best, NONE16)
    if (bestPage >= 0 && best <= PATCH_MAX_BYTES_DEFAULT) {
      // Patched against a whole reference page, which must stay whole; a patched page is no reference.
      this.flags[bestPage] |= FLAG_REFERENCE
      return
    }
    const slot = this.refNext
    this.refNext = slot + 1 === this.refPage.length ? 0 : slot + 1
    this.refs.set(page, slot * PAGE_SIZE)
    this.refPage[slot] = i
    for (const k of [k1, k2]) {
      const e = k & this.idxMask
      this.idxSlot[e] = slot
      this.idxPage[e] = i
    }
  }

  /**
   * The current file has `pages` pages: the pages pushed since the last commit are its pages. A
   * file recorded without its bytes (a tar hard link: a copy of an earlier file) gets duplicate
   * entries; pages of a file dropped half-read before it are forgotten.
   */
  commitFile(pages: number): void {
    const pending = this.pages - this.fileStart
    if (pending > pages) {
      const from = this.pages - pages
      for (const a of [this.k1, this.k2, this.zsize, this.patch, this.flags]) a.copyWithin(this.fileStart, from, this.pages)
      this.pages = this.fileStart + pages
    } else if (pending < pages) {
      this.ensure(this.fileStart + pages)
      for (let i = this.pages; i < this.fileStart + pages; i++) {
        this.k1[i] = 0
        this.k2[i] = 0
        this.zsize[i] = NONE16
        this.patch[i] = NONE16
        this.flags[i] = 0
      }
      this.pages = this.fileStart + pages
    }
    this.fileStart = this.pages
  }

  result(): PageBeyond {
    const n = this.pages
    return { k1: this.k1.slice(0, n), k2: this.k2.slice(0, n), zsize: this.zsize.slice(0, n), patch: this.patch.slice(0, n), flags: this.flags.slice(0, n) }
  }

  private ensure(n: number): void {
    if (n <= this.k1.length) return
    let cap = this.k1.length
    while (cap < n) cap *= 2
    const grow = <T extends Uint32Array | Uint16Array | Uint8Array>(a: T, b: T): T => {
      b.set(a)
      return b
    }
    this.k1 = grow(this.k1, new Uint32Array(cap))
    this.k2 = grow(this.k2, new Uint32Array(cap))
    this.zsize = grow(this.zsize, new Uint16Array(cap))
    this.patch = grow(this.patch, new Uint16Array(cap))
    this.flags = grow(this.flags, new Uint8Array(cap))
  }
}

/** The entries of the pages with keep[i] = 1, in order (a dump's pages the snapshot keeps). */
export function selectPages(b: PageBeyond, keep: Uint8Array): PageBeyond {
  let n = 0
  for (const k of keep) n += k
  const out: PageBeyond = { k1: new Uint32Array(n), k2: new Uint32Array(n), zsize: new Uint16Array(n), patch: new Uint16Array(n), flags: new Uint8Array(n) }
  let o = 0
  for (let i = 0; i < keep.length; i++) {
    if (!keep[i]) continue
    out.k1[o] = b.k1[i]
    out.k2[o] = b.k2[i]
    out.zsize[o] = b.zsize[i]
    out.patch[o] = b.patch[i]
    out.flags[o] = b.flags[i]
    o++
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Encoding: an optional section after an image's or snapshot's trailer.

/** Marks the section (where a record's path length or an extent's gfn would be). */
export const BEYOND_TAG = 0xfffffffe
const BYTES_PER_PAGE = 13

export function encodeBeyond(b: PageBeyond): Uint8Array {
  const n = b.k1.length
  const out = new Uint8Array(16 + n * BYTES_PER_PAGE)
  const dv = new DataView(out.buffer)
  dv.setUint32(0, BEYOND_TAG, true)
  dv.setUint32(4, 1, true) // section version
  dv.setUint32(8, n >>> 0, true)
  dv.setUint32(12, Math.floor(n / 2 ** 32), true)
  let o = 16
  for (let i = 0; i < n; i++) {
    dv.setUint32(o, b.k1[i], true)
    dv.setUint32(o + 4, b.k2[i], true)
    dv.setUint16(o + 8, b.zsize[i], true)
    dv.setUint16(o + 10, b.patch[i], true)
    out[o + 12] = b.flags[i]
    o += BYTES_PER_PAGE
  }
  return out
}

/**
 * The section at `bytes[o..]`, which must end the file and hold `pages` entries; a one-line error
 * message (thrown as `err`) otherwise.
 */
export function decodeBeyond(bytes: Uint8Array, o: number, pages: number, err: (m: string) => Error): PageBeyond {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (o + 16 > bytes.length || dv.getUint32(o, true) !== BEYOND_TAG) throw err(`${bytes.length - o} unknown bytes after the trailer`)
  if (dv.getUint32(o + 4, true) !== 1) throw err(`unsupported --beyond section version ${dv.getUint32(o + 4, true)}`)
  const n = dv.getUint32(o + 8, true) + dv.getUint32(o + 12, true) * 2 ** 32
  if (n !== pages) throw err(`the --beyond section has ${n} pages, the file ${pages}`)
  if (o + 16 + n * BYTES_PER_PAGE !== bytes.length) throw err(`the --beyond section is ${bytes.length - o - 16} bytes, expected ${n * BYTES_PER_PAGE}`)
  const b: PageBeyond = { k1: new Uint32Array(n), k2: new Uint32Array(n), zsize: new Uint16Array(n), patch: new Uint16Array(n), flags: new Uint8Array(n) }
  let p = o + 16
  for (let i = 0; i < n; i++) {
    b.k1[i] = dv.getUint32(p, true)
    b.k2[i] = dv.getUint32(p + 4, true)
    b.zsize[i] = dv.getUint16(p + 8, true)
    b.patch[i] = dv.getUint16(p + 10, true)
    b.flags[i] = bytes[p + 12]
    p += BYTES_PER_PAGE
  }
  return b
}

// ---------------------------------------------------------------------------------------------
// Savings

export interface BeyondThresholds {
  patch_max_bytes: number
  compress_max_bytes: number
}

export interface BeyondSavings {
  pages: number
  /** Pages identical sharing frees (pages - distinct contents). */
  identical_saved_pages: number
  /** Distinct pages kept as a patch against a similar page, and the bytes that saves. */
  patched_pages: number
  patch_saved_bytes: number
  /** Distinct pages (not patched, not a reference) kept compressed, and the bytes that saves. */
  compressed_pages: number
  compress_saved_bytes: number
  identical_saved_mib: number
  total_saved_mib: number
  /** total / identical savings (Difference Engine's gain over sharing alone). */
  gain: number | null
}

export interface BeyondReport {
  images: (BeyondSavings & { name: string })[]
  all: BeyondSavings
  thresholds: BeyondThresholds
}

const MIB = 1024 * 1024

function savings(pages: number, identical: number, patched: number, patchBytes: number, compressed: number, compressBytes: number): BeyondSavings {
  const idMib = (identical * PAGE_SIZE) / MIB
  const total = idMib + (patchBytes + compressBytes) / MIB
  return {
    pages,
    identical_saved_pages: identical,
    patched_pages: patched,
    patch_saved_bytes: patchBytes,
    compressed_pages: compressed,
    compress_saved_bytes: compressBytes,
    identical_saved_mib: idMib,
    total_saved_mib: total,
    gain: idMib > 0 ? total / idMib : null
  }
}

/**
 * Savings per image and of all images on one host. A content's fate is decided by its first
 * occurrence (images in order): later copies are shared; the first is patched if its patch is at
 * most patch_max_bytes, else compressed if it compresses to at most compress_max_bytes and no
 * page was patched against it. Per image, an image alone; `all`, every image together (patches
 * are against references within the page's own image: the analyzer saw one image's bytes).
 */
export function beyondStats(images: { name: string; files: readonly ImageFile[]; beyond: PageBeyond }[], t: BeyondThresholds): BeyondReport {
  const one = (list: typeof images): BeyondSavings => {
    const seen = new FpSet()
    let pages = 0
    let distinct = 0
    let patched = 0
    let patchBytes = 0
    let compressed = 0
    let compressBytes = 0
    for (const img of list) {
      const b = img.beyond
      let i = 0
      for (const f of img.files) {
        const fps = f.fps
        for (let p = 0; p < fps.length; p += 2, i++) {
          pages++
          if (!seen.add(fps[p], fps[p + 1])) continue
          distinct++
          if (isZeroFp(fps[p], fps[p + 1])) continue
          const patch = b.patch[i]
          const z = b.zsize[i]
          if (patch !== NONE16 && patch <= t.patch_max_bytes) {
            patched++
            patchBytes += PAGE_SIZE - patch
          } else if (z !== NONE16 && z <= t.compress_max_bytes && !(b.flags[i] & FLAG_REFERENCE)) {
            compressed++
            compressBytes += PAGE_SIZE - z
          }
        }
      }
    }
    return savings(pages, pages - distinct, patched, patchBytes, compressed, compressBytes)
  }
  return { images: images.map((img) => ({ name: img.name, ...one([img]) })), all: one(images), thresholds: t }
}

/** The report as a text table. */
export function formatBeyondStats(r: BeyondReport): string {
  const head = ['image', 'pages', 'identical MiB', 'patched pages', 'patch MiB', 'compressed pages', 'compress MiB', 'total MiB', 'gain']
  const row = (name: string, s: BeyondSavings): string[] => [
    name,
    String(s.pages),
    s.identical_saved_mib.toFixed(2),
    String(s.patched_pages),
    (s.patch_saved_bytes / MIB).toFixed(2),
    String(s.compressed_pages),
    (s.compress_saved_bytes / MIB).toFixed(2),
    s.total_saved_mib.toFixed(2),
    s.gain === null ? '-' : `${s.gain.toFixed(2)}x`
  ]
  const rows = [head, ...r.images.map((s) => row(s.name, s))]
  if (r.images.length > 1) rows.push(row('all images', r.all))
  const widths = head.map((_, c) => Math.max(...rows.map((x) => x[c].length)))
  const lines = rows.map((x) => x.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
  lines.push(`beyond identical pages (Difference Engine): patches of at most ${r.thresholds.patch_max_bytes} bytes, pages compressed to at most ${r.thresholds.compress_max_bytes} bytes; every page counts as rarely used`)
  return lines.join('\n') + '\n'
}
