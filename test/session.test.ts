import { describe, expect, it } from 'vitest'
import { Engine } from '../src/core/experiment/engine.ts'
import { METRIC_COLUMNS } from '../src/core/experiment/metrics.ts'
import type { SessionEvent } from '../src/core/experiment/protocol.ts'
import { parseCommand } from '../src/core/experiment/protocol.ts'
import { FRAME_MS, Session } from '../src/host/session.ts'
import { FakeClock } from './fake-clock.ts'
import { idlePairExperiment } from './fixtures.ts'

const config = idlePairExperiment({ name: 's', duration_s: 40, sample_every_s: 1, memory_mib: 256 })

function rig() {
  const clock = new FakeClock()
  const events: SessionEvent[] = []
  const s = new Session((e) => events.push(e), clock)
  const samples = (lane = 0) =>
    events.flatMap((e) => (e.type === 'samples' ? e.batches.filter((b) => b.lane === lane) : [])).reduce((n, b) => n + b.columns[0].length, 0)
  const lastT = () => {
    const bs = events.flatMap((e) => (e.type === 'samples' ? e.batches.filter((b) => b.lane === 0) : []))
    const c = bs[bs.length - 1].columns[0]
    return c[c.length - 1]
  }
  return { clock, events, s, samples, lastT, states: () => events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state) }
}

