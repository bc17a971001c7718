// Per-VM results over a run (issue 15, item 10): what the app's session records at samples so
// that a paused run shows the VM x VM matrix at the crosshair's time, within bounded memory.
import { describe, expect, it } from 'vitest'
import { parseExperiment, type ExperimentInput } from '../src/core/experiment/config.ts'
import { Engine } from '../src/core/experiment/engine.ts'
import type { SessionEvent } from '../src/core/experiment/protocol.ts'
import {
  HISTORY_MAX_BYTES,
  HISTORY_MAX_RECORDS,
  historyCapacity,
  historyMaxVms,
  historyRecordAt,
  historyRecordSize,
  historyShares,
  VmShareHistory,
  type VmShareHistoryData
} from '../src/core/experiment/vmshares.ts'
import { Session } from '../src/host/session.ts'
import { FakeClock } from './fake-clock.ts'

/** Two VMs reading the same files, the second starting late: sharing changes every sample. */
function twoReaders(duration = 12, sampleEvery = 2): ExperimentInput {
  const workload = { kind: 'file-cases' as const, files: 30, pages_per_file: 8, read_pages_per_s: 20000, same_path_same_content: 1, different_path_different_content: 0, same_path_different_content: 0, different_path_same_content: 0 }
  return {
    schema: 'samepage-lab/experiment@1',
    name: 'history',
    seed: 11,
    duration_s: duration,
    sample_every_s: sampleEvery,
    warmup: { boot: false, share: false },
    vms: [
      { name: 'early', memory_mib: 32, image: 'debian-7', workload },
      { name: 'late', memory_mib: 32, image: 'debian-7', start_s: 4, workload }
    ],
    lanes: [
      { name: 'KSM', scanner: { kind: 'ksm', pages_to_scan: 500, sleep_millisecs: 20 } },
      { name: 'Hint', scanner: { kind: 'hint' } }
    ]
  }
}

const asData = (w: ReturnType<VmShareHistory['wire']>): VmShareHistoryData => {
  if (!('data' in w)) throw new Error(`no history: ${w.off}`)
  return w
}

describe('per-VM results recorded at samples', () => {
  it('each record equals vmShares() of an engine without recording stepped to that sample, and recording changes no result', () => {
    const cfg = parseExperiment(twoReaders())
    const recorded = new Engine(cfg, { vmHistory: true })
    recorded.run()
    const plain = new Engine(cfg)
    plain.warmup()
    const names = cfg.vms.map((v) => v.name)
    const vmBase = [0, 32 * 256, 64 * 256]
    recorded.lanes.forEach((lane, li) => {
      const h = asData((lane.vmHistory as VmShareHistory).wire())
      expect(h.records).toBe(7) // t = 0, 2, ..., 12: every sample
      expect(h.every).toBe(1)
      for (let r = 0; r < h.records; r++) {
        const t = r * 2
        if (t > 0) plain.lanes[li].advanceTo(t)
        expect(historyShares(h, r, names, vmBase)).toEqual(plain.lanes[li].vmShares())
      }
    })
    // Sharing across the VMs grows once the late VM reads: the records differ over time.
    const ksm = asData((recorded.lanes[0].vmHistory as VmShareHistory).wire())
    expect(historyShares(ksm, 1, names, vmBase).matrix[0][1]).toBe(0)
    expect(historyShares(ksm, 6, names, vmBase).matrix[0][1]).toBeGreaterThan(0)
    const again = new Engine(cfg)
    again.run()
    expect(JSON.stringify(recorded.summary(0))).toBe(JSON.stringify(again.summary(0)))
    recorded.lanes.forEach((l, i) => expect(l.series.slice(0)).toEqual(again.lanes[i].series.slice(0)))
  }, 120_000)

  it('a run of more samples than its capacity records every k-th sample, evenly over the whole run, never more than the capacity', () => {
    // 601 samples of one small idle VM: every 10th (601 / 64 rounded up), t = 0, 10, ..., 600.
    const cfg = parseExperiment({
      schema: 'samepage-lab/experiment@1',
      name: 'long',
      duration_s: 600,
      sample_every_s: 1,
      warmup: { boot: false, share: false },
      vms: [{ name: 'a', memory_mib: 16, workload: { kind: 'idle' } }],
      lanes: [{ name: 'KSM', scanner: { kind: 'ksm' } }]
    })
    const e = new Engine(cfg, { vmHistory: true })
    e.run()
    const h = asData((e.lanes[0].vmHistory as VmShareHistory).wire())
    expect(h.every).toBe(Math.ceil(601 / HISTORY_MAX_RECORDS))
    expect(h.every).toBeGreaterThan(1)
    expect(h.records).toBeLessThanOrEqual(HISTORY_MAX_RECORDS)
    const rs = historyRecordSize(1)
    const times = Array.from({ length: h.records }, (_, r) => h.data[r * rs])
    expect(times).toEqual(Array.from({ length: Math.floor(600 / h.every) + 1 }, (_, r) => r * h.every))
    expect(times[times.length - 1]).toBeGreaterThan(600 - h.every - 1e-9)
  }, 120_000)

  it('is off, saying up to how many VMs it is kept, where the matrices would not fit its bytes', () => {
    const n = historyMaxVms()
    expect(historyCapacity(n)).toBeGreaterThan(0)
    expect(historyCapacity(n + 1)).toBe(0)
    expect(historyCapacity(n) * historyRecordSize(n) * 8).toBeLessThanOrEqual(HISTORY_MAX_BYTES)
    expect(n).toBeGreaterThanOrEqual(64)
    const off = new VmShareHistory(n + 1, 100).wire()
    expect('off' in off && off.off).toBe(`per-VM results over time are kept for up to ${n} VMs (the VM x VM matrices of more would take over 8 MiB a lane)`)
  })

  it('historyRecordAt finds the record nearest a time (the earlier on a tie), -1 when empty', () => {
    const rs = historyRecordSize(1)
    const data = new Float64Array(3 * rs)
    ;[0, 10, 20].forEach((t, r) => (data[r * rs] = t))
    const h: VmShareHistoryData = { vms: 1, records: 3, every: 1, data }
    expect([-5, 0, 4, 5, 6, 14, 19, 99].map((t) => historyRecordAt(h, t))).toEqual([0, 0, 0, 0, 1, 1, 2, 2])
    expect(historyRecordAt({ ...h, records: 0 }, 3)).toBe(-1)
  })

  it('the session sends, at a pause, each lane’s records up to the paused time with the figures at it', () => {
    const clock = new FakeClock()
    const events: SessionEvent[] = []
    const session = new Session((e) => events.push(e), clock)
    session.handle({ type: 'load', config: twoReaders() })
    session.handle({ type: 'step', seconds: 7 })
    for (let i = 0; i < 10_000 && session.currentState !== 'paused'; i++) clock.advance(40)
    const ev = events.find((e) => e.type === 'vmShares') as Extract<SessionEvent, { type: 'vmShares' }>
    expect(ev.simSeconds).toBe(7)
    expect(ev.histories?.length).toBe(2)
    for (const w of ev.histories ?? []) {
      const h = asData(w)
      expect(Array.from({ length: h.records }, (_, r) => h.data[r * historyRecordSize(2)])).toEqual([0, 2, 4, 6])
    }
  }, 120_000)
})
