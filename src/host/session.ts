/**
 * A simulation session: owns one Engine and runs it under the protocol's commands (load, start,
 * pause, resume, step, stop, set speed), emitting events. It runs wherever a timer exists (a
 * Node worker, a browser Web Worker, the CLI): the clock and timer are injected, so tests drive
 * it deterministically. The wall clock only paces the run; the model never reads it.
 *
 * Pacing: every FRAME_MS of wall time the session advances the engine by speed x elapsed wall
 * time, then sends new samples as one batch per lane: at most about 1000 / FRAME_MS batches a
 * second. At 'max' it never waits on a timer: it simulates for BUDGET_MS of wall time, posts, and
 * continues at once (`Clock.soon`, which lets queued commands in first), so the engine is busy
 * all the time and a Pause or Stop is handled within one budget.
 *
 * Start first warms up (boot, sharing before t = 0) in the state 'preparing', in slices of
 * BUDGET_MS with a 'preparing' event after each, whatever the speed; Stop then discards it and
 * the session is 'ready' again.
 */
import { assetRefs, NO_FILES_MESSAGE, type Assets } from '../core/experiment/assets.ts'
import { validateExperiment, type ConfigIssue, type Experiment } from '../core/experiment/config.ts'
import { Engine } from '../core/experiment/engine.ts'
import type { Command, SampleBatch, SessionEvent, SessionState, Speed } from '../core/experiment/protocol.ts'

export const FRAME_MS = 33
/** Wall time spent simulating (or warming up) before posting, at 'max': about a frame. */
export const BUDGET_MS = 30

export interface Clock {
  now(): number
  /** Call `fn` after `ms`; `ms` = 0: as soon as the host has handled the messages already queued. */
  setTimer(fn: () => void, ms: number): unknown
  clearTimer(handle: unknown): void
}

/** A callback queued to run as soon as possible (a macrotask: queued messages go first). */
class Soon {
  cancelled = false
  constructor(fn: () => void) {
    const run = (): void => {
      if (!this.cancelled) fn()
    }
    // setImmediate in Node; in a browser a MessageChannel message (setTimeout(0) is clamped to
    // 4 ms once nested, which would idle the engine a tenth of the time).
    const g = globalThis as { setImmediate?: (fn: () => void) => unknown }
    if (typeof g.setImmediate === 'function') g.setImmediate(run)
    else soonChannel().post(run)
  }
}

let channel: { post(fn: () => void): void } | null = null
function soonChannel(): { post(fn: () => void): void } {
  if (channel) return channel
  const mc = new MessageChannel()
  const queue: (() => void)[] = []
  ;(mc.port1 as unknown as { onmessage: () => void }).onmessage = () => queue.shift()?.()
  channel = {
    post: (fn) => {
      queue.push(fn)
      mc.port2.postMessage(0)
    }
  }
  return channel
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => (ms > 0 ? setTimeout(fn, ms) : new Soon(fn)),
  clearTimer: (h) => {
    if (h instanceof Soon) h.cancelled = true
    else clearTimeout(h as ReturnType<typeof setTimeout>)
  }
}

/**
 * Reads the files a config refers to (image_file, snapshot_file, trace files), where the host can
 * read files (the Node worker: src/host/node/assets.ts). Web mode has none.
 */
export type AssetLoader = (config: Experiment, baseDir?: string) => { assets: Assets; issues: ConfigIssue[] }

export class Session {
  private engine: Engine | null = null
  private config: Experiment | null = null
  private assets: Assets | undefined = undefined
  private state: SessionState = 'empty'
  private speed: Speed = 'max'
  private timer: unknown = null
  private lastFrame = 0
  private sent: number[] = []
  private sentEvents: number[] = []
  private wallStart = 0
  private wallSeconds = 0
  /** Simulated time at which a step ends (pause there), or null. */
  private stepUntil: number | null = null

  constructor(
    private readonly emit: (e: SessionEvent) => void,
    private readonly clock: Clock = realClock,
    private readonly loadAssets: AssetLoader | null = null
  ) {}

  get currentState(): SessionState {
    return this.state
  }

