/**
 * One live Chart.js chart on a canvas, built from a chart spec of src/core/charts.ts and fed
 * from the run's lanes (STYLE.md, Chart.js performance guide):
 * - the spec gives `parsing: false` with pre-shaped points, `normalized`, no animation, LTTB
 *   decimation and fixed scale bounds;
 * - on each animation frame with new samples the spec is built again from the new rows only
 *   (lanes cut to the rows not drawn yet), their points are appended to the chart's own arrays
 *   and the bounds widened, then `update('none')` runs once: no per-point reactivity, no full
 *   rebuild while samples stream;
 * - when the set of lanes changes (a new run, reset, an overlay) or the spec's datasets do not
 *   line up any more, the chart is built again from scratch;
 * - a chart scrolled out of view skips its turns and catches up when it is seen again.
 * The canvas carries `data-points` (points held), `data-last-t` and `data-markers` (event lines,
 * chart-events.ts) for tests and screen readers that inspect it.
 */
import { onBeforeUnmount, onMounted, watch, type Ref } from 'vue'
import { CHARTS, type ChartConfig, type ChartId, type LaneData, type LineChartConfig, type Point } from '../../../core/charts.ts'
import type { MetricName } from '../../../core/metrics.ts'
import type { RunStore } from '../stores/run.ts'
import { Chart } from './chartjs.ts'
import { eventAnnotations, withEventMarkers } from '../../../core/chart-events.ts'
import type { TimelineEvent } from '../../../core/events.ts'


const DARK_TEXT = '#c9d1d9'
const DARK_GRID = 'rgba(240, 246, 252, 0.14)'

type Scales = Record<string, { min?: number; max?: number; ticks?: object; title?: object; grid?: object; border?: object }>

/** Colours of text and grid lines for the dark theme (the light one is Chart.js's default). */
export function applyDarkTheme(cfg: ChartConfig): void {
  const o = cfg.options as { plugins?: { title?: object; legend?: { labels?: object } }; scales?: Scales }
  const plugins = (o.plugins ??= {})
  plugins.title = { ...plugins.title, color: DARK_TEXT }
  plugins.legend = { ...plugins.legend, labels: { ...plugins.legend?.labels, color: DARK_TEXT } }
  for (const s of Object.values(o.scales ?? {})) {
    s.ticks = { ...s.ticks, color: DARK_TEXT }
    s.title = { ...s.title, color: DARK_TEXT }
    s.grid = { ...s.grid, color: DARK_GRID }
    s.border = { ...s.border, color: DARK_GRID }
  }
}

/** A lane cut to its rows from `from` on. */
function tail(lane: LaneData, from: number): LaneData {
  return { name: lane.name, scanner: lane.scanner, column: (m: MetricName) => sliceOf(lane.column(m), from) }
}

function sliceOf(col: ArrayLike<number>, from: number): ArrayLike<number> {
  if (col instanceof Float64Array) return col.subarray(from)
  return Array.prototype.slice.call(col, from) as number[]
}

/** Timeline events drawn as markers (chart-events.ts): the events, the VMs' names, and a ref that changes with them. */
export interface ChartMarkers {
  events(): readonly TimelineEvent[]
  vmNames(): readonly string[]
  version: Ref<unknown>
}

