/**
 * Chart specs: plain Chart.js configurations built from a lane's sampled columns. One module
 * for every host (the renderer draws them live, the CLI renders them to PNG on
 * @napi-rs/canvas), so a figure exported from either is the same figure. Pure: no Chart.js at
 * run time (types only), no DOM, no `node:*`.
 *
 * Every time chart follows Chart.js's performance guide (docs/general/performance.md):
 * `parsing: false` with pre-shaped `{x, y}` points, `normalized: true` (x ascending and
 * unique), `animation: false`, LTTB decimation, and fixed scale bounds so the axes do not jump
 * while samples stream in.
 *
 * One colour rule across figures: a line's colour says which lane (by scanner kind, the
 * paper's Figure 6: KSM blue, hint red); where a chart has several metrics per lane, the dash
 * says which metric.
 */
import type { ChartConfiguration, ChartDataset, Plugin, ScaleOptions } from 'chart.js'
import type { MetricName } from './metrics.ts'

/** What a chart needs from a lane: its name, its scanner kind and its sampled columns. */
export interface LaneData {
  name: string
  scanner: string
  column(name: MetricName): ArrayLike<number>
}

/** Caller's choices: the renderer wants responsive charts, the PNG export fixed-size ones. */
export interface ChartOpts {
  /** Resize with the container (default true). */
  responsive?: boolean
  /** Keep the canvas aspect ratio when responsive (default false: fill the container). */
  maintainAspectRatio?: boolean
  /** Replaces the chart's default title. */
  title?: string
}

export interface Point {
  x: number
  y: number
}

export type LineChartConfig = ChartConfiguration<'line', Point[]>
export type BarChartConfig = ChartConfiguration<'bar', number[], string>
export type ChartConfig = LineChartConfig | BarChartConfig
export type ChartId = 'sharing' | 'cpu' | 'saved' | 'hints' | 'counters' | 'types'

export interface ChartEntry {
  title: string
  ariaLabel: string
  build(lanes: readonly LaneData[], opts?: ChartOpts): ChartConfig
}

/** Colour of each scanner kind; ksm and hint as in the paper's Figure 6. */
export const SCANNER_COLORS: Readonly<Record<string, string>> = {
  ksm: '#1f5fbf',
  hint: '#d62728',
  xlh: '#2ca02c',
  esx: '#ff7f0e',
  hybrid: '#9467bd'
}

/** Scanner names of lanes run by the real kernel: `kernel-ksm` (src/kernel/summary.ts). */
export const KERNEL_SCANNER_PREFIX = 'kernel-'

/** Colours for scanner kinds not named above, handed out in order of first appearance. */
export const OTHER_COLORS = ['#8c564b', '#17becf', '#e377c2', '#7f7f7f', '#bcbd22'] as const

/**
 * Dash patterns: the n-th lane of one scanner kind, or the n-th metric of a lane. Each is
 * symmetric about the middle of its first dash (see legendDashOffset).
 */
export const DASHES: readonly (readonly number[])[] = [[], [6, 3], [2, 2], [8, 3, 2, 3], [12, 4]]

/** Width of a legend sample line, CSS px. */
const LEGEND_BOX_WIDTH = 28

/**
 * Phase that keeps a dash visible in the legend. The legend draws a line's sample as a
 * zero-height rectangle, i.e. the same segment forth and back, and the way back fills the
 * gaps of the way forth unless the pattern is mirrored onto itself: for a pattern symmetric
 * about c (the middle of its first dash) that needs offset = c - width (mod period / 2).
 */
export function legendDashOffset(dash: readonly number[]): number {
  if (dash.length === 0) return 0
  const sum = dash.reduce((a, b) => a + b, 0)
  const half = (dash.length % 2 === 0 ? sum : 2 * sum) / 2
  const o = (dash[0] / 2 - LEGEND_BOX_WIDTH) % half
  return o < 0 ? o + half : o
}

