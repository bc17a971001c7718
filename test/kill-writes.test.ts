// `image build -o` and `dump import -o` killed (SIGKILL) at every step of their write: the
// output is always the whole old file or the whole new one, and the temporary file a kill leaves
// is recognised by the next write (its PID is dead) and removed. The kill comes from the
// fault-injection hook (SAMEPAGE_FAULT_AT, src/host/node/temp-file.ts), not from timing.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WRITE_STEPS } from '../src/host/node/temp-file.ts'

const run = promisify(execFile)
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')
const dir = mkdtempSync(join(tmpdir(), 'samepage-kill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function samepage(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } })
    return { code: 0, signal: null, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number | null; signal: string | null; stderr: string }
    return { code: err.code, signal: err.signal, stderr: err.stderr }
  }
}

const cases = [
  {
    what: 'image build -o',
    make(n: number): string[] {
      const src = join(dir, `tree${n}`)
      mkdirSync(src, { recursive: true })
      writeFileSync(join(src, 'a.txt'), `tree ${n} `.repeat(3000))
      return ['image', 'build', src, '-o']
    },
    out: 'x.spimg'
  },
  {
    what: 'dump import -o',
    make(n: number): string[] {
      const raw = join(dir, `mem${n}.raw`)
      writeFileSync(raw, new Uint8Array(64 * 4096).fill(n + 1))
      return ['dump', 'import', raw, '-o']
    },
    out: 'x.spsnap'
  }
]

describe('a write killed at any step leaves the whole old file or the whole new one', () => {
  beforeAll(async () => {
    await samepage({}, 'presets') // bundles the CLI once
  }, 120_000)

  for (const c of cases) {
    for (const step of WRITE_STEPS) {
      it(`${c.what}, killed at ${step}: old or new whole, and the leftover is removed by the next write`, async () => {
        const folder = mkdtempSync(join(dir, 'out-'))
        const out = join(folder, c.out)
        const oldArgs = c.make(1)
        const newArgs = c.make(2)
        expect((await samepage({}, ...oldArgs, out)).code).toBe(0)
        const oldBytes = readFileSync(out)
        // What the new write gives when not killed (written elsewhere, compared below).
        const ref = join(dir, `ref-${c.out}`)
        expect((await samepage({}, ...newArgs, ref)).code).toBe(0)
        const newBytes = readFileSync(ref)
        expect(newBytes.equals(oldBytes)).toBe(false)

        const killed = await samepage({ SAMEPAGE_FAULT_AT: step }, ...newArgs, out)
        expect(killed.signal).toBe('SIGKILL')
        const now = readFileSync(out)
        expect(now.equals(oldBytes) || now.equals(newBytes)).toBe(true)
        if (step === 'renamed') expect(now.equals(newBytes)).toBe(true)
        else expect(now.equals(oldBytes)).toBe(true)
        const left = readdirSync(folder).filter((f) => f !== c.out)
        if (step !== 'renamed') expect(left).toEqual([expect.stringMatching(new RegExp(`^\\.${c.out.replace('.', '\\.')}\\.\\d+\\.[0-9a-z]+\\.tmp$`))])

        const again = await samepage({}, ...oldArgs, out)
        expect(again.code).toBe(0)
        if (left.length > 0) expect(again.stderr).toMatch(/removed 1 temporary file\(s\) an interrupted write of .* left/)
        expect(readdirSync(folder)).toEqual([c.out])
        expect(readFileSync(out).equals(oldBytes)).toBe(true)
      }, 60_000)
    }
  }

  it('a temporary file of a writer still running is left alone', async () => {
    const folder = mkdtempSync(join(dir, 'live-'))
    const live = join(folder, `.x.spsnap.${process.pid}.abc.tmp`)
    writeFileSync(live, 'in progress')
    const r = await samepage({}, ...cases[1].make(3), join(folder, 'x.spsnap'))
    expect(r.code).toBe(0)
    expect(readdirSync(folder).sort()).toEqual([`.x.spsnap.${process.pid}.abc.tmp`, 'x.spsnap'])
  }, 60_000)
})
