// The charts as a researcher's instrument (issue 15, items 6, 7, 8, 11, 12), end to end in
// headless Chromium against web mode, through the screens only: many lanes that stay apart,
// zoom, pan and one crosshair, a log axis and the counter picker, SVG and PDF exports named
// after the experiment, several saved results at once, and the explanations.
// Skipped, with the reason in its name, where no Chromium is installed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Download, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserSkipReason, buildWebInto, launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../scripts/web-harness.ts'

const skip = browserSkipReason()
if (skip !== undefined) console.warn(`test/e2e-charts.test.ts skipped: ${skip}`)

/** Simulated seconds of the runs: short, at max speed. */
const DURATION_S = 300

describe.skipIf(skip !== undefined)(skip ?? 'charts in Chromium', () => {
  let server: StaticServer
  let chromium: LaunchedBrowser
  let page: Page
  let files: string

  const button = (name: string) => page.getByRole('button', { name, exact: true })
  const chart = (name: string) => page.getByRole('img', { name, exact: true })
  const attr = async (name: string, a: string) => (await chart(name).getAttribute(a)) ?? ''
  const num = async (name: string, a: string) => Number(await attr(name, a))
  const TIME_CHARTS = ['Sharing ratio', 'Scanner CPU', 'Memory saved', 'KSM counters']

  async function runToEnd(): Promise<void> {
    await page.getByRole('radio', { name: 'max' }).check({ force: true })
    await button('Run').click()
    await page.locator('.run-progress .state', { hasText: 'Done' }).waitFor({ timeout: 120_000 })
    // (no expect.poll here: beforeAll calls it) the charts catch up within a few frames
    for (let i = 0; i < 100 && (await num('Sharing ratio', 'data-last-t')) !== DURATION_S; i++) await page.waitForTimeout(100)
  }

  async function downloads(click: () => Promise<void>, n: number): Promise<Download[]> {
    const got: Download[] = []
    const collect = (d: Download) => got.push(d)
    page.on('download', collect)
    await click()
    await expect.poll(() => got.length, { timeout: 30_000 }).toBe(n)
    page.off('download', collect)
    return got
  }

  /** The centre of a chart's plot area (a little right of the middle, clear of the axes). */
  async function inside(name: string, fx = 0.6): Promise<{ x: number; y: number }> {
    const box = (await chart(name).boundingBox())!
    return { x: box.x + box.width * fx, y: box.y + box.height * 0.55 }
  }

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'samepage-e2e-charts-'))
    server = await serveStatic(buildWebInto(join(files, 'web')))
    chromium = await launchChromium({ width: 1280, height: 900 })
    page = await chromium.context.newPage()
    page.on('dialog', (d) => void d.accept())
    await page.goto(`${server.url}index.html`)
    await button('Run').waitFor()
    await page.getByLabel('Preset').selectOption('paper-fig6a')
    await page.getByLabel('Duration (s)').fill(String(DURATION_S))
    // A third lane that coincides with the first: it must stay visible and be named.
    await button('Duplicate lane KSM').click()
    await runToEnd()
  }, 240_000)

  afterAll(async () => {
    await chromium?.close()
    await server?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  })

  it('three lanes: the sharing chart draws one line each and names the two that coincide', async () => {
    expect(await num('Sharing ratio', 'data-series')).toBe(3)
    // The lanes run in parallel workers and each chart redraws in its own turn of a frame, so a
    // chart may show one lane a frame ahead of the other; a chart scrolled out of view catches
    // up only when it comes back (useLiveChart.ts).
    await expect.poll(() => attr('Sharing ratio', 'data-note'), { timeout: 10_000 }).toMatch(/^KSM and \S.* coincide \(the later lane drawn wider, underneath\)$/)
    await chart('Scanner CPU').scrollIntoViewIfNeeded()
    await expect.poll(() => attr('Scanner CPU', 'data-note'), { timeout: 10_000 }).toMatch(/^KSM and .* coincide/)
    await chart('Sharing ratio').scrollIntoViewIfNeeded()
  })

  it('hovering one chart puts the crosshair at the same t on every time chart', async () => {
    const p = await inside('Sharing ratio')
    await page.mouse.move(p.x, p.y)
    await expect.poll(() => attr('Sharing ratio', 'data-crosshair-t')).not.toBe('')
    const t = await attr('Sharing ratio', 'data-crosshair-t')
    expect(Number(t)).toBeGreaterThan(0)
    expect(Number(t)).toBeLessThan(DURATION_S)
    for (const name of TIME_CHARTS) await expect.poll(() => attr(name, 'data-crosshair-t')).toBe(t)
    await page.mouse.move(2, 2)
    await expect.poll(() => attr('Scanner CPU', 'data-crosshair-t')).toBe('')
  })

  it('the wheel zooms every time chart to one range, a drag pans it, a double-click shows the whole run', async () => {
    expect(await button('Whole run').count()).toBe(0)
    const p = await inside('Scanner CPU', 0.5)
    await page.mouse.move(p.x, p.y)
    await page.mouse.wheel(0, -600)
    await expect.poll(() => num('Scanner CPU', 'data-x-max')).toBeLessThan(DURATION_S)
    const min = await num('Scanner CPU', 'data-x-min')
    const max = await num('Scanner CPU', 'data-x-max')
    expect(min).toBeGreaterThan(0)
    for (const name of TIME_CHARTS) {
      await expect.poll(() => num(name, 'data-x-min')).toBeCloseTo(min, 6)
      expect(await num(name, 'data-x-max')).toBeCloseTo(max, 6)
    }
    await expect.poll(() => button('Whole run').count()).toBeGreaterThan(0)

    // Drag to the right: the view moves back in time by the same span.
    await page.mouse.move(p.x, p.y)
    await page.mouse.down()
    for (let i = 1; i <= 10; i++) await page.mouse.move(p.x + i * 15, p.y)
    await page.mouse.up()
    await expect.poll(() => num('Sharing ratio', 'data-x-min')).toBeLessThan(min)
    const span = (await num('Sharing ratio', 'data-x-max')) - (await num('Sharing ratio', 'data-x-min'))
    expect(span).toBeCloseTo(max - min, 3)

    await page.mouse.dblclick(p.x, p.y)
    for (const name of TIME_CHARTS) {
      await expect.poll(() => num(name, 'data-x-min')).toBe(0)
      expect(await num(name, 'data-x-max')).toBe(DURATION_S)
    }
    expect(await button('Whole run').count()).toBe(0)
  })

  it('Log scale turns the CPU axis logarithmic; the counter picker chooses the counters drawn', async () => {
    const cpuCard = page.locator('figure[data-chart="cpu"]')
    await cpuCard.getByLabel('Log scale').check()
    await expect.poll(() => attr('Scanner CPU', 'data-y-type')).toBe('logarithmic')
    await cpuCard.getByLabel('Log scale').uncheck()
    await expect.poll(() => attr('Scanner CPU', 'data-y-type')).toBe('linear')

    const counters = page.locator('figure[data-chart="counters"]')
    expect(await num('KSM counters', 'data-series')).toBe(3 * 2) // pages_shared and pages_sharing per lane
    await counters.getByLabel('pages_shared').uncheck()
    await expect.poll(() => num('KSM counters', 'data-series')).toBe(3)
    await counters.getByLabel('pages_volatile').check()
    await expect.poll(() => num('KSM counters', 'data-series')).toBe(6)
    expect(await counters.locator('label', { hasText: 'pages_sharing' }).getAttribute('title')).toContain('/sys/kernel/mm/ksm/pages_sharing')
  })

  it('Export SVG and Export PDF write every chart named after the experiment; one chart exports alone', async () => {
    const charts = ['counters', 'cpu', 'hints', 'saved', 'sharing', 'types']
    const svgs = await downloads(() => button('Export SVG').click(), 6)
    expect(svgs.map((d) => d.suggestedFilename()).sort()).toEqual(charts.map((c) => `paper-fig6a-${c}.svg`))
    const svg = readFileSync(await svgs.find((d) => d.suggestedFilename() === 'paper-fig6a-sharing.svg')!.path(), 'utf8')
    expect(svg).toMatch(/^<svg [^>]*width="900" height="500"/)
    expect(svg).toMatch(/<path [^>]*stroke="(#0072b2|rgb\(0, ?114, ?178\))"/i) // the KSM lane, a vector line in Okabe-Ito blue
    expect(svg).toContain('Sharing ratio')

    const pdfs = await downloads(() => button('Export PDF').click(), 6)
    expect(pdfs.map((d) => d.suggestedFilename()).sort()).toEqual(charts.map((c) => `paper-fig6a-${c}.pdf`))
    const pdf = readFileSync(await pdfs.find((d) => d.suggestedFilename() === 'paper-fig6a-cpu.pdf')!.path())
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-')
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 900\.?0* 500\.?0*\]/)
    expect(pdf.toString('latin1').match(/\/Type \/Page\b/g)).toHaveLength(1)

    const one = await downloads(() => button('Export Memory saved as PDF').click(), 1)
    expect(one[0].suggestedFilename()).toBe('paper-fig6a-saved.pdf')
  })

  it('two saved results drawn at once: listed by name, each shown or hidden and removed on its own', async () => {
    const menuItem = async (name: string) => {
      await page.getByRole('button', { name: 'More' }).click()
      await page.getByRole('menuitem', { name }).click()
    }
    const [saved] = await downloads(() => menuItem('Save result…'), 1)
    const path = join(files, saved.suggestedFilename())
    writeFileSync(path, readFileSync(await saved.path()))
    const own = await num('Sharing ratio', 'data-points')
    for (let k = 0; k < 2; k++) {
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), menuItem('Compare with saved result…')])
      await chooser.setFiles(path)
      await expect.poll(() => num('Sharing ratio', 'data-series')).toBe(3 * (k + 2))
    }
    const list = page.getByRole('region', { name: 'Compared results' })
    expect(await list.getByRole('listitem').allTextContents()).toEqual([expect.stringContaining('paper-fig6a'), expect.stringContaining('paper-fig6a #2')])
    expect(await num('Sharing ratio', 'data-points')).toBe(3 * own)
    expect(await page.locator('tr.saved').count()).toBe(6)

    await list.getByLabel('Show paper-fig6a #2').uncheck()
    await expect.poll(() => num('Sharing ratio', 'data-series')).toBe(6)
    expect(await page.locator('tr.saved').count()).toBe(3)
    await list.getByLabel('Show paper-fig6a #2').check()
    await expect.poll(() => num('Sharing ratio', 'data-series')).toBe(9)

    await button('Remove paper-fig6a from the comparison').click()
    await expect.poll(() => list.getByRole('listitem').count()).toBe(1)
    await expect.poll(() => num('Sharing ratio', 'data-series')).toBe(6)
    await button('Remove paper-fig6a #2 from the comparison').click()
    await expect.poll(() => num('Sharing ratio', 'data-series')).toBe(3)
    expect(await list.count()).toBe(0)
  })

  it('columns and knobs explain themselves; a Hint lane with one VM says it pushed 0 hints and why', async () => {
    const header = page.getByRole('columnheader', { name: 'pages_sharing', exact: true })
    expect(await header.getAttribute('title')).toMatch(/pages the merging saves.*\/sys\/kernel\/mm\/ksm\/pages_sharing/)
    expect(await page.getByRole('columnheader', { name: 'Shared by the run' }).getAttribute('title')).toMatch(/Negative when/)
    expect(await page.locator('.field', { has: page.getByLabel('sleep_millisecs').first() }).first().getAttribute('title')).toContain('/sys/kernel/mm/ksm/sleep_millisecs')

    await button('Remove vm2').click()
    await runToEnd()
    const note = page.locator('tr[data-lane="Hint"] .lane-note').first()
    await note.waitFor()
    expect(await note.textContent()).toMatch(/^Pushed 0 hints: no page-cache page of one VM had the same path and offset/)
    expect(await page.locator('tr[data-lane="KSM"] .lane-note').count()).toBe(0)
  })
})
