// A bare host for scanner tests: memory, the stable tree and one scanner, with guest pages
// written directly (no guest OS), so a test controls exactly what each page holds.
import { synthFp } from '../src/core/machine/content.ts'
import { XEON_X5560, type CpuProfile } from '../src/core/machine/cost.ts'
import { HintStack } from '../src/core/machine/hintstack.ts'
import { checkMemoryInvariants } from '../src/core/experiment/invariants.ts'
import { HostMemory } from '../src/core/machine/memory.ts'
import { HintScanner } from '../src/core/scanners/hint.ts'
import { Rng } from '../src/core/machine/rng.ts'
import { EsxScanner } from '../src/core/scanners/esx.ts'
import { HybridScanner } from '../src/core/scanners/hybrid.ts'
import { KsmScanner, type KsmParams } from '../src/core/scanners/ksm.ts'
import { XlhScanner } from '../src/core/scanners/xlh.ts'
import { StableTree, type TenantSetup } from '../src/core/machine/stable.ts'

export const fp = (v: number): [number, number] => {
  const out = new Uint32Array(2)
  synthFp(out, 0xc0ffee, v, 0)
  return [out[0], out[1]]
}

/**
 * n visits of KSM's walk across pass ends, as consecutive wake-ups make them (a pass end returns
 * from ksm_do_scan, the next call starts the new pass); stops early if the walk finds no page.
 */
export function visit(walk: KsmScanner, n: number): number {
  let done = 0
  let idle = 0
  while (done < n && idle < 16) {
    const got = walk.scanPages(n - done)
    done += got
    idle = got === 0 ? idle + 1 : 0
  }
  return done
}

export class KsmRig {
  readonly mem: HostMemory
  readonly stable: StableTree
  readonly ksm: KsmScanner

  constructor(pages: number, opts: { pagesToScan?: number; maxPageSharing?: number; pruneMs?: number; tenants?: readonly number[]; isolate?: boolean; ksm?: Partial<KsmParams>; profile?: CpuProfile } = {}) {
    this.mem = new HostMemory(pages, true)
    this.stable = new StableTree(this.mem, opts.maxPageSharing ?? 256, opts.pruneMs ?? 0, rigTenants(opts.tenants, opts.isolate ?? false))
    this.ksm = new KsmScanner(this.mem, this.stable, opts.profile ?? XEON_X5560, { pages_to_scan: opts.pagesToScan ?? pages, sleep_millisecs: 20, ...opts.ksm })
  }

  write(gp: number, v: number): void {
    const [hi, lo] = fp(v)
    this.mem.write(gp, hi, lo)
  }

  writeRaw(gp: number, hi: number, lo: number): void {
    this.mem.write(gp, hi, lo)
  }

  /** The rest of the current pass: every present page from the cursor on, then the pass ends. */
  pass(): void {
    this.ksm.scanPages(this.mem.totalPages + 1)
  }

  check(): void {
    checkMemoryInvariants('rig', this.mem, this.stable, this.ksm, null)
  }

  volatile(): number {
    return Math.max(0, this.ksm.records - this.stable.pages_shared - this.stable.pages_sharing - this.ksm.pages_unshared)
  }
}

export class HintRig {
  readonly mem: HostMemory
  readonly stable: StableTree
  readonly stack: HintStack
  readonly scanner: HintScanner

  constructor(pages: number, opts: RigOpts = {}) {
    this.mem = new HostMemory(pages, true)
    this.stable = new StableTree(this.mem, opts.maxPageSharing ?? 256, opts.pruneMs ?? 0, rigTenants(opts.tenants, opts.isolate ?? false))
    this.stack = new HintStack(opts.stack ?? 1024)
    this.scanner = new HintScanner(this.mem, this.stable, XEON_X5560, this.stack, {
      pages_to_scan: opts.pagesToScan ?? 100,
      sleep_millisecs: 20,
      hash_table_size: opts.table ?? 4096
    })
  }

  write(gp: number, v: number): void {
    const [hi, lo] = fp(v)
    this.mem.write(gp, hi, lo)
  }

  check(): void {
    checkMemoryInvariants('rig', this.mem, this.stable, this.scanner, this.stack)
  }
}

/** Tenants of a rig's pages: tenant index per page (omitted: one tenant). */
export function rigTenants(tenants: readonly number[] | undefined, isolate: boolean): TenantSetup | null {
  if (!tenants) return null
  return { of: Uint8Array.from(tenants), count: Math.max(...tenants) + 1, isolate }
}

