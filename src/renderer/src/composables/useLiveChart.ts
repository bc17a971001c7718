/**
 * One live Chart.js chart on a canvas, built from a chart spec of src/core/analysis/charts.ts and fed
 * from the run's lanes (STYLE.md, Chart.js performance guide):
 * - the spec gives `parsing: false` with pre-shaped points, `normalized`, no animation, LTTB
 *   decimation and fixed scale bounds;
 * - on each animation frame with new samples the spec is built again from the new rows only
 *   (lanes cut to the rows not drawn yet), their points are appended to the chart's own arrays
 *   and the bounds widened, then `update('none')` runs once: no per-point reactivity, no full
 *   rebuild while samples stream;
 * - when the set of lanes changes (a new run, reset, an overlay) or the spec's datasets do not
 *   line up any more, the chart is built again from scratch;
 * - a chart scrolled out of view skips its turns and catches up when it is seen again;
 * - time charts zoom and pan on the time axis with chartjs-plugin-zoom (wheel or pinch to zoom,
 *   drag to pan, double-click to see the whole run again), all to the same range (ChartView),
 *   and draw one crosshair at the same t as the pointer on any of them;
 * - tooltips say "t = 330 s" and each value with its unit (tooltipCallbacks, src/core/analysis/charts.ts).
 * The canvas carries `data-points` (points held), `data-series`, `data-last-t`, `data-x-min`/
 * `data-x-max` (the time range shown), `data-y-type`, `data-note` (the subtitle), `data-crosshair-t` and `data-markers` (event
 * lines, chart-events.ts) for tests and screen readers that inspect it.
 */
import { onBeforeUnmount, onMounted, watch, type Ref } from 'vue'
import type { Plugin } from 'chart.js'
import { chartNote, CHARTS, formatTime, tooltipCallbacks, type ChartConfig, type ChartId, type LaneData, type LineChartConfig, type Point } from '../../../core/analysis/charts.ts'
import type { MetricName } from '../../../core/experiment/metrics.ts'
import type { ChartView } from '../stores/chartView.ts'
import type { RunStore } from '../stores/run.ts'
import { Chart } from './chartjs.ts'
import { eventAnnotations, withEventMarkers } from '../../../core/analysis/chart-events.ts'
import type { TimelineEvent } from '../../../core/experiment/events.ts'


const DARK_TEXT = '#c9d1d9'
const DARK_GRID = 'rgba(240, 246, 252, 0.14)'
/** The crosshair: a thin grey line (and its time at the top), over the lines. */
const CROSSHAIR_LIGHT = 'rgba(60, 60, 60, 0.75)'
const CROSSHAIR_DARK = 'rgba(230, 237, 243, 0.8)'

type Scales = Record<string, { min?: number; max?: number; ticks?: object; title?: object; grid?: object; border?: object }>

