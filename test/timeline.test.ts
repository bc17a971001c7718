// Timeline events and per-VM results, computed in the core (issue 15, items 9 and 10).
import { beforeAll, describe, expect, it } from 'vitest'
import { parseExperiment, type ExperimentInput } from '../src/core/experiment/config.ts'
import { Engine, type Summary } from '../src/core/experiment/engine.ts'
import { EV_FULL_SCAN, EV_VM_STARTED, EventLog } from '../src/core/experiment/events.ts'
import { FLAG_SHARED, HostMemory } from '../src/core/machine/memory.ts'
import { vmShares } from '../src/core/experiment/vmshares.ts'
import { buildResult, parseResultText, resultToText } from '../src/core/experiment/result.ts'
import type { Lane } from '../src/core/experiment/lane.ts'
import { Session, type Clock } from '../src/host/session.ts'
import type { SessionEvent } from '../src/core/experiment/protocol.ts'

/**
 * Two VMs reading the same files (the paper's case 1), the second starting late, with a hint
 * stack of 2 so that it overflows: every event kind happens within 40 s. Small, because the
 * machine running the tests is shared.
 */
function twoBuilds(seed = 5, duration = 40): ExperimentInput {
  const workload = { kind: 'file-cases' as const, files: 60, pages_per_file: 8, read_pages_per_s: 20000, same_path_same_content: 1, different_path_different_content: 0, same_path_different_content: 0, different_path_same_content: 0 }
  return {
    schema: 'samepage-lab/experiment@1',
    name: 'timeline',
    seed,
    duration_s: duration,
    sample_every_s: 2,
    host: { cpu_profile: 'xeon-x5560' },
    warmup: { boot: true, share: false },
    vms: [
      { name: 'early', vcpus: 1, memory_mib: 128, image: 'debian-7', workload },
      { name: 'late', vcpus: 1, memory_mib: 128, image: 'debian-7', start_s: 2, workload }
    ],
    lanes: [
      { name: 'KSM', scanner: { kind: 'ksm', pages_to_scan: 500, sleep_millisecs: 20 } },
      { name: 'Hint', scanner: { kind: 'hint', hint_stack_size: 2 } }
    ]
  }
}

function run(input: ExperimentInput): Engine {
  const e = new Engine(parseExperiment(input))
  e.run()
  return e
}

/** Matrix and per-VM figures the slow way: a map from frame to the VMs of its pages. */
function naiveShares(lane: Lane): { matrix: number[][]; shared: number[]; saved: number[] } {
  const n = lane.vms.length
  const byFrame = new Map<number, number[]>()
  const shared = new Array<number>(n).fill(0)
  const saved = new Array<number>(n).fill(0)
  lane.vms.forEach((v, i) => {
    for (let g = 0; g < v.guest.nPages; g++) {
      const f = lane.mem.pageFrame[v.guest.base + g]
      if (f < 0) continue
      const isZero = f === lane.mem.zeroFrame
      if ((lane.mem.flags[f] & FLAG_SHARED) !== 0) shared[i]++
      if (isZero) saved[i] += 1
      else if ((lane.mem.flags[f] & FLAG_SHARED) !== 0) saved[i] += (lane.mem.mapcountOf(f) - 1) / lane.mem.mapcountOf(f)
      if (isZero || (lane.mem.flags[f] & FLAG_SHARED) !== 0) byFrame.set(f, [...(byFrame.get(f) ?? []), i])
    }
  })
  const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0))
  for (const vms of byFrame.values()) {
    if (vms.length < 2) continue
    for (let a = 0; a < n; a++) {
      const ca = vms.filter((v) => v === a).length
      if (ca === 0) continue
      for (let b = 0; b < n; b++) {
        if (b === a) matrix[a][a] += ca >= 2 ? ca : 0
        else if (vms.includes(b)) matrix[a][b] += ca
      }
    }
  }
  return { matrix, shared, saved }
}

let engine: Engine
let summary: Summary
beforeAll(() => {
  engine = run(twoBuilds())
  summary = engine.summary(0)
}, 600_000)

