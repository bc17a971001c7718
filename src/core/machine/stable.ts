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
 * Counters follow /sys/kernel/mm/ksm exactly: a merged page's record is listed from its stable
 * node (stable_tree_append: rmap_item->head, rmap_hlist_len), and pages_shared / pages_sharing
 * count listed records: per node with n listed, 1 shared and n - 1 sharing. A CoW fault does not
 * touch them: the writer's record stays listed until the scanner next visits it
 * (remove_rmap_item_from_tree, `unlist`); a KSM page whose last mapping was written is freed
 * and its node goes stale, and its records all drop at the first visit of one of them
 * (get_ksm_page -> remove_node_from_stable_tree). The ground truth, what the mappings say, is
 * `ksmPages` and `savedPages` (KSM pages in use, further mappings of them): memory saved and
 * the sharing ratio use those. ESX is no Linux: its lane updates the counters at the CoW fault
 * (`countAtVisit` false), so there the two agree at all times.
 *
 * Tenants. With VMs of two or more tenants the tree knows each guest page's tenant (a byte per
 * page) and counts `cross_tenant_merges`: a page joining a KSM page that already maps a page of
 * another tenant, or a two-page merge across tenants. Under tenant isolation (ESX's page-sharing
 * salt, VMware KB 2097593) every content key a scanner uses is salted per tenant: the high word
 * XOR a per-tenant salt (`keyHi`), so pages of different tenants never meet in the stable tree,
 * the unstable tree or a hash table; every merge also checks that both sides have one tenant.
 *
 * The kernel zero page (`use_zero_pages`) is mapped here too (`mergeZero`), counted in
 * ksm_zero_pages and not in pages_sharing; a write to it is a CoW break like a KSM page's.
 */
import type { OpCounts } from './cost.ts'
import type { HostMemory, KsmUnmapHook } from './memory.ts'
import { RbTree } from './rbtree.ts'
import { hash32 } from './rng.ts'

export const MAX_PAGE_SHARING_DEFAULT = 256 // Documentation/admin-guide/mm/ksm.rst
export const CHAINS_PRUNE_MS_DEFAULT = 2000 // stable_node_chains_prune_millisecs default
/** snFrame of a node whose KSM page was freed while records still point at it. */
const STALE = -2

export class StableTree implements KsmUnmapHook {
  /** Frame of a plain node or dup; -1 for a chain. */
  private snFrame: Int32Array
  /** For a dup in a chain: its chain; else -1. */
  private snChain: Int32Array
  /** Next dup in the chain's list (-1 ends it); for a chain: its first dup. */
  private snNext: Int32Array
  /** For a chain: number of dups. */
  private snDups: Int32Array
  /** For a plain node or dup: the tenant of the page that made it, and its mappings of that tenant. */
  private snTenant: Uint8Array
  private snTenantMaps: Int32Array
  /** For a plain node or dup: records listed and counted (rmap_hlist_len). */
  private snRmap: Int32Array
  /** For a plain node or dup: records pointing at it, counted or not; the id is reused at 0. */
  private snRefs: Int32Array
  /** Per chain: simulated ms of its last prune (chain_prune_time). */
  private snPruneMs: Float64Array
  /** 1 for a chain node: the tree reports its visits (every search that meets it walks its dups). */
  private snIsChain: Uint8Array
  /** Dups examined since the last `chargeTo` (stable_node_dup's get_ksm_page per dup). */
  dupSteps = 0
  /** Whether the tree walk under way may prune chains (stable_tree_search: yes; insert: no). */
  private walkPrune = false
  /** The last chain the walk met and the dup stable_node_dup chose there (-1: none with room). */
  private lastChain = -1
  private lastFound = -1
  /** Chains found with a single dup while pruning, collapsed once the walk is over. */
  private readonly pendingCollapse: number[] = []
  /** Per guest page: the node its record is listed from (rmap_item->head), or -1. */
  private readonly recNode: Int32Array
  private freeIds: number[] = []
  private nIds = 0
  readonly tree: RbTree

