// `image build` when writing IMAGE fails (a full disk, an I/O error) or a write takes fewer
// bytes than asked: one clear error and nothing left behind, or a complete image. The file
// handle that node:fs/promises opens is wrapped (vi.mock) to fail or to write short.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { pattern } from './bytes.ts'

const mode = vi.hoisted(() => ({ value: 'normal' as 'normal' | 'short' | 'enospc' }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof import('node:fs/promises')>()
  const open = (async (...args: Parameters<typeof fsp.open>) => {
    const fh = await fsp.open(...args)
    if (mode.value === 'normal' || !String(args[1]).startsWith('w')) return fh
    return new Proxy(fh, {
      get(target, prop) {
        if (prop === 'write') {
          return async (buf: Uint8Array, off: number, len: number, pos: number) => {
            if (mode.value === 'enospc') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
            return target.write(buf, off, Math.min(len, 100), pos)
          }
        }
        const v = Reflect.get(target, prop) as unknown
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      }
    })
  }) as typeof fsp.open
  return { ...fsp, default: { ...fsp, open }, open }
})

const { buildImage, readImageFile, ImageUsageError } = await import('../src/cli/image.ts')

const dir = mkdtempSync(join(tmpdir(), 'samepage-image-werr-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))


const io = () => ({ stdout: () => undefined, stderr: () => undefined, stderrIsTTY: false })

describe('image build: writing IMAGE', () => {
  const tree = join(dir, 'tree')
  mkdirSync(join(tree, 'sub'), { recursive: true })
  writeFileSync(join(tree, 'a.bin'), pattern(50_000, 1))
  writeFileSync(join(tree, 'sub', 'b.bin'), pattern(9000, 2))

  it('short writes still give the complete image', async () => {
    mode.value = 'normal'
    await buildImage(tree, join(dir, 'ok.img'), io())
    const want = await readImageFile(join(dir, 'ok.img'))
    mode.value = 'short'
    try {
      await buildImage(tree, join(dir, 'short.img'), io())
    } finally {
      mode.value = 'normal'
    }
    expect(await readImageFile(join(dir, 'short.img'))).toEqual(want)
  })

  it('a full disk is one line naming IMAGE, and leaves no file', async () => {
    mode.value = 'enospc'
    try {
      const p = buildImage(tree, join(dir, 'full.img'), io())
      await expect(p).rejects.toThrow(ImageUsageError)
      await expect(p).rejects.toThrow(/^cannot write .*full\.img: ENOSPC$/)
    } finally {
      mode.value = 'normal'
    }
    expect(readdirSync(dir).filter((n) => n.includes('full'))).toEqual([])
  })
})
