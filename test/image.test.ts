// Guest images from real bytes: a small tree built here (with an empty file, page-edge sizes,
// duplicates, zeros, a fake ELF, a symlink out of the tree, an unreadable file), hashed by
// src/cli/image.ts, checked against xxhash-wasm directly, the same tree as .tar and .tar.gz,
// the binary format round trip and the ideal-sharing statistics.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import xxhash from 'xxhash-wasm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ZERO_FP_HI, ZERO_FP_LO } from '../src/core/machine/content.ts'
import { concatBytes, decodeImage, encodeFile, encodeHeader, encodeImage, encodeTrailer, ImageFormatError, imageStats, isElfExecutable, makeHeader, type ImageFile } from '../src/core/formats/image.ts'
import { buildImage, cmdImage, ImageUsageError, readImageFile, type ImageIo } from '../src/cli/image.ts'

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0

function elfHeader(type: number, bigEndian = false): Uint8Array {
  const b = new Uint8Array(6000)
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, bigEndian ? 2 : 1, 1])
  if (bigEndian) b[17] = type
  else b[16] = type
  for (let i = 64; i < b.length; i++) b[i] = (i * 7) & 0xff
  return b
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    b[i] = x >>> 24
  }
  return b
}

const FILES: Record<string, Uint8Array> = {
  'empty': new Uint8Array(0),
  'page.bin': pattern(4096, 1),
  'odd.bin': pattern(5000, 2),
  'dup/a.txt': pattern(9000, 3),
  'dup/b.txt': pattern(9000, 3),
  'zeros.img': new Uint8Array(3 * 4096),
  'bin/tool': elfHeader(2),
  'lib/libx.so': elfHeader(3, true),
  'lib/obj.o': elfHeader(1)
}

function memIo(tty = false): ImageIo & { out: string[]; err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { out, err, stdout: (s) => out.push(s), stderr: (s) => err.push(s), stderrIsTTY: tty }
}

const byPath = (files: ImageFile[]): ImageFile[] => [...files].sort((a, b) => (a.path < b.path ? -1 : 1))
const plain = (f: ImageFile) => ({ path: f.path, size: f.size, elf: f.elf, fps: [...f.fps] })

let dir: string
let tree: string
let h64: (b: Uint8Array) => bigint
let hasTar = false

function expectedFps(bytes: Uint8Array): number[] {
  const out: number[] = []
  for (let o = 0; o < bytes.length; o += 4096) {
    const page = new Uint8Array(4096)
    page.set(bytes.subarray(o, Math.min(o + 4096, bytes.length)))
    const h = h64(page)
    out.push(Number(h >> 32n), Number(h & 0xffffffffn))
  }
  return out
}

beforeAll(async () => {
  h64 = (await xxhash()).h64Raw
  dir = mkdtempSync(join(tmpdir(), 'samepage-image-'))
  tree = join(dir, 'tree')
  for (const [p, bytes] of Object.entries(FILES)) {
    mkdirSync(join(tree, p, '..'), { recursive: true })
    writeFileSync(join(tree, p), bytes)
  }
  writeFileSync(join(dir, 'outside.txt'), 'secret outside the tree')
  symlinkSync(join(dir, 'outside.txt'), join(tree, 'link-out'))
  symlinkSync('..', join(tree, 'dup/up'))
  try {
    execFileSync('tar', ['-cf', join(dir, 'tree.tar'), '-C', tree, '.'])
    execFileSync('tar', ['-czf', join(dir, 'tree.tar.gz'), '-C', tree, '.'])
    hasTar = true
  } catch {
    hasTar = false
  }
})

afterAll(() => {
  if (existsSync(join(tree, 'secret'))) chmodSync(join(tree, 'secret'), 0o644)
  rmSync(dir, { recursive: true, force: true })
})

