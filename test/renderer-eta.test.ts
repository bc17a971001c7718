import { describe, expect, it } from 'vitest'
import { EtaEstimator } from '../src/renderer/src/stores/eta.ts'

describe('the run ETA', () => {
  it('is steady when the pace swings from frame to frame around a mean', () => {
    const e = new EtaEstimator()
    // 10 simulated s per wall s on average, alternately 4x and 16x for a second each.
    let sim = 0
    const shown: number[] = []
    for (let i = 0; i <= 200; i++) {
      const wall = i * 0.1
      e.add(wall, sim)
      sim += Math.floor(wall) % 2 === 0 ? 0.4 : 1.6
      const eta = e.eta(2400)
      if (wall >= 10 && eta !== null) shown.push(eta)
    }
    // The unsmoothed estimate of the last frames swings 4x; the shown one by under a fifth.
    expect(Math.max(...shown) / Math.min(...shown)).toBeLessThan(1.2)
  })

  it('follows a lasting change of pace', () => {
    const e = new EtaEstimator()
    let sim = 0
    let eta: number | null = null
    for (let i = 0; i <= 600; i++) {
      const wall = i * 0.1
      e.add(wall, sim)
      sim += i < 100 ? 1 : 0.25 // 10x for 10 s, then 2.5x
      eta = e.eta(2400)
    }
    const left = (2400 - sim) / 2.5
    expect(Math.abs((eta as number) - left) / left).toBeLessThan(0.1)
  })

  it('gives none before the run has a pace, and none after a reset', () => {
    const e = new EtaEstimator()
    e.add(0, 0)
    e.add(0.5, 5)
    expect(e.eta(100)).toBeNull()
    e.add(2, 20)
    expect(e.eta(100)).not.toBeNull()
    e.reset()
    expect(e.eta(100)).toBeNull()
  })
})
