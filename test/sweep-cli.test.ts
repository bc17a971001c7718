// `samepage sweep` as separate processes: the run, its cache and resume, shards started the way
// docs/examples' Slurm array and Kubernetes Indexed Job start them, merge, and bad input.
import { execFile, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { idlePairExperiment } from './fixtures.ts'
import { ISSUE_EXAMPLE } from './sweep-fixtures.ts'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..')
const BIN = join(ROOT, 'bin', 'samepage.js')
const dir = mkdtempSync(join(tmpdir(), 'samepage-sweep-'))

interface Result {
  code: number
  stdout: string
  stderr: string
}

async function samepage(args: string[], env: Record<string, string> = {}): Promise<Result> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, ...env }, maxBuffer: 64 << 20 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

/** A shell command as a cluster runs it, with `samepage` on PATH. */
async function shell(file: string, command: string[], env: Record<string, string>): Promise<Result> {
  try {
    const r = await run(file, command, { cwd: dir, env: { ...process.env, PATH: `${shim}:${process.env.PATH}`, ...env }, maxBuffer: 64 << 20 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

const shim = join(dir, 'bin')

function file(name: string, doc: unknown): string {
  const p = join(dir, name)
  writeFileSync(p, JSON.stringify(doc))
  return p
}

// Idle VMs of 64 MiB or less never finish booting (seen 2026-12-01; reported), so 128 MiB.
const tiny = idlePairExperiment({ name: 'tiny', duration_s: 4, sample_every_s: 2, memory_mib: 128 })
/** 2 points x 2 seeds, 2 lanes: 8 lane tasks of about a second each. */
const SMALL = {
  schema: 'samepage-lab/sweep@1',
  base: 'tiny.samepage.json',
  axes: [{ path: 'vms[*].memory_mib', values: [128, 160] }],
  seeds: [1, 2],
  metrics: ['sharing_ratio.mean', 'saved_mib.mean', 'cpu_percent.mean']
}

function expectBadInput(r: Result, pattern: RegExp): void {
  expect(r.code).toBe(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

function snapshot(folder: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      if (statSync(p).isDirectory()) walk(p)
      else out[p.slice(folder.length)] = readFileSync(p, 'latin1')
    }
  }
  walk(folder)
  return out
}

let unsharded = ''

describe('samepage sweep', () => {
  beforeAll(async () => {
    mkdirSync(shim, { recursive: true })
    writeFileSync(join(shim, 'samepage'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
    chmodSync(join(shim, 'samepage'), 0o755)
    file('tiny.samepage.json', tiny)
    file('small.sweep.json', SMALL)
    unsharded = join(dir, 'whole')
    const r = await samepage(['sweep', 'small.sweep.json', '--out', unsharded, '--jobs', '2'])
    expect(r.code, r.stderr).toBe(0)
    // Off a terminal (a cluster's log), progress is a line at most every 10 s.
    for (const line of r.stderr.trim().split('\n').filter(Boolean)) expect(line).toMatch(/^tiny \[[#.]+\] \d\/4 points, 0 failed, ETA /)
  }, 180_000)

  it('writes sweep.csv, sweep.json, one chart per metric and axis plus the frontier, and a folder per run', () => {
    const names = readdirSync(unsharded).sort()
    expect(names).toEqual(
      ['cpu_percent-mean-vs-vms-memory_mib.png', 'frontier.png', 'points', 'saved_mib-mean-vs-vms-memory_mib.png', 'sharing_ratio-mean-vs-vms-memory_mib.png', 'sweep.csv', 'sweep.file.json', 'sweep.json'].sort()
    )
    const csv = readFileSync(join(unsharded, 'sweep.csv'), 'utf8').trim().split('\n')
    expect(csv[0]).toBe('point,lane,seed,vms[*].memory_mib,sharing_ratio.mean,saved_mib.mean,cpu_percent.mean')
    expect(csv).toHaveLength(1 + 2 * 2 * 2)
    const json = JSON.parse(readFileSync(join(unsharded, 'sweep.json'), 'utf8'))
    expect(json).toMatchObject({ schema: 'samepage-lab/sweep-result@1', runs_total: 4, runs_done: 4, missing: [] })
    expect(json.points[1].lanes[0].metrics['saved_mib.mean'].n).toBe(2)
    const points = readdirSync(join(unsharded, 'points'))
    expect(points).toHaveLength(4)
    for (const p of points) expect(readdirSync(join(unsharded, 'points', p)).sort()).toEqual(['.samepage-result', 'config.json', 'series.csv', 'summary.json'])
    const png = readFileSync(join(unsharded, 'frontier.png'))
    // PNG at 2x: 1800 x 1000 pixels (IHDR width and height).
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1800, 1000])
  })

  it('a run of the same command again runs nothing and gives the same files; a removed point is run again alone', async () => {
    const before = snapshot(unsharded)
    const again = await samepage(['sweep', 'small.sweep.json', '--out', unsharded])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/4\/4 runs \(4 cached, 0 run now, 0 failed\)/)
    const victim = readdirSync(join(unsharded, 'points'))[0]
    rmSync(join(unsharded, 'points', victim), { recursive: true })
    const third = await samepage(['sweep', 'small.sweep.json', '--out', unsharded])
    expect(third.stdout).toMatch(/4\/4 runs \(3 cached, 1 run now, 0 failed\)/)
    const after = snapshot(unsharded)
    // Every output is the same bytes, but the summary's wall time in the point that ran again.
    for (const k of Object.keys(before)) if (!k.endsWith('summary.json')) expect(after[k], k).toBe(before[k])
  }, 120_000)

  it('a sweep killed while running resumes from the points it finished', async () => {
    const out = join(dir, 'killed')
    const doc = file('longer.sweep.json', { ...SMALL, axes: [{ path: 'vms[*].memory_mib', values: [128, 144] }], seeds: [1, 2, 3] })
    const child = spawn(process.execPath, [BIN, 'sweep', doc, '--out', out, '--jobs', '1'], { cwd: dir, stdio: 'ignore' })
    const exited = new Promise((r) => child.on('exit', r))
    // Kill it as soon as a first point is in place.
    const t0 = Date.now()
    while (Date.now() - t0 < 90_000 && !(existsSync(join(out, 'points')) && readdirSync(join(out, 'points')).some((n) => !n.startsWith('.')))) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGKILL')
    await exited
    const kept = readdirSync(join(out, 'points')).filter((n) => !n.startsWith('.'))
    expect(kept.length).toBeGreaterThan(0)
    expect(kept.length).toBeLessThan(6)
    for (const p of kept) expect(existsSync(join(out, 'points', p, 'summary.json'))).toBe(true)
    const r = await samepage(['sweep', doc, '--out', out])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`6/6 runs (${kept.length} cached, ${6 - kept.length} run now, 0 failed)`)
    expect(readdirSync(join(out, 'points')).filter((n) => n.startsWith('.'))).toEqual([])
  }, 180_000)

  it('shards of the Slurm array example, merged, equal the unsharded sweep', async () => {
    const script = join(ROOT, 'docs', 'examples', 'sweep.sbatch')
    const text = readFileSync(script, 'utf8')
    const [, lo, hi] = /^#SBATCH --array=(\d+)-(\d+)$/m.exec(text)!
    const ids = Array.from({ length: Number(hi) - Number(lo) + 1 }, (_, i) => Number(lo) + i)
    const results = await Promise.all(ids.map((id) => shell('bash', [script], { SLURM_ARRAY_TASK_ID: String(id), SLURM_CPUS_PER_TASK: '1', SHARDS: String(ids.length), SWEEP: 'small.sweep.json', OUT: 'slurm' })))
    for (const r of results) expect(r.code, r.stderr).toBe(0)
    const merged = await samepage(['sweep', 'merge', ...ids.map((id) => `slurm/shard-${id}`), '--out', 'slurm/all'])
    expect(merged.code, merged.stderr).toBe(0)
    for (const f of ['sweep.csv', 'sweep.json']) expect(readFileSync(join(dir, 'slurm', 'all', f), 'utf8')).toBe(readFileSync(join(unsharded, f), 'utf8'))
    // Each shard alone has only its runs.
    const one = JSON.parse(readFileSync(join(dir, 'slurm', `shard-${ids[0]}`, 'sweep.json'), 'utf8'))
    expect(one.runs_done).toBeLessThan(4)
  }, 180_000)

  it('shards of the Kubernetes Indexed Job example, merged in place, equal the unsharded sweep', async () => {
    const manifest = readFileSync(join(ROOT, 'docs', 'examples', 'sweep-indexed-job.yaml'), 'utf8')
    const completions = Number(/^\s+completions: (\d+)$/m.exec(manifest)![1])
    expect(manifest).toMatch(/completionMode: Indexed/)
    const command = /^\s+- (samepage sweep .*)$/m.exec(manifest)![1]
    expect(command).toContain(`/${completions}"`)
    const results = await Promise.all(Array.from({ length: completions }, (_, i) => shell('sh', ['-c', command], { JOB_COMPLETION_INDEX: String(i), SWEEP: 'small.sweep.json', RESULTS: 'k8s' })))
    for (const r of results) expect(r.code, r.stderr).toBe(0)
    const shards = Array.from({ length: completions }, (_, i) => `k8s/shard-${i}`)
    const merged = await samepage(['sweep', 'merge', ...shards])
    expect(merged.code, merged.stderr).toBe(0)
    for (const f of ['sweep.csv', 'sweep.json']) expect(readFileSync(join(dir, 'k8s', 'shard-0', f), 'utf8')).toBe(readFileSync(join(unsharded, f), 'utf8'))
  }, 180_000)

  it('the example of the issue, as written, expands to 3 points x 2 seeds (and runs, shortened)', async () => {
    file('issue.sweep.json', ISSUE_EXAMPLE)
    const dry = await samepage(['sweep', 'issue.sweep.json', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(/^paper-fig6a: 3 points x 2 seeds = 6 runs; 0 cached; to run: 1440 simulated seconds x lanes/)
    expect(dry.stdout).toContain('lanes[KSM].scanner.pages_to_scan=200')
    // The same file with a 4 s run, so the test stays short.
    file('issue-short.sweep.json', { ...ISSUE_EXAMPLE, set: { duration_s: 4, sample_every_s: 2 }, seeds: [42] })
    const r = await samepage(['sweep', 'issue-short.sweep.json', '--out', 'issue'])
    expect(r.code, r.stderr).toBe(0)
    const csv = readFileSync(join(dir, 'issue', 'sweep.csv'), 'utf8').trim().split('\n')
    expect(csv[0]).toBe('point,lane,seed,lanes[KSM].scanner.pages_to_scan,sharing_ratio.mean,cpu_percent.mean')
    expect(csv).toHaveLength(1 + 3 * 2)
    // KSM at twice the pages per wake-up uses more CPU.
    const ksm = csv.filter((l) => l.split(',')[1] === 'KSM').map((l) => Number(l.split(',')[5]))
    expect(ksm[0]).toBeLessThan(ksm[1])
    expect(ksm[1]).toBeLessThan(ksm[2])
  }, 180_000)

  it('prints the JSON Schema of sweep files', async () => {
    const r = await samepage(['schema', '--sweep'])
    expect(r.code).toBe(0)
    const s = JSON.parse(r.stdout)
    expect(s.title).toBe('Samepage Lab sweep')
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['base', 'axes', 'seeds', 'metrics', 'zip', 'set']))
  })

  describe('bad input: one line, exit 2, earlier results kept', () => {
    it('an axis path that names nothing', async () => {
      file('bad-path.json', { ...SMALL, axes: [{ path: 'lanes[XLH].scanner.pages_to_scan', values: [1] }] })
      expectBadInput(await samepage(['sweep', 'bad-path.json', '--out', unsharded]), /^samepage: sweep: axes\[0\]\.path: "lanes\[XLH\]" names nothing in the base experiment \(names: KSM, Hint\)$/)
    })

    it('a value the experiment schema refuses, with the point and the field', async () => {
      file('bad-value.json', { ...SMALL, axes: [{ path: 'vms[*].memory_mib', values: [128, 8] }] })
      expectBadInput(await samepage(['sweep', 'bad-value.json', '--out', unsharded]), /^samepage: sweep: point 1 \(vms\[\*\]\.memory_mib=8\): vms\[0\]\.memory_mib: /)
    })

    it('an empty product', async () => {
      file('bad-empty.json', { ...SMALL, axes: [{ path: 'vms[*].memory_mib', values: [] }] })
      expectBadInput(await samepage(['sweep', 'bad-empty.json']), /^samepage: sweep: axes\[0\]\.values: is empty, so the product of the axes has no points$/)
    })

    it('a shard out of range', async () => {
      expectBadInput(await samepage(['sweep', 'small.sweep.json', '--shard', '4/4']), /^samepage: --shard: "4\/4": shard 4 is out of range \(shards are 0 to 3\)$/)
    })

    it('an --out folder that holds another sweep, and merging folders of two sweeps', async () => {
      const before = snapshot(unsharded)
      file('other.sweep.json', { ...SMALL, seeds: [7] })
      expectBadInput(await samepage(['sweep', 'other.sweep.json', '--out', unsharded]), /^samepage: --out: ".*whole" holds the results of another sweep/)
      const other = await samepage(['sweep', 'other.sweep.json', '--out', 'other'])
      expect(other.code).toBe(0)
      expectBadInput(await samepage(['sweep', 'merge', unsharded, 'other']), /^samepage: sweep merge: "other" holds another sweep than ".*whole" \(ids [0-9a-f]{16} and [0-9a-f]{16}\); only shards of one sweep can be merged$/)
      expect(snapshot(unsharded)).toEqual(before)
    })

    it('an unknown sweep preset, a missing file and a bad --jobs', async () => {
      expectBadInput(await samepage(['sweep', 'no-such-sweep']), /^samepage: unknown sweep preset "no-such-sweep"/)
      expectBadInput(await samepage(['sweep', 'missing.json']), /^samepage: cannot read sweep file "missing.json": no such file$/)
      expectBadInput(await samepage(['sweep', 'small.sweep.json', '--jobs', '0']), /^samepage: --jobs: "0" is not an integer from 1 to 1024$/)
    })
  })
})
