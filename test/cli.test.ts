import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseExperiment } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { idlePairExperiment } from './fixtures.ts'

const run = promisify(execFile)
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')

async function samepage(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { maxBuffer: 64 * 1024 * 1024 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'samepage-cli-'))
const file = (name: string, text: string): string => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const valid = idlePairExperiment({ name: 'tiny', duration_s: 20, sample_every_s: 5, memory_mib: 256 })

/** One line on stderr, exit 2, no stack trace. */
function expectBadInput(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

describe('samepage command line', () => {
  beforeAll(async () => {
    await samepage('presets') // bundles the CLI once before the parallel calls below
  }, 120_000)

  it('lists the presets, one per line with a description', async () => {
    const r = await samepage('presets')
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(expect.arrayContaining(['paper-fig6a', 'paper-fig6b', 'paper-fig6c']))
  })

  it('an unknown preset is bad input', async () => {
    expectBadInput(await samepage('run', 'no-such-preset'), /unknown preset "no-such-preset"/)
  })

  it('a missing file is bad input', async () => {
    expectBadInput(await samepage('run', join(dir, 'missing.json')), /cannot read .*no such file/)
  })

  it('invalid JSON is bad input', async () => {
    expectBadInput(await samepage('run', file('broken.json', '{ "schema": ')), /broken\.json:1:13: invalid JSON: unexpected end of the file/)
  })

  it('an invalid field is reported by its path', async () => {
    const p = file('bad-field.json', JSON.stringify({ ...valid, vms: [{ ...valid.vms[0], vcpus: 0 }] }))
    expectBadInput(await samepage('run', p), /^samepage: vms\[0\]\.vcpus: /)
  })

  it('a VM larger than this machine can simulate is bad input', async () => {
    const p = file('huge.json', JSON.stringify({ ...valid, vms: [{ ...valid.vms[0], memory_mib: 1 << 20 }] }))
    expectBadInput(await samepage('run', p), /^samepage: vms: Memory of all VMs together must be at most 131,072 MiB per lane/)
  })

  it('absurd option values are bad input', async () => {
    expectBadInput(await samepage('run', 'paper-fig6a', '--duration=-3'), /--duration: "-3" is not a positive number/)
    expectBadInput(await samepage('run', 'paper-fig6a', '--duration', 'soon'), /--duration: "soon" is not a positive number/)
    expectBadInput(await samepage('run', 'paper-fig6a', '--seed', 'abc'), /--seed: "abc"/)
    expectBadInput(await samepage('run', 'paper-fig6a', '--frobnicate'), /run: Unknown option '--frobnicate'/)
  })

  it('--out that is a file is bad input, and nothing is written', async () => {
    const p = file('not-a-dir', 'x')
    expectBadInput(await samepage('run', 'paper-fig6a', '--duration', '1', '--out', p), /--out: .* is not a directory/)
    expect(readFileSync(p, 'utf8')).toBe('x')
  })

  it('validate: exit 0 for a valid file, exit 2 and one line per problem otherwise', async () => {
    expect((await samepage('validate', file('ok.json', JSON.stringify(valid)))).code).toBe(0)
    const bad = file('two-bad.json', JSON.stringify({ ...valid, duration_s: -1, lanes: [{ name: 'x', scanner: { kind: 'ksm', pages_to_scan: 0 } }] }))
    const r = await samepage('validate', bad)
    expect(r.code).toBe(2)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^duration_s: /), expect.stringMatching(/^lanes\[0\]\.scanner\.pages_to_scan: /)]))
  })

  it('schema prints the JSON Schema of experiment files', async () => {
    const r = await samepage('schema')
    expect(r.code).toBe(0)
    const s = JSON.parse(r.stdout) as { properties: Record<string, unknown> }
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['vms', 'lanes', 'seed']))
  })

  it('run --out writes config, summary, series and charts, with invariants checked', async () => {
    const out = join(dir, 'out')
    const r = await samepage('run', file('tiny.json', JSON.stringify(valid)), '--out', out, '--check-invariants', '--json', '--seed', '5')
    expect(r.code).toBe(0)
    const summary = JSON.parse(r.stdout)
    expect(summary.seed).toBe(5)
    expect(summary.lanes.every((l: { invariants_checked: boolean }) => l.invariants_checked)).toBe(true)
    // Every chart, named after the experiment (the pair has a Hint lane, so the hint stack too).
    expect(readdirSync(out).sort()).toEqual(['.samepage-result', 'config.json', 'series.csv', 'summary.json', 'tiny-counters.png', 'tiny-cpu.png', 'tiny-hints.png', 'tiny-saved.png', 'tiny-sharing.png', 'tiny-types.png'])
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toEqual(summary)
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).lanes[0].scanner.pages_to_scan).toBe(100)
    const csv = readFileSync(join(out, 'series.csv'), 'utf8').trim().split('\n')
    expect(csv[0]).toMatch(/^lane,t_s,sharing_ratio,saved_mib,cpu_percent,pages_shared,pages_sharing,pages_unshared,pages_volatile,full_scans/)
    expect(csv).toHaveLength(1 + 2 * 5)
    expect(readFileSync(join(out, 'tiny-sharing.png')).subarray(1, 4).toString()).toBe('PNG')
  })

  it('run --format png,svg,pdf writes every chart in each format from the same spec', async () => {
    const out = join(dir, 'formats')
    const r = await samepage('run', file('tiny-f.json', JSON.stringify(valid)), '--out', out, '--format', 'svg,pdf,png', '--duration', '10')
    expect(r.code).toBe(0)
    const names = readdirSync(out)
    for (const chart of ['sharing', 'cpu', 'saved', 'counters', 'types']) for (const ext of ['png', 'svg', 'pdf']) expect(names).toContain(`tiny-${chart}.${ext}`)
    const svg = readFileSync(join(out, 'tiny-sharing.svg'), 'utf8')
    expect(svg).toMatch(/^<\?xml[^>]*\?><svg [^>]*width="900" height="500"/)
    expect(svg).toContain('<path') // vector lines, not an embedded bitmap
    expect(svg).not.toContain('<image')
    const pdf = readFileSync(join(out, 'tiny-sharing.pdf'))
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 900 500\]/)
  })

  it('run --format names a bad format in one line, exit 2, and writes nothing', async () => {
    const out = join(dir, 'bad-format')
    expectBadInput(await samepage('run', file('tiny-g.json', JSON.stringify(valid)), '--out', out, '--format', 'png,gif'), /--format: "gif" is not a figure format \(png, svg or pdf\)$/)
    expect(existsSync(out)).toBe(false)
  })

  it('lanes run on worker threads give exactly the in-process result', async () => {
    const r = await samepage('run', file('tiny3.json', JSON.stringify(valid)), '--json', '--seed', '9')
    expect(r.code).toBe(0)
    const fromWorkers = JSON.parse(r.stdout)
    const engine = new Engine(parseExperiment({ ...valid, seed: 9 }))
    engine.run()
    const inProcess = engine.summary(0)
    expect({ ...fromWorkers, wall_seconds: 0 }).toEqual({ ...inProcess, wall_seconds: 0 })
  })

  it('run prints a summary table by default', async () => {
    const r = await samepage('run', file('tiny2.json', JSON.stringify(valid)), '--duration', '5')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^tiny: 5 s simulated/)
    expect(r.stdout).toMatch(/\nKSM\s+ksm\s/)
    expect(r.stdout).toMatch(/\nHint\s+hint\s/)
  })
})
