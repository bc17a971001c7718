/**
 * Chart.js, registered once for the renderer (with chartjs-plugin-zoom for the live charts),
 * and the export of a chart spec as a figure: the same steps as the CLI's src/cli/png.ts
 * (900 x 500 CSS px, white background, not responsive, no animation) on Chart.js's
 * BasicPlatform, the platform it uses on @napi-rs/canvas too, so the figure equals the CLI's
 * for the same data.
 * - PNG: a detached <canvas> at 2x, encoded with the synchronous toDataURL (Chromium runs
 *   toBlob and convertToBlob as idle tasks, which a busy or headless page may not give it for a
 *   second).
 * - SVG: Chart.js draws on svgcanvas's context, which records each drawing call as an SVG
 *   element (vector lines, text as <text>).
 * - PDF: that SVG converted to one jsPDF page of 900 x 500 points by svg2pdf.js (vector too);
 *   both libraries are loaded on the first PDF export only.
 */
import { BasicPlatform, Chart, registerables, type ChartConfiguration } from 'chart.js'
import annotationPlugin from 'chartjs-plugin-annotation'
import zoomPlugin from 'chartjs-plugin-zoom'
import { Element as SvgCanvasElement } from 'svgcanvas'
import type { ChartConfig, ExportFormat } from '../../../core/analysis/charts.ts'
import { PNG_HEIGHT, PNG_SCALE, PNG_WIDTH, WHITE_BACKGROUND } from '../../../core/analysis/charts.ts'

Chart.register(...registerables, zoomPlugin, annotationPlugin)

export { Chart }

export { PNG_HEIGHT, PNG_SCALE, PNG_WIDTH }

/** The bytes of a `data:...;base64,` URL. */
function dataUrlBytes(url: string): Uint8Array {
  const bin = atob(url.slice(url.indexOf(',') + 1))
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes
}

/** The spec made fixed-size, unanimated, on white, for the offscreen BasicPlatform. */
function fixed(config: ChartConfig, scale: number): ChartConfiguration {
  const own = config as unknown as ChartConfiguration
  // No zoom plugin on a figure: it listens for events, and the SVG canvas has none.
  own.options = { ...own.options, responsive: false, maintainAspectRatio: false, animation: false, devicePixelRatio: scale, events: [] }
  own.options.plugins = { ...own.options.plugins, zoom: false } as never
  own.plugins = [...(own.plugins ?? []), WHITE_BACKGROUND]
  own.platform = BasicPlatform
  return own
}

/** Renders a chart spec to PNG bytes, width x height CSS px at `scale`. */
export function renderChartPng(config: ChartConfig, width = PNG_WIDTH, height = PNG_HEIGHT, scale = PNG_SCALE): Uint8Array {
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const chart = new Chart(canvas, fixed(config, scale))
  try {
    return dataUrlBytes(canvas.toDataURL('image/png'))
  } finally {
    chart.destroy()
  }
}

/** Renders a chart spec to an SVG document of width x height CSS px. */
export function renderChartSvg(config: ChartConfig, width = PNG_WIDTH, height = PNG_HEIGHT): string {
  const canvas = new SvgCanvasElement({ width, height })
  const own = fixed(config, 1)
  // Chart.js strokes a line through a cached Path2D unless the dataset has `segment` options;
  // svgcanvas records only direct path calls, so each line is given an (empty) segment.
  if (own.type === 'line') own.data.datasets = own.data.datasets.map((d) => ({ ...d, segment: {} }))
  const chart = new Chart(canvas as unknown as HTMLCanvasElement, own)
  try {
    // Read before destroy: Chart.js clears its canvas on destroy, which empties the SVG.
    return canvas.getContext('2d').getSerializedSvg(true)
  } finally {
    chart.destroy()
  }
}

/** Renders a chart spec to a one-page PDF of width x height points (the SVG, converted). */
export async function renderChartPdf(config: ChartConfig, title: string, width = PNG_WIDTH, height = PNG_HEIGHT): Promise<Uint8Array> {
  const svg = renderChartSvg(config, width, height)
  const [{ jsPDF }] = await Promise.all([import('jspdf'), import('svg2pdf.js')])
  const doc = new jsPDF({ orientation: width >= height ? 'landscape' : 'portrait', unit: 'pt', format: [width, height], compress: true })
  doc.setProperties({ title, creator: 'Samepage Lab' })
  // svg2pdf reads computed styles, so the SVG is in the document while it converts.
  const host = document.createElement('div')
  host.style.cssText = 'position:fixed;left:-10000px;top:0;visibility:hidden'
  host.innerHTML = svg
  document.body.append(host)
  try {
    await doc.svg(host.firstElementChild as Element, { x: 0, y: 0, width, height })
  } finally {
    host.remove()
  }
  return new Uint8Array(doc.output('arraybuffer'))
}

/** A chart spec as a figure file's bytes (SVG as text). */
export async function renderFigure(config: ChartConfig, format: ExportFormat, title: string): Promise<Uint8Array | string> {
  if (format === 'png') return renderChartPng(config)
  if (format === 'svg') return renderChartSvg(config)
  return renderChartPdf(config, title)
}