export function useLiveChart(canvas: Ref<HTMLCanvasElement | null>, id: ChartId, run: RunStore, dark: Ref<boolean>, markers?: ChartMarkers) {
  let chart: Chart | null = null
  /** The point arrays the chart draws (line charts), one per dataset, appended in place. */
  let own: Point[][] = []
  /** Rows of each lane already in the chart. */
  let drawn: number[] = []
  let kind: ChartConfig['type'] = 'line'

  function destroy(): void {
    chart?.destroy()
    chart = null
    own = []
    drawn = []
  }

  function spec(lanes: readonly LaneData[]): ChartConfig {
    const cfg = CHARTS[id].build(lanes, { responsive: true, maintainAspectRatio: false })
    if (dark.value) applyDarkTheme(cfg)
    if (markers) withEventMarkers(cfg, markers.events(), markers.vmNames())
    return cfg
  }

  /** New events: only the annotation options change (the plugin's documented way to update). */
  function redrawMarkers(): void {
    if (!chart || !markers || kind !== 'line') return
    const plugin = (chart.options.plugins as { annotation?: { annotations: object } } | undefined)?.annotation
    if (!plugin) return build()
    plugin.annotations = eventAnnotations(markers.events(), markers.vmNames())
    chart.update('none')
    mark(run.chartLanes())
  }

  function mark(lanes: readonly LaneData[]): void {
    const el = canvas.value
    if (!el) return
    let points = 0
    if (kind === 'line') for (const a of own) points += a.length
    else for (const d of chart?.data.datasets ?? []) points += (d.data as unknown[]).length
    let lastT = 0
    for (const l of lanes) {
      const t = l.column('t_s')
      if (t.length > 0) lastT = Math.max(lastT, t[t.length - 1])
    }
    el.dataset.points = String(points)
    el.dataset.lastT = String(lastT)
    const notes = (chart?.options.plugins as { annotation?: { annotations?: object } } | undefined)?.annotation?.annotations
    el.dataset.markers = String(Object.keys(notes ?? {}).length)
  }

  function build(): void {
    destroy()
    const el = canvas.value
    if (!el) return
    const lanes = run.chartLanes()
    const cfg = spec(lanes)
    kind = cfg.type
    if (cfg.type === 'line') own = cfg.data.datasets.map((d) => d.data)
    drawn = lanes.map((l) => l.column('t_s').length)
    chart = new Chart(el, cfg as never)
    mark(lanes)
  }

  function refresh(): void {
    if (!chart) return build()
    const lanes = run.chartLanes()
    if (lanes.length !== drawn.length) return build()
    const rows = lanes.map((l) => l.column('t_s').length)
    if (rows.every((n, i) => n === drawn[i])) return
    if (rows.some((n, i) => n < drawn[i])) return build()
    if (kind !== 'line') {
      // A bar chart of the last sample: small, so the whole spec is taken again.
      const cfg = spec(lanes)
      chart.data = cfg.data as never
      chart.options = cfg.options as never
    } else {
      const cfg = spec(lanes.map((l, i) => tail(l, drawn[i]))) as LineChartConfig
      const datasets = chart.data.datasets
      if (cfg.data.datasets.length !== datasets.length || cfg.data.datasets.some((d, k) => d.label !== datasets[k].label)) return build()
      cfg.data.datasets.forEach((d, k) => {
        const target = own[k]
        for (const p of d.data) target.push(p)
      })
      widenBounds(chart.options.scales as unknown as Scales, cfg.options?.scales as unknown as Scales)
    }
    drawn = rows
    chart.update('none')
    mark(lanes)
  }

  /** Fixed bounds that only grow: the right end of time and the nice maximum of each y axis. */
  function widenBounds(scales: Scales, next: Scales): void {
    for (const [key, s] of Object.entries(next ?? {})) {
      const cur = scales[key]
      if (!cur || s.max === undefined) continue
      if (cur.max === undefined || s.max > cur.max) cur.max = s.max
    }
  }

  // A chart scrolled out of view waits: it catches up in one step when it comes back.
  let visible = true
  let stale = false
  let observer: IntersectionObserver | null = null

  function onFrame(): void {
    if (!visible) {
      stale = true
      return
    }
    stale = false
    refresh()
  }

  let off: (() => void) | null = null
  onMounted(() => {
    build()
    off = run.ticker.on(onFrame)
    if (typeof IntersectionObserver === 'function' && canvas.value) {
      observer = new IntersectionObserver((entries) => {
        visible = entries.some((e) => e.isIntersecting)
        if (visible && stale) run.ticker.request()
      })
      observer.observe(canvas.value)
    }
  })
  watch([run.lanesVersion, dark], build)
  if (markers) watch(markers.version, redrawMarkers)
  onBeforeUnmount(() => {
    off?.()
    observer?.disconnect()
    destroy()
  })

  return { rebuild: build }
}
