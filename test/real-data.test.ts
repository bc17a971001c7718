// VMs from real data: two small real trees (and a tar archive of one) built here, indexed by
// `image build`, booted as static images and scanned by KSM to convergence, which must find
// exactly the ideal sharing `image stats` computes; memory dumps (raw and ELF core) imported into
// snapshots a VM starts from; a trace replayed on top, with its semantics and invariants checked;
// and bad inputs (missing files, bad lines, oversized snapshots, web mode) with clear messages.
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import xxhash from 'xxhash-wasm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAssets, decodeAsset, type Assets } from '../src/core/experiment/assets.ts'
import { parseExperiment, type ExperimentInput } from '../src/core/experiment/config.ts'
import { ZERO_FP_HI, ZERO_FP_LO } from '../src/core/machine/content.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { PT_ANON, PT_FREE, PT_PAGECACHE, PT_TEXT } from '../src/core/guests/guest.ts'
import { imageStats, type ImageIndex } from '../src/core/formats/image.ts'
import type { Lane } from '../src/core/experiment/lane.ts'
import { decodeSnapshot, encodeSnapshot, makeSnapshotHeader, SnapshotFormatError, snapshotStats } from '../src/core/formats/snapshot.ts'
import { parseTrace, TraceFormatError } from '../src/core/formats/trace.ts'
import { buildImage, readImageFile, type ImageIo } from '../src/cli/image.ts'
import { importDump } from '../src/cli/dump.ts'
import { loadAssets } from '../src/host/node/assets.ts'
import { Session } from '../src/host/session.ts'
import type { SessionEvent } from '../src/core/experiment/protocol.ts'
import { concat, elfCore, fpsOf, PAGE, pattern } from './bytes.ts'

const exec = promisify(execFile)
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')

async function samepage(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args], { maxBuffer: 64 * 1024 * 1024 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}



function elf(type: number, pages: number, seed: number): Uint8Array {
  const b = pattern(pages * PAGE, seed)
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
  b[16] = type
  b[17] = 0
  return b
}

// Two "distributions": a shared library and config in common, own binaries and data, zero-filled
// files, a file duplicated within one tree, a partial last page.
const COMMON_LIB = elf(3, 5, 11)
const TREE_A: Record<string, Uint8Array> = {
  'lib/libc.so.6': COMMON_LIB,
  'bin/sh': elf(2, 3, 21),
  'etc/hosts': pattern(700, 31),
  'etc/passwd': pattern(2 * PAGE + 100, 32),
  'var/zero.img': new Uint8Array(4 * PAGE),
  'usr/share/a.dat': concat(pattern(PAGE, 41), pattern(PAGE, 42), pattern(PAGE, 41)),
  'usr/share/copy.dat': concat(pattern(PAGE, 41), pattern(PAGE, 42), pattern(PAGE, 41)),
  'empty': new Uint8Array(0)
}
const TREE_B: Record<string, Uint8Array> = {
  'lib/libc.so.6': COMMON_LIB,
  'bin/sh': elf(2, 3, 22),
  'etc/hosts': pattern(700, 31),
  'etc/passwd': pattern(2 * PAGE + 100, 33),
  'opt/zeros': new Uint8Array(2 * PAGE + 17),
  'usr/share/b.dat': concat(pattern(PAGE, 42), pattern(PAGE, 51))
}

function writeTree(root: string, files: Record<string, Uint8Array>): void {
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true })
    writeFileSync(join(root, rel), bytes)
  }
}

const quietIo = (): ImageIo & { err: string[] } => {
  const err: string[] = []
  return { err, stdout: () => undefined, stderr: (s) => err.push(s), stderrIsTTY: false }
}

const hex = (hi: number, lo: number): string => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0')

let dir: string
let h64: (b: Uint8Array) => bigint
let imgA: ImageIndex
let imgB: ImageIndex
let hasTar = false

