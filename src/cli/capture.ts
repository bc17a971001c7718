/**
 * `samepage dump capture --pid PID -o SNAPSHOT [--mapping ADDR]` (Linux): a running process's
 * memory as the host holds it, typically QEMU's guest RAM. KSM sees only the pages the host has
 * present, so that is what the snapshot holds: the RAM mapping's pages whose /proc/PID/pagemap
 * entry has the present bit (bit 63), with their bytes from /proc/PID/mem, hashed with xxhash64
 * as `dump import` does; the others (never touched, or swapped out: bit 62) are not present.
 * Huge pages need nothing special: pagemap has an entry per 4 KiB page in transparent and
 * hugetlbfs huge pages alike, and /proc/PID/mem reads them page by page.
 *
 * The RAM mapping is the one starting at `--mapping ADDR` (hex, as /proc/PID/maps prints it) or
 * else the largest writable mapping that is anonymous (no path, `[anon:...]`), a memfd, or on
 * hugetlbfs (`/dev/hugepages`, `anon_hugepage`): QEMU's guest RAM is that mapping for a plain
 * `-m` guest (docs/file-formats.md says how to find it otherwise). Reading another process's
 * pagemap and mem needs ptrace access to it: root, or the same user with ptrace allowed.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { loadH64Raw, PageHasher } from '../core/formats/image.ts'
import { encodeSnapshot, makeSnapshotHeader, snapshotStats, type SnapshotExtent } from '../core/formats/snapshot.ts'
import { errText, writeAtomic } from './dump.ts'
import { ImageUsageError, usage, type ImageIo } from './image.ts'

const PAGE = 4096
/** Pages read from /proc/PID/mem at once. */
const RUN_PAGES = 256
/** /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
const PM_PRESENT = 1n << 63n
const PM_SWAPPED = 1n << 62n

export interface MapEntry {
  start: number
  end: number
  perms: string
  path: string
}

export interface CaptureResult {
  mapping: string
  mapped_pages: number
  present: number
  swapped: number
  zero: number
}

/** The lines of /proc/PID/maps. */
export function parseMaps(text: string): MapEntry[] {
  const out: MapEntry[] = []
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*(.*)$/.exec(line)
    if (m) out.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], path: m[4].trim() })
  }
  return out
}

const ramLike = (e: MapEntry): boolean =>
  e.perms.startsWith('rw') && (e.path === '' || e.path.startsWith('[anon:') || e.path.startsWith('/memfd:') || e.path.startsWith('/dev/hugepages') || e.path.startsWith('/anon_hugepage'))

/** The RAM mapping: the one starting at `at`, or the largest writable anonymous-like mapping. */
export function pickRamMapping(maps: MapEntry[], at: number | null): MapEntry | null {
  if (at !== null) return maps.find((e) => e.start === at) ?? null
  let best: MapEntry | null = null
  for (const e of maps) if (ramLike(e) && (!best || e.end - e.start > best.end - best.start)) best = e
  return best
}

