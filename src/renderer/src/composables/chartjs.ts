/**
 * Chart.js, registered once for the renderer, and the PNG export of a chart spec: the same
 * steps as the CLI's src/cli/png.ts (900 x 500 CSS px, 2x scale, white background, not
 * responsive, no animation) on Chart.js's BasicPlatform, the platform it uses on
 * @napi-rs/canvas too, so the figure equals the CLI's for the same data. The canvas is a
 * detached <canvas>, encoded with the synchronous toDataURL: Chromium runs toBlob and
 * convertToBlob as idle tasks, which a busy (or headless) page may not give it for a second.
 */
import { BasicPlatform, Chart, registerables, type ChartConfiguration, type Plugin } from 'chart.js'
import type { ChartConfig } from '../../../core/charts.ts'

Chart.register(...registerables)

export { Chart }

export const PNG_WIDTH = 900 // src/cli/png.ts
export const PNG_HEIGHT = 500
export const PNG_SCALE = 2

/** Paints the whole canvas white before Chart.js draws (a PNG is transparent otherwise). */
const whiteBackground: Plugin = {
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

/** The bytes of a `data:...;base64,` URL. */
function dataUrlBytes(url: string): Uint8Array {
  const bin = atob(url.slice(url.indexOf(',') + 1))
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes
}

/** Renders a chart spec to PNG bytes, width x height CSS px at `scale`. */
export function renderChartPng(config: ChartConfig, width = PNG_WIDTH, height = PNG_HEIGHT, scale = PNG_SCALE): Uint8Array {
  const own = config as unknown as ChartConfiguration
  own.options = { ...own.options, responsive: false, maintainAspectRatio: false, animation: false, devicePixelRatio: scale }
  own.plugins = [...(own.plugins ?? []), whiteBackground]
  own.platform = BasicPlatform
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const chart = new Chart(canvas, own)
  try {
    return dataUrlBytes(canvas.toDataURL('image/png'))
  } finally {
    chart.destroy()
  }
}
