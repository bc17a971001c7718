/**
 * One lane's sampled columns in the renderer: growable Float64Arrays, one per metric in
 * METRIC_COLUMNS order, appended from the session's 'samples' batches. Marked raw so Vue never
 * wraps it in a proxy: charts and tables read it when the frame ticker says so (STYLE.md,
 * Chart.js performance guide: the data kept out of Vue's reactivity).
 */
import { markRaw } from 'vue'
import type { LaneData } from '../../../core/analysis/charts.ts'
import { METRIC_COLUMNS, METRIC_INDEX, type MetricName } from '../../../core/experiment/metrics.ts'

const MIN_CAPACITY = 256

export class LiveLane implements LaneData {
  private cols: Float64Array[]
  length = 0

  constructor(
    readonly name: string,
    readonly scanner: string,
    capacity = MIN_CAPACITY
  ) {
    this.cols = METRIC_COLUMNS.map(() => new Float64Array(Math.max(MIN_CAPACITY, capacity)))
    markRaw(this)
  }

  /**
   * Rows [from, from + n) of every column (METRIC_COLUMNS order). A batch that starts before
   * the current end overwrites from there (a host that re-sends); one that starts after it is
   * a gap and is refused.
   */
  append(from: number, columns: readonly Float64Array[]): void {
    if (columns.length !== METRIC_COLUMNS.length) throw new Error(`sample batch has ${columns.length} columns, expected ${METRIC_COLUMNS.length}`)
    if (from > this.length) throw new Error(`sample batch starts at row ${from}, lane ${this.name} has ${this.length}`)
    const n = columns[0].length
    this.reserve(from + n)
    for (let c = 0; c < this.cols.length; c++) this.cols[c].set(columns[c].subarray(0, n), from)
    this.length = from + n
  }

  /** A view of one column's samples (no copy; valid until the next append). */
  column(name: MetricName): Float64Array {
    return this.cols[METRIC_INDEX[name]].subarray(0, this.length)
  }

  /** The last sample of a column, or 0 before the first. */
  last(name: MetricName): number {
    return this.length > 0 ? this.cols[METRIC_INDEX[name]][this.length - 1] : 0
  }

  /** What seriesCsv (src/core/experiment/engine.ts) reads: `lane.series.length` and `lane.series.column`. */
  get series(): this {
    return this
  }

  private reserve(n: number): void {
    if (n <= this.cols[0].length) return
    let cap = this.cols[0].length
    while (cap < n) cap *= 2
    this.cols = this.cols.map((c) => {
      const grown = new Float64Array(cap)
      grown.set(c.subarray(0, this.length))
      return grown
    })
  }
}
