/**
 * A red-black tree over integer node ids, stored in typed arrays (no object per node), ordered
 * by page content the way KSM's trees are ordered by memcmp of the pages.
 *
 * The key of a node is NOT stored: it is read through `readKey` at every step, from whatever
 * the node's page holds now. That is what makes KSM's unstable tree honest: a page that changes
 * after insertion is found in the wrong place, and a search can miss nodes below it (paper,
 * Figure 5). The stable tree uses the same structure; its pages are write-protected, so its keys
 * never move.
 *
 * Without a `readKey` (the stable tree, whose pages cannot change) the tree keeps each node's
 * key itself, set at insertion: one array read per step instead of a walk to the page.
 *
 * Node id n is stored at slot n + 1; slot 0 is the black NIL sentinel (CLRS, ch. 13).
 * Membership is the caller's business: the tree does not know which ids are in it.
 */
import { cmpFp } from './content.ts'

const RED = 0
const BLACK = 1
const NIL = 0

export type ReadKey = (id: number, out: Uint32Array) => void

export class RbTree {
  private left: Int32Array
  private right: Int32Array
  private parent: Int32Array
  private color: Uint8Array
  /** Stored keys (hi, lo) by slot, when the tree has no readKey. */
  private kh: Uint32Array | null
  private kl: Uint32Array | null
  private root = NIL
  private readonly key = new Uint32Array(2)
  /** Key comparisons made since the counter was last read: the cost model's "tree steps". */
  steps = 0

  constructor(
    capacity: number,
    private readonly readKey: ReadKey | null
  ) {
    this.kh = readKey ? null : new Uint32Array(capacity + 1)
    this.kl = readKey ? null : new Uint32Array(capacity + 1)
    this.left = new Int32Array(capacity + 1)
    this.right = new Int32Array(capacity + 1)
    this.parent = new Int32Array(capacity + 1)
    this.color = new Uint8Array(capacity + 1)
    this.color[NIL] = BLACK
  }

  get capacity(): number {
    return this.left.length - 1
  }

