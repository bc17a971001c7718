import { describe, expect, it } from 'vitest'
import { parseExperiment } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import { EsxRig, KsmRig } from './harness.ts'

describe('sysfs counters (mm/ksm.c remove_rmap_item_from_tree)', () => {
  it('pages_sharing drops at ksmd next visit of the written page, not at the copy-on-write fault', () => {
    const r = new KsmRig(3)
    for (const gp of [0, 1, 2]) r.write(gp, 7)
    r.pass()
    r.pass()
    r.pass()
    expect([r.stable.pages_shared, r.stable.pages_sharing]).toEqual([1, 2])
    r.write(2, 8) // CoW fault: the page leaves the KSM page
    expect(r.stable.savedPages).toBe(1) // ground truth: one page less is saved at once
    expect([r.stable.pages_shared, r.stable.pages_sharing]).toEqual([1, 2]) // sysfs: not yet
    expect(r.volatile()).toBe(0)
    r.check()
    r.ksm.scanPages(r.mem.totalPages + 1) // the next pass reaches page 2's record
    expect([r.stable.pages_shared, r.stable.pages_sharing]).toEqual([1, 1])
    r.check()
  })

  it('a KSM page whose every mapping was written stays in pages_shared until one of its records is visited', () => {
    const r = new KsmRig(2)
    r.write(0, 7)
    r.write(1, 7)
    r.pass()
    r.pass()
    expect([r.stable.pages_shared, r.stable.pages_sharing]).toEqual([1, 1])
    r.write(0, 1)
    r.write(1, 2) // the KSM page is freed
    expect(r.stable.ksmPages).toBe(0)
    expect([r.stable.pages_shared, r.stable.pages_sharing]).toEqual([1, 1])
    r.check()
    r.ksm.scanPages(1) // page 0's record: get_ksm_page finds the node stale, both records drop
    expect([r.stable.pages_shared, r.stable.pages_sharing]).toEqual([0, 0])
    r.ksm.scanPages(1)
    expect([r.stable.pages_shared, r.stable.pages_sharing]).toEqual([0, 0])
    r.check()
  })

  it('ESX updates its shared frame counts at the fault (not a Linux scanner)', () => {
    const r = new EsxRig(4, { vms: 1, shareScanTime: 0.01, pagesToScan: 1000 })
    r.write(0, 5)
    r.write(1, 5)
    for (let k = 0; k < 20 && r.stable.pages_sharing === 0; k++) r.scanner.wake(k * 0.02)
    expect(r.stable.pages_sharing).toBe(1)
    r.write(1, 6)
    expect([r.stable.pages_shared, r.stable.pages_sharing]).toEqual([1, 0]) // one mapping left
    r.check()
  })

  it('general_profit is (pages_sharing + ksm_zero_pages) x 4 KiB - records x 64 B in every sample', () => {
    const engine = new Engine(
      parseExperiment({
        schema: 'samepage-lab/experiment@1',
        name: 'profit',
        duration_s: 3,
        sample_every_s: 1,
        vms: [
          { name: 'a', memory_mib: 192, workload: { kind: 'idle' } },
          { name: 'b', memory_mib: 192, workload: { kind: 'idle' } }
        ],
        lanes: [{ name: 'KSM', scanner: { kind: 'ksm', pages_to_scan: 2000, use_zero_pages: true } }]
      })
    )
    engine.run()
    const lane = engine.lanes[0]
    const col = (n: 'general_profit' | 'pages_sharing' | 'ksm_zero_pages') => lane.series.column(n)
    const gp = col('general_profit')
    const n = gp.length - 1
    expect(col('pages_sharing')[n]).toBeGreaterThan(0)
    expect(col('ksm_zero_pages')[n]).toBeGreaterThan(0)
    // The last sample is now: the records are the scanner's.
    expect(gp[n]).toBe((col('pages_sharing')[n] + col('ksm_zero_pages')[n]) * 4096 - lane.scanner.records * 64)
    for (let i = 0; i <= n; i++) expect(gp[i]).toBeLessThan((col('pages_sharing')[i] + col('ksm_zero_pages')[i]) * 4096)
    expect(engine.summary(0).lanes[0].general_profit.final).toBe(gp[n])
  })
})
