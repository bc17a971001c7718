/** Messages between the app's Sweep view and its Web Workers (src/host/sweep-worker.ts). */
import type { LaneSummary } from '../experiment/engine.ts'

/** One run: a resolved experiment config. */
export type SweepWorkerRequest = { id: number; config: unknown }
export type SweepWorkerReply =
  | { type: 'progress'; id: number; fraction: number }
  | { type: 'done'; id: number; lanes: LaneSummary[] }
  | { type: 'error'; id: number; message: string }
