/**
 * `samepage place PLAN.json [--json] [--out DIR] [--run]`: Memory Buddies' placement of a
 * `samepage-lab/placement@1` plan (src/core/analysis/placement.ts). The VMs are booted together in one
 * lane without a scanner (each VM draws from its own seeded stream, as in any experiment) and run
 * for `fingerprint.at_s`; each VM's present pages are then fingerprinted. --out writes the report
 * and one experiment file per host of the sharing-aware placement (each runs alone, e.g. with
 * `samepage run`, or as a sweep point); --run runs those experiments here and reports each lane's
 * measured saving beside the estimate.
 */
import { readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { EXPERIMENT_SCHEMA_ID, parseExperiment, type Experiment } from '../core/experiment/config.ts'
import { Engine } from '../core/experiment/engine.ts'
import { bloomSize, EXACT_PAGES_MAX, fingerprintVm, formatPlacement, hostExperiment, placementReport, validatePlacement, type Placement, type PlacementReport } from '../core/analysis/placement.ts'
import { loadAssets, withAbsoluteAssetPaths } from '../host/node/assets.ts'
import { writeResultDir, prepareResultDir, type ResultFile } from '../host/node/result-dir.ts'
import { ImageUsageError, usage, type ImageIo } from './image.ts'

const USAGE = 'usage: samepage place PLAN.json [--json] [--out DIR] [--run]'
/** Largest plan file read (a plan names its data files; it holds none). */
const MAX_PLAN_BYTES = 16 << 20

export interface HostRun {
  host: string
  saved_mib_estimate: number
  saved_mib_exact: number | null
  lanes: { name: string; saved_mib_final: number; sharing_ratio_final: number; cpu_percent_mean: number }[]
}

export async function cmdPlace(args: string[], io: ImageIo): Promise<number> {
  const { values, positionals } = usage('place', () =>
    parseArgs({ args, options: { json: { type: 'boolean' }, out: { type: 'string' }, run: { type: 'boolean' } }, allowPositionals: true })
  )
  if (positionals.length !== 1) throw new ImageUsageError(`place takes one PLAN.json, got ${positionals.length} (${USAGE})`)
  const file = positionals[0]
  const out = values.out === undefined ? undefined : prepareOut(values.out)
  const plan = readPlan(file)
  const baseDir = dirname(resolve(file))
  const report = fingerprintAndPlace(plan, baseDir)
  const runs = values.run ? runHosts(plan, report, baseDir, io) : undefined
  if (out !== undefined) await writeResultDir(out, placementFiles(plan, report, runs))
  if (values.json) io.stdout(JSON.stringify({ ...report, ...(runs ? { runs } : {}) }, null, 2) + '\n')
  else io.stdout(formatPlacement(report) + (runs ? formatRuns(runs) : ''))
  return 0
}

function prepareOut(dir: string): string {
  try {
    return prepareResultDir(dir, '--out')
  } catch (e) {
    throw new ImageUsageError((e as Error).message)
  }
}

/** The plan, validated; one line naming the first bad field otherwise. */
export function readPlan(file: string): Placement {
  let text: string
  try {
    if (statSync(file).size > MAX_PLAN_BYTES) throw new Error(`larger than ${MAX_PLAN_BYTES >> 20} MiB`)
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new ImageUsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw new ImageUsageError(`${file}: invalid JSON: ${(e as Error).message}`)
  }
  const r = validatePlacement(doc)
  if (!r.ok) {
    const more = r.issues.length > 1 ? ` (and ${r.issues.length - 1} more)` : ''
    throw new ImageUsageError(`${file}: ${r.issues[0].path}: ${r.issues[0].message}${more}`)
  }
  return r.plan
}

/** Boots the plan's VMs, fingerprints each VM's memory and places them both ways. */
export function fingerprintAndPlace(plan: Placement, baseDir: string): PlacementReport {
  const at = plan.fingerprint.at_s
  const config: Experiment = parseExperiment({
    schema: EXPERIMENT_SCHEMA_ID,
    name: `${plan.name} (fingerprints)`,
    seed: plan.seed,
    duration_s: Math.max(at, 0.01),
    sample_every_s: Math.max(at, 0.01),
    warmup: { boot: true, share: false },
    vms: plan.vms.map((v) => ({ ...v, start_s: 0 })),
    lanes: [{ name: 'none', scanner: { kind: 'none' } }]
  })
  const { assets, issues } = loadAssets(config, baseDir)
  if (issues.length > 0) throw new ImageUsageError(`${issues[0].path}: ${issues[0].message}`)
  const engine = new Engine(config, { assets })
  if (at > 0) engine.run()
  else engine.warmup()
  const lane = engine.lanes[0]
  const mem = lane.mem
  const maxPages = Math.max(...plan.vms.map((v) => v.memory_mib * 256))
  const { bits, k } = bloomSize(maxPages, plan.fingerprint.false_positive_rate)
  const total = plan.vms.reduce((n, v) => n + v.memory_mib * 256, 0)
  const exact = total <= EXACT_PAGES_MAX
  const prints = lane.vms.map((run, i) => {
    const g = run.guest
    const fps = new Uint32Array(g.nPages * 2)
    let n = 0
    for (let gfn = 0; gfn < g.nPages; gfn++) {
      const f = mem.pageFrame[g.base + gfn]
      if (f < 0) continue
      fps[n++] = mem.hi(f)
      fps[n++] = mem.lo(f)
    }
    return fingerprintVm(plan.vms[i], fps.subarray(0, n), bits, k, exact)
  })
  return placementReport(plan, prints)
}

/** Runs each host of the sharing-aware placement as its own experiment, one after the other. */
export function runHosts(plan: Placement, report: PlacementReport, baseDir: string, io: ImageIo): HostRun[] {
  return report.sharing_aware.hosts.map((h) => {
    const config = withAbsoluteAssetPaths(parseExperiment(hostExperiment(plan, h)), baseDir)
    const { assets, issues } = loadAssets(config, baseDir)
    if (issues.length > 0) throw new ImageUsageError(`${issues[0].path}: ${issues[0].message}`)
    if (io.stderrIsTTY) io.stderr(`place: running ${h.host} (${h.vms.length} VMs, ${plan.run.duration_s} s)\n`)
    const engine = new Engine(config, { assets })
    engine.run()
    const s = engine.summary(0)
    return {
      host: h.host,
      saved_mib_estimate: h.saved_mib_estimate,
      saved_mib_exact: h.saved_mib_exact,
      lanes: s.lanes.map((l) => ({ name: l.name, saved_mib_final: l.saved_mib.final, sharing_ratio_final: l.sharing_ratio.final, cpu_percent_mean: l.cpu_percent.mean }))
    }
  })
}

function formatRuns(runs: HostRun[]): string {
  const lines = ['', 'per-host runs (sharing-aware placement):']
  for (const r of runs) {
    const lanes = r.lanes.map((l) => `${l.name} saved ${l.saved_mib_final.toFixed(1)} MiB (CPU ${l.cpu_percent_mean.toFixed(2)} %)`).join('; ')
    lines.push(`  ${r.host}: estimate ${r.saved_mib_estimate.toFixed(1)} MiB, exact ${r.saved_mib_exact === null ? '-' : r.saved_mib_exact.toFixed(1)} MiB; ${lanes}`)
  }
  return lines.join('\n') + '\n'
}

/** placement.json (the report), one experiment per host, and runs.json after --run. */
function placementFiles(plan: Placement, report: PlacementReport, runs: HostRun[] | undefined): ResultFile[] {
  const files: ResultFile[] = [['placement.json', JSON.stringify(report, null, 2) + '\n']]
  for (const h of report.sharing_aware.hosts) files.push([`host-${h.host}.samepage.json`, JSON.stringify(hostExperiment(plan, h), null, 2) + '\n'])
  if (runs) files.push(['runs.json', JSON.stringify(runs, null, 2) + '\n'])
  return files
}