/** Shade steps for the n-th lane of one scanner kind (negative: darker, positive: lighter). */
const SHADES = [0, -0.35, 0.35, -0.6, 0.55]

/** LTTB keeps about this many points per line once a series is longer than 4x the width. */
export const DECIMATION_SAMPLES = 1000

const LINE_WIDTH = 1.5

/** Pre-shapes two columns as Chart.js points (the common length; non-finite times dropped). */
export function toPoints(t: ArrayLike<number>, y: ArrayLike<number>): Point[] {
  const n = Math.min(t.length, y.length)
  const out: Point[] = []
  for (let i = 0; i < n; i++) {
    const x = t[i]
    if (Number.isFinite(x)) out.push({ x, y: y[i] })
  }
  return out
}

/** Mixes a #rrggbb colour toward black (f < 0) or white (f > 0) by |f|. */
export function shade(hex: string, f: number): string {
  const v = parseInt(hex.slice(1), 16)
  const target = f < 0 ? 0 : 255
  const k = Math.abs(f)
  const ch = (shift: number): string => {
    const c = (v >> shift) & 0xff
    return Math.round(c + (target - c) * k).toString(16).padStart(2, '0')
  }
  return `#${ch(16)}${ch(8)}${ch(0)}`
}

/** Fills a #rrggbb colour with an alpha, for bar fills. */
function withAlpha(hex: string, a: number): string {
  const v = parseInt(hex.slice(1), 16)
  return `rgba(${(v >> 16) & 0xff}, ${(v >> 8) & 0xff}, ${v & 0xff}, ${a})`
}

export interface LaneStyle {
  color: string
  /** Dash that tells this lane from earlier lanes of the same scanner kind ([] for the first). */
  dash: number[]
}

/**
 * Colour and dash of each lane: colour by scanner kind; the 2nd, 3rd... lane of one kind gets
 * another shade and dash. Depends only on the lanes' order and kinds.
 */
export function laneStyles(lanes: readonly LaneData[]): LaneStyle[] {
  const seen = new Map<string, number>()
  const others = new Map<string, string>()
  return lanes.map((lane) => {
    const kind = lane.scanner.toLowerCase()
    // A lane the real kernel ran (`kernel-ksm`, src/kernel/): its scanner's colour, always dashed.
    if (kind.startsWith(KERNEL_SCANNER_PREFIX)) {
      const n = seen.get(kind) ?? 0
      seen.set(kind, n + 1)
      const color = SCANNER_COLORS[kind.slice(KERNEL_SCANNER_PREFIX.length)] ?? OTHER_COLORS[0]
      return { color: shade(color, SHADES[n % SHADES.length]), dash: [...DASHES[1 + (n % (DASHES.length - 1))]] }
    }
    let base = SCANNER_COLORS[kind]
    if (base === undefined) {
      base = others.get(kind) ?? OTHER_COLORS[others.size % OTHER_COLORS.length]
      others.set(kind, base)
    }
    const n = seen.get(kind) ?? 0
    seen.set(kind, n + 1)
    return { color: shade(base, SHADES[n % SHADES.length]), dash: [...DASHES[n % DASHES.length]] }
  })
}

/** Last sample time over all lanes: the fixed right end of every time axis. */
function lastTime(lanes: readonly LaneData[]): number {
  let last = 0
  for (const lane of lanes) {
    const t = lane.column('t_s')
    if (t.length > 0 && t[t.length - 1] > last) last = t[t.length - 1]
  }
  return last
}

/** Smallest 1, 2, 2.5 or 5 x 10^k at or above v (1 for empty or non-positive data). */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v * (1 - 1e-12)) return m * p
  return 10 * p
}

function maxOf(datasets: readonly ChartDataset<'line', Point[]>[]): number {
  let max = 0
  for (const d of datasets) for (const p of d.data) if (p.y > max) max = p.y
  return max
}

