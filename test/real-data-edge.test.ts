// Edge cases of the real-data paths, every input built here: image and snapshot decoding of
// corrupt bytes, tar archives (hard links, pax, empty), dumps (ELF cores with odd segments),
// traces (BOM, CRLF, long lines), and engine runs from images and snapshots at the edges
// (zero pages, a small max_page_sharing, traces on snapshots, invariants).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Assets } from '../src/core/experiment/assets.ts'
import { parseExperiment, type ExperimentInput } from '../src/core/experiment/config.ts'
import { ZERO_FP_HI, ZERO_FP_LO } from '../src/core/machine/content.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { imageStats, makeHeader, type ImageFile, type ImageIndex } from '../src/core/formats/image.ts'
import { decodeSnapshot, dumpLayout, encodeSnapshot, makeSnapshotHeader, SnapshotFormatError, type Snapshot } from '../src/core/formats/snapshot.ts'
import { importDump } from '../src/cli/dump.ts'
import { ImageUsageError } from '../src/cli/image.ts'
import { parseTrace, TraceFormatError } from '../src/core/formats/trace.ts'
import { checkAssets, decodeAsset } from '../src/core/experiment/assets.ts'
import { runCli } from '../src/cli/main.ts'
import { concat, elfCore, fpsOf, PAGE, pattern } from './bytes.ts'

let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'samepage-edge-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))



const file = (path: string, pages: Uint8Array[], elf = false): ImageFile => ({ path, size: pages.length * PAGE, elf, fps: fpsOf(pages) })

function staticExperiment(vms: ExperimentInput['vms'], scanner: Record<string, unknown> = { kind: 'ksm', max_page_sharing: 1 << 16 }, duration = 1): ExperimentInput {
  return { schema: 'samepage-lab/experiment@1', name: 'edge', duration_s: duration, sample_every_s: duration, warmup: { boot: true, share: true }, vms, lanes: [{ name: 'L', scanner } as never] }
}

