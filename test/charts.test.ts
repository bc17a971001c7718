import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCanvas, loadImage } from '@napi-rs/canvas'
import { describe, expect, it } from 'vitest'
import { CHARTS, chartNote, coincidentLanes, countersChart, cpuChart, DASHES, figureFileName, formatTime, hintChart, laneStyles, OKABE_ITO, parseFormats, sharingChart, toPoints, tooltipCallbacks, typeBreakdownChart, type LaneData } from '../src/core/analysis/charts.ts'
import type { MetricName } from '../src/core/experiment/metrics.ts'
import { renderChartPdf, renderChartPng, renderChartSvg, writeChartPng } from '../src/cli/png.ts'

const N = 241
const STEP_S = 10

/** A lane of N samples every STEP_S seconds; columns not given are zero. */
function fakeLane(name: string, scanner: string, cols: Partial<Record<MetricName, (t: number) => number>> = {}): LaneData {
  const t = Float64Array.from({ length: N }, (_, i) => i * STEP_S)
  const store = new Map<MetricName, Float64Array>([['t_s', t]])
  for (const [k, f] of Object.entries(cols) as [MetricName, (t: number) => number][]) store.set(k, t.map(f))
  return { name, scanner, column: (m) => store.get(m) ?? new Float64Array(N) }
}

const ksm = fakeLane('KSM', 'ksm', { sharing_ratio: (t) => 0.4 * Math.exp(-t / 600) + 0.1, cpu_percent: () => 3.49, pages_shared: () => 100 })
const hint = fakeLane('Hint', 'hint', {
  sharing_ratio: (t) => 0.3 + 0.4 * (1 - Math.exp(-t / 500)),
  cpu_percent: () => 1.72,
  hint_stack_depth: (t) => 500 + 400 * Math.sin(t / 100),
  hints_dropped: (t) => 3 * t,
  hints_pushed: (t) => 100 * t,
  alloc_page_cache: () => 6000,
  shared_page_cache: (t) => (t < 1000 ? 0 : 5900),
  alloc_other: () => 5000,
  shared_other: () => 1000
})
const LAST_T = (N - 1) * STEP_S

/** The parts of a line config the tests read, without fighting Chart.js's option unions. */
interface Seen {
  options: {
    parsing: unknown
    normalized: unknown
    animation: unknown
    indexAxis: unknown
    responsive: unknown
    scales: Record<string, { type: string; min: number; max: number }>
    plugins: { title: { text: string }; legend: { display: boolean }; decimation: { enabled: boolean; algorithm: string } }
  }
  data: { labels?: string[]; datasets: { label: string; data: { x: number; y: number }[] | number[]; borderColor: string; borderDash: number[]; pointRadius: number }[] }
}
const seen = (c: unknown): Seen => c as Seen

