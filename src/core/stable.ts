/**
 * The merge machinery every scanner shares: the stable tree of KSM pages, merging, copy-on-write
 * bookkeeping, and max_page_sharing with stable-node chains and dups (mm/ksm.c).
 *
 * Stable nodes live in typed arrays indexed by node id. A node is either
 *  - a plain node: in the tree, owns one KSM frame ("dup" in kernel words when inside a chain),
 *  - a chain: in the tree, owns no frame, links a list of dups with the same content,
 *  - a dup inside a chain: not in the tree, owns one KSM frame.
 * A plain node becomes a chain when a second KSM page with its content is inserted (because the
 * first reached max_page_sharing mappings); a chain left with one dup is collapsed back to a plain
 * node when it is next searched and stable_node_chains_prune_millisecs has passed.
 *
 * Counters follow /sys/kernel/mm/ksm: pages_shared = KSM pages in use (each dup counts),
 * pages_sharing = further mappings of them, stable_node_chains, stable_node_dups (dups inside
 * chains). They are updated at merge and at the CoW fault itself (the kernel updates them when
 * ksmd next visits the rmap item; the totals agree after that visit).
 */
import type { HostMemory, KsmUnmapHook } from './memory.ts'
import { RbTree } from './rbtree.ts'

export const MAX_PAGE_SHARING_DEFAULT = 256 // Documentation/admin-guide/mm/ksm.rst
export const CHAINS_PRUNE_MS_DEFAULT = 2000 // stable_node_chains_prune_millisecs default

export class StableTree implements KsmUnmapHook {
  /** Frame of a plain node or dup; -1 for a chain. */
  private snFrame: Int32Array
  /** For a dup in a chain: its chain; else -1. */
  private snChain: Int32Array
  /** Next dup in the chain's list (-1 ends it); for a chain: its first dup. */
  private snNext: Int32Array
  /** For a chain: number of dups. */
  private snDups: Int32Array
  private freeIds: number[] = []
  private nIds = 0
  readonly tree: RbTree

  pages_shared = 0
  pages_sharing = 0
  stable_node_chains = 0
  stable_node_dups = 0
  /** Guest pages mapped to a frame that has two or more mappings. */
  sharedGuestPages = 0
  /** Merges done (a page joining a KSM page; a two-page merge counts twice). */
  merges = 0
  /** Called when a page leaves a KSM frame by CoW (scanners drop their record's stable state). */
  onUnmap: ((gp: number) => void) | null = null
  private lastPruneMs = -Infinity

  constructor(
    private readonly mem: HostMemory,
    readonly maxPageSharing: number = MAX_PAGE_SHARING_DEFAULT,
    private readonly pruneMs: number = CHAINS_PRUNE_MS_DEFAULT
  ) {
    const cap = 1024
    this.snFrame = new Int32Array(cap)
    this.snChain = new Int32Array(cap)
    this.snNext = new Int32Array(cap)
    this.snDups = new Int32Array(cap)
    // Stable pages are write-protected: their content is the key, stored once at insertion.
    this.tree = new RbTree(cap, null)
    mem.hook = this
  }

  /** Simulated time in ms, for chain pruning; set by the lane before each scanner wake. */
  nowMs = 0

  private allocId(): number {
    const id = this.freeIds.length > 0 ? (this.freeIds.pop() as number) : this.nIds++
    if (id >= this.snFrame.length) {
      const cap = this.snFrame.length * 2
      const g = (a: Int32Array): Int32Array => {
        const b = new Int32Array(cap)
        b.set(a)
        return b
      }
      this.snFrame = g(this.snFrame)
      this.snChain = g(this.snChain)
      this.snNext = g(this.snNext)
      this.snDups = g(this.snDups)
      this.tree.grow(cap)
    }
    this.snFrame[id] = -1
    this.snChain[id] = -1
    this.snNext[id] = -1
    this.snDups[id] = 0
    return id
  }

  /** Number of stable node ids allocated (for invariant checks). */
  get idCount(): number {
    return this.nIds
  }

  /**
   * stable_tree_search: a KSM page with content (hi, lo) that can take one more mapping, as the
   * stable node (dup) id, or -1. A chain offers the dup with the most mappings still under
   * max_page_sharing.
   */
  search(hi: number, lo: number): number {
    const node = this.tree.search(hi, lo)
    if (node < 0) return -1
    if (this.snFrame[node] >= 0) {
      return this.mem.mapcountOf(this.snFrame[node]) < this.maxPageSharing ? node : -1
    }
    this.maybePrune(node)
    if (this.snFrame[node] >= 0) return this.mem.mapcountOf(this.snFrame[node]) < this.maxPageSharing ? node : -1
    let best = -1
    let bestCount = -1
    for (let d = this.snNext[node]; d >= 0; d = this.snNext[d]) {
      const c = this.mem.mapcountOf(this.snFrame[d])
      if (c < this.maxPageSharing && c > bestCount) {
        best = d
        bestCount = c
      }
    }
    return best
  }

