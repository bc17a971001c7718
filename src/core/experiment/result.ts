/**
 * The result file (`samepage-lab/result@1`, docs/file-formats.md): the config a run used, its
 * summary and every sampled series, so a run can be viewed and compared again without
 * re-running it. Written by the app (Save Result), read back with field-path errors like an
 * experiment file. Pure: no I/O; hosts read and write the text.
 *
 *   { "schema": "samepage-lab/result@1", "config": {...}, "summary": {...},
 *     "series": { "<lane name>": { "<column>": [numbers] } } }
 *
 * One series object per lane of the config (lane names are unique), one array per metric
 * column (METRIC_COLUMNS names), all as long as `t_s`, which is not empty and increases. A
 * value JSON cannot hold (NaN, Infinity) is written as null and read back as NaN; a column
 * missing on load reads as NaN throughout, so a file from an engine with fewer columns opens.
 */
import { z } from 'zod'
import { formatPath, parseJsonText, validateExperiment, type ConfigIssue, type Experiment } from './config.ts'
// Types only: a value import would pull the engine into every host that reads results (the
// Electron main process must not load it).
import type { SUMMARY_SCHEMA_ID, Summary } from './engine.ts'
import { METRIC_COLUMNS, METRIC_INDEX, type MetricName } from './metrics.ts'
import { EVENT_KINDS } from './events.ts'

export const RESULT_SCHEMA_ID = 'samepage-lab/result@1'
/** engine.ts's SUMMARY_SCHEMA_ID (the type makes this fail to compile if the two differ). */
const SUMMARY_ID: typeof SUMMARY_SCHEMA_ID = 'samepage-lab/summary@1'
/** File name ending of result files (experiment configs end in `.samepage.json`). */
export const RESULT_FILE_SUFFIX = '.result.json'

/** One lane's samples as columns in METRIC_COLUMNS order, as the session streams them. */
export interface ResultLaneInput {
  name: string
  scanner: string
  columns: readonly ArrayLike<number>[]
}

/** A lane of a loaded result: LaneData for the chart specs (src/core/analysis/charts.ts). */
export interface ResultLane {
  name: string
  scanner: string
  /** Samples per column. */
  length: number
  /** Columns in METRIC_COLUMNS order. */
  columns: Float64Array[]
  column(name: MetricName): Float64Array
}

export interface LoadedResult {
  config: Experiment
  summary: Summary
  lanes: ResultLane[]
}

export type ResultParse = { ok: true; result: LoadedResult } | { ok: false; issues: ConfigIssue[] }

// JSON has no NaN or Infinity: JSON.stringify writes null, read back as NaN.
const num = z
  .number()
  .nullable()
  .transform((v) => v ?? Number.NaN)
const stat3 = z.object({ mean: num, max: num, final: num })
// Fields added after summary@1 was first written: missing in older files, read as NaN.
const laterNum = z
  .number()
  .nullable()
  .optional()
  .transform((v) => v ?? Number.NaN)
const laterNullable = z
  .number()
  .nullable()
  .optional()
  .transform((v) => (v === undefined ? Number.NaN : v))

const EventSchema = z.object({
  t_s: z.number(),
  kind: z.enum(EVENT_KINDS),
  vm: z.number().int().min(0).nullable(),
  count: z.number().nullable()
})

const VmShareSchema = z.object({
  vm: z.string(),
  pages: num,
  shared_pages: num,
  sharing_ratio: num,
  saved_mib: num,
  cow_breaks: num
})

const LaneSummarySchema = z.object({
  name: z.string(),
  scanner: z.string(),
  sharing_ratio: stat3,
  saved_mib: stat3,
  general_profit: stat3.optional().transform((v) => v ?? { mean: Number.NaN, max: Number.NaN, final: Number.NaN }),
  cpu_percent: z.object({ mean: num, max: num }),
  pages_shared: num,
  pages_sharing: num,
  pages_sharing_gained: laterNum,
  cpu_ns_per_shared_page: laterNullable,
  pages_unshared: num,
  pages_volatile: num,
  full_scans: num,
  stable_node_chains: num,
  stable_node_dups: num,
  pages_scanned: num,
  hints: z.object({ pushed: num, popped: num, dropped: num }),
  cow_breaks: num,
  vm_exits: num,
  cross_tenant_merges: laterNum,
  ksm_zero_pages: laterNum,
  pages_skipped: laterNum,
  invariants_checked: z.boolean(),
  workload_done_s: z.array(z.number().nullable()),
  // Timeline events and per-VM results (issue 15): missing in older files, read as empty.
  events: z.array(EventSchema).optional().transform((v) => v ?? []),
  events_omitted: z.number().int().min(0).optional().transform((v) => v ?? 0),
  vms: z.array(VmShareSchema).optional().transform((v) => v ?? []),
  vm_shared_pages: z.array(z.array(num)).optional().transform((v) => v ?? [])
})

const SummarySchema = z.object({
  schema: z.literal(SUMMARY_ID),
  config_name: z.string(),
  seed: num,
  sim_seconds: num,
  wall_seconds: num,
  total_guest_pages: num,
  lanes: z.array(LaneSummarySchema)
})

// The schema's output must be a Summary; this line fails to compile if the two drift apart.
const _summaryShape: (s: z.output<typeof SummarySchema>) => Summary = (s) => s
void _summaryShape

const ColumnSchema = z.array(z.number().nullable())

