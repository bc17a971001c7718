/**
 * Redraws paced by animation frames. New samples mark every listener (the charts, the live
 * results table) as due; each frame then runs due listeners, in turn, until FRAME_BUDGET_MS is
 * spent, and leaves the rest for a later frame. So a listener runs at most once per frame
 * (STYLE.md: update('none') at most once per frame) and batches that arrive between two frames
 * cost one redraw. However heavy the charts get (4 lanes x 10,000 points), one frame's work
 * stays short and the next redraw waits REST_FACTOR times as long as the last one took: the
 * browser keeps time to paint, composite and handle input.
 */
export type FrameListener = () => void

/** Main-thread time per frame for redraws; at least one listener runs per frame. */
export const FRAME_BUDGET_MS = 10
/** After redraws that took t ms, the next frame with redraws comes no sooner than t x this. */
export const REST_FACTOR = 2

/** Where frames and time come from (tests bring their own). */
export interface FrameClock {
  now(): number
  /** Run `cb` at the next animation frame. */
  frame(cb: () => void): void
  /** Run `cb` after `ms` milliseconds. */
  later(cb: () => void, ms: number): void
}

export const browserFrameClock: FrameClock = {
  now: typeof performance === 'object' ? () => performance.now() : () => Date.now(),
  frame: typeof requestAnimationFrame === 'function' ? (cb) => void requestAnimationFrame(() => cb()) : (cb) => void setTimeout(cb, 16),
  later: (cb, ms) => void setTimeout(cb, ms)
}

export class FrameTicker {
  private scheduled = false
  /** Time before which no redraw frame starts (see REST_FACTOR). */
  private restUntil = 0
  /** Listeners in the order they take turns; `next` is whose turn comes first. */
  private readonly order: FrameListener[] = []
  private readonly due = new Set<FrameListener>()
  private next = 0

  constructor(private readonly clock: FrameClock = browserFrameClock) {}

  /** Mark every listener due and ask for a frame (no-op if one is already asked for). */
  request(): void {
    for (const l of this.order) this.due.add(l)
    this.schedule()
  }

  /** Subscribe; returns the unsubscribe function. */
  on(listener: FrameListener): () => void {
    this.order.push(listener)
    return () => {
      const i = this.order.indexOf(listener)
      if (i >= 0) this.order.splice(i, 1)
      this.due.delete(listener)
    }
  }

  private schedule(): void {
    if (this.scheduled || this.due.size === 0) return
    this.scheduled = true
    const rest = this.restUntil - this.clock.now()
    if (rest > 1) this.clock.later(() => this.clock.frame(() => this.frame()), rest)
    else this.clock.frame(() => this.frame())
  }

  private frame(): void {
    this.scheduled = false
    const start = this.clock.now()
    const n = this.order.length
    const first = this.next
    let ran = 0
    for (let k = 0; k < n && this.due.size > 0; k++) {
      const i = (first + k) % n
      const l = this.order[i]
      if (!this.due.has(l)) continue
      if (ran > 0 && this.clock.now() - start >= FRAME_BUDGET_MS) {
        this.next = i
        break
      }
      this.due.delete(l)
      ran++
      l()
      this.next = (i + 1) % n
    }
    const end = this.clock.now()
    this.restUntil = end + (end - start) * REST_FACTOR
    this.schedule()
  }
}
