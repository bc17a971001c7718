// The frame ticker that paces chart and table redraws: once per frame at most, a time budget
// per frame, and a rest after heavy frames.
import { describe, expect, it } from 'vitest'
import { FRAME_BUDGET_MS, FrameTicker, REST_FACTOR, type FrameClock } from '../src/renderer/src/stores/frames.ts'

/** Frames and time by hand: `tick()` runs the frame callbacks that are due. */
class HandClock implements FrameClock {
  t = 0
  frames: (() => void)[] = []
  timers: { at: number; cb: () => void }[] = []
  now(): number {
    return this.t
  }
  frame(cb: () => void): void {
    this.frames.push(cb)
  }
  later(cb: () => void, ms: number): void {
    this.timers.push({ at: this.t + ms, cb })
  }
  /** Let `ms` pass (timers fire), then run one animation frame. */
  tick(ms = 16): void {
    this.t += ms
    const due = this.timers.filter((x) => x.at <= this.t)
    this.timers = this.timers.filter((x) => x.at > this.t)
    for (const x of due) x.cb()
    const frames = this.frames
    this.frames = []
    for (const f of frames) f()
  }
}

describe('frame ticker', () => {
  it('runs each listener once per frame however many sample batches arrived', () => {
    const clock = new HandClock()
    const ticker = new FrameTicker(clock)
    let runs = 0
    ticker.on(() => runs++)
    for (let i = 0; i < 5; i++) ticker.request()
    expect(runs).toBe(0)
    clock.tick()
    expect(runs).toBe(1)
    clock.tick()
    expect(runs).toBe(1) // nothing new, no redraw
  })

  it('leaves listeners past the frame budget for the next frame, in turn', () => {
    const clock = new HandClock()
    const ticker = new FrameTicker(clock)
    const ran: string[] = []
    for (const name of ['a', 'b', 'c']) {
      ticker.on(() => {
        ran.push(name)
        clock.t += FRAME_BUDGET_MS // each one spends a whole budget
      })
    }
    ticker.request()
    clock.tick()
    expect(ran).toEqual(['a'])
    clock.tick(100)
    clock.tick(100)
    expect(ran).toEqual(['a', 'b', 'c'])
    ticker.request()
    clock.tick(100)
    expect(ran).toEqual(['a', 'b', 'c', 'a'])
  })

  it('rests after a heavy frame before the next redraw', () => {
    const clock = new HandClock()
    const ticker = new FrameTicker(clock)
    let runs = 0
    ticker.on(() => {
      runs++
      clock.t += 30
    })
    ticker.request()
    clock.tick()
    ticker.request()
    clock.tick(16)
    expect(runs).toBe(1) // resting: 30 ms of work asks for REST_FACTOR x 30 ms off
    clock.tick(30 * REST_FACTOR)
    clock.tick(16)
    expect(runs).toBe(2)
  })
})
