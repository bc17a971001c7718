/**
 * Figure export of chart specs (src/core/analysis/charts.ts) in Node: Chart.js draws on @napi-rs/canvas
 * (Skia), on a white background: PNG on a raster canvas at 2x scale by default (DESIGN.md,
 * "Files the user keeps"), SVG on its SVG canvas (`createCanvas(w, h, SvgExportFlag)`) and PDF
 * on a page of its `PDFDocument` (one page of w x h points), both vector: Skia records Chart.js's
 * own drawing calls, no path is written here. The caller's configuration is not changed
 * (Chart.js mutates the one it is given, so it gets a copy); the same configuration gives the
 * same bytes in every format (Skia's PDF carries no date).
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createCanvas, GlobalFonts, PDFDocument, SvgExportFlag } from '@napi-rs/canvas'
import { BasicPlatform, Chart, registerables, type ChartConfiguration, type ChartItem, type ChartType, type Plugin } from 'chart.js'
import annotationPlugin from 'chartjs-plugin-annotation'

import { PNG_HEIGHT, PNG_SCALE, PNG_WIDTH, WHITE_BACKGROUND, type ExportFormat } from '../core/analysis/charts.ts'
// The annotation plugin draws the timeline's event markers (src/core/analysis/chart-events.ts).
Chart.register(...registerables, annotationPlugin)

export interface PngOptions {
  /** CSS pixels (default 900). */
  width?: number
  /** CSS pixels (default 500). */
  height?: number
  /** Device pixels per CSS pixel (default 2): the PNG is width*scale x height*scale. */
  scale?: number
}

export { PNG_HEIGHT, PNG_SCALE, PNG_WIDTH }

/** Fonts tried when the canvas sees no system font at all (minimal containers). */
const FALLBACK_FONTS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/truetype/freefont/FreeSans.ttf'
]

let fontsChecked = false

/** Makes sure text has glyphs: registers a known sans font if none is loaded; silent if none. */
function ensureFonts(): void {
  if (fontsChecked) return
  fontsChecked = true
  if (GlobalFonts.families.length > 0) return
  for (const path of FALLBACK_FONTS) {
    try {
      if (existsSync(path) && GlobalFonts.registerFromPath(path, 'sans-serif')) return
    } catch {
      // try the next one; without any font the chart still renders, without text
    }
  }
}


function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** Deep copy of plain objects and arrays; functions, typed arrays and class instances shared. */
function clonePlain<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clonePlain) as T
  if (!isPlainObject(v)) return v
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v)) out[k] = clonePlain(v[k])
  return out as T
}

/**
 * Renders a chart configuration to PNG bytes: width x height CSS px at `scale` (so the image
 * is width*scale x height*scale pixels), not responsive, no animation, white background.
 */
export async function renderChartPng<TType extends ChartType, TData, TLabel>(config: ChartConfiguration<TType, TData, TLabel>, opts: PngOptions = {}): Promise<Buffer> {
  const width = opts.width ?? PNG_WIDTH
  const height = opts.height ?? PNG_HEIGHT
  const scale = opts.scale ?? PNG_SCALE
  if (!(width > 0 && height > 0 && scale > 0)) throw new RangeError(`renderChartPng: bad size ${width}x${height} at scale ${scale}`)
  ensureFonts()
  // Chart.js takes the canvas's size as the chart's CSS size and multiplies the backing store
  // by devicePixelRatio itself, so the canvas starts at CSS size and ends at width*scale.
  const canvas = createCanvas(width, height)
  const chart = new Chart(canvas as unknown as ChartItem, fixedCopy(config, scale))
  try {
    return await canvas.encode('png')
  } finally {
    chart.destroy()
  }
}

/** A copy of the configuration for a fixed-size, unanimated figure on a white background. */
function fixedCopy<TType extends ChartType, TData, TLabel>(config: ChartConfiguration<TType, TData, TLabel>, scale: number): ChartConfiguration<TType, TData, TLabel> {
  const own = clonePlain(config)
  own.options = {
    ...own.options,
    responsive: false,
    maintainAspectRatio: false,
    animation: false,
    devicePixelRatio: scale
  } as typeof own.options
  own.plugins = [...(own.plugins ?? []), WHITE_BACKGROUND as Plugin<TType>]
  return own
}

function checkSize(what: string, width: number, height: number): void {
  if (!(width > 0 && height > 0)) throw new RangeError(`${what}: bad size ${width}x${height}`)
}

/** Renders a chart configuration to an SVG document of width x height CSS px (text as text). */
export function renderChartSvg<TType extends ChartType, TData, TLabel>(config: ChartConfiguration<TType, TData, TLabel>, opts: PngOptions = {}): Buffer {
  const width = opts.width ?? PNG_WIDTH
  const height = opts.height ?? PNG_HEIGHT
  checkSize('renderChartSvg', width, height)
  ensureFonts()
  const canvas = createCanvas(width, height, SvgExportFlag.NoPrettyXML)
  const chart = new Chart(canvas as unknown as ChartItem, fixedCopy(config, 1))
  try {
    return canvas.getContent()
  } finally {
    chart.destroy()
  }
}

/** Renders a chart configuration to a one-page PDF of width x height points, fonts embedded. */
export function renderChartPdf<TType extends ChartType, TData, TLabel>(config: ChartConfiguration<TType, TData, TLabel>, opts: PngOptions & { title?: string } = {}): Buffer {
  const width = opts.width ?? PNG_WIDTH
  const height = opts.height ?? PNG_HEIGHT
  checkSize('renderChartPdf', width, height)
  ensureFonts()
  const doc = new PDFDocument({ title: opts.title, creator: 'Samepage Lab' })
  const ctx = doc.beginPage(width, height)
  // A PDF page gives a context without a canvas; Chart.js wants both (it reads the size from
  // the canvas and the context from canvas.getContext), so the page gets a stand-in canvas.
  const canvas = { width, height, style: {}, getContext: () => ctx }
  Object.defineProperty(ctx, 'canvas', { value: canvas, configurable: true })
  const own = fixedCopy(config, 1)
  own.platform = BasicPlatform
  const chart = new Chart(canvas as unknown as ChartItem, own)
  chart.destroy()
  doc.endPage()
  return doc.close()
}

/** A figure in one of the export formats. */
export async function renderFigure<TType extends ChartType, TData, TLabel>(config: ChartConfiguration<TType, TData, TLabel>, format: ExportFormat, opts: PngOptions & { title?: string } = {}): Promise<Buffer> {
  if (format === 'png') return renderChartPng(config, opts)
  if (format === 'svg') return renderChartSvg(config, opts)
  return renderChartPdf(config, opts)
}

/** Renders to PNG and writes `path` atomically (temporary file in the same folder, then rename). */
export async function writeChartPng<TType extends ChartType, TData, TLabel>(path: string, config: ChartConfiguration<TType, TData, TLabel>, opts: PngOptions = {}): Promise<void> {
  const png = await renderChartPng(config, opts)
  const tmp = `${path}.tmp-${process.pid}`
  try {
    writeFileSync(tmp, png)
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}