  handle(cmd: Command): void {
    try {
      switch (cmd.type) {
        case 'load':
          return this.load(cmd.config, cmd.baseDir)
        case 'start':
          return this.start()
        case 'pause':
          return this.pause()
        case 'resume':
          return this.resume()
        case 'step':
          return this.step(cmd.seconds, cmd.until)
        case 'stop':
          return this.stop()
        case 'setSpeed':
          this.speed = cmd.speed
          return
      }
    } catch (e) {
      this.fail(e)
    }
  }

  private setState(s: SessionState): void {
    this.state = s
    this.emit({ type: 'state', state: s })
  }

  private fail(e: unknown): void {
    this.cancelTimer()
    this.state = 'error'
    this.emit({ type: 'error', message: e instanceof Error ? e.message : String(e) })
    this.emit({ type: 'state', state: 'error' })
  }

  load(doc: unknown, baseDir?: string): void {
    if (this.state === 'running') this.pause()
    if (this.state === 'preparing') this.stop()
    const r = validateExperiment(doc)
    if (!r.ok) {
      // The session keeps whatever it had: a bad document changes nothing.
      this.emit({ type: 'invalid', issues: r.issues })
      return
    }
    // Files the config refers to are read now, so a missing one is reported like a bad field.
    let assets: Assets | undefined
    const refs = assetRefs(r.config)
    if (refs.length > 0) {
      if (!this.loadAssets) {
        this.emit({ type: 'invalid', issues: refs.map((ref) => ({ path: ref.field, message: `${ref.file}: ${NO_FILES_MESSAGE}` })) })
        return
      }
      const loaded = this.loadAssets(r.config, baseDir)
      if (loaded.issues.length > 0) {
        this.emit({ type: 'invalid', issues: loaded.issues })
        return
      }
      assets = loaded.assets
    }
    this.cancelTimer()
    this.assets = assets
    this.config = r.config
    this.engine = null
    this.emit({ type: 'loaded', config: r.config, lanes: r.config.lanes.map((l) => ({ name: l.name, scanner: l.scanner.kind })) })
    this.setState('ready')
  }

  /** The engine of the run, made (not yet warmed up) when there is none. */
  private ensureEngine(): Engine {
    if (!this.engine) {
      if (!this.config) throw new Error('no experiment loaded')
      // The app shows per-VM results at earlier samples of a paused run: record them.
      this.engine = new Engine(this.config, { assets: this.assets, vmHistory: true })
      this.sent = this.engine.lanes.map(() => 0)
      this.sentEvents = this.engine.lanes.map(() => 0)
      this.wallSeconds = 0
    }
    return this.engine
  }

  start(): void {
    if (this.state === 'running' || this.state === 'preparing') return
    if (this.state === 'done' || this.state === 'error') this.engine = null
    if (!this.config) throw new Error('no experiment loaded')
    this.ensureEngine()
    this.stepUntil = null
    this.run()
  }

  pause(): void {
    if (this.state !== 'running') return
    this.cancelTimer()
    this.accountWall()
    this.flushSamples()
    this.emitProgress()
    this.emitVmShares()
    this.setState('paused')
  }

  resume(): void {
    if (this.state !== 'paused' && this.state !== 'ready') return
    this.ensureEngine()
    this.stepUntil = null
    this.run()
  }

  /** Advance exactly `seconds` of simulated time (or up to `until`), then pause. */
  step(seconds: number, until?: number): void {
    if (this.state === 'preparing') return
    if (this.state === 'running') this.pause()
    if (this.state === 'done' || this.state === 'error' || this.state === 'empty') throw new Error(`cannot step a session that is ${this.state}`)
    const engine = this.ensureEngine()
    this.stepUntil = Math.min(engine.duration, until ?? engine.t + seconds)
    this.run()
  }

  /**
   * End the run now; the summary covers the simulated time reached. During the warm-up there is
   * nothing to sum up: the warm-up is dropped and the session is 'ready' again.
   */
  stop(): void {
    if (!this.engine || this.state === 'done') return
    this.cancelTimer()
    if (this.state === 'preparing') {
      this.engine = null
      this.setState('ready')
      return
    }
    if (this.state === 'running') this.accountWall()
    this.finish()
  }

