/**
 * Rows of the results table (Table 1 style), per lane: sharing ratio and saved MiB statistics,
 * mean scanner CPU, the sysfs counters, hints, CoW breaks, cross-tenant merges and the ratios
 * to the first lane.
 * While a run goes on they are computed from the samples so far; once the summary is there its
 * numbers are used (the engine's own mean CPU, counted over the exact simulated time).
 */
import type { LaneSummary, Summary } from '../../../core/experiment/engine.ts'
import { stat3, type Stat3 } from '../../../core/experiment/metrics.ts'
import type { LiveLane } from './liveLane.ts'

export interface ResultRow {
  name: string
  scanner: string
  /** From a saved result drawn for comparison. */
  saved: boolean
  /** That saved result's short name ('' for the run's own lanes). */
  savedFrom: string
  sharing: Stat3
  savedMib: Stat3
  cpuMean: number
  /** Pages the run saved: pages_sharing at the end minus at t = 0. */
  sharingGained: number
  /** Scanner CPU over the run per page it saved, ns; null when it saved none. */
  cpuNsPerSharedPage: number | null
  pages_shared: number
  pages_sharing: number
  pages_unshared: number
  pages_volatile: number
  full_scans: number
  hintsPushed: number
  hintsDropped: number
  cowBreaks: number
  /** Merges that put pages of two tenants on one frame (NaN for results saved before it existed). */
  crossTenant: number
  /** This lane's mean CPU / the first lane's (null when the first lane used none). */
  cpuVsFirst: number | null
  /** This lane's mean sharing ratio / the first lane's (null when the first shared nothing). */
  sharingVsFirst: number | null
}

type RowCore = Omit<ResultRow, 'cpuVsFirst' | 'sharingVsFirst' | 'savedFrom'>

/** Mean CPU % over the run from the per-interval samples, weighted by interval length. */
export function meanCpuFromSamples(t: ArrayLike<number>, cpu: ArrayLike<number>): number {
  let weighted = 0
  let span = 0
  for (let i = 1; i < t.length; i++) {
    const dt = t[i] - t[i - 1]
    if (dt > 0 && Number.isFinite(cpu[i])) {
      weighted += cpu[i] * dt
      span += dt
    }
  }
  return span > 0 ? weighted / span : 0
}

/**
 * Scanner CPU per page saved from the samples: CPU % integrated over the sampled time (ns)
 * over the growth of pages_sharing since the first sample; null when it did not grow.
 */
export function cpuPerSharedPageFromSamples(t: ArrayLike<number>, cpu: ArrayLike<number>, pagesSharing: ArrayLike<number>): { gained: number; nsPerPage: number | null } {
  const n = pagesSharing.length
  const gained = n > 0 ? pagesSharing[n - 1] - pagesSharing[0] : 0
  const span = n > 1 ? t[n - 1] - t[0] : 0
  const cpuNs = (meanCpuFromSamples(t, cpu) / 100) * span * 1e9
  return { gained, nsPerPage: gained > 0 ? cpuNs / gained : null }
}

function rowFromSamples(lane: LiveLane, saved: boolean): RowCore {
  const perPage = cpuPerSharedPageFromSamples(lane.column('t_s'), lane.column('cpu_percent'), lane.column('pages_sharing'))
  return {
    name: lane.name,
    scanner: lane.scanner,
    saved,
    sharing: stat3(lane.column('sharing_ratio')),
    savedMib: stat3(lane.column('saved_mib')),
    cpuMean: meanCpuFromSamples(lane.column('t_s'), lane.column('cpu_percent')),
    sharingGained: perPage.gained,
    cpuNsPerSharedPage: perPage.nsPerPage,
    pages_shared: lane.last('pages_shared'),
    pages_sharing: lane.last('pages_sharing'),
    pages_unshared: lane.last('pages_unshared'),
    pages_volatile: lane.last('pages_volatile'),
    full_scans: lane.last('full_scans'),
    hintsPushed: lane.last('hints_pushed'),
    hintsDropped: lane.last('hints_dropped'),
    cowBreaks: lane.last('cow_breaks'),
    crossTenant: lane.last('cross_tenant_merges')
  }
}

function rowFromSummary(s: LaneSummary, saved: boolean): RowCore {
  return {
    name: s.name,
    scanner: s.scanner,
    saved,
    sharing: s.sharing_ratio,
    savedMib: s.saved_mib,
    cpuMean: s.cpu_percent.mean,
    sharingGained: s.pages_sharing_gained,
    cpuNsPerSharedPage: s.cpu_ns_per_shared_page,
    pages_shared: s.pages_shared,
    pages_sharing: s.pages_sharing,
    pages_unshared: s.pages_unshared,
    pages_volatile: s.pages_volatile,
    full_scans: s.full_scans,
    hintsPushed: s.hints?.pushed ?? 0,
    hintsDropped: s.hints?.dropped ?? 0,
    cowBreaks: s.cow_breaks,
    crossTenant: s.cross_tenant_merges
  }
}

function ratio(a: number, b: number): number | null {
  return b > 0 && Number.isFinite(a) ? a / b : null
}

/** One part of the table: a run's lanes, from its summary when it has one (none before the first sample). */
function rowsOf(lanes: readonly LiveLane[], summary: Summary | null, saved: boolean): RowCore[] {
  const rows: RowCore[] = []
  for (const lane of lanes) {
    const s = summary?.lanes.find((l) => l.name === lane.name)
    if (s) rows.push(rowFromSummary(s, saved))
    else if (lane.length > 0) rows.push(rowFromSamples(lane, saved))
  }
  return rows
}

/** A saved result drawn with the run: its lanes, summary and short name. */
export interface SavedRows {
  lanes: readonly LiveLane[]
  summary: Summary
  name?: string
}

/**
 * The table: the run's lanes, then each shown saved result's (marked saved). Ratios are to
 * the first row of the run, so a saved lane compares with the same baseline.
 */
export function resultRows(lanes: readonly LiveLane[], summary: Summary | null, saved?: SavedRows | readonly SavedRows[] | null): ResultRow[] {
  const others: readonly SavedRows[] = saved == null ? [] : Array.isArray(saved) ? saved : [saved as SavedRows]
  const rows: (RowCore & { savedFrom: string })[] = rowsOf(lanes, summary, false).map((r) => ({ ...r, savedFrom: '' }))
  for (const o of others) for (const r of rowsOf(o.lanes, o.summary, true)) rows.push({ ...r, savedFrom: o.name ?? 'saved' })
  const first = rows[0]
  return rows.map((r) => ({
    ...r,
    cpuVsFirst: first ? ratio(r.cpuMean, first.cpuMean) : null,
    sharingVsFirst: first ? ratio(r.sharing.mean, first.sharing.mean) : null
  }))
}
