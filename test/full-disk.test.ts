// `run --out` on a full disk: one line, exit 2, and nothing left behind (no empty folder, no
// staging folder); an older result in the folder stays whole. `--out ''` is refused by run and
// reproduce instead of writing into the current folder. The full disk is simulated by a preload
// that fails write(2) with ENOSPC for paths under the output folder (full-disk-preload.mjs).
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { idlePairExperiment } from './fixtures.ts'

const run = promisify(execFile)
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')
const PRELOAD = join(import.meta.dirname, 'full-disk-preload.mjs')
const dir = mkdtempSync(join(tmpdir(), 'samepage-full-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function samepage(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', PRELOAD, BIN, ...args], { env: { ...process.env, ...env }, cwd: dir })
    return { code: 0, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stderr: string }
    return { code: err.code, stderr: err.stderr }
  }
}

const cfg = join(dir, 'tiny.json')
const tiny = idlePairExperiment({ name: 'tiny', duration_s: 10, sample_every_s: 5, memory_mib: 16 })
tiny.vms.length = 1
tiny.lanes.length = 1
writeFileSync(cfg, JSON.stringify(tiny))

describe('a full disk during run --out', () => {
  beforeAll(async () => {
    await samepage({}, 'presets')
  }, 120_000)

  it('is one line, exit 2, and leaves no folder behind', async () => {
    const parent = mkdtempSync(join(dir, 'p-'))
    const out = join(parent, 'FULLDISK-res')
    const r = await samepage({ SAMEPAGE_TEST_ENOSPC: 'FULLDISK' }, 'run', cfg, '--out', out)
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^samepage: --out: cannot write .*no space left on the device \(ENOSPC\)\n$/)
    expect(readdirSync(parent)).toEqual([])
  }, 300_000)

  it('leaves an older result whole', async () => {
    const parent = mkdtempSync(join(dir, 'p-'))
    const out = join(parent, 'FULLDISK-res')
    // An older result (config.json + summary.json is what the writer recognises as one).
    mkdirSync(out)
    writeFileSync(join(out, 'config.json'), '{"old": true}\n')
    writeFileSync(join(out, 'summary.json'), '{"old": true}\n')
    const before = readFileSync(join(out, 'summary.json'), 'utf8')
    const files = readdirSync(out).sort()
    const r = await samepage({ SAMEPAGE_TEST_ENOSPC: 'FULLDISK' }, 'run', cfg, '--out', out, '--seed', '2')
    expect(r.code).toBe(2)
    expect(readdirSync(parent)).toEqual(['FULLDISK-res'])
    expect(readdirSync(out).sort()).toEqual(files)
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(before)
  }, 300_000)
})

describe("--out ''", () => {
  for (const cmd of [['run', cfg], ['reproduce', '--quick', '--only', 'fig2']]) {
    it(`${cmd[0]} refuses it and writes nothing into the current folder`, async () => {
      const before = readdirSync(dir).sort()
      const r = await samepage({}, ...cmd, '--out', '')
      expect(r.code).toBe(2)
      expect(r.stderr).toBe("samepage: --out: give a folder name (got an empty string)\n")
      expect(readdirSync(dir).sort()).toEqual(before)
    }, 60_000)
  }
})