describe('image build from a directory', () => {
  it('indexes every regular file with its pages, fingerprints and ELF flag, skipping symlinks', async () => {
    const io = memIo()
    const out = join(dir, 'tree.img')
    const r = await buildImage(tree, out, io)
    expect(r.files).toBe(Object.keys(FILES).length)
    expect(r.skipped).toBe(2) // the two symlinks
    const img = await readImageFile(out)
    expect(img.header.schema).toBe('samepage-lab/image@1')
    const files = byPath(img.files)
    expect(files.map((f) => f.path)).toEqual(Object.keys(FILES).map((p) => '/' + p).sort())
    for (const f of files) {
      const bytes = FILES[f.path.slice(1)]
      expect(f.size).toBe(bytes.length)
      expect(f.fps.length / 2).toBe(Math.ceil(bytes.length / 4096))
      expect([...f.fps]).toEqual(expectedFps(bytes))
      expect(f.elf).toBe(f.path === '/bin/tool' || f.path === '/lib/libx.so')
    }
    const get = (p: string) => files.find((f) => f.path === p) as ImageFile
    expect(get('/empty').fps.length).toBe(0)
    expect(get('/page.bin').fps.length).toBe(2)
    expect(get('/odd.bin').fps.length).toBe(4)
    expect([...get('/dup/a.txt').fps]).toEqual([...get('/dup/b.txt').fps])
    expect([...get('/zeros.img').fps]).toEqual([ZERO_FP_HI, ZERO_FP_LO, ZERO_FP_HI, ZERO_FP_LO, ZERO_FP_HI, ZERO_FP_LO])
    expect(files.some((f) => f.path.includes('outside') || f.path.includes('link-out') || f.path.endsWith('/up'))).toBe(false)
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]) // temp renamed away
  })

  it.skipIf(isRoot)('reports an unreadable file on stderr and goes on', async () => {
    writeFileSync(join(tree, 'secret'), 'x')
    chmodSync(join(tree, 'secret'), 0)
    try {
      const io = memIo()
      const r = await buildImage(tree, join(dir, 'unreadable.img'), io)
      expect(r.unreadable).toBe(1)
      expect(r.files).toBe(Object.keys(FILES).length)
      expect(io.err.join('')).toMatch(/cannot read .*secret: EACCES/)
    } finally {
      chmodSync(join(tree, 'secret'), 0o644)
      rmSync(join(tree, 'secret'))
    }
  })

  it('cmdImage build and stats print results; bad input is an ImageUsageError', async () => {
    const io = memIo()
    const out = join(dir, 'cmd.img')
    expect(await cmdImage(['build', tree, '-o', out], io)).toBe(0)
    expect(io.out.join('')).toMatch(/9 files, 18 pages/)
    expect(await cmdImage(['stats', out], io)).toBe(0)
    expect(io.out.join('')).toMatch(/ideal saved pages/)
    await expect(cmdImage(['build', join(dir, 'missing'), '-o', out], memIo())).rejects.toThrow(ImageUsageError)
    await expect(cmdImage(['build', tree], memIo())).rejects.toThrow(/-o IMAGE/)
    await expect(cmdImage(['stats'], memIo())).rejects.toThrow(ImageUsageError)
    writeFileSync(join(dir, 'junk.img'), 'not an image\n')
    await expect(cmdImage(['stats', join(dir, 'junk.img')], memIo())).rejects.toThrow(/not a samepage-lab\/image@1 file/)
    writeFileSync(join(dir, 'junk.tar'), new Uint8Array(1024).fill(65))
    await expect(cmdImage(['build', join(dir, 'junk.tar'), '-o', join(dir, 'junk-out.img')], memIo())).rejects.toThrow(/not a tar archive/)
    expect(existsSync(join(dir, 'junk-out.img'))).toBe(false)
  })
})

