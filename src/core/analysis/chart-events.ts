/**
 * Timeline events (events.ts) as markers on the time charts: vertical lines in the options of
 * chartjs-plugin-annotation (a kept plugin; the renderer and the CLI register it), one per event,
 * coloured by kind, with its description as the line's label on hover. Plain objects only, so
 * this stays in the core; a chart spec without the plugin registered simply draws no markers.
 */
import { describeEvent, type EventKind, type TimelineEvent } from '../experiment/events.ts'

/** One colour and dash per kind (Okabe-Ito hues, readable by colour-blind readers, on white and dark). */
export const EVENT_STYLE: Readonly<Record<EventKind, { color: string; dash: number[]; label: string }>> = {
  vm_started: { color: '#009e73', dash: [], label: 'VM started' },
  vm_booted: { color: '#56b4e9', dash: [4, 3], label: 'VM booted' },
  workload_done: { color: '#cc79a7', dash: [], label: 'Workload done' },
  full_scan: { color: '#999999', dash: [2, 3], label: 'Full scan' },
  hints_dropping: { color: '#d55e00', dash: [6, 3], label: 'Hints dropping' }
}

export interface EventLine {
  type: 'line'
  scaleID: 'x'
  value: number
  borderColor: string
  borderWidth: number
  borderDash: number[]
  label: { display: boolean; content: string; position: 'start'; font: { size: number } }
  enter?: unknown
  leave?: unknown
}

/** Annotation lines for `events`, keyed as the plugin's `annotations` record wants. */
export function eventAnnotations(events: readonly TimelineEvent[], vmNames: readonly string[]): Record<string, EventLine> {
  const out: Record<string, EventLine> = {}
  events.forEach((e, i) => {
    const s = EVENT_STYLE[e.kind]
    out[`ev${i}`] = {
      type: 'line',
      scaleID: 'x',
      value: e.t_s,
      borderColor: s.color,
      borderWidth: e.kind === 'full_scan' ? 1 : 1.5,
      borderDash: s.dash,
      label: { display: false, content: `t = ${e.t_s} s: ${describeEvent(e, vmNames)}`, position: 'start', font: { size: 11 } }
    }
  })
  return out
}

/**
 * Put the markers into a time chart's spec (a chart whose x scale is linear time). Bar charts
 * and charts without a linear x are left alone.
 */
export function withEventMarkers<T extends { type: string; options?: object }>(cfg: T, events: readonly TimelineEvent[], vmNames: readonly string[]): T {
  const o = (cfg.options ?? {}) as { plugins?: Record<string, unknown>; scales?: { x?: { type?: string } } }
  if (cfg.type !== 'line' || o.scales?.x?.type !== 'linear') return cfg
  o.plugins = { ...o.plugins, annotation: { annotations: eventAnnotations(events, vmNames) } }
  cfg.options = o
  return cfg
}