describe('engine edge cases', () => {
  it('max_page_sharing 2: pages_sharing is the sum of m - ceil(m / 2)', () => {
    const zero = new Uint8Array(PAGE)
    const img: ImageIndex = { header: makeHeader('x'), files: [file('/z', [zero, zero, zero, zero, zero]), file('/p', [pattern(PAGE, 1), pattern(PAGE, 1), pattern(PAGE, 1)]), file('/e', [])] }
    const cfg = parseExperiment(
      staticExperiment(
        [
          { name: 'a', memory_mib: 16, image_file: 'i', model_memory: false, workload: { kind: 'boot' } },
          { name: 'b', memory_mib: 16, image_file: 'i', model_memory: false, workload: { kind: 'boot' } }
        ],
        { kind: 'ksm', max_page_sharing: 2 }
      )
    )
    const engine = new Engine(cfg, { checkInvariants: true, assets: new Map([['i', { kind: 'image', index: img }]]) as Assets })
    engine.run()
    const s = engine.summary(0).lanes[0]
    expect(engine.lanes[0].mem.presentPages).toBe(16)
    // zero x10 -> 5 KSM pages, 5 sharing; pattern x6 -> 3 KSM pages, 3 sharing.
    expect(s.pages_shared).toBe(8)
    expect(s.pages_sharing).toBe(8)
    expect(imageStats([{ name: 'i', files: img.files }]).images[0].saved_pages).toBe(6)
  })

  it('an image of only empty files and a snapshot of only zero pages run', () => {
    const img: ImageIndex = { header: makeHeader('x'), files: [file('/e', []), file('/f', [])] }
    const snap: Snapshot = { header: makeSnapshotHeader('s', 'raw'), extents: [{ gfn: 0, fps: fpsOf([new Uint8Array(PAGE), new Uint8Array(PAGE)]) }] }
    const cfg = parseExperiment(
      staticExperiment([
        { name: 'a', memory_mib: 16, image_file: 'i', model_memory: false, workload: { kind: 'boot' } },
        { name: 'b', memory_mib: 16, snapshot_file: 's', workload: { kind: 'mem-micro', working_set_mib: 1, work_s: 1 } }
      ], undefined, 5)
    )
    const engine = new Engine(cfg, { checkInvariants: true, assets: new Map<string, unknown>([['i', { kind: 'image', index: img }], ['s', { kind: 'snapshot', snapshot: snap }]]) as Assets })
    engine.run()
    expect(engine.summary(0).lanes[0].invariants_checked).toBe(true)
  })

  it('a trace on a snapshot VM with invariants: allocs into free memory, frees, file pages, under pressure', () => {
    const pages: Uint8Array[] = []
    for (let i = 0; i < 3000; i++) pages.push(i % 3 === 0 ? new Uint8Array(PAGE) : pattern(PAGE, i))
    const snap: Snapshot = { header: makeSnapshotHeader('s', 'raw'), extents: [{ gfn: 0, fps: fpsOf(pages) }] }
    const lines: string[] = []
    let t = 0
    for (let i = 0; i < 4000; i++) {
      t += 0.001
      lines.push(JSON.stringify({ t, vm: 'a', op: 'alloc', gfn: i, fp: (i % 7).toString(16).padStart(16, '0') }))
      if (i % 5 === 0) lines.push(JSON.stringify({ t, vm: 'a', op: 'free', gfn: (i * 13) % 4000 }))
      if (i % 4 === 0) lines.push(JSON.stringify({ t, vm: 'a', op: 'read-file', path: `/f${i % 9}`, offset: (i % 211) * PAGE }))
      if (i % 6 === 0) lines.push(JSON.stringify({ t, vm: 'a', op: 'write-file', path: `/f${i % 5}`, offset: (i % 13) * PAGE }))
      if (i % 3 === 0) lines.push(JSON.stringify({ t, vm: 'a', op: 'write', gfn: (i * 7) % 4000, fp: 'ac869b6f32d8bbdb' }))
    }
    const trace = parseTrace(lines.join('\r\n') + '\r\n', 't')
    for (const scanner of [{ kind: 'ksm' }, { kind: 'hint', hint_zero_pages: true }, { kind: 'xlh' }, { kind: 'hybrid' }, { kind: 'esx', share_scan_time_s: 1 }]) {
      const cfg = parseExperiment({ ...staticExperiment([{ name: 'a', memory_mib: 16, snapshot_file: 's', workload: { kind: 'trace', file: 't' } }], scanner, 5), warmup: { boot: true, share: false } })
      const engine = new Engine(cfg, { checkInvariants: true, assets: new Map<string, unknown>([['s', { kind: 'snapshot', snapshot: snap }], ['t', { kind: 'trace', trace }]]) as Assets })
      engine.run()
      expect(engine.lanes[0].vms[0].main?.done()).toBe(true)
    }
  })
})

function cliIo(): { out: string[]; err: string[]; stdout: (s: string) => void; stderr: (s: string) => void; stderrIsTTY: boolean } {
  const out: string[] = []
  const err: string[] = []
  return { out, err, stdout: (s) => out.push(s), stderr: (s) => err.push(s), stderrIsTTY: false }
}

