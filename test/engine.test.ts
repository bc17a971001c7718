import { describe, expect, it } from 'vitest'
import { parseExperiment, type ExperimentInput } from '../src/core/experiment/config.ts'
import { Engine, seriesCsv, type Summary } from '../src/core/experiment/engine.ts'
import { findPreset } from '../src/core/experiment/presets.ts'

function shortFig6b(seed: number, duration = 60): ExperimentInput {
  const p = findPreset('paper-fig6b')
  if (!p) throw new Error('preset missing')
  return { ...p.config, seed, duration_s: duration }
}

function run(input: ExperimentInput): { summary: Summary; csv: string; engine: Engine } {
  const engine = new Engine(parseExperiment(input))
  engine.run()
  const summary = engine.summary(0)
  const csv = seriesCsv(engine.lanes.map((l) => ({ name: l.cfg.name, series: l.series })))
  return { summary, csv, engine }
}

describe('engine', () => {
  it('the same config and seed give identical summaries and series', () => {
    const a = run(shortFig6b(7))
    const b = run(shortFig6b(7))
    expect(JSON.stringify(b.summary)).toBe(JSON.stringify(a.summary))
    expect(b.csv).toBe(a.csv)
  })

  it('another seed gives a different result', () => {
    const a = run(shortFig6b(7))
    const c = run(shortFig6b(8))
    expect(JSON.stringify(c.summary)).not.toBe(JSON.stringify(a.summary))
  })

  it('lanes that differ only by scanner see the same guest events', () => {
    // A build that finishes well within the run: once every lane's guests are done, their
    // memory must hold the same bytes page for page, whatever each scanner merged on the way.
    const input = shortFig6b(3, 90)
    input.vms = input.vms.map((v) => ({ ...v, workload: { kind: 'kernel-build' as const, units: 25, unit_cpu_s: 0.5 } }))
    const { engine, summary } = run(input)
    for (const l of summary.lanes) for (const d of l.workload_done_s) expect(d).not.toBeNull()
    const [ksm, hint] = engine.lanes
    expect(hint.stable.pages_sharing).toBeGreaterThan(0)
    const a = new Uint32Array(2)
    const b = new Uint32Array(2)
    let differ = 0
    for (let gp = 0; gp < ksm.totalPages; gp++) {
      ksm.mem.read(gp, a)
      hint.mem.read(gp, b)
      if (a[0] !== b[0] || a[1] !== b[1]) differ++
    }
    expect(differ).toBe(0)
    for (let v = 0; v < ksm.vms.length; v++) {
      expect(Buffer.from(hint.vms[v].guest.type).equals(Buffer.from(ksm.vms[v].guest.type))).toBe(true)
    }
    // ... while their pace differed: the hint lane's guests paid for their hypercalls.
    expect(summary.lanes[1].workload_done_s[0]).not.toBe(summary.lanes[0].workload_done_s[0])
  })

  it('samples every sample_every_s and reports the summary fields other tools read', () => {
    const { summary, csv, engine: e } = run(shortFig6b(1, 50))
    expect(summary.schema).toBe('samepage-lab/summary@1')
    expect(summary.sim_seconds).toBe(50)
    expect(summary.total_guest_pages).toBe(2 * 512 * 256)
    expect(summary.lanes.map((l) => l.name)).toEqual(['KSM', 'Hint'])
    for (const l of summary.lanes) {
      expect(l.sharing_ratio.max).toBeGreaterThanOrEqual(l.sharing_ratio.mean)
      expect(l.sharing_ratio.max).toBeLessThanOrEqual(1)
      // saved_mib is the mappings' truth; sysfs pages_sharing lags it by the records not yet revisited.
      const lane = e.lanes.find((x) => x.cfg.name === l.name)
      expect(l.saved_mib.final).toBeCloseTo((lane?.stable.savedPages ?? NaN) / 256, 6)
      expect(l.pages_sharing).toBeGreaterThanOrEqual(l.saved_mib.final * 256)
      expect(l.cpu_percent.mean).toBeGreaterThan(0)
    }
    const lines = csv.trim().split('\n')
    expect(lines[0].startsWith('lane,t_s,sharing_ratio,saved_mib,cpu_percent,pages_shared,pages_sharing,pages_unshared,pages_volatile,full_scans')).toBe(true)
    expect(lines).toHaveLength(1 + 2 * 6) // t = 0, 10, ..., 50 per lane
    expect(lines[1].split(',')[1]).toBe('0')
    expect(lines[2].split(',')[1]).toBe('10')
  })

  it('KSM at 5000 pages/s shares the booted guests before the hint lane does', () => {
    const p = findPreset('paper-fig6a')
    if (!p) throw new Error('preset missing')
    const { summary } = run({ ...p.config, duration_s: 10 })
    const [ksm, hint] = summary.lanes
    // KSM also merges heap, stack and kernel pages that no hint ever names (paper, section 5).
    expect(ksm.sharing_ratio.final).toBeGreaterThan(hint.sharing_ratio.final)
    expect(hint.hints.pushed).toBeGreaterThan(0)
    expect(ksm.hints.pushed).toBe(0)
    expect(hint.vm_exits).toBeGreaterThan(0)
    expect(ksm.vm_exits).toBe(0)
  })

  it('a saturated host slows its workloads: CPU contention lengthens a micro-benchmark', () => {
    const cfg = (cores: number): ExperimentInput => ({
      schema: 'samepage-lab/experiment@1',
      name: 'contention',
      duration_s: 60,
      sample_every_s: 5,
      host: { cpu_profile: 'xeon-x5560', cores },
      warmup: { boot: true, share: false },
      vms: [0, 1].map((i) => ({ name: `vm${i}`, memory_mib: 256, workload: { kind: 'cpu-micro' as const, work_s: 20 } })),
      lanes: [{ name: 'KSM', scanner: { kind: 'ksm' as const } }]
    })
    const roomy = run(cfg(4)).summary.lanes[0].workload_done_s
    const tight = run(cfg(1)).summary.lanes[0].workload_done_s
    expect(roomy[0]).not.toBeNull()
    expect(tight[0]).not.toBeNull()
    // Two busy vCPUs on one core take about twice as long.
    expect(tight[0] as number).toBeGreaterThan(1.8 * (roomy[0] as number))
  })
})