describe('chart specs', () => {
  it('toPoints pairs time with values and stops at the shorter column', () => {
    expect(toPoints(new Float64Array([0, 1, 2]), new Float64Array([5, 6]))).toEqual([
      { x: 0, y: 5 },
      { x: 1, y: 6 }
    ])
  })

  it('the sharing chart has one pre-shaped, unparsed line per lane: KSM blue, hint vermillion (Okabe-Ito)', () => {
    const c = seen(sharingChart([ksm, hint]))
    expect(c.data.datasets.map((d) => d.label)).toEqual(['KSM', 'Hint'])
    expect(c.data.datasets.map((d) => d.borderColor)).toEqual([OKABE_ITO.blue, OKABE_ITO.vermillion])
    expect(c.data.datasets[0].data).toHaveLength(N)
    expect(c.data.datasets[1].data[10]).toEqual({ x: 10 * STEP_S, y: hint.column('sharing_ratio')[10] })
    expect(c.data.datasets.every((d) => d.pointRadius === 0)).toBe(true)
    expect(c.options.parsing).toBe(false)
    expect(c.options.normalized).toBe(true)
    expect(c.options.animation).toBe(false)
    expect(c.options.indexAxis).toBe('x')
    expect(c.options.plugins.decimation).toMatchObject({ enabled: true, algorithm: 'lttb' })
    expect(c.options.plugins.title.text).toBe('Sharing ratio')
    expect(c.options.plugins.legend.display).toBe(true)
  })

  it('the time axis is fixed from 0 to the last sample and the ratio axis from 0 to 1', () => {
    const { x, y } = seen(sharingChart([ksm, hint])).options.scales
    expect(x).toMatchObject({ type: 'linear', min: 0, max: LAST_T })
    expect(y).toMatchObject({ min: 0, max: 1 })
  })

  it('the caller chooses responsive and the title', () => {
    const c = seen(sharingChart([ksm], { responsive: false, title: 'Figure 6 (a)' }))
    expect(c.options.responsive).toBe(false)
    expect(c.options.plugins.title.text).toBe('Figure 6 (a)')
    expect(seen(sharingChart([ksm])).options.responsive).toBe(true)
  })

  it('two lanes of one scanner kind get different palette colours, and every lane its own dash', () => {
    const [a, b, c] = laneStyles([ksm, fakeLane('KSM slow', 'ksm'), hint])
    expect(a).toMatchObject({ color: OKABE_ITO.blue, dash: [] })
    expect(b.color).not.toBe(a.color)
    expect(Object.values(OKABE_ITO)).toContain(b.color)
    expect(b.dash).toEqual(DASHES[1])
    expect(c).toMatchObject({ color: OKABE_ITO.vermillion, dash: DASHES[2] })
  })

  it('eight lanes of one kind all differ in colour and in dash', () => {
    const styles = laneStyles(Array.from({ length: 8 }, (_, i) => fakeLane(`K${i}`, 'ksm')))
    expect(new Set(styles.map((s) => s.color)).size).toBe(8)
    expect(new Set(styles.map((s) => JSON.stringify(s.dash))).size).toBe(8)
  })

  it('later lanes are drawn wider, so a lane under an identical one still shows', () => {
    const widths = laneStyles([ksm, hint, fakeLane('Hybrid', 'hybrid')]).map((s) => s.width)
    expect(widths[0]).toBeLessThan(widths[1])
    expect(widths[1]).toBeLessThan(widths[2])
    expect(Math.max(...laneStyles(Array.from({ length: 12 }, (_, i) => fakeLane(`L${i}`, 'ksm'))).map((s) => s.width))).toBeLessThanOrEqual(4.5)
  })

  it('lanes that coincide are named in the subtitle; lanes that differ are not', () => {
    const twin = fakeLane('Hint again', 'hint', { sharing_ratio: (t) => 0.3 + 0.4 * (1 - Math.exp(-t / 500)) })
    expect(coincidentLanes([ksm, hint, twin], 'sharing_ratio')).toEqual([['Hint', 'Hint again']])
    const sub = (sharingChart([ksm, hint, twin]).options?.plugins as { subtitle: { display: boolean; text: string } }).subtitle
    expect(sub).toMatchObject({ display: true, text: 'Hint and Hint again coincide (the later lane drawn wider, underneath)' })
    expect(chartNote('sharing', [ksm, hint])).toBe('')
    expect((sharingChart([ksm, hint]).options?.plugins as { subtitle: { display: boolean } }).subtitle.display).toBe(false)
  })

  it('the CPU chart on a log scale starts at a nice floor below the smallest positive sample', () => {
    const { y } = seen(cpuChart([ksm, hint], { yLog: true })).options.scales
    expect(y.type).toBe('logarithmic')
    expect(y.min).toBeLessThanOrEqual(1.72) // the hint lane's 1.72 %
    expect(y.max).toBe(5)
    expect(y.max / y.min).toBeGreaterThanOrEqual(10) // at least one decade
  })

  it('the counters chart draws only the picked counters, each with its own dash', () => {
    const c = seen(countersChart([ksm, hint], { counters: ['pages_volatile', 'pages_sharing'] }))
    expect(c.data.datasets.map((d) => d.label)).toEqual(['KSM: pages_sharing', 'KSM: pages_volatile', 'Hint: pages_sharing', 'Hint: pages_volatile'])
    expect(c.data.datasets[0].borderDash).toEqual(DASHES[1])
    expect(c.data.datasets[1].borderDash).toEqual(DASHES[3])
  })

  it('tooltips say "t = 330 s" and the value with its unit', () => {
    const cb = tooltipCallbacks('cpu')
    const item = { parsed: { x: 330, y: 3.4912 }, dataset: { label: 'KSM', yAxisID: 'y' } }
    expect(cb.title([item])).toBe('t = 330 s')
    expect(cb.label(item)).toBe('KSM: 3.49 % of one core')
    expect(tooltipCallbacks('counters').label({ parsed: { x: 0, y: 12345 }, dataset: { label: 'KSM: pages_sharing' } })).toBe('KSM: pages_sharing: 12,345 pages')
    expect(tooltipCallbacks('sharing').label({ parsed: { x: 0, y: 0.41234 }, dataset: { label: 'Hint' } })).toBe('Hint: 0.412')
    expect(formatTime(2700.25)).toBe('t = 2,700.3 s')
  })

  it('figure files carry the experiment and the chart; formats are checked by name', () => {
    expect(figureFileName('paper-fig6b', 'sharing', 'svg')).toBe('paper-fig6b-sharing.svg')
    expect(figureFileName('my run / v2', 'cpu', 'pdf')).toBe('my-run-v2-cpu.pdf')
    expect(parseFormats('png, SVG,pdf,png')).toEqual(['png', 'svg', 'pdf'])
    expect(() => parseFormats('png,jpeg')).toThrow('"jpeg" is not a figure format (png, svg or pdf)')
    expect(() => parseFormats(' , ')).toThrow('at least one')
  })

  it('the CPU axis starts at 0 and is fixed above the highest sample', () => {
    const { y } = seen(cpuChart([ksm, hint])).options.scales
    expect(y.min).toBe(0)
    expect(y.max).toBeGreaterThanOrEqual(3.49)
  })

  it('the hint chart shows only lanes with hints, depth and dropped on two axes', () => {
    const c = seen(hintChart([ksm, hint]))
    expect(c.data.datasets.map((d) => d.label)).toEqual(['Hint: hint stack depth', 'Hint: hints dropped'])
    expect(Object.keys(c.options.scales).sort()).toEqual(['x', 'y', 'y1'])
  })

  it('the counters chart draws pages_shared and pages_sharing per lane unless others are picked', () => {
    expect(seen(countersChart([ksm, hint])).data.datasets.map((d) => d.label)).toEqual(['KSM: pages_shared', 'KSM: pages_sharing', 'Hint: pages_shared', 'Hint: pages_sharing'])
  })

  it('the page-type breakdown reads the last sample unless told otherwise', () => {
    const last = seen(typeBreakdownChart(hint))
    expect(last.data.labels).toEqual(['Page cache', 'Text', 'Zero', 'Other'])
    expect(last.data.datasets.map((d) => d.data)).toEqual([
      [6000, 0, 0, 5000],
      [5900, 0, 0, 1000]
    ])
    expect(seen(typeBreakdownChart(hint, 0)).data.datasets[1].data).toEqual([0, 0, 0, 1000])
  })

  it('the registry builds every chart with its accessible name', () => {
    expect(Object.fromEntries(Object.entries(CHARTS).map(([id, e]) => [id, e.ariaLabel]))).toEqual({
      sharing: 'Sharing ratio',
      cpu: 'Scanner CPU',
      saved: 'Memory saved',
      hints: 'Hint stack',
      counters: 'KSM counters',
      types: 'Page types'
    })
    for (const e of Object.values(CHARTS)) expect(e.build([ksm, hint]).type).toMatch(/^(line|bar)$/)
  })

  it('a spec is plain data: it survives structuredClone', () => {
    for (const e of Object.values(CHARTS)) expect(() => structuredClone(e.build([ksm, hint]))).not.toThrow()
  })
})