function lineDataset(label: string, data: Point[], color: string, dash: readonly number[], yAxisID = 'y'): ChartDataset<'line', Point[]> {
  return {
    label,
    data,
    yAxisID,
    borderColor: color,
    backgroundColor: color,
    borderWidth: LINE_WIDTH,
    borderDash: [...dash],
    borderDashOffset: legendDashOffset(dash),
    pointRadius: 0,
    pointHoverRadius: 3,
    fill: false,
    tension: 0
  }
}

type LinearScale = ScaleOptions<'linear'>

function yScale(title: string, min: number, max: number, position: 'left' | 'right' = 'left'): LinearScale {
  return { type: 'linear', position, min, max, title: { display: true, text: title } }
}

function lineChart(title: string, lanes: readonly LaneData[], datasets: ChartDataset<'line', Point[]>[], y: Record<string, LinearScale>, opts: ChartOpts): LineChartConfig {
  const tMax = lastTime(lanes)
  return {
    type: 'line',
    data: { datasets },
    options: {
      responsive: opts.responsive ?? true,
      maintainAspectRatio: opts.maintainAspectRatio ?? false,
      animation: false,
      parsing: false,
      normalized: true,
      indexAxis: 'x',
      spanGaps: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: { type: 'linear', position: 'bottom', min: 0, max: tMax > 0 ? tMax : 1, title: { display: true, text: 'Time (s)' } },
        ...y
      },
      plugins: {
        title: { display: true, text: opts.title ?? title },
        legend: { display: true, position: 'top', labels: { boxWidth: LEGEND_BOX_WIDTH, boxHeight: 0 } },
        decimation: { enabled: true, algorithm: 'lttb', samples: DECIMATION_SAMPLES }
      }
    }
  }
}

/** One line per lane of one metric against time. */
function perLane(lanes: readonly LaneData[], metric: MetricName): ChartDataset<'line', Point[]>[] {
  const styles = laneStyles(lanes)
  return lanes.map((lane, i) => lineDataset(lane.name, toPoints(lane.column('t_s'), lane.column(metric)), styles[i].color, styles[i].dash))
}

/** Sharing ratio (guest pages backed by a shared frame / all guest pages) vs time: Figure 6. */
export function sharingChart(lanes: readonly LaneData[], opts: ChartOpts = {}): LineChartConfig {
  return lineChart('Sharing ratio', lanes, perLane(lanes, 'sharing_ratio'), { y: yScale('Sharing ratio', 0, 1) }, opts)
}

/** Modelled scanner CPU, % of one core (like `top`), vs time. */
export function cpuChart(lanes: readonly LaneData[], opts: ChartOpts = {}): LineChartConfig {
  const datasets = perLane(lanes, 'cpu_percent')
  return lineChart('Scanner CPU', lanes, datasets, { y: yScale('Scanner CPU (% of one core)', 0, niceCeil(maxOf(datasets))) }, opts)
}

/** Memory saved (pages_sharing x 4 KiB) vs time. */
export function savedChart(lanes: readonly LaneData[], opts: ChartOpts = {}): LineChartConfig {
  const datasets = perLane(lanes, 'saved_mib')
  return lineChart('Memory saved', lanes, datasets, { y: yScale('Memory saved (MiB)', 0, niceCeil(maxOf(datasets))) }, opts)
}

/** Scanner kinds that consume page hints. */
const HINT_SCANNERS = new Set(['hint', 'hybrid', 'xlh'])

function hasNonZero(col: ArrayLike<number>): boolean {
  for (let i = 0; i < col.length; i++) if (col[i] !== 0 && !Number.isNaN(col[i])) return true
  return false
}

/** A lane has hints if its scanner consumes them or its hint columns ever moved. */
export function laneHasHints(lane: LaneData): boolean {
  return HINT_SCANNERS.has(lane.scanner.toLowerCase()) || hasNonZero(lane.column('hints_pushed')) || hasNonZero(lane.column('hint_stack_depth'))
}

/**
 * Hint stack depth (left axis) and hints dropped, cumulative (right axis), vs time, for the
 * lanes that have hints. Solid: depth; dashed: dropped.
 */
