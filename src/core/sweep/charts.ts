/**
 * Chart specs of a sweep, built with the chart-spec module's colours and conventions
 * (src/core/analysis/charts.ts): each metric against each axis per lane, the mean over seeds as a line
 * with a band from the lowest to the highest seed, and the frontier (mean scanner CPU against
 * memory saved, one dot per point x lane, the Pareto-optimal ones joined). Pure.
 */
import type { ChartDataset, ScaleOptions } from 'chart.js'
import { laneStyles, niceCeil, type ChartOpts, type LaneData, type LineChartConfig, type Point } from '../analysis/charts.ts'
import type { SweepResult } from './results.ts'

const FRONTIER_COLOR = '#222222'

/** The lanes of a result in order of first appearance, styled as the time charts style them. */
function laneStyleMap(result: SweepResult): Map<string, { color: string; dash: number[] }> {
  const lanes: { name: string; scanner: string }[] = []
  for (const p of result.points) for (const l of p.lanes) if (!lanes.some((x) => x.name === l.lane)) lanes.push({ name: l.lane, scanner: l.scanner })
  const styles = laneStyles(lanes.map((l) => ({ ...l, column: () => [] })) as LaneData[])
  return new Map(lanes.map((l, i) => [l.name, styles[i]]))
}

function alpha(hex: string, a: number): string {
  const v = parseInt(hex.slice(1), 16)
  return `rgba(${(v >> 16) & 0xff}, ${(v >> 8) & 0xff}, ${v & 0xff}, ${a})`
}

/** x of an axis value: the number itself, or its position in the axis's values if not a number. */
function xOf(result: SweepResult, axis: number, value: unknown): number {
  return typeof value === 'number' ? value : result.axes[axis].values.findIndex((v) => JSON.stringify(v) === JSON.stringify(value))
}

function base(title: string, datasets: ChartDataset<'line', Point[]>[], x: ScaleOptions<'linear' | 'logarithmic'>, y: ScaleOptions<'linear'>, opts: ChartOpts): LineChartConfig {
  return {
    type: 'line',
    data: { datasets },
    options: {
      responsive: opts.responsive ?? true,
      maintainAspectRatio: opts.maintainAspectRatio ?? false,
      animation: false,
      parsing: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: { x: x as ScaleOptions<'linear'>, y },
      plugins: {
        title: { display: true, text: opts.title ?? title },
        // Band datasets have no label and no legend entry.
        legend: { display: true, position: 'top', labels: { filter: (item) => item.text !== '' } }
      }
    }
  }
}

