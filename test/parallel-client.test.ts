import { describe, expect, it } from 'vitest'
import type { Summary } from '../src/core/experiment/engine.ts'
import { estimateMemory, type MemoryBudget } from '../src/core/experiment/estimate.ts'
import { ParallelLabClient } from '../src/core/experiment/parallel.ts'
import { CommandClient, type Command, type SessionEvent } from '../src/core/experiment/protocol.ts'
import { FRAME_MS, Session } from '../src/host/session.ts'
import { FakeClock } from './fake-clock.ts'
import { idlePairExperiment } from './fixtures.ts'

/** A lane session in this thread whose events arrive later (as from a worker), on the fake clock. */
class InProcessLane extends CommandClient {
  private readonly session: Session
  constructor(
    private readonly clock: FakeClock,
    msPerLook: number
  ) {
    super()
    // Wall time passes as the session looks at it, so budgets run out; lanes that see it pass
    // at different rates go at different speeds and drift apart, as real lanes do at 'max'.
    const own = { now: () => (clock.t += msPerLook), setTimer: clock.setTimer.bind(clock), clearTimer: clock.clearTimer.bind(clock) }
    this.session = new Session((e) => void clock.setTimer(() => this.emit(e), 0), own)
  }
  send(cmd: Command): void {
    this.clock.setTimer(() => this.session.handle(cmd), 0)
  }
  dispose(): void {}
}

const config = idlePairExperiment({ name: 'p', duration_s: 30, sample_every_s: 1, memory_mib: 256 })
/** Long enough that the faster lane is still running when the slower one has warmed up. */
const long = { ...config, duration_s: 200 }

function rig(budget?: () => MemoryBudget | null) {
  const clock = new FakeClock()
  const lanes: InProcessLane[] = []
  const client = new ParallelLabClient(
    () => {
      const l = new InProcessLane(clock, lanes.length === 0 ? 10 : 15)
      lanes.push(l)
      return l
    },
    { memoryBudget: budget }
  )
  const events: SessionEvent[] = []
  client.onEvent((e) => events.push(e))
  const until = (f: () => boolean) => {
    for (let i = 0; i < 20000 && !f(); i++) clock.advance(1)
  }
  const state = () => [...events].reverse().find((e) => e.type === 'state')
  const rows = (lane: number) => events.flatMap((e) => (e.type === 'samples' ? e.batches.filter((b) => b.lane === lane) : [])).flatMap((b) => [...b.columns[0]])
  return { clock, client, lanes, events, until, state: () => (state() as { state: string } | undefined)?.state, rows }
}

function singleSessionSummary(): Summary {
  const clock = new FakeClock()
  let summary: Summary | null = null
  const s = new Session((e) => {
    if (e.type === 'summary') summary = e.summary
  }, clock)
  s.handle({ type: 'load', config })
  s.handle({ type: 'start' })
  for (let i = 0; i < 100 && s.currentState !== 'done'; i++) clock.advance(FRAME_MS)
  return summary as unknown as Summary
}

