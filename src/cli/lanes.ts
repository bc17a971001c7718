/**
 * Running an experiment's lanes side by side on worker threads. Lanes share nothing (each is
 * a whole simulated host fed by the same seeds), so a lane run alone in a worker gives exactly
 * the result it gives inside a multi-lane engine; on a 2-core machine two lanes take the time
 * of the slower one instead of the sum.
 *
 * Workers are this same bundled file (pool.ts), started for the role 'samepage-lane'.
 */
import { availableParallelism } from 'node:os'
import type { Assets } from '../core/experiment/assets.ts'
import type { Experiment } from '../core/experiment/config.ts'
import { Engine, SUMMARY_SCHEMA_ID, type LaneSummary, type Summary } from '../core/experiment/engine.ts'
import { Series } from '../core/experiment/metrics.ts'
import { runTasks, serveTasks } from './pool.ts'

/** Workers of this role run one lane each (also the sweep's tasks, src/cli/sweep.ts). */
export const LANE_ROLE = 'samepage-lane'
const ROLE = LANE_ROLE

export interface LaneRun {
  name: string
  scanner: string
  series: Series
  summary: LaneSummary
  totalPages: number
  simSeconds: number
}

export interface LaneTask {
  config: Experiment
  index: number
  checkInvariants: boolean
  /** Parsed files the config refers to (structured-cloned into each worker). */
  assets?: Assets
}

export interface LaneOutput {
  summary: LaneSummary
  columns: Float64Array[]
  totalPages: number
  simSeconds: number
}

/** Run lane `index` of `config` alone, in this thread. */
function runOneLane({ config, index, checkInvariants, assets }: LaneTask, onProgress: (f: number) => void): LaneOutput {
  const engine = new Engine({ ...config, lanes: [config.lanes[index]] }, { checkInvariants, assets })
  engine.run(onProgress, Math.max(config.sample_every_s, Math.min(60, config.duration_s / 100)))
  const lane = engine.lanes[0]
  return { summary: engine.summary(0).lanes[0], columns: lane.series.slice(0), totalPages: lane.totalPages, simSeconds: engine.t }
}

serveTasks<LaneTask, LaneOutput>(ROLE, runOneLane, (r) => r.columns.map((c) => c.buffer as ArrayBuffer))

/**
 * Run every lane, `threads` at a time, and put the results together in lane order. Errors
 * are rethrown as they happened in the worker (an InvariantError stays one).
 */
export async function runLanes(config: Experiment, opts: { checkInvariants: boolean; threads?: number; assets?: Assets }, onProgress: (f: number) => void): Promise<LaneRun[]> {
  const tasks = config.lanes.map((_, index) => ({ config, index, checkInvariants: opts.checkInvariants, assets: opts.assets }))
  const outputs = await runTasks<LaneTask, LaneOutput>(ROLE, new URL(import.meta.url), tasks, opts.threads ?? availableParallelism(), onProgress)
  return outputs.map((o, i) => laneRunOf(config, i, o))
}

/** Lane `index` of `config` as its worker's output describes it. */
export function laneRunOf(config: Experiment, index: number, o: LaneOutput): LaneRun {
  return {
    name: config.lanes[index].name,
    scanner: config.lanes[index].scanner.kind,
    series: Series.fromColumns(o.columns),
    summary: o.summary,
    totalPages: o.totalPages,
    simSeconds: o.simSeconds
  }
}

/** summary.json from lanes run separately (the same document Engine.summary makes). */
export function composeSummary(config: Experiment, lanes: LaneRun[], wallSeconds: number): Summary {
  return {
    schema: SUMMARY_SCHEMA_ID,
    config_name: config.name,
    seed: config.seed,
    sim_seconds: Math.round((lanes[0]?.simSeconds ?? 0) * 1e6) / 1e6,
    wall_seconds: Math.round(wallSeconds * 1e6) / 1e6,
    total_guest_pages: lanes[0]?.totalPages ?? 0,
    lanes: lanes.map((l) => l.summary)
  }
}