describe('image build from tar archives', () => {
  it.skipIf(!existsSync('/bin/tar'))('a .tar and a .tar.gz give the same index as the directory', async () => {
    expect(hasTar).toBe(true)
    const fromDir = byPath((await readImageFile(join(dir, 'tree.img'))).files).map(plain)
    for (const name of ['tree.tar', 'tree.tar.gz']) {
      const out = join(dir, name + '.img')
      const r = await buildImage(join(dir, name), out, memIo())
      expect(r.files).toBe(fromDir.length)
      expect(byPath((await readImageFile(out)).files).map(plain)).toEqual(fromDir)
    }
  })

  it('reads GNU long names and pax paths, and never leaves the tree', async () => {
    const longPath = 'deep/' + 'd'.repeat(120) + '/file.bin'
    const paxPath = 'pax/' + 'p'.repeat(150) + '/ü.bin'
    const data = pattern(5000, 9)
    const tar = ustar([
      { name: '././@LongLink', type: 'L', data: new TextEncoder().encode(longPath + '\0') },
      { name: 'short', type: '0', data },
      { name: 'PaxHeader', type: 'x', data: paxRecord('path', paxPath) },
      { name: 'ignored', type: '0', data: pattern(100, 4) },
      { name: '../escape.txt', type: '0', data: pattern(10, 5) },
      { name: 'sub/', type: '5', data: new Uint8Array(0) },
      { name: 'sub/link', type: '2', data: new Uint8Array(0) }
    ])
    writeFileSync(join(dir, 'hand.tar'), tar)
    const io = memIo()
    const r = await buildImage(join(dir, 'hand.tar'), join(dir, 'hand.img'), io)
    const files = (await readImageFile(join(dir, 'hand.img'))).files
    expect(files.map((f) => f.path)).toEqual(['/' + longPath, '/' + paxPath])
    expect([...files[0].fps]).toEqual(expectedFps(data))
    expect([...files[1].fps]).toEqual(expectedFps(pattern(100, 4)))
    expect(r.skipped).toBe(2) // ../escape.txt and the symlink
    expect(io.err.join('')).toMatch(/escape\.txt.*leaves the tree/)
  })
})

describe('the image written inside its own tree', () => {
  it('is never indexed, also when IMAGE is reached through a symlinked folder', async () => {
    const t = join(dir, 'self')
    mkdirSync(t, { recursive: true })
    writeFileSync(join(t, 'a.bin'), pattern(5000, 1))
    symlinkSync(t, join(dir, 'self-link'))
    for (const out of [join(t, 'in.img'), join(dir, 'self-link', 'via.img')]) {
      for (let i = 0; i < 2; i++) {
        const r = await buildImage(t, out, memIo())
        expect(r.files).toBe(1)
        expect((await readImageFile(out)).files.map((f) => f.path)).toEqual(['/a.bin'])
      }
      rmSync(out)
    }
  })
})

describe('progress', () => {
  it('image build shows progress on stderr only on a TTY, and clears it, also when the build fails', async () => {
    const tty = memIo(true)
    await buildImage(tree, join(dir, 'p.img'), tty)
    expect(tty.err[0]).toMatch(/^\rimage: 1 files, /)
    expect(tty.err.at(-1)).toMatch(/^\r +\r$/)
    const quiet = memIo()
    await buildImage(tree, join(dir, 'p.img'), quiet)
    expect(quiet.err).toEqual([])
    const tar = ustar([{ name: 'a', type: '0', data: pattern(10, 1) }, { name: 'b', type: '0', data: pattern(9000, 2) }])
    writeFileSync(join(dir, 'p-cut.tar'), tar.subarray(0, 2048))
    const failing = memIo(true)
    await expect(buildImage(join(dir, 'p-cut.tar'), join(dir, 'p2.img'), failing)).rejects.toThrow(/truncated/)
    expect(failing.err[0]).toMatch(/^\rimage: 1 files/)
    expect(failing.err.at(-1)).toMatch(/^\r +\r$/)
  })
})