describe('vector export (SVG and PDF from the same spec)', () => {
  it('an SVG of 900 x 500 with the lines as paths and the text as text', () => {
    const svg = renderChartSvg(sharingChart([ksm, hint], { responsive: false })).toString('utf8')
    expect(svg).toMatch(/<svg [^>]*width="900" height="500"/)
    expect(svg).not.toContain('<image')
    // the lanes' colours are on vector paths (Skia turns a dashed stroke into filled dash shapes)
    expect(svg).toMatch(new RegExp(`<path[^>]*(stroke|fill)="${OKABE_ITO.vermillion}"`))
    expect(svg).toContain('>Sharing</text>') // Skia writes a text run per word
  })

  it('a one-page PDF of 900 x 500 points; the same spec gives the same bytes', () => {
    const spec = sharingChart([ksm, hint], { responsive: false })
    const a = renderChartPdf(spec, { title: 'fig' })
    expect(a.subarray(0, 5).toString()).toBe('%PDF-')
    expect(a.toString('latin1')).toMatch(/\/MediaBox \[0 0 900 500\]/)
    expect(a.toString('latin1').match(/\/Type \/Page\b/g)).toHaveLength(1)
    expect(renderChartPdf(spec, { title: 'fig' }).equals(a)).toBe(true)
    // Skia numbers SVG clip paths per process in hex (cl_9, cl_a, ...): equal up to those ids.
    const ids = (b: Buffer) => b.toString('utf8').replace(/\bcl_[0-9a-f]+/g, 'cl')
    expect(ids(renderChartSvg(spec))).toBe(ids(renderChartSvg(spec)))
  })
})

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