describe('traces on VMs booted from a real image', () => {
  it('file ops on real files (ELF, empty, past the end, written) leave the shared image untouched; invariants hold', () => {
    const img: ImageIndex = {
      header: makeHeader('x'),
      files: [file('/lib/libz.so', [pattern(PAGE, 1), pattern(PAGE, 2)], true), file('/etc/empty', []), file('/etc/conf', [pattern(PAGE, 3), new Uint8Array(PAGE)])]
    }
    const before = img.files.map((f) => [...f.fps])
    const ev = (t: number, o: Record<string, unknown>): string => JSON.stringify({ t, vm: 'a', ...o })
    const lines = [
      ev(0, { op: 'read-file', path: '/lib/libz.so', offset: 0, type: 'text' }),
      ev(0.1, { op: 'read-file', path: '/etc/empty', offset: 0 }),
      ev(0.2, { op: 'read-file', path: '/etc/conf', offset: 5 * PAGE }),
      ev(0.3, { op: 'write-file', path: '/etc/conf', offset: 0 }),
      ev(0.4, { op: 'write-file', path: '/lib/libz.so', offset: PAGE, fp: '0000000000000abc' }),
      ev(0.5, { op: 'read-file', path: '/etc/conf', offset: PAGE, fp: '0000000000000def' }),
      ev(0.6, { op: 'alloc', gfn: 7, type: 'kernel' }),
      ev(0.7, { op: 'write', gfn: 7, fp: '0000000000000abc' }),
      ev(0.8, { op: 'free', gfn: 7 }),
      ev(0.9, { op: 'free', gfn: 7 })
    ]
    const trace = parseTrace(lines.join('\n'), 't')
    for (const model_memory of [false, true]) {
      const cfg = parseExperiment({
        ...staticExperiment(
          [
            { name: 'a', memory_mib: 64, image_file: 'i', model_memory, working_set: ['/etc/conf'], workload: { kind: 'trace', file: 't' } },
            { name: 'b', memory_mib: 64, image_file: 'i', model_memory, workload: { kind: 'trace', file: 't', vm: 'a' } }
          ],
          { kind: 'hint', hint_zero_pages: true },
          3
        ),
        warmup: { boot: true, share: false }
      })
      const engine = new Engine(cfg, { checkInvariants: true, assets: new Map<string, unknown>([['i', { kind: 'image', index: img }], ['t', { kind: 'trace', trace }]]) as Assets })
      engine.run()
      expect(engine.summary(0).lanes[0].workload_done_s.every((t) => t !== null)).toBe(true)
      expect(img.files.map((f) => [...f.fps])).toEqual(before)
    }
  })
})

describe('CLI arguments', () => {
  it('bad arguments of image, dump and the command itself: one line on stderr, exit 2, nothing written', async () => {
    const img = join(dir, 'never.spimg')
    const cases = [
      [],
      ['image'],
      ['image', 'frob'],
      ['image', 'build'],
      ['image', 'build', dir, dir, '-o', img],
      ['image', 'build', dir],
      ['image', 'build', dir, '-o', img, '--bogus'],
      ['image', 'stats'],
      ['image', 'stats', '--bogus', img],
      ['dump'],
      ['dump', 'export'],
      ['dump', 'import'],
      ['dump', 'import', join(dir, 'x.raw')],
      ['dump', 'import', join(dir, 'x.raw'), '-o', img, '--bogus']
    ]
    for (const args of cases) {
      const io = cliIo()
      expect(await runCli(args, io), args.join(' ')).toBe(2)
      expect(io.out).toEqual([])
      expect(io.err.join(''), args.join(' ')).toMatch(/^samepage: [^\n]+\n$/)
    }
    expect(readdirSync(dir).filter((n) => n.includes('never'))).toEqual([])
  })
})