describe('names that are not UTF-8', () => {
  it('are reported and skipped, from a directory and from a tar archive', async () => {
    const t = join(dir, 'latin1')
    mkdirSync(join(t, 'ok'), { recursive: true })
    writeFileSync(join(t, 'ok', 'good.txt'), pattern(10, 1))
    const enc = new TextEncoder()
    const bad = Buffer.concat([Buffer.from(t + '/caf'), Buffer.from([0xe9]), Buffer.from('.txt')])
    writeFileSync(bad, pattern(10, 2))
    mkdirSync(Buffer.concat([Buffer.from(t + '/d'), Buffer.from([0xfe])]) as unknown as string)
    const io = memIo()
    const r = await buildImage(t, join(dir, 'latin1.img'), io)
    expect(r).toMatchObject({ files: 1, skipped: 2, unreadable: 0 })
    expect(io.err.join('')).toMatch(/caf\ufffd\.txt: the name is not UTF-8/)
    const tar = ustar([
      { name: 'ok/good.txt', type: '0', data: pattern(10, 1) },
      { name: 'x', type: '0', data: pattern(10, 2) }
    ])
    tar.set([0x63, 0x61, 0x66, 0xe9, 0], 512 + 512) // the second member's name: 'caf' + Latin-1 e-acute
    const h = tar.subarray(1024, 1536)
    h.fill(0x20, 148, 156)
    let sum = 0
    for (const b of h) sum += b
    h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148)
    writeFileSync(join(dir, 'latin1.tar'), tar)
    const tio = memIo()
    const tr = await buildImage(join(dir, 'latin1.tar'), join(dir, 'latin1-tar.img'), tio)
    expect(tr).toMatchObject({ files: 1, skipped: 1 })
    expect(tio.err.join('')).toMatch(/the name is not UTF-8/)
  })
})

describe('old tar archives', () => {
  it('accepts a signed header checksum and reads a V7 directory (type 0, name ending in /) as a directory', async () => {
    const data = pattern(3000, 5)
    const tar = ustar([
      { name: 'etc/', type: '0', data: new Uint8Array(0) },
      { name: 'etc/résumé.txt', type: '0', data },
      { name: 'etc/v7dir/', type: '\0', data: new Uint8Array(0) }
    ])
    // Recompute the second header's checksum as old tars did: bytes as signed chars.
    const h = tar.subarray(512, 1024)
    h.fill(0x20, 148, 156)
    let signed = 0
    for (const b of h) signed += b >= 0x80 ? b - 256 : b
    h.set(new TextEncoder().encode(signed.toString(8).padStart(6, '0') + '\0 '), 148)
    writeFileSync(join(dir, 'old.tar'), tar)
    const io = memIo()
    const r = await buildImage(join(dir, 'old.tar'), join(dir, 'old.img'), io)
    expect(r).toMatchObject({ files: 1, skipped: 0 })
    const files = (await readImageFile(join(dir, 'old.img'))).files
    expect(files.map((f) => f.path)).toEqual(['/etc/résumé.txt'])
    expect([...files[0].fps]).toEqual(expectedFps(data))
    expect(io.err).toEqual([])
  })
})

