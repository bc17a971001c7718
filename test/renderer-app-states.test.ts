// @vitest-environment happy-dom
// The run's states as the screens show them: Preparing… with the boot's progress (Run disabled,
// Stop enabled, the editor locked), "Stopped at t = … s" after Stop, and results marked as the
// run's when the editor has moved on.
import { afterEach, describe, expect, it } from 'vitest'
import { SUMMARY_SCHEMA_ID, type Summary } from '../src/core/experiment/engine.ts'
import type { Experiment } from '../src/core/experiment/config.ts'
import { METRIC_COLUMNS } from '../src/core/experiment/metrics.ts'
import ExperimentEditor from '../src/renderer/src/components/editor/ExperimentEditor.vue'
import ResultsOrigin from '../src/renderer/src/components/results/ResultsOrigin.vue'
import RunControls from '../src/renderer/src/components/run/RunControls.vue'
import RunProgress from '../src/renderer/src/components/run/RunProgress.vue'
import { mountLab, nextFrame } from './renderer-support/mountLab.ts'

type Rig = ReturnType<typeof mountLab>
let rig: Rig | null = null
afterEach(() => {
  rig?.wrapper.unmount()
  rig = null
})

function button(r: Rig, name: string) {
  const b = r.wrapper.findAll('button').find((x) => x.text() === name)
  if (!b) throw new Error(`no button ${name}`)
  return b
}

const status = (r: Rig) => r.wrapper.get('.run-progress [role="status"]').text()

/** Run the editor's experiment and answer as a session does, up to the warm-up. */
async function startRun(r: Rig): Promise<Experiment> {
  await button(r, 'Run').trigger('click')
  const cfg = r.lab.experiment.config.value as Experiment
  r.client.emit({ type: 'loaded', config: cfg, lanes: cfg.lanes.map((l) => ({ name: l.name, scanner: l.scanner.kind })) })
  r.client.emit({ type: 'state', state: 'ready' })
  r.client.emit({ type: 'state', state: 'preparing' })
  r.client.emit({ type: 'preparing', phase: 'boot', booted: 3, vms: 64 })
  await nextFrame()
  return cfg
}

function summaryAt(cfg: Experiment, t: number): Summary {
  return { schema: SUMMARY_SCHEMA_ID, config_name: cfg.name, seed: cfg.seed, sim_seconds: t, wall_seconds: 1, total_guest_pages: 1, lanes: [] }
}

describe('the run states on screen', () => {
  it('reads "Preparing… booting VMs (k of n)" during the warm-up; Run is disabled, Stop works, the editor is locked', async () => {
    rig = mountLab([RunControls, RunProgress, ExperimentEditor])
    await startRun(rig)
    expect(status(rig)).toBe('Preparing… booting VMs (3 of 64)')
    expect(button(rig, 'Run').attributes('disabled')).toBeDefined()
    expect(button(rig, 'Pause').attributes('disabled')).toBeDefined()
    expect(button(rig, 'Stop').attributes('disabled')).toBeUndefined()
    expect(rig.wrapper.get('fieldset.editor-fields').attributes('disabled')).toBeDefined()
    await button(rig, 'Stop').trigger('click')
    expect(rig.client.types().at(-1)).toBe('stop')
    rig.client.emit({ type: 'state', state: 'ready' })
    await nextFrame()
    expect(status(rig)).toBe('Ready')
    expect(rig.wrapper.get('fieldset.editor-fields').attributes('disabled')).toBeUndefined()
  })

  it('says "Stopped at t = … s" after Stop, and "Done" after a run to the end', async () => {
    rig = mountLab([RunControls, RunProgress])
    const cfg = await startRun(rig)
    rig.client.emit({ type: 'state', state: 'running' })
    rig.client.emit({ type: 'progress', simSeconds: 1070.4, durationSeconds: cfg.duration_s, wallSeconds: 3 })
    rig.client.emit({ type: 'summary', summary: summaryAt(cfg, 1070.4) })
    rig.client.emit({ type: 'state', state: 'done' })
    await nextFrame()
    expect(status(rig)).toBe('Stopped at t = 1,070 s')
    await button(rig, 'Run').trigger('click')
    rig.client.emit({ type: 'loaded', config: cfg, lanes: [] })
    rig.client.emit({ type: 'state', state: 'running' })
    rig.client.emit({ type: 'summary', summary: summaryAt(cfg, cfg.duration_s) })
    rig.client.emit({ type: 'state', state: 'done' })
    await nextFrame()
    expect(status(rig)).toBe('Done')
  })

  it('marks results as the run’s once the editor is edited, and Reset clears them', async () => {
    rig = mountLab([RunControls, RunProgress, ResultsOrigin])
    const cfg = await startRun(rig)
    rig.client.emit({ type: 'state', state: 'running' })
    rig.client.emit({ type: 'samples', batches: [{ lane: 0, from: 0, columns: METRIC_COLUMNS.map(() => Float64Array.of(0)) }] })
    rig.client.emit({ type: 'summary', summary: summaryAt(cfg, cfg.duration_s) })
    rig.client.emit({ type: 'state', state: 'done' })
    await nextFrame()
    expect(rig.wrapper.find('[role="note"][aria-label="Results origin"]').exists()).toBe(false)
    rig.lab.experiment.draft.value.duration_s = 300
    await nextFrame()
    const note = rig.wrapper.get('[role="note"][aria-label="Results origin"]')
    expect(note.text()).toContain(`These results are from “${cfg.name}”, edited since.`)
    await note.get('button').trigger('click')
    const last = rig.client.commands.at(-1)
    expect(last?.type === 'load' && (last.config as Experiment).duration_s).toBe(cfg.duration_s)
  })
})
