/**
 * The sweep document (`"schema": "samepage-lab/sweep@1"`): a base experiment, fields `set` for
 * every point, axes (a field path and its values, or a range), how axes combine (a cartesian
 * product; `zip` groups vary together), the seeds and the summary metrics to report.
 * Validated with zod like the experiment file; errors name the field path.
 */
import { z } from 'zod'
import { formatPath, type ConfigIssue } from '../experiment/config.ts'

export const SWEEP_SCHEMA_ID = 'samepage-lab/sweep@1'

/** Runs (points x seeds) one sweep may hold: a week of 2400 s runs at 2 cores is far below. */
export const MAX_SWEEP_RUNS = 100_000
export const MAX_RANGE_STEPS = 10_000
export const MAX_SEEDS = 1000

/**
 * Summary fields a sweep can report, per lane (src/core/experiment/engine.ts LaneSummary, by the same
 * dotted names). `cpu_ns_per_shared_page` is empty for a run that saved no page.
 */
export const SWEEP_METRICS = [
  'sharing_ratio.mean',
  'sharing_ratio.max',
  'sharing_ratio.final',
  'saved_mib.mean',
  'saved_mib.max',
  'saved_mib.final',
  'cpu_percent.mean',
  'cpu_percent.max',
  'pages_shared',
  'pages_sharing',
  'pages_sharing_gained',
  'cpu_ns_per_shared_page',
  'pages_unshared',
  'pages_volatile',
  'full_scans',
  'stable_node_chains',
  'stable_node_dups',
  'pages_scanned',
  'hints.pushed',
  'hints.popped',
  'hints.dropped',
  'cow_breaks',
  'vm_exits',
  'cross_tenant_merges',
  'ksm_zero_pages',
  'pages_skipped'
] as const
export type SweepMetric = (typeof SWEEP_METRICS)[number]

export const DEFAULT_SWEEP_METRICS: SweepMetric[] = ['sharing_ratio.mean', 'saved_mib.mean', 'cpu_percent.mean', 'pages_sharing_gained', 'cpu_ns_per_shared_page']

const path = z.string().min(1).max(500)
const EMPTY = 'is empty, so the product of the axes has no points'

const ListAxis = z.strictObject({
  path,
  values: z.array(z.json()).min(1, { message: EMPTY }).max(MAX_RANGE_STEPS)
})

const RangeAxis = z
  .strictObject({
    path,
    from: z.number(),
    to: z.number(),
    /** Values from `from` to `to`, both included (1: just `from`). */
    steps: z
      .number()
      .int()
      .min(1, { message: `must be at least 1 (0 steps: the product of the axes has no points)` })
      .max(MAX_RANGE_STEPS),
    scale: z.enum(['linear', 'log']).default('linear'),
    /** Round every value to an integer (default: when from and to are integers with at least `steps` integers from one to the other). */
    round: z.boolean().optional()
  })
  .superRefine((a, ctx) => {
    if (a.scale === 'log' && !(a.from > 0 && a.to > 0)) ctx.addIssue({ code: 'custom', path: ['from'], message: 'a log scale needs from and to above 0' })
  })

export const AxisSchema = z.union([ListAxis, RangeAxis])

export const SweepSchema = z
  .strictObject({
    schema: z.literal(SWEEP_SCHEMA_ID),
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(4000).default(''),
    /** A preset name, an experiment file (relative to the sweep file), or an experiment document. */
    base: z.union([z.string().min(1).max(4096), z.record(z.string(), z.json())]),
    /** Field path -> value, set on the base for every point. */
    set: z.record(path, z.json()).default({}),
    axes: z.array(AxisSchema).max(32).default([]),
    /** Groups of axis paths whose values go together (the i-th with the i-th) instead of in a product. */
    zip: z.array(z.array(path).min(2)).default([]),
    /** The seeds, or how many (the base's seed and the next ones). */
    seeds: z.union([z.array(z.number().int().min(0).max(0xffffffff)).min(1).max(MAX_SEEDS), z.number().int().min(1).max(MAX_SEEDS)]).optional(),
    metrics: z
      .array(z.enum(SWEEP_METRICS, { message: `unknown metric; known: ${SWEEP_METRICS.join(', ')}` }))
      .min(1)
      .default(DEFAULT_SWEEP_METRICS)
  })
  .superRefine((s, ctx) => {
    const seen = new Map<string, number>()
    s.axes.forEach((a, i) => {
      if (seen.has(a.path)) ctx.addIssue({ code: 'custom', path: ['axes', i, 'path'], message: `"${a.path}" is already axes[${seen.get(a.path)}]` })
      seen.set(a.path, i)
    })
    const zipped = new Set<string>()
    s.zip.forEach((g, gi) =>
      g.forEach((p, pi) => {
        if (!seen.has(p)) ctx.addIssue({ code: 'custom', path: ['zip', gi, pi], message: `"${p}" is not the path of an axis` })
        else if (zipped.has(p)) ctx.addIssue({ code: 'custom', path: ['zip', gi, pi], message: `"${p}" is in two zip groups` })
        zipped.add(p)
      })
    )
    if (Array.isArray(s.seeds) && new Set(s.seeds).size !== s.seeds.length) ctx.addIssue({ code: 'custom', path: ['seeds'], message: 'lists a seed twice' })
    if (new Set(s.metrics).size !== s.metrics.length) ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'lists a metric twice' })
  })

export type SweepInput = z.input<typeof SweepSchema>
export type Sweep = z.output<typeof SweepSchema>
export type Axis = Sweep['axes'][number]

export type SweepValidation = { ok: true; sweep: Sweep } | { ok: false; issues: ConfigIssue[] }

export function validateSweep(doc: unknown): SweepValidation {
  const r = SweepSchema.safeParse(doc)
  if (r.success) return { ok: true, sweep: r.data }
  return { ok: false, issues: r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) }
}

/** Parse JSON text and validate it as a sweep document. */
export function parseSweepText(text: string): SweepValidation {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    return { ok: false, issues: [{ path: '(root)', message: `invalid JSON: ${(e as Error).message}` }] }
  }
  return validateSweep(doc)
}

/** The JSON Schema of sweep documents (`samepage schema --sweep`). */
export function sweepJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(SweepSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return { $id: 'https://samepage-lab.invalid/schema/sweep-1.json', title: 'Samepage Lab sweep', ...schema }
}

/** An axis's values: a list as written, or a range expanded (rounded and without repeats). */
export function axisValues(a: Axis): unknown[] {
  if ('values' in a) return a.values
  const round = a.round ?? (Number.isInteger(a.from) && Number.isInteger(a.to) && Math.abs(a.to - a.from) + 1 >= a.steps)
  const out: unknown[] = []
  for (let i = 0; i < a.steps; i++) {
    const f = a.steps === 1 ? 0 : i / (a.steps - 1)
    let v = a.scale === 'log' ? a.from * (a.to / a.from) ** f : a.from + (a.to - a.from) * f
    // The ends exactly as written, whatever the floating point did in between.
    if (i === 0) v = a.from
    else if (i === a.steps - 1) v = a.to
    v = round ? Math.round(v) : Math.round(v * 1e9) / 1e9
    if (!out.includes(v)) out.push(v)
  }
  return out
}

/** Whether an axis's values lie on a log scale (for its charts' x axis). */
export function axisScale(a: Axis): 'linear' | 'log' {
  return 'values' in a ? 'linear' : a.scale
}
