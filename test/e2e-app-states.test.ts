// The run's states in headless Chromium against web mode, through the screens only: Preparing…
// during the warm-up (Run disabled, editor locked, Stop works), one Web Worker per lane,
// "Stopped at t = … s" after Stop, results marked once the editor is edited (Reset clears
// them), and a page that needs no inline style (the CSP allows none). Skipped, with the reason
// in its name, where no Chromium is installed.
import { mkdtempSync, rmSync } from 'node:fs'
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

  // Skipped: on an idle machine paper-fig6b's two VMs boot faster than Playwright sees the status
  // (it passed under load only); test/renderer-app-states.test.ts checks the same screen with a
  // held warm-up. Needs a larger boot (e.g. 64 VMs) to be meaningful here.
  it.skip('reads Preparing… while the VMs boot, with Run disabled, the editor locked and Stop working', async () => {
    await page.getByRole('radio', { name: 'max' }).check()
    await button('Run').click()
    await status().filter({ hasText: /^Preparing… booting VMs \(\d+ of \d+\)$/ }).waitFor({ timeout: 60_000 })
    expect(await button('Run').isDisabled()).toBe(true)
    expect(await button('Stop').isEnabled()).toBe(true)
    expect(await editor().isDisabled()).toBe(true)
    // One Web Worker per lane (paper-fig6b: KSM and Hint).
    expect(page.workers().length).toBe(2)
    await button('Stop').click()
    await status().filter({ hasText: /^Ready$/ }).waitFor({ timeout: 60_000 })
    expect(await editor().isDisabled()).toBe(false)
  }, 120_000)

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
