/**
 * Saved results in the renderer: src/core/experiment/result.ts defines the file (`samepage-lab/result@1`:
 * config, summary, every series); this adapts it to the run's LiveLanes both ways.
 */
import type { ConfigIssue, Experiment } from '../../../core/experiment/config.ts'
import type { Summary } from '../../../core/experiment/engine.ts'
import { METRIC_COLUMNS } from '../../../core/experiment/metrics.ts'
import { buildResult, parseResultText as parseResultDocument, resultToText } from '../../../core/experiment/result.ts'
import { LiveLane } from './liveLane.ts'

/** A result ready to show: its lanes hold the series. */
export interface LoadedResult {
  /** File name it came from. */
  label: string
  config: Experiment
  summary: Summary
  lanes: LiveLane[]
}

export type ResultParse = { ok: true; result: LoadedResult } | { ok: false; issues: ConfigIssue[] }

/** The result file's text for a finished (or stopped) run. */
export function resultText(config: Experiment, summary: Summary, lanes: readonly LiveLane[]): string {
  const inputs = lanes.map((l) => ({ name: l.name, scanner: l.scanner, columns: METRIC_COLUMNS.map((c) => l.column(c)) }))
  return resultToText(buildResult(config, summary, inputs))
}

/** Parse and check a result file; issues name the field path, as config errors do. */
export function parseResultText(text: string, label: string): ResultParse {
  const r = parseResultDocument(text)
  if (!r.ok) return r
  const lanes = r.result.lanes.map((l) => {
    const lane = new LiveLane(l.name, l.scanner, l.length)
    lane.append(0, l.columns)
    return lane
  })
  return { ok: true, result: { label, config: r.result.config, summary: r.result.summary, lanes } }
}
