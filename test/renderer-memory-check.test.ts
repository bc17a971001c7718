// @vitest-environment happy-dom
// The app checks a run's memory before it runs (issue 13, item 3, in the app): a run whose
// estimated memory (src/core/experiment/estimate.ts) does not fit what the host can give is refused at
// Run, as `samepage run` refuses it: the message in the user's words at the field to change,
// Run disabled with the reason, the editor as it was, no lane session started. Real sessions on
// this thread behind the app's ParallelLabClient, with a small budget.
import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { MemoryBudget } from '../src/core/experiment/estimate.ts'
import { ParallelLabClient, type LaneClient } from '../src/core/experiment/parallel.ts'
import type { Command } from '../src/core/experiment/protocol.ts'
import NoticeList from '../src/renderer/src/components/NoticeList.vue'
import ExperimentEditor from '../src/renderer/src/components/editor/ExperimentEditor.vue'
import RunControls from '../src/renderer/src/components/run/RunControls.vue'
import RunProgress from '../src/renderer/src/components/run/RunProgress.vue'
import { mountLab } from './renderer-support/mountLab.ts'
import { sessionClient } from './renderer-support/platform.ts'

type Rig = ReturnType<typeof mountLab>
let rig: Rig | null = null
let lanes: ReturnType<typeof sessionClient>[] = []
afterEach(() => {
  rig?.wrapper.unmount()
  rig = null
  for (const l of lanes) l.dispose()
  lanes = []
})

/** What the host can give: 0.5 GiB, "this machine". */
const BUDGET: MemoryBudget = { machineBytes: 2 ** 29, heapBytes: 2 ** 30 }

function setup() {
  const client = new ParallelLabClient(
    () => {
      const s = sessionClient()
      lanes.push(s)
      const lane: LaneClient = { ...s, send: (cmd: Command) => s.session.handle(cmd) }
      return lane
    },
    { memoryBudget: () => BUDGET }
  )
  return mountLab([RunControls, RunProgress, NoticeList, ExperimentEditor], client)
}

const input = (r: Rig, path: string) => r.wrapper.get(`[data-path="${path}"]`)
const fieldIssue = (r: Rig, path: string): string => input(r, path).element.closest('.field')?.querySelector('.field-issue')?.textContent ?? ''
function button(r: Rig, name: string) {
  const b = r.wrapper.findAll('button').find((x) => x.text() === name)
  if (!b) throw new Error(`no button "${name}"`)
  return b
}
/** Lane sessions that got as far as running (or preparing, paused, done). */
const busy = () => lanes.filter((l) => l.session.currentState !== 'empty' && l.session.currentState !== 'ready')
const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    await flushPromises()
  }
}

describe('the app checks a run’s memory before running it', () => {
  it('a VM too large for this machine is refused at Run: the message at its Memory field, Run disabled with it, the editor intact, nothing started', async () => {
    rig = setup()
    const r = rig
    // One lane (Remove lane Hint), then a VM of 32 GiB: 2^23 guest pages x 80 bytes, 0.6 GiB.
    await r.wrapper.get('[aria-label="Remove lane Hint"]').trigger('click')
    await input(r, 'vms[0].memory_mib').setValue('32768')
    const before = r.lab.experiment.text.value
    expect(button(r, 'Run').attributes('disabled')).toBeUndefined()
    await button(r, 'Run').trigger('click')
    await settle()
    const message = fieldIssue(r, 'vms[0].memory_mib')
    expect(message).toMatch(/^the run needs about 0\.6 GiB of memory \(0\.6 GiB for 1 lane\(s\) of guest memory, .*\); this machine can give it 0\.5 GiB: give VM "vm1" less memory$/)
    expect(button(r, 'Run').attributes('disabled')).toBeDefined()
    expect(r.wrapper.get('#run-blocker').text()).toContain(`vms[0].memory_mib: ${message}`)
    // The editor as it was, editable; no lane session got the config, none started.
    expect(r.lab.experiment.text.value).toBe(before)
    expect(r.lab.locked.value).toBe(false)
    expect(input(r, 'vms[0].memory_mib').attributes('disabled')).toBeUndefined()
    expect(busy()).toEqual([])
    expect(r.lab.run.state.value).not.toBe('preparing')
    expect(r.lab.run.state.value).not.toBe('running')

    // Less memory: the problem goes, and the run starts.
    await input(r, 'vms[0].memory_mib').setValue('512')
    expect(fieldIssue(r, 'vms[0].memory_mib')).toBe('')
    expect(button(r, 'Run').attributes('disabled')).toBeUndefined()
    await button(r, 'Run').trigger('click')
    await settle()
    expect(busy().length).toBe(1)
    expect(['preparing', 'running']).toContain(lanes[0].session.currentState)
    lanes[0].session.handle({ type: 'stop' })
  }, 60_000)

  it('with two lanes the problem names the lanes, listed above the editor, and Run stays disabled until the experiment changes', async () => {
    rig = setup()
    const r = rig
    await input(r, 'vms[0].memory_mib').setValue('16384')
    await button(r, 'Run').trigger('click')
    await settle()
    const list = r.wrapper.get('[aria-label="Problems in the experiment"]').text()
    expect(list).toMatch(/lanes: the run needs about 0\.\d GiB of memory \(0\.\d GiB for 2 lane\(s\) of guest memory, .*\); this machine can give it 0\.5 GiB: run fewer lanes or give the VMs less memory/)
    expect(button(r, 'Run').attributes('disabled')).toBeDefined()
    expect(busy()).toEqual([])
    await r.wrapper.get('[aria-label="Remove lane Hint"]').trigger('click')
    expect(r.wrapper.find('[aria-label="Problems in the experiment"]').exists()).toBe(false)
    expect(button(r, 'Run').attributes('disabled')).toBeUndefined()
  }, 60_000)
})
