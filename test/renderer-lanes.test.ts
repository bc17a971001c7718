// @vitest-environment happy-dom
// The lane editor: scanner kind and its knobs, the scan rate as pages/s or as pages_to_scan +
// sleep_millisecs, and lane add/duplicate/remove, each validated next to its field.
import { afterEach, describe, expect, it } from 'vitest'
import LaneList from '../src/renderer/src/components/editor/LaneList.vue'
import { mountLab } from './renderer-support/mountLab.ts'

type Rig = ReturnType<typeof mountLab>
let rig: Rig | null = null
afterEach(() => {
  rig?.wrapper.unmount()
  rig = null
})

function setup(): Rig {
  rig = mountLab([LaneList])
  return rig
}

const field = (r: Rig, path: string) => r.wrapper.get(`[data-path="${path}"]`)
const has = (r: Rig, path: string) => r.wrapper.find(`[data-path="${path}"]`).exists()
const value = (r: Rig, path: string) => (field(r, path).element as HTMLInputElement).value
const issue = (r: Rig, path: string) => field(r, path).element.closest('.field')?.querySelector('.field-issue')?.textContent ?? ''

describe('lane editor', () => {
  it('shows one editor per lane of the preset, named and with its scanner', () => {
    const r = setup()
    expect(r.wrapper.findAll('fieldset.lane')).toHaveLength(2)
    expect(value(r, 'lanes[0].name')).toBe('KSM')
    expect(value(r, 'lanes[1].scanner.kind')).toBe('hint')
  })

  it('hint stack and hash table sizes are there for a hint lane only, and follow a kind change', async () => {
    const r = setup()
    expect(has(r, 'lanes[1].scanner.hint_stack_size')).toBe(true)
    expect(has(r, 'lanes[0].scanner.hint_stack_size')).toBe(false)
    await field(r, 'lanes[0].scanner.kind').setValue('hint')
    expect(value(r, 'lanes[0].scanner.hint_stack_size')).toBe('16384')
    expect(r.lab.experiment.draft.value.lanes[0].scanner).toMatchObject({ kind: 'hint', pages_to_scan: 20, sleep_millisecs: 20 })
    await field(r, 'lanes[1].scanner.kind').setValue('ksm')
    expect(has(r, 'lanes[1].scanner.hint_stack_size')).toBe(false)
    expect('hint_stack_size' in r.lab.experiment.draft.value.lanes[1].scanner).toBe(false)
    expect(r.lab.experiment.issues.value).toEqual([])
  })

  it('switching the scan rate to pages/s keeps the rate: 20 pages per 20 ms is 1000 pages/s', async () => {
    const r = setup()
    expect(has(r, 'lanes[0].scanner.pages_to_scan')).toBe(true)
    expect(r.wrapper.text()).toContain('= 1,000 pages/s nominal')
    await field(r, 'lanes[0].scanner.rate_mode').setValue('pages_per_s')
    expect(has(r, 'lanes[0].scanner.pages_to_scan')).toBe(false)
    expect(value(r, 'lanes[0].scanner.pages_per_s')).toBe('1000')
    await field(r, 'lanes[0].scanner.pages_per_s').setValue('5000')
    expect(r.wrapper.text()).toContain('= 100 pages per wake-up')
    await field(r, 'lanes[0].scanner.rate_mode').setValue('pages_to_scan')
    expect(value(r, 'lanes[0].scanner.pages_to_scan')).toBe('100')
    expect('pages_per_s' in r.lab.experiment.draft.value.lanes[0].scanner).toBe(false)
  })

  it('a rate under one page per wake-up is an error on the rate field', async () => {
    const r = setup()
    await field(r, 'lanes[0].scanner.rate_mode').setValue('pages_per_s')
    await field(r, 'lanes[0].scanner.pages_per_s').setValue('10')
    expect(issue(r, 'lanes[0].scanner.pages_per_s')).toContain('less than one page per wake-up')
    await field(r, 'lanes[0].scanner.sleep_millisecs').setValue('200')
    expect(issue(r, 'lanes[0].scanner.pages_per_s')).toBe('')
  })

  it('knobs out of range are flagged where they are typed', async () => {
    const r = setup()
    await field(r, 'lanes[0].scanner.max_page_sharing').setValue('1')
    expect(issue(r, 'lanes[0].scanner.max_page_sharing')).toBe('max_page_sharing must be at least 2')
    await field(r, 'lanes[1].scanner.hint_stack_size').setValue('2.5')
    expect(issue(r, 'lanes[1].scanner.hint_stack_size')).toBe('hint_stack_size must be a whole number')
    await field(r, 'lanes[0].scanner.sleep_millisecs').setValue('')
    expect(issue(r, 'lanes[0].scanner.sleep_millisecs')).toBe('sleep_millisecs is empty: enter a number')
  })

  it('two lanes with one name: the error is on the second', async () => {
    const r = setup()
    await field(r, 'lanes[1].name').setValue('KSM')
    expect(issue(r, 'lanes[1].name')).toContain('duplicate lane name "KSM"')
    expect(issue(r, 'lanes[0].name')).toBe('')
  })

  it('add, duplicate and remove lanes, between one and eight', async () => {
    const r = setup()
    const add = r.wrapper.findAll('button').find((b) => b.text() === 'Add lane')!
    await add.trigger('click')
    expect(r.lab.experiment.draft.value.lanes.map((l) => [l.name, l.scanner.kind])).toEqual([['KSM', 'ksm'], ['Hint', 'hint'], ['KSM-2', 'ksm']])
    await r.wrapper.get('button[aria-label="Duplicate lane Hint"]').trigger('click')
    expect(r.lab.experiment.draft.value.lanes[2]).toMatchObject({ name: 'Hint-copy', scanner: { kind: 'hint' } })
    for (let i = 0; i < 10; i++) await add.trigger('click')
    expect(r.lab.experiment.draft.value.lanes).toHaveLength(8)
    expect(add.attributes('disabled')).toBeDefined()
    while (r.lab.experiment.draft.value.lanes.length > 1) {
      await r.wrapper.findAll('button').find((b) => b.attributes('aria-label')?.startsWith('Remove lane'))!.trigger('click')
    }
    expect(r.wrapper.findAll('fieldset.lane')).toHaveLength(1)
    expect(r.wrapper.get('button[aria-label^="Remove lane"]').attributes('disabled')).toBeDefined()
    expect(r.lab.experiment.issues.value).toEqual([])
  })

  it('each kind shows its own knobs from the schema: xlh, esx, hybrid, and KSM with its advisor', async () => {
    const r = setup()
    await field(r, 'lanes[0].scanner.kind').setValue('xlh')
    expect(value(r, 'lanes[0].scanner.hint_ratio')).toBe('1')
    expect(value(r, 'lanes[0].scanner.linear_ratio')).toBe('1')
    expect(has(r, 'lanes[0].scanner.smart_scan')).toBe(true)
    expect(has(r, 'lanes[0].scanner.hint_zero_pages')).toBe(false)
    await field(r, 'lanes[0].scanner.hint_ratio').setValue('0')
    await field(r, 'lanes[0].scanner.linear_ratio').setValue('0')
    expect(issue(r, 'lanes[0].scanner.linear_ratio')).toContain('cannot both be 0')
    await field(r, 'lanes[0].scanner.linear_ratio').setValue('1')
    await field(r, 'lanes[0].scanner.kind').setValue('esx')
    expect(value(r, 'lanes[0].scanner.share_scan_time_s')).toBe('3600')
    expect(has(r, 'lanes[0].scanner.hint_ratio')).toBe(false)
    await field(r, 'lanes[1].scanner.kind').setValue('hybrid')
    expect(value(r, 'lanes[1].scanner.ksm_share')).toBe('0.2')
    await field(r, 'lanes[1].scanner.ksm_share').setValue('1.5')
    expect(issue(r, 'lanes[1].scanner.ksm_share')).toBe('ksm_share must be at most 1')
    await field(r, 'lanes[1].scanner.ksm_share').setValue('0.5')
    await field(r, 'lanes[1].scanner.kind').setValue('ksm')
    expect(value(r, 'lanes[1].scanner.advisor_mode')).toBe('none')
    expect(has(r, 'lanes[1].scanner.advisor_target_scan_time')).toBe(false)
    await field(r, 'lanes[1].scanner.advisor_mode').setValue('scan-time')
    expect(value(r, 'lanes[1].scanner.advisor_target_scan_time')).toBe('200')
    await field(r, 'lanes[1].scanner.use_zero_pages').setValue(true)
    expect(r.lab.experiment.draft.value.lanes[1].scanner).toMatchObject({ kind: 'ksm', advisor_mode: 'scan-time', use_zero_pages: true })
    await field(r, 'lanes[1].isolate_tenants').setValue(true)
    expect(r.lab.experiment.draft.value.lanes[1].isolate_tenants).toBe(true)
    expect(r.lab.experiment.issues.value).toEqual([])
  })
})
