import { describe, expect, it } from 'vitest'
import { canonicalJson, hash64 } from '../src/core/sweep/hash.ts'
import { expandSweep, parseShard, presetBase, shardRuns, SweepError, type SweepPlan } from '../src/core/sweep/expand.ts'
import { getPath, parsePath, setPath } from '../src/core/sweep/paths.ts'
import { paretoFlags, stats, sweepCsv, sweepResult, type RunResult } from '../src/core/sweep/results.ts'
import { axisValues, validateSweep, type Sweep } from '../src/core/sweep/schema.ts'
import { frontierChart, metricVsAxisChart, sweepCharts } from '../src/core/sweep/charts.ts'
import { SWEEP_PRESETS } from '../src/core/sweep/presets.ts'
import type { LaneSummary } from '../src/core/experiment/engine.ts'
import { idlePairExperiment, zeroLaneSummary } from './fixtures.ts'
import { ISSUE_EXAMPLE } from './sweep-fixtures.ts'

function sweepOf(doc: unknown): Sweep {
  const v = validateSweep(doc)
  if (!v.ok) throw new Error(JSON.stringify(v.issues))
  return v.sweep
}

const tiny = idlePairExperiment({ name: 'tiny', duration_s: 10, sample_every_s: 5, memory_mib: 64 })

function plan(doc: Record<string, unknown>): SweepPlan {
  return expandSweep(sweepOf({ schema: 'samepage-lab/sweep@1', base: tiny, ...doc }), tiny)
}

function expectSweepError(f: () => unknown, path: RegExp, message: RegExp): void {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(SweepError)
    const issues = (e as SweepError).issues
    expect(issues).toHaveLength(1)
    expect(issues[0].path).toMatch(path)
    expect(issues[0].message).toMatch(message)
    return
  }
  throw new Error('expected a SweepError')
}

describe('field paths', () => {
  it('parses names, [*], [index] and [name] (quoted or not)', () => {
    const p = parsePath('lanes[KSM isolated].scanner.pages_to_scan')
    expect(p).toEqual({ ok: true, steps: [{ key: 'lanes', select: { name: 'KSM isolated' } }, { key: 'scanner' }, { key: 'pages_to_scan' }] })
    expect(parsePath('vms[*].memory_mib')).toMatchObject({ ok: true, steps: [{ key: 'vms', select: { all: true } }, { key: 'memory_mib' }] })
    expect(parsePath('vms[1].memory_mib')).toMatchObject({ ok: true, steps: [{ key: 'vms', select: { index: 1 } }, {}] })
    expect(parsePath('lanes["0"].x')).toMatchObject({ ok: true, steps: [{ select: { name: '0' } }, {}] })
    for (const bad of ['', 'a.', '.a', 'a[', 'a[]', 'a..b', 'a b']) expect(parsePath(bad).ok).toBe(false)
  })

  it('vms[*] sets every VM and lanes[Name] only the lane of that name', () => {
    const doc = structuredClone(tiny) as Record<string, unknown>
    expect(setPath(doc, 'vms[*].memory_mib', 128)).toEqual({ ok: true, exists: true })
    expect(setPath(doc, 'lanes[Hint].scanner.pages_to_scan', 7)).toEqual({ ok: true, exists: false })
    expect(getPath(doc, 'vms[1].memory_mib')).toBe(128)
    expect(getPath(doc, 'vms[0].memory_mib')).toBe(128)
    expect(getPath(doc, 'lanes[Hint].scanner.pages_to_scan')).toBe(7)
    expect(getPath(doc, 'lanes[KSM].scanner.pages_to_scan')).toBeUndefined()
  })

  it('a bracket that picks nothing names the lanes there are', () => {
    const r = setPath(structuredClone(tiny), 'lanes[XLH].scanner.pages_to_scan', 1)
    expect(r).toEqual({ ok: false, message: '"lanes[XLH]" names nothing in the base experiment (names: KSM, Hint)' })
  })
})

describe('axis values', () => {
  it('a log range keeps its ends exactly and rounds integer ranges', () => {
    const v = axisValues({ path: 'x', from: 256, to: 65536, steps: 9, scale: 'log' })
    expect(v).toEqual([256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536])
    const r = axisValues({ path: 'x', from: 100, to: 20000, steps: 7, scale: 'log' }) as number[]
    expect(r[0]).toBe(100)
    expect(r[6]).toBe(20000)
    expect(r.every(Number.isInteger)).toBe(true)
    for (let i = 1; i < r.length; i++) expect(r[i] / r[i - 1]).toBeCloseTo((20000 / 100) ** (1 / 6), 1)
  })

  it('a range with fewer integers than steps is not rounded; repeats after rounding are dropped', () => {
    expect(axisValues({ path: 'x', from: 0, to: 1, steps: 5, scale: 'linear' })).toEqual([0, 0.25, 0.5, 0.75, 1])
    expect(axisValues({ path: 'x', from: 1, to: 2, steps: 4, scale: 'linear', round: true })).toEqual([1, 2])
  })
})