  /** Make room for ids below `capacity`. */
  grow(capacity: number): void {
    if (capacity <= this.capacity) return
    const n = capacity + 1
    const grow32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n)
      b.set(a)
      return b
    }
    this.left = grow32(this.left)
    this.right = grow32(this.right)
    this.parent = grow32(this.parent)
    const c = new Uint8Array(n)
    c.set(this.color)
    this.color = c
    if (this.kh && this.kl) {
      const h = new Uint32Array(n)
      h.set(this.kh)
      this.kh = h
      const l = new Uint32Array(n)
      l.set(this.kl)
      this.kl = l
    }
  }

  /** The key of slot x (x = id + 1), into this.key. */
  private loadKey(x: number): void {
    if (this.kh) {
      this.key[0] = this.kh[x]
      this.key[1] = (this.kl as Uint32Array)[x]
    } else {
      ;(this.readKey as ReadKey)(x - 1, this.key)
    }
  }

  /** Forget every node at once (KSM resets the unstable tree root at each full pass). */
  reset(): void {
    this.root = NIL
  }

  isEmpty(): boolean {
    return this.root === NIL
  }

  /** The node whose current key equals (hi, lo), or -1. */
  search(hi: number, lo: number): number {
    if (this.kh) return this.searchStored(hi, lo)
    let x = this.root
    const k = this.key
    while (x !== NIL) {
      this.loadKey(x)
      this.steps++
      const c = cmpFp(hi, lo, k[0], k[1])
      if (c === 0) return x - 1
      x = c < 0 ? this.left[x] : this.right[x]
    }
    return -1
  }

  /** search() over stored keys (the stable tree's hot path: one lookup per scanned page). */
  private searchStored(hi: number, lo: number): number {
    const kh = this.kh as Uint32Array
    const kl = this.kl as Uint32Array
    const left = this.left
    const right = this.right
    let x = this.root
    let steps = 0
    while (x !== NIL) {
      steps++
      const h = kh[x]
      if (hi === h) {
        const l = kl[x]
        if (lo === l) break
        x = lo < l ? left[x] : right[x]
      } else {
        x = hi < h ? left[x] : right[x]
      }
    }
    this.steps += steps
    return x - 1
  }

  /**
   * Search for a node equal to (hi, lo); if none, insert `id` where the search ended and return
   * -1 (unstable_tree_search_insert in mm/ksm.c).
   */
  searchInsert(id: number, hi: number, lo: number): number {
    let x = this.root
    let y = NIL
    let c = 0
    const k = this.key
    while (x !== NIL) {
      this.loadKey(x)
      this.steps++
      c = cmpFp(hi, lo, k[0], k[1])
      if (c === 0) return x - 1
      y = x
      x = c < 0 ? this.left[x] : this.right[x]
    }
    const z = id + 1
    if (this.kh && this.kl) {
      this.kh[z] = hi
      this.kl[z] = lo
    }
    this.parent[z] = y
    this.left[z] = NIL
    this.right[z] = NIL
    this.color[z] = RED
    if (y === NIL) this.root = z
    else if (c < 0) this.left[y] = z
    else this.right[y] = z
    this.insertFixup(z)
    return -1
  }

  /** Replace node `oldId` by `newId` in place (same position and colour). */
  replace(oldId: number, newId: number): void {
    const o = oldId + 1
    const n = newId + 1
    const p = this.parent[o]
    this.left[n] = this.left[o]
    this.right[n] = this.right[o]
    this.parent[n] = p
    this.color[n] = this.color[o]
    if (this.kh && this.kl) {
      this.kh[n] = this.kh[o]
      this.kl[n] = this.kl[o]
    }
    if (this.left[n] !== NIL) this.parent[this.left[n]] = n
    if (this.right[n] !== NIL) this.parent[this.right[n]] = n
    if (p === NIL) this.root = n
    else if (this.left[p] === o) this.left[p] = n
    else this.right[p] = n
  }

  /** Remove node `id`, which must be in the tree (rb_erase). Works whatever the keys now say. */
  erase(id: number): void {
    const z = id + 1
    let y = z
    let yColor = this.color[y]
    let x: number
    if (this.left[z] === NIL) {
      x = this.right[z]
      this.transplant(z, x)
    } else if (this.right[z] === NIL) {
      x = this.left[z]
      this.transplant(z, x)
    } else {
      y = this.right[z]
      while (this.left[y] !== NIL) y = this.left[y]
      yColor = this.color[y]
      x = this.right[y]
      if (this.parent[y] === z) {
        this.parent[x] = y
      } else {
        this.transplant(y, x)
        this.right[y] = this.right[z]
        this.parent[this.right[y]] = y
      }
      this.transplant(z, y)
      this.left[y] = this.left[z]
      this.parent[this.left[y]] = y
      this.color[y] = this.color[z]
    }
    if (yColor === BLACK) this.deleteFixup(x)
    this.parent[NIL] = NIL
  }

  /** Ids in in-order (tree order); for tests and invariant checks. */
  inorder(): number[] {
    const out: number[] = []
    const stack: number[] = []
    let x = this.root
    while (x !== NIL || stack.length > 0) {
      while (x !== NIL) {
        stack.push(x)
        x = this.left[x]
      }
      x = stack.pop() as number
      out.push(x - 1)
      x = this.right[x]
    }
    return out
  }

  /** Black height if the red-black properties hold, else -1 (for tests). */
  checkShape(): number {
    const walk = (x: number): number => {
      if (x === NIL) return 1
      if (this.color[x] === RED && (this.color[this.left[x]] === RED || this.color[this.right[x]] === RED)) return -1
      if (this.left[x] !== NIL && this.parent[this.left[x]] !== x) return -1
      if (this.right[x] !== NIL && this.parent[this.right[x]] !== x) return -1
      const l = walk(this.left[x])
      const r = walk(this.right[x])
      if (l < 0 || r < 0 || l !== r) return -1
      return l + (this.color[x] === BLACK ? 1 : 0)
    }
    if (this.color[this.root] === RED) return -1
    return walk(this.root)
  }

  private transplant(u: number, v: number): void {
    const p = this.parent[u]
    if (p === NIL) this.root = v
    else if (u === this.left[p]) this.left[p] = v
    else this.right[p] = v
    this.parent[v] = p
  }

  private rotateLeft(x: number): void {
    const y = this.right[x]
    this.right[x] = this.left[y]
    if (this.left[y] !== NIL) this.parent[this.left[y]] = x
    this.parent[y] = this.parent[x]
    const p = this.parent[x]
    if (p === NIL) this.root = y
    else if (x === this.left[p]) this.left[p] = y
    else this.right[p] = y
    this.left[y] = x
    this.parent[x] = y
  }

  private rotateRight(x: number): void {
    const y = this.left[x]
    this.left[x] = this.right[y]
    if (this.right[y] !== NIL) this.parent[this.right[y]] = x
    this.parent[y] = this.parent[x]
    const p = this.parent[x]
    if (p === NIL) this.root = y
    else if (x === this.right[p]) this.right[p] = y
    else this.left[p] = y
    this.right[y] = x
    this.parent[x] = y
  }

  private insertFixup(z: number): void {
    const color = this.color
    while (color[this.parent[z]] === RED) {
      const p = this.parent[z]
      const g = this.parent[p]
      if (p === this.left[g]) {
        const u = this.right[g]
        if (color[u] === RED) {
          color[p] = BLACK
          color[u] = BLACK
          color[g] = RED
          z = g
        } else {
          if (z === this.right[p]) {
            z = p
            this.rotateLeft(z)
          }
          const p2 = this.parent[z]
          color[p2] = BLACK
          color[this.parent[p2]] = RED
          this.rotateRight(this.parent[p2])
        }
      } else {
        const u = this.left[g]
        if (color[u] === RED) {
          color[p] = BLACK
          color[u] = BLACK
          color[g] = RED
          z = g
        } else {
          if (z === this.left[p]) {
            z = p
            this.rotateRight(z)
          }
          const p2 = this.parent[z]
          color[p2] = BLACK
          color[this.parent[p2]] = RED
          this.rotateLeft(this.parent[p2])
        }
      }
    }
    color[this.root] = BLACK
  }

  private deleteFixup(x: number): void {
    const color = this.color
    while (x !== this.root && color[x] === BLACK) {
      const p = this.parent[x]
      if (x === this.left[p]) {
        let w = this.right[p]
        if (color[w] === RED) {
          color[w] = BLACK
          color[p] = RED
          this.rotateLeft(p)
          w = this.right[this.parent[x]]
        }
        if (color[this.left[w]] === BLACK && color[this.right[w]] === BLACK) {
          color[w] = RED
          x = this.parent[x]
        } else {
          if (color[this.right[w]] === BLACK) {
            color[this.left[w]] = BLACK
            color[w] = RED
            this.rotateRight(w)
            w = this.right[this.parent[x]]
          }
          const px = this.parent[x]
          color[w] = color[px]
          color[px] = BLACK
          color[this.right[w]] = BLACK
          this.rotateLeft(px)
          x = this.root
        }
      } else {
        let w = this.left[p]
        if (color[w] === RED) {
          color[w] = BLACK
          color[p] = RED
          this.rotateRight(p)
          w = this.left[this.parent[x]]
        }
        if (color[this.right[w]] === BLACK && color[this.left[w]] === BLACK) {
          color[w] = RED
          x = this.parent[x]
        } else {
          if (color[this.left[w]] === BLACK) {
            color[this.right[w]] = BLACK
            color[w] = RED
            this.rotateLeft(w)
            w = this.left[this.parent[x]]
          }
          const px = this.parent[x]
          color[w] = color[px]
          color[px] = BLACK
          color[this.left[w]] = BLACK
          this.rotateRight(px)
          x = this.root
        }
      }
    }
    color[x] = BLACK
  }
}
