/**
 * The invariants that matter most, checked on demand (`--check-invariants`, property tests):
 * - every guest page reads what its guest last wrote, whatever the scanners merged;
 * - every frame's map count equals the guest pages mapping it, and no mapped frame has count 0;
 * - only KSM frames (and the kernel zero page) are mapped more than once, and each KSM frame
 *   belongs to exactly one stable node; the zero page holds zeros and ksm_zero_pages maps it;
 * - KSM pages, their further mappings and the shared-page count equal what the mappings say;
 * - pages_shared and pages_sharing count the records listed from stable nodes (sysfs); no
 *   page is counted both unshared and shared (pages_volatile before its clamp is not negative);
 * - the hint stack's counts add up; the stable tree is a valid red-black tree.
 */
import type { HintStack } from '../machine/hintstack.ts'
import { ZERO_FP_HI, ZERO_FP_LO } from '../machine/content.ts'
import { FLAG_WP, FLAG_SHARED, FLAG_ZERO, type HostMemory } from '../machine/memory.ts'
import type { Scanner } from '../scanners/scanner.ts'
import type { StableTree } from '../machine/stable.ts'

export class InvariantError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InvariantError'
  }
}

function hex(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0')
}

/** Throws InvariantError, prefixed with `where`, on the first violation found. */
export function checkMemoryInvariants(where: string, mem: HostMemory, stable: StableTree, scanner: Scanner | null, hints: HintStack | null): void {
  const shadow = mem.shadow
  if (!shadow) throw new InvariantError(`${where}: invariants need the shadow copy of guest writes (create the memory with keepShadow)`)
  const fail = (msg: string): never => {
    throw new InvariantError(`${where}: ${msg}`)
  }
  const counts = new Uint32Array(mem.frameCapacity)
  const buf = new Uint32Array(2)
  for (let gp = 0; gp < mem.totalPages; gp++) {
    mem.read(gp, buf)
    if (buf[0] !== shadow[2 * gp] || buf[1] !== shadow[2 * gp + 1]) {
      fail(`guest page ${gp} reads content ${hex(buf[0], buf[1])} but its guest last wrote ${hex(shadow[2 * gp], shadow[2 * gp + 1])}`)
    }
    const f = mem.pageFrame[gp]
    if (f >= 0) counts[f]++
  }
  let ksmFrames = 0
  let sharing = 0
  let sharedGuestPages = 0
  let inUse = 0
  for (let f = 0; f < mem.frameCapacity; f++) {
    const c = counts[f]
    if (c !== mem.mapcountOf(f)) fail(`frame ${f} has map count ${mem.mapcountOf(f)} but ${c} guest pages map it`)
    if (c === 0) continue
    const zero = mem.hi(f) === ZERO_FP_HI && mem.lo(f) === ZERO_FP_LO
    if (((mem.flags[f] & FLAG_ZERO) !== 0) !== zero || ((mem.flags[f] & FLAG_SHARED) !== 0) !== c >= 2 || ((mem.flags[f] & FLAG_WP) !== 0) !== (mem.ksmNode(f) >= 0 || f === mem.zeroFrame)) {
      fail(`frame ${f}: its statistics flags (${mem.flags[f]}) disagree with its content and map count`)
    }
    inUse++
    if (c >= 2) sharedGuestPages += c
    if (f === mem.zeroFrame) {
      if (!zero) fail(`the kernel zero page (frame ${f}) holds ${hex(mem.hi(f), mem.lo(f))}`)
      if (c !== stable.ksm_zero_pages) fail(`ksm_zero_pages is ${stable.ksm_zero_pages} but ${c} guest pages map the zero page`)
    } else if (mem.ksmNode(f) >= 0) {
      ksmFrames++
      sharing += c - 1
    } else if (c > 1) {
      fail(`frame ${f} is mapped ${c} times but is not a KSM page`)
    }
  }
  if (mem.zeroFrame < 0 && stable.ksm_zero_pages !== 0) fail(`ksm_zero_pages is ${stable.ksm_zero_pages} but no page maps the zero page`)
  let nodes = 0
  stable.forEachKsmFrame(() => nodes++)
  const eq = (what: string, got: number, want: number): void => {
    if (got !== want) fail(`${what} is ${got} but the mappings say ${want}`)
  }
  eq('frames in use', mem.framesInUse, inUse)
  eq('KSM pages in use', stable.ksmPages, ksmFrames)
  eq('stable nodes owning a KSM page', nodes, ksmFrames)
  eq('further mappings of KSM pages', stable.savedPages, sharing)
  const records = stable.checkRecords()
  if (records !== null) fail(records)
  eq('guest pages on shared frames', stable.sharedGuestPages, sharedGuestPages)
  if (scanner && scanner.pages_unshared < 0) fail(`pages_unshared is ${scanner.pages_unshared}`)
  // pages_volatile = records - shared - sharing - unshared is clamped at 0 in sysfs; before the
  // clamp it is never negative unless a page is counted unshared twice, or unshared and shared.
  if (scanner && scanner.records - stable.pages_shared - stable.pages_sharing - scanner.pages_unshared < 0) {
    fail(`records (${scanner.records}) < pages_shared + pages_sharing + pages_unshared (${stable.pages_shared} + ${stable.pages_sharing} + ${scanner.pages_unshared}): a page is counted twice`)
  }
  if (hints) eq('hint stack depth', hints.depth, hints.pushed - hints.popped - hints.dropped)
  if (stable.tree.checkShape() < 0) fail('the stable tree is not a valid red-black tree')
}
