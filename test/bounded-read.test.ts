// Every user file is read only when it is a regular file, and never past a bound, whatever
// `stat` says: /dev/zero, /dev/urandom and a FIFO used to be read until memory ran out (or block
// forever); now they get one line, at once.
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readRegularFile, readRegularFileSync } from '../src/host/node/read-file.ts'
import { readTextFile } from '../src/main/files.ts'
import { idlePairExperiment } from './fixtures.ts'

const run = promisify(execFile)
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')
const dir = mkdtempSync(join(tmpdir(), 'samepage-bounded-'))
const fifo = join(dir, 'pipe')
execFileSync('mkfifo', [fifo])
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function samepage(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { timeout: 30_000, maxBuffer: 1 << 20 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

function expectOneLine(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2)
  expect(r.stderr.trim().split('\n')).toHaveLength(1)
  expect(r.stderr).toMatch(pattern)
}

describe('reading a user file', () => {
  it('a device is refused without reading it', () => {
    expect(() => readRegularFileSync('/dev/zero', 1 << 20)).toThrow('not a regular file (a device)')
    expect(() => readRegularFileSync('/dev/urandom', 1 << 20)).toThrow('not a regular file (a device)')
  })

  it('a FIFO is refused at once instead of waiting for a writer', async () => {
    expect(() => readRegularFileSync(fifo, 1 << 20)).toThrow('not a regular file (a FIFO)')
    await expect(readRegularFile(fifo, 1 << 20)).rejects.toThrow('not a regular file (a FIFO)')
  })

  it('a folder is refused', () => {
    expect(() => readRegularFileSync(dir, 10)).toThrow('it is a folder')
  })

  it('the bound holds when stat says the file is empty (/proc)', async () => {
    // /proc/self/status is a regular file whose st_size is 0; it holds hundreds of bytes.
    expect(() => readRegularFileSync('/proc/self/status', 16)).toThrow('larger than 16 bytes')
    await expect(readRegularFile('/proc/self/status', 16)).rejects.toThrow('larger than 16 bytes')
    expect(readRegularFileSync('/proc/self/status', 1 << 20).length).toBeGreaterThan(16)
  })

  it('a file of exactly the bound is read; one byte more is refused', () => {
    const p = join(dir, 'ten')
    writeFileSync(p, '0123456789')
    expect(readRegularFileSync(p, 10).length).toBe(10)
    expect(() => readRegularFileSync(p, 9)).toThrow('larger than 9 bytes')
  })

  it("the app's Open (readTextFile) refuses a device and a FIFO as an issue", async () => {
    expect(await readTextFile('/dev/zero', 1 << 20)).toEqual({ issue: { path: '(root)', message: 'cannot read "/dev/zero": not a regular file (a device)' } })
    expect(await readTextFile(fifo, 1 << 20)).toEqual({ issue: { path: '(root)', message: `cannot read "${fifo}": not a regular file (a FIFO)` } })
    expect(await readTextFile('/proc/self/status', 16)).toMatchObject({ issue: { message: expect.stringContaining('at most') } })
  })
})

describe('the CLI refuses devices and FIFOs in one line', () => {
  beforeAll(async () => {
    await samepage('presets')
  }, 120_000)

  for (const f of ['/dev/zero', '/dev/urandom', fifo]) {
    it(`run, validate and image stats of ${f}`, async () => {
      expectOneLine(await samepage('run', f), /^samepage: cannot read ".*": not a regular file/)
      expectOneLine(await samepage('validate', f), /cannot read ".*": not a regular file/)
      expectOneLine(await samepage('image', 'stats', f), /^samepage: cannot read image .*: not a regular file/)
      expectOneLine(await samepage('dump', 'import', f, '-o', join(dir, 'x.spsnap')), /^samepage: cannot read .*: not a regular file/)
    }, 60_000)
  }

  it('a trace, image or snapshot file that is a device names its field', async () => {
    const cfg = idlePairExperiment({ name: 'dev', duration_s: 10, sample_every_s: 5, memory_mib: 64 }) as { vms: Record<string, unknown>[] }
    cfg.vms[0].workload = { kind: 'trace', file: '/dev/zero' }
    cfg.vms[1].snapshot_file = fifo
    const p = join(dir, 'dev.samepage.json')
    writeFileSync(p, JSON.stringify(cfg))
    const r = await samepage('validate', p)
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`vms[0].workload.file: cannot read /dev/zero: not a regular file (a device)\nvms[1].snapshot_file: cannot read ${fifo}: not a regular file (a FIFO)\n`)
  }, 60_000)
})