describe('hard links in tar archives', () => {
  it.skipIf(!existsSync('/bin/tar'))('a tar of a tree with hard links gives the same image as the tree', async () => {
    const t = join(dir, 'linked')
    mkdirSync(join(t, 'usr/bin'), { recursive: true })
    writeFileSync(join(t, 'usr/bin/perl'), elfHeader(2))
    linkSync(join(t, 'usr/bin/perl'), join(t, 'usr/bin/perl5.36'))
    writeFileSync(join(t, 'a.txt'), pattern(9000, 7))
    linkSync(join(t, 'a.txt'), join(t, 'usr/a-link.txt'))
    execFileSync('tar', ['-cf', join(dir, 'linked.tar'), '-C', t, '.'])
    const fromDir = await buildImage(t, join(dir, 'linked-dir.img'), memIo())
    const io = memIo()
    const fromTar = await buildImage(join(dir, 'linked.tar'), join(dir, 'linked-tar.img'), io)
    expect(fromTar).toEqual(fromDir)
    expect(fromTar).toMatchObject({ files: 4, skipped: 0 })
    expect(io.err).toEqual([])
    const a = byPath((await readImageFile(join(dir, 'linked-dir.img'))).files).map(plain)
    expect(byPath((await readImageFile(join(dir, 'linked-tar.img'))).files).map(plain)).toEqual(a)
  })

  it('a hand-made archive: ustar, pax and GNU long link names; a link to nothing or leaving the tree is skipped', async () => {
    const data = pattern(5000, 3)
    const longTarget = 'long/' + 'x'.repeat(120) + '/target.bin'
    const enc = new TextEncoder()
    const tar = ustar([
      { name: './data.bin', type: '0', data },
      { name: './hard', type: '1', data: new Uint8Array(0), link: './data.bin' },
      { name: '././@LongLink', type: 'L', data: enc.encode(longTarget + '\0') },
      { name: 'ignored', type: '0', data: pattern(10, 4) },
      { name: '././@LongLink', type: 'K', data: enc.encode(longTarget + '\0') },
      { name: 'gnu-link', type: '1', data: new Uint8Array(0), link: 'ignored-too' },
      { name: 'PaxHeader', type: 'x', data: paxRecord('linkpath', '/' + longTarget) },
      { name: 'pax-link', type: '1', data: new Uint8Array(0), link: 'ignored' },
      { name: 'dangling', type: '1', data: new Uint8Array(0), link: 'missing.bin' },
      { name: '../out', type: '1', data: new Uint8Array(0), link: 'data.bin' },
      { name: 'hard', type: '1', data: new Uint8Array(0), link: 'data.bin' }
    ])
    writeFileSync(join(dir, 'links.tar'), tar)
    const io = memIo()
    const r = await buildImage(join(dir, 'links.tar'), join(dir, 'links.img'), io)
    expect(r).toMatchObject({ files: 5, skipped: 3 })
    const files = (await readImageFile(join(dir, 'links.img'))).files
    expect(files.map((f) => f.path)).toEqual(['/data.bin', '/hard', '/' + longTarget, '/gnu-link', '/pax-link'])
    for (const f of files) expect([...f.fps]).toEqual(expectedFps(f.path === '/data.bin' || f.path === '/hard' ? data : pattern(10, 4)))
    expect(files[1].size).toBe(5000)
    const err = io.err.join('')
    expect(err).toMatch(/skipping hard link dangling in .*: its target missing\.bin is not a file of the image/)
    expect(err).toMatch(/skipping hard link \.\.\/out in .*: leaves the tree/)
    expect(err).toMatch(/skipping hard link hard in .*: duplicate path/)
  })
})

describe('image build from bad archives', () => {
  it('an empty, short, empty-gzip or truncated archive is one error naming it, and writes nothing', async () => {
    const tar = ustar([{ name: 'a.bin', type: '0', data: pattern(5000, 1) }])
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty.tar', new Uint8Array(0), /empty\.tar: not a tar archive \(empty\)$/],
      ['hello.tar', new TextEncoder().encode('hello\n'), /hello\.tar: not a tar archive \(6 bytes, less than one 512-byte header\)$/],
      ['empty.tar.gz', gzipSync(new Uint8Array(0)), /empty\.tar\.gz: not a tar archive \(empty once decompressed\)$/],
      ['cut.tar', tar.subarray(0, 512 + 3000), /cut\.tar: truncated archive at byte 3512$/],
      ['cut-header.tar', tar.subarray(0, 512 + 5120 + 100), /cut-header\.tar: truncated archive at byte 5732$/]
    ]
    for (const [name, bytes, msg] of cases) {
      writeFileSync(join(dir, name), bytes)
      const out = join(dir, name + '.img')
      await expect(buildImage(join(dir, name), out, memIo())).rejects.toThrow(ImageUsageError)
      await expect(buildImage(join(dir, name), out, memIo())).rejects.toThrow(msg)
      expect(existsSync(out)).toBe(false)
    }
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })
})

