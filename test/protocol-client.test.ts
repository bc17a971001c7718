// The pieces every transport shares: the worker side (serveSession: commands in, events out,
// sample buffers transferred) and the renderer's client (WorkerLabClient over a channel: a Web
// Worker's, or the Electron preload's session API).
import { describe, expect, it, vi } from 'vitest'
import type { Command, SessionEvent } from '../src/core/experiment/protocol.ts'
import { serveSession, transferablesOf } from '../src/host/serve.ts'
import { FRAME_MS, type Clock } from '../src/host/session.ts'
import { preloadChannel } from '../src/renderer/src/platform/electron.ts'
import { webWorkerChannel, WorkerLabClient, type SessionChannel, type WorkerLike } from '../src/renderer/src/platform/worker-client.ts'
import type { SessionApi } from '../src/preload/api.ts'

/** A clock whose timers run when the test says. */
function manualClock() {
  let now = 0
  let timers: { at: number; fn: () => void }[] = []
  const clock: Clock = {
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn }
      timers.push(t)
      return t
    },
    clearTimer: (h) => {
      timers = timers.filter((t) => t !== h)
    }
  }
  const advance = (ms: number) => {
    const end = now + ms
    for (;;) {
      timers.sort((a, b) => a.at - b.at)
      const next = timers[0]
      if (!next || next.at > end) break
      timers.shift()
      now = next.at
      next.fn()
    }
    now = end
  }
  return { clock, advance }
}

const config = {
  schema: 'samepage-lab/experiment@1',
  name: 'serve',
  duration_s: 10,
  sample_every_s: 1,
  vms: [{ name: 'a', memory_mib: 128, workload: { kind: 'idle' } }],
  lanes: [{ name: 'KSM', scanner: { kind: 'ksm' } }]
}

describe('serveSession (the worker side)', () => {
  it('runs commands and posts events with every sample column buffer (and a pause’s recorded per-VM history) in the transfer list', () => {
    const posted: { event: SessionEvent; transfer: ArrayBuffer[] }[] = []
    let deliver: (data: unknown) => void = () => undefined
    const { clock, advance } = manualClock()
    serveSession({ post: (event, transfer) => posted.push({ event, transfer }), listen: (h) => (deliver = h) }, clock)
    deliver({ type: 'load', config })
    deliver({ type: 'step', seconds: 3 })
    advance(FRAME_MS * 3)
    const samples = posted.filter((p) => p.event.type === 'samples')
    expect(samples.length).toBeGreaterThan(0)
    for (const p of samples) {
      const e = p.event as Extract<SessionEvent, { type: 'samples' }>
      expect(p.transfer).toEqual(e.batches.flatMap((b) => b.columns.map((c) => c.buffer)))
      expect(new Set(p.transfer).size).toBe(p.transfer.length) // no buffer listed twice
    }
    // A pause's per-VM results move their recorded history's buffers too (copies made for it).
    const shares = posted.filter((p) => p.event.type === 'vmShares')
    expect(shares.length).toBe(1)
    const e = shares[0].event as Extract<SessionEvent, { type: 'vmShares' }>
    expect(shares[0].transfer).toEqual((e.histories ?? []).flatMap((h) => ('data' in h ? [h.data.buffer] : [])))
    expect(shares[0].transfer.length).toBe(e.lanes.length)
    expect(posted.filter((p) => p.event.type !== 'samples' && p.event.type !== 'vmShares').every((p) => p.transfer.length === 0)).toBe(true)
  })

  it('answers a malformed message with an error event and keeps serving', () => {
    const posted: SessionEvent[] = []
    let deliver: (data: unknown) => void = () => undefined
    serveSession({ post: (event) => posted.push(event), listen: (h) => (deliver = h) }, manualClock().clock)
    deliver({ type: 'rm -rf' })
    deliver('start')
    deliver({ type: 'load', config })
    expect(posted.slice(0, 2)).toEqual([
      { type: 'error', message: 'refused a malformed command: type "rm -rf"' },
      { type: 'error', message: 'refused a malformed command: string' }
    ])
    expect(posted[2].type).toBe('loaded')
  })

  it('transferablesOf lists nothing for events without samples', () => {
    expect(transferablesOf({ type: 'state', state: 'done' })).toEqual([])
  })
})