beforeAll(async () => {
  h64 = (await xxhash()).h64Raw
  dir = mkdtempSync(join(tmpdir(), 'samepage-real-'))
  writeTree(join(dir, 'a'), TREE_A)
  writeTree(join(dir, 'b'), TREE_B)
  await buildImage(join(dir, 'a'), join(dir, 'a.spimg'), quietIo())
  try {
    execFileSync('tar', ['-cf', join(dir, 'b.tar'), '-C', join(dir, 'b'), '.'])
    hasTar = true
    await buildImage(join(dir, 'b.tar'), join(dir, 'b.spimg'), quietIo())
  } catch {
    await buildImage(join(dir, 'b'), join(dir, 'b.spimg'), quietIo())
  }
  imgA = await readImageFile(join(dir, 'a.spimg'))
  imgB = await readImageFile(join(dir, 'b.spimg'))
}, 60_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** An experiment of static VMs (nothing but what they start from), scanned until converged. */
function staticExperiment(vms: ExperimentInput['vms'], lanes: ExperimentInput['lanes'] = [{ name: 'KSM', scanner: { kind: 'ksm', max_page_sharing: 1 << 16 } }], duration = 1): ExperimentInput {
  return { schema: 'samepage-lab/experiment@1', name: 'static', duration_s: duration, sample_every_s: duration, warmup: { boot: true, share: true }, vms, lanes }
}

/** pages - distinct over every present guest page of a lane: what a perfect scanner frees. */
function idealOfLane(lane: Lane): { present: number; saved: number } {
  const seen = new Set<string>()
  let present = 0
  for (let gp = 0; gp < lane.mem.totalPages; gp++) {
    const f = lane.mem.pageFrame[gp]
    if (f < 0) continue
    present++
    seen.add(hex(lane.mem.hi(f), lane.mem.lo(f)))
  }
  return { present, saved: present - seen.size }
}

describe('VMs booted from real images', () => {
  it('KSM run to convergence on two static images frees exactly the ideal sharing of image stats', () => {
    const stats = imageStats([
      { name: 'a', files: imgA.files },
      { name: 'b', files: imgB.files }
    ])
    // The trees hold zero pages, in-image duplicates and cross-image duplicates.
    expect(stats.all.zero).toBe(4 + 3)
    expect(stats.images[0].saved_pages).toBeGreaterThan(0)
    expect(stats.cross_saved_pages).toBeGreaterThan(0)
    const cfg = parseExperiment(
      staticExperiment(
        [
          { name: 'a', memory_mib: 16, image_file: 'a.spimg', model_memory: false, workload: { kind: 'boot' } },
          { name: 'b', memory_mib: 16, image_file: 'b.spimg', model_memory: false, workload: { kind: 'boot' } }
        ],
        [
          { name: 'KSM', scanner: { kind: 'ksm', max_page_sharing: 1 << 16 } },
          { name: 'Hint', scanner: { kind: 'hint' } }
        ]
      )
    )
    const assets: Assets = new Map([
      ['a.spimg', { kind: 'image', index: imgA }],
      ['b.spimg', { kind: 'image', index: imgB }]
    ])
    const engine = new Engine(cfg, { checkInvariants: true, assets })
    engine.run()
    const [ksm, hint] = engine.summary(0).lanes
    // Every page of every file is present once per VM, as the images say.
    expect(engine.lanes[0].mem.presentPages).toBe(stats.all.pages)
    // pages_sharing = sum over contents of (copies - 1) = pages - distinct, zero pages included.
    expect(ksm.pages_sharing).toBe(stats.all.saved_pages)
    // pages_shared = contents held by two or more pages (one KSM page each).
    const copies = new Map<string, number>()
    for (const f of [...imgA.files, ...imgB.files]) for (let i = 0; i < f.fps.length; i += 2) copies.set(hex(f.fps[i], f.fps[i + 1]), (copies.get(hex(f.fps[i], f.fps[i + 1])) ?? 0) + 1)
    expect(ksm.pages_shared).toBe([...copies.values()].filter((n) => n >= 2).length)
    expect(idealOfLane(engine.lanes[0]).saved).toBe(stats.all.saved_pages)
    // The hint method finds the pages named by equal paths (libc, /etc/hosts), not all of them.
    expect(hint.pages_sharing).toBeGreaterThanOrEqual(COMMON_LIB.length / PAGE + 1)
    expect(hint.pages_sharing).toBeLessThan(ksm.pages_sharing)
    // ELF files are mapped as text, the rest is page cache, at their real paths.
    const guest = engine.lanes[0].vms[0].guest
    const files = guest.files
    const libc = engine.lanes[0].vms[0].ctx.realFiles.get('/lib/libc.so.6') as number
    const hosts = engine.lanes[0].vms[0].ctx.realFiles.get('/etc/hosts') as number
    expect(guest.typeOf(files.cachedGfn(libc, 0))).toBe(PT_TEXT)
    expect(guest.typeOf(files.cachedGfn(hosts, 0))).toBe(PT_PAGECACHE)
    const other = engine.lanes[0].vms[1].ctx.realFiles.get('/lib/libc.so.6') as number
    expect(engine.lanes[0].vms[1].guest.files.pathId[other]).toBe(files.pathId[libc])
  })

  it('the same run from the CLI: samepage run with relative image paths equals image stats', async () => {
    const stats = JSON.parse((await samepage('image', 'stats', '--json', join(dir, 'a.spimg'), join(dir, 'b.spimg'))).stdout) as { all: { saved_pages: number } }
    const cfgDir = join(dir, 'cfg')
    mkdirSync(cfgDir, { recursive: true })
    const cfgPath = join(cfgDir, 'static.samepage.json')
    writeFileSync(
      cfgPath,
      JSON.stringify(
        staticExperiment([
          { name: 'a', memory_mib: 16, image_file: '../a.spimg', model_memory: false, workload: { kind: 'boot' } },
          { name: 'b', memory_mib: 16, image_file: '../b.spimg', model_memory: false, workload: { kind: 'boot' } }
        ])
      )
    )
    const out = join(dir, 'out')
    const r = await samepage('run', cfgPath, '--json', '--check-invariants', '--out', out)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const summary = JSON.parse(r.stdout) as { lanes: { pages_sharing: number; invariants_checked: boolean }[] }
    expect(summary.lanes[0].pages_sharing).toBe(stats.all.saved_pages)
    expect(summary.lanes[0].invariants_checked).toBe(true)
    expect((await samepage('validate', cfgPath)).code).toBe(0)
    // The config.json it wrote names the images by absolute path: it validates from anywhere.
    const written = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { vms: { image_file: string }[] }
    expect(written.vms.map((v) => v.image_file)).toEqual([join(dir, 'a.spimg'), join(dir, 'b.spimg')])
    expect((await samepage('validate', join(out, 'config.json'))).code).toBe(0)
  }, 120_000)

  it('a tar archive of a tree gives the same image as the tree', async () => {
    if (!hasTar) return
    await buildImage(join(dir, 'b'), join(dir, 'b-dir.spimg'), quietIo())
    const fromDir = await readImageFile(join(dir, 'b-dir.spimg'))
    const byPath = (i: ImageIndex) => [...i.files].sort((x, y) => (x.path < y.path ? -1 : 1)).map((f) => [f.path, f.elf, [...f.fps]])
    expect(byPath(imgB)).toEqual(byPath(fromDir))
  })

  it('a working set loads only its files; the model memory and a workload run on top', () => {
    const ws = ['/etc/passwd', '/lib/libc.so.6']
    const cfg = parseExperiment({
      ...staticExperiment([{ name: 'a', memory_mib: 16, image_file: 'a.spimg', model_memory: false, working_set: ws, workload: { kind: 'boot' } }]),
      warmup: { boot: true, share: false }
    })
    const engine = new Engine(cfg, { assets: new Map([['a.spimg', { kind: 'image', index: imgA }]]) })
    engine.run()
    const want = imgA.files.filter((f) => ws.includes(f.path)).reduce((n, f) => n + f.fps.length / 2, 0)
    expect(engine.lanes[0].mem.presentPages).toBe(want)

    // With the model's memory (kernel, daemons, per-VM files) and the idle workload: runs, checks out.
    const full = parseExperiment({
      schema: 'samepage-lab/experiment@1',
      name: 'full',
      duration_s: 20,
      sample_every_s: 10,
      vms: [
        { name: 'a', memory_mib: 256, image_file: 'a.spimg', workload: { kind: 'idle', activity_pages_per_s: 20 } },
        { name: 'b', memory_mib: 256, image_file: 'b.spimg', workload: { kind: 'cpu-micro', work_s: 5 } }
      ],
      lanes: [{ name: 'Hint', scanner: { kind: 'hint' } }]
    })
    const assets: Assets = new Map([
      ['a.spimg', { kind: 'image', index: imgA }],
      ['b.spimg', { kind: 'image', index: imgB }]
    ])
    const e2 = new Engine(full, { checkInvariants: true, assets })
    e2.run()
    const s = e2.summary(0)
    expect(s.lanes[0].invariants_checked).toBe(true)
    expect(s.lanes[0].workload_done_s[1]).not.toBeNull()
    // The model's kernel memory came along: far more present pages than the images hold.
    expect(e2.lanes[0].mem.presentPages).toBeGreaterThan(20 * 256)
  })
})


describe('memory dumps and snapshots', () => {
  // 12 pages: 4 zero, one page three times, one twice, the rest distinct; a partial last page.
  const rawPages = [pattern(PAGE, 1), new Uint8Array(PAGE), pattern(PAGE, 2), pattern(PAGE, 1), new Uint8Array(PAGE), pattern(PAGE, 3), pattern(PAGE, 1), pattern(PAGE, 2), new Uint8Array(PAGE), pattern(PAGE, 4), new Uint8Array(PAGE), pattern(1000, 5)]
  const raw = concat(...rawPages)

  it('imports a raw dump: one xxhash64 per page, zero pages detected, the last page zero-padded', async () => {
    writeFileSync(join(dir, 'vm.raw'), raw)
    const r = await importDump(join(dir, 'vm.raw'), join(dir, 'vm.spsnap'), quietIo(), true)
    expect(r).toEqual({ format: 'raw', pages: 12, zero: 4, dropped_zero: 0, distinct: 6, end_gfn: 12 })
    const snap = decodeSnapshot(new Uint8Array(readFileSync(join(dir, 'vm.spsnap'))))
    expect(snap.extents).toHaveLength(1)
    expect(snap.extents[0].gfn).toBe(0)
    const padded = new Uint8Array(PAGE)
    padded.set(pattern(1000, 5))
    rawPages.forEach((p, i) => {
      const want = h64(p.length === PAGE ? p : padded)
      const got = (BigInt(snap.extents[0].fps[i * 2]) << 32n) | BigInt(snap.extents[0].fps[i * 2 + 1])
      expect(got).toBe(want)
    })
    expect(snap.extents[0].fps[2]).toBe(ZERO_FP_HI)
    expect(snap.extents[0].fps[3]).toBe(ZERO_FP_LO)
  })

  it('shows progress on stderr only on a TTY, and clears it', async () => {
    writeFileSync(join(dir, 'vm.raw'), raw)
    const tty = { ...quietIo(), stderrIsTTY: true }
    await importDump(join(dir, 'vm.raw'), join(dir, 'tty.spsnap'), tty, true)
    expect(tty.err[0]).toMatch(/^\rdump: 0\.0 \/ 0\.0 MiB/)
    expect(tty.err.at(-1)).toMatch(/^\r +\r$/)
    const quiet = quietIo()
    await importDump(join(dir, 'vm.raw'), join(dir, 'tty.spsnap'), quiet, true)
    expect(quiet.err).toEqual([])
  })

  it('imports an ELF core: each PT_LOAD at its physical frame, holes not present', async () => {
    writeFileSync(join(dir, 'vm.core'), elfCore([{ paddr: 0, bytes: concat(pattern(PAGE, 1), pattern(PAGE, 2)) }, { paddr: 16 * PAGE, bytes: concat(new Uint8Array(PAGE), pattern(PAGE, 1)) }]))
    const r = await importDump(join(dir, 'vm.core'), join(dir, 'core.spsnap'), quietIo(), true)
    expect(r).toEqual({ format: 'elf-core', pages: 4, zero: 1, dropped_zero: 0, distinct: 3, end_gfn: 18 })
    const snap = decodeSnapshot(new Uint8Array(readFileSync(join(dir, 'core.spsnap'))))
    expect(snap.extents.map((e) => [e.gfn, e.fps.length / 2])).toEqual([
      [0, 2],
      [16, 2]
    ])
    expect(snapshotStats(snap)).toEqual({ pages: 4, zero: 1, end_gfn: 18 })
    // Raw memory that happens to start with an ELF executable is still raw memory.
    writeFileSync(join(dir, 'elfish.raw'), concat(elf(2, 2, 5), new Uint8Array(PAGE)))
    expect(await importDump(join(dir, 'elfish.raw'), join(dir, 'elfish.spsnap'), quietIo(), true)).toEqual({ format: 'raw', pages: 3, zero: 1, dropped_zero: 0, distinct: 3, end_gfn: 3 })
    // A big-endian or 32-bit core is refused with one line.
    const be = elfCore([{ paddr: 0, bytes: pattern(PAGE, 1) }])
    be[5] = 2
    be[16] = 0
    be[17] = 4
    writeFileSync(join(dir, 'be.core'), be)
    await expect(importDump(join(dir, 'be.core'), join(dir, 'be.spsnap'), quietIo(), true)).rejects.toThrow(/be\.core: ELF core: only 64-bit little-endian cores are supported/)
  })

  it('the snapshot format round-trips and refuses truncated or foreign bytes', () => {
    const s = { header: makeSnapshotHeader('x.raw', 'raw' as const), extents: [{ gfn: 3, fps: Uint32Array.from([1, 2, ZERO_FP_HI, ZERO_FP_LO]) }] }
    const bytes = encodeSnapshot(s)
    expect(decodeSnapshot(bytes)).toEqual(s)
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 3))).toThrow(SnapshotFormatError)
    expect(() => decodeSnapshot(concat(bytes, new Uint8Array(1)))).toThrow(/after the trailer/)
    expect(() => decodeAsset('snapshot', encodeSnapshot(s).subarray(0, 10), 's')).toThrow(/^s: /)
    expect(() => decodeAsset('image', bytes, 'x.spsnap')).toThrow(/x.spsnap is a memory snapshot .*use snapshot_file/)
  })

  it('two VMs started from snapshots: KSM converges on pages - distinct, zero pages included', () => {
    const snapA = decodeSnapshot(encodeSnapshot({ header: makeSnapshotHeader('a', 'raw'), extents: [{ gfn: 0, fps: fpsOf(rawPages) }] }))
    const other = [pattern(PAGE, 1), pattern(PAGE, 9), new Uint8Array(PAGE)]
    const snapB = { header: makeSnapshotHeader('b', 'raw' as const), extents: [{ gfn: 100, fps: fpsOf(other) }] }
    const cfg = parseExperiment(
      staticExperiment([
        { name: 'a', memory_mib: 16, snapshot_file: 'a.spsnap', workload: { kind: 'boot' } },
        { name: 'b', memory_mib: 16, snapshot_file: 'b.spsnap', workload: { kind: 'boot' } }
      ])
    )
    const engine = new Engine(cfg, {
      checkInvariants: true,
      assets: new Map([
        ['a.spsnap', { kind: 'snapshot', snapshot: snapA }],
        ['b.spsnap', { kind: 'snapshot', snapshot: snapB }]
      ])
    })
    engine.run()
    const lane = engine.lanes[0]
    expect(lane.mem.presentPages).toBe(12 + 3)
    // a: 12 pages, 6 distinct contents (zero x4, pattern 1 x3, pattern 2 x2, three others); b adds pattern 9 only.
    expect(engine.summary(0).lanes[0].pages_sharing).toBe(15 - 7)
    const guestB = lane.vms[1].guest
    expect(lane.mem.pageFrame[guestB.base + 99]).toBe(-1) // before the extent: never touched
    expect(guestB.typeOf(100)).toBe(PT_ANON)
    expect(guestB.typeOf(102)).toBe(PT_FREE) // a zero page is free memory to the guest
  })
})


