// Web mode end to end in headless Chromium: `npm run web`'s script (scripts/web.mjs) builds web
// mode with vite.web.config.ts and serves it under a path prefix (into a private folder rather
// than out/web/, which other browser tests rebuild and serve while this one runs); the page loads with no console errors; a short run in the
// Web Worker streams samples that make chart points; a config and a result round-trip through
// save (a download) and open (the file picker); an export is one download per file. The test
// drives the page's Platform through the `?test` hook (src/renderer/src/platform/index.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharingChart, type LaneData } from '../src/core/analysis/charts.ts'
import { parseExperiment } from '../src/core/experiment/config.ts'
import type { Summary } from '../src/core/experiment/engine.ts'
import { METRIC_COLUMNS, METRIC_INDEX, type MetricName } from '../src/core/experiment/metrics.ts'
import { buildResult, resultToText } from '../src/core/experiment/result.ts'
import type { Platform } from '../src/renderer/src/platform/types.ts'
import { idlePairExperiment } from './fixtures.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run']
/** Served under a prefix, to prove the build's asset URLs are relative. */
const BASE_PATH = '/some/prefix/samepage/'

const skipReason = existsSync(CHROMIUM) ? undefined : `web mode in Chromium skipped: ${CHROMIUM} is absent (Debian: apt-get install chromium)`

const CONFIG = idlePairExperiment({ name: 'web-test', duration_s: 30, sample_every_s: 1, memory_mib: 128 })
const CONFIG_TEXT = JSON.stringify(CONFIG, null, 2) + '\n'

/** The page's test hook (set by createPlatform() under `?test`), as page.evaluate sees it. */
type TestScope = { __samepageTest?: { platform: Platform } }

/** Start scripts/web.mjs on a free port; resolves with the URL it prints once listening. */
function startServer(webDir: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/web.mjs')], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', BASE_PATH, WEB_DIR: webDir },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /web mode: (http\S+)/.exec(out)
      if (m) resolve({ child, url: m[1] })
    })
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (code) => reject(new Error(`scripts/web.mjs exited with ${code}: ${err}`)))
  })
}

