// `dump import` when the dump cannot be read to its end (it shrank while being read, or an I/O
// error): one clear error, the TTY progress line cleared first, nothing written. node:fs's
// readSync is wrapped so that the second read of the dump returns what a shrunk file gives.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'

const fail = vi.hoisted(() => ({ after: -1, error: null as Error | null, calls: 0 }))
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>()
  const readSync = ((...args: Parameters<typeof fs.readSync>) => {
    if (fail.after >= 0 && fail.calls++ >= fail.after) {
      if (fail.error) throw fail.error
      return 0
    }
    return fs.readSync(...args)
  }) as typeof fs.readSync
  return { ...fs, default: { ...fs, readSync }, readSync }
})

const { importDump } = await import('../src/cli/dump.ts')
const { ImageUsageError } = await import('../src/cli/image.ts')

const dir = mkdtempSync(join(tmpdir(), 'samepage-dump-err-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('dump import: a read that fails midway', () => {
  for (const error of [null, Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })]) {
    it(error ? 'an I/O error' : 'a dump that shrank', async () => {
      writeFileSync(join(dir, 'big.raw'), new Uint8Array(3 << 20).fill(7))
      const err: string[] = []
      fail.calls = 0
      fail.after = 2 // the head, the first 1 MiB piece, then the failure
      fail.error = error
      try {
        const p = importDump(join(dir, 'big.raw'), join(dir, 'big.spsnap'), { stdout: () => undefined, stderr: (s) => err.push(s), stderrIsTTY: true })
        await expect(p).rejects.toThrow(ImageUsageError)
        await expect(p).rejects.toThrow(error ? /cannot read .*big\.raw: EIO/ : /big\.raw: ended early at byte 1048576/)
      } finally {
        fail.after = -1
      }
      expect(err[0]).toMatch(/^\rdump: /)
      expect(err.at(-1)).toMatch(/^\r +\r$/)
      expect(readdirSync(dir)).toEqual(['big.raw'])
    })
  }

  it('an I/O error on the first read is one clear error too', async () => {
    writeFileSync(join(dir, 'big.raw'), new Uint8Array(PAGE_BYTES))
    fail.calls = 0
    fail.after = 0
    fail.error = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })
    try {
      await expect(importDump(join(dir, 'big.raw'), join(dir, 'x.spsnap'), { stdout: () => undefined, stderr: () => undefined, stderrIsTTY: false })).rejects.toThrow(/^cannot read .*big\.raw: EIO$/)
    } finally {
      fail.after = -1
    }
  })
})

const PAGE_BYTES = 4096
