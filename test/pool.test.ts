// streamTasks, the sweep's pool: results as they come, failures that do not stop the others,
// a dead worker replaced, and the utilisation figures the bench reports.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { poolUtilisation, streamTasks, type PoolTimeline } from '../src/cli/pool.ts'

let dir = ''
let url: URL

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samepage-pool-'))
  const file = join(dir, 'worker.mjs')
  await build({ entryPoints: [join(import.meta.dirname, 'pool-worker-entry.ts')], outfile: file, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' })
  url = pathToFileURL(file)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('streamTasks', () => {
  it('a task that throws or kills its worker fails alone; every other task still gives its result', async () => {
    const kinds = ['ok', 'throw', 'ok', 'die', 'ok', 'ok'] as const
    const done = new Map<number, number>()
    const failed = new Map<number, string>()
    const t = await streamTasks<{ kind: (typeof kinds)[number]; value: number }, number>('pool-test', url, kinds.map((kind, value) => ({ kind, value })), 2, {
      done: (i, r) => done.set(i, r),
      failed: (i, m) => failed.set(i, m)
    })
    expect([...done].sort((a, b) => a[0] - b[0])).toEqual([
      [0, 0],
      [2, 4],
      [4, 8],
      [5, 10]
    ])
    expect(failed.get(1)).toBe('task 1 failed')
    expect(failed.get(3)).toMatch(/a worker exited with code 3/)
    expect(t.threads).toBe(2)
    for (const x of t.tasks) expect(x.endMs).toBeGreaterThanOrEqual(x.startMs)
  }, 60_000)

  it('utilisation: busy time over workers x time, while tasks wait and over the whole run', () => {
    // Two workers: 0-10 and 10-20 on worker 0, 0-15 on worker 1; last task handed out at 10.
    const t: PoolTimeline = {
      threads: 2,
      startMs: 0,
      endMs: 20,
      lastDispatchMs: 10,
      tasks: [
        { worker: 0, startMs: 0, endMs: 10 },
        { worker: 1, startMs: 0, endMs: 15 },
        { worker: 0, startMs: 10, endMs: 20 }
      ]
    }
    expect(poolUtilisation(t)).toEqual({ whileQueued: 1, whole: 35 / 40 })
  })
})