  /** sysfs pages_shared: stable nodes with a listed record. */
  pages_shared = 0
  /** sysfs pages_sharing: listed records beyond the first of each node. */
  pages_sharing = 0
  /** Ground truth: KSM pages in use (frames owned by a stable node, dups counted). */
  ksmPages = 0
  /** Ground truth: further mappings of KSM pages, the pages they save. */
  savedPages = 0
  stable_node_chains = 0
  stable_node_dups = 0
  /** Guest pages mapped to a frame that has two or more mappings. */
  sharedGuestPages = 0
  /** Merges done (a page joining a KSM page; a two-page merge counts twice). */
  merges = 0
  /** Merges that put pages of two tenants on one KSM page (0 under isolation). */
  cross_tenant_merges = 0
  /** Guest pages mapped to the kernel zero page (sysfs ksm_zero_pages). */
  ksm_zero_pages = 0
  /** Tenant index per guest page, or null when all VMs have one tenant. */
  readonly tenantOf: Uint8Array | null
  /** Salt per tenant index under isolation, else null. */
  private readonly salt: Uint32Array | null

  constructor(
    private readonly mem: HostMemory,
    readonly maxPageSharing: number = MAX_PAGE_SHARING_DEFAULT,
    private readonly pruneMs: number = CHAINS_PRUNE_MS_DEFAULT,
    tenants: TenantSetup | null = null,
    /** sysfs semantics: records leave the counters when visited (Linux); false: at the CoW fault (ESX). */
    readonly countAtVisit: boolean = true
  ) {
    this.tenantOf = tenants ? tenants.of : null
    this.salt = tenants && tenants.isolate ? tenantSalts(tenants.count) : null
    const cap = 1024
    this.snTenant = new Uint8Array(cap)
    this.snTenantMaps = new Int32Array(cap)
    this.snFrame = new Int32Array(cap)
    this.snChain = new Int32Array(cap)
    this.snNext = new Int32Array(cap)
    this.snDups = new Int32Array(cap)
    this.snRmap = new Int32Array(cap)
    this.snRefs = new Int32Array(cap)
    this.snPruneMs = new Float64Array(cap)
    this.snIsChain = new Uint8Array(cap)
    this.recNode = new Int32Array(mem.totalPages).fill(-1)
    // Stable pages are write-protected: their content is the key, stored once at insertion.
    this.tree = new RbTree(cap, null)
    this.tree.visitMark = this.snIsChain
    this.tree.onVisit = (chain) => {
      this.lastChain = chain
      this.lastFound = this.stableNodeDup(chain, this.walkPrune)
    }
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
      this.snTenantMaps = g(this.snTenantMaps)
      this.snRmap = g(this.snRmap)
      this.snRefs = g(this.snRefs)
      const pt = new Float64Array(cap)
      pt.set(this.snPruneMs)
      this.snPruneMs = pt
      const ic = new Uint8Array(cap)
      ic.set(this.snIsChain)
      this.snIsChain = ic
      const t = new Uint8Array(cap)
      t.set(this.snTenant)
      this.snTenant = t
      this.tree.grow(cap)
      this.tree.visitMark = this.snIsChain
    }
    this.snFrame[id] = -1
    this.snChain[id] = -1
    this.snNext[id] = -1
    this.snDups[id] = 0
    this.snRmap[id] = 0
    this.snRefs[id] = 0
    return id
  }

  /** Number of stable node ids allocated (for invariant checks). */
  get idCount(): number {
    return this.nIds
  }

  /**
   * stable_tree_search: a KSM page with content (hi, lo) that can take one more mapping, as the
   * stable node (dup) id, or -1. Every chain the descent meets is walked (chain_prune ->
   * stable_node_dup, see there); on the chain of this content, the dup it chose is the answer,
   * and none when all its dups are full (the page must then find a partner in the unstable tree).
   */
  search(hi: number, lo: number): number {
    this.walkPrune = true
    this.lastChain = -1
    const node = this.tree.search(hi, lo)
    this.walkPrune = false
    if (this.pendingCollapse.length > 0) this.collapsePending()
    if (node < 0) return -1
    if (node === this.lastChain) return this.lastFound
    return this.isCandidate(node) ? node : -1
  }

  /**
   * stable_node_dup: the dup of `chain` a search may merge into. Pruning (at most every
   * stable_node_chains_prune_millisecs per chain, chain_prune_time) walks every dup and takes the
   * candidate with the most records; a chain left with one dup then collapses, else the chosen
   * dup moves to the head if it has room for one more. Without pruning the walk stops at the
   * first dup with room, and walks them all when all are full. Each dup examined is a dup step.
   */
  private stableNodeDup(chain: number, prune: boolean): number {
    const doPrune = prune && this.nowMs - this.snPruneMs[chain] >= this.pruneMs
    if (doPrune) this.snPruneMs[chain] = this.nowMs
    let found = -1
    let foundLen = -1
    let foundPrev = -1
    let nr = 0
    let prev = -1
    for (let d = this.snNext[chain]; d >= 0; d = this.snNext[d]) {
      this.dupSteps++
      nr++
      if (this.isCandidate(d) && (found < 0 || this.snRmap[d] > foundLen)) {
        found = d
        foundLen = this.snRmap[d]
        foundPrev = prev
        if (!doPrune) break
      }
      prev = d
    }
    if (found >= 0) {
      if (doPrune && nr === 1) this.pendingCollapse.push(chain)
      else if (foundPrev >= 0 && this.snRmap[found] + 1 < this.maxPageSharing) {
        this.snNext[foundPrev] = this.snNext[found]
        this.snNext[found] = this.snNext[chain]
        this.snNext[chain] = found
      }
    }
    return found
  }

  /** Collapse the chains pruning found with one dup left back to a plain node (rb_replace_node). */
  private collapsePending(): void {
    for (const chain of this.pendingCollapse) {
      if (this.snIsChain[chain] !== 1 || this.snDups[chain] !== 1) continue
      const dup = this.snNext[chain]
      this.tree.replace(chain, dup)
      this.snChain[dup] = -1
      this.snNext[dup] = -1
      this.snIsChain[chain] = 0
      this.stable_node_chains--
      this.stable_node_dups--
      this.freeIds.push(chain)
    }
    this.pendingCollapse.length = 0
  }

  /** Tree steps and dup steps since the last charge, added to a scanner's counts. */
  chargeTo(ops: OpCounts): void {
    ops.tree_step += this.tree.steps
    ops.dup_step += this.dupSteps
    this.tree.steps = 0
    this.dupSteps = 0
  }

  /** Start counting the steps of the next tree operation afresh. */
  resetSteps(): void {
    this.tree.steps = 0
    this.dupSteps = 0
  }

  /**
   * is_page_sharing_candidate: the KSM page of node can take one more mapping. The kernel counts
   * the records listed from it (rmap_hlist_len), which may still include pages written since.
   */
  private isCandidate(node: number): boolean {
    const n = this.snRmap[node]
    return n > 0 && n < this.maxPageSharing
  }

  /** Whether page gp's record is listed from the stable node owning frame f (in_stable_tree). */
  listedOn(gp: number, f: number): boolean {
    const node = this.recNode[gp]
    return node >= 0 && this.snFrame[node] === f
  }

  /**
   * remove_rmap_item_from_tree for a record listed from the stable tree: page gp is being
   * scanned again and is no longer (or no longer only) what its node holds. The node's counted
   * records drop by one; if its KSM page is gone (stale), all of them drop at once.
   */
  unlist(gp: number): void {
    const node = this.recNode[gp]
    if (node < 0) return
    this.recNode[gp] = -1
    const n = this.snRmap[node]
    if (this.snFrame[node] === STALE) {
      // get_ksm_page finds the page freed: remove_node_from_stable_tree drops every record.
      if (n > 0) {
        this.pages_shared--
        this.pages_sharing -= n - 1
        this.snRmap[node] = 0
      }
    } else {
      this.snRmap[node] = n - 1
      if (n - 1 > 0) this.pages_sharing--
      else this.pages_shared--
    }
    if (--this.snRefs[node] === 0 && this.snFrame[node] === STALE) this.freeIds.push(node)
  }

  /** stable_tree_append: page gp's record is listed from node (its page now maps node's frame). */
  private list(gp: number, node: number): void {
    if (this.recNode[gp] >= 0) this.unlist(gp)
    this.recNode[gp] = node
    this.snRefs[node]++
    if (this.snRmap[node]++ > 0) this.pages_sharing++
    else this.pages_shared++
  }

  /** Whether tenant isolation salts the keys. */
  get isolated(): boolean {
    return this.salt !== null
  }

  /**
   * The high word of page gp's key for content high word `hi`: the content itself, or under
   * tenant isolation the content XOR its tenant's salt. Every tree and hash table uses it.
   */
  keyHi(gp: number, hi: number): number {
    const salt = this.salt
    return salt === null ? hi : (hi ^ salt[(this.tenantOf as Uint8Array)[gp]]) >>> 0
  }

  /** Whether pages a and b may be merged: always, unless isolation keeps their tenants apart. */
  mayMerge(a: number, b: number): boolean {
    const t = this.tenantOf
    return this.salt === null || (t as Uint8Array)[a] === (t as Uint8Array)[b]
  }

  /**
   * try_to_merge_with_ksm_page + stable_tree_append: map page gp onto the KSM page of `node`.
   * Returns false (and merges nothing) when tenant isolation forbids it.
   */
  mergeInto(gp: number, node: number): boolean {
    const mem = this.mem
    const kf = this.snFrame[node]
    const t = this.tenantOf
    if (t !== null) {
      const own = t[gp] === this.snTenant[node]
      if (this.salt !== null && !own) return false
      // Another tenant's page is on it: the creator's tenant differs, or some mapping is not theirs.
      if (!own || mem.mapcountOf(kf) > this.snTenantMaps[node]) this.cross_tenant_merges++
      if (own) this.snTenantMaps[node]++
    }
    mem.freeFrame(mem.pageFrame[gp])
    mem.pageFrame[gp] = kf
    this.addMapping(kf)
    this.list(gp, node)
    this.merges++
    return true
  }

  /**
   * try_to_merge_two_pages + stable_tree_insert: page `gpNew` becomes a KSM page in place and
   * `gpTree` is mapped onto it. Both pages must hold equal content and be private. Returns the
   * new node, or -1 (nothing merged) when tenant isolation forbids it.
   */
  mergeTwo(gpTree: number, gpNew: number): number {
    const mem = this.mem
    const t = this.tenantOf
    const same = t === null || t[gpTree] === t[gpNew]
    if (!same && this.salt !== null) return -1
    const kf = mem.pageFrame[gpNew]
    const node = this.insert(kf, this.keyHi(gpNew, mem.hi(kf)))
    mem.setKsmNode(kf, node)
    if (t !== null) {
      this.snTenant[node] = t[gpNew]
      this.snTenantMaps[node] = same ? 2 : 1
      if (!same) this.cross_tenant_merges++
    }
    this.ksmPages++
    mem.freeFrame(mem.pageFrame[gpTree])
    mem.pageFrame[gpTree] = kf
    this.addMapping(kf)
    // The tree page's record first, then the scanned page's, as cmp_and_merge_page appends them.
    this.list(gpTree, node)
    this.list(gpNew, node)
    this.merges += 2
    return node
  }

  /**
   * use_zero_pages: map private page gp, which holds zeros, to the kernel zero page. Counted in
   * ksm_zero_pages, not in pages_sharing; not a merge between tenants (the zero page is the
   * kernel's, and every tenant knows its content).
   */
  mergeZero(gp: number): void {
    const c = this.mem.mapZero(gp)
    this.ksm_zero_pages++
    if (c >= 2) this.sharedGuestPages += c === 2 ? 2 : 1
  }

  private addMapping(kf: number): void {
    const c = this.mem.incMap(kf)
    this.savedPages++
    this.sharedGuestPages += c === 2 ? 2 : 1
  }

  /** stable_tree_insert: a new KSM frame; joins (or makes) a chain if its content is already there. */
  private insert(kf: number, hi: number): number {
    const lo = this.mem.lo(kf)
    const dup = this.allocId()
    this.snFrame[dup] = kf
    // stable_tree_insert walks the tree again (chains met are walked by chain(), no pruning).
    this.walkPrune = false
    const existing = this.tree.searchInsert(dup, hi, lo)
    if (existing < 0) return dup
    // Same content already in the tree: its KSM pages are full. Chain them.
    let chain = existing
    if (this.snFrame[existing] >= 0) {
      chain = this.allocId()
      this.snIsChain[chain] = 1
      this.snPruneMs[chain] = this.nowMs // alloc_stable_node_chain: chain_prune_time = jiffies
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
    if (kf === mem.zeroFrame) {
      const z = mem.unmapZero()
      this.ksm_zero_pages--
      if (z >= 1) this.sharedGuestPages -= z === 1 ? 2 : 1
      return
    }
    if (this.tenantOf !== null) {
      const node = mem.ksmNode(kf)
      if (this.tenantOf[gp] === this.snTenant[node]) this.snTenantMaps[node]--
    }
    const c = mem.decMap(kf)
    if (c >= 1) {
      this.savedPages--
      this.sharedGuestPages -= c === 1 ? 2 : 1
    } else {
      // The last mapping is gone: the KSM page is freed and its node is stale (it leaves the
      // tree here; its records leave the counters when one of them is next visited).
      this.removeNode(mem.ksmNode(kf))
      mem.freeFrame(kf)
      this.ksmPages--
    }
    // ESX: the fault handler updates the shared frame's count at once.
    if (!this.countAtVisit) this.unlist(gp)
    // The writer's page table entry is remapped to a private frame by HostMemory.write.
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
        this.snIsChain[chain] = 0
        this.stable_node_chains--
        this.freeIds.push(chain)
      }
    }
    this.snFrame[node] = STALE
    if (this.snRefs[node] === 0) this.freeIds.push(node)
  }

  /**
   * Checks the sysfs counters against the records listed from each node (invariants.ts): every
   * page on a KSM frame is listed from its node, a node counts all records pointing at it until
   * it is found stale, and pages_shared / pages_sharing are the per-node sums. Returns a problem
   * or null.
   */
  checkRecords(): string | null {
    const refs = new Int32Array(this.nIds)
    const mem = this.mem
    for (let gp = 0; gp < this.recNode.length; gp++) {
      const node = this.recNode[gp]
      const f = mem.pageFrame[gp]
      if (f >= 0 && f !== mem.zeroFrame && mem.ksmNode(f) >= 0 && node !== mem.ksmNode(f)) return `guest page ${gp} maps KSM page ${f} of node ${mem.ksmNode(f)} but its record is listed from ${node}`
      if (node >= 0) refs[node]++
    }
    let shared = 0
    let sharing = 0
    for (let id = 0; id < this.nIds; id++) {
      if (refs[id] !== this.snRefs[id]) return `node ${id}: ${this.snRefs[id]} records point at it by its count, ${refs[id]} by the records`
      const n = this.snRmap[id]
      if (n !== refs[id] && !(this.snFrame[id] === STALE && n === 0)) return `node ${id}: ${n} records counted, ${refs[id]} listed`
      if (n > 0) {
        shared++
        sharing += n - 1
      }
    }
    if (shared !== this.pages_shared) return `pages_shared is ${this.pages_shared} but ${shared} nodes have listed records`
    if (sharing !== this.pages_sharing) return `pages_sharing is ${this.pages_sharing} but the nodes' listed records say ${sharing}`
    if (!this.countAtVisit && (shared !== this.ksmPages || sharing !== this.savedPages)) return `counters updated at the fault (${shared}, ${sharing}) differ from the mappings (${this.ksmPages}, ${this.savedPages})`
    return null
  }

  /** Every KSM frame as (node id, frame), for invariant checks. */
  forEachKsmFrame(fn: (node: number, frame: number) => void): void {
    for (let id = 0; id < this.nIds; id++) {
      const f = this.snFrame[id]
      if (f >= 0 && this.mem.ksmNode(f) === id) fn(id, f)
    }
  }

  byteSize(): number {
    return this.snFrame.byteLength * 5 + this.snFrame.length * 14 + (this.tenantOf ? this.tenantOf.byteLength : 0)
  }
}

/** The tenants of a lane's guest pages: an index per page (0..count-1) and the isolation policy. */
export interface TenantSetup {
  of: Uint8Array
  count: number
  isolate: boolean
}

/** One salt per tenant index: distinct, non-zero, the same on every host. */
export function tenantSalts(count: number): Uint32Array {
  const s = new Uint32Array(count)
  const seen = new Set<number>()
  for (let i = 0; i < count; i++) {
    let v = (hash32(0x5a17, i + 1) | 1) >>> 0
    while (seen.has(v)) v = (hash32(v, i) | 1) >>> 0
    seen.add(v)
    s[i] = v
  }
  return s
}