describe('PNG export', () => {
  it('renders a PNG of width*scale x height*scale (1800 x 1000 at scale 2 by default)', async () => {
    const png = await renderChartPng(sharingChart([ksm, hint], { responsive: false }))
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE)
    expect(png.toString('latin1', 12, 16)).toBe('IHDR')
    expect(png.readUInt32BE(16)).toBe(1800)
    expect(png.readUInt32BE(20)).toBe(1000)
  })

  it('paints a white background', async () => {
    const png = await renderChartPng(sharingChart([ksm, hint], { responsive: false }))
    const img = await loadImage(png)
    const canvas = createCanvas(img.width, img.height)
    const ctx = canvas.getContext('2d')
    ctx.drawImage(img, 0, 0)
    expect([...ctx.getImageData(0, 0, 1, 1).data]).toEqual([255, 255, 255, 255])
    expect([...ctx.getImageData(img.width - 1, img.height - 1, 1, 1).data]).toEqual([255, 255, 255, 255])
  })

  it('the same configuration gives the same bytes, and is not changed by rendering', async () => {
    const config = sharingChart([ksm, hint], { responsive: false })
    const before = JSON.stringify(config)
    const a = await renderChartPng(config)
    const b = await renderChartPng(config)
    expect(a.equals(b)).toBe(true)
    expect(JSON.stringify(config)).toBe(before)
  })

  it('honours width, height and scale', async () => {
    const png = await renderChartPng(typeBreakdownChart(hint), { width: 400, height: 300, scale: 1 })
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([400, 300])
  })

  it('writes the file atomically, leaving no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samepage-png-'))
    try {
      const path = join(dir, 'sharing.png')
      await writeChartPng(path, sharingChart([ksm, hint], { responsive: false }))
      expect(existsSync(path)).toBe(true)
      expect([...readFileSync(path).subarray(0, 8)]).toEqual(PNG_SIGNATURE)
      expect(readdirSync(dir)).toEqual(['sharing.png'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
