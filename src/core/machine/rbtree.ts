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
  /**
   * Node words, S per slot, interleaved so that a search step touches one cache line:
   * [S x] left, [S x + 1] right and, with stored keys, [S x + 2] key hi, [S x + 3] key lo.
   */
  private nd: Uint32Array
  /** Words per slot in `nd`: 4 with stored keys, 2 without. */
  private readonly S: number
  /** Whether keys are stored (no readKey). */
  private readonly stored: boolean
  private parent: Int32Array
  private color: Uint8Array
  private root = NIL
  private readonly key = new Uint32Array(2)
  /** Key comparisons made since the counter was last read: the cost model's "tree steps". */
  steps = 0
  /**
   * Stored-key trees only: node ids marked 1 here are reported to `onVisit` when a search or
   * insert passes them, before their key is compared (the stable tree's chains, whose dups
   * stable_tree_search walks at every visit).
   */
  visitMark: Uint8Array | null = null
  onVisit: ((id: number) => void) | null = null

  constructor(
    capacity: number,
    private readonly readKey: ReadKey | null
  ) {
    this.stored = !readKey
    this.S = readKey ? 2 : 4
    this.nd = new Uint32Array((capacity + 1) * this.S)
    this.parent = new Int32Array(capacity + 1)
    this.color = new Uint8Array(capacity + 1)
    this.color[NIL] = BLACK
  }

  get capacity(): number {
    return this.color.length - 1
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
    const nd = new Uint32Array(n * this.S)
    nd.set(this.nd)
    this.nd = nd
    this.parent = grow32(this.parent)
    const c = new Uint8Array(n)
    c.set(this.color)
    this.color = c
  }

  /** The key of slot x (x = id + 1), into this.key. */
  private loadKey(x: number): void {
    if (this.stored) {
      this.key[0] = this.nd[4 * x + 2]
      this.key[1] = this.nd[4 * x + 3]
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
    if (this.stored) return this.searchStored(hi, lo)
    let x = this.root
    const k = this.key
    while (x !== NIL) {
      this.loadKey(x)
      this.steps++
      const c = cmpFp(hi, lo, k[0], k[1])
      if (c === 0) return x - 1
      x = c < 0 ? this.nd[x * this.S] : this.nd[x * this.S + 1]
    }
    return -1
  }

  /** search() over stored keys (the stable tree's hot path: one lookup per scanned page). */
  private searchStored(hi: number, lo: number): number {
    const nd = this.nd
    let x = this.root
    let steps = 0
    const mark = this.visitMark
    while (x !== NIL) {
      steps++
      if (mark !== null && mark[x - 1] === 1) (this.onVisit as (id: number) => void)(x - 1)
      const i = 4 * x
      const h = nd[i + 2]
      if (hi === h) {
        const l = nd[i + 3]
        if (lo === l) break
        x = lo < l ? nd[i] : nd[i + 1]
      } else {
        x = hi < h ? nd[i] : nd[i + 1]
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
    if (this.stored) {
      // Stored keys (the stable tree): one tight loop, as in searchStored.
      const nd = this.nd
      const mark = this.visitMark
      let steps = 0
      while (x !== NIL) {
        steps++
        if (mark !== null && mark[x - 1] === 1) (this.onVisit as (id: number) => void)(x - 1)
        const i = 4 * x
        const h = nd[i + 2]
        const l = nd[i + 3]
        c = hi !== h ? (hi < h ? -1 : 1) : lo !== l ? (lo < l ? -1 : 1) : 0
        if (c === 0) break
        y = x
        x = c < 0 ? nd[i] : nd[i + 1]
      }
      this.steps += steps
      if (c === 0 && x !== NIL) return x - 1
    } else {
      const k = this.key
      while (x !== NIL) {
        this.loadKey(x)
        this.steps++
        c = cmpFp(hi, lo, k[0], k[1])
        if (c === 0) return x - 1
        y = x
        x = c < 0 ? this.nd[x * this.S] : this.nd[x * this.S + 1]
      }
    }
    const z = id + 1
    if (this.stored) {
      this.nd[4 * z + 2] = hi
      this.nd[4 * z + 3] = lo
    }
    this.parent[z] = y
    this.nd[z * this.S] = NIL
    this.nd[z * this.S + 1] = NIL
    this.color[z] = RED
    if (y === NIL) this.root = z
    else if (c < 0) this.nd[y * this.S] = z
    else this.nd[y * this.S + 1] = z
    this.insertFixup(z)
    return -1
  }

  /** Replace node `oldId` by `newId` in place (same position and colour). */
  replace(oldId: number, newId: number): void {
    const o = oldId + 1
    const n = newId + 1
    const p = this.parent[o]
    this.nd[n * this.S] = this.nd[o * this.S]
    this.nd[n * this.S + 1] = this.nd[o * this.S + 1]
    this.parent[n] = p
    this.color[n] = this.color[o]
    if (this.stored) {
      this.nd[4 * n + 2] = this.nd[4 * o + 2]
      this.nd[4 * n + 3] = this.nd[4 * o + 3]
    }
    if (this.nd[n * this.S] !== NIL) this.parent[this.nd[n * this.S]] = n
    if (this.nd[n * this.S + 1] !== NIL) this.parent[this.nd[n * this.S + 1]] = n
    if (p === NIL) this.root = n
    else if (this.nd[p * this.S] === o) this.nd[p * this.S] = n
    else this.nd[p * this.S + 1] = n
  }

  /** Remove node `id`, which must be in the tree (rb_erase). Works whatever the keys now say. */
  erase(id: number): void {
    const z = id + 1
    let y = z
    let yColor = this.color[y]
    let x: number
    if (this.nd[z * this.S] === NIL) {
      x = this.nd[z * this.S + 1]
      this.transplant(z, x)
    } else if (this.nd[z * this.S + 1] === NIL) {
      x = this.nd[z * this.S]
      this.transplant(z, x)
    } else {
      y = this.nd[z * this.S + 1]
      while (this.nd[y * this.S] !== NIL) y = this.nd[y * this.S]
      yColor = this.color[y]
      x = this.nd[y * this.S + 1]
      if (this.parent[y] === z) {
        this.parent[x] = y
      } else {
        this.transplant(y, x)
        this.nd[y * this.S + 1] = this.nd[z * this.S + 1]
        this.parent[this.nd[y * this.S + 1]] = y
      }
      this.transplant(z, y)
      this.nd[y * this.S] = this.nd[z * this.S]
      this.parent[this.nd[y * this.S]] = y
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
        x = this.nd[x * this.S]
      }
      x = stack.pop() as number
      out.push(x - 1)
      x = this.nd[x * this.S + 1]
    }
    return out
  }

  /** Black height if the red-black properties hold, else -1 (for tests). */
  checkShape(): number {
    const walk = (x: number): number => {
      if (x === NIL) return 1
      if (this.color[x] === RED && (this.color[this.nd[x * this.S]] === RED || this.color[this.nd[x * this.S + 1]] === RED)) return -1
      if (this.nd[x * this.S] !== NIL && this.parent[this.nd[x * this.S]] !== x) return -1
      if (this.nd[x * this.S + 1] !== NIL && this.parent[this.nd[x * this.S + 1]] !== x) return -1
      const l = walk(this.nd[x * this.S])
      const r = walk(this.nd[x * this.S + 1])
      if (l < 0 || r < 0 || l !== r) return -1
      return l + (this.color[x] === BLACK ? 1 : 0)
    }
    if (this.color[this.root] === RED) return -1
    return walk(this.root)
  }

  private transplant(u: number, v: number): void {
    const p = this.parent[u]
    if (p === NIL) this.root = v
    else if (u === this.nd[p * this.S]) this.nd[p * this.S] = v
    else this.nd[p * this.S + 1] = v
    this.parent[v] = p
  }

  private rotateLeft(x: number): void {
    const y = this.nd[x * this.S + 1]
    this.nd[x * this.S + 1] = this.nd[y * this.S]
    if (this.nd[y * this.S] !== NIL) this.parent[this.nd[y * this.S]] = x
    this.parent[y] = this.parent[x]
    const p = this.parent[x]
    if (p === NIL) this.root = y
    else if (x === this.nd[p * this.S]) this.nd[p * this.S] = y
    else this.nd[p * this.S + 1] = y
    this.nd[y * this.S] = x
    this.parent[x] = y
  }

  private rotateRight(x: number): void {
    const y = this.nd[x * this.S]
    this.nd[x * this.S] = this.nd[y * this.S + 1]
    if (this.nd[y * this.S + 1] !== NIL) this.parent[this.nd[y * this.S + 1]] = x
    this.parent[y] = this.parent[x]
    const p = this.parent[x]
    if (p === NIL) this.root = y
    else if (x === this.nd[p * this.S + 1]) this.nd[p * this.S + 1] = y
    else this.nd[p * this.S] = y
    this.nd[y * this.S + 1] = x
    this.parent[x] = y
  }

  private insertFixup(z: number): void {
    const color = this.color
    while (color[this.parent[z]] === RED) {
      const p = this.parent[z]
      const g = this.parent[p]
      if (p === this.nd[g * this.S]) {
        const u = this.nd[g * this.S + 1]
        if (color[u] === RED) {
          color[p] = BLACK
          color[u] = BLACK
          color[g] = RED
          z = g
        } else {
          if (z === this.nd[p * this.S + 1]) {
            z = p
            this.rotateLeft(z)
          }
          const p2 = this.parent[z]
          color[p2] = BLACK
          color[this.parent[p2]] = RED
          this.rotateRight(this.parent[p2])
        }
      } else {
        const u = this.nd[g * this.S]
        if (color[u] === RED) {
          color[p] = BLACK
          color[u] = BLACK
          color[g] = RED
          z = g
        } else {
          if (z === this.nd[p * this.S]) {
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
      if (x === this.nd[p * this.S]) {
        let w = this.nd[p * this.S + 1]
        if (color[w] === RED) {
          color[w] = BLACK
          color[p] = RED
          this.rotateLeft(p)
          w = this.nd[(this.parent[x]) * this.S + 1]
        }
        if (color[this.nd[w * this.S]] === BLACK && color[this.nd[w * this.S + 1]] === BLACK) {
          color[w] = RED
          x = this.parent[x]
        } else {
          if (color[this.nd[w * this.S + 1]] === BLACK) {
            color[this.nd[w * this.S]] = BLACK
            color[w] = RED
            this.rotateRight(w)
            w = this.nd[(this.parent[x]) * this.S + 1]
          }
          const px = this.parent[x]
          color[w] = color[px]
          color[px] = BLACK
          color[this.nd[w * this.S + 1]] = BLACK
          this.rotateLeft(px)
          x = this.root
        }
      } else {
        let w = this.nd[p * this.S]
        if (color[w] === RED) {
          color[w] = BLACK
          color[p] = RED
          this.rotateRight(p)
          w = this.nd[(this.parent[x]) * this.S]
        }
        if (color[this.nd[w * this.S + 1]] === BLACK && color[this.nd[w * this.S]] === BLACK) {
          color[w] = RED
          x = this.parent[x]
        } else {
          if (color[this.nd[w * this.S]] === BLACK) {
            color[this.nd[w * this.S + 1]] = BLACK
            color[w] = RED
            this.rotateLeft(w)
            w = this.nd[(this.parent[x]) * this.S]
          }
          const px = this.parent[x]
          color[w] = color[px]
          color[px] = BLACK
          color[this.nd[w * this.S]] = BLACK
          this.rotateRight(px)
          x = this.root
        }
      }
    }
    color[x] = BLACK
  }
}
