// Beyond identical pages (Difference Engine, OSDI 2008): sub-page fingerprints find similar pages,
// a real delta encoder (fossil-delta) sizes their patches, a real compressor (zlib) the rest; the
// per-page data lives in an optional section of images and snapshots, so old files still load.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { BeyondAnalyzer, beyondStats, FLAG_REFERENCE, NONE16, SIMILARITY_OFFSETS, SUBPAGE_BLOCK, type PageBeyond } from '../src/core/formats/beyond.ts'
import { decodeImage, encodeImage, ImageFormatError, makeHeader, type ImageIndex } from '../src/core/formats/image.ts'
import { decodeSnapshot, encodeSnapshot, makeSnapshotHeader } from '../src/core/formats/snapshot.ts'
import { NODE_CODECS } from '../src/cli/codecs.ts'
import { concat, fpsOf, PAGE, pattern } from './bytes.ts'

const exec = promisify(execFile)
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')
const dir = mkdtempSync(join(tmpdir(), 'samepage-beyond-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function samepage(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args])
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

/** `base` with `n` bytes changed (spread over the page, none in the similarity blocks). */
function variant(base: Uint8Array, n: number, seed: number): Uint8Array {
  const b = base.slice()
  const noise = pattern(n, seed)
  for (let k = 0; k < n; k++) {
    let at = (k * 257 + seed * 31) % PAGE
    if (SIMILARITY_OFFSETS.some((o) => at >= o && at < o + SUBPAGE_BLOCK)) at = (at + SUBPAGE_BLOCK) % PAGE
    b[at] ^= noise[k] | 1
  }
  return b
}

/** A page of English-like text (compresses well with zlib, no long runs shared with another page). */
function text(seed: number): Uint8Array {
  const words = ['memory', 'page', 'sharing', 'virtual', 'machine', 'the', 'of', 'and', 'kernel', 'scan']
  const r = pattern(PAGE, seed)
  const out = new Uint8Array(PAGE)
  let o = 0
  for (let i = 0; o < PAGE; i++) {
    const w = words[r[i] % words.length] + ' '
    for (let c = 0; c < w.length && o < PAGE; c++) out[o++] = w.charCodeAt(c)
  }
  return out
}

/** Pages: base, 10 variants of it, 10 random pages, 10 text pages, 5 copies of variants, a zero page. */
function samplePages(): Uint8Array[] {
  const base = pattern(PAGE, 1)
  const variants = Array.from({ length: 10 }, (_, i) => variant(base, 24, i + 2))
  const random = Array.from({ length: 10 }, (_, i) => pattern(PAGE, 100 + i))
  const texts = Array.from({ length: 10 }, (_, i) => text(200 + i))
  return [base, ...variants, ...random, ...texts, ...variants.slice(0, 5), new Uint8Array(PAGE)]
}

function analyze(pages: Uint8Array[], referencePages?: number): PageBeyond {
  const fps = fpsOf(pages)
  const a = new BeyondAnalyzer(NODE_CODECS, referencePages)
  pages.forEach((p, i) => a.push(p, fps[i * 2], fps[i * 2 + 1]))
  a.commitFile(pages.length)
  return a.result()
}

const T = { patch_max_bytes: 2048, compress_max_bytes: 2048 }

describe('beyond identical pages: the analyzer', () => {
  it('patches pages that differ in a few bytes against a similar page, with a small real delta', () => {
    const b = analyze(samplePages())
    for (let i = 1; i <= 10; i++) {
      expect(b.patch[i]).toBeLessThan(400)
      expect(b.patch[i]).toBeGreaterThan(0)
    }
    expect(b.flags[0] & FLAG_REFERENCE).toBe(FLAG_REFERENCE)
    // Random pages have no similar page: no candidate, or a patch as big as the page.
    for (let i = 11; i <= 20; i++) expect(b.patch[i] === NONE16 || b.patch[i] > 2048).toBe(true)
    // Copies and the zero page: nothing computed, sharing takes them.
    for (let i = 31; i <= 36; i++) expect([b.patch[i], b.zsize[i]]).toEqual([NONE16, NONE16])
  })

  it('compresses text pages with zlib to well under half a page, random pages not at all', () => {
    const b = analyze(samplePages())
    for (let i = 21; i <= 30; i++) expect(b.zsize[i]).toBeLessThan(1600)
    for (let i = 11; i <= 20; i++) expect(b.zsize[i]).toBeGreaterThan(4000)
  })

  it('adds patch and compression savings on top of identical sharing, each content counted once', () => {
    const pages = samplePages()
    const files = [{ path: '/a', size: pages.length * PAGE, elf: false, fps: fpsOf(pages) }]
    const r = beyondStats([{ name: 'a', files, beyond: analyze(pages) }], T)
    const s = r.all
    expect(s.pages).toBe(37)
    expect(s.identical_saved_pages).toBe(5)
    expect(s.patched_pages).toBe(10)
    expect(s.compressed_pages).toBe(10)
    expect(s.patch_saved_bytes).toBeGreaterThan(10 * (PAGE - 400))
    expect(s.total_saved_mib).toBeGreaterThan(s.identical_saved_mib)
    expect(s.gain as number).toBeGreaterThan(3)
    // Across images: the second image's copy of the first is all identical sharing.
    const two = beyondStats([{ name: 'a', files, beyond: analyze(pages) }, { name: 'b', files, beyond: analyze(pages) }], T)
    expect(two.all.identical_saved_pages).toBe(5 + 37)
    expect(two.all.patched_pages).toBe(10)
  })

  it('keeps memory bounded: a similar page beyond the reference ring is not found', () => {
    const base = pattern(PAGE, 1)
    const pages = [base, ...Array.from({ length: 4 }, (_, i) => pattern(PAGE, 50 + i)), variant(base, 24, 9)]
    expect(analyze(pages, 16).patch[5]).toBeLessThan(400)
    // With room for 2 references the base has been overwritten by later pages.
    expect(analyze(pages, 2).patch[5]).toBe(NONE16)
  })
})

describe('beyond identical pages: files', () => {
  it('an image keeps its --beyond data through encode and decode; an image without it still loads', () => {
    const pages = samplePages()
    const index: ImageIndex = { header: makeHeader('t'), files: [{ path: '/a', size: pages.length * PAGE, elf: false, fps: fpsOf(pages) }] }
    const plain = encodeImage(index)
    expect(decodeImage(plain).beyond).toBeUndefined()
    const beyond = analyze(pages)
    const withData = encodeImage({ ...index, beyond })
    expect(withData.subarray(0, plain.length)).toEqual(plain)
    expect(decodeImage(withData).beyond).toEqual(beyond)
    expect(() => decodeImage(withData.subarray(0, withData.length - 3))).toThrow(ImageFormatError)
    expect(() => decodeImage(concat(plain, new Uint8Array([1, 2, 3])))).toThrow(/corrupt image: 3 unknown bytes after the trailer/)
  })

  it('a snapshot keeps its --beyond data; one without it still loads', () => {
    const pages = samplePages()
    const snap = { header: makeSnapshotHeader('d', 'raw'), extents: [{ gfn: 0, fps: fpsOf(pages) }] }
    expect(decodeSnapshot(encodeSnapshot(snap)).beyond).toBeUndefined()
    const beyond = analyze(pages)
    expect(decodeSnapshot(encodeSnapshot({ ...snap, beyond })).beyond).toEqual(beyond)
  })

  it('samepage image build --beyond and image stats --beyond on a real tree; a plain image is refused in one line', async () => {
    const tree = join(dir, 'tree')
    mkdirSync(join(tree, 'sub'), { recursive: true })
    const pages = samplePages()
    writeFileSync(join(tree, 'a.bin'), concat(...pages.slice(0, 20)))
    writeFileSync(join(tree, 'sub', 'b.txt'), concat(...pages.slice(20)))
    const img = join(dir, 'a.spimg')
    expect((await samepage('image', 'build', tree, '-o', img, '--beyond')).code).toBe(0)
    const r = await samepage('image', 'stats', img, '--beyond', '--json')
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as { all: { saved_pages: number }; beyond: { all: { patched_pages: number; compressed_pages: number; identical_saved_pages: number } } }
    expect(report.all.saved_pages).toBe(5)
    expect(report.beyond.all.identical_saved_pages).toBe(5)
    expect(report.beyond.all.patched_pages).toBe(10)
    expect(report.beyond.all.compressed_pages).toBe(10)
    const text = await samepage('image', 'stats', img, '--beyond')
    expect(text.stdout).toMatch(/patched pages/)
    const plain = join(dir, 'plain.spimg')
    expect((await samepage('image', 'build', tree, '-o', plain)).code).toBe(0)
    expect(readFileSync(plain).length).toBeLessThan(readFileSync(img).length)
    const bad = await samepage('image', 'stats', plain, '--beyond')
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toMatch(/plain\.spimg has no --beyond data/)
  })

  it('samepage dump import --beyond on a raw memory dump gives the same savings as the pages themselves', async () => {
    const pages = samplePages()
    const raw = join(dir, 'vm.raw')
    writeFileSync(raw, concat(...pages))
    const snap = join(dir, 'vm.spsnap')
    expect((await samepage('dump', 'import', raw, '-o', snap, '--beyond')).code).toBe(0)
    const r = await samepage('image', 'stats', snap, '--beyond', '--json')
    const got = (JSON.parse(r.stdout) as { beyond: { all: unknown } }).beyond.all
    // dump import leaves the all-zero page out (never touched), and its entry with it.
    const kept = pages.filter((p) => p.some((b) => b !== 0))
    const files = [{ path: '/a', size: kept.length * PAGE, elf: false, fps: fpsOf(kept) }]
    expect(got).toEqual(beyondStats([{ name: 'a', files, beyond: analyze(kept) }], T).all)
  })
})
