/**
 * The bounded circular hint stack (XLH, adopted by the paper): hints are guest page ids, popped
 * newest first; when the stack is full a push overwrites the oldest hint, which is counted as
 * dropped (aging for free).
 */
export const HINT_STACK_SIZE_DEFAULT = 16384

export class HintStack {
  private readonly buf: Int32Array
  private top = 0
  private count = 0
  pushed = 0
  popped = 0
  dropped = 0

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('hint stack capacity must be at least 1')
    this.buf = new Int32Array(capacity)
  }

  get depth(): number {
    return this.count
  }

  push(gp: number): void {
    this.buf[this.top] = gp
    this.top = this.top + 1 === this.capacity ? 0 : this.top + 1
    if (this.count === this.capacity) this.dropped++
    else this.count++
    this.pushed++
  }

  /** The newest hint, or -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1
    this.top = this.top === 0 ? this.capacity - 1 : this.top - 1
    this.count--
    this.popped++
    return this.buf[this.top]
  }

  byteSize(): number {
    return this.buf.byteLength
  }
}
