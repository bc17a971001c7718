/**
 * Memory snapshots (`samepage-lab/snapshot@1`): the content index of a guest's physical memory
 * as a raw dump holds it (QEMU `pmemsave`, or `dump-guest-memory` as an ELF core), one xxhash64
 * per 4 KiB page, so a VM can start from the memory a real guest had. Same family as the image
 * format (src/core/formats/image.ts): one JSON header line, little-endian binary extents, a trailer;
 * documented in docs/file-formats.md. Pure: the dump reading lives in src/cli/dump.ts.
 *
 * An extent is a run of guest frames starting at `gfn`; a raw dump is one extent from gfn 0, an
 * ELF core one extent per PT_LOAD segment (at its physical address). Frames no extent covers are
 * not in the dump (holes such as the PCI hole): the VM never touched them.
 */
import { isZeroFp, PAGE_SHIFT, PAGE_SIZE } from '../machine/content.ts'
import { decodeBeyond, encodeBeyond, type PageBeyond } from './beyond.ts'
import { concatBytes } from './image.ts'

export const SNAPSHOT_SCHEMA = 'samepage-lab/snapshot@1'
/** The dump formats a snapshot may come from (informative). */
export type DumpFormat = 'raw' | 'elf-core' | 'host-capture'

export class SnapshotFormatError extends Error {}

export interface SnapshotHeader {
  schema: string
  page_size: number
  hash: string
  /** The dump's file name, informative only. */
  source: string
  format: DumpFormat
}

export interface SnapshotExtent {
  /** First guest frame number of the run. */
  gfn: number
  /** Per page, fingerprint halves interleaved: [hi0, lo0, hi1, lo1, ...]. */
  fps: Uint32Array
}

export interface Snapshot {
  header: SnapshotHeader
  /** In increasing gfn order, never overlapping. */
  extents: SnapshotExtent[]
  /** Optional (`dump import --beyond`): Difference Engine's per-page data, in extent page order. */
  beyond?: PageBeyond
}

/** Highest gfn a snapshot may name + 1 (2^40 frames = 4 PiB of guest memory). */
const MAX_GFN = 2 ** 40
const TRAILER_TAG = 0xffffffff

export function makeSnapshotHeader(source: string, format: DumpFormat): SnapshotHeader {
  return { schema: SNAPSHOT_SCHEMA, page_size: PAGE_SIZE, hash: 'xxh64', source, format }
}

export interface SnapshotStats {
  /** Pages the dump holds. */
  pages: number
  /** Pages whose content is the zero page. */
  zero: number
  /** One past the highest gfn: the guest memory the snapshot needs, in pages. */
  end_gfn: number
}

export function snapshotStats(s: Snapshot): SnapshotStats {
  let pages = 0
  let zero = 0
  let end = 0
  for (const e of s.extents) {
    const n = e.fps.length / 2
    pages += n
    end = Math.max(end, e.gfn + n)
    for (let i = 0; i < e.fps.length; i += 2) if (isZeroFp(e.fps[i], e.fps[i + 1])) zero++
  }
  return { pages, zero, end_gfn: end }
}

/** Checks extent order and bounds; a message, or undefined when the extents are fine. */
export function checkExtents(extents: readonly { gfn: number; pages: number }[]): string | undefined {
  let end = 0
  for (const e of extents) {
    if (!Number.isSafeInteger(e.gfn) || e.gfn < 0 || e.pages < 1) return `bad extent at gfn ${e.gfn}`
    if (e.gfn < end) return `extents overlap or are out of order at gfn ${e.gfn}`
    end = e.gfn + e.pages
    if (end > MAX_GFN) return `extent at gfn ${e.gfn} goes past ${MAX_GFN} frames`
  }
  return undefined
}

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

