/**
 * What this machine can give a run, for the estimate's check (src/core/experiment/estimate.ts,
 * `memoryProblem`): three quarters of its memory, and half the V8 heap of this process for the
 * series (the desktop app's main process holds the lanes' sessions and relays their samples).
 * `samepage run` (src/cli/main.ts, checkMachineFits) and the desktop app use it alike.
 */
import { totalmem } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import type { MemoryBudget } from '../../core/experiment/estimate.ts'

export function nodeMemoryBudget(): MemoryBudget {
  return { machineBytes: totalmem() * 0.75, heapBytes: getHeapStatistics().heap_size_limit * 0.5 }
}
