// @vitest-environment happy-dom
// The experiment editor: validation as you type with the error next to its field, Run
// disabled with the reason shown, VM table edits, presets, Open/Save and the shortcuts.
import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { findPreset } from '../src/core/experiment/presets.ts'
import AppToolbar from '../src/renderer/src/components/AppToolbar.vue'
import NoticeList from '../src/renderer/src/components/NoticeList.vue'
import ExperimentEditor from '../src/renderer/src/components/editor/ExperimentEditor.vue'
import RunControls from '../src/renderer/src/components/run/RunControls.vue'
import RunProgress from '../src/renderer/src/components/run/RunProgress.vue'
import { useShortcuts } from '../src/renderer/src/composables/useShortcuts.ts'
import { serializeConfig } from '../src/renderer/src/stores/experiment.ts'
import { useLab } from '../src/renderer/src/stores/lab.ts'
import { defineComponent, h } from 'vue'
import { mountLab } from './renderer-support/mountLab.ts'
import { sessionClient } from './renderer-support/platform.ts'

const Shortcuts = defineComponent({
  setup() {
    useShortcuts(useLab().dispatch)
    return () => h('p', { tabindex: -1, class: 'neutral' }, 'not a field')
  }
})

function setup() {
  return mountLab([AppToolbar, RunControls, RunProgress, NoticeList, ExperimentEditor, Shortcuts])
}

type Rig = ReturnType<typeof setup>
let rig: Rig | null = null
afterEach(() => {
  rig?.wrapper.unmount()
  rig = null
})

function input(r: Rig, path: string) {
  return r.wrapper.get(`[data-path="${path}"]`)
}

/** The error text shown in the field that holds `path`. */
function fieldIssue(r: Rig, path: string): string {
  const field = input(r, path).element.closest('.field')
  return field?.querySelector('.field-issue')?.textContent ?? ''
}

function button(r: Rig, name: string) {
  const b = r.wrapper.findAll('button').find((x) => x.text() === name)
  if (!b) throw new Error(`no button "${name}"`)
  return b
}