describe('timeline events', () => {
  const lanes = () => summary.lanes

  it('a VM that starts late has its vm_started event at its start_s, the other at t = 0', () => {
    const started = lanes()[0].events.filter((e) => e.kind === 'vm_started')
    expect(started.map((e) => [e.vm, e.t_s])).toEqual([
      [0, 0],
      [1, 2]
    ])
  })

  it('workload_done events carry the same times as workload_done_s', () => {
    for (const lane of lanes()) {
      const done = lane.events.filter((e) => e.kind === 'workload_done')
      expect(done.length).toBe(2)
      for (const e of done) expect(e.t_s).toBe(lane.workload_done_s[e.vm as number])
    }
  })

  it('one full_scan event per pass, numbered as the full_scans counter', () => {
    const passes = lanes()[0].events.filter((e) => e.kind === 'full_scan')
    expect(lanes()[0].full_scans).toBeGreaterThan(2)
    expect(passes.length).toBe(lanes()[0].full_scans)
    expect(passes.map((e) => e.count)).toEqual(passes.map((_, i) => i + 1))
    // A pass counted in a sample happened before that sample's time.
    const lane = engine.lanes[0]
    const t = lane.series.column('t_s')
    const fs = lane.series.column('full_scans')
    for (let i = 0; i < t.length; i++) expect(passes.filter((e) => e.t_s <= t[i]).length).toBe(fs[i])
  })

  it('the hint stack starting to drop is an event at or before the first sample that counts drops', () => {
    expect(lanes()[1].hints.dropped).toBeGreaterThan(0)
    const drops = lanes()[1].events.filter((e) => e.kind === 'hints_dropping')
    expect(drops.length).toBeGreaterThan(0)
    const lane = engine.lanes[1]
    const t = lane.series.column('t_s')
    const d = lane.series.column('hints_dropped')
    const first = d.findIndex((x) => x > 0)
    expect(drops[0].t_s).toBeLessThanOrEqual(t[first])
    expect(drops[0].t_s).toBeGreaterThan(first > 0 ? t[first - 1] : -1)
    // No drops in KSM, which has no stack.
    expect(lanes()[0].events.some((e) => e.kind === 'hints_dropping')).toBe(false)
  })

  it('events are in time order', () => {
    for (const lane of lanes()) for (let i = 1; i < lane.events.length; i++) expect(lane.events[i].t_s).toBeGreaterThanOrEqual(lane.events[i - 1].t_s)
  })

  it('full_scan events stop at the cap and the rest are counted as omitted; other kinds are kept', () => {
    const log = new EventLog(3)
    for (let i = 1; i <= 5; i++) log.push(i, EV_FULL_SCAN, -1, i)
    log.push(6, EV_VM_STARTED, 1, -1)
    expect(log.list().map((e) => [e.t_s, e.kind, e.vm, e.count])).toEqual([
      [1, 'full_scan', null, 1],
      [2, 'full_scan', null, 2],
      [3, 'full_scan', null, 3],
      [6, 'vm_started', 1, null]
    ])
    expect(log.omitted).toBe(2)
    expect(log.list(3)).toEqual([{ t_s: 6, kind: 'vm_started', vm: 1, count: null }])
  })
})