describe('trace files', () => {
  const ev = (o: Record<string, unknown>): string => JSON.stringify({ vm: 'a', ...o })
  it('a BOM, CRLF line endings, blank lines and no trailing newline parse; line numbers count every line', () => {
    const text = '\ufeff{"schema": "samepage-lab/trace@1"}\r\n\r\n' + ev({ t: 0, op: 'alloc', gfn: 1 }) + '\r\n   \r\n' + ev({ t: 1, op: 'free', gfn: 1 })
    const bytes = new TextEncoder().encode(text)
    const a = decodeAsset('trace', bytes, 'w.jsonl')
    expect(a.kind === 'trace' && [...a.trace.line]).toEqual([3, 5])
    // The same with a UTF-8 BOM as bytes, and a bad last line: its number is right.
    const bad = new TextEncoder().encode(text + '\r\n' + ev({ t: 2, op: 'free' }) + '\r\n')
    expect(() => decodeAsset('trace', bad, 'w.jsonl')).toThrow(/^w\.jsonl line 6: gfn: required for "free"$/)
  })

  it('a very long line is reported with a short message', () => {
    const long = ev({ t: 0, op: 'free', gfn: 1 }).slice(0, -1) + ',"pad":"' + 'x'.repeat(1 << 20) + '"}'
    let msg = ''
    try {
      parseTrace(long + '\n', 'l.jsonl')
    } catch (e) {
      expect(e).toBeInstanceOf(TraceFormatError)
      msg = (e as Error).message
    }
    expect(msg).toMatch(/^l\.jsonl line 1: pad: not a field of "free"/)
    expect(msg.length).toBeLessThan(200)
    const broken = '{"t": 0, "vm": "a", "op": "free", "gfn": 1, "pad": "' + 'x'.repeat(1 << 20) + '\n'
    expect(() => parseTrace(broken, 'l.jsonl')).toThrow(/^l\.jsonl line 1: invalid JSON at column \d+: [^\n]{0,120}$/)
  })

  it('t that JSON cannot hold (1e400) is named as a number', () => {
    expect(() => parseTrace(ev({ t: 0, op: 'free', gfn: 1 }).replace('"t":0', '"t":1e400'), 'x')).toThrow(/^x line 1: t: expected seconds >= 0, got a number too large to hold$/)
  })

  it('a gfn past the VM\'s memory is reported with its line and field', () => {
    const text = ['{"schema": "samepage-lab/trace@1"}', '', ev({ t: 0, op: 'alloc', gfn: 1 }), ev({ t: 1, op: 'alloc', gfn: 4096 }), ev({ t: 2, op: 'alloc', gfn: 5000 })].join('\n')
    const trace = parseTrace(text, 'g.jsonl')
    const cfg = parseExperiment(staticExperiment([{ name: 'a', memory_mib: 16, workload: { kind: 'trace', file: 'g.jsonl' } }]))
    expect(checkAssets(cfg, new Map([['g.jsonl', { kind: 'trace', trace }]]) as Assets)).toEqual([
      { path: 'vms[0].workload.file', message: 'g.jsonl line 4: gfn: 4096 of VM "a" is past the VM\'s 4096 pages (memory_mib 16)' }
    ])
  })
})


