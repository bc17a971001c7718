// The run's states in headless Chromium against web mode, through the screens only: Preparing…
// while 64 VMs boot (the count going up, Run disabled, editor locked, Stop works), one Web
// Worker per lane,
// "Stopped at t = … s" after Stop, results marked once the editor is edited (Reset clears
// them), and a page that needs no inline style (the CSP allows none). Skipped, with the reason
// in its name, where no Chromium is installed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserSkipReason, buildWebInto, launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../scripts/web-harness.ts'

const skip = browserSkipReason()
if (skip !== undefined) console.warn(`test/e2e-app-states.test.ts skipped: ${skip}`)

describe.skipIf(skip !== undefined)(skip ?? 'run states in Chromium (web mode)', () => {
  let server: StaticServer
  let chromium: LaunchedBrowser
  let page: Page
  let files: string
  const cspViolations: string[] = []

  const button = (name: string) => page.getByRole('button', { name, exact: true })
  const status = () => page.locator('.run-progress').getByRole('status')
  /** A field of the editor: disabled while the editor is locked. */
  const editor = () => page.getByLabel('Duration (s)')

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'samepage-e2e-states-'))
    server = await serveStatic(buildWebInto(join(files, 'web')))
    chromium = await launchChromium({ width: 1280, height: 800 })
    page = await chromium.context.newPage()
    page.on('dialog', (d) => void d.accept())
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text())
    })
    await page.goto(`${server.url}index.html`)
    await button('Run').waitFor()
  }, 180_000)

  afterAll(async () => {
    await chromium?.close()
    await server?.close()
    if (files) rmSync(files, { recursive: true, force: true })
  })

  /**
   * A large experiment as a person would open it: 64 VMs x 512 MiB (the bench's boot warm-up,
   * docs/performance.md), two lanes. Its boot before t = 0 takes seconds even on an idle machine
   * (paper-fig6b's two VMs boot faster than the status can be seen).
   */
  const MANY_VMS = {
    schema: 'samepage-lab/experiment@1',
    name: 'many-vms',
    duration_s: 600,
    sample_every_s: 10,
    warmup: { boot: true, share: false },
    vms: Array.from({ length: 64 }, (_, i) => ({ name: `vm${i + 1}`, memory_mib: 512, workload: { kind: 'idle' } })),
    lanes: [
      { name: 'KSM', scanner: { kind: 'ksm' } },
      { name: 'Hint', scanner: { kind: 'hint' } }
    ]
  }

  it('reads Preparing… booting VMs (k of n), p % with p going up while 64 VMs boot; Run disabled, the editor locked, Stop ends the warm-up', async () => {
    const path = join(files, 'many-vms.samepage.json')
    writeFileSync(path, JSON.stringify(MANY_VMS))
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button('Open').click()])
    await chooser.setFiles(path)
    await expect.poll(() => page.getByRole('rowgroup', { name: /^VM / }).count(), { timeout: 30_000 }).toBe(64)
    // Every text the status shows from here on, as it changes.
    await page.evaluate(`(() => {
      const el = document.querySelector('.run-progress [role="status"]')
      const seen = [el.textContent]
      window.__statuses = seen
      new MutationObserver(() => seen.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true })
    })()`)
    const statuses = () => page.evaluate('window.__statuses') as Promise<string[]>
    await page.getByRole('radio', { name: 'max' }).check()
    await button('Run').click()
    const preparing = /^Preparing… booting VMs \((\d+) of 64\), (\d+) %$/
    await status().filter({ hasText: preparing }).waitFor({ timeout: 60_000 })
    expect(await button('Run').isDisabled()).toBe(true)
    expect(await button('Stop').isEnabled()).toBe(true)
    expect(await editor().isDisabled()).toBe(true)
    expect(await page.getByLabel('Memory (MiB) of vm1', { exact: true }).isDisabled()).toBe(true)
    // One Web Worker per lane.
    expect(page.workers().length).toBe(2)
    // Progress: the boot's percentage goes up while the warm-up is still going (the 64 VMs
    // boot together, so the count moves only near the end).
    const seen = async () => (await statuses()).flatMap((t) => {
      const m = preparing.exec(t)
      return m ? [{ booted: Number(m[1]), percent: Number(m[2]) }] : []
    })
    await expect.poll(async () => new Set((await seen()).map((x) => x.percent)).size, { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(3)
    const points = await seen()
    expect(points.every((x, i) => i === 0 || (x.percent >= points[i - 1].percent && x.booted >= points[i - 1].booted))).toBe(true)
    expect(Math.max(...points.map((x) => x.percent))).toBeLessThan(100)
    expect(await status().textContent()).toMatch(preparing)
    // Stop during the warm-up drops it: back to Ready at t = 0, nothing ran, the editor unlocked.
    await button('Stop').click()
    await status().filter({ hasText: /^Ready$/ }).waitFor({ timeout: 60_000 })
    expect((await statuses()).some((t) => /Running|Done|Stopped/.test(t))).toBe(false)
    expect(await page.getByLabel('Simulated time').textContent()).toBe('t = 0 s / 600 s')
    expect(await editor().isDisabled()).toBe(false)
    expect(await button('Run').isEnabled()).toBe(true)
    // Back to the preset the next test starts from.
    await page.getByLabel('Preset').selectOption('paper-fig6b')
    await expect.poll(() => page.getByRole('rowgroup', { name: /^VM / }).count()).toBe(2)
  }, 300_000)

  it('says "Stopped at t = … s" after Stop, and marks the results once the editor is edited', async () => {
    await page.getByRole('radio', { name: '100x' }).check()
    await button('Run').click()
    await status().filter({ hasText: /^Running$/ }).waitFor({ timeout: 120_000 })
    await page.waitForTimeout(1500)
    await button('Stop').click()
    await status().filter({ hasText: /^Stopped at t = [\d,.]+ s$/ }).waitFor({ timeout: 60_000 })

    const note = page.getByRole('note', { name: 'Results origin' })
    expect(await note.count()).toBe(0)
    const duration = page.getByLabel('Duration (s)')
    await duration.fill('1200')
    await note.waitFor()
    expect(await note.textContent()).toContain('These results are from “paper-fig6b”, edited since.')
    await note.getByRole('button', { name: 'Reset' }).click()
    await note.waitFor({ state: 'detached' })
    await status().filter({ hasText: /^Ready$/ }).waitFor()
  }, 240_000)

  it('needs no inline style: nothing was refused by the Content Security Policy', () => {
    expect(cspViolations).toEqual([])
  })
})