export function hintChart(lanes: readonly LaneData[], opts: ChartOpts = {}): LineChartConfig {
  const styles = laneStyles(lanes)
  const depth: ChartDataset<'line', Point[]>[] = []
  const dropped: ChartDataset<'line', Point[]>[] = []
  const shown: LaneData[] = []
  lanes.forEach((lane, i) => {
    if (!laneHasHints(lane)) return
    shown.push(lane)
    const t = lane.column('t_s')
    depth.push(lineDataset(`${lane.name}: hint stack depth`, toPoints(t, lane.column('hint_stack_depth')), styles[i].color, DASHES[0]))
    dropped.push(lineDataset(`${lane.name}: hints dropped`, toPoints(t, lane.column('hints_dropped')), styles[i].color, DASHES[1], 'y1'))
  })
  const y = {
    y: yScale('Hint stack depth (hints)', 0, niceCeil(maxOf(depth))),
    y1: { ...yScale('Hints dropped (cumulative)', 0, niceCeil(maxOf(dropped)), 'right'), grid: { drawOnChartArea: false } }
  }
  return lineChart('Hint stack', shown, [...depth, ...dropped], y, opts)
}

/** The KSM counters as in /sys/kernel/mm/ksm/, one dash per counter. */
export const COUNTER_METRICS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile'] as const

/** pages_shared, pages_sharing, pages_unshared and pages_volatile vs time. */
export function countersChart(lanes: readonly LaneData[], opts: ChartOpts = {}): LineChartConfig {
  const styles = laneStyles(lanes)
  const datasets: ChartDataset<'line', Point[]>[] = []
  lanes.forEach((lane, i) => {
    const t = lane.column('t_s')
    COUNTER_METRICS.forEach((m, k) => datasets.push(lineDataset(`${lane.name}: ${m}`, toPoints(t, lane.column(m)), styles[i].color, DASHES[k])))
  })
  return lineChart('KSM counters', lanes, datasets, { y: yScale('Pages', 0, niceCeil(maxOf(datasets))) }, opts)
}

/** Page types of the paper's Figure 2, with their allocated and shared columns. */
export const PAGE_TYPES = [
  { label: 'Page cache', alloc: 'alloc_page_cache', shared: 'shared_page_cache' },
  { label: 'Text', alloc: 'alloc_text', shared: 'shared_text' },
  { label: 'Zero', alloc: 'alloc_zero', shared: 'shared_zero' },
  { label: 'Other', alloc: 'alloc_other', shared: 'shared_other' }
] as const satisfies readonly { label: string; alloc: MetricName; shared: MetricName }[]

/** Sample index `index` of a column of length n: negative counts from the end, clamped. */
function sampleIndex(n: number, index: number | undefined): number {
  if (n === 0) return -1
  const i = index === undefined ? n - 1 : index < 0 ? n + index : index
  return Math.min(n - 1, Math.max(0, Math.trunc(i)))
}

function at(col: ArrayLike<number>, i: number): number {
  return i >= 0 && i < col.length ? col[i] : 0
}

/**
 * Allocated and shared guest pages per page type at one sample (default: the last; negative
 * counts from the end; out of range is clamped): the paper's Figure 2. Given several lanes,
 * each gets an allocated (light) and a shared (full colour) bar per type.
 */
