/**
 * `npm run bench:app`: the app at max against `samepage run` on paper-fig6b (2400 s, KSM and
 * Hint), alternated in one run (this machine's speed drifts: compare within a run, as ratios).
 *
 * App: web mode built into a temporary folder, served on 127.0.0.1, in headless Chromium
 * (scripts/web-harness.ts), speed max, from the click on Run to the status "Done" (warm-up
 * included; one Web Worker per lane). CLI: `node bin/samepage.js run paper-fig6b` from start to
 * exit (warm-up included; one worker thread per lane). Prints JSON; `--rounds N` (default 2).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildWebInto, browserSkipReason, launchChromium, ROOT, serveStatic } from '../scripts/web-harness.ts'

const i = process.argv.indexOf('--rounds')
const rounds = i > 0 ? Number(process.argv[i + 1]) : 2
const skip = browserSkipReason()
if (skip !== undefined) throw new Error(`bench:app needs Chromium: ${skip}`)

const dir = mkdtempSync(join(tmpdir(), 'samepage-bench-app-'))
const server = await serveStatic(buildWebInto(join(dir, 'web')))
const browser = await launchChromium({ width: 1280, height: 800 })

async function app(): Promise<number> {
  const page = await browser.context.newPage()
  await page.goto(`${server.url}index.html`)
  await page.getByRole('button', { name: 'Run', exact: true }).waitFor()
  await page.getByRole('radio', { name: 'max' }).check()
  const state = page.locator('.run-progress .state')
  const t0 = performance.now()
  await page.getByRole('button', { name: 'Run', exact: true }).click()
  await state.filter({ hasText: /^Done$/ }).waitFor({ timeout: 600_000 })
  const wall = (performance.now() - t0) / 1000
  await page.close()
  return wall
}

function cli(): number {
  const t0 = performance.now()
  execFileSync(process.execPath, [join(ROOT, 'bin', 'samepage.js'), 'run', 'paper-fig6b'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  return (performance.now() - t0) / 1000
}

cli() // bundles the CLI once, outside the timings
const runs: { app_s: number; cli_s: number; ratio: number }[] = []
for (let r = 0; r < rounds; r++) {
  const c = cli()
  const a = await app()
  runs.push({ app_s: Math.round(a * 100) / 100, cli_s: Math.round(c * 100) / 100, ratio: Math.round((a / c) * 1000) / 1000 })
  process.stderr.write(`bench:app round ${r + 1}: app ${a.toFixed(1)} s, cli ${c.toFixed(1)} s\n`)
}
process.stdout.write(JSON.stringify({ preset: 'paper-fig6b', date: new Date().toISOString(), runs }, null, 2) + '\n')
await browser.close()
await server.close()
rmSync(dir, { recursive: true, force: true })
