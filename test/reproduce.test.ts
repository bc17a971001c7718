import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { fitProfile, modelCpuPercent, OP_NAMES } from '../src/core/analysis/calibrate.ts'
import { XEON_X5560_PRIOR, type OpName } from '../src/core/machine/cost.ts'
import { fig6Metrics, planJobs, type JobResult } from '../src/core/analysis/reproduce.ts'

const run = promisify(execFile)
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')

describe('reproducing the paper', () => {
  it('plans three rates per seed for Figure 6 and Table 1, and one run per other figure', () => {
    const jobs = planJobs({ parts: ['fig1', 'fig2', 'fig6', 'table1'], seeds: [1, 2, 3], quick: false })
    expect(jobs.filter((j) => j.preset.startsWith('paper-fig6'))).toHaveLength(9)
    expect(jobs.map((j) => j.preset)).toEqual(expect.arrayContaining(['paper-fig1', 'paper-fig1-cpu', 'paper-fig2']))
  })

  it("computes Figure 6's quantities in the paper's words", () => {
    const series = (scanner: string, sharing: number[]) => ({ name: scanner, scanner, t: sharing.map((_, i) => i * 10), sharing, cpu: sharing.map(() => 0), ops: {} as Record<OpName, number> })
    const r = {
      job: { id: 'x', preset: 'paper-fig6b', seed: 1 },
      summary: { lanes: [] },
      series: [series('ksm', [0.3, 0.1, 0.1, 0.12, 0.2]), series('hint', [0.1, 0.5, 0.6, 0.6, 0.6])]
    } as unknown as JobResult
    const m = fig6Metrics(r)
    expect(m.rate).toBe(1000)
    expect(m.maxRatio).toBeCloseTo(6)
    expect(m.ksmAheadAtZero).toBe(true)
    expect(m.ksmFirstDropS).toBe(10)
    expect(m.ksmRecovers).toBe(false)
  })

  it('the cost fit recovers a profile from the operation counts it produced', () => {
    // Make targets from a known profile, then fit from the prior: the fit must land near it.
    const truth = { ...XEON_X5560_PRIOR, merge_ns: 9000, page_visit_ns: 900, checksum_ns: 1000 }
    const mk = (label: string, ops: Partial<Record<OpName, number>>) => {
      const full = Object.fromEntries(OP_NAMES.map((k) => [k, ops[k] ?? 0])) as Record<OpName, number>
      return { label, opsPerSecond: full, cpuPercent: modelCpuPercent(truth, full) }
    }
    const targets = [
      mk('a', { page_visit: 5000, checksum: 3000, tree_step: 100000, merge: 400, wakeup: 50 }),
      mk('b', { page_visit: 1000, checksum: 800, tree_step: 16000, merge: 20, wakeup: 50 }),
      mk('c', { page_visit: 900, checksum: 850, tree_step: 15000, merge: 800, hash_lookup: 850, wakeup: 40 }),
      mk('d', { page_visit: 500, checksum: 400, tree_step: 8000, merge: 10, wakeup: 50 })
    ]
    const fit = fitProfile(XEON_X5560_PRIOR, targets, 0.01)
    for (const r of fit.rows) expect(r.ratio).toBeCloseTo(1, 2)
  })

  it('samepage reproduce --quick prints the tables and writes figures, CSVs and reproduce.json', async () => {
    const out = mkdtempSync(join(tmpdir(), 'samepage-repro-'))
    const r = await run(process.execPath, [BIN, 'reproduce', '--quick', '--only', 'fig2,table1', '--out', out], { maxBuffer: 16 * 1024 * 1024 })
    expect(r.stdout).toMatch(/QUICK mode/)
    expect(r.stdout).toMatch(/Table 1: mean scanner CPU %/)
    expect(r.stdout).toMatch(/Figure 2: pages allocated and shareable/)
    const files = readdirSync(out).sort()
    expect(files).toEqual(expect.arrayContaining(['reproduce.json', 'table1.csv', 'fig2.csv', 'fig2.png']))
    const rep = JSON.parse(readFileSync(join(out, 'reproduce.json'), 'utf8'))
    expect(rep.table1.rows).toHaveLength(6)
    // Figure 2 holds after boot whatever the run length: it is a snapshot at t = 0.
    for (const row of rep.fig2.rows) expect(row.ok, row.type).toBe(true)
  }, 180_000)

  it('rejects an unknown part', async () => {
    const r = await run(process.execPath, [BIN, 'reproduce', '--only', 'fig9']).catch((e: { code: number; stderr: string }) => e)
    expect((r as { code: number }).code).toBe(2)
    expect((r as { stderr: string }).stderr.trim()).toMatch(/^samepage: --only: unknown part "fig9"/)
  })
})