export interface RigOpts {
  pagesToScan?: number
  stack?: number
  table?: number
  tenants?: readonly number[]
  isolate?: boolean
  maxPageSharing?: number
  /** stable_node_chains_prune_millisecs (default 0: a single-dup chain collapses at its next search). */
  pruneMs?: number
}

/** A host with the xlh scanner (hints pushed by the test stand in for disk I/O). */
export class XlhRig {
  readonly mem: HostMemory
  readonly stable: StableTree
  readonly stack: HintStack
  readonly scanner: XlhScanner

  constructor(pages: number, opts: RigOpts & { hintRatio?: number; linearRatio?: number; zeroPages?: boolean; smart?: boolean } = {}) {
    this.mem = new HostMemory(pages, true)
    this.stable = new StableTree(this.mem, opts.maxPageSharing ?? 256, opts.pruneMs ?? 0, rigTenants(opts.tenants, opts.isolate ?? false))
    this.stack = new HintStack(opts.stack ?? 1024)
    this.scanner = new XlhScanner(this.mem, this.stable, XEON_X5560, this.stack, {
      pages_to_scan: opts.pagesToScan ?? 100,
      sleep_millisecs: 20,
      hash_table_size: opts.table ?? 4096,
      use_zero_pages: opts.zeroPages ?? false,
      smart_scan: opts.smart ?? false,
      hint_ratio: opts.hintRatio ?? 1,
      linear_ratio: opts.linearRatio ?? 1
    })
  }

  write(gp: number, v: number): void {
    const [hi, lo] = fp(v)
    this.mem.write(gp, hi, lo)
  }

  check(): void {
    checkMemoryInvariants('xlh rig', this.mem, this.stable, this.scanner, this.stack)
  }
}

/** A host with the hybrid scanner (hints pushed by the test stand in for attribute matches). */
export class HybridRig {
  readonly mem: HostMemory
  readonly stable: StableTree
  readonly stack: HintStack
  readonly scanner: HybridScanner

  constructor(pages: number, opts: RigOpts & { ksmShare?: number; zeroPages?: boolean; smart?: boolean } = {}) {
    this.mem = new HostMemory(pages, true)
    this.stable = new StableTree(this.mem, opts.maxPageSharing ?? 256, opts.pruneMs ?? 0, rigTenants(opts.tenants, opts.isolate ?? false))
    this.stack = new HintStack(opts.stack ?? 1024)
    this.scanner = new HybridScanner(this.mem, this.stable, XEON_X5560, this.stack, {
      pages_to_scan: opts.pagesToScan ?? 100,
      sleep_millisecs: 20,
      hash_table_size: opts.table ?? 4096,
      use_zero_pages: opts.zeroPages ?? false,
      smart_scan: opts.smart ?? false,
      ksm_share: opts.ksmShare ?? 0.2
    })
  }

  write(gp: number, v: number): void {
    const [hi, lo] = fp(v)
    this.mem.write(gp, hi, lo)
  }

  check(): void {
    checkMemoryInvariants('hybrid rig', this.mem, this.stable, this.scanner, this.stack)
  }
}

/** A host with the ESX scanner over `vms` VMs of equal size. */
export class EsxRig {
  readonly mem: HostMemory
  readonly stable: StableTree
  readonly scanner: EsxScanner

  constructor(pages: number, opts: RigOpts & { vms?: number; shareScanTime?: number; seed?: number } = {}) {
    this.mem = new HostMemory(pages, true)
    this.stable = new StableTree(this.mem, opts.maxPageSharing ?? 256, opts.pruneMs ?? 0, rigTenants(opts.tenants, opts.isolate ?? false), false)
    const vms = opts.vms ?? 2
    const base = new Int32Array(vms + 1)
    for (let v = 0; v <= vms; v++) base[v] = Math.floor((pages * v) / vms)
    this.scanner = new EsxScanner(this.mem, this.stable, XEON_X5560, base, new Rng(opts.seed ?? 1, 0xe5c), {
      pages_to_scan: opts.pagesToScan ?? 100,
      sleep_millisecs: 20,
      hash_table_size: opts.table ?? 4096,
      share_scan_time_s: opts.shareScanTime ?? 1
    })
  }