describe('simulation session (the protocol behind every host)', () => {
  it('start streams sample batches; pause stops them; resume continues', () => {
    const r = rig()
    r.s.handle({ type: 'load', config })
    r.s.handle({ type: 'setSpeed', speed: 100 })
    r.s.handle({ type: 'start' })
    r.clock.advance(100) // 0.1 s of wall time at 100x: about 10 simulated seconds
    const n1 = r.samples()
    expect(n1).toBeGreaterThan(5)
    const batch = r.events.find((e) => e.type === 'samples')
    expect(batch && batch.type === 'samples' && batch.batches[0].columns).toHaveLength(METRIC_COLUMNS.length)
    r.s.handle({ type: 'pause' })
    const n2 = r.samples()
    r.clock.advance(1000)
    expect(r.samples()).toBe(n2)
    r.s.handle({ type: 'resume' })
    r.clock.advance(100)
    expect(r.samples()).toBeGreaterThan(n2)
    expect(r.states()).toEqual(['ready', 'preparing', 'running', 'paused', 'running'])
  })

  it('step advances exactly N simulated seconds, then pauses', () => {
    const r = rig()
    r.s.handle({ type: 'load', config })
    r.s.handle({ type: 'step', seconds: 10 })
    r.clock.advance(FRAME_MS * 3)
    expect(r.s.currentState).toBe('paused')
    expect(r.lastT()).toBe(10)
    r.s.handle({ type: 'step', seconds: 1 })
    r.clock.advance(FRAME_MS * 3)
    expect(r.lastT()).toBe(11)
  })

  it('stop delivers the summary of the simulated time reached', () => {
    const r = rig()
    r.s.handle({ type: 'load', config })
    r.s.handle({ type: 'step', seconds: 5 })
    r.clock.advance(FRAME_MS * 2)
    r.s.handle({ type: 'stop' })
    const summary = r.events.find((e) => e.type === 'summary')
    expect(summary && summary.type === 'summary' && summary.summary.sim_seconds).toBe(5)
    expect(r.s.currentState).toBe('done')
  })

  it('while the VMs boot, the boot fraction rises in every warm-up slice, the booted count only when a VM is up', () => {
    // Wall time passes as the session looks at it, so each warm-up slice ends at its budget.
    const clock = new FakeClock()
    const events: SessionEvent[] = []
    const own = { now: () => (clock.t += 2), setTimer: clock.setTimer.bind(clock), clearTimer: clock.clearTimer.bind(clock) }
    const s = new Session((e) => events.push(e), own)
    s.handle({ type: 'load', config: idlePairExperiment({ name: 'boot', duration_s: 10, sample_every_s: 1, memory_mib: 512 }) })
    s.handle({ type: 'start' })
    for (let i = 0; i < 100_000 && s.currentState === 'preparing'; i++) clock.advance(1)
    const prep = events.filter((e): e is Extract<SessionEvent, { type: 'preparing' }> => e.type === 'preparing')
    const fractions = prep.map((e) => e.fraction as number)
    expect(new Set(fractions.filter((f) => f > 0 && f < 1)).size).toBeGreaterThan(3)
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1])).toBe(true)
    expect(fractions.at(-1)).toBe(1)
    // The count moves only when a VM is up (twice here); the fraction in every slice.
    expect(new Set(prep.map((e) => e.booted)).size).toBe(3)
    expect(new Set(fractions).size).toBeGreaterThan(10)
  })

  it('runs to the end at max speed and reports progress', () => {
    const r = rig()
    r.s.handle({ type: 'load', config })
    r.s.handle({ type: 'start' })
    for (let i = 0; i < 100 && r.s.currentState !== 'done'; i++) r.clock.advance(FRAME_MS)
    expect(r.s.currentState).toBe('done')
    expect(r.samples(1)).toBe(41) // t = 0, 1, ..., 40
    const p = r.events.filter((e) => e.type === 'progress')
    expect(p.length).toBeGreaterThan(0)
  })

  it('start warms up in the state preparing, with progress of the VMs booted, then runs', () => {
    const r = rig()
    r.s.handle({ type: 'load', config })
    r.s.handle({ type: 'setSpeed', speed: 10 })
    r.s.handle({ type: 'start' })
    expect(r.s.currentState).toBe('preparing')
    expect(r.events.at(-1)).toEqual({ type: 'preparing', phase: 'boot', booted: 0, vms: 2, fraction: 0 })
    r.clock.advance(0)
    const prep = r.events.filter((e) => e.type === 'preparing')
    expect(prep.at(-1)).toEqual({ type: 'preparing', phase: 'boot', booted: 2, vms: 2, fraction: 1 })
    expect(r.states()).toEqual(['ready', 'preparing', 'running'])
    // The first samples (t = 0) come after the warm-up, never before.
    expect(r.events.findIndex((e) => e.type === 'samples')).toBeGreaterThan(r.events.indexOf(prep.at(-1) as SessionEvent))
  })

  it('stop during the warm-up drops it and the session is ready to run again', () => {
    const r = rig()
    r.s.handle({ type: 'load', config })
    r.s.handle({ type: 'start' })
    r.s.handle({ type: 'stop' })
    expect(r.s.currentState).toBe('ready')
    r.clock.advance(FRAME_MS * 5)
    expect(r.events.some((e) => e.type === 'samples' || e.type === 'summary')).toBe(false)
    r.s.handle({ type: 'step', seconds: 3 })
    for (let i = 0; i < 10 && r.s.currentState !== 'paused'; i++) r.clock.advance(FRAME_MS)
    expect(r.lastT()).toBe(3)
  })

  it('at max the next slice is queued at once (0 ms), never a frame timer', () => {
    // Wall time passes as the session looks at it (10 ms a look), so budgets run out.
    const clock = new FakeClock()
    const now = clock.now.bind(clock)
    clock.now = () => (clock.t += 10) && now()
    const delays: number[] = []
    const orig = clock.setTimer.bind(clock)
    clock.setTimer = (fn, ms) => {
      delays.push(ms)
      return orig(fn, ms)
    }
    const s = new Session(() => {}, clock)
    s.handle({ type: 'load', config })
    s.handle({ type: 'start' })
    for (let i = 0; i < 1000 && s.currentState !== 'done'; i++) clock.advance(100)
    expect(s.currentState).toBe('done')
    expect(delays.length).toBeGreaterThan(2)
    expect(delays.every((d) => d === 0)).toBe(true)
  })

  it('step with until stops at that simulated time', () => {
    const r = rig()
    r.s.handle({ type: 'load', config })
    r.s.handle({ type: 'step', seconds: 1, until: 7 })
    for (let i = 0; i < 10 && r.s.currentState !== 'paused'; i++) r.clock.advance(FRAME_MS)
    expect(r.lastT()).toBe(7)
  })

  it('an invalid config is reported by field and the loaded one is kept', () => {
    const r = rig()
    r.s.handle({ type: 'load', config })
    r.s.handle({ type: 'load', config: { ...config, duration_s: 'long' } })
    const inv = r.events.find((e) => e.type === 'invalid')
    expect(inv && inv.type === 'invalid' && inv.issues[0].path).toBe('duration_s')
    r.s.handle({ type: 'step', seconds: 2 })
    r.clock.advance(FRAME_MS * 2)
    expect(r.lastT()).toBe(2)
  })

  it('an engine that throws becomes an error event, not a crash', () => {
    const r = rig()
    r.s.handle({ type: 'load', config })
    const orig = Engine.prototype.advance
    Engine.prototype.advance = () => {
      throw new Error('boom')
    }
    try {
      r.s.handle({ type: 'start' })
      r.clock.advance(FRAME_MS)
    } finally {
      Engine.prototype.advance = orig
    }
    expect(r.events).toContainEqual({ type: 'error', message: 'boom' })
    expect(r.s.currentState).toBe('error')
  })

  it('malformed commands from a transport are rejected', () => {
    expect(parseCommand({ type: 'step', seconds: -1 })).toBeNull()
    expect(parseCommand({ type: 'setSpeed', speed: 'fast' })).toBeNull()
    expect(parseCommand({ type: 'rm -rf' })).toBeNull()
    expect(parseCommand(null)).toBeNull()
    expect(parseCommand({ type: 'setSpeed', speed: 'max' })).toEqual({ type: 'setSpeed', speed: 'max' })
    expect(parseCommand({ type: 'load', config: {}, baseDir: '/data' })).toEqual({ type: 'load', config: {}, baseDir: '/data' })
    expect(parseCommand({ type: 'load', config: {}, baseDir: 7 })).toBeNull()
    expect(parseCommand({ type: 'load', config: {}, baseDir: '' })).toBeNull()
    expect(parseCommand({ type: 'step', seconds: 1, until: 5 })).toEqual({ type: 'step', seconds: 1, until: 5 })
    expect(parseCommand({ type: 'step', seconds: 1, until: '5' })).toBeNull()
  })
})