const ResultSchema = z.object({
  schema: z.literal(RESULT_SCHEMA_ID),
  // Validated separately with validateExperiment (migrations, defaults, its own messages).
  config: z.unknown(),
  summary: SummarySchema,
  // Checked as a plain object: zod's record copies keys by assignment, which turns a lane named
  // "__proto__" into the copy's prototype. Each lane's columns are checked below (seriesIssues).
  series: z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'series must be an object of lanes' })
})

const LaneColumnsSchema = z.record(z.string(), ColumnSchema)

/** The JSON document of a result, ready for JSON.stringify (see resultToText). */
export interface ResultDocument {
  schema: typeof RESULT_SCHEMA_ID
  config: Experiment
  summary: Summary
  series: Record<string, Record<MetricName, (number | null)[]>>
}

/** Build a result document from a run's config, summary and streamed columns. */
export function buildResult(config: Experiment, summary: Summary, lanes: readonly ResultLaneInput[]): ResultDocument {
  // A null-prototype table: a lane named "__proto__" is a key like any other.
  const series: ResultDocument['series'] = Object.create(null) as ResultDocument['series']
  for (const l of lanes) {
    if (l.columns.length !== METRIC_COLUMNS.length) throw new Error(`lane "${l.name}": ${l.columns.length} columns, expected ${METRIC_COLUMNS.length}`)
    const columns = {} as Record<MetricName, (number | null)[]>
    METRIC_COLUMNS.forEach((c, i) => (columns[c] = Array.from(l.columns[i], (v) => (Number.isFinite(v) ? v : null))))
    series[l.name] = columns
  }
  return { schema: RESULT_SCHEMA_ID, config, summary, series }
}

/**
 * The text of a result file: config and summary indented like the other files, each series
 * column on one line (a result holds thousands of numbers). JSON.parse gives the document back.
 */
export function resultToText(doc: ResultDocument): string {
  const head = JSON.stringify({ schema: doc.schema, config: doc.config, summary: doc.summary }, null, 2)
  const lanes = Object.entries(doc.series).map(([name, cols]) => {
    const lines = METRIC_COLUMNS.map((c) => `      ${JSON.stringify(c)}: ${JSON.stringify(cols[c])}`).join(',\n')
    return `    ${JSON.stringify(name)}: {\n${lines}\n    }`
  })
  // `head` ends with "\n}": reopen it to append the series.
  return `${head.slice(0, -2)},\n  "series": {\n${lanes.join(',\n')}\n  }\n}\n`
}

/** Validate a parsed result document; issues name the field path (`series.KSM.t_s`). */
export function validateResult(doc: unknown): ResultParse {
  const r = ResultSchema.safeParse(doc)
  if (!r.success) return { ok: false, issues: r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) }
  const cfg = validateExperiment(r.data.config)
  if (!cfg.ok) return { ok: false, issues: cfg.issues.map((i) => ({ path: i.path === '(root)' ? 'config' : `config.${i.path}`, message: i.message })) }
  const { summary, series } = r.data
  const issues: ConfigIssue[] = []
  if (summary.lanes.length !== cfg.config.lanes.length) issues.push({ path: 'summary.lanes', message: `${summary.lanes.length} lane summaries for ${cfg.config.lanes.length} lanes in config` })
  const lanes: ResultLane[] = []
  for (const [li, lc] of cfg.config.lanes.entries()) {
    const at = `series.${lc.name}`
    const raw = Object.hasOwn(series, lc.name) ? series[lc.name] : undefined
    if (raw === undefined) {
      issues.push({ path: at, message: 'missing: every lane of the config needs its series' })
      continue
    }
    const parsed = LaneColumnsSchema.safeParse(raw)
    if (!parsed.success) {
      for (const i of parsed.error.issues) issues.push({ path: `${at}${i.path.length ? '.' + formatPath(i.path) : ''}`, message: i.message })
      continue
    }
    const cols = parsed.data as Partial<Record<MetricName, (number | null)[]>>
    const n = cols.t_s?.length ?? 0
    if (n === 0) issues.push({ path: `${at}.t_s`, message: 'missing or empty' })
    const columns = METRIC_COLUMNS.map((c) => {
      const values = cols[c]
      if (values === undefined) return new Float64Array(n).fill(Number.NaN)
      if (values.length !== n) issues.push({ path: `${at}.${c}`, message: `has ${values.length} values, t_s has ${n}` })
      return Float64Array.from(values, (v) => v ?? Number.NaN)
    })
    const t = columns[METRIC_INDEX.t_s]
    for (let i = 1; i < t.length; i++) {
      if (!(t[i] > t[i - 1])) {
        issues.push({ path: `${at}.t_s[${i}]`, message: 'sample times must increase' })
        break
      }
    }
    // The summary's scanner name: a lane the real kernel ran says `kernel-ksm` there (its config
    // holds the ksm knobs it ran with), and draws as the kernel's own lane.
    lanes.push(laneOf(lc.name, summary.lanes[li]?.scanner ?? lc.scanner.kind, columns))
  }
  if (issues.length > 0) return { ok: false, issues }
  return { ok: true, result: { config: cfg.config, summary, lanes } }
}

/** Parse result text; a syntax error is an issue at the root, as for experiment files. */
export function parseResultText(text: string): ResultParse {
  const j = parseJsonText(text)
  return j.ok ? validateResult(j.doc) : j
}

function laneOf(name: string, scanner: string, columns: Float64Array[]): ResultLane {
  return {
    name,
    scanner,
    length: columns[0]?.length ?? 0,
    columns,
    column: (metric) => columns[METRIC_INDEX[metric]]
  }
}