describe('image format and stats (pure)', () => {
  it('detects ELF executables and shared libraries only', () => {
    expect(isElfExecutable(elfHeader(2))).toBe(true)
    expect(isElfExecutable(elfHeader(3, true))).toBe(true)
    expect(isElfExecutable(elfHeader(1))).toBe(false)
    expect(isElfExecutable(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]))).toBe(false)
  })

  it('round-trips and rejects truncated or foreign bytes', () => {
    const files: ImageFile[] = [
      { path: '/a', size: 5000, elf: true, fps: new Uint32Array([1, 2, 3, 4]) },
      { path: '/é/b', size: 0, elf: false, fps: new Uint32Array(0) }
    ]
    const bytes = encodeImage({ header: makeHeader('x'), files })
    const back = decodeImage(bytes)
    expect(back.files.map(plain)).toEqual(files.map(plain))
    expect(() => decodeImage(bytes.subarray(0, bytes.length - 3))).toThrow(ImageFormatError)
    expect(() => decodeImage(bytes.subarray(0, bytes.length - 20))).toThrow(/truncated/)
    expect(() => decodeImage(new TextEncoder().encode('{"schema":"other@1"}\n'))).toThrow(/schema: other@1/)
  })

  it('refuses a path that occurs twice or is not absolute', () => {
    const f: ImageFile = { path: '/etc/hosts', size: 10, elf: false, fps: new Uint32Array([1, 2]) }
    const twice = concatBytes([encodeHeader(makeHeader('x')), encodeFile(f), encodeFile(f), encodeTrailer(2, 2)])
    expect(() => decodeImage(twice)).toThrow(/corrupt image: \/etc\/hosts occurs twice/)
    const rel = encodeImage({ header: makeHeader('x'), files: [{ ...f, path: '/etc' }] })
    rel[rel.indexOf(0x2f, rel.indexOf(0x0a))] = 0x2e // the record's '/etc' -> '.etc'
    expect(() => decodeImage(rel)).toThrow(/corrupt image: path must start with \//)
  })

  it('every truncation and every corrupted byte gives an ImageFormatError or a valid image, never a crash', () => {
    const files: ImageFile[] = [
      { path: '/a', size: 9000, elf: true, fps: new Uint32Array([1, 2, 3, 4, 5, 6]) },
      { path: '/b', size: 0, elf: false, fps: new Uint32Array(0) }
    ]
    const bytes = encodeImage({ header: makeHeader('x'), files })
    for (let n = 0; n < bytes.length; n++) expect(() => decodeImage(bytes.subarray(0, n))).toThrow(ImageFormatError)
    for (let i = 0; i < bytes.length; i++) {
      for (const v of [0x00, 0x0a, 0x7f, 0xff]) {
        const bad = bytes.slice()
        bad[i] = v
        try {
          decodeImage(bad)
        } catch (e) {
          expect(e).toBeInstanceOf(ImageFormatError)
        }
      }
    }
  })

  it('ideal sharing within each image and across two images', async () => {
    const a = (await readImageFile(join(dir, 'tree.img'))).files
    // tree: page.bin 1 + odd.bin 2 + dup 3 + 3 + zeros 3 + three ELF files 2 each = 18 pages
    const pages = 18
    const zero = 3
    const s1 = imageStats([{ name: 'a', files: a }])
    expect(s1.images[0].pages).toBe(pages)
    expect(s1.images[0].zero).toBe(zero)
    // distinct: page.bin 1, odd.bin 2, dup 3, zero 1, ELF files: 2 pages each, first pages
    // differ by e_type, second pages equal across the three ELF files -> 3 + 1.
    expect(s1.images[0].distinct).toBe(1 + 2 + 3 + 1 + 4)
    expect(s1.images[0].saved_pages).toBe(pages - 11)
    const b: ImageFile[] = [
      { ...a.find((f) => f.path === '/odd.bin')!, path: '/other/odd.bin' },
      { path: '/z', size: 4096, elf: false, fps: new Uint32Array([ZERO_FP_HI, ZERO_FP_LO]) },
      { path: '/new', size: 4096, elf: false, fps: new Uint32Array([7, 7]) }
    ]
    const s2 = imageStats([
      { name: 'a', files: a },
      { name: 'b', files: b }
    ])
    expect(s2.images[1]).toMatchObject({ pages: 4, distinct: 4, zero: 1, saved_pages: 0 })
    expect(s2.all).toMatchObject({ files: a.length + 3, pages: pages + 4, distinct: 12, zero: 4, saved_pages: pages + 4 - 12 })
    expect(s2.cross_saved_pages).toBe(3)
    expect(s2.all.saved_mib).toBeCloseTo(((pages + 4 - 12) * 4096) / 1048576)
  })
})

