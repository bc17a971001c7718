// @vitest-environment happy-dom
// The editor's Undo/Redo (Ctrl+Z, Ctrl+Shift+Z) and the lane rename on a scanner switch
// (issue 15, item 13), on the experiment store and the keys, without a browser.
import { flushPromises } from '@vue/test-utils'
import { defineComponent, h } from 'vue'
import { afterEach, describe, expect, it } from 'vitest'
import ExperimentEditor from '../src/renderer/src/components/editor/ExperimentEditor.vue'
import { useHistoryKeys } from '../src/renderer/src/composables/useShortcuts.ts'
import { createHistory, HISTORY_LIMIT } from '../src/renderer/src/stores/history.ts'
import { useLab } from '../src/renderer/src/stores/lab.ts'
import { mountLab } from './renderer-support/mountLab.ts'

const Keys = defineComponent({
  setup() {
    const lab = useLab()
    useHistoryKeys(lab.experiment, () => lab.locked.value)
    return () => h('p', 'keys')
  }
})

let rig: ReturnType<typeof mountLab> | null = null
afterEach(() => {
  rig?.wrapper.unmount()
  rig = null
})

function key(k: string, shift = false): void {
  window.dispatchEvent(new KeyboardEvent('keydown', { key: k, ctrlKey: true, shiftKey: shift, bubbles: true }))
}

describe('undo and redo', () => {
  it('history: an undo goes back one version, a redo forward; a new edit drops the redo branch; recording the current text is no step', () => {
    const hist = createHistory('a')
    hist.record('b')
    hist.record('b')
    hist.record('c')
    expect(hist.undo()).toBe('b')
    hist.record('b') // what the watcher sees after the undo: not a new step
    expect(hist.canRedo.value).toBe(true)
    expect(hist.redo()).toBe('c')
    expect(hist.undo()).toBe('b')
    hist.record('d')
    expect(hist.redo()).toBeNull()
    expect(hist.undo()).toBe('b')
    expect(hist.undo()).toBe('a')
    expect(hist.undo()).toBeNull()
  })

  it(`history keeps the last ${HISTORY_LIMIT} versions`, () => {
    const hist = createHistory('0')
    for (let i = 1; i <= HISTORY_LIMIT + 10; i++) hist.record(String(i))
    let n = 0
    while (hist.undo() !== null) n++
    expect(n).toBe(HISTORY_LIMIT - 1)
  })

  it('Ctrl+Z undoes an edit of the experiment and Ctrl+Shift+Z redoes it; the title follows', async () => {
    rig = mountLab([ExperimentEditor, Keys])
    const seed = rig.wrapper.get('[data-path="seed"]')
    const before = rig.lab.experiment.draft.value.seed
    await seed.setValue('99')
    await flushPromises()
    expect(rig.lab.experiment.draft.value.seed).toBe(99)
    expect(rig.lab.experiment.dirty.value).toBe(true)
    key('z')
    await flushPromises()
    expect(rig.lab.experiment.draft.value.seed).toBe(before)
    expect(rig.lab.experiment.dirty.value).toBe(false)
    key('z', true)
    await flushPromises()
    expect(rig.lab.experiment.draft.value.seed).toBe(99)
  })

  it('a preset pick starts a new history: Ctrl+Z does not bring the old experiment back', async () => {
    rig = mountLab([ExperimentEditor, Keys])
    await rig.wrapper.get('[data-path="seed"]').setValue('5')
    await flushPromises()
    rig.lab.experiment.loadPreset('paper-fig6a')
    await flushPromises()
    key('z')
    await flushPromises()
    expect(rig.lab.experiment.draft.value.name).toBe('paper-fig6a')
    expect(rig.lab.experiment.canUndo.value).toBe(false)
  })
})

describe('scanner switch renames', () => {
  it('a duplicated lane named after its scanner takes the new scanner’s name; a name the user gave stays', async () => {
    rig = mountLab([ExperimentEditor])
    const ex = rig.lab.experiment
    const ksm = ex.draft.value.lanes.findIndex((l) => l.name === 'KSM')
    expect(ksm).toBeGreaterThanOrEqual(0)
    ex.duplicateLane(ksm)
    expect(ex.draft.value.lanes[ksm + 1].name).toBe('KSM-copy')
    ex.setScannerKind(ksm + 1, 'esx')
    expect(ex.draft.value.lanes[ksm + 1].name).toBe('ESX')
    ex.setScannerKind(ksm + 1, 'hint')
    // "Hint" is taken by the preset's Hint lane.
    expect(ex.draft.value.lanes[ksm + 1].name).toBe('Hint-2')
    ex.draft.value.lanes[ksm + 1].name = 'mine'
    ex.setScannerKind(ksm + 1, 'xlh')
    expect(ex.draft.value.lanes[ksm + 1].name).toBe('mine')
  })
})