export function typeBreakdownChart(lane: LaneData | readonly LaneData[], index?: number, opts: ChartOpts = {}): BarChartConfig {
  const lanes: readonly LaneData[] = Array.isArray(lane) ? lane : [lane as LaneData]
  const styles = laneStyles(lanes)
  const single = lanes.length === 1
  const datasets: ChartDataset<'bar', number[]>[] = []
  let when = ''
  lanes.forEach((l, k) => {
    const t = l.column('t_s')
    const i = sampleIndex(t.length, index)
    if (k === 0 && i >= 0) when = ` at t = ${Number(t[i].toFixed(3))} s`
    const color = styles[k].color
    datasets.push({
      label: single ? 'Allocated' : `${l.name}: allocated`,
      data: PAGE_TYPES.map((p) => at(l.column(p.alloc), i)),
      backgroundColor: single ? 'rgba(127, 127, 127, 0.45)' : withAlpha(color, 0.3),
      borderColor: single ? '#7f7f7f' : color,
      borderWidth: 1
    })
    datasets.push({
      label: single ? 'Shared' : `${l.name}: shared`,
      data: PAGE_TYPES.map((p) => at(l.column(p.shared), i)),
      backgroundColor: withAlpha(color, 0.85),
      borderColor: color,
      borderWidth: 1
    })
  })
  return {
    type: 'bar',
    data: { labels: PAGE_TYPES.map((p) => p.label), datasets },
    options: {
      responsive: opts.responsive ?? true,
      maintainAspectRatio: opts.maintainAspectRatio ?? false,
      animation: false,
      scales: {
        x: { type: 'category', title: { display: true, text: 'Page type' } },
        y: { type: 'linear', min: 0, title: { display: true, text: 'Guest pages' } }
      },
      plugins: {
        title: { display: true, text: opts.title ?? `Page types${when}` },
        legend: { display: true, position: 'top' }
      }
    }
  }
}

/** Every chart the app and the CLI know, by id. */
export const CHARTS: Readonly<Record<ChartId, ChartEntry>> = {
  sharing: { title: 'Sharing ratio', ariaLabel: 'Sharing ratio', build: sharingChart },
  cpu: { title: 'Scanner CPU', ariaLabel: 'Scanner CPU', build: cpuChart },
  saved: { title: 'Memory saved', ariaLabel: 'Memory saved', build: savedChart },
  hints: { title: 'Hint stack', ariaLabel: 'Hint stack', build: hintChart },
  counters: { title: 'KSM counters', ariaLabel: 'KSM counters', build: countersChart },
  types: { title: 'Page types', ariaLabel: 'Page types', build: (lanes, opts) => typeBreakdownChart(lanes, undefined, opts) }
}

export interface BarSeries {
  label: string
  data: number[]
  color: string
}

/** A plain grouped bar chart (the reproduction's Figure 1 and Figure 2). */
export function barChart(spec: { title: string; labels: string[]; series: BarSeries[]; xTitle: string; yTitle: string; yMax?: number }, opts: ChartOpts = {}): BarChartConfig {
  return {
    type: 'bar',
    data: {
      labels: spec.labels,
      datasets: spec.series.map((s) => ({ label: s.label, data: s.data, backgroundColor: withAlpha(s.color, 0.85), borderColor: s.color, borderWidth: 1 }))
    },
    options: {
      responsive: opts.responsive ?? true,
      maintainAspectRatio: opts.maintainAspectRatio ?? false,
      animation: false,
      scales: {
        x: { type: 'category', title: { display: true, text: spec.xTitle } },
        y: { type: 'linear', min: 0, ...(spec.yMax !== undefined ? { max: spec.yMax } : {}), title: { display: true, text: spec.yTitle } }
      },
      plugins: {
        title: { display: true, text: opts.title ?? spec.title },
        legend: { display: true, position: 'top' }
      }
    }
  }
}

/** Exported figures: 900 x 500 CSS px at 2x, the same from the app and from the CLI. */
export const PNG_WIDTH = 900
export const PNG_HEIGHT = 500
export const PNG_SCALE = 2

/** Paints the whole canvas white before Chart.js draws (a PNG is transparent otherwise). */
export const WHITE_BACKGROUND: Plugin = {
  id: 'samepageWhiteBackground',
  beforeDraw(chart) {
    const { ctx } = chart
    ctx.save()
    ctx.globalCompositeOperation = 'source-over'
    ctx.fillStyle = '#ffffff'
    ctx.fillRect(0, 0, chart.width, chart.height)
    ctx.restore()
  }
}
