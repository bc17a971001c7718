/**
 * Files an experiment refers to: real images (`vms[i].image_file`), memory snapshots
 * (`vms[i].snapshot_file`) and traces (`vms[i].workload.file` of a `trace` workload). The core
 * reads no files: a host (the CLI, the Node session worker) reads them and hands their parsed
 * content to the engine as `Assets`, keyed by the path string exactly as the config writes it.
 * This module lists what a config needs and checks the assets against it, with issues named by
 * field path like any config problem.
 */
import { assetRefs } from './asset-refs.ts'
import type { ConfigIssue, Experiment } from './config.ts'
import { CpuProfileFormatError, parseCpuProfileFile } from '../machine/profile.ts'
import type { CpuProfile } from '../machine/cost.ts'
import { decodeImage, ImageFormatError, IMAGE_SCHEMA, type ImageIndex } from '../formats/image.ts'
import { decodeSnapshot, headerSchema, SnapshotFormatError, SNAPSHOT_SCHEMA, snapshotStats, type Snapshot } from '../formats/snapshot.ts'
import { firstGfnPast, parseTrace, TraceFormatError, traceVmStats, type Trace } from '../formats/trace.ts'

export type Asset = { kind: 'image'; index: ImageIndex } | { kind: 'snapshot'; snapshot: Snapshot } | { kind: 'trace'; trace: Trace } | { kind: 'cpu-profile'; profile: CpuProfile }
export type AssetKind = Asset['kind']
/** Parsed files by the config's path string. */
export type Assets = Map<string, Asset>

export { assetRefs, type AssetRef } from './asset-refs.ts'

/** The message for a host that cannot read files (web mode). */
export const NO_FILES_MESSAGE = 'this host cannot read files (web mode): run it in the desktop app or with `samepage run`'

/**
 * Parses a file's bytes as the asset `kind`; throws an Error with one clear line. `name` is the
 * file's name for messages. With `quote` false the message says where the problem is but shows
 * nothing read from the file (the desktop app: a page must not learn a file's bytes from an error).
 */
export function decodeAsset(kind: AssetKind, bytes: Uint8Array, name: string, quote = true): Asset {
  try {
    if (kind === 'cpu-profile') return { kind, profile: parseCpuProfileFile(new TextDecoder().decode(bytes), name) }
    if (kind === 'trace') return { kind, trace: parseTrace(new TextDecoder('utf-8', { fatal: false }).decode(bytes), name) }
    const schema = headerSchema(bytes)
    if (kind === 'image') {
      if (schema === SNAPSHOT_SCHEMA) throw new ImageFormatError(`${name} is a memory snapshot (${SNAPSHOT_SCHEMA}): use snapshot_file`)
      return { kind, index: decodeImage(bytes) }
    }
    if (schema === IMAGE_SCHEMA) throw new SnapshotFormatError(`${name} is a guest image (${IMAGE_SCHEMA}): use image_file`)
    return { kind, snapshot: decodeSnapshot(bytes) }
  } catch (e) {
    if (e instanceof CpuProfileFormatError || e instanceof ImageFormatError || e instanceof SnapshotFormatError || e instanceof TraceFormatError) {
      if (!quote) throw new Error(contentFreeMessage(kind, name, e instanceof TraceFormatError ? e.where : null), { cause: e })
      const msg = e.message
      throw new Error(msg.startsWith(name) ? msg : `${name}: ${msg}`)
    }
    throw e
  }
}

/** A file that did not parse, said without any of its bytes (`samepage run` gives the details). */
export function contentFreeMessage(kind: AssetKind, name: string, where: { line: number; field: string } | null): string {
  const what = kind === 'trace' ? 'trace' : kind === 'image' ? 'guest image' : 'memory snapshot'
  const at = where ? ` (line ${where.line}${where.field ? `, field ${where.field}` : ''})` : ''
  return `${name} is not a valid ${what}${at}; \`samepage run\` on this experiment shows the details`
}

/**
 * Problems of the assets for this config: a file missing or of the wrong kind, a working-set
 * path not in the image, a snapshot larger than the VM's memory, a trace with no lines for the
 * VM or naming a gfn past its memory. Empty when the engine can run.
 */
export function checkAssets(config: Experiment, assets: Assets | undefined): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  for (const ref of assetRefs(config)) {
    const a = assets?.get(ref.file)
    if (!a) {
      issues.push({ path: ref.field, message: assets ? `${ref.file} was not loaded` : `${ref.file}: ${NO_FILES_MESSAGE}` })
      continue
    }
    if (a.kind !== ref.kind) {
      issues.push({ path: ref.field, message: `${ref.file} is ${an(a.kind)}, not ${an(ref.kind)}` })
      continue
    }
    if (ref.vm < 0) continue
    const vm = config.vms[ref.vm]
    const pages = vm.memory_mib * 256
    if (a.kind === 'image' && vm.working_set) {
      const have = new Set(a.index.files.map((f) => f.path))
      vm.working_set.forEach((p, j) => {
        if (!have.has(p)) issues.push({ path: `vms[${ref.vm}].working_set[${j}]`, message: `${p} is not a file of ${ref.file}` })
      })
    } else if (a.kind === 'snapshot') {
      const st = snapshotStats(a.snapshot)
      if (st.end_gfn > pages) {
        issues.push({ path: ref.field, message: `${ref.file} holds guest memory up to ${mib(st.end_gfn)} MiB; memory_mib is ${vm.memory_mib}` })
      }
    } else if (a.kind === 'trace') {
      const w = vm.workload
      const name = w.kind === 'trace' ? (w.vm ?? vm.name) : vm.name
      const st = traceVmStats(a.trace).get(name)
      if (!st) {
        const field = w.kind === 'trace' && w.vm !== undefined ? `vms[${ref.vm}].workload.vm` : ref.field
        issues.push({ path: field, message: `${ref.file} has no lines for VM "${name}" (its VMs: ${a.trace.vms.slice(0, 8).join(', ') || 'none'})` })
      } else if (st.maxGfn >= pages) {
        // The first such line, named like a format error: the file, the line, the field.
        const i = firstGfnPast(a.trace, name, pages)
        issues.push({ path: ref.field, message: `${ref.file} line ${a.trace.line[i]}: gfn: ${a.trace.gfn[i]} of VM "${name}" is past the VM's ${pages} pages (memory_mib ${vm.memory_mib})` })
      }
    }
  }
  return issues
}

const an = (kind: AssetKind): string => (kind === 'image' ? 'an image' : kind === 'cpu-profile' ? 'a CPU profile' : `a ${kind}`)

function mib(pages: number): string {
  return String(Math.ceil((pages / 256) * 100) / 100)
}