/** A whole snapshot as bytes. */
export function encodeSnapshot(s: Snapshot): Uint8Array {
  const problem = checkExtents(s.extents.map((e) => ({ gfn: e.gfn, pages: e.fps.length / 2 })))
  if (problem) throw new SnapshotFormatError(problem)
  const head = utf8.encode(JSON.stringify(s.header) + '\n')
  const body = s.extents.reduce((n, e) => n + 16 + (e.fps.length / 2) * 8, 0)
  const out = new Uint8Array(head.length + body + 32)
  out.set(head)
  const dv = new DataView(out.buffer)
  let o = head.length
  const u64 = (v: number): void => {
    dv.setUint32(o, v >>> 0, true)
    dv.setUint32(o + 4, Math.floor(v / 2 ** 32), true)
    o += 8
  }
  const st = snapshotStats(s)
  for (const e of s.extents) {
    const n = e.fps.length / 2
    u64(e.gfn)
    u64(n)
    for (let p = 0; p < n; p++) {
      dv.setUint32(o, e.fps[p * 2 + 1], true) // little-endian u64: low half first
      dv.setUint32(o + 4, e.fps[p * 2], true)
      o += 8
    }
  }
  dv.setUint32(o, TRAILER_TAG, true)
  dv.setUint32(o + 4, TRAILER_TAG, true)
  o += 8
  u64(s.extents.length)
  u64(st.pages)
  u64(st.zero)
  return s.beyond ? concatBytes([out, encodeBeyond(s.beyond)]) : out
}

/** The `schema` of a samepage binary file's JSON header line, or undefined if it has none. */
export function headerSchema(bytes: Uint8Array): string | undefined {
  const nl = bytes.indexOf(0x0a)
  if (nl < 0 || bytes[0] !== 0x7b || nl > 65536) return undefined
  try {
    const h = JSON.parse(utf8Strict.decode(bytes.subarray(0, nl))) as { schema?: unknown }
    return typeof h === 'object' && h !== null && typeof h.schema === 'string' ? h.schema : undefined
  } catch {
    return undefined
  }
}

/** Parses a snapshot; throws SnapshotFormatError with one clear line if the bytes are not one. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  const schema = headerSchema(bytes)
  if (schema !== SNAPSHOT_SCHEMA) throw new SnapshotFormatError(`not a ${SNAPSHOT_SCHEMA} file (schema: ${schema ?? 'none'})`)
  const nl = bytes.indexOf(0x0a)
  const header = JSON.parse(utf8Strict.decode(bytes.subarray(0, nl))) as SnapshotHeader
  if (header.page_size !== PAGE_SIZE || header.hash !== 'xxh64') {
    throw new SnapshotFormatError(`unsupported snapshot: page_size ${header.page_size}, hash ${header.hash}`)
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let o = nl + 1
  const need = (n: number, what: string): void => {
    if (o + n > bytes.length) throw new SnapshotFormatError(`truncated snapshot: ${what} at byte ${o}`)
  }
  const u64 = (): number => {
    const v = dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 2 ** 32
    o += 8
    return v
  }
  const extents: SnapshotExtent[] = []
  let end = 0
  for (;;) {
    need(8, 'extent')
    if (dv.getUint32(o, true) === TRAILER_TAG && dv.getUint32(o + 4, true) === TRAILER_TAG) {
      o += 8
      need(24, 'trailer')
      const nExt = u64()
      const nPages = u64()
      const nZero = u64()
      const st = snapshotStats({ header, extents })
      if (nExt !== extents.length || nPages !== st.pages || nZero !== st.zero) {
        throw new SnapshotFormatError(`corrupt snapshot: trailer says ${nExt} extents ${nPages} pages ${nZero} zero, found ${extents.length} ${st.pages} ${st.zero}`)
      }
      if (o === bytes.length) return { header, extents }
      const beyond = decodeBeyond(bytes, o, st.pages, (m) => new SnapshotFormatError(`corrupt snapshot: ${m}`))
      return { header, extents, beyond }
    }
    need(16, 'extent')
    const gfn = u64()
    const n = u64()
    if (!Number.isSafeInteger(gfn) || gfn < end || n < 1 || gfn + n > MAX_GFN) throw new SnapshotFormatError(`corrupt snapshot: extent of ${n} pages at gfn ${gfn}`)
    need(n * 8, `pages of the extent at gfn ${gfn}`)
    const fps = new Uint32Array(n * 2)
    for (let p = 0; p < n; p++) {
      fps[p * 2 + 1] = dv.getUint32(o, true)
      fps[p * 2] = dv.getUint32(o + 4, true)
      o += 8
    }
    end = gfn + n
    extents.push({ gfn, fps })
  }
}

/** A region of a dump file holding guest memory: `bytes` bytes at `offset`, from frame `gfn`. */
export interface DumpRegion {
  offset: number
  bytes: number
  gfn: number
}

