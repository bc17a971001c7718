/**
 * Office documents: each VM opens `documents` documents (a whole file read into the page cache
 * per open) at `opens_per_s` per second of work, in an order of its own. A document is
 * `header_pages` pages of its template (the file header, styles, embedded fonts: the same bytes
 * in every document made from that template, in every VM) followed by its body (about
 * `body_pages` pages, log-normal, its own bytes). Documents come from `templates` templates.
 *
 * Most documents are the VM's own (its user's files: a path only that VM has, own bodies), so
 * the shared headers sit at different paths: the hint method, which matches (path, offset),
 * misses them, and only a content scanner finds them (the paper's case 4, and its closing idea
 * of treating such file formats specially). A `common_fraction` of the documents lie in a folder
 * every VM mounts at the same path with the same bytes (case 1: hints find those).
 */
import { hash32, hashString, Rng } from '../../machine/rng.ts'
import { shuffled } from './cases.ts'
import { NS_OFFICE_COMMON, NS_OFFICE_OWN, ownPathId, pathId } from './paths.ts'
import { QUANTUM_S, type VmContext, type Workload } from './workload.ts'

export interface OfficeDocsParams {
  documents: number
  header_pages: number
  body_pages: number
  templates: number
  common_fraction: number
  opens_per_s: number
}

const OFFICE_CONTENT = hashString('office-docs/common')
const TEMPLATE_CONTENT = hashString('office-docs/template')
/** Spread (sigma) of the log-normal body size around body_pages. */
const BODY_SPREAD = 0.6

/** Content key of template t's pages (the same in every VM and document). */
export function templateKey(t: number): number {
  return hash32(TEMPLATE_CONTENT, t)
}

export class OfficeDocsWorkload implements Workload {
  readonly kind = 'office-docs'
  private readonly fileIds: Int32Array
  private readonly order: Int32Array
  private opened = 0
  private credit = 0

  constructor(
    private readonly ctx: VmContext,
    private readonly p: OfficeDocsParams
  ) {
    const files = ctx.guest.files
    const { rng } = ctx
    const common = Math.round(p.common_fraction * p.documents)
    this.fileIds = new Int32Array(p.documents)
    for (let d = 0; d < p.documents; d++) {
      const isCommon = d < common
      // A common document is the same file everywhere: its size and template come from a
      // stream of its own, not the VM's.
      const src = isCommon ? new Rng(OFFICE_CONTENT, d) : rng
      const body = Math.max(1, src.lognormalInt(p.body_pages, BODY_SPREAD))
      const template = src.int(p.templates)
      const path = isCommon ? pathId(NS_OFFICE_COMMON, d) : ownPathId(NS_OFFICE_OWN, ctx.vmIndex, d)
      const content = isCommon ? hash32(OFFICE_CONTENT, d) : hash32(ctx.salt, 0x0ff1, d)
      const id = files.add(path, content, p.header_pages + body, false)
      files.setPrefix(id, templateKey(template), p.header_pages)
      this.fileIds[d] = id
    }
    this.order = shuffled(p.documents, rng)
  }

  cpuDemand(): number {
    return this.done() ? 0 : 1
  }

  step(): void {
    this.credit += this.p.opens_per_s * QUANTUM_S
    const guest = this.ctx.guest
    while (this.credit >= 1 && !this.done()) {
      this.credit--
      const f = this.fileIds[this.order[this.opened++]]
      guest.readFile(f, 0, guest.files.sizePages[f])
    }
  }

  done(): boolean {
    return this.opened >= this.p.documents
  }

  progress(): number {
    return this.opened / this.p.documents
  }
}
