// @vitest-environment happy-dom
// The results table: live from the samples while a run goes on, final from the summary, with
// the ratios to the first lane; saved results (their file format) and an overlay's rows.
import { afterEach, describe, expect, it } from 'vitest'
import { validateExperiment, type Experiment } from '../src/core/experiment/config.ts'
import { SUMMARY_SCHEMA_ID, type LaneSummary, type Summary } from '../src/core/experiment/engine.ts'
import { METRIC_COLUMNS, type MetricName } from '../src/core/experiment/metrics.ts'
import { findPreset } from '../src/core/experiment/presets.ts'
import ResultsTable from '../src/renderer/src/components/results/ResultsTable.vue'
import { LiveLane } from '../src/renderer/src/stores/liveLane.ts'
import { parseResultText, resultText } from '../src/renderer/src/stores/resultFile.ts'
import { meanCpuFromSamples } from '../src/renderer/src/stores/results.ts'
import { mountLab, nextFrame } from './renderer-support/mountLab.ts'
import { zeroLaneSummary } from './fixtures.ts'

type Rig = ReturnType<typeof mountLab>
let rig: Rig | null = null
afterEach(() => {
  rig?.wrapper.unmount()
  rig = null
})

const config = (() => {
  const r = validateExperiment({ ...findPreset('paper-fig6b')!.config, duration_s: 30 })
  if (!r.ok) throw new Error('preset invalid')
  return r.config
})()

/** Rows [from, from + n) of a lane whose columns are given by functions of the row index. */
function batch(from: number, n: number, cols: Partial<Record<MetricName, (i: number) => number>>): Float64Array[] {
  return METRIC_COLUMNS.map((c) => Float64Array.from({ length: n }, (_, k) => (c === 't_s' ? (from + k) * 10 : (cols[c]?.(from + k) ?? 0))))
}

const KSM_COLS = { sharing_ratio: (i: number) => 0.1 * i, saved_mib: (i: number) => 10 * i, cpu_percent: () => 2, pages_shared: (i: number) => 100 + i, pages_sharing: (i: number) => 1000 * i, hints_pushed: () => 0, cow_breaks: (i: number) => i }
const HINT_COLS = { sharing_ratio: (i: number) => 0.2 * i, saved_mib: (i: number) => 20 * i, cpu_percent: () => 1, hints_pushed: (i: number) => 50 * i, hints_dropped: (i: number) => i }

function cell(r: Rig, lane: string, col: string): string {
  return r.wrapper.get(`tr[data-lane="${lane}"] td[data-col="${col}"]`).text()
}

function laneSummary(name: string, scanner: string, over: Partial<LaneSummary>): LaneSummary {
  return zeroLaneSummary(name, scanner, { workload_done_s: [null, null], ...over })
}

function summaryOf(cfg: Experiment, lanes: LaneSummary[]): Summary {
  return { schema: SUMMARY_SCHEMA_ID, config_name: cfg.name, seed: cfg.seed, sim_seconds: 30, wall_seconds: 1.5, total_guest_pages: 262144, lanes }
}

async function liveRun(r: Rig): Promise<void> {
  r.client.emit({ type: 'loaded', config, lanes: [{ name: 'KSM', scanner: 'ksm' }, { name: 'Hint', scanner: 'hint' }] })
  r.client.emit({ type: 'state', state: 'running' })
  r.client.emit({ type: 'samples', batches: [{ lane: 0, from: 0, columns: batch(0, 2, KSM_COLS) }, { lane: 1, from: 0, columns: batch(0, 2, HINT_COLS) }] })
  r.client.emit({ type: 'samples', batches: [{ lane: 0, from: 2, columns: batch(2, 2, KSM_COLS) }, { lane: 1, from: 2, columns: batch(2, 2, HINT_COLS) }] })
  await nextFrame()
}

