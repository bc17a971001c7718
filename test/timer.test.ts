import { describe, expect, it } from 'vitest'
import { msecsToJiffies, timerRunsAt, wakeAfterSleep } from '../src/core/machine/timer.ts'
import { XEON_X5560 } from '../src/core/machine/cost.ts'
import { KsmRig } from './harness.ts'

const NEW = { hz: 250, timer_wheel: 'non-cascading' as const }
const OLD = { hz: 250, timer_wheel: 'cascading' as const }

describe('ksmd scan period (kernel/time/timer.c)', () => {
  it('msecs_to_jiffies rounds up to whole ticks', () => {
    expect(msecsToJiffies(20, 250)).toBe(5)
    expect(msecsToJiffies(21, 250)).toBe(6)
    expect(msecsToJiffies(20, 1000)).toBe(20)
    expect(msecsToJiffies(20, 100)).toBe(2)
  })

  it('since 4.8 calc_index rounds a level-0 expiry up by one jiffy: a 20 ms sleep at HZ 250 lasts 24 ms', () => {
    expect(timerRunsAt(105, 100, NEW)).toBe(106)
    expect(wakeAfterSleep(0.0004, 20, NEW)).toBeCloseTo(0.024, 12)
  })

  it('beyond level 0 the rounding is to the level granularity (8 jiffies at level 1)', () => {
    // 1 s at HZ 250 = 250 jiffies: level 1 (63 <= 250 < LVL_START(2) = 504), granularity 8.
    expect(timerRunsAt(1000 + 250, 1000, NEW)).toBe(1256)
    expect(timerRunsAt(1000 + 600, 1000, NEW)).toBe(1664) // level 2, granularity 64
  })

  it('the cascading wheel of Linux 3.0 runs the timer at its exact jiffy: a 20 ms sleep lasts 20 ms', () => {
    expect(timerRunsAt(105, 100, OLD)).toBe(105)
    expect(wakeAfterSleep(0.0004, 20, OLD)).toBeCloseTo(0.02, 12)
  })

  it('CPU time of the batch still adds to the period once it crosses a tick', () => {
    // Woken at 0 s, 5 ms of work at HZ 250 ends in jiffy 1: the sleep of 5 jiffies ends at jiffy 6.
    expect(wakeAfterSleep(0.005, 20, OLD)).toBeCloseTo(0.024, 12)
    expect(wakeAfterSleep(0.005, 20, NEW)).toBeCloseTo(0.028, 12)
  })

  it('KSM at 100 pages per 20 ms on a 4.8+ host at HZ 250 scans at most 4,167 pages/s', () => {
    const r = new KsmRig(20_000, { pagesToScan: 100, profile: { ...XEON_X5560, ...NEW } })
    for (let i = 0; i < 20_000; i++) r.write(i, i)
    let t = 0
    while (t < 2) {
      r.ksm.wake(t)
      t = r.ksm.nextWake
    }
    const perSecond = r.ksm.pages_scanned / t
    expect(perSecond).toBeGreaterThan(4100)
    expect(perSecond).toBeLessThanOrEqual(4167)
  })

  it('KSM at 100 pages per 20 ms on the paper host (Linux 3.0) scans 5,000 pages/s, not less', () => {
    const r = new KsmRig(20_000, { pagesToScan: 100 })
    for (let i = 0; i < 20_000; i++) r.write(i, i)
    let t = 0
    while (t < 2) {
      r.ksm.wake(t)
      t = r.ksm.nextWake
    }
    expect(r.ksm.pages_scanned / t).toBeCloseTo(5000, 0)
  })
})
