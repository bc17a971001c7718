/**
 * `samepage kernel validate`'s verdicts: each scenario's comparison (compare.ts) against the
 * bands below, and the Markdown table of docs/kernel-validation.md. Pure.
 *
 * Bands (why each is what it is, docs/kernel-validation.md):
 * - static memory: the final counters of EXACT_COUNTERS equal, exactly;
 * - memory rewritten during the run: final saved pages within FINAL_BAND;
 * - time to 50 % and 90 % of the final saved pages: within TIME_BAND of the kernel's, or one
 *   sample interval, whichever is larger (samples are the time resolution);
 * - saved pages over time: mean |sim - kernel| within GAP_BAND of the kernel's final;
 * - full_scans: within TIME_BAND (passes are the same clock as the timing), or 1;
 * - ksmd CPU per scanned page: within CPU_BAND when the simulator runs with this host's CPU
 *   profile (`kernel calibrate`); with the paper's Xeon profile it is shown, not judged. CPU %
 *   is shown, not judged: it is CPU per page times the scan rate, whose gap full_scans and the
 *   timing cells judge already;
 * - timing cells (t50, t90, full_scans) are shown, not judged, when ksmd waited for a CPU more
 *   than BUSY_WAIT_PCT of the run (schedstat): then the host's other load set its pace;
 * - the writer never fell a sample interval behind real time (else the run did not happen as
 *   the config says, and the scenario fails).
 */
import { EXACT_COUNTERS, type Comparison } from './compare.ts'
import type { Scenario } from './scenarios.ts'
import type { KernelInfo } from './summary.ts'

export const TIME_BAND = 0.25
export const GAP_BAND_PCT = 10
export const FINAL_BAND = 0.1
export const CPU_BAND = 0.25
/** ksmd's wait for a CPU (% of wall time) above which the timing cells are not judged: the band. */
export const BUSY_WAIT_PCT = TIME_BAND * 100

export interface Check {
  name: string
  sim: string
  kernel: string
  /** null: shown, not judged. */
  pass: boolean | null
}

export interface ScenarioResult {
  name: string
  what: string
  pass: boolean
  checks: Check[]
  comparison: Comparison
  writer_lag_max_s: number
  /** ksmd waited for a CPU more than BUSY_WAIT_PCT: timing cells not judged. */
  host_busy: boolean
  /** Final-state counters shown but not held exact, and why. */
  not_exact?: { counters: string[]; why: string }
}

const f = (x: number | null, d = 2): string => (x === null || !Number.isFinite(x) ? '-' : d === 0 ? String(Math.round(x)) : x.toFixed(d))

function within(sim: number | null, kernel: number | null, rel: number, abs: number): boolean {
  if (sim === null || kernel === null) return sim === kernel
  return Math.abs(sim - kernel) <= Math.max(rel * Math.abs(kernel), abs)
}

