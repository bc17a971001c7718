import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RbTree } from '../src/core/machine/rbtree.ts'

describe('red-black tree over typed arrays', () => {
  it.each([
    ['keys read from the pages', false],
    ['keys stored in the tree', true]
  ])('keeps red-black shape and content order under any inserts and erases (%s)', (_, stored) => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 20 })), { maxLength: 300 }), (ops) => {
        const keys = new Uint32Array(64)
        const inTree = new Set<number>()
        const t = new RbTree(
          64,
          stored
            ? null
            : (id, out) => {
                out[0] = keys[id]
                out[1] = id
              }
        )
        for (const [insert, id, key] of ops) {
          if (insert && !inTree.has(id)) {
            keys[id] = key
            expect(t.searchInsert(id, key, id)).toBe(-1)
            inTree.add(id)
          } else if (!insert && inTree.has(id)) {
            t.erase(id)
            inTree.delete(id)
          }
          expect(t.checkShape()).toBeGreaterThan(0)
        }
        const order = t.inorder()
        expect(new Set(order)).toEqual(inTree)
        for (let i = 1; i < order.length; i++) {
          const a = order[i - 1]
          const b = order[i]
          expect(keys[a] < keys[b] || (keys[a] === keys[b] && a < b)).toBe(true)
        }
        for (const id of inTree) expect(t.search(keys[id], id)).toBe(id)
      })
    )
  })

  it('finds an equal key instead of inserting a duplicate', () => {
    const keys = [5, 5]
    const t = new RbTree(2, (id, out) => {
      out[0] = keys[id]
      out[1] = 0
    })
    expect(t.searchInsert(0, 5, 0)).toBe(-1)
    expect(t.searchInsert(1, 5, 0)).toBe(0)
    expect(t.inorder()).toEqual([0])
  })
})
