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
 * Many lanes stay apart for every reader (issue 15.6): colours come from the Okabe-Ito
 * palette (Okabe & Ito, "Color Universal Design", 2008: eight colours told apart under the
 * common colour-vision deficiencies), by scanner kind first (the paper's Figure 6: KSM blue,
 * hint vermillion), and every lane of a per-lane chart also has its own dash pattern, a second
 * channel that survives grey-scale print. Lanes drawn later are wider and underneath, so two
 * lanes that coincide show as a thin line inside a wider one, and the chart's subtitle names
 * them. Where a chart has several metrics per lane (hint stack, KSM counters), the dash says
 * which metric and the colour which lane.
 */
import type { ChartConfiguration, ChartDataset, Plugin, ScaleOptions } from 'chart.js'
import type { MetricName } from '../experiment/metrics.ts'

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
  /** A logarithmic value axis (scanner CPU, the KSM counters). */
  yLog?: boolean
  /** The KSM counters the counters chart draws (default DEFAULT_COUNTERS). */
  counters?: readonly string[]
  /** The time axis's range (a zoomed view); default 0 to the last sample. */
  xRange?: { min: number; max: number }
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

/** The Okabe-Ito palette (Okabe & Ito 2008), in the order lanes of other kinds take them. */
export const OKABE_ITO = {
  blue: '#0072B2',
  vermillion: '#D55E00',
  bluishGreen: '#009E73',
  orange: '#E69F00',
  reddishPurple: '#CC79A7',
  skyBlue: '#56B4E9',
  black: '#000000',
  yellow: '#F0E442'
} as const

/** Colour of each scanner kind; ksm and hint as in the paper's Figure 6 (blue, red). */
export const SCANNER_COLORS: Readonly<Record<string, string>> = {
  ksm: OKABE_ITO.blue,
  hint: OKABE_ITO.vermillion,
  xlh: OKABE_ITO.bluishGreen,
  esx: OKABE_ITO.orange,
  hybrid: OKABE_ITO.reddishPurple,
  satori: OKABE_ITO.skyBlue,
  none: OKABE_ITO.black
}

/** Scanner names of lanes run by the real kernel: `kernel-ksm` (src/kernel/summary.ts). */
export const KERNEL_SCANNER_PREFIX = 'kernel-'

/** Every palette colour, in the order a lane whose kind's colour is taken looks for a free one. */
export const PALETTE: readonly string[] = [
  OKABE_ITO.blue,
  OKABE_ITO.vermillion,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.orange,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.skyBlue,
  OKABE_ITO.black,
  OKABE_ITO.yellow
]

/**
 * Dash patterns: the n-th lane of a per-lane chart, or the n-th metric of a lane. Each is
 * symmetric about the middle of its first dash (see legendDashOffset).
 */
export const DASHES: readonly (readonly number[])[] = [[], [6, 3], [2, 2], [8, 3, 2, 3], [12, 4], [4, 2, 1, 2], [12, 3, 2, 3, 2, 3], [1, 4]]

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

/** LTTB keeps about this many points per line once a series is longer than 4x the width. */
export const DECIMATION_SAMPLES = 1000

/** Width of the first (topmost) lane's line, CSS px. */
const LINE_WIDTH = 1.5
/** Lanes drawn later are this much wider (CSS px per lane), at most MAX_EXTRA_WIDTH in all. */
const WIDTH_STEP = 1
const MAX_EXTRA_WIDTH = 3

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

/** Fills a #rrggbb colour with an alpha, for bar fills. */
function withAlpha(hex: string, a: number): string {
  const v = parseInt(hex.slice(1), 16)
  return `rgba(${(v >> 16) & 0xff}, ${(v >> 8) & 0xff}, ${v & 0xff}, ${a})`
}

export interface LaneStyle {
  color: string
  /** This lane's dash pattern ([] for the first lane: solid). */
  dash: number[]
  /** Line width, CSS px: later lanes wider, drawn underneath (Chart.js draws dataset 0 last). */
  width: number
}

/**
 * Colour, dash and width of each lane. Colour: the scanner kind's, or when an earlier lane
 * holds it, the first palette colour no lane holds yet (so up to eight lanes all differ);
 * dash: one per lane in order; width: grows with the lane's index. Depends only on the lanes'
 * order and kinds.
 */
