// Issue 15, items 9, 10 and 13, end to end in headless Chromium against web mode, through the
// screens only (roles and labels): events on the timeline, per-VM results, and the editor's
// smaller fixes (a preset pick is clean, undo/redo, scanner switch renames, focus, layout).
// Skipped, with the reason, where no Chromium is installed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserSkipReason, buildWebInto, launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../scripts/web-harness.ts'

const skip = browserSkipReason()
if (skip !== undefined) console.warn(`test/e2e-timeline.test.ts skipped: ${skip}`)

/** Two small VMs reading the same files, the second starting at 10 s: a short run with events. */
const SMALL = {
  schema: 'samepage-lab/experiment@1',
  name: 'timeline-e2e',
  seed: 3,
  duration_s: 60,
  sample_every_s: 2,
  host: { cpu_profile: 'xeon-x5560' },
  warmup: { boot: true, share: false },
  vms: [
    { name: 'alpha', vcpus: 1, memory_mib: 64, image: 'debian-7', workload: { kind: 'file-cases', files: 40, pages_per_file: 8, read_pages_per_s: 2000 } },
    { name: 'beta', vcpus: 1, memory_mib: 64, image: 'debian-7', start_s: 10, workload: { kind: 'file-cases', files: 40, pages_per_file: 8, read_pages_per_s: 2000 } }
  ],
  lanes: [
    { name: 'KSM', scanner: { kind: 'ksm', pages_to_scan: 500, sleep_millisecs: 20 } },
    { name: 'Hint', scanner: { kind: 'hint' } }
  ]
}

