/**
 * Events on a lane's timeline: the moments that explain a chart's bends ("why did Hint flatten
 * at 2700 s"). Recorded by the lane (lane.ts) in simulated time as they happen, so they are as
 * deterministic as the samples: same config and seed, same events.
 *
 *  - `vm_started`: the VM's vCPUs begin to run (its `start_s`; VMs booted in the warm-up are
 *    logged at t = 0).
 *  - `vm_booted`: its boot workload finished and its main workload begins (VMs booted in the
 *    warm-up: at t = 0).
 *  - `workload_done`: its main workload finished (the summary's `workload_done_s`).
 *  - `full_scan`: the scanner finished a pass over all guest memory (sysfs `full_scans`
 *    incremented: `scan_get_next_rmap_item()` in mm/ksm.c wrapping past the last mm_slot);
 *    `count` is full_scans since t = 0.
 *  - `hints_dropping`: the hint stack overflowed (a push overwrote the oldest hint) after at least
 *    one sample interval without drops: the hint channel is losing hints from then on (the
 *    paper's section 4, bounded stack); `count` is hints dropped since t = 0.
 *
 * Storage is typed arrays (one entry per event, no object per event until the summary asks).
 * `full_scan` events are capped at MAX_FULL_SCAN_EVENTS per lane (a fast scanner over little
 * memory passes every second); the rest are counted in `omitted`.
 */

export const EVENT_KINDS = ['vm_started', 'vm_booted', 'workload_done', 'full_scan', 'hints_dropping'] as const
export type EventKind = (typeof EVENT_KINDS)[number]

export const EV_VM_STARTED = 0
export const EV_VM_BOOTED = 1
export const EV_WORKLOAD_DONE = 2
export const EV_FULL_SCAN = 3
export const EV_HINTS_DROPPING = 4

/** Pass events kept per lane; one marker a pixel is already more than a chart can show. */
export const MAX_FULL_SCAN_EVENTS = 500

/** One event as the summary, the protocol and the result file carry it. */
export interface TimelineEvent {
  t_s: number
  kind: EventKind
  /** VM index (vms[i]) for VM events, else null. */
  vm: number | null
  /** full_scans or hints dropped since t = 0, for those kinds; else null. */
  count: number | null
}

export class EventLog {
  private t = new Float64Array(64)
  private kind = new Uint8Array(64)
  private vm = new Int32Array(64)
  private count = new Float64Array(64)
  length = 0
  private fullScans = 0
  /** full_scan events not kept (over the cap). */
  omitted = 0

  constructor(private readonly maxFullScans = MAX_FULL_SCAN_EVENTS) {}

  /** Record an event; vm and count are -1 when they do not apply. */
  push(t: number, kind: number, vm: number, count: number): void {
    if (kind === EV_FULL_SCAN && ++this.fullScans > this.maxFullScans) {
      this.omitted++
      return
    }
    if (this.length === this.t.length) this.grow()
    const i = this.length++
    this.t[i] = Math.round(t * 1e6) / 1e6
    this.kind[i] = kind
    this.vm[i] = vm
    this.count[i] = count
  }

  private grow(): void {
    const n = this.t.length * 2
    const t = new Float64Array(n)
    t.set(this.t)
    this.t = t
    const k = new Uint8Array(n)
    k.set(this.kind)
    this.kind = k
    const v = new Int32Array(n)
    v.set(this.vm)
    this.vm = v
    const c = new Float64Array(n)
    c.set(this.count)
    this.count = c
  }

  /** Events [from, to) as plain objects, in the order they happened. */
  list(from = 0, to = this.length): TimelineEvent[] {
    const out: TimelineEvent[] = []
    for (let i = from; i < to; i++) {
      out.push({ t_s: this.t[i], kind: EVENT_KINDS[this.kind[i]], vm: this.vm[i] < 0 ? null : this.vm[i], count: this.count[i] < 0 ? null : this.count[i] })
    }
    return out
  }
}

/** A one-line description of an event for lists and tooltips ("web-2 finished its workload"). */
export function describeEvent(e: TimelineEvent, vmNames: readonly string[]): string {
  const vm = e.vm === null ? '' : (vmNames[e.vm] ?? `VM ${e.vm}`)
  switch (e.kind) {
    case 'vm_started':
      return `${vm} started`
    case 'vm_booted':
      return `${vm} finished booting`
    case 'workload_done':
      return `${vm} finished its workload`
    case 'full_scan':
      return `full scan ${e.count ?? ''} completed`.replace('  ', ' ')
    case 'hints_dropping':
      return `hint stack full: dropping hints (${e.count ?? 0} dropped so far)`
  }
}