const PT_LOAD = 1
const ET_CORE = 4

/**
 * Where guest memory lies in a dump file of `fileSize` bytes whose first bytes are `head`: an
 * ELF core (QEMU `dump-guest-memory`: ELF magic and e_type ET_CORE; 64-bit little-endian) gives
 * one region per PT_LOAD segment at its physical address (`head` must hold the program headers);
 * anything else is raw memory from guest physical address 0 (`pmemsave 0 SIZE`). Throws SnapshotFormatError on a
 * malformed core.
 */
export function dumpLayout(head: Uint8Array, fileSize: number): { format: DumpFormat; regions: DumpRegion[] } {
  // An ELF core: magic and e_type ET_CORE (in the byte order of e_ident[EI_DATA]). Raw memory may
  // start with any bytes, even an ELF executable's, so anything else is raw.
  const isElf = head.length >= 18 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46
  const eType = head[5] === 2 ? (head[16] << 8) | head[17] : head[16] | (head[17] << 8)
  if (!isElf || eType !== ET_CORE) return { format: 'raw', regions: fileSize > 0 ? [{ offset: 0, bytes: fileSize, gfn: 0 }] : [] }
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength)
  if (head.length < 64 || head[4] !== 2 || head[5] !== 1) throw new SnapshotFormatError('ELF core: only 64-bit little-endian cores are supported')
  const phoff = dv.getUint32(32, true) + dv.getUint32(36, true) * 2 ** 32
  const phentsize = dv.getUint16(54, true)
  const phnum = dv.getUint16(56, true)
  if (phentsize < 56 || phoff + phnum * phentsize > head.length) throw new SnapshotFormatError('ELF core: program headers out of range')
  const regions: DumpRegion[] = []
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize
    if (dv.getUint32(p, true) !== PT_LOAD) continue
    const offset = dv.getUint32(p + 8, true) + dv.getUint32(p + 12, true) * 2 ** 32
    const paddr = dv.getUint32(p + 24, true) + dv.getUint32(p + 28, true) * 2 ** 32
    const filesz = dv.getUint32(p + 32, true) + dv.getUint32(p + 36, true) * 2 ** 32
    if (filesz === 0) continue
    if (paddr % PAGE_SIZE !== 0) throw new SnapshotFormatError(`ELF core: segment ${i} starts at physical address 0x${paddr.toString(16)}, not page aligned`)
    if (offset + filesz > fileSize) throw new SnapshotFormatError(`ELF core: segment ${i} runs past the end of the file (truncated dump?)`)
    regions.push({ offset, bytes: filesz, gfn: Math.floor(paddr / 2 ** PAGE_SHIFT) })
  }
  // Segments must not share file bytes: 1,100 headers over the same 64 MiB would have the
  // importer hash 70 GiB from a 64 MiB file. Non-overlapping, they total at most the file's size.
  const byOffset = regions.map((r, k) => [r.offset, r.bytes, k] as const).sort((a, b) => a[0] - b[0])
  for (let k = 1; k < byOffset.length; k++) {
    if (byOffset[k][0] < byOffset[k - 1][0] + byOffset[k - 1][1]) throw new SnapshotFormatError(`ELF core: PT_LOAD segments overlap in the file (at byte ${byOffset[k][0]}); a dump's segments hold distinct bytes`)
  }
  regions.sort((a, b) => a.gfn - b.gfn)
  const problem = checkExtents(regions.map((r) => ({ gfn: r.gfn, pages: Math.ceil(r.bytes / PAGE_SIZE) })))
  if (problem) throw new SnapshotFormatError(`ELF core: ${problem}`)
  return { format: 'elf-core', regions }
}