  private run(): void {
    const engine = this.engine as Engine
    this.setState(engine.warmedUpAlready ? 'running' : 'preparing')
    this.wallStart = this.clock.now()
    this.lastFrame = this.wallStart
    if (this.state === 'preparing') this.emit({ type: 'preparing', ...engine.warmupProgress() })
    this.schedule()
  }

  private schedule(): void {
    this.timer = this.clock.setTimer(() => this.frame(), this.speed === 'max' || this.state === 'preparing' ? 0 : FRAME_MS)
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
  }

  private accountWall(): void {
    this.wallSeconds += (this.clock.now() - this.wallStart) / 1000
    this.wallStart = this.clock.now()
  }

  private emitProgress(): void {
    const engine = this.engine
    if (!engine) return
    const running = this.state === 'running' ? (this.clock.now() - this.wallStart) / 1000 : 0
    this.emit({ type: 'progress', simSeconds: engine.t, durationSeconds: engine.duration, wallSeconds: this.wallSeconds + running })
  }

  /** A warm-up slice of BUDGET_MS; at its end the run goes on at the chosen speed. */
  private prepare(engine: Engine): void {
    const start = this.clock.now()
    const ready = engine.warmupSlice(() => this.clock.now() - start >= BUDGET_MS)
    this.emit({ type: 'preparing', ...engine.warmupProgress() })
    if (ready) {
      this.flushSamples() // the state at t = 0
      this.accountWall()
      this.lastFrame = this.clock.now()
      this.setState('running')
    }
    this.schedule()
  }

  private frame(): void {
    this.timer = null
    const engine = this.engine
    if (!engine || (this.state !== 'running' && this.state !== 'preparing')) return
    try {
      if (this.state === 'preparing') return this.prepare(engine)
      const now = this.clock.now()
      const limit = this.stepUntil ?? engine.duration
      if (this.speed === 'max') {
        const start = this.clock.now()
        let slice = 1
        while (engine.t < limit - 1e-9 && this.clock.now() - start < BUDGET_MS) {
          const before = this.clock.now()
          engine.advance(Math.min(slice, limit - engine.t))
          // Grow the slice while a slice costs well under the budget.
          if (this.clock.now() - before < BUDGET_MS / 4) slice *= 2
        }
      } else {
        const sim = ((now - this.lastFrame) / 1000) * this.speed
        engine.advance(Math.min(sim, limit - engine.t))
      }
      this.lastFrame = now
      this.flushSamples()
      this.emitProgress()
      if (engine.done) {
        this.accountWall()
        this.finish()
      } else if (this.stepUntil !== null && engine.t >= this.stepUntil - 1e-9) {
        this.stepUntil = null
        this.accountWall()
        this.emitVmShares()
        this.setState('paused')
      } else {
        this.schedule()
      }
    } catch (e) {
      this.fail(e)
    }
  }

  private finish(): void {
    const engine = this.engine as Engine
    this.flushSamples()
    this.emit({ type: 'summary', summary: engine.summary(this.wallSeconds) })
    this.setState('done')
  }

  /** Per-VM sharing of every lane now, and at the samples recorded: the matrix at the cursor of a paused run. */
  private emitVmShares(): void {
    const engine = this.engine
    if (!engine) return
    const histories = engine.lanes.map((l) => l.vmHistory?.wire() ?? { off: 'not recorded' })
    this.emit({ type: 'vmShares', simSeconds: engine.t, lanes: engine.lanes.map((l) => l.vmShares()), histories })
  }

  /** Send every lane's new samples, with the events logged up to them, one batch per lane. */
  private flushSamples(): void {
    const engine = this.engine
    if (!engine) return
    const batches: SampleBatch[] = []
    engine.lanes.forEach((lane, i) => {
      const from = this.sent[i]
      const eventsFrom = this.sentEvents[i]
      // Events ride with the next rows (at most a sample interval late; the summary has them all),
      // so every batch has rows, as the hosts' consumers expect.
      if (lane.series.length > from) {
        const batch: SampleBatch = { lane: i, from, columns: lane.series.slice(from) }
        if (lane.events.length > eventsFrom) batch.events = lane.events.list(eventsFrom)
        batches.push(batch)
        this.sent[i] = lane.series.length
        this.sentEvents[i] = lane.events.length
      }
    })
    if (batches.length > 0) this.emit({ type: 'samples', batches })
  }
}

