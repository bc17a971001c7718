// Launches the built Electron app with playwright-core and checks its window. Machines that
// cannot download the Electron binary (like these) skip it with the reason in the test name;
// the renderer itself is tested in Chromium through web mode.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { _electron } from 'playwright-core'
import type { ElectronApplication } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)

type ElectronBinary = { path: string; skip?: undefined } | { path?: undefined; skip: string }

/**
 * The Electron executable, found without starting a download: `require('electron')` itself
 * tries to download a missing binary, so it is only called once the files are known to exist.
 */
function findElectronBinary(): ElectronBinary {
  const missing = (why: string): ElectronBinary => ({ skip: `Electron binary not installed: ${why}` })
  let packageDir: string
  try {
    packageDir = dirname(require.resolve('electron/package.json'))
  } catch {
    return missing('the electron package is not installed')
  }
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH === undefined) {
    const pathFile = join(packageDir, 'path.txt')
    if (!existsSync(pathFile)) return missing(`${pathFile} is absent (the binary was never downloaded)`)
    const binary = join(packageDir, 'dist', readFileSync(pathFile, 'utf8'))
    if (!existsSync(binary)) return missing(`${binary} does not exist`)
  }
  try {
    const binary: unknown = require('electron')
    if (typeof binary !== 'string' || !existsSync(binary)) return missing(`${String(binary)} does not exist`)
    return { path: binary }
  } catch (error) {
    return missing(error instanceof Error ? error.message : String(error))
  }
}

/** Why the launch cannot run here, or undefined when it can. */
function launchSkipReason(binary: ElectronBinary): string | undefined {
  if (binary.skip !== undefined) return binary.skip
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'Electron needs a display: no DISPLAY or WAYLAND_DISPLAY (run under xvfb-run)'
  }
  return undefined
}

const binary = findElectronBinary()
const skipReason = launchSkipReason(binary)
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

describe.skipIf(skipReason !== undefined)(skipReason ?? 'the Electron app', () => {
  let app: ElectronApplication | undefined

  beforeAll(async () => {
    // Build first so the test launches the current sources, not a stale out/.
    execFileSync(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), 'build'], {
      cwd: ROOT,
      stdio: 'pipe'
    })
    // Chromium refuses to start as root with its sandbox on (CI runs as root).
    const rootArgs = process.getuid?.() === 0 ? ['--no-sandbox'] : []
    app = await _electron.launch({
      executablePath: binary.path,
      args: [...rootArgs, ROOT],
      cwd: ROOT,
      env: Object.fromEntries(
        Object.entries(process.env).filter(
          (entry): entry is [string, string] => entry[0] !== 'ELECTRON_RENDERER_URL' && entry[1] !== undefined
        )
      )
    })
  })

  afterAll(async () => {
    await app?.close()
  })

  it('opens one window titled "… Samepage Lab"', async () => {
    const page = await app!.firstWindow()
    await page.waitForLoadState('domcontentloaded')
    expect(await page.title()).toBe('Samepage Lab')
    // Main shows the renderer's document title (platform.setTitle), ending in the app name.
    const titles = await app!.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.getTitle()))
    expect(titles).toHaveLength(1)
    expect(titles[0]).toMatch(/Samepage Lab$/)
  })

  it('gives the page no Node and only the narrow window.samepage API', async () => {
    const page = await app!.firstWindow()
    const seen = await page.evaluate(async () => {
      const scope = globalThis as { require?: unknown; process?: unknown; samepage?: { version(): Promise<string> } }
      return {
        require: typeof scope.require,
        process: typeof scope.process,
        api: Object.keys(scope.samepage ?? {}).sort(),
        session: Object.keys((scope.samepage as { session?: object } | undefined)?.session ?? {}).sort(),
        version: await scope.samepage?.version()
      }
    })
    expect(seen).toEqual({
      require: 'undefined',
      process: 'undefined',
      api: ['confirmDiscard', 'exportFiles', 'onMenu', 'openConfig', 'openRecent', 'openResult', 'saveConfig', 'saveResult', 'session', 'setTitle', 'version'],
      session: ['load', 'onEvent', 'pause', 'resume', 'setSpeed', 'start', 'step', 'stop'],
      version: PACKAGE_VERSION
    })
  })

  it('runs a short experiment in the worker thread main owns; samples arrive as Float64Arrays', async () => {
    const page = await app!.firstWindow()
    const got = await page.evaluate(async () => {
      type Api = { session: { load(c: unknown): void; step(s: number): void; onEvent(l: (e: { type: string; state?: string; batches?: { columns: unknown[] }[] }) => void): () => void } }
      const api = (globalThis as { samepage?: Api }).samepage!
      return await new Promise<{ typed: boolean; rows: number }>((resolve, reject) => {
        let typed = true
        let rows = 0
        const timer = setTimeout(() => reject(new Error('no pause within 30 s')), 30_000)
        const off = api.session.onEvent((e) => {
          if (e.type === 'samples') {
            for (const b of e.batches ?? []) for (const c of b.columns) typed &&= c instanceof Float64Array
            rows += (e.batches?.[0]?.columns[0] as Float64Array | undefined)?.length ?? 0
          }
          if (e.type === 'state' && e.state === 'paused') {
            clearTimeout(timer)
            off()
            resolve({ typed, rows })
          }
        })
        api.session.load({
          schema: 'samepage-lab/experiment@1',
          name: 'launch',
          duration_s: 60,
          sample_every_s: 1,
          vms: [{ name: 'a', memory_mib: 128, workload: { kind: 'idle' } }],
          lanes: [{ name: 'KSM', scanner: { kind: 'ksm' } }]
        })
        api.session.step(5)
      })
    })
    expect(got).toEqual({ typed: true, rows: 6 })
  })
})
