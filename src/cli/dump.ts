/**
 * `samepage dump import DUMP -o SNAPSHOT`: a guest memory dump (raw, as QEMU `pmemsave` writes
 * it, or the ELF core of QEMU `dump-guest-memory`) hashed per 4 KiB page with xxhash64 into a
 * memory snapshot (`samepage-lab/snapshot@1`, src/core/formats/snapshot.ts) that a VM can start from
 * (`snapshot_file`). The dump is streamed in 1 MiB reads; only the fingerprints are kept
 * (8 bytes a page). The snapshot is written to a temporary file beside SNAPSHOT and renamed over
 * it when complete.
 *
 * A raw dump holds every guest page, but guest RAM the guest never touched is not allocated on
 * the host, and KSM never sees it (follow_page finds no page). So all-zero pages are left out by
 * default: they become not present in the snapshot (`--keep-zero` keeps them). A dump of only
 * the pages the host holds comes from `samepage dump capture` (src/cli/capture.ts).
 */
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { FpSet, loadH64Raw, PageHasher } from '../core/formats/image.ts'
import { dumpLayout, encodeSnapshot, makeSnapshotHeader, snapshotStats, SnapshotFormatError, type Snapshot, type SnapshotExtent } from '../core/formats/snapshot.ts'
import { ZERO_FP_HI, ZERO_FP_LO } from '../core/machine/content.ts'
import { cmdCapture } from './capture.ts'
import { selectPages } from '../core/formats/beyond.ts'
import { analyzingH64, newAnalyzer } from './codecs.ts'
import { ImageUsageError, usage, type ImageIo } from './image.ts'
import { oneLine } from '../core/experiment/messages.ts'
import { faultPoint, removeStaleTemps, tempPathFor } from '../host/node/temp-file.ts'

/** Usage errors are one line (exit 2): the problem and the usage. */
const USAGE = 'usage: samepage dump import DUMP -o SNAPSHOT [--keep-zero] [--beyond], DUMP raw memory (pmemsave) or an ELF core (dump-guest-memory); samepage dump capture --pid PID -o SNAPSHOT [--mapping ADDR]'
const READ_CHUNK = 1 << 20
/** Bytes read to find an ELF core's program headers. */
const HEAD_BYTES = 1 << 16

export interface DumpResult {
  format: string
  pages: number
  zero: number
  /** All-zero pages left out as not present (0 with --keep-zero). */
  dropped_zero: number
  distinct: number
  end_gfn: number
}

export async function cmdDump(args: string[], io: ImageIo): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'capture') return cmdCapture(rest, io, USAGE)
  if (sub !== 'import') throw new ImageUsageError(`${sub === undefined ? 'dump needs a command' : `unknown dump command "${sub}"`}: import, capture (${USAGE})`)
  const { values, positionals } = usage('dump import', () =>
    parseArgs({ args: rest, options: { out: { type: 'string', short: 'o' }, json: { type: 'boolean' }, 'keep-zero': { type: 'boolean' }, beyond: { type: 'boolean' } }, allowPositionals: true })
  )
  if (positionals.length !== 1) throw new ImageUsageError(`dump import takes one DUMP, got ${positionals.length} (${USAGE})`)
  if (typeof values.out !== 'string' || values.out === '') throw new ImageUsageError(`dump import needs -o SNAPSHOT (${USAGE})`)
  const r = await importDump(positionals[0], values.out, io, values['keep-zero'] ?? false, values.beyond === true)
  if (values.json) io.stdout(JSON.stringify(r, null, 2) + '\n')
  else {
    const dropped = r.dropped_zero > 0 ? `, ${r.dropped_zero} all-zero pages left out as never touched (--keep-zero keeps them)` : ''
    io.stdout(
      `${values.out}: ${r.pages} pages (${((r.pages * 4096) / 1048576).toFixed(2)} MiB) from a ${r.format} dump, ` +
        `${r.zero} zero, ${r.distinct} distinct${dropped}; guest memory up to ${((r.end_gfn * 4096) / 1048576).toFixed(2)} MiB\n`
    )
  }
  return 0
}

/**
 * The extent's runs of pages that are not all-zero, as extents of their own: a host that never
 * allocated a guest page holds none there, and a raw dump shows it as zeros.
 */
export function dropZeroPages(e: SnapshotExtent): SnapshotExtent[] {
  const out: SnapshotExtent[] = []
  const fps = e.fps
  const n = fps.length / 2
  let start = -1
  for (let i = 0; i <= n; i++) {
    const zero = i === n || (fps[2 * i] === ZERO_FP_HI && fps[2 * i + 1] === ZERO_FP_LO)
    if (!zero && start < 0) start = i
    else if (zero && start >= 0) {
      out.push({ gfn: e.gfn + start, fps: fps.slice(2 * start, 2 * i) })
      start = -1
    }
  }
  return out
}

/**
 * Hashes DUMP into a snapshot at OUT; all-zero pages are left out unless keepZero. With `beyond`,
 * also Difference Engine's per-page data (src/core/formats/beyond.ts: bounded memory, 13 bytes a page
 * kept) for the pages kept, in the snapshot's optional section.
 */
