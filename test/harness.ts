// A bare host for scanner tests: memory, the stable tree and one scanner, with guest pages
// written directly (no guest OS), so a test controls exactly what each page holds.
import { synthFp } from '../src/core/content.ts'
import { XEON_X5560 } from '../src/core/cost.ts'
import { HintStack } from '../src/core/hintstack.ts'
import { checkMemoryInvariants } from '../src/core/invariants.ts'
import { HostMemory } from '../src/core/memory.ts'
import { HintScanner } from '../src/core/scanners/hint.ts'
import { KsmScanner } from '../src/core/scanners/ksm.ts'
import { StableTree } from '../src/core/stable.ts'

export const fp = (v: number): [number, number] => {
  const out = new Uint32Array(2)
  synthFp(out, 0xc0ffee, v, 0)
  return [out[0], out[1]]
}

export class KsmRig {
  readonly mem: HostMemory
  readonly stable: StableTree
  readonly ksm: KsmScanner

  constructor(pages: number, opts: { pagesToScan?: number; maxPageSharing?: number } = {}) {
    this.mem = new HostMemory(pages, true)
    this.stable = new StableTree(this.mem, opts.maxPageSharing ?? 256, 0)
    this.ksm = new KsmScanner(this.mem, this.stable, XEON_X5560, { pages_to_scan: opts.pagesToScan ?? pages, sleep_millisecs: 20 })
  }

  write(gp: number, v: number): void {
    const [hi, lo] = fp(v)
    this.mem.write(gp, hi, lo)
  }

  writeRaw(gp: number, hi: number, lo: number): void {
    this.mem.write(gp, hi, lo)
  }

  /** Visit every present page once: one full pass (the pass ends at the next visit). */
  pass(): void {
    this.ksm.scanPages(this.mem.presentPages)
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

  constructor(pages: number, opts: { stack?: number; pagesToScan?: number; table?: number } = {}) {
    this.mem = new HostMemory(pages, true)
    this.stable = new StableTree(this.mem, 256, 0)
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
