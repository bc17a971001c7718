import { describe, expect, it } from 'vitest'
import { HintStack } from '../src/core/machine/hintstack.ts'
import { HintRig } from './harness.ts'

describe('hint stack', () => {
  it('pops the newest hint first (LIFO)', () => {
    const s = new HintStack(8)
    for (const gp of [10, 11, 12]) s.push(gp)
    expect([s.pop(), s.pop(), s.pop(), s.pop()]).toEqual([12, 11, 10, -1])
  })

  it('overwrites the oldest hint when full and counts it as dropped', () => {
    const s = new HintStack(3)
    for (let gp = 1; gp <= 5; gp++) s.push(gp)
    expect(s.depth).toBe(3)
    expect(s.dropped).toBe(2)
    expect(s.pushed).toBe(5)
    expect([s.pop(), s.pop(), s.pop(), s.pop()]).toEqual([5, 4, 3, -1])
    expect(s.popped).toBe(3)
    expect(s.pushed - s.popped - s.dropped).toBe(s.depth)
  })

  it('wraps around its ring many times without losing count', () => {
    const s = new HintStack(4)
    for (let i = 0; i < 1000; i++) {
      s.push(i)
      if (i % 3 === 0) s.pop()
    }
    expect(s.pushed - s.popped - s.dropped).toBe(s.depth)
    expect(s.pop()).toBe(998) // 999 was pushed and popped at once
  })
})

describe('hint scanner (the paper)', () => {
  it('merges two hinted pages with equal content through the checksum hash table', () => {
    const r = new HintRig(4)
    r.write(0, 3)
    r.write(1, 3)
    r.stack.push(0)
    r.stack.push(1)
    r.scanner.wake(0)
    expect(r.stable.pages_shared).toBe(1)
    expect(r.stable.pages_sharing).toBe(1)
    expect(r.scanner.pages_scanned).toBe(2)
    r.check()
  })

  it('a hinted page joins an existing KSM page through the stable tree', () => {
    const r = new HintRig(4)
    for (const gp of [0, 1, 2]) r.write(gp, 3)
    r.stack.push(0)
    r.stack.push(1)
    r.scanner.wake(0)
    r.stack.push(2)
    r.scanner.wake(1)
    expect(r.stable.pages_sharing).toBe(2)
    expect(r.stable.pages_shared).toBe(1)
    r.check()
  })

  it('does not merge pages whose content differs (same path, different content)', () => {
    const r = new HintRig(2)
    r.write(0, 1)
    r.write(1, 2)
    r.stack.push(0)
    r.stack.push(1)
    r.scanner.wake(0)
    expect(r.stable.pages_shared).toBe(0)
    expect(r.scanner.pages_scanned).toBe(2)
  })

  it('verifies a stale hash-table entry before merging', () => {
    const r = new HintRig(3)
    r.write(0, 5)
    r.stack.push(0)
    r.scanner.wake(0) // page 0 takes the entry for content 5
    r.write(0, 6) // and then changes
    r.write(1, 5)
    r.stack.push(1)
    r.scanner.wake(1)
    expect(r.stable.pages_shared).toBe(0)
    r.check()
  })

  it('sleeps with no CPU while the stack is empty', () => {
    const r = new HintRig(4)
    r.write(0, 1)
    r.scanner.wake(0)
    r.scanner.wake(0.02)
    expect(r.scanner.cpuNs).toBe(0)
    expect(r.scanner.pages_scanned).toBe(0)
    r.stack.push(0)
    r.scanner.wake(0.04)
    expect(r.scanner.cpuNs).toBeGreaterThan(0)
  })

  it('takes at most pages_to_scan hints per wake-up', () => {
    const r = new HintRig(100, { pagesToScan: 10 })
    for (let gp = 0; gp < 100; gp++) {
      r.write(gp, gp)
      r.stack.push(gp)
    }
    r.scanner.wake(0)
    expect(r.scanner.pages_scanned).toBe(10)
    expect(r.stack.depth).toBe(90)
  })
})

describe('hint scanner: cost of an already-merged page', () => {
  it('a hint for a page already merged costs its lookup and visit, no stable-tree descent', () => {
    const r = new HintRig(40)
    for (let i = 0; i < 40; i++) r.write(i, i < 2 ? 5 : 100 + i)
    for (let i = 0; i < 40; i++) r.scanner.scanHinted(i)
    expect(r.stable.pages_sharing).toBe(1)
    const steps = r.scanner.ops.tree_step
    r.scanner.scanHinted(0)
    r.scanner.scanHinted(1)
    expect(r.scanner.ops.tree_step - steps).toBe(0)
    r.check()
  })
})