export async function importDump(dump: string, out: string, io: ImageIo, keepZero = false, beyond = false): Promise<DumpResult> {
  const analyzer = beyond ? newAnalyzer() : null
  const h64 = analyzer ? analyzingH64(await loadH64Raw(), analyzer) : await loadH64Raw()
  /** Per page the analyzer saw: 1 if the snapshot keeps it. */
  const keep: number[] = []
  let fd: number
  try {
    // O_NONBLOCK: a FIFO opens at once (and is refused below) instead of waiting for a writer.
    fd = openSync(dump, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (e) {
    throw new ImageUsageError(`cannot read ${dump}: ${errText(e)}`)
  }
  let snapshot: Snapshot
  let dropped = 0
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new ImageUsageError(`cannot read ${dump}: ${st.isDirectory() ? 'it is a folder' : 'not a regular file (a device, FIFO or socket)'}`)
    const head = new Uint8Array(Math.min(HEAD_BYTES, st.size))
    try {
      readSync(fd, head, 0, head.length, 0)
    } catch (e) {
      throw new ImageUsageError(`cannot read ${dump}: ${errText(e)}`)
    }
    let layout
    try {
      layout = dumpLayout(head, st.size)
    } catch (e) {
      if (e instanceof SnapshotFormatError) throw new ImageUsageError(`${dump}: ${e.message}`)
      throw e
    }
    if (layout.regions.length === 0) throw new ImageUsageError(`${dump}: no guest memory in it (empty file?)`)
    const total = layout.regions.reduce((n, r) => n + r.bytes, 0)
    const progress = new DumpProgress(io, total)
    const buf = new Uint8Array(READ_CHUNK)
    const extents: SnapshotExtent[] = []
    let dumpPages = 0
    let keptPages = 0
    try {
      for (const region of layout.regions) {
        const hasher = new PageHasher(h64)
        let done = 0
        while (done < region.bytes) {
          const want = Math.min(buf.length, region.bytes - done)
          let n: number
          try {
            n = readSync(fd, buf, 0, want, region.offset + done)
          } catch (e) {
            throw new ImageUsageError(`cannot read ${dump}: ${errText(e)}`)
          }
          if (n === 0) throw new ImageUsageError(`${dump}: ended early at byte ${region.offset + done} (did it shrink while being read?)`)
          hasher.push(buf.subarray(0, n))
          done += n
          progress.tick(n)
        }
        const extent = { gfn: region.gfn, fps: hasher.finish('/').fps }
        if (analyzer) for (let i = 0; i < extent.fps.length; i += 2) keep.push(keepZero || extent.fps[i] !== ZERO_FP_HI || extent.fps[i + 1] !== ZERO_FP_LO ? 1 : 0)
        if (keepZero) extents.push(extent)
        else {
          const kept = dropZeroPages(extent)
          for (const k of kept) keptPages += k.fps.length / 2
          dumpPages += extent.fps.length / 2
          extents.push(...kept)
        }
      }
    } finally {
      // Also when the read fails: the error line must not follow a half progress line.
      progress.clear()
    }
    snapshot = { header: makeSnapshotHeader(basename(dump), layout.format), extents }
    if (analyzer) {
      analyzer.commitFile(keep.length)
      snapshot.beyond = selectPages(analyzer.result(), Uint8Array.from(keep))
    }
    dropped = dumpPages - keptPages
  } finally {
    closeSync(fd)
  }
  const stale = removeStaleTemps(out)
  if (stale.length > 0) io.stderr(`samepage: ${oneLine(`removed ${stale.length} temporary file(s) an interrupted write of ${out} left: ${stale.join(', ')}`)}\n`)
  writeAtomic(out, encodeSnapshot(snapshot))
  const st = snapshotStats(snapshot)
  const distinct = new FpSet()
  for (const e of snapshot.extents) for (let i = 0; i < e.fps.length; i += 2) distinct.add(e.fps[i], e.fps[i + 1])
  return { format: snapshot.header.format, pages: st.pages, zero: st.zero, dropped_zero: dropped, distinct: distinct.size, end_gfn: st.end_gfn }
}

export function writeAtomic(out: string, bytes: Uint8Array): void {
  const tmp = tempPathFor(out)
  let fd: number
  try {
    fd = openSync(tmp, 'wx')
  } catch (e) {
    throw new ImageUsageError(`cannot write ${out}: ${errText(e)}`)
  }
  faultPoint('temp-created')
  let open = true
  try {
    let o = 0
    while (o < bytes.length) o += writeSync(fd, bytes, o, bytes.length - o)
    faultPoint('temp-written')
    fsyncSync(fd)
    open = false
    closeSync(fd)
    faultPoint('temp-synced')
    renameSync(tmp, out)
    faultPoint('renamed')
  } catch (e) {
    try {
      if (open) closeSync(fd)
      unlinkSync(tmp)
    } catch {
      // already gone
    }
    throw new ImageUsageError(`cannot write ${out}: ${errText(e)}`)
  }
}

/** MiB hashed so far, on one self-overwriting stderr line, only when stderr is a TTY. */
class DumpProgress {
  private bytes = 0
  private last = 0
  private shown = false

  constructor(
    private readonly io: ImageIo,
    private readonly total: number
  ) {}

  tick(n: number): void {
    this.bytes += n
    if (!this.io.stderrIsTTY) return
    const now = Date.now()
    if (now - this.last < 100) return
    this.last = now
    this.shown = true
    this.io.stderr(`\rdump: ${(this.bytes / 1048576).toFixed(1)} / ${(this.total / 1048576).toFixed(1)} MiB `)
  }

  clear(): void {
    if (!this.shown) return
    this.shown = false
    this.io.stderr('\r' + ' '.repeat(60) + '\r')
  }
}

export function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException
  return err?.code ?? (err?.message || String(e))
}
