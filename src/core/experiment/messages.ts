/**
 * What the user reads when a config is wrong: one message table for the CLI and the app alike.
 * A schema problem (zod's issue) becomes a sentence in the user's words with the field's name
 * and its unit ("Memory must be at least 16 MiB", "Duration must be at most 604,800 s
 * (7 days)"), and every value echoed back from the user's input has its control characters
 * escaped (`escapeControl`), so a name holding a line break cannot forge a second line of output.
 * Pure: no I/O.
 */

/** Units a number field is in; seconds also get a human duration ("(7 days)"). */
export type Unit = 'MiB' | 's' | 'ms' | 'pages' | 'pages/s' | '%' | 'vCPUs' | 'cores' | 'jobs' | 'files' | 'ns'

export interface FieldWords {
  label: string
  unit?: Unit
  /** What an array field holds, for "needs at least 1 VM". */
  item?: [one: string, many: string]
}

/**
 * Field words by path pattern (indices as `[]`), most specific first: the full pattern, then the
 * last key alone. Names the kernel or the paper gives (pages_to_scan, max_page_sharing) are
 * already the user's words and are kept as they are.
 */
const BY_PATH: ReadonlyMap<string, FieldWords> = new Map([
  ['name', { label: 'Experiment name' }],
  ['description', { label: 'Description' }],
  ['schema', { label: 'schema' }],
  ['seed', { label: 'Seed' }],
  ['duration_s', { label: 'Duration', unit: 's' }],
  ['sample_every_s', { label: 'Sample interval', unit: 's' }],
  ['host.cpu_profile', { label: 'CPU profile' }],
  ['host.cores', { label: 'Cores', unit: 'cores' }],
  ['vms', { label: 'VMs', item: ['VM', 'VMs'] }],
  ['lanes', { label: 'Lanes', item: ['lane', 'lanes'] }],
  ['vms[].name', { label: 'VM name' }],
  ['vms[].vcpus', { label: 'vCPUs', unit: 'vCPUs' }],
  ['vms[].memory_mib', { label: 'Memory', unit: 'MiB' }],
  ['vms[].image', { label: 'Image' }],
  ['vms[].image_file', { label: 'Image file' }],
  ['vms[].snapshot_file', { label: 'Snapshot file' }],
  ['vms[].working_set', { label: 'Working set', item: ['path', 'paths'] }],
  ['vms[].start_s', { label: 'Start time', unit: 's' }],
  ['vms[].tenant', { label: 'Tenant' }],
  ['vms[].workload.kind', { label: 'Workload' }],
  ['vms[].workload.file', { label: 'Trace file' }],
  ['vms[].workload.vm', { label: 'Trace VM' }],
  ['lanes[].name', { label: 'Lane name' }],
  ['lanes[].scanner.kind', { label: 'Scanner' }]
])

const BY_KEY: ReadonlyMap<string, FieldWords> = new Map([
  ['heap_mib', { label: 'Heap', unit: 'MiB' }],
  ['app_mib', { label: 'Application size', unit: 'MiB' }],
  ['working_set_mib', { label: 'Working set', unit: 'MiB' }],
  ['work_s', { label: 'Work', unit: 's' }],
  ['unit_cpu_s', { label: 'CPU time per unit', unit: 's' }],
  ['jobs', { label: 'Jobs', unit: 'jobs' }],
  ['units', { label: 'Compilation units' }],
  ['headers', { label: 'Headers' }],
  ['headers_per_unit', { label: 'Headers per unit' }],
  ['writes_per_s', { label: 'Writes per second' }],
  ['requests_per_s', { label: 'Requests per second' }],
  ['read_pages_per_s', { label: 'Pages read per second' }],
  ['opens_per_s', { label: 'Documents opened per second' }],
  ['activity_pages_per_s', { label: 'Activity', unit: 'pages/s' }],
  ['cpu', { label: 'vCPUs busy' }],
  ['files', { label: 'Files', unit: 'files' }],
  ['pages_per_file', { label: 'Pages per file', unit: 'pages' }],
  ['documents', { label: 'Documents' }],
  ['header_pages', { label: 'Header pages', unit: 'pages' }],
  ['body_pages', { label: 'Body pages', unit: 'pages' }],
  ['templates', { label: 'Templates' }],
  ['sleep_millisecs', { label: 'sleep_millisecs', unit: 'ms' }],
  ['pages_to_scan', { label: 'pages_to_scan', unit: 'pages' }],
  ['pages_per_s', { label: 'Scan rate', unit: 'pages/s' }],
  ['stable_node_chains_prune_millisecs', { label: 'stable_node_chains_prune_millisecs', unit: 'ms' }],
  ['advisor_target_scan_time', { label: 'advisor_target_scan_time', unit: 's' }],
  ['advisor_max_cpu', { label: 'advisor_max_cpu', unit: '%' }],
  ['advisor_min_pages_to_scan', { label: 'advisor_min_pages_to_scan', unit: 'pages' }],
  ['advisor_max_pages_to_scan', { label: 'advisor_max_pages_to_scan', unit: 'pages' }],
  ['share_scan_time_s', { label: 'share_scan_time_s', unit: 's' }]
])