// A minimal ustar writer for hand-made archives.
function ustar(entries: { name: string; type: string; data: Uint8Array; link?: string }[]): Uint8Array {
  const blocks: Uint8Array[] = []
  const enc = new TextEncoder()
  for (const e of entries) {
    const h = new Uint8Array(512)
    h.set(enc.encode(e.name).subarray(0, 100), 0)
    h.set(enc.encode('0000644\0'), 100)
    h.set(enc.encode('0000000\0'), 108)
    h.set(enc.encode('0000000\0'), 116)
    h.set(enc.encode(e.data.length.toString(8).padStart(11, '0') + '\0'), 124)
    h.set(enc.encode('00000000000\0'), 136)
    h.fill(0x20, 148, 156)
    h[156] = e.type.charCodeAt(0)
    if (e.link !== undefined) h.set(enc.encode(e.link).subarray(0, 100), 157)
    h.set(enc.encode('ustar\x0000'), 257)
    let sum = 0
    for (const x of h) sum += x
    h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148)
    blocks.push(h)
    const body = new Uint8Array(Math.ceil(e.data.length / 512) * 512)
    body.set(e.data)
    blocks.push(body)
  }
  blocks.push(new Uint8Array(1024))
  return concatBytes(blocks)
}

function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`
  const bodyLen = new TextEncoder().encode(body).length
  let len = bodyLen + 1
  while (String(len).length + bodyLen !== len) len++
  return new TextEncoder().encode(`${len}${body}`)
}

describe('amplification caps (docs/file-formats.md, "Limits")', () => {
  it('a small archive of many hard links to one file is refused, not a huge image', async () => {
    // 1 MiB of content and 2,000 links to it: 512,000 pages through links from a 1 MiB file.
    const entries = [{ name: 'big.bin', type: '0', data: pattern(1 << 20, 9) }]
    for (let i = 0; i < 2000; i++) entries.push({ name: `l${i}`, type: '1', data: new Uint8Array(0), link: 'big.bin' } as never)
    writeFileSync(join(dir, 'links-bomb.tar.gz'), gzipSync(ustar(entries)))
    const io = memIo()
    await expect(buildImage(join(dir, 'links-bomb.tar.gz'), join(dir, 'bomb.img'), io)).rejects.toThrow(/its hard links would add more pages than its files hold .*refusing an image that expands past twice its content/)
    expect(existsSync(join(dir, 'bomb.img'))).toBe(false)
    expect(readdirSync(dir).filter((f) => f.startsWith('.bomb.img'))).toEqual([])
  })

  it('a few hard links (a normal tree) are still recorded', async () => {
    const entries = [{ name: 'a.bin', type: '0', data: pattern(1 << 16, 9) }, ...Array.from({ length: 5 }, (_, i) => ({ name: `l${i}`, type: '1', data: new Uint8Array(0), link: 'a.bin' }))]
    writeFileSync(join(dir, 'few-links.tar'), ustar(entries))
    expect(await buildImage(join(dir, 'few-links.tar'), join(dir, 'few.img'), memIo())).toMatchObject({ files: 6, skipped: 0 })
  })

  it('an ELF core whose PT_LOAD segments share file bytes is refused', async () => {
    const { dumpLayout } = await import('../src/core/formats/snapshot.ts')
    const { elfCore } = await import('./bytes.ts')
    const core = elfCore([
      { paddr: 0, bytes: pattern(8192, 1) },
      { paddr: 1 << 20, bytes: pattern(8192, 2) }
    ])
    // Point the second segment at the first one's bytes (as 1,100 headers over one 64 MiB did).
    const dv = new DataView(core.buffer)
    const p1 = 64 + 56
    const p2 = 64 + 2 * 56
    dv.setUint32(p2 + 8, dv.getUint32(p1 + 8, true), true)
    expect(() => dumpLayout(core.subarray(0, 4096), core.length)).toThrow(/PT_LOAD segments overlap in the file/)
    expect(dumpLayout(elfCore([{ paddr: 0, bytes: pattern(8192, 1) }, { paddr: 1 << 20, bytes: pattern(8192, 2) }]).subarray(0, 4096), core.length).regions).toHaveLength(2)
  })
})