describe('expanding a sweep', () => {
  it('the issue example as written: 3 points x 2 seeds, KSM pages_to_scan set, Hint and duration as set', () => {
    const p = expandSweep(sweepOf(ISSUE_EXAMPLE), presetBase('paper-fig6a'))
    expect(p.points.map((x) => x.coords)).toEqual([[50], [100], [200]])
    expect(p.runs.map((r) => [r.point, r.seed])).toEqual([
      [0, 42],
      [0, 43],
      [1, 42],
      [1, 43],
      [2, 42],
      [2, 43]
    ])
    for (const r of p.runs) {
      expect(r.config.duration_s).toBe(120)
      expect(r.config.seed).toBe(r.seed)
      expect(r.config.lanes[0].scanner.pages_to_scan).toBe([50, 100, 200][r.point])
      expect(r.config.lanes[1].scanner.pages_to_scan).toBe(100)
    }
    expect(new Set(p.runs.map((r) => r.hash)).size).toBe(6)
  })

  it('axes combine as a cartesian product, the first axis slowest', () => {
    const p = plan({ axes: [{ path: 'vms[*].memory_mib', values: [64, 128] }, { path: 'lanes[*].scanner.pages_to_scan', values: [10, 20, 30] }] })
    expect(p.points.map((x) => x.coords)).toEqual([
      [64, 10],
      [64, 20],
      [64, 30],
      [128, 10],
      [128, 20],
      [128, 30]
    ])
  })

  it('a zip group varies its axes together', () => {
    const p = plan({
      axes: [
        { path: 'lanes[KSM].scanner.pages_to_scan', values: [10, 20, 30] },
        { path: 'vms[*].memory_mib', values: [64, 128] },
        { path: 'lanes[Hint].scanner.pages_to_scan', values: [11, 21, 31] }
      ],
      zip: [['lanes[KSM].scanner.pages_to_scan', 'lanes[Hint].scanner.pages_to_scan']]
    })
    expect(p.points.map((x) => x.coords)).toEqual([
      [10, 64, 11],
      [10, 128, 11],
      [20, 64, 21],
      [20, 128, 21],
      [30, 64, 31],
      [30, 128, 31]
    ])
  })

  it('seeds as a count start at the base seed', () => {
    expect(plan({ seeds: 3 }).seeds).toEqual([42, 43, 44])
    expect(plan({}).runs).toHaveLength(1)
  })

  it('the run hash depends on the resolved config, not on key order or how a value was reached', () => {
    const a = plan({ axes: [{ path: 'vms[*].memory_mib', values: [128] }] })
    const b = plan({ set: { 'vms[0].memory_mib': 128, 'vms[1].memory_mib': 128 } })
    expect(a.runs[0].hash).toBe(b.runs[0].hash)
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}')
    expect(hash64('x')).toMatch(/^[0-9a-f]{16}$/)
    expect(hash64('x')).not.toBe(hash64('y'))
    // A changed seed or knob changes the hash.
    expect(plan({ seeds: [1] }).runs[0].hash).not.toBe(plan({ seeds: [2] }).runs[0].hash)
  })

  it('an axis path that names nothing is one issue naming the axis', () => {
    expectSweepError(() => plan({ axes: [{ path: 'lanes[XLH].scanner.pages_to_scan', values: [1] }] }), /^axes\[0\]\.path$/, /lanes\[XLH\].*names nothing/)
    expectSweepError(() => plan({ axes: [{ path: 'lanes[KSM].scanner.no_such_knob', values: [1] }] }), /^axes\[0\]\.path$/, /no_such_knob.*names nothing/)
    expectSweepError(() => plan({ axes: [{ path: 'host.nope.x', values: [1] }] }), /^axes\[0\]\.path$/, /host\.nope.*names nothing/)
  })

  it('a value the experiment schema refuses is reported with the point and the field', () => {
    expectSweepError(() => plan({ axes: [{ path: 'lanes[KSM].scanner.pages_to_scan', values: [100, 0] }] }), /^point 1 \(lanes\[KSM\]\.scanner\.pages_to_scan=0\)$/, /^lanes\[0\]\.scanner\.pages_to_scan: /)
  })

  it('an empty product is refused when the sweep is read', () => {
    const v = validateSweep({ schema: 'samepage-lab/sweep@1', base: 'x', axes: [{ path: 'seed', values: [] }] })
    expect(v).toMatchObject({ ok: false, issues: [{ path: 'axes[0].values', message: expect.stringMatching(/no points/) }] })
    const r = validateSweep({ schema: 'samepage-lab/sweep@1', base: 'x', axes: [{ path: 'seed', from: 1, to: 2, steps: 0 }] })
    expect(r).toMatchObject({ ok: false, issues: [{ path: 'axes[0].steps', message: expect.stringMatching(/no points/) }] })
  })

  it('unknown metrics and zip groups of unequal axes are refused by field path', () => {
    expect(validateSweep({ schema: 'samepage-lab/sweep@1', base: 'x', metrics: ['sharing'] })).toMatchObject({ ok: false, issues: [{ path: 'metrics[0]' }] })
    expectSweepError(
      () =>
        plan({
          axes: [
            { path: 'vms[*].memory_mib', values: [64, 128] },
            { path: 'seed', values: [1, 2, 3] }
          ],
          zip: [['vms[*].memory_mib', 'seed']]
        }),
      /^zip\[0\]$/,
      /equally many/
    )
  })

  it('an axis that changes nothing is refused rather than running the same point twice', () => {
    expectSweepError(() => plan({ axes: [{ path: 'description', values: ['a', 'a2'] }, { path: 'vms[0].memory_mib', values: [64, 64] }] }), /^point 1/, /same experiment/)
  })

  it('shards take every N-th run and together hold each run once', () => {
    const p = plan({ axes: [{ path: 'vms[*].memory_mib', values: [64, 96, 128] }], seeds: 3 })
    const shards = [0, 1, 2, 3].map((i) => shardRuns(p, { index: i, count: 4 }).map((r) => r.index))
    expect(shards.flat().sort((a, b) => a - b)).toEqual(p.runs.map((r) => r.index))
    expect(shards[1]).toEqual([1, 5])
    expect(parseShard('3/4')).toEqual({ ok: true, index: 3, count: 4 })
    expect(parseShard('4/4')).toMatchObject({ ok: false, message: expect.stringMatching(/out of range \(shards are 0 to 3\)/) })
    expect(parseShard('x')).toMatchObject({ ok: false })
  })

  it('the presets expand to valid plans of the documented size', () => {
    const sizes = Object.fromEntries(SWEEP_PRESETS.map((p) => [p.name, expandSweep(sweepOf(p.sweep), presetBase(String(p.sweep.base))).runs.length]))
    expect(sizes).toEqual({ 'sweep-scan-rate': 21, 'sweep-hint-stack': 18 })
  })
})

