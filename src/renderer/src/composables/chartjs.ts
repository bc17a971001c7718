/**
 * Chart.js, registered once for the renderer, and the PNG export of a chart spec: the same
 * steps as the CLI's src/cli/png.ts (900 x 500 CSS px, 2x scale, white background, not
 * responsive, no animation) on Chart.js's BasicPlatform, the platform it uses on
 * @napi-rs/canvas too, so the figure equals the CLI's for the same data. The canvas is a
 * detached <canvas>, encoded with the synchronous toDataURL: Chromium runs toBlob and
 * convertToBlob as idle tasks, which a busy (or headless) page may not give it for a second.
 */
import { BasicPlatform, Chart, registerables, type ChartConfiguration } from 'chart.js'
import annotationPlugin from 'chartjs-plugin-annotation'
import type { ChartConfig } from '../../../core/charts.ts'
import { PNG_HEIGHT, PNG_SCALE, PNG_WIDTH, WHITE_BACKGROUND } from '../../../core/charts.ts'

Chart.register(...registerables, annotationPlugin)

export { Chart }

export { PNG_HEIGHT, PNG_SCALE, PNG_WIDTH }


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
  own.plugins = [...(own.plugins ?? []), WHITE_BACKGROUND]
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
