/**
 * The four cases that decide when the paper's hints help (its section 6, future work), as one
 * seeded workload. Each VM holds `files` files of `pages_per_file` pages and reads them all into
 * its page cache once, in an order of its own, at `read_pages_per_s` pages per second of work.
 * File i is in the same case in every VM, so file i of two VMs is the pair the case is about:
 *
 *   case                              path of file i             content of file i
 *   1 same path, same content         common (every VM alike)    common
 *   2 different path, diff. content   the VM's own               the VM's own
 *   3 same path, different content    common                     the VM's own
 *   4 different path, same content    the VM's own               common
 *
 * Hints come from equal paths (cases 1 and 3); sharing needs equal content (cases 1 and 4). So
 * the hint method shares case 1, scans case 3 for nothing, costs nothing on case 2 and misses
 * case 4, which only a content scanner (KSM) finds. The four weights give the share of the files
 * in each case (normalized by their sum); files are assigned in index order, case 1 first.
 */
import { hash32, hashString } from '../../machine/rng.ts'
import { FILE_CASES, type FileCase } from './names.ts'
import { NS_CASES_COMMON, NS_CASES_OWN, ownPathId, pathId } from './paths.ts'
import { QUANTUM_S, type VmContext, type Workload } from './workload.ts'

export { FILE_CASES, type FileCase }

export interface FileCasesParams extends Record<FileCase, number> {
  files: number
  pages_per_file: number
  read_pages_per_s: number
}

const CASES_CONTENT = hashString('file-cases/common-content')

/** Case index (0..3, FILE_CASES order) of each file: contiguous blocks in proportion to the weights. */
export function fileCaseOf(p: FileCasesParams): Uint8Array {
  const w = FILE_CASES.map((c) => p[c])
  const sum = w.reduce((a, b) => a + b, 0)
  const out = new Uint8Array(p.files)
  if (!(sum > 0)) throw new Error('file-cases: the four case weights sum to 0')
  let cum = 0
  let from = 0
  for (let c = 0; c < 4; c++) {
    cum += w[c]
    const to = c === 3 ? p.files : Math.round((cum / sum) * p.files)
    out.fill(c, from, to)
    from = to
  }
  return out
}

/** Fisher-Yates order of 0..n-1 from the VM's stream. */
export function shuffled(n: number, rng: { int(n: number): number }): Int32Array {
  const a = new Int32Array(n)
  for (let i = 0; i < n; i++) a[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const t = a[i]
    a[i] = a[j]
    a[j] = t
  }
  return a
}

export class FileCasesWorkload implements Workload {
  readonly kind = 'file-cases'
  private readonly fileIds: Int32Array
  private readonly order: Int32Array
  private next = 0
  private off = 0
  private credit = 0
  private read = 0
  private readonly total: number

  constructor(
    private readonly ctx: VmContext,
    private readonly p: FileCasesParams
  ) {
    const files = ctx.guest.files
    const cases = fileCaseOf(p)
    this.fileIds = new Int32Array(p.files)
    for (let i = 0; i < p.files; i++) {
      const c = cases[i]
      const commonPath = c === 0 || c === 2
      const commonContent = c === 0 || c === 3
      const path = commonPath ? pathId(NS_CASES_COMMON, i) : ownPathId(NS_CASES_OWN, ctx.vmIndex, i)
      const content = commonContent ? hash32(CASES_CONTENT, i) : hash32(ctx.salt, 0xca5e, i)
      this.fileIds[i] = files.add(path, content, p.pages_per_file, false)
    }
    this.order = shuffled(p.files, ctx.rng)
    this.total = p.files * p.pages_per_file
  }

  cpuDemand(): number {
    return this.done() ? 0 : 1
  }

  step(): void {
    this.credit += this.p.read_pages_per_s * QUANTUM_S
    const guest = this.ctx.guest
    while (this.credit >= 1 && !this.done()) {
      this.credit--
      guest.readFile(this.fileIds[this.order[this.next]], this.off, 1)
      this.read++
      if (++this.off === this.p.pages_per_file) {
        this.off = 0
        this.next++
      }
    }
  }

  done(): boolean {
    return this.read >= this.total
  }

  progress(): number {
    return this.read / this.total
  }
}