describe('one session per lane, presented as one session', () => {
  it('runs every lane in a session of its own and gives the summary of one engine', () => {
    const r = rig()
    r.client.load(config)
    r.client.start()
    r.until(() => r.state() === 'done')
    expect(r.lanes).toHaveLength(2)
    const summary = (r.events.find((e) => e.type === 'summary') as { summary: Summary }).summary
    const one = singleSessionSummary()
    expect({ ...summary, wall_seconds: 0 }).toEqual({ ...one, wall_seconds: 0 })
    // Every lane's samples arrive under its own index, t = 0 .. 30.
    expect(r.rows(0)).toEqual(Array.from({ length: 31 }, (_, i) => i))
    expect(r.rows(1)).toEqual(Array.from({ length: 31 }, (_, i) => i))
    const states = r.events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)
    expect(states).toEqual(['ready', 'preparing', 'running', 'done'])
  })

  it('pause brings every lane to the same simulated time before it says paused', () => {
    const r = rig()
    r.client.load(long)
    r.client.start()
    r.until(() => r.state() === 'running' && r.rows(1).length > 3)
    expect(r.rows(0).length).toBeGreaterThan(r.rows(1).length) // the lanes did drift apart
    r.client.pause()
    r.until(() => r.state() === 'paused')
    const t0 = r.rows(0).at(-1)
    expect(r.rows(1).at(-1)).toBe(t0)
    const progress = r.events.filter((e) => e.type === 'progress').at(-1) as { simSeconds: number }
    expect(progress.simSeconds).toBe(t0)
    // A step from there moves both lanes to one t again.
    r.client.step(2)
    r.until(() => r.rows(0).at(-1) === (t0 as number) + 2 && r.state() === 'paused' && r.rows(1).at(-1) === (t0 as number) + 2)
    expect(r.state()).toBe('paused')
  })

  it('stop gives one summary at one simulated time for all lanes', () => {
    const r = rig()
    r.client.load(long)
    r.client.start()
    r.until(() => r.state() === 'running' && r.rows(1).length > 3)
    r.client.stop()
    r.until(() => r.state() === 'done')
    const summary = (r.events.find((e) => e.type === 'summary') as { summary: Summary }).summary
    expect(summary.lanes.map((l) => l.name)).toEqual(['KSM', 'Hint'])
    expect(summary.sim_seconds).toBeLessThan(long.duration_s)
    expect(summary.sim_seconds).toBe(r.rows(0).at(-1))
    expect(r.rows(0).at(-1)).toBe(r.rows(1).at(-1))
  })

  it('stop during the warm-up drops it in every lane: ready, no summary', () => {
    const r = rig()
    r.client.load(config)
    r.client.start()
    r.until(() => r.state() === 'preparing')
    r.client.stop()
    r.until(() => r.state() === 'ready')
    r.clock.advance(FRAME_MS * 20)
    expect(r.state()).toBe('ready')
    expect(r.events.some((e) => e.type === 'summary')).toBe(false)
  })

  it('an invalid experiment is refused here, naming the field, and no lane session is made', () => {
    const r = rig()
    r.client.load({ ...config, duration_s: -1 })
    expect(r.events[0].type === 'invalid' && r.events[0].issues[0].path).toBe('duration_s')
    expect(r.lanes).toHaveLength(0)
  })
})

describe('one session per lane: a lane that loads late', () => {
  it('holds the other lanes’ samples until every lane has loaded, so none is dropped', () => {
    const clock = new FakeClock()
    const lanes: InProcessLane[] = []
    const client = new ParallelLabClient(() => {
      const l = new InProcessLane(clock, 10)
      lanes.push(l)
      return l
    })
    const events: SessionEvent[] = []
    client.onEvent((e) => events.push(e))
    client.load(config)
    client.start()
    // Lane 1's worker is slow to start: its 'loaded' comes after lane 0 streamed samples.
    const late = lanes[1] as unknown as { emit(e: SessionEvent): void }
    const emit = late.emit.bind(late)
    const parked: SessionEvent[] = []
    late.emit = (e) => void parked.push(e)
    for (let i = 0; i < 300; i++) clock.advance(1)
    expect(events.some((e) => e.type === 'samples')).toBe(false)
    late.emit = emit
    for (const e of parked) emit(e)
    const firstSamples = events.findIndex((e) => e.type === 'samples')
    expect(events.findIndex((e) => e.type === 'loaded')).toBeGreaterThanOrEqual(0)
    expect(events.findIndex((e) => e.type === 'loaded')).toBeLessThan(firstSamples)
  })

  it('refuses a load whose memory does not fit the budget, naming the field, and then starts nothing, not even the config loaded before', () => {
    let budget: MemoryBudget = { machineBytes: 2 ** 40, heapBytes: 2 ** 40 }
    const r = rig(() => budget)
    r.client.load(config)
    r.until(() => r.state() === 'ready')
    // The next config needs more than the host now gives.
    const big = { ...config, vms: config.vms.map((v) => ({ ...v, memory_mib: 4096 })) }
    const need = estimateMemory(big as never).bytes
    budget = { machineBytes: need / 2, heapBytes: 2 ** 40 }
    r.events.length = 0
    r.client.load(big)
    r.client.start()
    r.clock.advance(1000)
    const invalid = r.events.find((e) => e.type === 'invalid') as Extract<SessionEvent, { type: 'invalid' }>
    expect(invalid.issues).toHaveLength(1)
    expect(invalid.issues[0].path).toBe('lanes')
    expect(invalid.issues[0].message).toMatch(/^the run needs about [\d.]+ GiB of memory .*: run fewer lanes or give the VMs less memory$/)
    expect(r.events.filter((e) => e.type === 'state' || e.type === 'samples' || e.type === 'loaded')).toEqual([])
    r.client.step(1)
    r.client.resume()
    r.clock.advance(1000)
    expect(r.events.filter((e) => e.type === 'state' || e.type === 'samples')).toEqual([])
    // A config that fits is accepted and runs.
    r.client.load(config)
    r.client.start()
    r.until(() => r.state() === 'done')
    expect(r.state()).toBe('done')
  })
})