describe.skipIf(skip !== undefined)(skip ?? 'timeline, per-VM results and editor fixes in Chromium', () => {
  let server: StaticServer
  let chromium: LaunchedBrowser
  let page: Page
  let files: string

  const button = (name: string) => page.getByRole('button', { name, exact: true })
  const state = () => page.locator('.run-progress .state')
  const focusedText = () => page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''")

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'samepage-e2e-tl-'))
    server = await serveStatic(buildWebInto(join(files, 'web')))
    chromium = await launchChromium({ width: 1280, height: 800 })
    page = await chromium.context.newPage()
    page.on('dialog', (d) => void d.accept())
    await page.goto(`${server.url}index.html`)
    await button('Run').waitFor()
  }, 180_000)

  afterAll(async () => {
    await chromium?.close()
    await server?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  })

  it('a preset pick is not an unsaved change; an edit is, and Ctrl+Z / Ctrl+Shift+Z undo and redo it', async () => {
    await page.getByLabel('Preset').selectOption('paper-fig6a')
    await expect.poll(() => page.title()).toBe('paper-fig6a — Samepage Lab')
    const duration = page.getByLabel('Duration (s)')
    const before = await duration.inputValue()
    await duration.fill('777')
    await expect.poll(() => page.title()).toBe('● paper-fig6a — Samepage Lab')
    await page.keyboard.press('Control+z')
    await expect.poll(() => duration.inputValue()).toBe(before)
    await expect.poll(() => page.title()).toBe('paper-fig6a — Samepage Lab')
    await page.keyboard.press('Control+Shift+z')
    await expect.poll(() => duration.inputValue()).toBe('777')
    await page.keyboard.press('Control+z')
    await expect.poll(() => duration.inputValue()).toBe(before)
  })

  it('duplicating a lane and switching its scanner renames the copy; a name the user gave stays', async () => {
    await page.getByRole('button', { name: 'Duplicate lane KSM' }).click()
    const copy = page.getByRole('group', { name: 'Lane KSM-copy' })
    await copy.waitFor()
    await copy.getByLabel('Scanner').selectOption('esx')
    await page.getByRole('group', { name: 'Lane ESX' }).waitFor()
    const esx = page.getByRole('group', { name: 'Lane ESX' })
    await esx.getByLabel('Lane name').fill('my sampler')
    await page.getByRole('group', { name: 'Lane my sampler' }).getByLabel('Scanner').selectOption('xlh')
    await page.getByRole('group', { name: 'Lane my sampler' }).waitFor()
    // Picking the preset again starts a clean document.
    await page.getByLabel('Preset').selectOption('paper-fig6b')
    await page.getByLabel('Preset').selectOption('paper-fig6a')
    await expect.poll(() => page.getByRole('group', { name: /^Lane / }).count()).toBe(2)
  })

  it('Enter on Run leaves the focus on Pause, Enter again pauses with the focus on Resume; paused, the per-VM results are at that time, or at the crosshair', async () => {
    const path = join(files, 'small.samepage.json')
    writeFileSync(path, JSON.stringify(SMALL))
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button('Open').click()])
    await chooser.setFiles(path)
    await expect.poll(() => page.getByLabel('Seed').inputValue()).toBe('3')
    await page.getByRole('radio', { name: '10x' }).check({ force: true })
    await button('Run').focus()
    await page.keyboard.press('Enter')
    await state().filter({ hasText: 'Running' }).waitFor({ timeout: 120_000 })
    await expect.poll(focusedText).toBe('Pause')
    // Wait until the late VM has started (an event in the list), then pause.
    await page.getByRole('cell', { name: 'beta started' }).waitFor({ timeout: 120_000 })
    await page.keyboard.press('Enter')
    await state().filter({ hasText: 'Paused' }).waitFor()
    await expect.poll(focusedText).toBe('Resume')
    const heading = page.getByRole('heading', { name: /^Per-VM results: KSM \(paused at t = [\d.]+ s\)$/ })
    await heading.waitFor()
    const matrix = page.getByRole('table', { name: 'Shared pages between VMs' })
    expect(await matrix.getByRole('rowheader').allTextContents()).toEqual(['alpha', 'beta'])
    const perVm = page.getByRole('table', { name: 'Per-VM sharing' })
    expect(await perVm.getByRole('rowheader').allTextContents()).toEqual(['alpha', 'beta'])
    // The crosshair early in the run: the per-VM results at the sample nearest it.
    const paused = Number(/paused at t = ([\d.]+) s/.exec((await heading.textContent()) ?? '')?.[1])
    const sharing = page.getByRole('img', { name: 'Sharing ratio' })
    await sharing.scrollIntoViewIfNeeded()
    const box = await sharing.boundingBox()
    if (!box) throw new Error('no sharing chart')
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5)
    const pointed = page.getByRole('heading', { name: /^Per-VM results: KSM \(at t = [\d.]+ s; paused at t = [\d.]+ s\)$/ })
    await pointed.waitFor()
    const at = Number(/at t = ([\d.]+) s;/.exec((await pointed.textContent()) ?? '')?.[1])
    expect(at).toBeLessThan(paused)
    expect(at % 2).toBe(0) // a sample time (every 2 s)
    expect(Math.abs(at - Number(await sharing.getAttribute('data-crosshair-t')))).toBeLessThanOrEqual(1)
    await page.getByRole('button', { name: 'Show the paused time' }).click()
    await heading.waitFor()
    await button('Resume').focus()
    await page.keyboard.press('Enter')
    await state().filter({ hasText: 'Running' }).waitFor()
    await page.getByRole('radio', { name: 'max' }).check({ force: true })
    await button('Pause').focus()
    await state().filter({ hasText: 'Done' }).waitFor({ timeout: 180_000 })
    await expect.poll(focusedText).toBe('Run')
  }, 400_000)

  it('after the run: the event list names what happened when, the charts carry one marker per listed event, per-VM figures are the final ones', async () => {
    const rows = page.getByRole('table', { name: /^Events/ }).getByRole('row')
    const texts: string[] = []
    for (let i = 1; i < (await rows.count()); i++) texts.push((await rows.nth(i).getByRole('cell').allTextContents()).map((c) => c.trim()).join(' | '))
    expect(texts).toContain('0 | VM started | alpha started')
    expect(texts).toContain('10 | VM started | beta started')
    expect(texts.some((t) => t.endsWith('| alpha finished its workload'))).toBe(true)
    const listed = (await rows.count()) - 1
    const markers = async () => Number(await page.getByRole('img', { name: 'Sharing ratio' }).getAttribute('data-markers'))
    await expect.poll(markers).toBe(listed)
    // Full scans are listed (and marked) on request.
    await page.getByRole('checkbox', { name: /Show full scans/ }).check()
    await page.getByRole('cell', { name: 'full scan 1 completed' }).waitFor()
    await expect.poll(markers).toBeGreaterThan(listed)
    await page.getByRole('checkbox', { name: /Show full scans/ }).uncheck()
    await page.getByRole('heading', { name: /^Per-VM results: KSM \(at the end, t = 60 s\)$/ }).waitFor()
    // The other lane's events and per-VM results.
    await page.getByRole('combobox', { name: 'Lane', exact: true }).first().selectOption({ label: 'Hint' })
    await page.getByRole('heading', { name: /^Per-VM results: Hint/ }).waitFor()
    await page.getByRole('heading', { name: 'Events: Hint' }).waitFor()
  })

  it('the saved result carries the events and per-VM results', async () => {
    await page.getByRole('button', { name: 'More' }).click()
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Save result…' }).click()])
    const doc = JSON.parse(readFileSync(await download.path(), 'utf8')) as { summary: { lanes: { events: { kind: string; vm: number | null; t_s: number }[]; vms: { vm: string }[]; vm_shared_pages: number[][] }[] } }
    const ksm = doc.summary.lanes[0]
    expect(ksm.events.filter((e) => e.kind === 'vm_started').map((e) => [e.vm, e.t_s])).toEqual([
      [0, 0],
      [1, 10]
    ])
    expect(ksm.vms.map((v) => v.vm)).toEqual(['alpha', 'beta'])
    expect(ksm.vm_shared_pages.length).toBe(2)
  })

  it('at 1024 x 700 the toolbar and the hint-stack chart fit; below 1024 px the panes stack instead of scrolling sideways', async () => {
    await page.setViewportSize({ width: 1024, height: 700 })
    await page.waitForTimeout(300)
    const fits = await page.evaluate<{ toolbar: boolean; runbar: boolean; chartRight: number; chartBottom: number; page: number }>(`(() => {
      const tb = document.querySelector('.toolbar')
      const run = document.querySelector('.runbar')
      const r = document.querySelector('[data-chart="hints"]').getBoundingClientRect()
      return { toolbar: tb.scrollWidth <= tb.clientWidth, runbar: run.scrollWidth <= run.clientWidth, chartRight: r.right, chartBottom: r.bottom, page: document.documentElement.scrollWidth }
    })()`)
    expect(fits.toolbar).toBe(true)
    expect(fits.runbar).toBe(true)
    expect(fits.chartRight).toBeLessThanOrEqual(1024)
    expect(fits.page).toBeLessThanOrEqual(1024)
    await page.setViewportSize({ width: 800, height: 700 })
    await page.waitForTimeout(300)
    const stacked = await page.evaluate<{ sideways: number; editorBottom: number; outputTop: number }>(`(() => {
      const ed = document.querySelector('#editor-pane').getBoundingClientRect()
      const out = document.querySelector('.output-pane').getBoundingClientRect()
      return { sideways: document.documentElement.scrollWidth, editorBottom: ed.bottom, outputTop: out.top }
    })()`)
    expect(stacked.sideways).toBeLessThanOrEqual(800)
    expect(stacked.outputTop).toBeGreaterThanOrEqual(stacked.editorBottom - 1)
    await page.setViewportSize({ width: 1280, height: 800 })
  })
})
