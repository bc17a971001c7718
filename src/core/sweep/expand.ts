/**
 * Expanding a sweep into its runs: the base experiment with `set` applied, then every point of
 * the axes' product (zip groups vary together), each validated as an experiment, times every
 * seed. Each run is named by the hash of its resolved config (seed included), which is what
 * the cache, resume, shards and merge go by. Pure: the host loads a base named by a file.
 */
import { overrideDuration, validateExperiment, type ConfigIssue, type Experiment } from '../experiment/config.ts'
import { findPreset } from '../experiment/presets.ts'
import { canonicalJson, hash64 } from './hash.ts'
import { setPath } from './paths.ts'
import { axisScale, axisValues, MAX_SWEEP_RUNS, type Sweep, type SweepMetric } from './schema.ts'

export interface PlanAxis {
  path: string
  values: unknown[]
  scale: 'linear' | 'log'
}

export interface PlanPoint {
  index: number
  /** The value of each axis at this point, in the order of `axes`. */
  coords: unknown[]
}

export interface PlanRun {
  /** Position in the sweep's run order (points in order, seeds within a point). */
  index: number
  point: number
  seed: number
  /** hash64 of the canonical JSON of `config`: the run's folder under points/. */
  hash: string
  config: Experiment
}

export interface SweepPlan {
  /** Names the sweep: the axes, the metrics and every run's hash. Shards of one sweep share it. */
  id: string
  name: string
  axes: PlanAxis[]
  metrics: SweepMetric[]
  seeds: number[]
  points: PlanPoint[]
  runs: PlanRun[]
}

export class SweepError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('\n'))
    this.name = 'SweepError'
  }
}

/** The base document a string names, for hosts without files (a preset), or undefined. */
export function presetBase(name: string): unknown {
  const p = findPreset(name)
  return p ? structuredClone(p.config) : undefined
}

function fail(path: string, message: string): never {
  throw new SweepError([{ path, message }])
}

function apply(doc: Record<string, unknown>, path: string, value: unknown, where: string): void {
  if (path === 'duration_s' && typeof value === 'number' && value > 0) {
    overrideDuration(doc, value)
    return
  }
  if (path === 'schema') fail(where, 'the schema id cannot be swept')
  const r = setPath(doc, path, value)
  if (!r.ok) fail(where, r.message)
}

function describe(axes: PlanAxis[], coords: unknown[]): string {
  return axes.map((a, i) => `${a.path}=${JSON.stringify(coords[i])}`).join(', ')
}

/**
 * The points of the axes in order: the first dimension varies slowest. A zip group is one
 * dimension whose axes must have equally many values.
 */
function product(sweep: Sweep, axes: PlanAxis[]): unknown[][] {
  const groupOf = new Map<string, number>()
  sweep.zip.forEach((g, gi) => g.forEach((p) => groupOf.set(p, gi)))
  const dims: number[][] = [] // axis indexes per dimension
  const dimOfGroup = new Map<number, number>()
  axes.forEach((a, i) => {
    const g = groupOf.get(a.path)
    if (g === undefined) dims.push([i])
    else if (dimOfGroup.has(g)) dims[dimOfGroup.get(g)!].push(i)
    else {
      dimOfGroup.set(g, dims.length)
      dims.push([i])
    }
  })
  for (const [gi, g] of sweep.zip.entries()) {
    const lens = g.map((p) => axes.find((a) => a.path === p)!.values.length)
    if (new Set(lens).size > 1) fail(`zip[${gi}]`, `the axes of a zip group need equally many values (${g.map((p, i) => `${p}: ${lens[i]}`).join(', ')})`)
  }
  let count = 1
  for (const d of dims) count *= axes[d[0]].values.length
  if (count === 0) fail('axes', 'the product of the axes has no points')
  if (count * Math.max(1, sweep.seeds === undefined ? 1 : Array.isArray(sweep.seeds) ? sweep.seeds.length : sweep.seeds) > MAX_SWEEP_RUNS) {
    fail('axes', `${count} points x seeds is more than ${MAX_SWEEP_RUNS} runs`)
  }
  const out: unknown[][] = []
  const idx = dims.map(() => 0)
  for (let n = 0; n < count; n++) {
    const coords = new Array<unknown>(axes.length)
    dims.forEach((d, di) => d.forEach((ai) => (coords[ai] = axes[ai].values[idx[di]])))
    out.push(coords)
    for (let di = dims.length - 1; di >= 0; di--) {
      if (++idx[di] < axes[dims[di][0]].values.length) break
      idx[di] = 0
    }
  }
  return out
}