function fakeChannel() {
  const posted: Command[] = []
  let deliver: (e: SessionEvent) => void = () => undefined
  const channel: SessionChannel = {
    post: (cmd) => posted.push(cmd),
    listen: (d) => {
      deliver = d
      return () => (deliver = () => undefined)
    },
    close: vi.fn()
  }
  return { channel, posted, emit: (e: SessionEvent) => deliver(e) }
}

describe('WorkerLabClient (the renderer side)', () => {
  it('sends one command per call, the config as plain JSON (not a proxy)', () => {
    const f = fakeChannel()
    const client = new WorkerLabClient(f.channel)
    const reactive = new Proxy({ ...config }, {})
    client.load(reactive)
    client.setSpeed(10)
    client.start()
    client.pause()
    client.resume()
    client.step(2)
    client.stop()
    expect(f.posted.map((c) => c.type)).toEqual(['load', 'setSpeed', 'start', 'pause', 'resume', 'step', 'stop'])
    const load = f.posted[0] as Extract<Command, { type: 'load' }>
    expect(load.config).toEqual(config)
    expect(load.config).not.toBe(reactive)
  })

  it('delivers events to subscribers until they unsubscribe; dispose closes the channel', () => {
    const f = fakeChannel()
    const client = new WorkerLabClient(f.channel)
    const a: SessionEvent[] = []
    const off = client.onEvent((e) => a.push(e))
    f.emit({ type: 'state', state: 'ready' })
    off()
    f.emit({ type: 'state', state: 'running' })
    expect(a).toEqual([{ type: 'state', state: 'ready' }])
    client.dispose()
    client.start()
    expect(f.posted).toEqual([])
    expect(f.channel.close).toHaveBeenCalledTimes(1)
  })

  it('over a Web Worker, an error escaping the worker becomes error and state events', () => {
    const target = new EventTarget()
    const worker = Object.assign(target, { postMessage: vi.fn(), terminate: vi.fn() }) as unknown as WorkerLike
    const client = new WorkerLabClient(webWorkerChannel(worker))
    const events: SessionEvent[] = []
    client.onEvent((e) => events.push(e))
    const err = Object.assign(new Event('error', { cancelable: true }), { message: 'Uncaught RangeError: oops' })
    target.dispatchEvent(err)
    const msg = Object.assign(new Event('message'), { data: { type: 'state', state: 'paused' } })
    target.dispatchEvent(msg)
    expect(events).toEqual([
      { type: 'error', message: 'Uncaught RangeError: oops' },
      { type: 'state', state: 'error' },
      { type: 'state', state: 'paused' }
    ])
    expect(err.defaultPrevented).toBe(true)
    client.step(1)
    expect(worker.postMessage).toHaveBeenCalledWith({ type: 'step', seconds: 1 })
    client.dispose()
    expect(worker.terminate).toHaveBeenCalled()
  })

  it("over Electron's preload, each command is its own session method", () => {
    const calls: unknown[][] = []
    const rec = (name: string) => (...args: unknown[]) => void calls.push([name, ...args])
    const session: SessionApi = {
      load: rec('load'),
      start: rec('start'),
      pause: rec('pause'),
      resume: rec('resume'),
      step: rec('step'),
      stop: rec('stop'),
      setSpeed: rec('setSpeed'),
      onEvent: () => () => undefined
    }
    const client = new WorkerLabClient(preloadChannel(session))
    client.load({ a: 1 })
    client.step(4)
    client.setSpeed('max')
    client.stop()
    expect(calls).toEqual([['load', { a: 1 }], ['step', 4], ['setSpeed', 'max'], ['stop']])
  })
})