describe('results table', () => {
  it('is empty, with a hint, until the first sample arrives', async () => {
    rig = mountLab([ResultsTable])
    expect(rig.wrapper.text()).toContain('Run the experiment, or open a saved result')
    rig.client.emit({ type: 'loaded', config, lanes: [{ name: 'KSM', scanner: 'ksm' }, { name: 'Hint', scanner: 'hint' }] })
    await nextFrame()
    expect(rig.wrapper.findAll('tr[data-lane]')).toHaveLength(0)
    expect(rig.wrapper.text()).toContain('Run the experiment, or open a saved result')
  })

  it('fills live from the samples: mean / max / final sharing, saved MiB, counters and ratios to the first lane', async () => {
    rig = mountLab([ResultsTable])
    await liveRun(rig)
    expect(rig.wrapper.get('caption').text()).toMatch(/^Results: live/)
    // KSM sharing 0, 0.1, 0.2, 0.3; Hint twice that.
    expect([cell(rig, 'KSM', 'sharing_mean'), cell(rig, 'KSM', 'sharing_max'), cell(rig, 'KSM', 'sharing_final')]).toEqual(['0.150', '0.300', '0.300'])
    expect(cell(rig, 'Hint', 'sharing_final')).toBe('0.600')
    expect(cell(rig, 'KSM', 'saved_final')).toBe('30.0')
    expect(cell(rig, 'KSM', 'pages_shared')).toBe('103')
    expect(cell(rig, 'KSM', 'cow_breaks')).toBe('3')
    expect(cell(rig, 'Hint', 'hints_pushed')).toBe('150')
    expect(cell(rig, 'Hint', 'hints_dropped')).toBe('3')
    expect(cell(rig, 'KSM', 'cpu_mean')).toBe('2')
    expect(cell(rig, 'Hint', 'cpu_vs_first')).toBe('0.50x')
    expect(cell(rig, 'Hint', 'sharing_vs_first')).toBe('2.00x')
    expect(cell(rig, 'KSM', 'cpu_vs_first')).toBe('1.00x')
    // KSM: pages_sharing 0 -> 3000 over 30 s at 2 % of a core = 0.6 s of CPU: 200 µs per page.
    expect(cell(rig, 'KSM', 'sharing_gained')).toBe('3,000')
    expect(cell(rig, 'KSM', 'cpu_per_shared_page')).toBe('200 µs')
    // Hint saved nothing: no CPU per shared page.
    expect(cell(rig, 'Hint', 'sharing_gained')).toBe('0')
    expect(cell(rig, 'Hint', 'cpu_per_shared_page')).toBe('—')
  })

  it('takes the final numbers from the summary once it arrives', async () => {
    rig = mountLab([ResultsTable])
    await liveRun(rig)
    rig.client.emit({
      type: 'summary',
      summary: summaryOf(config, [
        laneSummary('KSM', 'ksm', { sharing_ratio: { mean: 0.15, max: 0.3, final: 0.3 }, cpu_percent: { mean: 3.49, max: 4 }, pages_volatile: 1234567, pages_sharing_gained: 4321, cpu_ns_per_shared_page: 29470.2, cross_tenant_merges: 1234 }),
        laneSummary('Hint', 'hint', { sharing_ratio: { mean: 0.3, max: 0.6, final: 0.6 }, cpu_percent: { mean: 1.72, max: 9 } })
      ])
    })
    rig.client.emit({ type: 'state', state: 'done' })
    await nextFrame()
    expect(rig.wrapper.get('caption').text()).toBe('Results: final, t = 30 s')
    expect(cell(rig, 'KSM', 'cpu_mean')).toBe('3.49')
    expect(cell(rig, 'KSM', 'pages_volatile')).toBe('1,234,567')
    expect(cell(rig, 'KSM', 'sharing_gained')).toBe('4,321')
    expect(cell(rig, 'KSM', 'cpu_per_shared_page')).toBe('29.5 µs')
    expect(cell(rig, 'Hint', 'cpu_per_shared_page')).toBe('—')
    expect(cell(rig, 'KSM', 'cross_tenant_merges')).toBe('1,234')
    expect(cell(rig, 'Hint', 'cpu_vs_first')).toBe('0.49x')
  })

  it("adds an overlaid saved result's lanes, marked saved, compared with the run's first lane", async () => {
    rig = mountLab([ResultsTable])
    await liveRun(rig)
    const lane = new LiveLane('KSM', 'ksm')
    lane.append(0, batch(0, 4, { ...KSM_COLS, cpu_percent: () => 4 }))
    rig.lab.run.setOverlay({ label: 'old.result.json', config, summary: summaryOf(config, [laneSummary('KSM', 'ksm', { cpu_percent: { mean: 4, max: 4 } })]), lanes: [lane] })
    await nextFrame()
    const saved = rig.wrapper.get('tr.saved')
    expect(saved.text()).toContain('KSM saved')
    expect(saved.get('td[data-col="cpu_vs_first"]').text()).toBe('2.00x')
  })
})

describe('saved results', () => {
  it('a result file round-trips: config, summary and every series', () => {
    const a = new LiveLane('KSM', 'ksm')
    a.append(0, batch(0, 3, KSM_COLS))
    const b = new LiveLane('Hint', 'hint')
    b.append(0, batch(0, 3, { ...HINT_COLS, hint_stack_depth: () => NaN }))
    const summary = summaryOf(config, [laneSummary('KSM', 'ksm', {}), laneSummary('Hint', 'hint', {})])
    const text = resultText(config, summary, [a, b])
    expect(JSON.parse(text)).toMatchObject({ schema: 'samepage-lab/result@1', config: { name: 'paper-fig6b' } })
    const r = parseResultText(text, 'r.json')
    if (!r.ok) throw new Error(JSON.stringify(r.issues))
    expect(r.result.config).toEqual(config)
    expect(r.result.summary).toEqual(summary)
    expect(Array.from(r.result.lanes[1].column('hints_pushed'))).toEqual([0, 50, 100])
    expect(Number.isNaN(r.result.lanes[1].column('hint_stack_depth')[0])).toBe(true)
  })

  it('a bad result file is refused with the field path of each problem', () => {
    const lane = new LiveLane('KSM', 'ksm')
    lane.append(0, batch(0, 2, KSM_COLS))
    const summary = summaryOf(config, [laneSummary('KSM', 'ksm', {}), laneSummary('Hint', 'hint', {})])
    const doc = JSON.parse(resultText(config, summary, [lane]))
    const missing = parseResultText(JSON.stringify(doc), 'r.json')
    expect(!missing.ok && missing.issues.map((i) => i.path)).toEqual(['series.Hint'])
    doc.config.vms[0].memory_mib = 1
    const bad = parseResultText(JSON.stringify(doc), 'r.json')
    expect(!bad.ok && bad.issues[0].path).toBe('config.vms[0].memory_mib')
    expect(parseResultText('{', 'r.json').ok).toBe(false)
  })

  it('mean CPU from samples weights each interval by its length', () => {
    expect(meanCpuFromSamples([0, 10, 30], [99, 3, 6])).toBeCloseTo(5)
    expect(meanCpuFromSamples([0], [5])).toBe(0)
  })
})
