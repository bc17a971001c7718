import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { FAULT_STEPS, prepareResultDir, prepareResultDirReporting, RESULT_MARK, writeResultDir, type FaultStep } from '../src/host/node/result-dir.ts'

const exec = promisify(execFile)
const WRITER = join(import.meta.dirname, 'result-dir-writer.ts')
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')
const root = mkdtempSync(join(tmpdir(), 'samepage-resultdir-'))

/** Runs the writer in a child process; returns how it ended. */
async function writeInChild(dir: string, label: string, env: Record<string, string>): Promise<'ok' | 'killed'> {
  try {
    await exec(process.execPath, ['--import', 'tsx', WRITER, dir, label], { env: { ...process.env, ...env } })
    return 'ok'
  } catch (e) {
    if ((e as { signal?: string }).signal === 'SIGKILL') return 'killed'
    throw e
  }
}

/** The folder's files and their bytes, the mark left out. */
function snapshot(dir: string): Record<string, string> | null {
  if (!existsSync(dir)) return null
  const out: Record<string, string> = {}
  for (const n of readdirSync(dir).sort()) if (n !== RESULT_MARK) out[n] = readFileSync(join(dir, n)).toString('base64')
  return out
}

const leftovers = (parent: string) => readdirSync(parent).filter((n) => n.includes('.samepage-'))

let n = 0
async function resultIn(label: string): Promise<{ parent: string; dir: string; whole: Record<string, string> }> {
  const parent = join(root, `case${n++}`)
  mkdirSync(parent)
  const dir = join(parent, 'out')
  await writeResultDir(join(parent, 'model'), [
    ['config.json', JSON.stringify({ label }) + '\n'],
    ['summary.json', JSON.stringify({ label, lanes: [] }) + '\n'],
    ['series.csv', `t,label\n0,${label}\n`],
    ['sharing.png', new Uint8Array(4096).fill(label.length)]
  ])
  return { parent, dir, whole: snapshot(join(parent, 'model'))! }
}

// The steps a write goes through, by path: into a new folder, over an old one with the exchange
// call, over an old one with the two-rename fallback.
const REACHED: Record<string, FaultStep[]> = {
  fresh: ['first-file', 'files-written', 'marked', 'switched'],
  exchange: ['first-file', 'files-written', 'marked', 'switched', 'cleaned'],
  fallback: ['first-file', 'files-written', 'marked', 'parked-old', 'switched', 'cleaned']
}

describe('whole-folder atomic results (a kill at every step)', () => {
  for (const path of ['fresh', 'exchange', 'fallback'] as const) {
    for (const step of FAULT_STEPS) {
      it(`a writer killed at "${step}" (${path}) leaves the whole old result or the whole new one, and the next write cleans up`, async () => {
        const old = await resultIn('old')
        const neu = await resultIn('new!')
        if (path !== 'fresh') await writeInChild(old.dir, 'old', {})
        const env: Record<string, string> = { SAMEPAGE_FAULT_AT: step }
        if (path === 'fallback') env.SAMEPAGE_RESULT_DIR_NO_EXCHANGE = '1'
        const how = await writeInChild(old.dir, 'new!', env)
        expect(how).toBe(REACHED[path].includes(step) ? 'killed' : 'ok')

        const after = snapshot(old.dir)
        const allowed = path === 'fresh' ? [null, neu.whole] : [old.whole, neu.whole]
        // The fallback's one gap: DIR missing between its two renames, put back by the next prepare.
        if (path === 'fallback' && step === 'parked-old') expect(after).toBeNull()
        else expect(allowed).toContainEqual(after)

        const { recovered } = prepareResultDirReporting(old.dir)
        expect(allowed.filter((a) => a !== null)).toContainEqual(snapshot(old.dir) ?? neu.whole)
        if (path !== 'fresh') expect([old.whole, neu.whole]).toContainEqual(snapshot(old.dir))
        expect(leftovers(old.parent)).toEqual([])
        if (how === 'killed' && step !== 'switched' && step !== 'cleaned') expect(recovered.length).toBeGreaterThan(0)

        await writeResultDir(old.dir, [['config.json', '{}'], ['summary.json', '{}']])
        expect(Object.keys(snapshot(old.dir)!)).toEqual(['config.json', 'summary.json'])
        expect(leftovers(old.parent)).toEqual([])
      })
    }
  }

  it('a live writer’s staging folder is left alone by another process’s recovery', async () => {
    const { parent, dir } = await resultIn('x')
    const live = join(parent, `.out.samepage-new.${process.pid}`)
    mkdirSync(live)
    prepareResultDir(dir)
    expect(existsSync(live)).toBe(true)
  })
})

describe('output folders that cannot hold a result', () => {
  it('an empty folder name is refused, not taken as the current folder', () => {
    expect(() => prepareResultDir('')).toThrow(/--out: give a folder name/)
  })

  it('a folder holding other files is refused, so nothing of the user’s is replaced', async () => {
    const { parent } = await resultIn('x')
    const mine = join(parent, 'mine')
    mkdirSync(mine)
    writeFileSync(join(mine, 'thesis.tex'), 'precious')
    expect(() => prepareResultDir(mine)).toThrow(/holds files that are not a Samepage result/)
    await expect(writeResultDir(mine, [['config.json', '{}']])).rejects.toThrow(/holds files that are not a Samepage result/)
    expect(readFileSync(join(mine, 'thesis.tex'), 'utf8')).toBe('precious')
  })

  it('a result folder written before the mark existed (config.json + summary.json) is still replaced', async () => {
    const { parent } = await resultIn('x')
    const legacy = join(parent, 'legacy')
    mkdirSync(legacy)
    writeFileSync(join(legacy, 'config.json'), '{}')
    writeFileSync(join(legacy, 'summary.json'), '{}')
    writeFileSync(join(legacy, 'sharing.png'), 'old png')
    await writeResultDir(legacy, [['config.json', '{"new":1}'], ['summary.json', '{}']])
    expect(readdirSync(legacy).sort()).toEqual([RESULT_MARK, 'config.json', 'summary.json'])
  })
})

describe('samepage run --out killed while writing', () => {
  it('keeps the older run whole, and the next run says what it cleaned', async () => {
    const parent = join(root, 'cli')
    mkdirSync(parent)
    const out = join(parent, 'out')
    const args = [BIN, 'run', 'paper-fig6a', '--duration', '2', '--out', out]
    await exec(process.execPath, [...args, '--seed', '1'])
    const before = snapshot(out)
    expect(Object.keys(before!)).toEqual(['config.json', 'cpu.png', 'series.csv', 'sharing.png', 'summary.json'])
    const killed = await exec(process.execPath, [...args, '--seed', '2'], { env: { ...process.env, SAMEPAGE_FAULT_AT: 'marked' } }).catch((e: { signal?: string }) => e)
    expect((killed as { signal?: string }).signal).toBe('SIGKILL')
    expect(snapshot(out)).toEqual(before)
    const again = await exec(process.execPath, [...args, '--seed', '2'])
    expect(again.stderr).toMatch(/--out: removed ".out.samepage-new.\d+" left by an interrupted write/)
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).seed).toBe(2)
    expect(leftovers(parent)).toEqual([])
  })
})