/**
 * Every run of `sweep` on `baseDoc` (the experiment document its `base` names). Throws a
 * SweepError with one issue: the base is not a valid experiment, a path names nothing, a
 * point's config is refused (named with the point and the field), or the product is empty.
 */
export function expandSweep(sweep: Sweep, baseDoc: unknown): SweepPlan {
  const base = validateExperiment(baseDoc)
  if (!base.ok) fail(`base: ${base.issues[0].path}`, base.issues[0].message)
  const doc = structuredClone(base.config) as unknown as Record<string, unknown>
  for (const [path, value] of Object.entries(sweep.set)) apply(doc, path, value, `set["${path}"]`)
  const setCheck = validateExperiment(doc)
  if (!setCheck.ok) fail(`set: ${setCheck.issues[0].path}`, setCheck.issues[0].message)

  const axes: PlanAxis[] = sweep.axes.map((a) => ({ path: a.path, values: axisValues(a), scale: axisScale(a) }))
  const seeds = sweep.seeds === undefined ? [setCheck.config.seed] : Array.isArray(sweep.seeds) ? sweep.seeds : Array.from({ length: sweep.seeds }, (_, i) => setCheck.config.seed + i)
  const points: PlanPoint[] = []
  const runs: PlanRun[] = []
  const known = new Set<string>()
  for (const [p, coords] of product(sweep, axes).entries()) {
    const d = structuredClone(setCheck.config) as unknown as Record<string, unknown>
    const absent: number[] = []
    axes.forEach((a, i) => {
      const r = setPath(d, a.path, coords[i])
      if (!r.ok) fail(`axes[${i}].path`, r.message)
      if (!r.exists) absent.push(i)
      if (a.path === 'duration_s') apply(d, a.path, coords[i], `axes[${i}].path`)
    })
    const v = validateExperiment(d)
    if (!v.ok) {
      const issue = v.issues[0]
      const unknownKey = /^unknown fields? /i.test(issue.message) ? absent.find((i) => issue.path === parentPathHint(issue.path, axes[i].path)) : undefined
      if (unknownKey !== undefined) fail(`axes[${unknownKey}].path`, `"${axes[unknownKey].path}" names nothing: the experiment has no such field`)
      fail(`point ${p} (${describe(axes, coords)})`, `${issue.path}: ${issue.message}`)
    }
    points.push({ index: p, coords })
    for (const seed of seeds) {
      const config = { ...v.config, seed }
      const hash = hash64(canonicalJson(config))
      // Two points that resolve to the same config (an axis that changes nothing) would run twice.
      if (known.has(hash)) fail(`point ${p} (${describe(axes, coords)})`, 'resolves to the same experiment as an earlier point (does this axis change anything?)')
      known.add(hash)
      runs.push({ index: runs.length, point: p, seed, hash, config })
    }
  }
  const id = hash64(canonicalJson({ axes, metrics: sweep.metrics, runs: runs.map((r) => r.hash) }))
  return { id, name: sweep.name ?? setCheck.config.name, axes, metrics: sweep.metrics, seeds, points, runs }
}

/**
 * zod reports an unknown key at its object's path (`lanes[0].scanner`); the axis path names the
 * key itself (`lanes[KSM].scanner.foo`). Whether the issue's path could be that object: same
 * shape once the brackets are ignored.
 */
function parentPathHint(issuePath: string, axisPath: string): string {
  const strip = (s: string) => s.replace(/\[[^\]]*\]/g, '[]')
  const parent = axisPath.slice(0, axisPath.lastIndexOf('.'))
  return strip(issuePath) === strip(parent) ? issuePath : '\u0000'
}

/** What a run costs to simulate: its simulated seconds times its lanes. */
export function runCost(config: Experiment): number {
  return config.duration_s * config.lanes.length
}

/** Runs whose index is I modulo N (`--shard I/N`). */
export function shardRuns(plan: SweepPlan, shard: { index: number; count: number } | undefined): PlanRun[] {
  if (!shard) return plan.runs
  return plan.runs.filter((r) => r.index % shard.count === shard.index)
}

/** `I/N` as written after --shard, or the reason it is not one. */
export function parseShard(text: string): { ok: true; index: number; count: number } | { ok: false; message: string } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text)
  if (!m) return { ok: false, message: `"${text}" is not I/N (e.g. 0/4)` }
  const index = Number(m[1])
  const count = Number(m[2])
  if (count < 1 || count > MAX_SWEEP_RUNS) return { ok: false, message: `"${text}": N must be from 1 to ${MAX_SWEEP_RUNS}` }
  if (index >= count) return { ok: false, message: `"${text}": shard ${index} is out of range (shards are 0 to ${count - 1})` }
  return { ok: true, index, count }
}