export function laneStyles(lanes: readonly LaneData[]): LaneStyle[] {
  const n = lanes.length
  const step = n > 1 ? Math.min(WIDTH_STEP, MAX_EXTRA_WIDTH / (n - 1)) : 0
  // Every kind present keeps its own colour; a second lane of a kind takes a colour no kind holds.
  const reserved = new Set(lanes.map((l) => SCANNER_COLORS[l.scanner.toLowerCase()]).filter((c) => c !== undefined))
  const used = new Set<string>()
  return lanes.map((lane, i) => {
    const kind = lane.scanner.toLowerCase()
    const dash = [...DASHES[i % DASHES.length]]
    // A lane the real kernel ran (`kernel-ksm`, src/kernel/): its scanner's colour, always dashed.
    const simulated = kind.startsWith(KERNEL_SCANNER_PREFIX) ? SCANNER_COLORS[kind.slice(KERNEL_SCANNER_PREFIX.length)] : undefined
    if (simulated !== undefined) return { color: simulated, dash: dash.length > 0 ? dash : [...DASHES[1]], width: LINE_WIDTH + i * step }
    let color = SCANNER_COLORS[kind]
    if (color === undefined || used.has(color)) {
      color = PALETTE.find((c) => !used.has(c) && !reserved.has(c)) ?? PALETTE.find((c) => !used.has(c)) ?? PALETTE[i % PALETTE.length]
    }
    used.add(color)
    return { color, dash: [...DASHES[i % DASHES.length]], width: LINE_WIDTH + i * step }
  })
}

/** Two columns equal at every common sample, within a relative 1e-9 of their scale. */
function sameSeries(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const n = Math.min(a.length, b.length)
  if (n === 0) return false
  let scale = 0
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(a[i]), Math.abs(b[i]))
  const tol = scale * 1e-9
  for (let i = 0; i < n; i++) if (!(Math.abs(a[i] - b[i]) <= tol)) return false
  return true
}

/**
 * Groups of lanes (names, two or more) whose `metric` columns coincide all along: drawn
 * exactly over each other, one would hide the other without the widths and the note.
 */
export function coincidentLanes(lanes: readonly LaneData[], metric: MetricName): string[][] {
  const groups: string[][] = []
  const taken = new Set<number>()
  for (let i = 0; i < lanes.length; i++) {
    if (taken.has(i)) continue
    const group = [lanes[i].name]
    const a = lanes[i].column(metric)
    for (let j = i + 1; j < lanes.length; j++) {
      if (taken.has(j) || lanes[j].column('t_s').length !== lanes[i].column('t_s').length) continue
      if (sameSeries(a, lanes[j].column(metric))) {
        group.push(lanes[j].name)
        taken.add(j)
      }
    }
    if (group.length > 1) groups.push(group)
  }
  return groups
}

/** "A and B coincide", joined for several groups; '' when no lanes coincide. */
export function coincidenceNote(lanes: readonly LaneData[], metric: MetricName): string {
  const groups = coincidentLanes(lanes, metric)
  if (groups.length === 0) return ''
  const names = groups.map((g) => (g.length === 2 ? `${g[0]} and ${g[1]}` : `${g.slice(0, -1).join(', ')} and ${g[g.length - 1]}`))
  return `${names.join('; ')} coincide (the later lane drawn wider, underneath)`
}

/** The metric whose coincidence a per-lane chart notes in its subtitle. */
export const CHART_METRIC: Partial<Record<ChartId, MetricName>> = { sharing: 'sharing_ratio', cpu: 'cpu_percent', saved: 'saved_mib' }

/** The subtitle note of a chart over these lanes ('' for none). */
export function chartNote(id: ChartId, lanes: readonly LaneData[]): string {
  const metric = CHART_METRIC[id]
  return metric ? coincidenceNote(lanes, metric) : ''
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

function lineDataset(label: string, data: Point[], color: string, dash: readonly number[], yAxisID = 'y', width = LINE_WIDTH): ChartDataset<'line', Point[]> {
  return {
    label,
    data,
    yAxisID,
    borderColor: color,
    backgroundColor: color,
    borderWidth: width,
    borderDash: [...dash],
    borderDashOffset: legendDashOffset(dash),
    pointRadius: 0,
    pointHoverRadius: 3,
    fill: false,
    tension: 0
  }
}

type LinearScale = ScaleOptions<'linear'> | ScaleOptions<'logarithmic'>

function yScale(title: string, min: number, max: number, position: 'left' | 'right' = 'left'): LinearScale {
  return { type: 'linear', position, min, max, title: { display: true, text: title } }
}

/** Largest 1, 2 or 5 x 10^k at or below v (for a log axis's lower end; 1 for no data). */
export function niceFloor(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [5, 2, 1]) if (m * p <= v * (1 + 1e-12)) return m * p
  return p
}

function minPositive(datasets: readonly ChartDataset<'line', Point[]>[]): number {
  let min = Infinity
  for (const d of datasets) for (const p of d.data) if (p.y > 0 && p.y < min) min = p.y
  return min
}

