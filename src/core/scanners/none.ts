/** No scanner: the host without page sharing (the paper's Figure 1 baseline, "KSM off"). */
import { OpCounts } from '../machine/cost.ts'
import type { Scanner } from './scanner.ts'

export class NoScanner implements Scanner {
  readonly kind = 'none'
  readonly wantsAttributes = false
  nextWake = Infinity
  readonly ops = new OpCounts()
  readonly cpuNs = 0
  pages_scanned = 0
  full_scans = 0
  pages_unshared = 0
  records = 0
  pages_skipped = 0
  wake(): void {
    this.nextWake = Infinity
  }
  beginSettle(): void {}
  converged(): boolean {
    return true
  }
  byteSize(): number {
    return 0
  }
}