  /** try_to_merge_with_ksm_page + stable_tree_append: map page gp onto the KSM page of `node`. */
  mergeInto(gp: number, node: number): void {
    const mem = this.mem
    const old = mem.pageFrame[gp]
    const kf = this.snFrame[node]
    mem.freeFrame(old)
    mem.pageFrame[gp] = kf
    this.addMapping(kf)
    this.merges++
  }

  /**
   * try_to_merge_two_pages + stable_tree_insert: page `gpNew` becomes a KSM page in place and
   * `gpTree` is mapped onto it. Both pages must hold equal content and be private.
   */
  mergeTwo(gpTree: number, gpNew: number): number {
    const mem = this.mem
    const kf = mem.pageFrame[gpNew]
    const node = this.insert(kf)
    mem.setKsmNode(kf, node)
    this.pages_shared++
    mem.freeFrame(mem.pageFrame[gpTree])
    mem.pageFrame[gpTree] = kf
    this.addMapping(kf)
    this.merges += 2
    return node
  }

  private addMapping(kf: number): void {
    const c = this.mem.incMap(kf)
    this.pages_sharing++
    this.sharedGuestPages += c === 2 ? 2 : 1
  }

  /** stable_tree_insert: a new KSM frame; joins (or makes) a chain if its content is already there. */
  private insert(kf: number): number {
    const mem = this.mem
    const hi = mem.hi(kf)
    const lo = mem.lo(kf)
    const dup = this.allocId()
    this.snFrame[dup] = kf
    const existing = this.tree.searchInsert(dup, hi, lo)
    if (existing < 0) return dup
    // Same content already in the tree: its KSM pages are full. Chain them.
    let chain = existing
    if (this.snFrame[existing] >= 0) {
      chain = this.allocId()
      this.tree.replace(existing, chain)
      this.snChain[existing] = chain
      this.snNext[existing] = -1
      this.snNext[chain] = existing
      this.snDups[chain] = 1
      this.stable_node_chains++
      this.stable_node_dups++
    }
    this.snChain[dup] = chain
    this.snNext[dup] = this.snNext[chain]
    this.snNext[chain] = dup
    this.snDups[chain]++
    this.stable_node_dups++
    return dup
  }

  /** A guest write faulted on KSM frame `kf` mapped by gp: drop that mapping. */
  unmapKsm(gp: number, kf: number): void {
    const mem = this.mem
    const c = mem.decMap(kf)
    if (c >= 1) {
      this.pages_sharing--
      this.sharedGuestPages -= c === 1 ? 2 : 1
    } else {
      this.removeNode(mem.ksmNode(kf))
      mem.freeFrame(kf)
      this.pages_shared--
    }
    // The writer's page table entry is remapped to a private frame by HostMemory.write.
    if (this.onUnmap) this.onUnmap(gp)
  }

  /** A KSM page lost its last mapping: take its node out of the tree or its chain. */
  private removeNode(node: number): void {
    const chain = this.snChain[node]
    if (chain < 0) {
      this.tree.erase(node)
    } else {
      let prev = -1
      let d = this.snNext[chain]
      while (d !== node) {
        prev = d
        d = this.snNext[d]
      }
      if (prev < 0) this.snNext[chain] = this.snNext[node]
      else this.snNext[prev] = this.snNext[node]
      this.snDups[chain]--
      this.stable_node_dups--
      if (this.snDups[chain] === 0) {
        this.tree.erase(chain)
        this.stable_node_chains--
        this.freeIds.push(chain)
      }
    }
    this.snFrame[node] = -1
    this.freeIds.push(node)
  }

  /** Collapse a chain with a single dup back to a plain node, at most every pruneMs. */
  private maybePrune(chain: number): void {
    if (this.snDups[chain] !== 1 || this.nowMs - this.lastPruneMs < this.pruneMs) return
    this.lastPruneMs = this.nowMs
    const dup = this.snNext[chain]
    this.tree.replace(chain, dup)
    this.snChain[dup] = -1
    this.snNext[dup] = -1
    this.stable_node_chains--
    this.stable_node_dups--
    this.freeIds.push(chain)
  }

  /** Every KSM frame as (node id, frame), for invariant checks. */
  forEachKsmFrame(fn: (node: number, frame: number) => void): void {
    for (let id = 0; id < this.nIds; id++) {
      const f = this.snFrame[id]
      if (f >= 0 && this.mem.ksmNode(f) === id) fn(id, f)
    }
  }

  byteSize(): number {
    return this.snFrame.byteLength * 4 + this.snFrame.length * 13
  }
}