export async function cmdCapture(args: string[], io: ImageIo, usageLine: string): Promise<number> {
  const { values, positionals } = usage('dump capture', () =>
    parseArgs({ args, options: { pid: { type: 'string' }, out: { type: 'string', short: 'o' }, mapping: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true })
  )
  if (positionals.length > 0) throw new ImageUsageError(`dump capture takes no DUMP, got "${positionals[0]}" (${usageLine})`)
  const pid = Number(values.pid)
  if (typeof values.pid !== 'string' || !/^[1-9][0-9]*$/.test(values.pid) || !Number.isSafeInteger(pid)) throw new ImageUsageError(`dump capture needs --pid PID, a process id (${usageLine})`)
  if (typeof values.out !== 'string' || values.out === '') throw new ImageUsageError(`dump capture needs -o SNAPSHOT (${usageLine})`)
  let at: number | null = null
  if (values.mapping !== undefined) {
    if (!/^(0x)?[0-9a-fA-F]+$/.test(values.mapping)) throw new ImageUsageError(`--mapping must be the start address of a mapping in hex, as /proc/${pid}/maps prints it; got "${values.mapping}"`)
    at = parseInt(values.mapping.replace(/^0x/, ''), 16)
  }
  const r = await capture(pid, values.out, at)
  if (values.json) io.stdout(JSON.stringify(r, null, 2) + '\n')
  else io.stdout(`${values.out}: ${r.present} present pages (${((r.present * PAGE) / 1048576).toFixed(2)} MiB) of ${r.mapped_pages} in ${r.mapping}, ${r.zero} zero, ${r.swapped} swapped out (left out)\n`)
  return 0
}

/** Reads the RAM mapping of process pid as the host holds it and writes a snapshot to out. */
export async function capture(pid: number, out: string, at: number | null): Promise<CaptureResult> {
  if (process.platform !== 'linux') throw new ImageUsageError('dump capture reads /proc/PID/pagemap and /proc/PID/mem: Linux only')
  let maps: MapEntry[]
  try {
    maps = parseMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'))
  } catch (e) {
    throw new ImageUsageError(`--pid ${pid}: cannot read /proc/${pid}/maps: ${errText(e)} (no such process, or no access)`)
  }
  const ram = pickRamMapping(maps, at)
  if (!ram) throw new ImageUsageError(at !== null ? `--mapping ${at.toString(16)}: no mapping of process ${pid} starts there (see /proc/${pid}/maps)` : `--pid ${pid}: no writable anonymous mapping to capture (name one with --mapping)`)
  const h64 = await loadH64Raw()
  const open = (what: string): number => {
    try {
      return openSync(`/proc/${pid}/${what}`, 'r')
    } catch (e) {
      throw new ImageUsageError(`--pid ${pid}: cannot open /proc/${pid}/${what}: ${errText(e)} (run as root, or as its user with ptrace access)`)
    }
  }
  const pm = open('pagemap')
  let mem = -1
  const pages = (ram.end - ram.start) / PAGE
  const extents: SnapshotExtent[] = []
  let present = 0
  let swapped = 0
  try {
    mem = open('mem')
    const entries = new BigUint64Array(RUN_PAGES)
    const bytes = new Uint8Array(RUN_PAGES * PAGE)
    let run: { gfn: number; hasher: PageHasher } | null = null
    const endRun = (): void => {
      if (run) extents.push({ gfn: run.gfn, fps: run.hasher.finish('/').fps })
      run = null
    }
    for (let p = 0; p < pages; p += RUN_PAGES) {
      const n = Math.min(RUN_PAGES, pages - p)
      readFully(pm, new Uint8Array(entries.buffer, 0, n * 8), ((ram.start / PAGE + p) * 8), `/proc/${pid}/pagemap`)
      let i = 0
      while (i < n) {
        if ((entries[i] & PM_PRESENT) === 0n) {
          if ((entries[i] & PM_SWAPPED) !== 0n) swapped++
          endRun()
          i++
          continue
        }
        let j = i
        while (j < n && (entries[j] & PM_PRESENT) !== 0n) j++
        const chunk = bytes.subarray(0, (j - i) * PAGE)
        readFully(mem, chunk, ram.start + (p + i) * PAGE, `/proc/${pid}/mem`)
        if (!run) run = { gfn: p + i, hasher: new PageHasher(h64) }
        run.hasher.push(chunk)
        present += j - i
        i = j
      }
    }
    endRun()
  } finally {
    closeSync(pm)
    if (mem >= 0) closeSync(mem)
  }
  const name = `${ram.start.toString(16)}-${ram.end.toString(16)}${ram.path ? ' ' + ram.path : ''}`
  const snapshot = { header: makeSnapshotHeader(`pid ${pid} ${name}`, 'host-capture'), extents }
  writeAtomic(out, encodeSnapshot(snapshot))
  return { mapping: name, mapped_pages: pages, present, swapped, zero: snapshotStats(snapshot).zero }
}

function readFully(fd: number, into: Uint8Array, pos: number, what: string): void {
  let o = 0
  while (o < into.length) {
    let n: number
    try {
      n = readSync(fd, into, o, into.length - o, pos + o)
    } catch (e) {
      throw new ImageUsageError(`cannot read ${what}: ${errText(e)}`)
    }
    if (n === 0) throw new ImageUsageError(`cannot read ${what}: it ended at ${pos + o} (did the process exit?)`)
    o += n
  }
}