describe('trace replay', () => {
  const X = '00000000000000aa'
  const Y = '00000000000000bb'
  const line = (o: Record<string, unknown>) => JSON.stringify(o)
  function traceText(libcFp: string): string {
    const l: string[] = [line({ schema: 'samepage-lab/trace@1' })]
    for (const vm of ['a', 'b']) {
      l.push(line({ t: 0, vm, op: 'alloc', gfn: 5, fp: X }))
      l.push(line({ t: 0.1, vm, op: 'write', gfn: 6, fp: Y, type: 'kernel' }))
      l.push(line({ t: 0.2, vm, op: 'write', gfn: 7, fp: vm === 'a' ? '00000000000000c1' : '00000000000000c2' }))
      l.push(line({ t: 0.3, vm, op: 'read-file', path: '/lib/libc.so.6', offset: 4096, type: 'text' }))
      l.push(line({ t: 0.3, vm, op: 'read-file', path: '/data/untraced', offset: 8192 }))
      l.push(line({ t: 0.4, vm, op: 'write-file', path: '/var/log/syslog', offset: 0, fp: vm === 'a' ? '00000000000000d1' : '00000000000000d2' }))
      l.push(line({ t: 0.4, vm, op: 'alloc', gfn: 8 }))
    }
    l.push(line({ t: 0.5, vm: 'a', op: 'free', gfn: 6 }))
    l.push(line({ t: 0.6, vm: 'a', op: 'write', gfn: 6, fp: libcFp }))
    l.push('')
    return l.join('\n')
  }

  it('replays alloc, write, free, read-file and write-file; KSM shares what the trace makes equal', () => {
    const libc = imgA.files.find((f) => f.path === '/lib/libc.so.6') as ImageIndex['files'][number]
    const libcPage1 = hex(libc.fps[2], libc.fps[3])
    const trace = parseTrace(traceText(libcPage1), 't.jsonl')
    expect(trace.length).toBe(16)
    const cfg = parseExperiment({
      ...staticExperiment(
        [
          { name: 'a', memory_mib: 16, image_file: 'a.spimg', model_memory: false, working_set: ['/etc/hosts'], workload: { kind: 'trace', file: 't.jsonl' } },
          { name: 'b', memory_mib: 16, image_file: 'a.spimg', model_memory: false, working_set: ['/etc/hosts'], workload: { kind: 'trace', file: 't.jsonl' } }
        ],
        undefined,
        10
      ),
      warmup: { boot: true, share: false }
    })
    const engine = new Engine(cfg, {
      checkInvariants: true,
      assets: new Map([
        ['a.spimg', { kind: 'image', index: imgA }],
        ['t.jsonl', { kind: 'trace', trace }]
      ])
    })
    engine.run()
    const lane = engine.lanes[0]
    const count = new Map<string, number>()
    for (let gp = 0; gp < lane.mem.totalPages; gp++) {
      const f = lane.mem.pageFrame[gp]
      if (f >= 0) count.set(hex(lane.mem.hi(f), lane.mem.lo(f)), (count.get(hex(lane.mem.hi(f), lane.mem.lo(f))) ?? 0) + 1)
    }
    // Per VM: /etc/hosts (1), gfn 5, 6, 7, 8, libc page 1, /data/untraced page 2, syslog page 0.
    expect(lane.mem.presentPages).toBe(2 * 8)
    expect(count.get(X)).toBe(2)
    // a freed gfn 6 (its bytes stay in the free page) and wrote it again, with libc's bytes:
    // the allocator handed it the page it had just freed.
    expect(count.get(Y)).toBe(1)
    expect(count.get(libcPage1)).toBe(3)
    expect(count.get('00000000000000c1')).toBe(1)
    expect(count.get(hex(ZERO_FP_HI, ZERO_FP_LO))).toBe(2)
    const workload = lane.vms[0].main
    expect(workload?.kind).toBe('trace')
    expect(workload?.done()).toBe(true)
    expect(engine.summary(0).lanes[0].workload_done_s.every((t) => t !== null && t < 1.5)).toBe(true)
    // Converged KSM shares everything that is equal.
    expect(engine.summary(0).lanes[0].pages_sharing).toBe(idealOfLane(lane).saved)
    const g = lane.vms[1].guest
    const syslog = [...Array(g.files.count).keys()].find((f) => g.files.pathId[f] === lane.vms[1].ctx.paths.id('/var/log/syslog')) as number
    expect(g.typeOf(g.files.cachedGfn(syslog, 0))).toBe(PT_PAGECACHE)
  })

  it('on a VM started from a snapshot, a traced gfn is that page of the snapshot', () => {
    const snap = { header: makeSnapshotHeader('s', 'raw' as const), extents: [{ gfn: 0, fps: fpsOf([pattern(PAGE, 1), pattern(PAGE, 2), new Uint8Array(PAGE), pattern(PAGE, 3)]) }] }
    const trace = parseTrace([line({ t: 0, vm: 'a', op: 'write', gfn: 3, fp: X }), line({ t: 0, vm: 'a', op: 'free', gfn: 1 })].join('\n'))
    const cfg = parseExperiment({
      ...staticExperiment([{ name: 'a', memory_mib: 16, snapshot_file: 's', workload: { kind: 'trace', file: 't' } }], undefined, 1),
      warmup: { boot: true, share: false }
    })
    const engine = new Engine(cfg, {
      checkInvariants: true,
      assets: new Map([
        ['s', { kind: 'snapshot', snapshot: snap }],
        ['t', { kind: 'trace', trace }]
      ])
    })
    engine.run()
    const lane = engine.lanes[0]
    const f = lane.mem.pageFrame[3]
    expect(hex(lane.mem.hi(f), lane.mem.lo(f))).toBe(X)
    expect(lane.vms[0].guest.typeOf(1)).toBe(PT_FREE)
    expect(lane.vms[0].guest.typeOf(0)).toBe(PT_ANON)
  })

  it('reports a bad line with its number and field', () => {
    const bad = (text: string, msg: RegExp) => {
      expect(() => parseTrace(text, 't.jsonl')).toThrow(TraceFormatError)
      expect(() => parseTrace(text, 't.jsonl')).toThrow(msg)
    }
    const ok = line({ t: 0, vm: 'a', op: 'alloc', gfn: 1 })
    bad(`${ok}\n{"t": 1, "vm": "a", "op": "write", "gfn": 2, "fp": "xyz"}`, /^t\.jsonl line 2: fp: expected 16 hex digits/)
    bad(`${ok}\n\n{"t": 1, "vm": "a", "op": "write", "gfn": 2}`, /^t\.jsonl line 3: fp: required for "write"/)
    bad(`${ok}\nnot json`, /line 2: invalid JSON/)
    bad(`{"t": 0, "vm": "a", "op": "swap", "gfn": 1}`, /line 1: op: expected one of alloc, write, free, read-file, write-file/)
    bad(`{"t": 2, "vm": "a", "op": "free", "gfn": 1}\n{"t": 1, "vm": "a", "op": "free", "gfn": 1}`, /line 2: t: goes back in time/)
    bad(`{"t": 0, "vm": "a", "op": "free", "gfn": -1}`, /line 1: gfn: expected an integer/)
    bad(`{"t": 0, "vm": "a", "op": "read-file", "path": "/x", "offset": 100}`, /line 1: offset: expected a byte offset that is a multiple of 4096/)
    bad(`{"t": 0, "vm": "a", "op": "free", "gfn": 1, "path": "/x"}`, /line 1: path: not a field of "free"/)
    bad(`{"t": 0, "vm": "a", "op": "alloc", "gfn": 1, "type": "text"}`, /line 1: type: expected one of anon, kernel for "alloc"/)
    bad(`${ok}\n{"schema": "samepage-lab/trace@1"}`, /line 2: schema: only the first line/)
  })
})