describe('experiment editor validation', () => {
  it('a memory size below the minimum shows its error next to the field and disables Run with the reason', async () => {
    rig = setup()
    expect(button(rig, 'Run').attributes('disabled')).toBeUndefined()
    await input(rig, 'vms[0].memory_mib').setValue('8')
    expect(fieldIssue(rig, 'vms[0].memory_mib')).toBe('Memory must be at least 16 MiB')
    expect(input(rig, 'vms[0].memory_mib').attributes('aria-invalid')).toBe('true')
    expect(button(rig, 'Run').attributes('disabled')).toBeDefined()
    expect(rig.wrapper.get('#run-blocker').text()).toContain('vms[0].memory_mib')

    await input(rig, 'vms[0].memory_mib').setValue('256')
    expect(fieldIssue(rig, 'vms[0].memory_mib')).toBe('')
    expect(button(rig, 'Run').attributes('disabled')).toBeUndefined()
    expect(rig.wrapper.find('#run-blocker').exists()).toBe(false)
  })

  it('an emptied required number asks for a number; an emptied optional one falls back to the default', async () => {
    rig = setup()
    await input(rig, 'duration_s').setValue('')
    expect(fieldIssue(rig, 'duration_s')).toBe('Duration is empty: enter a number')
    await input(rig, 'host.cores').setValue('')
    expect(fieldIssue(rig, 'host.cores')).toBe('')
    expect('cores' in rig.lab.experiment.draft.value.host).toBe(false)
  })

  it('a sample interval longer than the run is an error on the interval field', async () => {
    rig = setup()
    await input(rig, 'duration_s').setValue('5')
    expect(fieldIssue(rig, 'sample_every_s')).toContain('Sample interval must not exceed the duration')
  })

  it('two VMs with one name: the error sits on the second name', async () => {
    rig = setup()
    await input(rig, 'vms[1].name').setValue('vm1')
    expect(fieldIssue(rig, 'vms[1].name')).toContain('duplicate VM name "vm1"')
    expect(fieldIssue(rig, 'vms[0].name')).toBe('')
  })

  it('a problem with no field of its own (total guest memory) is listed above the editor', async () => {
    rig = setup()
    await input(rig, 'vms[0].memory_mib').setValue(String(1 << 20))
    await input(rig, 'vms[1].memory_mib').setValue(String(1 << 20))
    const list = rig.wrapper.get('.issue-list')
    expect(list.text()).toContain('vms: Memory of all VMs together must be at most')
    expect(button(rig, 'Run').attributes('disabled')).toBeDefined()
  })

  it('Add VM, Duplicate and Remove edit the VM table; the last VM cannot be removed', async () => {
    rig = setup()
    const rows = () => rig!.wrapper.findAll('tbody.vm').length
    expect(rows()).toBe(2)
    await button(rig, 'Add VM').trigger('click')
    expect(rows()).toBe(3)
    expect(rig.lab.experiment.draft.value.vms[2].name).toBe('vm3')
    await rig.wrapper.get('button[aria-label="Duplicate vm1"]').trigger('click')
    expect(rig.lab.experiment.draft.value.vms.map((v) => v.name)).toEqual(['vm1', 'vm1-copy', 'vm2', 'vm3'])
    for (const name of ['vm1-copy', 'vm2', 'vm3']) await rig.wrapper.get(`button[aria-label="Remove ${name}"]`).trigger('click')
    expect(rows()).toBe(1)
    expect(rig.wrapper.get('button[aria-label="Remove vm1"]').attributes('disabled')).toBeDefined()
  })

  it('a disabled Remove or Add VM says why (tooltip and accessible description)', async () => {
    rig = setup()
    await rig.wrapper.get('button[aria-label="Remove vm2"]').trigger('click')
    const remove = rig.wrapper.get('button[aria-label="Remove vm1"]')
    expect(remove.attributes('disabled')).toBeDefined()
    expect(remove.attributes('aria-description')).toBe('An experiment needs at least one VM')
    expect(remove.attributes('title')).toBe('Remove vm1: An experiment needs at least one VM')
    expect(button(rig, 'Add VM').attributes('title')).toBeUndefined()
    rig.lab.experiment.draft.value.vms = Array.from({ length: 256 }, (_, i) => ({ ...rig!.lab.experiment.draft.value.vms[0], name: `v${i}` }))
    await flushPromises()
    expect(button(rig, 'Add VM').attributes('disabled')).toBeDefined()
    expect(button(rig, 'Add VM').attributes('aria-description')).toBe('An experiment has at most 256 VMs')
  })

  it("changing a VM's workload shows that workload's parameters at their defaults", async () => {
    rig = setup()
    await input(rig, 'vms[0].workload.kind').setValue('mem-micro')
    expect((input(rig, 'vms[0].workload.working_set_mib').element as HTMLInputElement).value).toBe('256')
    expect((input(rig, 'vms[0].workload.shared_fraction').element as HTMLInputElement).value).toBe('0.5')
    expect(rig.wrapper.find('[data-path="vms[0].workload.units"]').exists()).toBe(false)
    await input(rig, 'vms[0].workload.shared_fraction').setValue('1.5')
    expect(fieldIssue(rig, 'vms[0].workload.shared_fraction')).toBe('shared_fraction must be at most 1')
  })

  it("a workload's enum parameter is a select of the schema's choices (web-app's runtime)", async () => {
    rig = setup()
    await input(rig, 'vms[0].workload.kind').setValue('web-app')
    const runtime = input(rig, 'vms[0].workload.runtime')
    expect(runtime.element.tagName).toBe('SELECT')
    expect(runtime.findAll('option').map((o) => o.element.value)).toEqual(['python-2.7', 'ruby-2.0', 'openjdk-7'])
    await runtime.setValue('ruby-2.0')
    expect(rig.lab.experiment.draft.value.vms[0].workload).toMatchObject({ kind: 'web-app', runtime: 'ruby-2.0' })
    expect(input(rig, 'vms[0].workload.install_prefix').element.tagName).toBe('SELECT')
  })

  it('a trace workload asks for its file; image and snapshot files are text fields, empty = absent', async () => {
    rig = setup()
    await input(rig, 'vms[0].workload.kind').setValue('trace')
    expect((input(rig, 'vms[0].workload.file').element as HTMLInputElement).value).toBe('')
    expect(fieldIssue(rig, 'vms[0].workload.file')).not.toBe('')
    await input(rig, 'vms[0].workload.file').setValue('/data/web1.jsonl')
    expect(fieldIssue(rig, 'vms[0].workload.file')).toBe('')
    await input(rig, 'vms[0].image_file').setValue('/images/debian.spimg')
    expect(rig.lab.experiment.draft.value.vms[0].image_file).toBe('/images/debian.spimg')
    await input(rig, 'vms[0].snapshot_file').setValue('/dumps/vm.spsnap')
    expect(fieldIssue(rig, 'vms[0].snapshot_file')).toMatch(/not both/)
    await input(rig, 'vms[0].image_file').setValue('')
    expect('image_file' in rig.lab.experiment.draft.value.vms[0]).toBe(false)
    expect(fieldIssue(rig, 'vms[0].snapshot_file')).toBe('')
  })

  it('with an image file, the working set (comma-separated) and model memory appear; they go with the image', async () => {
    rig = setup()
    expect(rig.wrapper.find('[data-path="vms[0].working_set"]').exists()).toBe(false)
    await input(rig, 'vms[0].image_file').setValue('/images/debian.spimg')
    await input(rig, 'vms[0].working_set').setValue(' /usr/bin/python3, /etc/hosts ,')
    expect(rig.lab.experiment.draft.value.vms[0].working_set).toEqual(['/usr/bin/python3', '/etc/hosts'])
    const model = input(rig, 'vms[0].model_memory')
    expect((model.element as HTMLInputElement).checked).toBe(true)
    await model.setValue(false)
    expect(rig.lab.experiment.draft.value.vms[0].model_memory).toBe(false)
    await input(rig, 'vms[0].working_set').setValue('')
    expect('working_set' in rig.lab.experiment.draft.value.vms[0]).toBe(false)
    await input(rig, 'vms[0].working_set').setValue('/etc/hosts')
    await input(rig, 'vms[0].image_file').setValue('')
    const vm = rig.lab.experiment.draft.value.vms[0]
    expect(['image_file', 'working_set', 'model_memory'].filter((k) => k in vm)).toEqual([])
    expect(rig.wrapper.find('[data-path="vms[0].model_memory"]').exists()).toBe(false)
  })
})

