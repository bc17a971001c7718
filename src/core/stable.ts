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
import type { HostMemory, KsmUnmapHook } from './memory.ts'
import { RbTree } from './rbtree.ts'
import { hash32 } from './rng.ts'

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
  /** For a plain node or dup: the tenant of the page that made it, and its mappings of that tenant. */
  private snTenant: Uint8Array
  private snTenantMaps: Int32Array
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
  /** Merges that put pages of two tenants on one KSM page (0 under isolation). */
  cross_tenant_merges = 0
  /** Guest pages mapped to the kernel zero page (sysfs ksm_zero_pages). */
  ksm_zero_pages = 0
  /** Tenant index per guest page, or null when all VMs have one tenant. */
  readonly tenantOf: Uint8Array | null
  /** Salt per tenant index under isolation, else null. */
  private readonly salt: Uint32Array | null
  /** Called when a page leaves a KSM frame by CoW (scanners drop their record's stable state). */
  onUnmap: ((gp: number) => void) | null = null
  private lastPruneMs = -Infinity

  constructor(
    private readonly mem: HostMemory,
    readonly maxPageSharing: number = MAX_PAGE_SHARING_DEFAULT,
    private readonly pruneMs: number = CHAINS_PRUNE_MS_DEFAULT,
    tenants: TenantSetup | null = null
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
      this.snTenantMaps = g(this.snTenantMaps)
      const t = new Uint8Array(cap)
      t.set(this.snTenant)
      this.snTenant = t
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
    this.pages_shared++
    mem.freeFrame(mem.pageFrame[gpTree])
    mem.pageFrame[gpTree] = kf
    this.addMapping(kf)
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
    this.pages_sharing++
    this.sharedGuestPages += c === 2 ? 2 : 1
  }

  /** stable_tree_insert: a new KSM frame; joins (or makes) a chain if its content is already there. */
  private insert(kf: number, hi: number): number {
    const lo = this.mem.lo(kf)
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
    if (kf === mem.zeroFrame) {
      const z = mem.unmapZero()
      this.ksm_zero_pages--
      if (z >= 1) this.sharedGuestPages -= z === 1 ? 2 : 1
      if (this.onUnmap) this.onUnmap(gp)
      return
    }
    if (this.tenantOf !== null) {
      const node = mem.ksmNode(kf)
      if (this.tenantOf[gp] === this.snTenant[node]) this.snTenantMaps[node]--
    }
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
