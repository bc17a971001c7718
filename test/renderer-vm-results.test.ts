// @vitest-environment happy-dom
// The per-VM results as the screen shows them (issue 15, item 10): at the end of a run, at the
// paused time, and, paused, at the sample nearest the charts' crosshair ("at t = … s"), kept
// when the pointer leaves the charts, back to the paused time on request. A real session runs
// on this thread; the figures are checked against an engine of the same config.
import { afterEach, describe, expect, it } from 'vitest'
import { parseExperiment, type ExperimentInput } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import VmResults from '../src/renderer/src/components/timeline/VmResults.vue'
import { mountLab, nextFrame } from './renderer-support/mountLab.ts'
import { sessionClient } from './renderer-support/platform.ts'

type Rig = ReturnType<typeof mountLab>
let rig: Rig | null = null
afterEach(() => {
  rig?.wrapper.unmount()
  rig = null
})

const workload = { kind: 'file-cases' as const, files: 30, pages_per_file: 8, read_pages_per_s: 20000, same_path_same_content: 1, different_path_different_content: 0, same_path_different_content: 0, different_path_same_content: 0 }
const SMALL: ExperimentInput = {
  schema: 'samepage-lab/experiment@1',
  name: 'per-vm',
  seed: 4,
  duration_s: 30,
  sample_every_s: 2,
  warmup: { boot: false, share: false },
  vms: [
    { name: 'alpha', memory_mib: 32, image: 'debian-7', workload },
    { name: 'beta', memory_mib: 32, image: 'debian-7', start_s: 4, workload }
  ],
  lanes: [{ name: 'KSM', scanner: { kind: 'ksm', pages_to_scan: 500, sleep_millisecs: 20 } }]
}

const heading = (r: Rig) => r.wrapper.get('#vm-results-caption').text()
/** The per-VM table's rows: VM, shared pages, sharing ratio, saved MiB, CoW breaks. */
const rows = (r: Rig) => r.wrapper.findAll('table.vm-share-table tbody tr').map((tr) => tr.findAll('th, td').map((c) => c.text()))
const matrix = (r: Rig) => r.wrapper.findAll('table.vm-matrix tbody tr').map((tr) => tr.findAll('td').map((c) => c.text()))

async function until(f: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (f()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('per-VM results on screen', () => {
  it('paused, they follow the crosshair to the nearest recorded sample, say its time, keep it off the charts, and go back to the paused time', async () => {
    const client = sessionClient()
    rig = mountLab([VmResults], client)
    const r = rig
    client.load(SMALL)
    client.step(16)
    await until(() => r.lab.run.state.value === 'paused' && r.lab.timeline.pausedAt.value !== null, 'the pause')
    await nextFrame()
    expect(heading(r)).toBe('Per-VM results: KSM (paused at t = 16 s)')
    expect(r.wrapper.text()).toContain('Point at a chart to see them at an earlier time.')

    // The same config in an engine, at t = 2 (before beta starts) and t = 16.
    const e = new Engine(parseExperiment(SMALL))
    e.advance(2)
    const at2 = e.lanes[0].vmShares()
    e.advance(14)
    const at16 = e.lanes[0].vmShares()
    expect(at2.matrix[0][1]).toBe(0)
    expect(at16.matrix[0][1]).toBeGreaterThan(0)
    const cells = (s: typeof at2) => s.matrix.map((row) => row.map((v) => v.toLocaleString('en-US')))
    expect(matrix(r)).toEqual(cells(at16))

    // The crosshair at 2.7 s: the sample at 2 s.
    r.lab.charts.setCursor(2.7)
    await nextFrame()
    expect(heading(r)).toBe('Per-VM results: KSM (at t = 2 s; paused at t = 16 s)')
    expect(matrix(r)).toEqual(cells(at2))
    expect(rows(r).map((row) => row[0])).toEqual(['alpha', 'beta'])
    expect(rows(r)[0][1]).toBe(at2.vms[0].shared_pages.toLocaleString('en-US'))
    // The pointer leaves the charts: the tables keep that time.
    r.lab.charts.setCursor(null)
    await nextFrame()
    expect(heading(r)).toBe('Per-VM results: KSM (at t = 2 s; paused at t = 16 s)')
    // Nearer the paused time than any earlier sample: the paused time's figures.
    r.lab.charts.setCursor(15.5)
    await nextFrame()
    expect(heading(r)).toBe('Per-VM results: KSM (paused at t = 16 s)')
    r.lab.charts.setCursor(4.2)
    await nextFrame()
    expect(heading(r)).toBe('Per-VM results: KSM (at t = 4 s; paused at t = 16 s)')
    const back = r.wrapper.findAll('button').find((b) => b.text() === 'Show the paused time')
    expect(back).toBeDefined()
    await back?.trigger('click')
    await nextFrame()
    expect(heading(r)).toBe('Per-VM results: KSM (paused at t = 16 s)')
    expect(matrix(r)).toEqual(cells(at16))

    // Running again: the crosshair no longer moves them; the end shows the final figures.
    client.resume()
    await until(() => r.lab.run.state.value === 'done', 'the end')
    await nextFrame()
    r.lab.charts.setCursor(6)
    await nextFrame()
    expect(heading(r)).toBe('Per-VM results: KSM (at the end, t = 30 s)')
    client.dispose()
  }, 120_000)
})
