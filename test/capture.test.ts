// Memory dumps as the host sees them: `dump import` leaves all-zero pages out by default, and
// `dump capture` reads a live process's mapping through /proc/PID/pagemap and /proc/PID/mem.
// The process is a child started here (reading /proc of our own child needs no privilege).
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ZERO_FP_HI, ZERO_FP_LO } from '../src/core/machine/content.ts'
import { loadH64Raw } from '../src/core/formats/image.ts'
import { decodeSnapshot } from '../src/core/formats/snapshot.ts'

const run = promisify(execFile)
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')
const dir = mkdtempSync(join(tmpdir(), 'samepage-capture-'))

async function samepage(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { maxBuffer: 64 * 1024 * 1024 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

const page = (byte: number): Uint8Array => new Uint8Array(4096).fill(byte)

async function fpOf(bytes: Uint8Array): Promise<[number, number]> {
  const h = (await loadH64Raw())(bytes)
  return [Number(h >> 32n), Number(h & 0xffffffffn)]
}

/** Present gfns of a snapshot file, in order, with their fingerprints. */
function pagesOf(file: string): { gfn: number; hi: number; lo: number }[] {
  const s = decodeSnapshot(new Uint8Array(readFileSync(file)))
  const out: { gfn: number; hi: number; lo: number }[] = []
  for (const e of s.extents) for (let i = 0; i < e.fps.length / 2; i++) out.push({ gfn: e.gfn + i, hi: e.fps[2 * i], lo: e.fps[2 * i + 1] })
  return out
}

describe('dump import: all-zero pages are not present unless --keep-zero', () => {
  it('a raw dump with zero pages gives a snapshot of the non-zero pages only, by default', async () => {
    const raw = new Uint8Array(8 * 4096)
    raw.set(page(1), 0)
    raw.set(page(2), 4 * 4096)
    writeFileSync(join(dir, 'z.raw'), raw)
    const d = await samepage('dump', 'import', join(dir, 'z.raw'), '-o', join(dir, 'z.spsnap'), '--json')
    expect(d.code).toBe(0)
    expect(JSON.parse(d.stdout)).toMatchObject({ pages: 2, zero: 0, dropped_zero: 6, end_gfn: 5 })
    expect(pagesOf(join(dir, 'z.spsnap')).map((p) => p.gfn)).toEqual([0, 4])
    const k = await samepage('dump', 'import', join(dir, 'z.raw'), '-o', join(dir, 'zk.spsnap'), '--keep-zero', '--json')
    expect(JSON.parse(k.stdout)).toMatchObject({ pages: 8, zero: 6, dropped_zero: 0, end_gfn: 8 })
  })
})

const linux = process.platform === 'linux'

describe.skipIf(!linux)('dump capture --pid (Linux /proc)', () => {
  let child: ChildProcess
  let info: { a: string; b: string }
  const MIB = 1 << 20

  beforeAll(async () => {
    // The child maps two regions with koffi (mmap, madvise): A without huge pages, 50 pages of
    // pattern k + 1 and one page written with zeros at 60; B with MADV_HUGEPAGE, one byte
    // written in its first 2 MiB-aligned huge page. Then it waits.
    const koffi = createRequire(import.meta.url).resolve('koffi')
    const script = `
      const koffi = require(${JSON.stringify(koffi)})
      const libc = koffi.load('libc.so.6')
      const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)')
      const madvise = libc.func('int madvise(void *addr, size_t len, int advice)')
      const map = (len, advice) => { const p = mmap(null, len, 3, 0x22, -1, 0); madvise(p, len, advice); return p }
      const a = map(${4 * MIB}, 15)
      const av = new Uint8Array(koffi.view(a, ${4 * MIB}))
      for (let k = 0; k < 50; k++) av.fill(k + 1, k * 4096, (k + 1) * 4096)
      av[60 * 4096] = 0
      const b = map(${8 * MIB}, 14)
      const bAddr = koffi.address(b)
      const skip = Number((${2 * MIB}n - (bAddr % ${2 * MIB}n)) % ${2 * MIB}n)
      new Uint8Array(koffi.view(b, ${8 * MIB}))[skip] = 9
      process.stdout.write(JSON.stringify({ a: koffi.address(a).toString(16), b: bAddr.toString(16) }) + '\\n')
      process.stdin.resume()
    `
    child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
    info = await new Promise((resolve, reject) => {
      let buf = ''
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString()
        if (buf.includes('\n')) resolve(JSON.parse(buf))
      })
      child.on('exit', (c) => reject(new Error(`child exited ${c}`)))
    })
  })

  afterAll(() => {
    child?.kill()
  })

  it('captures exactly the pages the host has present, with their bytes', async () => {
    const out = join(dir, 'a.spsnap')
    const r = await samepage('dump', 'capture', '--pid', String(child.pid), '-o', out, '--mapping', info.a, '--json')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ mapped_pages: 1024, present: 51, zero: 1 })
    const pages = pagesOf(out)
    expect(pages.map((p) => p.gfn)).toEqual([...Array.from({ length: 50 }, (_, k) => k), 60])
    for (let k = 0; k < 50; k++) expect([pages[k].hi, pages[k].lo]).toEqual(await fpOf(page(k + 1)))
    expect([pages[50].hi, pages[50].lo]).toEqual([ZERO_FP_HI, ZERO_FP_LO])
  })

  it('a transparent huge page is captured as its 512 present 4 KiB pages', async (ctx) => {
    const smaps = readFileSync(`/proc/${child.pid}/smaps`, 'utf8')
    const at = smaps.indexOf(`${info.b}-`)
    const anonHuge = Number(/AnonHugePages:\s+(\d+) kB/.exec(smaps.slice(at))?.[1] ?? 0)
    if (anonHuge === 0) ctx.skip('no transparent huge page was given to the child (THP off or none free)')
    const out = join(dir, 'b.spsnap')
    const r = await samepage('dump', 'capture', '--pid', String(child.pid), '-o', out, '--mapping', info.b, '--json')
    expect(r.code).toBe(0)
    const res = JSON.parse(r.stdout) as { present: number; zero: number }
    expect(res.present).toBe((anonHuge * 1024) / 4096)
    expect(res.zero).toBe(res.present - 1) // one byte written: one page not zero
  })

  it('bad input is one line naming the option, exit 2', async () => {
    const r = await samepage('dump', 'capture', '--pid', 'x', '-o', join(dir, 'x.spsnap'))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^samepage: dump capture needs --pid PID, a process id.*\n$/)
    const m = await samepage('dump', 'capture', '--pid', String(child.pid), '-o', join(dir, 'x.spsnap'), '--mapping', '1000')
    expect(m.code).toBe(2)
    expect(m.stderr).toMatch(/^samepage: --mapping 1000: no mapping of process \d+ starts there/)
  })
})