  write(gp: number, v: number): void {
    const [hi, lo] = fp(v)
    this.mem.write(gp, hi, lo)
  }

  check(): void {
    checkMemoryInvariants('esx rig', this.mem, this.stable, this.scanner, null)
  }
}

interface KsmInternals {
  rmapFlags: Uint8Array
  rmapSeq: Uint8Array
  seqnr: number
  unstable: { inorder(): number[]; isEmpty(): boolean }
}
interface HashInternals {
  tableGp: Int32Array
}
interface EsxInternals {
  hinted: Uint8Array
}

interface StableInternals {
  snFrame: Int32Array
  snChain: Int32Array
  snNext: Int32Array
  snDups: Int32Array
}
interface TreeInternals {
  nd: Uint32Array
}

/**
 * The stable tree's structure: keys strictly increasing in order (one node per content), each
 * plain node or dup owning a live KSM frame whose content is its key, chains holding two or more
 * dups (one only until pruned) that point back at them, and stable_node_chains/dups recounted.
 */
export function checkStableTree(st: StableTree, mem: HostMemory): void {
  const fail = (msg: string): never => {
    throw new Error(`stable tree: ${msg}`)
  }
  const s = st as unknown as StableInternals
  const nd = (st.tree as unknown as TreeInternals).nd
  let chains = 0
  let dups = 0
  let prevHi = -1
  let prevLo = -1
  const owned = new Set<number>()
  const own = (id: number): void => {
    const f = s.snFrame[id]
    if (f < 0 || mem.ksmNode(f) !== id) fail(`node ${id} does not own its frame ${f}`)
    if (mem.mapcountOf(f) < 1 || mem.mapcountOf(f) > st.maxPageSharing) fail(`node ${id}'s frame ${f} has ${mem.mapcountOf(f)} mappings`)
    owned.add(id)
  }
  for (const id of st.tree.inorder()) {
    const hi = nd[4 * (id + 1) + 2]
    const lo = nd[4 * (id + 1) + 3]
    if (hi < prevHi || (hi === prevHi && lo <= prevLo)) fail(`node ${id} is out of order`)
    prevHi = hi
    prevLo = lo
    if (s.snChain[id] >= 0) fail(`node ${id} is in the tree and in chain ${s.snChain[id]}`)
    if (s.snFrame[id] >= 0) {
      own(id)
      if (mem.lo(s.snFrame[id]) !== lo || (!st.isolated && mem.hi(s.snFrame[id]) !== hi)) fail(`node ${id}'s key is not its page's content`)
      continue
    }
    chains++
    let n = 0
    for (let d = s.snNext[id]; d >= 0; d = s.snNext[d]) {
      n++
      if (s.snChain[d] !== id) fail(`dup ${d} of chain ${id} points at chain ${s.snChain[d]}`)
      own(d)
      if (mem.lo(s.snFrame[d]) !== lo) fail(`dup ${d}'s content is not its chain's key`)
    }
    if (n !== s.snDups[id] || n < 1) fail(`chain ${id} has ${n} dups, counted ${s.snDups[id]}`)
    dups += n
  }
  if (chains !== st.stable_node_chains) fail(`stable_node_chains is ${st.stable_node_chains}, the tree has ${chains}`)
  if (dups !== st.stable_node_dups) fail(`stable_node_dups is ${st.stable_node_dups}, the chains hold ${dups}`)
  st.forEachKsmFrame((id) => {
    if (!owned.has(id)) fail(`KSM page of node ${id} is reachable from no tree node`)
  })
}

/**
 * Checks of scanner state the sysfs invariants do not see (read from private fields): KSM's
 * unstable tree holds private pages only and pages_unshared counts exactly its records there;
 * a hash table's pages_unshared counts its entries; pages_volatile before the clamp at 0 is
 * never negative (no page counted both shared and unshared, or twice unshared).
 */
