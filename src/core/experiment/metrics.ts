/**
 * Sampled metrics: one row per sample per lane, stored column-wise in Float64Arrays (the
 * renderer and the CSV export read columns). Column names are the sysfs and paper words.
 */

export const METRIC_COLUMNS = [
  't_s',
  'sharing_ratio',
  'saved_mib',
  'cpu_percent',
  'pages_shared',
  'pages_sharing',
  'pages_unshared',
  'pages_volatile',
  'full_scans',
  'pages_scanned',
  'stable_node_chains',
  'stable_node_dups',
  'hint_stack_depth',
  'hints_pushed',
  'hints_popped',
  'hints_dropped',
  'cow_breaks',
  'vm_exits',
  'workload_progress',
  'alloc_page_cache',
  'alloc_text',
  'alloc_zero',
  'alloc_other',
  'shared_page_cache',
  'shared_text',
  'shared_zero',
  'shared_other',
  'cross_tenant_merges',
  'ksm_zero_pages',
  'pages_skipped',
  'general_profit'
] as const

export type MetricName = (typeof METRIC_COLUMNS)[number]
export const METRIC_INDEX: Record<MetricName, number> = Object.fromEntries(METRIC_COLUMNS.map((c, i) => [c, i])) as Record<MetricName, number>

/** Growable column store of samples for one lane. */
export class Series {
  private cols: Float64Array[]
  length = 0

  constructor(capacity = 256) {
    this.cols = METRIC_COLUMNS.map(() => new Float64Array(Math.max(16, capacity)))
  }

  push(row: Float64Array): void {
    if (this.length === this.cols[0].length) {
      this.cols = this.cols.map((c) => {
        const n = new Float64Array(c.length * 2)
        n.set(c)
        return n
      })
    }
    for (let i = 0; i < this.cols.length; i++) this.cols[i][this.length] = row[i]
    this.length++
  }

  /** A view of one column's samples (no copy). */
  column(name: MetricName): Float64Array {
    return this.cols[METRIC_INDEX[name]].subarray(0, this.length)
  }

  /** Rows [from, to) as one column-major block, for streaming batches. */
  slice(from: number, to = this.length): Float64Array[] {
    return this.cols.map((c) => c.slice(from, to))
  }

  static fromColumns(cols: Float64Array[]): Series {
    const s = new Series(cols[0]?.length ?? 16)
    s.cols = cols.map((c) => {
      const n = new Float64Array(Math.max(16, c.length))
      n.set(c)
      return n
    })
    s.length = cols[0]?.length ?? 0
    return s
  }
}

export interface Stat3 {
  mean: number
  max: number
  final: number
}

export function stat3(col: Float64Array): Stat3 {
  if (col.length === 0) return { mean: 0, max: 0, final: 0 }
  let sum = 0
  let max = -Infinity
  for (let i = 0; i < col.length; i++) {
    sum += col[i]
    if (col[i] > max) max = col[i]
  }
  return { mean: sum / col.length, max, final: col[col.length - 1] }
}