/**
 * The value axis of a per-lane chart: linear from 0, or (opts.yLog) logarithmic from the nice
 * floor of the smallest positive value, where lanes differ by orders of magnitude (scanner
 * CPU: a sleeping hint scanner next to KSM at 5000 pages/s). Zeros are not drawn on a log axis.
 */
function valueScale(title: string, datasets: readonly ChartDataset<'line', Point[]>[], opts: ChartOpts): LinearScale {
  const max = niceCeil(maxOf(datasets))
  if (!opts.yLog) return yScale(title, 0, max)
  const low = minPositive(datasets)
  const min = Number.isFinite(low) ? Math.min(niceFloor(low), max / 10) : max / 10
  return { type: 'logarithmic', position: 'left', min, max, title: { display: true, text: `${title}, log scale` } }
}

function lineChart(title: string, lanes: readonly LaneData[], datasets: ChartDataset<'line', Point[]>[], y: Record<string, LinearScale>, opts: ChartOpts, note = ''): LineChartConfig {
  const tMax = lastTime(lanes)
  const x = opts.xRange ? { min: opts.xRange.min, max: opts.xRange.max } : { min: 0, max: tMax > 0 ? tMax : 1 }
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
        x: { type: 'linear', position: 'bottom', ...x, title: { display: true, text: 'Time (s)' } },
        ...y
      },
      plugins: {
        title: { display: true, text: opts.title ?? title },
        subtitle: { display: note !== '', text: note, font: { style: 'italic' } },
        legend: { display: true, position: 'top', labels: { boxWidth: LEGEND_BOX_WIDTH, boxHeight: 0 } },
        decimation: { enabled: true, algorithm: 'lttb', samples: DECIMATION_SAMPLES }
      }
    }
  } as LineChartConfig
}

/** One line per lane of one metric against time: the lane's colour, dash and width. */
function perLane(lanes: readonly LaneData[], metric: MetricName): ChartDataset<'line', Point[]>[] {
  const styles = laneStyles(lanes)
  return lanes.map((lane, i) => lineDataset(lane.name, toPoints(lane.column('t_s'), lane.column(metric)), styles[i].color, styles[i].dash, 'y', styles[i].width))
}

/** Sharing ratio (guest pages backed by a shared frame / all guest pages) vs time: Figure 6. */
export function sharingChart(lanes: readonly LaneData[], opts: ChartOpts = {}): LineChartConfig {
  return lineChart('Sharing ratio', lanes, perLane(lanes, 'sharing_ratio'), { y: yScale('Sharing ratio', 0, 1) }, opts, coincidenceNote(lanes, 'sharing_ratio'))
}

/** Modelled scanner CPU, % of one core (like `top`), vs time; opts.yLog for a log axis. */
export function cpuChart(lanes: readonly LaneData[], opts: ChartOpts = {}): LineChartConfig {
  const datasets = perLane(lanes, 'cpu_percent')
  return lineChart('Scanner CPU', lanes, datasets, { y: valueScale('Scanner CPU (% of one core)', datasets, opts) }, opts, coincidenceNote(lanes, 'cpu_percent'))
}

/** Memory saved (pages_sharing x 4 KiB) vs time. */
export function savedChart(lanes: readonly LaneData[], opts: ChartOpts = {}): LineChartConfig {
  const datasets = perLane(lanes, 'saved_mib')
  return lineChart('Memory saved', lanes, datasets, { y: yScale('Memory saved (MiB)', 0, niceCeil(maxOf(datasets))) }, opts, coincidenceNote(lanes, 'saved_mib'))
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
 * lanes that have hints. Colour: the lane; solid: depth; dashed: dropped.
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
    depth.push(lineDataset(`${lane.name}: hint stack depth`, toPoints(t, lane.column('hint_stack_depth')), styles[i].color, DASHES[0], 'y', styles[i].width))
    dropped.push(lineDataset(`${lane.name}: hints dropped`, toPoints(t, lane.column('hints_dropped')), styles[i].color, DASHES[1], 'y1', styles[i].width))
  })
  const y = {
    y: yScale('Hint stack depth (hints)', 0, niceCeil(maxOf(depth))),
    y1: { ...yScale('Hints dropped (cumulative)', 0, niceCeil(maxOf(dropped)), 'right'), grid: { drawOnChartArea: false } }
  }
  return lineChart('Hint stack', shown, [...depth, ...dropped], y, opts)
}

/** The KSM counters as in /sys/kernel/mm/ksm/, one dash per counter. */
export const COUNTER_METRICS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile'] as const
export type CounterMetric = (typeof COUNTER_METRICS)[number]

