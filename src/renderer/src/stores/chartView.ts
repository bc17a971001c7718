/**
 * How the charts are looked at, shared by every chart of the window (issue 15.6, 15.7): the
 * time range they are zoomed to (one range for all time charts), the crosshair's time (one t
 * across all charts), which charts use a log value axis and which KSM counters the counters
 * chart draws. Exports draw what is shown: the same range, axis and counters (optsFor).
 * The crosshair moves with the pointer, so it is a plain listener list, not Vue state.
 */
import { reactive, ref, shallowRef } from 'vue'
import { COUNTER_METRICS, DEFAULT_COUNTERS, type ChartId, type ChartOpts, type CounterMetric } from '../../../core/analysis/charts.ts'

/** Charts whose value axis may be logarithmic: lanes there differ by orders of magnitude. */
export const LOG_CHARTS: readonly ChartId[] = ['cpu', 'counters']

export interface TimeRange {
  min: number
  max: number
}

export function createChartView() {
  /** The zoomed time range of every time chart, or null for the whole run. */
  const range = shallowRef<TimeRange | null>(null)
  const log = reactive<Partial<Record<ChartId, boolean>>>({})
  const counters = ref<CounterMetric[]>([...DEFAULT_COUNTERS])
  /** Bumped when a chart must be built again (log axis, counters). */
  const version = ref(0)

  let cursor: number | null = null
  const cursorListeners = new Set<(t: number | null) => void>()

  function setRange(r: TimeRange | null): void {
    const cur = range.value
    if (r === null ? cur === null : cur !== null && cur.min === r.min && cur.max === r.max) return
    range.value = r
  }

  function setLog(id: ChartId, on: boolean): void {
    log[id] = on
    version.value++
  }

  function setCounter(m: CounterMetric, on: boolean): void {
    const next = COUNTER_METRICS.filter((c) => (c === m ? on : counters.value.includes(c)))
    counters.value = next
    version.value++
  }

  /** The options a chart is built with, live and when exported. */
  function optsFor(id: ChartId, base: ChartOpts = {}): ChartOpts {
    const opts: ChartOpts = { ...base }
    if (log[id]) opts.yLog = true
    if (id === 'counters') opts.counters = counters.value
    if (range.value && id !== 'types') opts.xRange = { ...range.value }
    return opts
  }

  return {
    range,
    log,
    counters,
    version,
    setRange,
    resetRange: () => setRange(null),
    setLog,
    setCounter,
    optsFor,
    /** The crosshair's time, or null when the pointer is off every chart. */
    cursor: (): number | null => cursor,
    setCursor(t: number | null): void {
      if (t === cursor) return
      cursor = t
      for (const f of cursorListeners) f(t)
    },
    onCursor(f: (t: number | null) => void): () => void {
      cursorListeners.add(f)
      return () => cursorListeners.delete(f)
    }
  }
}

export type ChartView = ReturnType<typeof createChartView>