describe('bad references', () => {
  it('checkAssets names the field: missing, wrong kind, working set, oversized snapshot, trace VM and gfn', () => {
    const cfg = parseExperiment({
      schema: 'samepage-lab/experiment@1',
      name: 'bad',
      duration_s: 10,
      vms: [
        { name: 'a', memory_mib: 16, image_file: 'a.spimg', working_set: ['/etc/hosts', '/no/such'], workload: { kind: 'boot' } },
        { name: 'b', memory_mib: 16, snapshot_file: 'big.spsnap', workload: { kind: 'trace', file: 't.jsonl' } },
        { name: 'c', memory_mib: 16, image_file: 'big.spsnap', workload: { kind: 'trace', file: 't.jsonl', vm: 'zz' } },
        { name: 'd', memory_mib: 16, image_file: 'gone', workload: { kind: 'boot' } }
      ],
      lanes: [{ name: 'KSM', scanner: { kind: 'ksm' } }]
    })
    const big = { header: makeSnapshotHeader('big', 'raw' as const), extents: [{ gfn: 16 * 256 - 1, fps: new Uint32Array(4) }] }
    const trace = parseTrace(JSON.stringify({ t: 0, vm: 'b', op: 'write', gfn: 4096, fp: '0000000000000001' }))
    const issues = checkAssets(cfg, new Map() as Assets)
    expect(issues.map((i) => i.path)).toEqual(['vms[0].image_file', 'vms[1].snapshot_file', 'vms[1].workload.file', 'vms[2].image_file', 'vms[2].workload.file', 'vms[3].image_file'])
    const assets: Assets = new Map([
      ['a.spimg', { kind: 'image', index: imgA }],
      ['big.spsnap', { kind: 'snapshot', snapshot: big }],
      ['t.jsonl', { kind: 'trace', trace }]
    ])
    const found = checkAssets(cfg, assets).map((i) => `${i.path}: ${i.message}`)
    expect(found).toEqual([
      'vms[0].working_set[1]: /no/such is not a file of a.spimg',
      'vms[1].snapshot_file: big.spsnap holds guest memory up to 16.01 MiB; memory_mib is 16',
      'vms[1].workload.file: t.jsonl line 1: gfn: 4096 of VM "b" is past the VM\'s 4096 pages (memory_mib 16)',
      'vms[2].image_file: big.spsnap is a snapshot, not an image',
      'vms[2].workload.vm: t.jsonl has no lines for VM "zz" (its VMs: b)',
      'vms[3].image_file: gone was not loaded'
    ])
    expect(() => new Engine(cfg, { assets })).toThrow(/vms\[0\]\.working_set\[1\]/)
  })

  it('the config schema ties working_set and model_memory to image_file, and refuses image plus snapshot', () => {
    expect(() =>
      parseExperiment({
        schema: 'samepage-lab/experiment@1',
        name: 'x',
        duration_s: 1,
        vms: [
          { name: 'a', working_set: ['/x'], model_memory: false, workload: { kind: 'boot' } },
          { name: 'b', image_file: 'i', snapshot_file: 's', workload: { kind: 'boot' } }
        ],
        lanes: [{ name: 'K', scanner: { kind: 'ksm' } }]
      })
    ).toThrow(/vms\[0\]\.working_set: Working set needs image_file\nvms\[0\]\.model_memory: model_memory needs image_file\nvms\[1\]\.snapshot_file: a VM starts from a snapshot or boots from image_file, not both/)
  })

  it('loadAssets (Node) reports an unreadable file and a bad trace line by field', () => {
    writeFileSync(join(dir, 'bad.jsonl'), '{"t": 0, "vm": "a", "op": "free", "gfn": 1}\n{"t": 0, "vm": "a", "op": "free"}\n')
    const cfg = parseExperiment({
      schema: 'samepage-lab/experiment@1',
      name: 'x',
      duration_s: 10,
      vms: [
        { name: 'a', memory_mib: 16, image_file: 'missing.spimg', workload: { kind: 'trace', file: 'bad.jsonl' } },
        { name: 'b', memory_mib: 16, image_file: 'a.spimg', workload: { kind: 'boot' } }
      ],
      lanes: [{ name: 'K', scanner: { kind: 'ksm' } }]
    })
    const { issues, assets } = loadAssets(cfg, dir)
    expect(issues).toEqual([
      { path: 'vms[0].image_file', message: 'cannot read missing.spimg: no such file' },
      { path: 'vms[0].workload.file', message: 'bad.jsonl line 2: gfn: required for "free"' }
    ])
    expect(assets.get('a.spimg')?.kind).toBe('image')
  })

  it('a session without file access (web mode) refuses a config with files, naming the field', () => {
    const events: SessionEvent[] = []
    const s = new Session((e) => events.push(e))
    s.load(staticExperiment([{ name: 'a', memory_mib: 16, image_file: 'a.spimg', workload: { kind: 'boot' } }]))
    expect(events).toEqual([{ type: 'invalid', issues: [{ path: 'vms[0].image_file', message: expect.stringMatching(/a\.spimg: this host cannot read files \(web mode\)/) }] }])
    // With a loader (the Node worker), the same config loads and runs.
    const node = new Session((e) => events.push(e), undefined, (c) => loadAssets(c, dir))
    node.load(staticExperiment([{ name: 'a', memory_mib: 16, image_file: 'a.spimg', model_memory: false, workload: { kind: 'boot' } }]))
    expect(events.at(-1)).toEqual({ type: 'state', state: 'ready' })
  })

  it('CLI: validate names a missing file; run refuses it; dump import reports bad input', async () => {
    const cfgPath = join(dir, 'missing.samepage.json')
    writeFileSync(cfgPath, JSON.stringify(staticExperiment([{ name: 'a', memory_mib: 16, image_file: 'nope.spimg', workload: { kind: 'boot' } }])))
    const v = await samepage('validate', cfgPath)
    expect(v.code).toBe(2)
    expect(v.stderr).toBe('vms[0].image_file: cannot read nope.spimg: no such file\n')
    const r = await samepage('run', cfgPath)
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('samepage: vms[0].image_file: cannot read nope.spimg: no such file\n')
    const d = await samepage('dump', 'import', join(dir, 'no.raw'), '-o', join(dir, 'x.spsnap'))
    expect(d.code).toBe(2)
    expect(d.stderr).toBe(`samepage: cannot read ${join(dir, 'no.raw')}: ENOENT\n`)
    writeFileSync(join(dir, 'dump2.raw'), raw2())
    const ok = await samepage('dump', 'import', join(dir, 'dump2.raw'), '-o', join(dir, 'dump2.spsnap'), '--keep-zero')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/dump2\.spsnap: 3 pages \(0\.01 MiB\) from a raw dump, 2 zero, 2 distinct/)
    // image stats takes snapshots too: the ideal sharing of a dump.
    const st = await samepage('image', 'stats', '--json', join(dir, 'dump2.spsnap'))
    expect(JSON.parse(st.stdout).images[0]).toMatchObject({ files: 1, pages: 3, distinct: 2, zero: 2, saved_pages: 1 })
  }, 120_000)
})

function raw2(): Uint8Array {
  return concat(new Uint8Array(PAGE), pattern(PAGE, 7), new Uint8Array(PAGE))
}
