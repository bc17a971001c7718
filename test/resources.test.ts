// Resource limits before running (src/core/experiment/estimate.ts) and a worker that still runs out of
// memory (src/host/node/worker-limits.ts): refused with the estimate and the field to change,
// or one line and exit 1 with the owner alive; large runs are warned about, and the progress
// line shows the simulated/wall rate.
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/cli/main.ts'
import { progressLine } from '../src/cli/progress.ts'
import { runTasks } from '../src/cli/pool.ts'
import { validateExperiment, type Experiment } from '../src/core/experiment/config.ts'
import { costWarning, memoryProblem } from '../src/core/experiment/estimate.ts'
import { findPreset } from '../src/core/experiment/presets.ts'
import { WorkerMemoryError } from '../src/host/node/worker-limits.ts'
import { WorkerSession } from '../src/host/node/worker-session.ts'
import { idlePairExperiment } from './fixtures.ts'

const valid = (doc: unknown): Experiment => {
  const r = validateExperiment(doc)
  if (!r.ok) throw new Error(JSON.stringify(r.issues))
  return r.config
}
const fig6b = valid(findPreset('paper-fig6b')?.config)
const budget = { machineBytes: 16 * 2 ** 30, heapBytes: 2 * 2 ** 30 }

describe('memory estimated before running', () => {
  it('a web-app heap of 2^20 MiB in a 512 MiB VM is refused on heap_mib', () => {
    const d = idlePairExperiment({ name: 'heap', duration_s: 30, sample_every_s: 5, memory_mib: 512 }) as { vms: { workload: unknown }[] }
    d.vms[0].workload = { kind: 'web-app', heap_mib: 2 ** 20 }
    const r = validateExperiment(d)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues).toEqual([{ path: 'vms[0].workload.heap_mib', message: expect.stringMatching(/^the workload asks for 1,048,584 MiB, more than 4x the VM's memory \(512 MiB\)/) }])
  })

  it('8 lanes x 1,000,000 samples is refused on sample_every_s with the estimate', () => {
    const cfg = valid({ ...fig6b, duration_s: 100_000, sample_every_s: 0.1, lanes: Array.from({ length: 8 }, (_, i) => ({ name: `L${i}`, scanner: { kind: 'ksm' } })) })
    const p = memoryProblem(cfg, budget)
    expect(p?.path).toBe('sample_every_s')
    expect(p?.message).toMatch(/^8 lanes x 1,000,001 samples x 31 columns need about 7\.4 GiB of memory for the series, .*make the sample interval at least [\d.]+ s/)
  })

  it('guest memory beyond the machine is refused on the VM memory, with the estimate', () => {
    const cfg = valid({ ...fig6b, vms: [{ name: 'big', memory_mib: 1 << 17, workload: { kind: 'idle' } }], lanes: [fig6b.lanes[0]] })
    const p = memoryProblem(cfg, { machineBytes: 2 ** 30, heapBytes: 2 ** 30 })
    expect(p?.path).toBe('vms[0].memory_mib')
    expect(p?.message).toMatch(/^the run needs about 2\.5 GiB of memory .* this machine can give it 1\.0 GiB: give VM "big" less memory$/)
  })

  it('the presets fit and are not warned about', () => {
    for (const name of ['paper-fig6a', 'paper-fig6b', 'paper-table1', 'paas-host', 'paper-fig1']) {
      const cfg = valid(findPreset(name)?.config)
      expect(memoryProblem(cfg, budget)).toBeNull()
      expect(costWarning(cfg, fig6b)).toBeNull()
    }
  })

  it('the CLI refuses a heap far past its VM before running: one line, exit 2, the field named', async () => {
    let err = ''
    const d = idlePairExperiment({ name: 'heap', duration_s: 30, sample_every_s: 5, memory_mib: 512 }) as { vms: { workload: unknown }[] }
    d.vms[0].workload = { kind: 'web-app', heap_mib: 2 ** 20 }
    const { writeFileSync, mkdtempSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const p = join(mkdtempSync(join(tmpdir(), 'samepage-res-')), 'heap.json')
    writeFileSync(p, JSON.stringify(d))
    const t0 = performance.now()
    const code = await runCli(['run', p], { stdout: () => undefined, stderr: (s) => (err += s), stderrIsTTY: false })
    expect(code).toBe(2)
    expect(err).toMatch(/^samepage: vms\[0\]\.workload\.heap_mib: .*more than 4x the VM's memory \(512 MiB\)[^\n]*\n$/)
    expect(performance.now() - t0).toBeLessThan(20_000) // refused, not run
  })
})

describe('silent slowness', () => {
  it('an advisor with min = max = 1e7 pages to scan is warned about with the estimate', () => {
    const cfg = valid({ ...fig6b, lanes: [{ name: 'adv', scanner: { kind: 'ksm', advisor_mode: 'scan-time', advisor_min_pages_to_scan: 1e7, advisor_max_pages_to_scan: 1e7 } }] })
    expect(costWarning(cfg, fig6b)).toMatch(/^this run is large: about 500,0[\d,]+ events per simulated second, [\d,]+x the work of paper-fig6b/)
  })

  it('the progress line shows simulated seconds per wall second', () => {
    expect(progressLine('fig6b', 0.5, 6, 1200)).toBe(`\rfig6b [${'#'.repeat(15)}${'.'.repeat(15)}]  50%  ETA 6 s  200x sim/wall `)
    expect(progressLine('slow', 0.1, 100, 30)).toContain('0.300x sim/wall')
  })
})

const HOG = 'const a = []; for (;;) a.push(new Array(100000).fill(1.5))'

describe('a worker that runs out of memory', () => {
  it('becomes one line in the CLI pool (WorkerMemoryError) and this process lives on', async () => {
    const url = new URL(`data:text/javascript,${encodeURIComponent(`import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => { ${HOG} })`)}`)
    await expect(runTasks('hog', url, [1], 1, () => undefined, { maxOldGenerationSizeMb: 64 })).rejects.toThrow(WorkerMemoryError)
    expect(process.memoryUsage().rss).toBeGreaterThan(0) // still here
  }, 120_000)

  it("in the app's session: an error event in words, then the state 'error'", async () => {
    const session = new WorkerSession(() => new Worker(HOG, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 64 } }))
    const events: { type: string; message?: string; state?: string }[] = []
    const done = new Promise<void>((resolve) => {
      session.onEvent((e) => {
        events.push(e as never)
        if (e.type === 'state') resolve()
      })
    })
    session.load({})
    await done
    session.dispose()
    expect(events[0]).toEqual({ type: 'error', message: expect.stringMatching(/^the simulation ran out of memory/) })
    expect(events[1]).toEqual({ type: 'state', state: 'error' })
  }, 120_000)
})