export function checkScenario(s: Scenario, c: Comparison, k: KernelInfo, hostProfile: boolean): ScenarioResult {
  const checks: Check[] = []
  const every = s.config.sample_every_s
  // When ksmd waited for a CPU more than the timing band, other processes on the host, which
  // the model does not know, set its pace: the timing cells are shown, not judged.
  const busy = Number.isFinite(k.ksmd_wait_percent) && k.ksmd_wait_percent > BUSY_WAIT_PCT
  const timing = (ok: boolean): boolean | null => (busy ? null : ok)
  if (s.static) {
    const exact = EXACT_COUNTERS.filter((n) => !(s.notExact?.counters ?? []).includes(n))
    const diff = exact.filter((n) => c.sim.final[n] !== c.kernel.final[n])
    checks.push({
      name: 'final state',
      sim: EXACT_COUNTERS.map((n) => c.sim.final[n]).join('/'),
      kernel: EXACT_COUNTERS.map((n) => c.kernel.final[n]).join('/'),
      pass: diff.length === 0
    })
  } else {
    const ss = c.sim.final.pages_sharing + c.sim.final.ksm_zero_pages
    const ks = c.kernel.final.pages_sharing + c.kernel.final.ksm_zero_pages
    checks.push({ name: 'final saved pages', sim: String(ss), kernel: String(ks), pass: within(ss, ks, FINAL_BAND, 0) })
  }
  for (const [i, label] of [
    [0, 't50 (s)'],
    [1, 't90 (s)']
  ] as const) {
    checks.push({ name: label, sim: f(c.sim.time_to[i]), kernel: f(c.kernel.time_to[i]), pass: timing(within(c.sim.time_to[i], c.kernel.time_to[i], TIME_BAND, every)) })
  }
  checks.push({ name: 'gap mean/max (%)', sim: f(c.saved_gap_pct.mean, 1), kernel: f(c.saved_gap_pct.max, 1), pass: c.saved_gap_pct.mean <= GAP_BAND_PCT })
  checks.push({ name: 'full_scans', sim: String(c.sim.final.full_scans), kernel: String(c.kernel.final.full_scans), pass: timing(within(c.sim.final.full_scans, c.kernel.final.full_scans, TIME_BAND, 1)) })
  checks.push({ name: 'scan rate (pages/s)', sim: f(c.sim.scan_rate, 0), kernel: f(c.kernel.scan_rate, 0), pass: null })
  checks.push({ name: 'ksmd CPU %', sim: f(c.sim.cpu_percent, 3), kernel: f(c.kernel.cpu_percent, 3), pass: null })
  checks.push({
    name: 'CPU ns/scanned page',
    sim: f(c.sim.cpu_ns_per_scanned_page, 0),
    kernel: f(c.kernel.cpu_ns_per_scanned_page, 0),
    pass: hostProfile ? within(c.sim.cpu_ns_per_scanned_page, c.kernel.cpu_ns_per_scanned_page, CPU_BAND, 0) : null
  })
  checks.push({ name: 'ksmd waiting for a CPU (%)', sim: '', kernel: f(k.ksmd_wait_percent, 1), pass: null })
  checks.push({ name: 'writer lag max (ms)', sim: '', kernel: f(k.writer_lag_s.max * 1000, 1), pass: !k.fell_behind })
  return { name: s.name, what: s.what, pass: checks.every((x) => x.pass !== false), checks, comparison: c, writer_lag_max_s: k.writer_lag_s.max, host_busy: busy, not_exact: s.notExact }
}

export interface ValidationMeta {
  date: string
  release: string
  hz: number | null
  cpu: string
  wall_s: number
  cpu_profile: string | null
}

/** The Markdown table: one row per scenario, "sim / kernel" per cell, a mark on a failed cell. */
export function formatValidation(results: ScenarioResult[], m: ValidationMeta): string {
  const names = results[0]?.checks.map((c) => c.name) ?? []
  const cell = (c: Check) => `${c.sim === '' ? '' : `${c.sim} / `}${c.kernel}${c.pass === false ? ' **x**' : ''}`
  const head = `| scenario | ${names.join(' | ')} | pass |\n|---|${names.map(() => '---|').join('')}---|\n`
  const notes: string[] = []
  const rows = results
    .map((r) => {
      let name = r.name
      if (r.host_busy) name += ' (host busy: timing not judged)'
      if (r.not_exact) {
        notes.push(`${r.name}: ${r.not_exact.counters.join(', ')} shown, not held exact: ${r.not_exact.why}.`)
        name += ` (${notes.length})`
      }
      return `| ${name} | ${r.checks.map(cell).join(' | ')} | ${r.pass ? 'yes' : '**no**'} |`
    })
    .join('\n')
  const passed = results.filter((r) => r.pass).length
  return (
    `Linux ${m.release}, HZ ${m.hz ?? 'unknown'}, ${m.cpu}; ${m.date}; ${m.wall_s} s in all; CPU profile: ${m.cpu_profile ?? 'xeon-x5560 (the paper\'s; CPU cells not judged)'}\n` +
    `cells: simulator / kernel ("final state": ${EXACT_COUNTERS.join('/')}); **x** = outside its band\n\n` +
    head +
    rows +
    '\n' +
    notes.map((n, i) => `\n(${i + 1}) ${n}`).join('') +
    `\n\n${passed} of ${results.length} scenarios pass.\n`
  )
}
