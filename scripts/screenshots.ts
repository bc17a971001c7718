/**
 * `npm run screenshots`: the app's main states in web mode, as a person sees them at
 * 1280 x 800, into docs/images/ (README shows them): the editor with a preset loaded, a run
 * in progress, the run paused with the per-VM results at the crosshair's time and the events,
 * and the results of a finished run (editor folded away). Needs Chromium (/usr/bin/chromium or
 * $CHROMIUM_PATH); builds web mode first when it is stale.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { browserSkipReason, ensureWebBuild, launchChromium, ROOT, serveStatic } from './web-harness.ts'

const OUT = join(ROOT, 'docs', 'images')
const VIEWPORT = { width: 1280, height: 800 }
/** The paused run's picture: charts, events, results and per-VM tables at once. */
const PAUSED_HEIGHT = 1850

async function main(): Promise<void> {
  const skip = browserSkipReason()
  if (skip !== undefined) {
    console.error(`screenshots: ${skip}`)
    process.exit(2)
  }
  mkdirSync(OUT, { recursive: true })
  const server = await serveStatic(ensureWebBuild())
  const chromium = await launchChromium(VIEWPORT)
  try {
    const page = await chromium.context.newPage()
    page.on('dialog', (d) => void d.accept())
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' })
    await page.goto(`${server.url}index.html`)
    const button = (name: string) => page.getByRole('button', { name, exact: true })
    await button('Run').waitFor()

    await page.getByLabel('Preset').selectOption('paper-fig6b')
    await page.getByLabel('Duration (s)').fill('900')
    await page.locator('body').click({ position: { x: 5, y: 790 } })
    await page.screenshot({ path: join(OUT, 'app-editor.png') })
    console.log('docs/images/app-editor.png')

    await page.getByRole('radio', { name: '100x' }).check({ force: true })
    await button('Run').click()
    // About half way through the run.
    const simTime = page.getByLabel('Simulated time')
    for (let i = 0; i < 600; i++) {
      const t = Number(/t = ([\d,.]+)/.exec((await simTime.textContent()) ?? '')?.[1].replace(/,/g, '') ?? 0)
      if (t >= 400) break
      await page.waitForTimeout(100)
    }
    await page.screenshot({ path: join(OUT, 'app-running.png') })
    console.log('docs/images/app-running.png')

    // Paused a little later, editor folded away: the crosshair at t = 140 s on the sharing chart
    // (where KSM's sharing dropped), the Hint lane's per-VM results there, and its events.
    for (let i = 0; i < 600; i++) {
      const t = Number(/t = ([\d,.]+)/.exec((await simTime.textContent()) ?? '')?.[1].replace(/,/g, '') ?? 0)
      if (t >= 500) break
      await page.waitForTimeout(100)
    }
    await button('Pause').click()
    await page.locator('.run-progress .state', { hasText: 'Paused' }).waitFor({ timeout: 60_000 })
    await page.getByText('Point at a chart to see them at an earlier time.').waitFor()
    await button('Hide editor').click()
    // The Hint lane's events (its hint stack dropping) and per-VM results.
    await page.getByRole('combobox', { name: 'Lane', exact: true }).first().selectOption({ label: 'Hint' })
    // A taller window, so the crosshair on the charts and the per-VM tables are on one image.
    await page.setViewportSize({ width: VIEWPORT.width, height: PAUSED_HEIGHT })
    const sharing = page.getByRole('img', { name: 'Sharing ratio' })
    await sharing.scrollIntoViewIfNeeded()
    await page.waitForTimeout(300) // the charts resize to the window
    const box = await sharing.boundingBox()
    if (!box) throw new Error('screenshots: no sharing chart')
    // The chart's time axis runs over most of the canvas: find the pixel of t = 140 s by moving
    // along it until the crosshair says so.
    let x = box.x + box.width * 0.3
    for (let i = 0; i < 40; i++) {
      await page.mouse.move(x, box.y + box.height * 0.55)
      const shown = await sharing.getAttribute('data-crosshair-t')
      if (shown === null) {
        x = box.x + box.width * (0.2 + 0.02 * i) // not over the plot area yet
        continue
      }
      const t = Number(shown)
      if (Math.abs(t - 140) < 2) break
      x += ((140 - t) / 500) * box.width * 0.8
    }
    await page.getByRole('heading', { name: /^Per-VM results: Hint \(at t = 140 s; paused at t = [\d.]+ s\)$/ }).waitFor()
    await page.screenshot({ path: join(OUT, 'app-paused.png') })
    console.log('docs/images/app-paused.png')
    await page.setViewportSize(VIEWPORT)
    await button('Show editor').click()
    await button('Resume').click()

    await page.getByRole('radio', { name: 'max' }).check({ force: true })
    await page.locator('.run-progress .state', { hasText: 'Done' }).waitFor({ timeout: 120_000 })
    await button('Hide editor').click()
    // The last charts, the events and the results table.
    await page.locator('.results-table').evaluate((el) => el.scrollIntoView({ block: 'end' }))
    await page.locator(':focus').blur()
    await page.mouse.move(5, 790)
    await page.screenshot({ path: join(OUT, 'app-results.png') })
    console.log('docs/images/app-results.png')
  } finally {
    await chromium.close()
    await server.close()
  }
}

await main()