/** `vms[3].workload.heap_mib` -> `vms[].workload.heap_mib`. */
export function pathPattern(path: string): string {
  return path.replace(/\[\d+\]/g, '[]')
}

/** The words for a field (its label and unit); the last key itself when the table has none. */
export function fieldWords(path: string): FieldWords {
  const byPath = BY_PATH.get(pathPattern(path))
  if (byPath) return byPath
  const key = /([A-Za-z_][\w]*)$/.exec(path)?.[1] ?? path
  return BY_KEY.get(key) ?? { label: key }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** Whether a string holds a control character (a line break, a tab, an escape, U+2028...). */
export function hasControl(s: string): boolean {
  CONTROL.lastIndex = 0
  return CONTROL.test(s)
}

/**
 * `s` with every control character written as an escape (`\n`, `\r`, `\t`, `\u001b`): what any
 * message echoing a user's value shows, so the value stays on its line.
 */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, (c) => (Object.hasOwn(NAMED, c) ? NAMED[c] : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
}

/** A user's value quoted for a message: control characters escaped, long values cut. */
export function quoteValue(s: string, max = 80): string {
  const e = escapeControl(s)
  return `"${e.length > max ? e.slice(0, max) + '…' : e}"`
}

/** 604800 -> "604,800" (digits grouped by thousands; the same on every host, no locale). */
export function groupDigits(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  const [int, frac] = String(Math.abs(n)).split('.')
  if (int.includes('e')) return String(n)
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${n < 0 ? '-' : ''}${grouped}${frac !== undefined ? '.' + frac : ''}`
}

/** 604800 -> "7 days", 5400 -> "1 h 30 min", 90 -> "1 min 30 s"; '' under a minute. */
export function humanDuration(s: number): string {
  if (!(s >= 60) || !Number.isFinite(s)) return ''
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = Math.round(s % 60)
  const parts: string[] = []
  if (d > 0) parts.push(`${d} day${d === 1 ? '' : 's'}`)
  if (h > 0) parts.push(`${h} h`)
  if (m > 0 && d === 0) parts.push(`${m} min`)
  if (sec > 0 && d === 0 && h === 0) parts.push(`${sec} s`)
  return parts.join(' ')
}

/** A number with its unit: "604,800 s (7 days)", "16 MiB", "1,000,000 pages". */
export function quantity(n: number, unit?: Unit): string {
  const base = groupDigits(n)
  if (unit === undefined) return base
  if (unit === 's') {
    const h = humanDuration(n)
    return h ? `${base} s (${h})` : `${base} s`
  }
  return `${base} ${unit}`
}

/** What a zod issue holds that the table needs (zod's own type is wider; only these are read). */
export interface SchemaIssue {
  code: string
  path: readonly PropertyKey[]
  message: string
  origin?: string
  minimum?: number | bigint
  maximum?: number | bigint
  inclusive?: boolean
  expected?: string
  values?: readonly unknown[]
  keys?: readonly string[]
  format?: string
  /** The value at fault (zod's reportInput): only looked at, never echoed. */
  input?: unknown
}

const EXPECTED_WORDS: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  nonoptional: 'given'
}

function typeWords(t: string): string {
  return Object.hasOwn(EXPECTED_WORDS, t) ? EXPECTED_WORDS[t] : t
}

/** "received string" in zod's message -> "text"; "received undefined" -> undefined (missing). */
function received(message: string): string | undefined {
  const m = /received (\w+)/.exec(message)
  if (!m) return undefined
  if (m[1] === 'undefined') return 'missing'
  if (m[1] === 'NaN') return 'not a number'
  if (m[1] === 'null') return 'null'
  return typeWords(m[1])
}

const plural = (n: number, w: [string, string]): string => `${groupDigits(n)} ${n === 1 ? w[0] : w[1]}`

/** A schema issue at `path` (formatted, `vms[0].memory_mib`) in the user's words. */
export function issueMessage(issue: SchemaIssue, path: string): string {
  const w = fieldWords(path)
  const label = w.label
  switch (issue.code) {
    case 'too_small': {
      const min = Number(issue.minimum)
      if (issue.origin === 'string') return min <= 1 ? `${label} must not be empty` : `${label} must be at least ${plural(min, ['character', 'characters'])}`
      if (issue.origin === 'array' || issue.origin === 'set') return `${label} must have at least ${plural(min, w.item ?? ['item', 'items'])}`
      return issue.inclusive === false ? `${label} must be more than ${quantity(min, w.unit)}` : `${label} must be at least ${quantity(min, w.unit)}`
    }
    case 'too_big': {
      const max = Number(issue.maximum)
      if (issue.origin === 'string') return `${label} must be at most ${plural(max, ['character', 'characters'])} long`
      if (issue.origin === 'array' || issue.origin === 'set') return `${label} can have at most ${plural(max, w.item ?? ['item', 'items'])}`
      return issue.inclusive === false ? `${label} must be less than ${quantity(max, w.unit)}` : `${label} must be at most ${quantity(max, w.unit)}`
    }
    case 'invalid_type': {
      const got = received(issue.message)
      const want = issue.expected === 'int' ? 'a whole number' : typeWords(issue.expected ?? 'a value')
      if (got === 'missing') return `${label} is missing`
      const empty = issue.input === '' || issue.input === null || (typeof issue.input === 'number' && Number.isNaN(issue.input))
      if (empty && (issue.expected === 'number' || issue.expected === 'int')) return `${label} is empty: enter a number`
      if (issue.expected === 'int' && got === 'a number') return `${label} must be a whole number`
      return got ? `${label} must be ${want}, not ${got}` : `${label} must be ${want}`
    }
    case 'invalid_value': {
      const values = (issue.values ?? []).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
      if (values.length === 1) return `${label} must be "${values[0]}"`
      return `${label} must be one of: ${values.join(', ')}`
    }
    case 'invalid_union': {
      // A discriminated union (workload, scanner) whose `kind` matched none.
      const opts = [...issue.message.matchAll(/'([^']*)'/g)].map((m) => m[1])
      return opts.length > 0 ? `${label} must be one of: ${opts.join(', ')}` : `${label} is not valid`
    }
    case 'unrecognized_keys': {
      const keys = (issue.keys ?? []).map((k) => quoteValue(k, 40))
      return keys.length === 1 ? `unknown field ${keys[0]}` : `unknown fields ${keys.join(', ')}`
    }
    case 'invalid_format':
      return `${label} is not valid`
    default:
      // Custom refinements write their own message; "must ..." and "needs ..." get the label.
      return /^(must|needs) /.test(issue.message) ? `${label} ${escapeControl(issue.message)}` : escapeControl(issue.message)
  }
}

/**
 * Zod reports an integer out of the safe range (9007199254740991) besides the field's own
 * limit: keep the field's message only. Issues of one path keep their order.
 */
export function dropSafeIntegerNoise<T extends SchemaIssue>(issues: readonly T[]): T[] {
  const isNoise = (i: T): boolean =>
    (i.code === 'too_big' && Number(i.maximum) === Number.MAX_SAFE_INTEGER) || (i.code === 'too_small' && Number(i.minimum) === Number.MIN_SAFE_INTEGER)
  const samePath = (a: T, b: T): boolean => a.path.length === b.path.length && a.path.every((p, k) => p === b.path[k])
  return issues.filter((i) => !isNoise(i) || !issues.some((o) => o !== i && !isNoise(o) && samePath(o, i)))
}

/** One line for a terminal: control characters escaped, so a message stays one line. */
export function oneLine(s: string): string {
  return escapeControl(s)
}

/**
 * Why the editor's Add / Duplicate / Remove of a VM or lane is disabled, or undefined when it is
 * not: the button's tooltip and accessible description.
 */
export function addDisabledReason(what: 'VM' | 'lane', count: number, max: number): string | undefined {
  return count >= max ? `An experiment has at most ${max} ${what}s` : undefined
}

export function removeDisabledReason(what: 'VM' | 'lane', count: number): string | undefined {
  return count <= 1 ? `An experiment needs at least one ${what}` : undefined
}