describe.skipIf(skipReason !== undefined)(skipReason ?? 'web mode in headless Chromium', () => {
  let server: ChildProcess | undefined
  let url = ''
  let dir = ''
  let context: BrowserContext | undefined
  let page: Page
  const errors: string[] = []
  /** The run of the second test, reused to build a result file. */
  let run: { lanes: { name: string; scanner: string; columns: number[][] }[]; summary: Summary } | undefined

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samepage-web-'))
    const started = await startServer(join(dir, 'web'))
    server = started.child
    url = started.url
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      acceptDownloads: true
    })
    page = await context.newPage()
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`)
    })
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`))
    await page.goto(`${url}?test`)
    await page.waitForFunction(() => (globalThis as unknown as TestScope).__samepageTest !== undefined)
  })

  afterAll(async () => {
    await context?.close()
    server?.kill('SIGTERM')
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  it('serves a self-contained folder under a path prefix, with relative asset URLs', async () => {
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+${BASE_PATH}$`))
    const html = await (await fetch(url)).text()
    expect(html).not.toMatch(/(src|href)="\//)
    expect((await fetch(`${url}../../`)).status).toBe(404)
    expect((await fetch(`${url}.build-stamp`)).status).toBe(404)
    expect(await page.evaluate(() => (globalThis as unknown as TestScope).__samepageTest!.platform.kind)).toBe('web')
  })

  it('a short run in the Web Worker streams Float64Array samples that make chart points', async () => {
    const got = await page.evaluate(async (config) => {
      const { client } = (globalThis as unknown as TestScope).__samepageTest!.platform
      return await new Promise<{ lanes: { name: string; scanner: string; columns: number[][] }[]; summary: Summary; typed: boolean; events: number }>((resolve, reject) => {
        const lanes: { name: string; scanner: string; columns: number[][] }[] = []
        let typed = true
        let events = 0
        const timer = setTimeout(() => reject(new Error('no summary within 30 s')), 30_000)
        const off = client.onEvent((e) => {
          if (e.type === 'loaded') e.lanes.forEach((l, i) => (lanes[i] = { ...l, columns: [] }))
          if (e.type === 'samples') {
            events++
            for (const b of e.batches) {
              b.columns.forEach((c, i) => {
                typed &&= c instanceof Float64Array
                lanes[b.lane].columns[i] = [...(lanes[b.lane].columns[i] ?? []), ...Array.from(c)]
              })
            }
          }
          if (e.type === 'error' || e.type === 'invalid') reject(new Error(JSON.stringify(e)))
          if (e.type === 'summary') {
            clearTimeout(timer)
            off()
            resolve({ lanes, summary: e.summary, typed, events })
          }
        })
        client.load(config)
        client.setSpeed('max')
        client.start()
      })
    }, CONFIG)
    expect(got.typed).toBe(true)
    expect(got.lanes.map((l) => l.name)).toEqual(['KSM', 'Hint'])
    for (const lane of got.lanes) {
      expect(lane.columns).toHaveLength(METRIC_COLUMNS.length)
      expect(lane.columns[METRIC_INDEX.t_s]).toEqual(Array.from({ length: 31 }, (_, t) => t))
    }
    expect(got.events).toBeLessThan(31) // batches, not one message per sample
    expect(got.summary.sim_seconds).toBe(30)
    run = { lanes: got.lanes, summary: got.summary }

    // The renderer's chart spec over the streamed columns: one line of 31 points per lane.
    const lanes: LaneData[] = got.lanes.map((l) => ({ name: l.name, scanner: l.scanner, column: (m: MetricName) => l.columns[METRIC_INDEX[m]] }))
    const chart = sharingChart(lanes)
    expect(chart.data.datasets.map((d) => d.data.length)).toEqual([31, 31])
  })

  it('a config round-trips through save (a download) and open (the file picker)', async () => {
    const downloading = page.waitForEvent('download')
    const saved = await page.evaluate((text) => (globalThis as unknown as TestScope).__samepageTest!.platform.saveConfig(text, { suggestedName: 'round trip', saveAs: false }), CONFIG_TEXT)
    const download = await downloading
    expect(saved).toEqual({ name: 'round trip.samepage.json' })
    expect(download.suggestedFilename()).toBe('round trip.samepage.json')
    const file = join(dir, download.suggestedFilename())
    await download.saveAs(file)
    expect(readFileSync(file, 'utf8')).toBe(CONFIG_TEXT)

    const choosing = page.waitForEvent('filechooser')
    const opening = page.evaluate(() => (globalThis as unknown as TestScope).__samepageTest!.platform.openConfig())
    await (await choosing).setFiles(file)
    expect(await opening).toEqual({ name: 'round trip.samepage.json', text: CONFIG_TEXT })
  })

  it('an invalid config opens with its field-path issues', async () => {
    const file = join(dir, 'bad.samepage.json')
    writeFileSync(file, JSON.stringify({ ...CONFIG, duration_s: 'long' }))
    const choosing = page.waitForEvent('filechooser')
    const opening = page.evaluate(() => (globalThis as unknown as TestScope).__samepageTest!.platform.openConfig())
    await (await choosing).setFiles(file)
    const opened = await opening
    expect(opened?.issues?.map((i) => i.path)).toEqual(['duration_s'])
  })

  it('a result round-trips through Save Result and Open Result', async () => {
    expect(run).toBeDefined()
    const config = parseExperiment(CONFIG)
    const text = resultToText(buildResult(config, run!.summary, run!.lanes))
    const downloading = page.waitForEvent('download')
    await page.evaluate((t) => (globalThis as unknown as TestScope).__samepageTest!.platform.saveResult(t, 'web-test.result.json'), text)
    const download = await downloading
    const file = join(dir, download.suggestedFilename())
    await download.saveAs(file)
    expect(readFileSync(file, 'utf8')).toBe(text)

    const choosing = page.waitForEvent('filechooser')
    const opening = page.evaluate(() => (globalThis as unknown as TestScope).__samepageTest!.platform.openResult())
    await (await choosing).setFiles(file)
    expect(await opening).toEqual({ name: 'web-test.result.json', text })
  })

  it('an export is one download per file', async () => {
    const names: string[] = []
    const onDownload = (d: { suggestedFilename(): string }) => names.push(d.suggestedFilename())
    page.on('download', onDownload)
    const ok = await page.evaluate(() =>
      (globalThis as unknown as TestScope).__samepageTest!.platform.exportFiles(
        [
          { name: 'series.csv', data: 'lane,t_s\n' },
          { name: 'summary.json', data: '{}\n' }
        ],
        'web-test'
      )
    )
    expect(ok).toBe(true)
    await expect.poll(() => names.sort(), { timeout: 10_000 }).toEqual(['series.csv', 'summary.json'])
    page.off('download', onDownload)
    await expect(page.evaluate(() => (globalThis as unknown as TestScope).__samepageTest!.platform.exportFiles([{ name: '../x.csv', data: '' }], 'x'))).rejects.toThrow(/plain file name/)
  })

  it('logged no console errors', () => {
    expect(errors).toEqual([])
  })
})
