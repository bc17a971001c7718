// The session protocol end to end as the Electron main process uses it: the real engine in a
// real worker thread (src/host/node/session-worker.ts, bundled as electron-vite bundles it),
// driven through WorkerSession, with the sample columns transferred back as Float64Arrays.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { METRIC_COLUMNS, METRIC_INDEX } from '../src/core/experiment/metrics.ts'
import type { Command, SessionEvent } from '../src/core/experiment/protocol.ts'
import { WorkerSession } from '../src/host/node/worker-session.ts'
import { encodeSnapshot, makeSnapshotHeader } from '../src/core/formats/snapshot.ts'
import { bundleSessionWorker } from './worker-bundle.ts'
import { idlePairExperiment } from './fixtures.ts'

let dir: string
let workerFile: string
const sessions: WorkerSession[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samepage-worker-'))
  workerFile = await bundleSessionWorker(dir)
})

afterEach(() => {
  for (const s of sessions.splice(0)) s.dispose()
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

// Two idle VMs: cheap to simulate, one sample per simulated second. (Much smaller VMs are
// slower: their guest images do not fit and the boot reclaims memory all along.)
const config = idlePairExperiment({ name: 'worker-test', duration_s: 3600, sample_every_s: 1, memory_mib: 128 })

/** A session on the real worker, with every event recorded. */
function rig(spawn: () => Worker = () => new Worker(workerFile)) {
  const workers: Worker[] = []
  const session = new WorkerSession(() => {
    const w = spawn()
    workers.push(w)
    return w
  })
  sessions.push(session)
  const events: SessionEvent[] = []
  session.onEvent((e) => events.push(e))
  const batches = (lane = 0) => events.flatMap((e) => (e.type === 'samples' ? e.batches.filter((b) => b.lane === lane) : []))
  const rows = (lane = 0) => batches(lane).reduce((n, b) => n + b.columns[0].length, 0)
  const lastT = () => {
    const bs = batches(0)
    const t = bs[bs.length - 1].columns[METRIC_INDEX.t_s]
    return t[t.length - 1]
  }
  const states = () => events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)
  /** Resolves once `predicate` holds for the events so far (checked on each new event). */
  const until = (predicate: () => boolean, what: string, ms = 30_000) =>
    new Promise<void>((resolve, reject) => {
      if (predicate()) return resolve()
      const timer = setTimeout(() => {
        off()
        reject(new Error(`timed out waiting for ${what}; events: ${events.map((e) => e.type).join(' ')}`))
      }, ms)
      const off = session.onEvent(() => {
        if (!predicate()) return
        clearTimeout(timer)
        off()
        resolve()
      })
    })
  const last = <T extends SessionEvent['type']>(type: T) => [...events].reverse().find((e) => e.type === type) as Extract<SessionEvent, { type: T }> | undefined
  return { session, events, workers, batches, rows, lastT, states, until, last }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('session protocol over a worker thread (Electron hosting)', () => {
  it('start streams Float64Array sample batches; pause stops them; resume continues', async () => {
    const r = rig()
    r.session.load(config)
    r.session.setSpeed(50)
    r.session.start()
    await r.until(() => r.rows() >= 5, 'samples') // after the warm-up (state preparing)
    const first = r.batches(0)[0]
    expect(first.columns).toHaveLength(METRIC_COLUMNS.length)
    for (const c of first.columns) expect(c).toBeInstanceOf(Float64Array)
    expect(r.batches(1).length).toBeGreaterThan(0) // every lane streams

    r.session.pause()
    await r.until(() => r.states().at(-1) === 'paused', 'paused')
    const paused = r.rows()
    await sleep(300)
    expect(r.rows()).toBe(paused)

    r.session.resume()
    await r.until(() => r.rows() > paused + 3, 'more samples after resume')
    expect(r.states()).toEqual(['ready', 'preparing', 'running', 'paused', 'running'])
    // At most one 'samples' event per session frame (≈ 30 a second), not one per point.
    const samplesEvents = r.events.filter((e) => e.type === 'samples').length
    expect(samplesEvents).toBeLessThan(r.rows())
  })

  it('step advances exactly N simulated seconds, then stop delivers the summary', async () => {
    const r = rig()
    r.session.load(config)
    r.session.step(7)
    await r.until(() => r.states().at(-1) === 'paused', 'paused after step 7')
    expect(r.lastT()).toBe(7)
    expect(r.last('progress')?.simSeconds).toBe(7)

    r.session.step(3)
    await r.until(() => r.states().filter((s) => s === 'paused').length === 2, 'paused after step 3')
    expect(r.lastT()).toBe(10)
    expect(r.rows()).toBe(11) // t = 0, 1, ..., 10

    r.session.stop()
    await r.until(() => r.states().at(-1) === 'done', 'done')
    const summary = r.last('summary')!.summary
    expect(summary.sim_seconds).toBe(10)
    expect(summary.lanes.map((l) => l.name)).toEqual(['KSM', 'Hint'])
    expect(r.states().at(-1)).toBe('done')
  })

  it('an invalid config is reported by field path and the worker keeps the loaded one', async () => {
    const r = rig()
    r.session.load(config)
    r.session.load({ ...config, duration_s: 'long' })
    await r.until(() => r.last('invalid') !== undefined, 'invalid')
    expect(r.last('invalid')!.issues[0].path).toBe('duration_s')
    r.session.step(2)
    await r.until(() => r.states().at(-1) === 'paused', 'paused')
    expect(r.lastT()).toBe(2)
  })

  it('a malformed command that reaches the worker is answered with an error event', async () => {
    const r = rig()
    r.session.send({ type: 'step', seconds: -5 } as Command)
    await r.until(() => r.last('error') !== undefined, 'error')
    expect(r.last('error')!.message).toMatch(/malformed command/)
  })

  it('a worker that throws becomes an error event; the next command starts a fresh worker with the last config', async () => {
    let throwing = true
    const r = rig(() =>
      throwing
        ? new Worker("require('node:worker_threads').parentPort.on('message', () => { throw new Error('engine exploded') })", { eval: true })
        : new Worker(workerFile)
    )
    r.session.load(config)
    await r.until(() => r.last('error') !== undefined, 'error')
    expect(r.last('error')!.message).toBe('engine exploded')
    expect(r.states().at(-1)).toBe('error')
    expect(r.session.running).toBe(false)

    // The owner is still fine: the user loads again and runs.
    throwing = false
    r.session.load(config)
    r.session.step(2)
    await r.until(() => r.states().at(-1) === 'paused', 'paused on the new worker')
    expect(r.lastT()).toBe(2)
    expect(r.workers).toHaveLength(2)
  })

  it('a worker that dies mid-run becomes an error event; Start then re-loads the last config in a new worker', async () => {
    const r = rig()
    r.session.load(config)
    r.session.setSpeed(50)
    r.session.start()
    await r.until(() => r.rows() >= 3, 'samples')
    await r.workers[0].terminate() // as if the thread crashed
    await r.until(() => r.last('error') !== undefined, 'error')
    expect(r.last('error')!.message).toMatch(/stopped unexpectedly/)

    const loadedBefore = r.events.filter((e) => e.type === 'loaded').length
    r.session.step(1)
    await r.until(() => r.events.filter((e) => e.type === 'loaded').length > loadedBefore && r.states().at(-1) === 'paused', 'a re-loaded session')
    expect(r.workers).toHaveLength(2)
    expect(r.lastT()).toBe(1)
  })

  it('the worker reads the files a config names: a snapshot loads and runs; a missing one is an issue on its field', async () => {
    const snap = join(dir, 'vm.spsnap')
    writeFileSync(snap, encodeSnapshot({ header: makeSnapshotHeader('vm.raw', 'raw'), extents: [{ gfn: 0, fps: Uint32Array.from([1, 2, 1, 2, 3, 4]) }] }))
    const withFile = (file: string) => ({
      ...idlePairExperiment({ name: 'snap', duration_s: 10, sample_every_s: 1, memory_mib: 16 }),
      vms: [
        { name: 'a', memory_mib: 16, snapshot_file: file, workload: { kind: 'boot' } },
        { name: 'b', memory_mib: 16, snapshot_file: file, workload: { kind: 'boot' } }
      ]
    })
    const r = rig()
    r.session.load(withFile(join(dir, 'missing.spsnap')))
    await r.until(() => r.last('invalid') !== undefined, 'invalid')
    expect(r.last('invalid')!.issues).toEqual([
      { path: 'vms[0].snapshot_file', message: `cannot read ${join(dir, 'missing.spsnap')}: no such file` },
      { path: 'vms[1].snapshot_file', message: `cannot read ${join(dir, 'missing.spsnap')}: no such file` }
    ])
    // A relative path resolves against the load's baseDir (the folder of the window's experiment file).
    r.session.send({ type: 'load', config: withFile('vm.spsnap'), baseDir: dir })
    r.session.start()
    await r.until(() => r.last('summary') !== undefined, 'summary')
    // Three pages per VM: content (1,2) four times in all, (3,4) twice: KSM frees 6 - 2 pages.
    expect(r.last('summary')!.summary.lanes[0].pages_sharing).toBe(4)
  })
})
