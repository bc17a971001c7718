/**
 * Running an experiment's lanes side by side on worker threads. Lanes share nothing (each is
 * a whole simulated host fed by the same seeds), so a lane run alone in a worker gives exactly
 * the result it gives inside a multi-lane engine; on a 2-core machine two lanes take the time
 * of the slower one instead of the sum.
 *
 * Workers are this same bundled file started with workerData.role = 'samepage-lane'.
 */
import { availableParallelism } from 'node:os'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import type { Experiment } from '../core/config.ts'
import { Engine, SUMMARY_SCHEMA_ID, type LaneSummary, type Summary } from '../core/engine.ts'
import { InvariantError } from '../core/invariants.ts'
import { Series } from '../core/metrics.ts'

const ROLE = 'samepage-lane'

export interface LaneRun {
  name: string
  scanner: string
  series: Series
  summary: LaneSummary
  totalPages: number
  simSeconds: number
}

interface LaneMessage {
  type: 'progress' | 'done' | 'error'
  fraction?: number
  summary?: LaneSummary
  columns?: Float64Array[]
  totalPages?: number
  simSeconds?: number
  message?: string
  invariant?: boolean
}

/** Run lane `index` of `config` alone, in this thread. */
function runOneLane(config: Experiment, index: number, checkInvariants: boolean, onProgress: (f: number) => void): Omit<LaneMessage, 'type'> {
  const engine = new Engine({ ...config, lanes: [config.lanes[index]] }, { checkInvariants })
  engine.run(onProgress, Math.max(config.sample_every_s, Math.min(60, config.duration_s / 100)))
  const lane = engine.lanes[0]
  return { summary: engine.summary(0).lanes[0], columns: lane.series.slice(0), totalPages: lane.totalPages, simSeconds: engine.t }
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE && parentPort) {
  const port = parentPort
  const { config, index, checkInvariants } = workerData as { config: Experiment; index: number; checkInvariants: boolean }
  try {
    let last = -1
    const r = runOneLane(config, index, checkInvariants, (f) => {
      const pct = Math.floor(f * 100)
      if (pct !== last) {
        last = pct
        port.postMessage({ type: 'progress', fraction: f } satisfies LaneMessage)
      }
    })
    port.postMessage({ type: 'done', ...r } satisfies LaneMessage, (r.columns ?? []).map((c) => c.buffer as ArrayBuffer))
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message, invariant: e instanceof InvariantError } satisfies LaneMessage)
  }
}

/**
 * Run every lane, `threads` at a time, and put the results together in lane order. Errors
 * are rethrown as they happened in the worker (an InvariantError stays one).
 */
export async function runLanes(config: Experiment, opts: { checkInvariants: boolean; threads?: number }, onProgress: (f: number) => void): Promise<LaneRun[]> {
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), config.lanes.length))
  const progress = config.lanes.map(() => 0)
  const results: LaneRun[] = new Array(config.lanes.length)
  let nextIndex = 0
  const runNext = (): Promise<void> => {
    const index = nextIndex++
    if (index >= config.lanes.length) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { role: ROLE, config, index, checkInvariants: opts.checkInvariants } })
      let settled = false
      w.on('message', (m: LaneMessage) => {
        if (m.type === 'progress') {
          progress[index] = m.fraction as number
          onProgress(progress.reduce((a, b) => a + b, 0) / progress.length)
        } else if (m.type === 'done') {
          settled = true
          const lane = config.lanes[index]
          results[index] = { name: lane.name, scanner: lane.scanner.kind, series: Series.fromColumns(m.columns as Float64Array[]), summary: m.summary as LaneSummary, totalPages: m.totalPages as number, simSeconds: m.simSeconds as number }
          void w.terminate()
          resolve(runNext())
        } else {
          settled = true
          void w.terminate()
          reject(m.invariant ? new InvariantError(m.message as string) : new Error(m.message))
        }
      })
      w.on('error', (e) => {
        if (!settled) reject(e)
      })
      w.on('exit', (code) => {
        if (!settled) reject(new Error(`lane ${config.lanes[index].name}: worker exited with code ${code}`))
      })
    })
  }
  await Promise.all(Array.from({ length: threads }, () => runNext()))
  return results
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
