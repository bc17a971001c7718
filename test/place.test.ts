// Memory Buddies (VEE 2009) placement: Bloom-filter fingerprints of each VM's memory estimate the
// sharing of any group of VMs; sharing-aware placement against a sharing-blind first-fit; the
// estimate checked against exact counts; each host of the placement an experiment of its own.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { validateExperiment } from '../src/core/experiment/config.ts'
import { Bloom, bloomSize, validatePlacement, type PlacementInput, type PlacementReport } from '../src/core/analysis/placement.ts'
import { Rng } from '../src/core/machine/rng.ts'

const exec = promisify(execFile)
const BIN = join(import.meta.dirname, '..', 'bin', 'samepage.js')
const dir = mkdtempSync(join(tmpdir(), 'samepage-place-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function samepage(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

/** Four booted 128 MiB VMs, two images interleaved (A B A B), on hosts of 300 MiB. */
const PLAN: PlacementInput = {
  schema: 'samepage-lab/placement@1',
  name: 'two-images',
  hosts: [{ name: 'h', memory_mib: 300, cores: 4, count: 4 }],
  vms: ['debian-7', 'centos-6', 'debian-7', 'centos-6'].map((image, i) => ({ name: `vm${i}`, memory_mib: 128, image: image as 'debian-7', workload: { kind: 'boot' } })),
  run: { duration_s: 10, lanes: [{ name: 'KSM', scanner: { kind: 'ksm', pages_per_s: 20000 } }] }
}

describe('Memory Buddies fingerprints', () => {
  it('a Bloom filter sized for n pages at 1 % false positives estimates distinct pages within 1 %, also OR-ed past n', () => {
    const { bits, k } = bloomSize(50_000, 0.01)
    expect(k).toBe(7)
    expect(bits / 50_000).toBeCloseTo(9.59, 1)
    const r = new Rng(3, 1)
    const a = new Bloom(bits, k)
    const b = new Bloom(bits, k)
    const shared = Array.from({ length: 20_000 }, () => [r.u32(), r.u32()])
    for (const [hi, lo] of shared) {
      a.add(hi, lo)
      b.add(hi, lo)
    }
    for (let i = 0; i < 30_000; i++) a.add(r.u32(), r.u32())
    for (let i = 0; i < 30_000; i++) b.add(r.u32(), r.u32())
    expect(Math.abs(a.estimate() - 50_000) / 50_000).toBeLessThan(0.01)
    // Union 80,000 (past the filter's n): the shared 20,000 come out within 5 %.
    const sharedEst = a.estimate() + b.estimate() - a.or(b).estimate()
    expect(Math.abs(sharedEst - 20_000) / 20_000).toBeLessThan(0.05)
  })

  it('a bad plan is refused naming the field', () => {
    const r = validatePlacement({ ...PLAN, hosts: [{ name: 'h', memory_mib: 'lots', cores: 4 }] })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues[0].path).toBe('hosts[0].memory_mib')
  })
})

describe('samepage place', () => {
  it('puts VMs of one image together, saving more than first-fit on no more hosts; the estimate is within 2 % of exact counts', async () => {
    const plan = join(dir, 'plan.json')
    writeFileSync(plan, JSON.stringify(PLAN))
    const out = join(dir, 'out')
    const r = await samepage('place', plan, '--json', '--out', out, '--run')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const rep = JSON.parse(r.stdout) as PlacementReport & { runs: { host: string; saved_mib_exact: number; lanes: { saved_mib_final: number }[] }[] }
    const aware = rep.sharing_aware
    const blind = rep.first_fit
    // First-fit: A+B per host (a third VM never fits in 300 MiB without sharing).
    expect(blind.hosts.map((h) => h.vms)).toEqual([
      ['vm0', 'vm1'],
      ['vm2', 'vm3']
    ])
    expect(aware.hosts_needed).toBeLessThanOrEqual(blind.hosts_needed)
    expect(aware.saved_mib_exact as number).toBeGreaterThan(blind.saved_mib_exact as number)
    // Same-image VMs end up on one host.
    const hostOf = (vm: string) => aware.hosts.findIndex((h) => h.vms.includes(vm))
    expect(hostOf('vm0')).toBe(hostOf('vm2'))
    for (const h of [...aware.hosts, ...blind.hosts]) {
      expect(h.memory_needed_mib - h.saved_mib_exact!).toBeLessThanOrEqual(300)
      if (h.estimate_error !== null) expect(Math.abs(h.estimate_error)).toBeLessThan(0.02)
    }
    // Each host ran as its own experiment; KSM converged at warm-up shares close to the exact count.
    expect(rep.runs).toHaveLength(aware.hosts_needed)
    for (const run of rep.runs) expect(run.lanes[0].saved_mib_final).toBeGreaterThan(0.5 * run.saved_mib_exact)
    // --out: the report and one experiment file per host, each a valid experiment.
    const files = readdirSync(out).filter((f) => !f.startsWith('.'))
    expect(files).toContain('placement.json')
    const hostFiles = files.filter((f) => f.startsWith('host-'))
    expect(hostFiles).toHaveLength(aware.hosts_needed)
    for (const f of hostFiles) expect(validateExperiment(JSON.parse(readFileSync(join(out, f), 'utf8'))).ok).toBe(true)
  }, 300_000)

  it('a plan with a bad field exits 2 with one line naming it', async () => {
    const plan = join(dir, 'bad.json')
    writeFileSync(plan, JSON.stringify({ ...PLAN, overcommit: { memory: -1 } }))
    const r = await samepage('place', plan)
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/overcommit\.memory/)
  })
})
