import { describe, expect, it } from 'vitest'
import { fp, KsmRig } from './harness.ts'

/** n pages of content v merged into KSM pages of max_page_sharing mappings each (a chain). */
function chainRig(n: number, v: number, opts: { maxPageSharing: number; pruneMs: number; extra?: number }): KsmRig {
  const r = new KsmRig(n + (opts.extra ?? 0), { maxPageSharing: opts.maxPageSharing, pruneMs: opts.pruneMs })
  for (let gp = 0; gp < n; gp++) r.write(gp, v)
  for (let p = 0; p < 4; p++) r.pass()
  return r
}

describe('stable tree insert and chains (mm/ksm.c stable_tree_insert, chain_prune, stable_node_dup)', () => {
  it('a two-page merge is charged the stable_tree_insert walk as well as the search', () => {
    const r = new KsmRig(40)
    for (let gp = 0; gp < 30; gp++) r.write(gp, 1000 + (gp >> 1)) // 15 KSM pages in the stable tree
    for (let p = 0; p < 3; p++) r.pass()
    expect(r.stable.ksmPages).toBe(15)
    r.write(30, 7)
    r.write(31, 7)
    r.pass() // first visits: volatile
    r.ksm.cmpAndMerge(30) // into the unstable tree
    const [hi, lo] = fp(7)
    r.stable.tree.steps = 0
    r.stable.tree.search(hi, lo)
    const descent = r.stable.tree.steps
    expect(descent).toBeGreaterThanOrEqual(4)
    const before = r.ksm.ops.tree_step
    r.ksm.cmpAndMerge(31) // stable search, unstable search (finds 30), merge, stable_tree_insert
    expect(r.stable.ksmPages).toBe(16)
    expect(r.ksm.ops.tree_step - before).toBeGreaterThanOrEqual(2 * descent + 1)
    r.check()
  })

  it('when every dup of a chain is full, a search that meets the chain walks all its dups', () => {
    const r = chainRig(12, 5, { maxPageSharing: 2, pruneMs: 1e9 })
    expect(r.stable.stable_node_chains).toBe(1)
    expect(r.stable.stable_node_dups).toBe(6)
    const [hi, lo] = fp(5)
    r.stable.resetSteps()
    expect(r.stable.search(hi, lo)).toBe(-1) // all full: no dup to merge into
    expect(r.stable.dupSteps).toBe(6)
    r.check()
  })

  it('without pruning the dup chosen is the first with room, not the fullest', () => {
    const r = chainRig(6, 5, { maxPageSharing: 3, pruneMs: 1e9, extra: 2 })
    // Six pages of one content at max_page_sharing 3: two KSM pages of 3 mappings. Free room in
    // both (two writes, then the visits that take the records out), head first.
    expect(r.stable.stable_node_dups).toBe(2)
    const owners = [0, 1, 2, 3, 4, 5].map((gp) => r.mem.ksmNode(r.mem.pageFrame[gp]))
    const head = owners[5] // the newest dup is at the chain's head
    const other = owners.find((o) => o !== head) as number
    const ofHead = [0, 1, 2, 3, 4, 5].filter((gp) => owners[gp] === head)
    const ofOther = [0, 1, 2, 3, 4, 5].filter((gp) => owners[gp] === other)
    r.write(ofHead[0], 9)
    r.write(ofHead[1], 10) // the head dup keeps 1 mapping
    r.write(ofOther[0], 11) // the other keeps 2: the fuller candidate
    for (const gp of [ofHead[0], ofHead[1], ofOther[0]]) r.ksm.cmpAndMerge(gp) // records leave
    const [hi, lo] = fp(5)
    r.stable.resetSteps()
    expect(r.stable.search(hi, lo)).toBe(head)
    expect(r.stable.dupSteps).toBe(1)
    r.check()
  })

  it('each chain keeps its own prune time: two chains due at once are both collapsed', () => {
    const r = new KsmRig(12, { maxPageSharing: 3, pruneMs: 2000 })
    for (let gp = 0; gp < 6; gp++) r.write(gp, 5)
    for (let gp = 6; gp < 12; gp++) r.write(gp, 6)
    r.stable.nowMs = 0
    for (let p = 0; p < 4; p++) r.pass()
    expect(r.stable.stable_node_chains).toBe(2)
    expect(r.stable.stable_node_dups).toBe(4)
    // In each chain: one dup loses all its pages, the other one page (so it has room again).
    let w = 100
    for (const first of [0, 6]) {
      const pages = [0, 1, 2, 3, 4, 5].map((k) => first + k)
      const node = r.mem.ksmNode(r.mem.pageFrame[first])
      const mine = pages.filter((gp) => r.mem.ksmNode(r.mem.pageFrame[gp]) === node)
      const others = pages.filter((gp) => r.mem.ksmNode(r.mem.pageFrame[gp]) !== node)
      for (const gp of [...mine, others[0]]) r.write(gp, w++)
      for (const gp of [...mine, others[0]]) r.ksm.cmpAndMerge(gp)
    }
    expect(r.stable.stable_node_dups).toBe(2)
    r.stable.nowMs = 5000
    const a = fp(5)
    const b = fp(6)
    r.stable.search(a[0], a[1])
    r.stable.search(b[0], b[1])
    expect(r.stable.stable_node_chains).toBe(0) // a single prune clock would have let one through
    r.check()
  })
})
