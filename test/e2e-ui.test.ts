// End to end in headless Chromium against web mode (the built renderer with its Web Worker,
// served on 127.0.0.1): the workflow a researcher follows, through the screens only.
// Skipped, with the reason in its name, where no Chromium is installed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCanvas, loadImage } from '@napi-rs/canvas'
import type { Download, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserSkipReason, buildWebInto, launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../scripts/web-harness.ts'

const skip = browserSkipReason()
if (skip !== undefined) console.warn(`test/e2e-ui.test.ts skipped: ${skip}`)

/** Simulated seconds of the shortened run: at 100x about 5 s of wall time once warmed up. */
const SHORT_DURATION_S = 500

interface Csv {
  header: string[]
  rows: Map<string, number[][]>
}

function parseCsv(text: string): Csv {
  const [head, ...lines] = text.trim().split('\n')
  const rows = new Map<string, number[][]>()
  for (const line of lines) {
    const [lane, ...values] = line.split(',')
    rows.set(lane, [...(rows.get(lane) ?? []), values.map(Number)])
  }
  return { header: head.split(',').slice(1), rows }
}

async function downloadText(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()])
  return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') }
}

/** PNG width and height from its IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

describe.skipIf(skip !== undefined)(skip ?? 'web mode in Chromium', () => {
  let server: StaticServer
  let chromium: LaunchedBrowser
  let page: Page
  let files: string
  /** The config file Save wrote, for the later steps. */
  let savedConfig = ''

  const button = (name: string) => page.getByRole('button', { name, exact: true })
  const state = () => page.locator('.run-progress .state')
  const sharingPoints = async () => Number(await page.getByRole('img', { name: 'Sharing ratio' }).getAttribute('data-points'))

  /** The sharing chart's points once two reads 400 ms apart agree. */
  async function settledPoints(): Promise<number> {
    let last = await sharingPoints()
    for (;;) {
      await page.waitForTimeout(400)
      const now = await sharingPoints()
      if (now === last) return now
      last = now
    }
  }

  async function openFile(path: string): Promise<void> {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button('Open').click()])
    await chooser.setFiles(path)
  }

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'samepage-e2e-'))
    server = await serveStatic(buildWebInto(join(files, 'web')))
    chromium = await launchChromium({ width: 1280, height: 800 })
    page = await chromium.context.newPage()
    page.on('dialog', (d) => void d.accept())
    await page.goto(`${server.url}index.html`)
    await button('Run').waitFor()
  }, 120_000)

  afterAll(async () => {
    await chromium?.close()
    await server?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  })

  it('runs a shortened preset live: points arrive, Pause holds them, Resume and Stop give the final table', async () => {
    await page.getByLabel('Preset').selectOption('paper-fig6a')
    await expect.poll(() => page.title()).toBe('paper-fig6a — Samepage Lab') // a preset pick is not an unsaved change
    await page.getByLabel('Duration (s)').fill(String(SHORT_DURATION_S))
    await page.getByLabel('Seed').fill('7')
    await page.getByRole('radio', { name: '100x' }).check({ force: true })
    await button('Run').click()
    await expect.poll(sharingPoints, { timeout: 60_000 }).toBeGreaterThan(8)
    expect(await page.getByLabel('Duration (s)').isDisabled()).toBe(true) // read-only while running

    await button('Pause').click()
    await state().filter({ hasText: 'Paused' }).waitFor()
    // The chart may be a frame or two behind the data (redraws are paced); once it has caught
    // up, paused means no new points and no simulated time passing.
    const held = await settledPoints()
    const heldTime = await page.getByLabel('Simulated time').textContent()
    await page.waitForTimeout(1000)
    expect(await sharingPoints()).toBe(held)
    expect(await page.getByLabel('Simulated time').textContent()).toBe(heldTime)

    await button('Resume').click()
    await expect.poll(sharingPoints, { timeout: 30_000 }).toBeGreaterThan(held)
    await button('Stop').click()
    // A stopped run says where it stopped, not "Done" (issue 15, item 4).
    await state().filter({ hasText: /^Stopped at t = [\d,.]+ s$/ }).waitFor()
    await expect(page.locator('.results-table caption').textContent()).resolves.toMatch(/^Results: final, t = \d+/)
    for (const lane of ['KSM', 'Hint']) {
      const sharing = await page.locator(`tr[data-lane="${lane}"] td[data-col="sharing_final"]`).textContent()
      expect(Number(sharing)).toBeGreaterThan(0)
    }
    expect(await button('Run').isEnabled()).toBe(true)
    expect(await page.getByLabel('Duration (s)').isEnabled()).toBe(true)
  })

  it('Export CSV holds every sample, and agrees with the exported summary', async () => {
    const csv = await downloadText(page, () => button('Export CSV').click())
    const json = await downloadText(page, () => button('Export JSON').click())
    expect(csv.name).toBe('series.csv')
    expect(json.name).toBe('summary.json')
    const { header, rows } = parseCsv(csv.text)
    const summary = JSON.parse(json.text) as { sim_seconds: number; lanes: { name: string; sharing_ratio: { mean: number; max: number; final: number }; saved_mib: { final: number }; full_scans: number; cow_breaks: number; hints: { pushed: number } }[] }
    const col = (name: string) => header.indexOf(name)
    expect(summary.lanes.map((l) => l.name)).toEqual(['KSM', 'Hint'])
    for (const lane of summary.lanes) {
      const r = rows.get(lane.name) ?? []
      const sharing = r.map((x) => x[col('sharing_ratio')])
      expect(r.length).toBeGreaterThan(3)
      expect(r[r.length - 1][col('t_s')]).toBeLessThanOrEqual(summary.sim_seconds)
      expect(sharing[sharing.length - 1]).toBeCloseTo(lane.sharing_ratio.final, 5)
      expect(Math.max(...sharing)).toBeCloseTo(lane.sharing_ratio.max, 5)
      expect(sharing.reduce((a, b) => a + b, 0) / sharing.length).toBeCloseTo(lane.sharing_ratio.mean, 5)
      expect(r[r.length - 1][col('saved_mib')]).toBeCloseTo(lane.saved_mib.final, 5)
      expect(r[r.length - 1][col('full_scans')]).toBe(lane.full_scans)
      expect(r[r.length - 1][col('cow_breaks')]).toBe(lane.cow_breaks)
      expect(r[r.length - 1][col('hints_pushed')]).toBe(lane.hints.pushed)
      // The table shows the same numbers.
      const shown = await page.locator(`tr[data-lane="${lane.name}"] td[data-col="sharing_final"]`).textContent()
      expect(shown).toBe(lane.sharing_ratio.final.toFixed(3))
    }
  })

  it('Export PNG writes every chart at 2x on a white background', async () => {
    const downloads: Download[] = []
    const collect = (d: Download) => downloads.push(d)
    page.on('download', collect)
    await button('Export PNG').click()
    await expect.poll(() => downloads.length, { timeout: 20_000 }).toBe(6)
    page.off('download', collect)
    const names = ['counters', 'cpu', 'hints', 'saved', 'sharing', 'types'].map((c) => `paper-fig6a-${c}.png`)
    expect(downloads.map((d) => d.suggestedFilename()).sort()).toEqual(names)
    const sharing = readFileSync(await downloads.find((d) => d.suggestedFilename() === 'paper-fig6a-sharing.png')!.path())
    expect(pngSize(sharing)).toEqual({ width: 1800, height: 1000 })
    const image = await loadImage(sharing)
    const ctx = createCanvas(image.width, image.height).getContext('2d')
    ctx.drawImage(image, 0, 0)
    expect(Array.from(ctx.getImageData(2, 2, 1, 1).data)).toEqual([255, 255, 255, 255]) // opaque white corner
  })

  it('a run saved as a result can be drawn over the next run for comparison', async () => {
    const menuItem = async (name: string) => {
      await page.getByRole('button', { name: 'More' }).click()
      await page.getByRole('menuitem', { name }).click()
    }
    const result = await downloadText(page, () => menuItem('Save result…'))
    expect(result.name).toBe('paper-fig6a.result.json')
    expect(JSON.parse(result.text)).toMatchObject({ schema: 'samepage-lab/result@1', config: { seed: 7 } })
    const path = join(files, result.name)
    writeFileSync(path, result.text)
    const before = await settledPoints()
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), menuItem('Compare with saved result…')])
    await chooser.setFiles(path)
    await expect.poll(sharingPoints).toBe(2 * before)
    expect(await page.locator('tr.saved').count()).toBe(2)
    await button('Remove paper-fig6a from the comparison').click()
    await expect.poll(sharingPoints).toBe(before)
  })

  it('Save, reload the page, Open the file: the same config', async () => {
    const saved = await downloadText(page, () => button('Save').click())
    expect(saved.name).toBe('paper-fig6a.samepage.json')
    savedConfig = saved.text
    expect(JSON.parse(savedConfig)).toMatchObject({ name: 'paper-fig6a', seed: 7, duration_s: SHORT_DURATION_S })
    await expect.poll(() => page.title()).toBe('paper-fig6a.samepage.json — Samepage Lab')

    await page.reload()
    await button('Run').waitFor()
    expect(await page.getByLabel('Seed').inputValue()).toBe('42')
    const path = join(files, saved.name)
    writeFileSync(path, savedConfig)
    await openFile(path)
    await expect.poll(() => page.getByLabel('Seed').inputValue()).toBe('7')
    expect(await page.getByLabel('Duration (s)').inputValue()).toBe(String(SHORT_DURATION_S))
    expect(await page.title()).toBe('paper-fig6a.samepage.json — Samepage Lab')
    const again = await downloadText(page, () => button('Save').click())
    expect(again.text).toBe(savedConfig)
  })

  it('Open of an invalid file names the field and keeps the current experiment', async () => {
    const doc = JSON.parse(savedConfig)
    doc.vms[1].memory_mib = 8
    const path = join(files, 'broken.samepage.json')
    writeFileSync(path, JSON.stringify(doc))
    await openFile(path)
    const alert = page.getByRole('alert').filter({ hasText: 'broken.samepage.json' })
    await alert.waitFor()
    expect(await alert.textContent()).toContain('vms[1].memory_mib')
    expect(await page.getByLabel('Memory (MiB) of vm2').inputValue()).toBe('512')
    expect(await page.title()).toBe('paper-fig6a.samepage.json — Samepage Lab')
    const still = await downloadText(page, () => button('Save').click())
    expect(still.text).toBe(savedConfig)
  })
})