function laneSummary(name: string, scanner: string, cpu: number, saved: number, sharing: number): LaneSummary {
  return zeroLaneSummary(name, scanner, {
    sharing_ratio: { mean: sharing, max: sharing, final: sharing },
    saved_mib: { mean: saved, max: saved, final: saved },
    cpu_percent: { mean: cpu, max: cpu }
  })
}

describe('sweep results', () => {
  it('the Pareto flags keep exactly the points no other beats on both CPU and memory', () => {
    const items = [
      { cost: 1, benefit: 10 },
      { cost: 2, benefit: 5 }, // dominated by the first
      { cost: 3, benefit: 20 },
      { cost: 3, benefit: 15 }, // same cost, less memory
      { cost: 0.5, benefit: 1 },
      { cost: 4, benefit: 20 } // more CPU for the same memory
    ]
    expect(paretoFlags(items)).toEqual([true, false, true, false, true, false])
  })

  it('statistics over seeds: mean, sample standard deviation, min, max', () => {
    expect(stats([1, 2, 3, 6])).toEqual({ mean: 3, sd: Math.round(Math.sqrt(14 / 3) * 1e6) / 1e6, min: 1, max: 6, n: 4 })
    expect(stats([5])).toEqual({ mean: 5, sd: 0, min: 5, max: 5, n: 1 })
    expect(stats([])).toBeNull()
  })

  it('sweep.csv has a row per point x lane x seed, axis columns by path, metric columns as written, and an empty cell for no value', () => {
    const p = plan({ axes: [{ path: 'vms[*].memory_mib', values: [64, 128] }], seeds: [1, 2], metrics: ['sharing_ratio.mean', 'cpu_ns_per_shared_page'] })
    const results = new Map<string, RunResult>(p.runs.map((r, i) => [r.hash, { hash: r.hash, lanes: [laneSummary('KSM', 'ksm', 1, 2, i / 10), laneSummary('Hint', 'hint', 1, 2, 0.5)] }]))
    const csv = sweepCsv(p, results).trim().split('\n')
    expect(csv[0]).toBe('point,lane,seed,vms[*].memory_mib,sharing_ratio.mean,cpu_ns_per_shared_page')
    expect(csv).toHaveLength(1 + 2 * 2 * 2)
    expect(csv[1]).toBe('0,KSM,1,64,0,')
    expect(csv[8]).toBe('1,Hint,2,128,0.5,')
  })

  it('sweep.json aggregates over seeds per point and lane, lists missing runs, and marks the frontier', () => {
    const p = plan({ axes: [{ path: 'lanes[KSM].scanner.pages_to_scan', values: [10, 20] }], seeds: [1, 2], metrics: ['sharing_ratio.mean'] })
    const results = new Map<string, RunResult>()
    // Point 0: KSM cheap and poor; point 1: KSM dearer and better; Hint beats both.
    results.set(p.runs[0].hash, { hash: p.runs[0].hash, lanes: [laneSummary('KSM', 'ksm', 1, 10, 0.1), laneSummary('Hint', 'hint', 0.5, 50, 0.5)] })
    results.set(p.runs[1].hash, { hash: p.runs[1].hash, lanes: [laneSummary('KSM', 'ksm', 3, 30, 0.3), laneSummary('Hint', 'hint', 0.5, 50, 0.5)] })
    results.set(p.runs[2].hash, { hash: p.runs[2].hash, lanes: [laneSummary('KSM', 'ksm', 4, 60, 0.6), laneSummary('Hint', 'hint', 0.5, 50, 0.5)] })
    const r = sweepResult(p, results)
    expect(r.runs_done).toBe(3)
    expect(r.missing).toEqual([{ point: 1, seed: 2, hash: p.runs[3].hash }])
    expect(r.points[0].lanes[0]).toMatchObject({ lane: 'KSM', seeds: 2, cpu_percent: 2, saved_mib: 20, metrics: { 'sharing_ratio.mean': { mean: 0.2, min: 0.1, max: 0.3, n: 2 } } })
    expect(r.points[1].lanes[0]).toMatchObject({ seeds: 1, cpu_percent: 4, saved_mib: 60, pareto: true })
    expect(r.points[0].lanes[0].pareto).toBe(false)
    expect(r.points[0].lanes[1].pareto).toBe(true)
    expect(r.frontier.filter((f) => f.pareto).map((f) => [f.point, f.lane])).toEqual([
      [0, 'Hint'],
      [1, 'KSM']
    ])
    // The same runs in another order (another shard finished first) give the same document.
    const reversed = new Map([...results].reverse())
    expect(JSON.stringify(sweepResult(p, reversed))).toBe(JSON.stringify(r))
  })

  it('the charts: per lane a band dataset pair and a mean line on a log axis for a log range; the frontier joins the Pareto points', () => {
    const p = plan({ axes: [{ path: 'lanes[KSM].scanner.pages_to_scan', from: 10, to: 1000, steps: 3, scale: 'log' }], seeds: [1, 2], metrics: ['sharing_ratio.mean'] })
    const results = new Map<string, RunResult>(p.runs.map((r, i) => [r.hash, { hash: r.hash, lanes: [laneSummary('KSM', 'ksm', r.point + 1, 10 * r.point, 0.1 * i), laneSummary('Hint', 'hint', 0.5, 5, 0.4)] }]))
    const result = sweepResult(p, results)
    const c = metricVsAxisChart(result, 'sharing_ratio.mean', 0, { responsive: false })
    expect(c.options?.scales?.x?.type).toBe('logarithmic')
    const ds = c.data.datasets
    expect(ds).toHaveLength(6)
    expect(ds[1].fill).toBe('-1')
    expect(ds[2].label).toBe('KSM')
    expect(ds[2].data).toEqual([
      { x: 10, y: 0.05 },
      { x: 100, y: 0.25 },
      { x: 1000, y: 0.45 }
    ])
    expect(ds[0].data.map((d) => d.y)).toEqual([0, 0.2, 0.4])
    expect(ds[1].data.map((d) => d.y)).toEqual([0.1, 0.3, 0.5])
    const f = frontierChart(result)
    const line = f.data.datasets.at(-1)!
    expect(line.label).toBe('Pareto frontier')
    expect(line.data).toEqual([
      { x: 0.5, y: 5 },
      { x: 2, y: 10 },
      { x: 3, y: 20 }
    ])
    expect(sweepCharts(result).map(([n]) => n)).toEqual(['sharing_ratio-mean-vs-lanes-KSM-scanner-pages_to_scan', 'frontier'])
  })
})