describe('per-VM results', () => {

  it('per-VM shared pages, memory saved and CoW breaks add up to the lane totals', () => {
    engine.lanes.forEach((lane, li) => {
      const s = summary.lanes[li]
      const shared = s.vms.reduce((a, v) => a + v.shared_pages, 0)
      expect(shared).toBe(lane.stable.sharedGuestPages)
      const saved = s.vms.reduce((a, v) => a + v.saved_mib, 0)
      expect(saved).toBeCloseTo(s.saved_mib.final, 4)
      expect(s.vms.reduce((a, v) => a + v.cow_breaks, 0)).toBe(s.cow_breaks)
      expect(s.vms.map((v) => v.vm)).toEqual(['early', 'late'])
    })
    expect(summary.lanes[0].vms[0].shared_pages).toBeGreaterThan(0)
  })

  it('the VM x VM matrix equals a frame-by-frame count of who maps each shared frame', () => {
    engine.lanes.forEach((lane, li) => {
      const naive = naiveShares(lane)
      expect(summary.lanes[li].vm_shared_pages).toEqual(naive.matrix)
      expect(summary.lanes[li].vms.map((v) => v.shared_pages)).toEqual(naive.shared)
    })
    // The two builds share across VMs.
    expect(summary.lanes[0].vm_shared_pages[0][1]).toBeGreaterThan(0)
  })

  it('three VMs, frames of several VM sets: the matrix counts pages per pair and within a VM', () => {
    // Pages 0-3 VM 0, 4-7 VM 1, 8-11 VM 2. Frame A: pages 0, 1 (VM 0 twice) and 4; frame B:
    // pages 2, 5, 8; frame C: pages 6, 9; frame D (the same VM set as B): pages 3, 7, 10.
    const mem = new HostMemory(12, false)
    for (let gp = 0; gp < 12; gp++) mem.write(gp, 7, gp + 1)
    const share = (node: number, gps: number[]): void => {
      const f = gps[0]
      mem.setKsmNode(f, node)
      for (const gp of gps.slice(1)) {
        mem.freeFrame(mem.pageFrame[gp])
        mem.pageFrame[gp] = f
        mem.incMap(f)
      }
    }
    share(0, [0, 1, 4])
    share(1, [2, 5, 8])
    share(2, [6, 9])
    share(3, [3, 7, 10])
    const r = vmShares({ mem, nodeIds: 4, vmBase: Int32Array.from([0, 4, 8, 12]), names: ['a', 'b', 'c'], cow: [0, 1, 2] }, 1.5)
    expect(r.matrix).toEqual([
      [2, 4, 2],
      [3, 0, 3],
      [2, 3, 0]
    ])
    expect(r.vms.map((v) => v.shared_pages)).toEqual([4, 4, 3])
    // A mapping of a frame with k pages saves (k - 1) / k: 2/3 on A, B, D; 1/2 on C.
    const saved = r.vms.map((v) => v.saved_mib * 256)
    ;[8 / 3, 2.5, 11 / 6].forEach((x, i) => expect(saved[i]).toBeCloseTo(x, 3))
    expect(r.vms.map((v) => v.cow_breaks)).toEqual([0, 1, 2])
    expect(r.t_s).toBe(1.5)
  })

  it('six VMs on one frame, twice: groups of the same VM set add their pairs once, as a frame-by-frame count does', () => {
    // 6 VMs of 3 pages. Frames A and B: page 0 and page 1 of every VM (the same set of 6 VMs,
    // more than the groups added pair by pair); frame C: page 2 of VMs 0, 1, 2, 3 and 4.
    const n = 6
    const mem = new HostMemory(3 * n, false)
    for (let gp = 0; gp < 3 * n; gp++) mem.write(gp, 9, gp + 1)
    const share = (node: number, gps: number[]): void => {
      const f = mem.pageFrame[gps[0]]
      mem.setKsmNode(f, node)
      for (const gp of gps.slice(1)) {
        mem.freeFrame(mem.pageFrame[gp])
        mem.pageFrame[gp] = f
        mem.incMap(f)
      }
    }
    const vmsPage = (p: number, k: number) => Array.from({ length: k }, (_, v) => 3 * v + p)
    share(0, vmsPage(0, n))
    share(1, vmsPage(1, n))
    share(2, vmsPage(2, 5))
    const r = vmShares({ mem, nodeIds: 3, vmBase: Int32Array.from({ length: n + 1 }, (_, v) => 3 * v), names: ['a', 'b', 'c', 'd', 'e', 'f'], cow: new Array(n).fill(0) }, 2)
    const want = Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => (a === b ? 0 : 2 + (a < 5 && b < 5 ? 1 : 0))))
    expect(r.matrix).toEqual(want)
    expect(r.vms.map((v) => v.shared_pages)).toEqual([3, 3, 3, 3, 3, 2])
  })

  it('a saved result keeps the events and per-VM results; an older result without them opens with them empty', () => {
    const cfg = parseExperiment(twoBuilds())
    const lanes = engine.lanes.map((l) => ({ name: l.cfg.name, scanner: l.cfg.scanner.kind, columns: l.series.slice(0) }))
    const doc = buildResult(cfg, summary, lanes)
    const back = parseResultText(resultToText(doc))
    if (!back.ok) throw new Error(JSON.stringify(back.issues))
    expect(back.result.summary.lanes[1].events).toEqual(summary.lanes[1].events)
    expect(back.result.summary.lanes[0].vm_shared_pages).toEqual(summary.lanes[0].vm_shared_pages)
    const old = JSON.parse(resultToText(doc)) as { summary: { lanes: Record<string, unknown>[] } }
    for (const l of old.summary.lanes) for (const k of ['events', 'events_omitted', 'vms', 'vm_shared_pages']) delete l[k]
    const oldBack = parseResultText(JSON.stringify(old))
    if (!oldBack.ok) throw new Error(JSON.stringify(oldBack.issues))
    expect(oldBack.result.summary.lanes[0].events).toEqual([])
    expect(oldBack.result.summary.lanes[0].vms).toEqual([])
  })
})

describe('the session streams events and sends per-VM results at a pause', () => {
  it('events arrive with the sample batches, and a step that ends paused sends vmShares at that time, the same as another engine on the same seed', () => {
    let now = 0
    const timers: (() => void)[] = []
    const clock: Clock = { now: () => now, setTimer: (fn) => timers.push(fn), clearTimer: () => undefined }
    const events: SessionEvent[] = []
    const session = new Session((e) => events.push(e), clock)
    session.handle({ type: 'load', config: twoBuilds() })
    session.handle({ type: 'step', seconds: 6 })
    while (timers.length > 0) {
      now += 40
      ;(timers.shift() as () => void)()
    }
    const streamed = events.flatMap((e) => (e.type === 'samples' ? e.batches.filter((b) => b.lane === 0).flatMap((b) => b.events ?? []) : []))
    const direct = new Engine(parseExperiment(twoBuilds()))
    direct.advance(6)
    expect(streamed).toEqual(direct.lanes[0].events.list())
    expect(streamed.some((e) => e.kind === 'vm_started' && e.t_s === 2)).toBe(true)
    const shares = events.filter((e) => e.type === 'vmShares')
    expect(shares.length).toBe(1)
    const s = shares[0] as Extract<SessionEvent, { type: 'vmShares' }>
    expect(s.simSeconds).toBe(6)
    expect(s.lanes[0]).toEqual(direct.lanes[0].vmShares())
    expect(JSON.stringify(s.lanes)).toBe(JSON.stringify(direct.lanes.map((l) => l.vmShares())))
  }, 600_000)
})