describe('snapshots and dumps at the edges', () => {
  it('every truncation and corrupted byte of a snapshot gives a SnapshotFormatError or a valid snapshot', () => {
    const s: Snapshot = { header: makeSnapshotHeader('x', 'elf-core'), extents: [{ gfn: 2, fps: Uint32Array.from([1, 2, ZERO_FP_HI, ZERO_FP_LO]) }, { gfn: 9, fps: Uint32Array.from([5, 6]) }] }
    const bytes = encodeSnapshot(s)
    expect(decodeSnapshot(bytes)).toEqual(s)
    for (let n = 0; n < bytes.length; n++) expect(() => decodeSnapshot(bytes.subarray(0, n))).toThrow(SnapshotFormatError)
    for (let i = 0; i < bytes.length; i++) {
      for (const v of [0x00, 0x0a, 0x7f, 0xff]) {
        const bad = bytes.slice()
        bad[i] = v
        try {
          decodeSnapshot(bad)
        } catch (e) {
          expect(e).toBeInstanceOf(SnapshotFormatError)
        }
      }
    }
  })

  it('ELF cores: out-of-order segments are sorted, holes stay absent, overlaps and huge or unaligned addresses are refused', async () => {
    const p = (seed: number) => pattern(PAGE, seed)
    const ooo = elfCore([{ paddr: 8 * PAGE, bytes: p(1) }, { paddr: 0, bytes: concat(p(2), p(3)) }])
    expect(dumpLayout(ooo, ooo.length).regions.map((r) => [r.gfn, r.bytes])).toEqual([[0, 2 * PAGE], [8, PAGE]])
    writeFileSync(join(dir, 'ooo.core'), ooo)
    expect(await importDump(join(dir, 'ooo.core'), join(dir, 'ooo.spsnap'), quiet(), true)).toMatchObject({ format: 'elf-core', pages: 3, end_gfn: 9 })
    const refused: [Uint8Array, RegExp][] = [
      [elfCore([{ paddr: 0, bytes: concat(p(1), p(2)) }, { paddr: PAGE, bytes: p(3) }]), /overlap/],
      [elfCore([{ paddr: 0, bytes: new Uint8Array(PAGE + 1) }, { paddr: PAGE, bytes: p(3) }]), /overlap/],
      [elfCore([{ paddr: 2 ** 52, bytes: p(1) }]), /goes past/],
      [elfCore([{ paddr: 2 ** 63, bytes: p(1) }]), /ELF core/],
      [elfCore([{ paddr: 100, bytes: p(1) }]), /not page aligned/]
    ]
    for (const [core, msg] of refused) {
      expect(() => dumpLayout(core, core.length)).toThrow(msg)
      writeFileSync(join(dir, 'bad.core'), core)
      await expect(importDump(join(dir, 'bad.core'), join(dir, 'bad.spsnap'), quiet(), true)).rejects.toThrow(ImageUsageError)
    }
    // A core cut short: the segment runs past the end of the file.
    const cut = ooo.subarray(0, ooo.length - 10)
    expect(() => dumpLayout(cut, cut.length)).toThrow(/runs past the end of the file/)
    // Program headers past what was read: one line, not a crash.
    const far = elfCore([{ paddr: 0, bytes: p(1) }])
    new DataView(far.buffer).setUint32(32, 1 << 20, true)
    expect(() => dumpLayout(far, far.length)).toThrow(/program headers out of range/)
    expect(readdirSync(dir).filter((n) => n.startsWith('bad.spsnap') || n.endsWith('.tmp'))).toEqual([])
  })

  it('a raw dump whose size is not a multiple of 4 KiB, an empty dump and a 1-byte dump', async () => {
    writeFileSync(join(dir, 'odd.raw'), pattern(PAGE + 1, 1))
    expect(await importDump(join(dir, 'odd.raw'), join(dir, 'odd.spsnap'), quiet(), true)).toMatchObject({ pages: 2, end_gfn: 2 })
    writeFileSync(join(dir, 'one.raw'), new Uint8Array(1))
    expect(await importDump(join(dir, 'one.raw'), join(dir, 'one.spsnap'), quiet(), true)).toMatchObject({ pages: 1, zero: 1 })
    writeFileSync(join(dir, 'empty.raw'), new Uint8Array(0))
    await expect(importDump(join(dir, 'empty.raw'), join(dir, 'empty.spsnap'), quiet(), true)).rejects.toThrow(/empty\.raw: no guest memory in it/)
  })

  it('a VM from a snapshot larger than its memory is refused on snapshot_file', () => {
    const snap: Snapshot = { header: makeSnapshotHeader('s', 'raw'), extents: [{ gfn: 4095, fps: fpsOf([pattern(PAGE, 1), pattern(PAGE, 2)]) }] }
    const cfg = parseExperiment(staticExperiment([{ name: 'a', memory_mib: 16, snapshot_file: 's', workload: { kind: 'boot' } }]))
    expect(() => new Engine(cfg, { assets: new Map([['s', { kind: 'snapshot', snapshot: snap }]]) as Assets })).toThrow(/vms\[0\]\.snapshot_file: s holds guest memory up to 16\.01 MiB; memory_mib is 16/)
  })
})


function quiet(): { stdout: (s: string) => void; stderr: (s: string) => void; stderrIsTTY: boolean; err: string[] } {
  const err: string[] = []
  return { err, stdout: () => undefined, stderr: (s) => err.push(s), stderrIsTTY: false }
}