/** Colours of text and grid lines for the dark theme (the light one is Chart.js's default). */
export function applyDarkTheme(cfg: ChartConfig): void {
  const o = cfg.options as { plugins?: { title?: object; legend?: { labels?: object } }; scales?: Scales }
  const plugins = (o.plugins ??= {})
  plugins.title = { ...plugins.title, color: DARK_TEXT }
  const sub = (plugins as { subtitle?: object }).subtitle
  if (sub) (plugins as { subtitle?: object }).subtitle = { ...sub, color: DARK_TEXT }
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

export function useLiveChart(canvas: Ref<HTMLCanvasElement | null>, id: ChartId, run: RunStore, dark: Ref<boolean>, view: ChartView, markers?: ChartMarkers) {
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

  /** The time range the chart shows now (after a zoom or pan, the plugin's). */
  function shownRange(c: Chart): { min: number; max: number } {
    const x = c.scales.x
    return { min: x.min, max: x.max }
  }

  const crosshair: Plugin<'line'> = {
    id: 'samepageCrosshair',
    afterEvent(c, args) {
      const e = args.event
      if (e.type === 'mousemove' && args.inChartArea && e.x !== null) view.setCursor(c.scales.x.getValueForPixel(e.x) ?? null)
      else if (e.type === 'mouseout' || (e.type === 'mousemove' && !args.inChartArea)) view.setCursor(null)
    },
    afterDatasetsDraw(c) {
      const t = view.cursor()
      const el = c.canvas as HTMLCanvasElement
      const x = t === null ? NaN : c.scales.x.getPixelForValue(t)
      const { left, right, top, bottom } = c.chartArea
      if (t === null || !(x >= left && x <= right)) {
        delete el.dataset.crosshairT
        return
      }
      el.dataset.crosshairT = String(Math.round(t * 10) / 10)
      const ctx = c.ctx
      const color = dark.value ? CROSSHAIR_DARK : CROSSHAIR_LIGHT
      ctx.save()
      ctx.strokeStyle = color
      ctx.lineWidth = 1
      ctx.setLineDash([])
      ctx.beginPath()
      ctx.moveTo(x, top)
      ctx.lineTo(x, bottom)
      ctx.stroke()
      ctx.fillStyle = color
      ctx.font = '11px sans-serif'
      ctx.textAlign = x > (left + right) / 2 ? 'right' : 'left'
      ctx.textBaseline = 'top'
      ctx.fillText(formatTime(t), x + (ctx.textAlign === 'right' ? -4 : 4), top + 2)
      ctx.restore()
    }
  }

  /** The live chart's additions to a spec: theme, tooltips, zoom and pan, the crosshair. */
  function spec(lanes: readonly LaneData[]): ChartConfig {
    const cfg = CHARTS[id].build(lanes, view.optsFor(id, { responsive: true, maintainAspectRatio: false }))
    if (dark.value) applyDarkTheme(cfg)
    const o = cfg.options as { plugins: Record<string, unknown> }
    o.plugins.tooltip = { callbacks: tooltipCallbacks(id) }
    if (cfg.type === 'line') {
      const done = ({ chart: c }: { chart: Chart }) => view.setRange(shownRange(c))
      o.plugins.zoom = {
        zoom: { wheel: { enabled: true }, pinch: { enabled: true }, mode: 'x', onZoomComplete: done },
        pan: { enabled: true, mode: 'x', onPanComplete: done },
        limits: { x: { min: 0, max: lastT(lanes), minRange: 1 } }
      }
      cfg.plugins = [crosshair]
    }
    if (markers) withEventMarkers(cfg, markers.events(), markers.vmNames())
    return cfg
  }

  function lastT(lanes: readonly LaneData[]): number {
    let t = 0
    for (const l of lanes) {
      const c = l.column('t_s')
      if (c.length > 0) t = Math.max(t, c[c.length - 1])
    }
    return t > 0 ? t : 1
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
    el.dataset.points = String(points)
    el.dataset.lastT = String(lanes.length > 0 ? lastT(lanes) : 0)
    if (kind === 'line' && chart) {
      const x = chart.scales.x as { min?: number; max?: number } | undefined
      el.dataset.xMin = String(x?.min ?? 0)
      el.dataset.xMax = String(x?.max ?? 0)
      el.dataset.zoomed = String(view.range.value !== null)
      el.dataset.yType = String((chart.scales.y as { type?: string } | undefined)?.type ?? '')
    }
    el.dataset.series = String(chart?.data.datasets.length ?? 0)
    el.dataset.note = String((chart?.options.plugins as { subtitle?: { text?: string } } | undefined)?.subtitle?.text ?? '')
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
      const plugins = chart.options.plugins as { subtitle?: { text?: string; display?: boolean }; zoom?: { limits?: { x?: { max?: number } } } }
      const note = chartNote(id, lanes)
      if (plugins.subtitle) {
        plugins.subtitle.text = note
        plugins.subtitle.display = note !== ''
      }
      if (plugins.zoom?.limits?.x) plugins.zoom.limits.x.max = lastT(lanes)
    }
    drawn = rows
    chart.update('none')
    mark(lanes)
  }

  /**
   * Fixed bounds that only widen: the right end of time (unless zoomed: the range is the
   * user's), the nice maximum of each y axis and, on a log axis, its lower end.
   */
  function widenBounds(scales: Scales, next: Scales): void {
    for (const [key, s] of Object.entries(next ?? {})) {
      const cur = scales[key]
      if (!cur || (key === 'x' && view.range.value !== null)) continue
      if (s.max !== undefined && (cur.max === undefined || s.max > cur.max)) cur.max = s.max
      if (key !== 'x' && s.min !== undefined && cur.min !== undefined && s.min < cur.min) cur.min = s.min
    }
  }

  /** Shows `range` (another chart's zoom, or null: the whole run). */
  function applyRange(range: { min: number; max: number } | null): void {
    if (!chart || kind !== 'line') return
    if (range === null) return build()
    const x = (chart.options.scales as unknown as Scales).x
    if (x.min !== range.min || x.max !== range.max) {
      x.min = range.min
      x.max = range.max
      chart.update('none')
    }
    mark(run.chartLanes())
  }

  // The crosshair follows the pointer on any chart: one redraw per frame at most.
  let crossPending = false
  function onCursor(): void {
    if (crossPending || !chart || kind !== 'line') return
    crossPending = true
    requestAnimationFrame(() => {
      crossPending = false
      chart?.draw()
    })
  }

  const onDblClick = () => view.resetRange()

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
  let offCursor: (() => void) | null = null
  onMounted(() => {
    build()
    off = run.ticker.on(onFrame)
    offCursor = view.onCursor(onCursor)
    canvas.value?.addEventListener('dblclick', onDblClick)
    if (typeof IntersectionObserver === 'function' && canvas.value) {
      observer = new IntersectionObserver((entries) => {
        visible = entries.some((e) => e.isIntersecting)
        if (visible && stale) run.ticker.request()
      })
      observer.observe(canvas.value)
    }
  })
  watch([run.lanesVersion, dark, view.version], build)
  watch(view.range, applyRange)
  if (markers) watch(markers.version, redrawMarkers)
  onBeforeUnmount(() => {
    off?.()
    offCursor?.()
    canvas.value?.removeEventListener('dblclick', onDblClick)
    observer?.disconnect()
    destroy()
  })

  return { rebuild: build }
}
