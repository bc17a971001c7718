/**
 * The one protocol between a user interface and a simulation session (DESIGN.md, "One protocol,
 * three hosts"). Its types live here once; the Electron main process, the browser's Web Worker
 * and the CLI all speak it, and the renderer only ever sees `LabClient`.
 */
import type { ConfigIssue, Experiment } from './config.ts'
import type { Summary, WarmupProgress } from './engine.ts'
import type { TimelineEvent } from './events.ts'
import type { LaneVmShares, VmShareHistoryWire } from './vmshares.ts'

/** Simulated seconds per wall second, or 'max' for as fast as the machine goes. */
export type Speed = number | 'max'
export const SPEEDS: readonly Speed[] = [1, 10, 100, 'max']

/**
 * 'preparing': the run was started and the warm-up (boot, sharing before t = 0) is going; it
 * reports 'preparing' events and may be stopped, which returns the session to 'ready'.
 * 'done' also follows Stop: the summary then covers the simulated time reached (sim_seconds).
 */
export type SessionState = 'empty' | 'ready' | 'preparing' | 'running' | 'paused' | 'done' | 'error'

/** Commands, as sent to a session host. */
export type Command =
  /**
   * baseDir: the folder relative file paths in the config resolve against (set by the desktop
   * app's main process, never by the renderer; absent: the host's own default).
   */
  | { type: 'load'; config: unknown; baseDir?: string }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Advance `seconds`, or up to simulated time `until` when given (then `seconds` is ignored), and pause. */
  | { type: 'step'; seconds: number; until?: number }
  | { type: 'stop' }
  | { type: 'setSpeed'; speed: Speed }

/**
 * A batch of new samples of one lane: rows [from, from + length) of every metric column, in
 * METRIC_COLUMNS order, as Float64Arrays (transferable; no JSON per point).
 */
export interface SampleBatch {
  lane: number
  from: number
  columns: Float64Array[]
  /** Timeline events of the lane since the last batch (events.ts); absent when none. Every batch has rows. */
  events?: TimelineEvent[]
}

/** Events, as sent back by a session host. */
export type SessionEvent =
  | { type: 'loaded'; config: Experiment; lanes: { name: string; scanner: string }[] }
  | { type: 'invalid'; issues: ConfigIssue[] }
  | { type: 'state'; state: SessionState }
  | { type: 'progress'; simSeconds: number; durationSeconds: number; wallSeconds: number }
  /** The warm-up's progress while the state is 'preparing' (VMs booted of those it boots). */
  | ({ type: 'preparing' } & WarmupProgress)
  | { type: 'samples'; batches: SampleBatch[] }
  | { type: 'summary'; summary: Summary }
  /**
   * Per-VM sharing of every lane at the simulated time a run paused at (vmshares.ts), and what
   * each lane recorded of it at earlier samples (absent from hosts that record none).
   */
  | { type: 'vmShares'; simSeconds: number; lanes: LaneVmShares[]; histories?: VmShareHistoryWire[] }
  | { type: 'error'; message: string }

/** What the renderer uses, whatever the transport behind it. */
export interface LabClient {
  load(config: unknown): void
  start(): void
  pause(): void
  resume(): void
  step(seconds: number): void
  stop(): void
  setSpeed(speed: Speed): void
  /** Subscribe to events; returns the unsubscribe function. */
  onEvent(listener: (e: SessionEvent) => void): () => void
  dispose(): void
}

/**
 * What every LabClient does alike: each method is one command handed to `send`, and event
 * listeners are kept in a set (`emit` delivers to them). A client says how a command travels.
 */
export abstract class CommandClient implements LabClient {
  protected readonly listeners = new Set<(e: SessionEvent) => void>()

  /** Send one command to the session host. */
  abstract send(cmd: Command): void
  abstract dispose(): void

  load(config: unknown): void {
    this.send({ type: 'load', config })
  }
  start(): void {
    this.send({ type: 'start' })
  }
  pause(): void {
    this.send({ type: 'pause' })
  }
  resume(): void {
    this.send({ type: 'resume' })
  }
  step(seconds: number): void {
    this.send({ type: 'step', seconds })
  }
  stop(): void {
    this.send({ type: 'stop' })
  }
  setSpeed(speed: Speed): void {
    this.send({ type: 'setSpeed', speed })
  }

  onEvent(listener: (e: SessionEvent) => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Deliver an event to every listener (a copy of the set: a listener may unsubscribe). */
  protected emit(event: SessionEvent): void {
    for (const l of [...this.listeners]) l(event)
  }
}

/** Validate a command received over a transport (IPC, postMessage); null if malformed. */
export function parseCommand(msg: unknown): Command | null {
  if (typeof msg !== 'object' || msg === null) return null
  const m = msg as Record<string, unknown>
  switch (m.type) {
    case 'load':
      if (!('config' in m)) return null
      if (m.baseDir === undefined) return { type: 'load', config: m.config }
      return typeof m.baseDir === 'string' && m.baseDir !== '' ? { type: 'load', config: m.config, baseDir: m.baseDir } : null
    case 'start':
    case 'pause':
    case 'resume':
    case 'stop':
      return { type: m.type }
    case 'step': {
      if (!(typeof m.seconds === 'number' && Number.isFinite(m.seconds) && m.seconds > 0 && m.seconds <= 1e7)) return null
      if (m.until === undefined) return { type: 'step', seconds: m.seconds }
      return typeof m.until === 'number' && Number.isFinite(m.until) && m.until >= 0 && m.until <= 1e7 ? { type: 'step', seconds: m.seconds, until: m.until } : null
    }
    case 'setSpeed':
      return m.speed === 'max' || (typeof m.speed === 'number' && Number.isFinite(m.speed) && m.speed > 0 && m.speed <= 1e6) ? { type: 'setSpeed', speed: m.speed as Speed } : null
    default:
      return null
  }
}