/** The counters drawn unless the caller picks others: the two that say how much is shared. */
export const DEFAULT_COUNTERS: readonly CounterMetric[] = ['pages_shared', 'pages_sharing']

/**
 * The picked KSM counters (opts.counters, default DEFAULT_COUNTERS) of every lane vs time:
 * colour says the lane, dash the counter (its place in COUNTER_METRICS), so a counter keeps
 * its dash whatever else is picked. opts.yLog for a log axis.
 */
export function countersChart(lanes: readonly LaneData[], opts: ChartOpts = {}): LineChartConfig {
  const styles = laneStyles(lanes)
  const picked = COUNTER_METRICS.filter((m) => (opts.counters ?? DEFAULT_COUNTERS).includes(m))
  const datasets: ChartDataset<'line', Point[]>[] = []
  lanes.forEach((lane, i) => {
    const t = lane.column('t_s')
    for (const m of picked) datasets.push(lineDataset(`${lane.name}: ${m}`, toPoints(t, lane.column(m)), styles[i].color, DASHES[COUNTER_METRICS.indexOf(m)], 'y', styles[i].width))
  })
  return lineChart('KSM counters', lanes, datasets, { y: valueScale('Pages', datasets, opts) }, opts)
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

/** Unit of each chart's value axes, by axis id, as tooltips print it after the value. */
export const CHART_UNITS: Readonly<Record<ChartId, Readonly<Record<string, string>>>> = {
  sharing: { y: '' },
  cpu: { y: '% of one core' },
  saved: { y: 'MiB' },
  hints: { y: 'hints', y1: 'hints' },
  counters: { y: 'pages' },
  types: { y: 'pages' }
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** A value as a tooltip prints it: whole numbers with separators, small ones to 3 significant digits. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v)
  const a = Math.abs(v)
  if (a >= 100 || Number.isInteger(v)) return NUMBER.format(v)
  return String(Number(v.toPrecision(3)))
}

/** A time as "t = 1,330 s" (tenths of a second kept when there are any). */
export function formatTime(t: number): string {
  const r = Math.round(t * 10) / 10
  return `t = ${Number.isInteger(r) ? NUMBER.format(r) : new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }).format(r)} s`
}

interface TooltipItem {
  parsed: { x: number; y: number }
  label?: string
  dataset: { label?: string; yAxisID?: string }
}

/**
 * Tooltip callbacks of a chart (Chart.js `plugins.tooltip.callbacks`): the title says when
 * ("t = 330 s"; a bar chart's category), each line the series and its value with the axis's
 * unit ("KSM: 3.49 % of one core"). Functions, so the renderer adds them to a spec: specs stay
 * plain data (structuredClone-able) and the exported figures have no tooltips anyway.
 */
export function tooltipCallbacks(id: ChartId): { title(items: TooltipItem[]): string; label(item: TooltipItem): string } {
  const units = CHART_UNITS[id]
  const bar = id === 'types'
  return {
    title: (items) => (items.length === 0 ? '' : bar ? (items[0].label ?? '') : formatTime(items[0].parsed.x)),
    label: (item) => {
      const unit = units[item.dataset.yAxisID ?? 'y'] ?? units.y ?? ''
      return `${item.dataset.label ?? ''}: ${formatValue(item.parsed.y)}${unit ? ` ${unit}` : ''}`
    }
  }
}

/** The figure formats an export writes: PNG (raster, 2x) and the vector SVG and PDF. */
export const EXPORT_FORMATS = ['png', 'svg', 'pdf'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** A comma-separated list of formats ("png,svg,pdf"); throws a one-line message naming the bad one. */
export function parseFormats(text: string): ExportFormat[] {
  const out: ExportFormat[] = []
  for (const part of text.split(',')) {
    const f = part.trim().toLowerCase()
    if (f === '') continue
    if (!(EXPORT_FORMATS as readonly string[]).includes(f)) throw new Error(`"${part.trim()}" is not a figure format (png, svg or pdf)`)
    if (!out.includes(f as ExportFormat)) out.push(f as ExportFormat)
  }
  if (out.length === 0) throw new Error('give at least one figure format (png, svg or pdf)')
  return out
}

/** A name as a file-name stem: runs of other characters become '-' ('experiment' when empty). */
export function fileStem(name: string): string {
  return name.trim().replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'experiment'
}

/** The file of an exported figure: experiment, chart and format, e.g. `paper-fig6b-sharing.svg`. */
export function figureFileName(experiment: string, chart: string, format: ExportFormat): string {
  return `${fileStem(experiment)}-${chart}.${format}`
}
