import { describe, expect, it } from 'vitest'
import { KsmRig, visit } from './harness.ts'

describe('KSM scanner (mm/ksm.c behaviour)', () => {
  it('a new page needs two visits before it can enter the unstable tree', () => {
    const r = new KsmRig(2)
    r.write(0, 7)
    r.write(1, 7)
    r.pass() // first visit: checksums recorded, both volatile
    expect(r.stable.pages_shared).toBe(0)
    expect(r.ksm.pages_unshared).toBe(0)
    expect(r.volatile()).toBe(2)
    r.pass() // second visit: page 0 enters the unstable tree, page 1 finds it and merges
    expect(r.stable.pages_shared).toBe(1)
    expect(r.stable.pages_sharing).toBe(1)
    expect(r.mem.pageFrame[0]).toBe(r.mem.pageFrame[1])
    r.check()
  })

  it('a page that changes between visits is counted volatile and skipped', () => {
    const r = new KsmRig(3)
    r.write(0, 1)
    r.write(1, 2)
    r.write(2, 100)
    for (let i = 0; i < 5; i++) {
      r.write(2, 100 + i) // rewritten before every visit
      r.pass()
    }
    expect(r.ksm.pages_unshared).toBe(2) // pages 0 and 1 sit in the unstable tree
    expect(r.volatile()).toBe(1) // page 2 never gets past the checksum check
    expect(r.ksm.unstable.inorder()).not.toContain(2)
    r.check()
  })

  it('the unstable tree is rebuilt each full pass', () => {
    const r = new KsmRig(4, { pagesToScan: 1 })
    for (let i = 0; i < 4; i++) r.write(i, 10 + i)
    r.pass()
    visit(r.ksm, 4) // the second pass, up to its last page
    // After the second pass all four unique pages were inserted in that pass's tree.
    expect(r.ksm.unstable.inorder().sort()).toEqual([0, 1, 2, 3])
    expect(r.ksm.scanPages(1)).toBe(0) // the walk reaches the end: the pass ends, nothing scanned
    r.ksm.wake(0) // the new pass: the tree starts empty, then takes page 0
    expect(r.ksm.unstable.inorder()).toEqual([0])
    expect(r.ksm.pages_unshared).toBe(4) // items of the old pass still count until revisited
    visit(r.ksm, 3) // the rest of the pass
    expect(r.ksm.unstable.inorder().sort()).toEqual([0, 1, 2, 3])
    expect(r.ksm.pages_unshared).toBe(4)
  })

  it('N static identical pages all merge within three full passes', () => {
    const n = 50
    const r = new KsmRig(n + 10)
    for (let i = 0; i < n; i++) r.write(i, 42)
    for (let i = n; i < n + 10; i++) r.write(i, 1000 + i)
    for (let p = 0; p < 3; p++) r.pass()
    expect(r.stable.pages_shared).toBe(1)
    expect(r.stable.pages_sharing).toBe(n - 1)
    expect(r.stable.sharedGuestPages).toBe(n)
    r.check()
  })

  it('a page rewritten after insertion makes other unstable-tree nodes unreachable', () => {
    // Keys ordered k1 < k2 < k3 < k4 by their high word, as memcmp would order the pages.
    const key = (n: number): [number, number] => [n << 24, 0x1234]
    const build = (rewrite: boolean): KsmRig => {
      const r = new KsmRig(4)
      const [a, b, c] = [0, 1, 2]
      r.writeRaw(a, ...key(2))
      r.writeRaw(b, ...key(1))
      r.writeRaw(c, ...key(3))
      for (const p of [a, b, c]) r.ksm.cmpAndMerge(p) // first visits: volatile
      for (const p of [a, b, c]) r.ksm.cmpAndMerge(p) // a is the root, b left, c right
      expect(r.ksm.unstable.inorder()).toEqual([b, a, c])
      if (rewrite) r.writeRaw(a, ...key(4)) // the root changes under the tree: now k4
      r.writeRaw(3, ...key(3)) // page d has the same content as c
      r.ksm.cmpAndMerge(3)
      r.ksm.cmpAndMerge(3)
      return r
    }
    const clean = build(false)
    expect(clean.stable.pages_sharing).toBe(1) // d found c and merged
    const corrupt = build(true)
    // The search for k3 compares with the root (now k4), goes left, and never reaches c.
    expect(corrupt.stable.pages_sharing).toBe(0)
    expect(corrupt.ksm.unstable.inorder()).toContain(2)
    expect(corrupt.mem.pageFrame[2]).not.toBe(corrupt.mem.pageFrame[3])
    corrupt.check()
  })

  it('chains appear past max_page_sharing sharers', () => {
    const r = new KsmRig(5, { maxPageSharing: 2 })
    for (let i = 0; i < 5; i++) r.write(i, 9)
    for (let p = 0; p < 6; p++) r.pass()
    // Two KSM pages of two mappings each, chained under one stable tree node; the fifth page
    // waits in the unstable tree for a partner.
    expect(r.stable.stable_node_chains).toBe(1)
    expect(r.stable.stable_node_dups).toBe(2)
    expect(r.stable.pages_shared).toBe(2)
    expect(r.stable.pages_sharing).toBe(2)
    for (let i = 0; i < 5; i++) expect(r.mem.mapcountOf(r.mem.pageFrame[i])).toBeLessThanOrEqual(2)
    r.check()
  })

  it('a write to a merged page is a copy-on-write break that leaves the others shared', () => {
    const r = new KsmRig(3)
    for (let i = 0; i < 3; i++) r.write(i, 5)
    for (let p = 0; p < 3; p++) r.pass()
    expect(r.stable.pages_sharing).toBe(2)
    r.write(1, 6)
    expect(r.mem.cowBreaks).toBe(1)
    expect(r.stable.ksmPages).toBe(1)
    expect(r.stable.savedPages).toBe(1)
    expect(r.mem.pageFrame[1]).not.toBe(r.mem.pageFrame[0])
    r.write(0, 7)
    r.write(2, 8) // the last mapping leaves: the KSM page and its stable node are freed
    expect(r.stable.ksmPages).toBe(0)
    expect(r.stable.tree.isEmpty()).toBe(true)
    r.check()
  })

  it('pages_to_scan pages are visited per wake-up, then it sleeps sleep_millisecs (whole jiffies of the 3.0 wheel)', () => {
    const r = new KsmRig(1000, { pagesToScan: 100 })
    for (let i = 0; i < 1000; i++) r.write(i, i)
    r.ksm.wake(1)
    expect(r.ksm.pages_scanned).toBe(100)
    expect(r.ksm.nextWake).toBeCloseTo(1.02, 12) // the batch ends within jiffy 250; 5 jiffies on
  })

  it('a wake-up that reaches the end of a pass stops there (ksm_do_scan returns); the next starts the new pass at the first page', () => {
    const r = new KsmRig(200, { pagesToScan: 100 })
    for (let i = 0; i < 150; i++) r.write(i, i) // pages 150-199 are not present
    r.ksm.wake(0)
    expect(r.ksm.pages_scanned).toBe(100)
    r.ksm.wake(0.02)
    expect(r.ksm.pages_scanned).toBe(150) // 50 pages, then the end of the pass: the wake-up is over
    expect(r.ksm.full_scans).toBe(1)
    r.ksm.wake(0.04)
    expect(r.ksm.pages_scanned).toBe(250) // pages 0-99 of pass 2
    expect(r.ksm.full_scans).toBe(1)
  })

  it('a wake-up over memory with no present page ends one pass and moves no cursor', () => {
    const r = new KsmRig(100, { pagesToScan: 100 })
    for (let k = 0; k < 25; k++) r.ksm.wake(k * 0.02)
    expect(r.ksm.full_scans).toBe(25) // seqnr++ once per wake-up, as scan_get_next_rmap_item does
    r.write(0, 1) // a page appears at the start of the first VM
    r.ksm.wake(0.5)
    expect(r.ksm.pages_scanned).toBe(1) // the new pass starts at page 0 and finds it
  })
})

describe('cost of an already-merged page', () => {
  it('a visit of a page already merged, its record in the stable tree, descends no tree (ksm_do_scan skips it)', () => {
    const r = new KsmRig(64)
    for (let i = 0; i < 32; i++) r.write(i, 5) // one KSM page for these
    for (let i = 32; i < 64; i++) r.write(i, 100 + i) // a stable tree deep enough to cost steps
    for (let i = 32; i < 64; i += 2) r.write(i + 1, 100 + i)
    r.pass()
    r.pass()
    r.pass()
    expect(r.mem.ksmNode(r.mem.pageFrame[0])).toBeGreaterThanOrEqual(0)
    const steps = r.ksm.ops.tree_step
    const checksums = r.ksm.ops.checksum
    for (let i = 0; i < 32; i++) r.ksm.cmpAndMerge(i)
    expect(r.ksm.ops.tree_step - steps).toBe(0)
    expect(r.ksm.ops.checksum - checksums).toBe(0)
    r.check()
  })
})
