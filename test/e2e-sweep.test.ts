// The Sweep view end to end in headless Chromium against web mode: axes typed over the opened
// experiment, runs on Web Workers, charts filling in, cancel and resume, the sweep file and the
// exports. Skipped, with the reason in its name, where no Chromium is installed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Download, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserSkipReason, buildWebInto, launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../scripts/web-harness.ts'
import { expandSweep } from '../src/core/sweep/expand.ts'
import { validateSweep } from '../src/core/sweep/schema.ts'
import { idlePairExperiment } from './fixtures.ts'

const skip = browserSkipReason()
if (skip !== undefined) console.warn(`test/e2e-sweep.test.ts skipped: ${skip}`)

/** Idle VMs of 128 MiB for 4 s: a run takes a second or two. */
const TINY = idlePairExperiment({ name: 'tiny', duration_s: 4, sample_every_s: 2, memory_mib: 128 })

function pngSize(bytes: Buffer): { width: number; height: number } {
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

describe.skipIf(skip !== undefined)(skip ?? 'the Sweep view in Chromium', () => {
  let server: StaticServer
  let chromium: LaunchedBrowser
  let page: Page
  let files: string

  const button = (name: string) => page.getByRole('button', { name, exact: true })
  const status = () => page.getByTestId('sweep-status')
  const progress = () => page.getByTestId('sweep-progress')

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'samepage-e2e-sweep-'))
    server = await serveStatic(buildWebInto(join(files, 'web')))
    chromium = await launchChromium({ width: 1280, height: 900 })
    page = await chromium.context.newPage()
    page.on('dialog', (d) => void d.accept())
    await page.goto(`${server.url}index.html`)
    await button('Run').waitFor()
    const config = join(files, 'tiny.samepage.json')
    writeFileSync(config, JSON.stringify(TINY))
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button('Open').click()])
    await chooser.setFiles(config)
    await page.waitForFunction('document.title.includes("tiny")')
  }, 180_000)

  afterAll(async () => {
    await chromium?.close()
    await server?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  })

  it('counts the points of the typed axes and seeds, and names an axis that names nothing', async () => {
    await button('Sweep').click()
    await button('Add axis').click()
    await page.getByLabel('Axis 1 field').fill('lanes[XLH].scanner.pages_to_scan')
    await page.getByLabel('Axis 1 values').fill('10, 20')
    await expect.poll(() => status().textContent()).toMatch(/axes\[0\]\.path: "lanes\[XLH\]" names nothing in the base experiment \(names: KSM, Hint\)/)
    expect(await button('Run sweep').isDisabled()).toBe(true)
    await page.getByLabel('Axis 1 field').fill('vms[*].memory_mib')
    await page.getByLabel('Axis 1 values').fill('128, 160')
    await page.getByLabel('Seeds').fill('1, 2')
    const workers = await page.evaluate<number>('Math.max(1, Math.min(16, navigator.hardwareConcurrency || 1))')
    await expect.poll(() => status().textContent()).toMatch(new RegExp(`2 points x 2 seeds = 4 runs;\\s+4 to run, about \\d+ (s|min) on ${workers} workers`))
  })

  it('runs the points on Web Workers and draws each metric against the axis and the frontier', async () => {
    await button('Run sweep').click()
    await expect.poll(() => progress().textContent(), { timeout: 150_000, interval: 500 }).toMatch(/^\s*4\/4 runs done, 0 failed\s*$/)
    expect(await page.locator('.sweep-runs li[data-state="done"]').count()).toBe(4)
    const frontier = page.getByRole('img', { name: 'frontier' })
    // Two lanes x two points.
    await expect.poll(async () => Number(await frontier.getAttribute('data-points'))).toBeGreaterThanOrEqual(4)
    const sharing = page.getByRole('img', { name: 'sharing_ratio-mean-vs-vms-memory_mib' })
    expect(Number(await sharing.getAttribute('data-points'))).toBe(4)
    await expect.poll(() => status().textContent()).toMatch(/0 to run/)
  }, 180_000)

  it('Export sweep writes sweep.csv (a row per point x lane x seed), sweep.json and the charts at 2x', async () => {
    const downloads: Download[] = []
    const onDownload = (d: Download) => downloads.push(d)
    page.on('download', onDownload)
    await button('Export sweep').click()
    // 2 + one chart per metric (5 by default) + the frontier.
    await expect.poll(() => downloads.length, { timeout: 20_000 }).toBe(8)
    page.off('download', onDownload)
    const byName = new Map(await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), readFileSync((await d.path())!)] as const)))
    const csv = byName.get('sweep.csv')!.toString('utf8').trim().split('\n')
    expect(csv[0]).toBe('point,lane,seed,vms[*].memory_mib,sharing_ratio.mean,saved_mib.mean,cpu_percent.mean,pages_sharing_gained,cpu_ns_per_shared_page')
    expect(csv).toHaveLength(1 + 2 * 2 * 2)
    const json = JSON.parse(byName.get('sweep.json')!.toString('utf8'))
    expect(json).toMatchObject({ runs_total: 4, runs_done: 4, missing: [] })
    expect(pngSize(byName.get('frontier.png')!)).toEqual({ width: 1800, height: 1000 })
  })

  it('Save sweep writes a sweep file that validates and expands to the same runs', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), button('Save sweep').click()])
    expect(download.suggestedFilename()).toBe('sweep.sweep.json')
    const text = readFileSync((await download.path())!, 'utf8')
    const v = validateSweep(JSON.parse(text))
    expect(v.ok).toBe(true)
    if (!v.ok) return
    const plan = expandSweep(v.sweep, v.sweep.base)
    expect(plan.runs).toHaveLength(4)
    writeFileSync(join(files, 'saved.sweep.json'), text)
  })

  it('a cancelled sweep resumes: runs done stay done and only the rest run', async () => {
    await page.getByLabel('Seeds').fill('1, 2, 3')
    await expect.poll(() => status().textContent()).toMatch(/6 runs;\s+2 to run/)
    await button('Run sweep').click()
    await button('Cancel sweep').click()
    expect(await button('Run sweep').isEnabled()).toBe(true)
    // The 4 earlier runs are kept; at most the 2 new ones may have finished before the cancel.
    const done = await page.locator('.sweep-runs li[data-state="cached"]').count()
    expect(done).toBe(4)
    await button('Run sweep').click()
    await expect.poll(() => progress().textContent(), { timeout: 150_000, interval: 500 }).toMatch(/^\s*6\/6 runs done, 0 failed\s*$/)
    expect(await page.locator('.sweep-runs li[data-state="cached"]').count()).toBeGreaterThanOrEqual(4)
  }, 180_000)

  it('Open sweep loads a saved sweep file: its axes and seeds, its experiment as the base', async () => {
    await page.getByLabel('Axis 1 values').fill('128')
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button('Open sweep').click()])
    await chooser.setFiles(join(files, 'saved.sweep.json'))
    await expect.poll(() => page.getByLabel('Axis 1 values').inputValue()).toBe('128, 160')
    expect(await page.getByLabel('Seeds').inputValue()).toBe('1, 2')
    expect(await page.getByTestId('sweep-base').textContent()).toMatch(/opened sweep file/)
    // Its runs are the ones already done: nothing to run.
    await expect.poll(() => status().textContent()).toMatch(/4 runs;\s+0 to run/)
  })
})