describe('runs and files from the editor', () => {
  it('Run sends the validated config; the editor is read-only until the run ends', async () => {
    rig = setup()
    await button(rig, 'Run').trigger('click')
    expect(rig.client.types()).toEqual(['setSpeed', 'load', 'setSpeed', 'start'])
    const loaded = rig.client.commands[1] as { config: { vms: unknown[] } }
    expect(loaded.config.vms).toHaveLength(2)
    rig.client.emit({ type: 'state', state: 'running' })
    await flushPromises()
    expect(rig.wrapper.get('fieldset.editor-fields').attributes('disabled')).toBeDefined()
    expect(button(rig, 'Pause').attributes('disabled')).toBeUndefined()
    expect(button(rig, 'Run').attributes('disabled')).toBeDefined()
    rig.client.emit({ type: 'state', state: 'paused' })
    await flushPromises()
    await button(rig, 'Resume').trigger('click')
    expect(rig.client.types().slice(-1)).toEqual(['resume'])
    rig.client.emit({ type: 'state', state: 'done' })
    await flushPromises()
    expect(rig.wrapper.get('fieldset.editor-fields').attributes('disabled')).toBeUndefined()
  })

  it('loading a preset makes a new experiment with no file, and picking it is not an unsaved change', async () => {
    rig = setup()
    await rig.wrapper.get('#preset').setValue('paper-fig6a')
    await flushPromises()
    expect(rig.lab.experiment.draft.value.name).toBe('paper-fig6a')
    expect(rig.lab.experiment.file.value).toBeNull()
    const last = rig.platform.titles[rig.platform.titles.length - 1]
    expect(last).toEqual({ title: 'paper-fig6a — Samepage Lab', dirty: false })
    expect(rig.wrapper.get('#preset-description').text()).toBe(findPreset('paper-fig6a')?.description)
  })

  it('a preset picked over unsaved changes asks first; declining keeps the experiment', async () => {
    rig = setup()
    await input(rig, 'seed').setValue('9')
    rig.platform.confirmAnswer = false
    await rig.wrapper.get('#preset').setValue('paper-fig6a')
    await flushPromises()
    expect(rig.platform.confirms).toBe(1)
    expect(rig.lab.experiment.draft.value).toMatchObject({ name: 'paper-fig6b', seed: 9 })
    expect((rig.wrapper.get('#preset').element as HTMLSelectElement).value).toBe('paper-fig6b')
    rig.platform.confirmAnswer = true
    await rig.wrapper.get('#preset').setValue('paper-fig6a')
    await flushPromises()
    expect(rig.lab.experiment.draft.value).toMatchObject({ name: 'paper-fig6a', seed: 42 })
  })

  it('Open of an invalid file names the field and leaves the experiment unchanged', async () => {
    rig = setup()
    const before = rig.lab.experiment.text.value
    const doc = JSON.parse(before)
    doc.vms[0].memory_mib = 'lots'
    rig.platform.toOpen.push({ name: 'bad.samepage.json', text: JSON.stringify(doc) })
    await button(rig, 'Open').trigger('click')
    await flushPromises()
    const alert = rig.wrapper.get('[role="alert"]')
    expect(alert.text()).toContain('bad.samepage.json')
    expect(alert.text()).toContain('vms[0].memory_mib')
    expect(rig.lab.experiment.text.value).toBe(before)
  })

  it('Save writes the draft and clears the dirty marker; opening that file gives the same config', async () => {
    rig = setup()
    await input(rig, 'seed').setValue('7')
    expect(rig.lab.experiment.dirty.value).toBe(true)
    await button(rig, 'Save').trigger('click')
    await flushPromises()
    expect(rig.platform.saved).toHaveLength(1)
    const { text, opts } = rig.platform.saved[0]
    expect(opts).toMatchObject({ suggestedName: 'paper-fig6b.samepage.json', saveAs: false })
    expect(JSON.parse(text).seed).toBe(7)
    expect(rig.lab.experiment.dirty.value).toBe(false)
    expect(rig.platform.titles[rig.platform.titles.length - 1].title).toBe('paper-fig6b.samepage.json — Samepage Lab')

    rig.lab.experiment.newDocument()
    rig.platform.toOpen.push({ name: 'again.samepage.json', text })
    await button(rig, 'Open').trigger('click')
    await flushPromises()
    expect(rig.lab.experiment.text.value).toBe(serializeConfig(JSON.parse(text)))
    expect(rig.lab.experiment.dirty.value).toBe(false)
  })

  it('Space runs and pauses outside fields but types in them; Ctrl+S saves', async () => {
    rig = setup()
    const neutral = rig.wrapper.get('p.neutral')
    await neutral.trigger('keydown', { key: ' ', code: 'Space' })
    expect(rig.client.types()).toContain('start')
    rig.client.emit({ type: 'state', state: 'running' })
    await flushPromises()
    await new Promise((r) => setTimeout(r, 300)) // one action per key press, not two within 250 ms
    await neutral.trigger('keydown', { key: ' ', code: 'Space' })
    expect(rig.client.types().slice(-1)).toEqual(['pause'])
    const n = rig.client.commands.length
    await input(rig, 'name').trigger('keydown', { key: ' ', code: 'Space' })
    expect(rig.client.commands).toHaveLength(n)
    await neutral.trigger('keydown', { key: 's', ctrlKey: true })
    await flushPromises()
    expect(rig.platform.saved).toHaveLength(1)
  })

  it('menu actions from the platform drive the same commands', async () => {
    rig = setup()
    rig.platform.press({ preset: 'paper-fig6c' })
    await flushPromises()
    expect(rig.lab.experiment.draft.value.name).toBe('paper-fig6c')
    expect(rig.platform.confirms).toBe(0) // the host asked before sending it
    rig.platform.press('run-pause')
    expect(rig.client.types()).toContain('start')
  })
})

describe('files in web mode', () => {
  it('a VM with an image file is refused by a session that cannot read files, the field named in the notice', async () => {
    rig = mountLab([AppToolbar, RunControls, RunProgress, NoticeList, ExperimentEditor], sessionClient())
    await input(rig, 'vms[0].image_file').setValue('debian.spimg')
    await button(rig, 'Run').trigger('click')
    await new Promise((r) => setTimeout(r, 20))
    await flushPromises()
    const text = rig.wrapper.text()
    expect(text).toContain('The session refused the experiment')
    expect(text).toMatch(/vms\[0\]\.image_file: debian\.spimg: this host cannot read files \(web mode\)/)
  })
})
