/**
 * Memory limits for simulation workers, and what an out-of-memory worker becomes: one line for
 * the user. A worker that outgrows its V8 heap limit (resourceLimits) is stopped by Node with
 * ERR_WORKER_OUT_OF_MEMORY while the process that owns it (the CLI, the app's main process)
 * keeps running; without a limit the whole process died of V8's fatal heap error instead.
 */
import { totalmem } from 'node:os'
import type { ResourceLimits } from 'node:worker_threads'

/** The smallest and largest old-generation heap a worker gets, MiB. */
const MIN_WORKER_HEAP_MB = 512
const MAX_WORKER_HEAP_MB = 16384

/** Limits for one of `workers` simulation workers: an equal share of 75 % of this machine's memory. */
export function workerResourceLimits(workers = 1): ResourceLimits {
  const share = Math.floor((totalmem() * 0.75) / Math.max(1, workers) / 2 ** 20)
  return { maxOldGenerationSizeMb: Math.max(MIN_WORKER_HEAP_MB, Math.min(MAX_WORKER_HEAP_MB, share)) }
}

/** A simulation worker ran out of memory: printed as one line, exit code 1. */
export class WorkerMemoryError extends Error {
  constructor(limitMb?: number) {
    super(
      `the simulation ran out of memory${limitMb ? ` (a worker's limit is ${limitMb} MiB)` : ''}: ` +
        'make the run smaller (less VM memory, smaller workloads, fewer lanes or samples) and run it again'
    )
    this.name = 'WorkerMemoryError'
  }
}

/** Whether a worker's 'error' is Node's out-of-memory stop. */
export function isWorkerOutOfMemory(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY'
}
