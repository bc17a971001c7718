// The explanations the app shows (src/core/analysis/explain.ts): every counter, knob and column has
// one with a source, and a lane that did nothing says why.
import { describe, expect, it } from 'vitest'
import { COUNTER_METRICS } from '../src/core/analysis/charts.ts'
import { EXPLAIN, explainTitle, laneNotes } from '../src/core/analysis/explain.ts'

const lane = (scanner: string, o: Partial<{ pages_sharing_gained: number; pages_sharing: number; full_scans: number; pushed: number }> = {}) => ({
  scanner,
  pages_sharing_gained: o.pages_sharing_gained ?? 100,
  pages_sharing: o.pages_sharing ?? 100,
  full_scans: o.full_scans ?? 3,
  hints: { pushed: o.pushed ?? 50 }
})

describe('explanations', () => {
  it('every KSM counter, lane knob and results column is explained with a source', () => {
    const names = [...COUNTER_METRICS, 'full_scans', 'pages_to_scan', 'sleep_millisecs', 'pages_per_s', 'max_page_sharing', 'hint_stack_size', 'hash_table_size', 'sharing_ratio', 'saved_mib', 'cpu_percent', 'pages_sharing_gained', 'cpu_ns_per_shared_page', 'hints_pushed', 'hints_dropped', 'cow_breaks', 'cross_tenant_merges']
    for (const n of names) {
      expect(EXPLAIN[n]?.text, n).toMatch(/\w{3,}/)
      expect(EXPLAIN[n]?.source, n).toMatch(/\w{3,}/)
    }
    expect(explainTitle('pages_sharing')).toContain('/sys/kernel/mm/ksm/pages_sharing')
    expect(explainTitle('pages_shared')).toContain('/sys/kernel/mm/ksm/pages_shared')
    expect(explainTitle('no_such_thing')).toBe('')
  })

  it('a hint lane that pushed 0 hints says no attribute matched; one that did says nothing', () => {
    expect(laneNotes(lane('hint', { pushed: 0, pages_sharing: 0, pages_sharing_gained: 0 }), 600)).toEqual([
      expect.stringMatching(/^Pushed 0 hints: .*same path and offset/),
      expect.stringMatching(/^Shared nothing/)
    ])
    expect(laneNotes(lane('hint'), 600)).toEqual([])
  })

  it('an XLH lane without disk reads, a KSM lane without a full pass and a none lane say why', () => {
    expect(laneNotes(lane('xlh', { pushed: 0 }), 600)[0]).toMatch(/virtual disks/)
    expect(laneNotes(lane('ksm', { full_scans: 0 }), 40)).toEqual([expect.stringMatching(/^No full pass in 40 s/)])
    expect(laneNotes(lane('none'), 600)).toEqual(['No scanner: the baseline without page sharing.'])
  })
})
