/**
 * Linux KSM's sysfs interface (/sys/kernel/mm/ksm/, Documentation/admin-guide/mm/ksm.rst):
 * reading its counters, recording its knobs, writing a lane's knobs and putting the recorded
 * ones back. Everything takes the folder as a parameter, so the restore logic runs against a
 * fake folder in the unit tests.
 *
 * Write order matters (mm/ksm.c, the *_store functions):
 * - `max_page_sharing` and `merge_across_nodes` refuse a change (EBUSY) while KSM pages exist,
 *   so every knob is written after unmerging: `run` 2 (run_store() calls
 *   unmerge_and_remove_all_rmap_items() before it returns), then `pages_shared` is 0.
 * - `pages_to_scan` is refused (EINVAL) while `advisor_mode` is scan-time, and setting
 *   `advisor_mode` sets `pages_to_scan` (set_advisor_defaults(): none -> 100, scan-time ->
 *   advisor_min_pages_to_scan), so the mode goes to none first and to its value last.
 * - A knob equal to its current value is not written (no EBUSY for an unchanged value).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const KSM_SYSFS = '/sys/kernel/mm/ksm'

/** Counters (read-only files), as named in ksm.rst. */
export const KSM_COUNTERS = [
  'full_scans',
  'general_profit',
  'ksm_zero_pages',
  'pages_scanned',
  'pages_shared',
  'pages_sharing',
  'pages_skipped',
  'pages_unshared',
  'pages_volatile',
  'stable_node_chains',
  'stable_node_dups'
] as const
export type KsmCounter = (typeof KSM_COUNTERS)[number]

/**
 * Knobs in the order they are written (advisor_mode first as none, its value last; run apart).
 * Files a kernel lacks (smart_scan before 6.7, advisor_* before 6.8) are skipped.
 */
export const KSM_KNOBS = [
  'pages_to_scan',
  'sleep_millisecs',
  'max_page_sharing',
  'merge_across_nodes',
  'use_zero_pages',
  'smart_scan',
  'stable_node_chains_prune_millisecs',
  'advisor_max_cpu',
  'advisor_min_pages_to_scan',
  'advisor_max_pages_to_scan',
  'advisor_target_scan_time'
] as const
export type KsmKnob = (typeof KSM_KNOBS)[number] | 'advisor_mode'

/** Knob values as the files hold them ("1", "none"); `run` separately. */
export interface KnobState {
  run: string
  knobs: Partial<Record<KsmKnob, string>>
}

/** KSM's state could not be read or written; one line, naming the file. */
export class KsmError extends Error {}

/** The selected value of a multiple-choice file: "[none] scan-time" -> "none". */
export function selectedChoice(text: string): string {
  const m = /\[([^\]]+)\]/.exec(text)
  return (m ? m[1] : text).trim()
}

export class KsmSysfs {
  constructor(readonly root: string = KSM_SYSFS) {}

  has(name: string): boolean {
    return existsSync(join(this.root, name))
  }

  read(name: string): string {
    try {
      return readFileSync(join(this.root, name), 'utf8').trim()
    } catch (e) {
      throw new KsmError(`cannot read ${join(this.root, name)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e })
    }
  }

  readNumber(name: string): number {
    const v = Number(this.read(name))
    if (!Number.isFinite(v)) throw new KsmError(`${join(this.root, name)} does not hold a number`)
    return v
  }

  write(name: string, value: string): void {
    try {
      writeFileSync(join(this.root, name), value)
    } catch (e) {
      throw new KsmError(`cannot write "${value}" to ${join(this.root, name)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e })
    }
  }

  /** Every counter this kernel has (missing ones NaN). */
  counters(): Record<KsmCounter, number> {
    const out = {} as Record<KsmCounter, number>
    for (const c of KSM_COUNTERS) out[c] = this.has(c) ? this.readNumber(c) : Number.NaN
    return out
  }

  /** The knobs and `run` as they are now. */
  record(): KnobState {
    const knobs: KnobState['knobs'] = {}
    for (const k of KSM_KNOBS) if (this.has(k)) knobs[k] = this.read(k)
    if (this.has('advisor_mode')) knobs.advisor_mode = selectedChoice(this.read('advisor_mode'))
    return { run: this.read('run'), knobs }
  }

  /**
   * Stop ksmd and unmerge every KSM page (`run` 2), then wait until `pages_shared` is 0. In the
   * kernel the write itself unmerges; the wait covers a fake folder and ksmd finishing a batch.
   */
  unmerge(timeoutMs = 30_000): void {
    this.write('run', '2')
    const until = Date.now() + timeoutMs
    while (this.readNumber('pages_shared') > 0) {
      if (Date.now() > until) throw new KsmError(`${join(this.root, 'pages_shared')} is still ${this.read('pages_shared')} ${timeoutMs / 1000} s after run=2`)
      sleepMs(20)
    }
  }

  /**
   * Write knob values (only those that differ, in KSM_KNOBS order, advisor_mode none first and
   * its value last). Call after unmerge(). `run` is not touched.
   */
  applyKnobs(knobs: Partial<Record<KsmKnob, string>>): void {
    const mode = knobs.advisor_mode
    if (this.has('advisor_mode') && selectedChoice(this.read('advisor_mode')) !== 'none') this.write('advisor_mode', 'none')
    for (const k of KSM_KNOBS) {
      const v = knobs[k]
      if (v === undefined || !this.has(k)) continue
      // With the advisor on, the kernel sets pages_to_scan itself (and refuses a write).
      if (k === 'pages_to_scan' && mode !== undefined && mode !== 'none') continue
      if (this.read(k) !== v) this.write(k, v)
    }
    if (mode !== undefined && mode !== 'none' && this.has('advisor_mode')) this.write('advisor_mode', mode)
  }

  /** Put a recorded state back: unmerge, the knobs, then `run` as it was. */
  restore(state: KnobState): void {
    this.unmerge()
    this.applyKnobs(state.knobs)
    if (this.read('run') !== state.run) this.write('run', state.run)
  }
}

/** Blocking sleep (no busy loop): used where a signal handler must finish synchronously. */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