/** File-name-safe slug of a path or metric (`lanes[KSM].scanner.pages_to_scan` -> `lanes-KSM-scanner-pages_to_scan`). */
export function slug(s: string): string {
  return s
    .replace(/[^A-Za-z0-9_]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
}

/**
 * `metric` against axis `axis`: one line per lane (and per combination of the other axes'
 * values), the mean over seeds, with a band from min to max over seeds.
 */
export function metricVsAxisChart(result: SweepResult, metric: string, axis: number, opts: ChartOpts = {}): LineChartConfig {
  const styles = laneStyleMap(result)
  const path = result.axes[axis].path
  const groups = new Map<string, { lane: string; label: string; pts: { x: number; mean: number; min: number; max: number }[] }>()
  for (const p of result.points) {
    const others = result.axes
      .map((a, i) => (i === axis ? '' : `${a.path}=${JSON.stringify(p.coords[a.path])}`))
      .filter((s) => s !== '')
      .join(', ')
    for (const l of p.lanes) {
      const s = l.metrics[metric]
      if (!s) continue
      const key = `${l.lane}\u0000${others}`
      const g = groups.get(key) ?? { lane: l.lane, label: others ? `${l.lane} (${others})` : l.lane, pts: [] }
      g.pts.push({ x: xOf(result, axis, p.coords[path]), mean: s.mean, min: s.min, max: s.max })
      groups.set(key, g)
    }
  }
  const datasets: ChartDataset<'line', Point[]>[] = []
  let yMax = 0
  let n = 0
  for (const g of groups.values()) {
    const st = styles.get(g.lane)!
    g.pts.sort((a, b) => a.x - b.x)
    const dash = n++ < 1 || groups.size <= styles.size ? st.dash : [6, 3]
    const band = { borderWidth: 0, pointRadius: 0, pointHitRadius: 0, tension: 0 }
    datasets.push({ label: '', data: g.pts.map((q) => ({ x: q.x, y: q.min })), borderColor: 'transparent', backgroundColor: 'transparent', fill: false, ...band })
    datasets.push({ label: '', data: g.pts.map((q) => ({ x: q.x, y: q.max })), borderColor: 'transparent', backgroundColor: alpha(st.color, 0.18), fill: '-1', ...band })
    datasets.push({ label: g.label, data: g.pts.map((q) => ({ x: q.x, y: q.mean })), borderColor: st.color, backgroundColor: st.color, borderWidth: 1.5, borderDash: dash, pointRadius: 3, fill: false, tension: 0 })
    for (const q of g.pts) yMax = Math.max(yMax, q.max)
  }
  const log = result.axes[axis].scale === 'log'
  const numeric = result.axes[axis].values.every((v) => typeof v === 'number')
  const x: ScaleOptions<'linear' | 'logarithmic'> = log
    ? { type: 'logarithmic', title: { display: true, text: `${path} (log scale)` } }
    : { type: 'linear', title: { display: true, text: numeric ? path : `${path} (position in its values)` }, ...(numeric ? {} : { ticks: { stepSize: 1 } }) }
  const yTop = metric.startsWith('sharing_ratio') ? 1 : niceCeil(yMax)
  return base(`${metric} vs ${path}`, datasets, x, { type: 'linear', min: 0, max: yTop, title: { display: true, text: `${metric} (mean, band: min to max over ${result.seeds.length} seed${result.seeds.length === 1 ? '' : 's'})` } }, opts)
}

/**
 * The cost-benefit frontier: mean scanner CPU (% of one core) against mean memory saved (MiB),
 * one dot per point x lane, the Pareto-optimal dots joined in order of CPU.
 */
export function frontierChart(result: SweepResult, opts: ChartOpts = {}): LineChartConfig {
  const styles = laneStyleMap(result)
  const datasets: ChartDataset<'line', Point[]>[] = []
  for (const [lane, st] of styles) {
    const data = result.frontier.filter((f) => f.lane === lane).map((f) => ({ x: f.cpu_percent, y: f.saved_mib }))
    datasets.push({ label: lane, data, borderColor: st.color, backgroundColor: st.color, showLine: false, pointRadius: 4, pointHoverRadius: 6 })
  }
  const pareto = result.frontier.filter((f) => f.pareto).map((f) => ({ x: f.cpu_percent, y: f.saved_mib }))
  datasets.push({ label: 'Pareto frontier', data: pareto, borderColor: FRONTIER_COLOR, backgroundColor: FRONTIER_COLOR, borderWidth: 1.5, pointRadius: 0, fill: false, tension: 0, showLine: true })
  const xMax = niceCeil(Math.max(0, ...result.frontier.map((f) => f.cpu_percent)))
  const yMax = niceCeil(Math.max(0, ...result.frontier.map((f) => f.saved_mib)))
  return base(
    'Frontier: memory saved against scanner CPU',
    datasets,
    { type: 'linear', min: 0, max: xMax, title: { display: true, text: 'Scanner CPU, mean over the run (% of one core)' } },
    { type: 'linear', min: 0, max: yMax, title: { display: true, text: 'Memory saved, mean over the run (MiB)' } },
    opts
  )
}

/** Every chart of a result, by file name (without .png): metric-vs-axis ones, then the frontier. */
export function sweepCharts(result: SweepResult, opts: ChartOpts = {}): [name: string, chart: LineChartConfig][] {
  const out: [string, LineChartConfig][] = []
  result.axes.forEach((a, i) => {
    for (const m of result.metrics) out.push([`${slug(m)}-vs-${slug(a.path)}`, metricVsAxisChart(result, m, i, opts)])
  })
  out.push(['frontier', frontierChart(result, opts)])
  return out
}