export function deepCheck(r: KsmRig | HintRig | XlhRig | HybridRig | EsxRig): void {
  const mem = r.mem
  const fail = (msg: string): never => {
    throw new Error(`deep check: ${msg}`)
  }
  const checkKsm = (k: KsmScanner): void => {
    const ki = k as unknown as KsmInternals
    let unstable = 0
    for (let gp = 0; gp < mem.totalPages; gp++) if (ki.rmapFlags[gp] & 2) unstable++
    if (unstable !== k.pages_unshared) fail(`KSM pages_unshared is ${k.pages_unshared} but ${unstable} records are marked unstable`)
    if (k.pages_unshared > k.records) fail(`KSM pages_unshared ${k.pages_unshared} > records ${k.records}`)
    for (const gp of ki.unstable.inorder()) {
      const f = mem.pageFrame[gp]
      if (!(ki.rmapFlags[gp] & 2) || ki.rmapSeq[gp] !== ki.seqnr) fail(`page ${gp} is in the unstable tree without an unstable record of this pass`)
      if (f < 0 || f === mem.zeroFrame || mem.ksmNode(f) >= 0) fail(`page ${gp} in the unstable tree is not a private page (frame ${f})`)
    }
  }
  // Hash and hint entries: each a present private page (never a KSM page or the zero page), once.
  const entries = (a: Int32Array): number => {
    const seen = new Set<number>()
    for (const g of a) {
      if (g < 0) continue
      const f = mem.pageFrame[g]
      if (f < 0 || f === mem.zeroFrame || mem.ksmNode(f) >= 0) fail(`page ${g} has a hash entry but is not a private page (frame ${f})`)
      if (seen.has(g)) fail(`page ${g} has two hash entries`)
      seen.add(g)
    }
    return seen.size
  }
  let scanner: { records: number; pages_unshared: number }
  if (r instanceof KsmRig) {
    checkKsm(r.ksm)
    scanner = r.ksm
  } else if (r instanceof XlhRig || r instanceof HybridRig) {
    checkKsm(r.scanner.linear)
    const n = entries((r.scanner.hinted as unknown as HashInternals).tableGp)
    if (n !== r.scanner.hinted.pages_unshared) fail(`hash pages_unshared is ${r.scanner.hinted.pages_unshared} but the table has ${n} entries`)
    scanner = r.scanner
  } else if (r instanceof HintRig) {
    const n = entries((r.scanner as unknown as HashInternals).tableGp)
    if (n !== r.scanner.pages_unshared) fail(`hash pages_unshared is ${r.scanner.pages_unshared} but the table has ${n} entries`)
    scanner = r.scanner
  } else {
    const n = (r.scanner as unknown as EsxInternals).hinted.reduce((a, b) => a + b, 0)
    if (n !== r.scanner.pages_unshared) fail(`ESX pages_unshared is ${r.scanner.pages_unshared} but the table has ${n} entries`)
    scanner = r.scanner
  }
  checkStableTree(r.stable, mem)
  const v = scanner.records - r.stable.pages_shared - r.stable.pages_sharing - scanner.pages_unshared
  if (v < 0) fail(`pages_volatile before the clamp is ${v} (records ${scanner.records}, shared ${r.stable.pages_shared}, sharing ${r.stable.pages_sharing}, unshared ${scanner.pages_unshared})`)
}

/**
 * An oracle for cross_tenant_merges (docs/model.md, Tenant isolation): wraps the tree's merges and
 * counts, from the page tables, a page joining a KSM page that maps a page of another tenant or
 * was made by one, and a two-page merge across tenants. Returns the expected count so far.
 */
export function crossTenantOracle(st: StableTree, mem: HostMemory): () => number {
  const t = st.tenantOf
  let expected = 0
  if (!t) return () => expected
  const creator = new Map<number, number>() // KSM frame -> tenant of the page that made it
  const mixed = (kf: number, tenant: number): boolean => {
    if (creator.get(kf) !== tenant) return true
    for (let gp = 0; gp < mem.totalPages; gp++) if (mem.pageFrame[gp] === kf && t[gp] !== tenant) return true
    return false
  }
  const mergeInto = st.mergeInto.bind(st)
  const mergeTwo = st.mergeTwo.bind(st)
  st.mergeInto = (gp: number, node: number): boolean => {
    const kf = (st as unknown as StableInternals).snFrame[node]
    const cross = mixed(kf, t[gp])
    const ok = mergeInto(gp, node)
    if (ok && cross) expected++
    return ok
  }
  st.mergeTwo = (gpTree: number, gpNew: number): number => {
    const kf = mem.pageFrame[gpNew]
    const node = mergeTwo(gpTree, gpNew)
    if (node >= 0) {
      creator.set(kf, t[gpNew])
      if (t[gpTree] !== t[gpNew]) expected++
    }
    return node
  }
  return () => expected
}
