import type { Clock } from '../src/host/session.ts'

/** A clock the test moves by hand; timers fire when their time comes. */
export class FakeClock implements Clock {
  t = 0
  private timers: { at: number; fn: () => void; id: number }[] = []
  private ids = 0
  now(): number {
    return this.t
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.ids
    this.timers.push({ at: this.t + ms, fn, id })
    return id
  }
  clearTimer(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h)
  }
  advance(ms: number): void {
    const end = this.t + ms
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at)
      const next = this.timers[0]
      if (!next || next.at > end) break
      this.timers.shift()
      this.t = Math.max(this.t, next.at)
      next.fn()
    }
    this.t = Math.max(this.t, end) // time a callback looked at stays passed
  }
}
