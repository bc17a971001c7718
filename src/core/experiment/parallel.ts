/**
 * One session per lane: a LabClient that runs each lane of an experiment in a session of its
 * own (a worker each: worker_threads in Electron, Web Workers in web mode) and presents them as
 * one session. Lanes share nothing (docs/architecture.md, "The engine"), so a lane alone gives
 * exactly the samples and summary it gives in a multi-lane engine, as `samepage run` does it
 * (src/cli/lanes.ts); two lanes on two cores take the time of the slower one.
 *
 * Keeping one clock: at 'max' each lane goes as fast as it can, so lanes drift apart. Progress
 * reports the slowest lane. Pause and Stop first bring every lane to the same simulated time
 * (the laggards step to the leader's t, a `step` with `until`), so a paused run, a step and a
 * summary always cover one t for all lanes; the state stays 'running' while they catch up.
 * Stop during the warm-up drops it in every lane and the session is 'ready' again.
 *
 * Memory: all lanes run on one machine, so a load whose estimated memory (src/core/experiment/estimate.ts,
 * every lane) does not fit the host's `memoryBudget` is refused as `samepage run` refuses it:
 * an 'invalid' event naming the field to change, and nothing runs until a load is accepted.
 */
import { validateExperiment, type Experiment } from './config.ts'
import type { Summary } from './engine.ts'
import { memoryProblem, type MemoryBudget } from './estimate.ts'
import type { LaneVmShares, VmShareHistoryWire } from './vmshares.ts'
import { CommandClient, type Command, type LabClient, type SessionEvent, type SessionState } from './protocol.ts'

/** A lane's client as this one drives it: any LabClient that also takes parsed commands. */
export interface LaneClient extends LabClient {
  send(cmd: Command): void
}

const EPS = 1e-9

interface Sub {
  client: LaneClient
  off: () => void
  state: SessionState
  t: number
  wall: number
  loaded: Experiment | null
  summary: Summary | null
  booted: number
  vms: number
  /** The lane's boot fraction (0 to 1), from its last 'preparing'. */
  fraction: number
  sharing: boolean
  /** The lane's per-VM sharing at its last pause (vmshares.ts), until every lane has sent one at one t. */
  shares: { t: number; lane: LaneVmShares; history: VmShareHistoryWire | null } | null
}

type Goal = 'pause' | 'stop' | null

export interface ParallelOptions {
  /** What the host can give a run (null: it cannot tell, and runs are not checked). */
  memoryBudget?: () => MemoryBudget | null
}

export class ParallelLabClient extends CommandClient {
  private subs: Sub[] = []
  /** The experiment of the last load, all lanes (validated here). */
  private config: Experiment | null = null
  private loadFailed = false
  /**
   * The combined 'loaded' of the last load was emitted. Until then the lanes' other events are
   * held (a lane whose worker started first may stream samples before another lane has loaded;
   * a client drops samples of lanes it was not told about).
   */
  private loadedShown = true
  private held: (() => void)[] = []
  private shown: SessionState = 'empty'
  /** What the lanes are being aligned for: every lane paused at one t, then pause or stop. */
  private goal: Goal = null
  /** Stop came during the warm-up: the lanes' summaries are not a run's. */
  private dropRun = false
  private disposed = false
  /** The last load was refused for its memory: start, resume and step do nothing until a load is accepted. */
  private refused = false

  constructor(
    private readonly spawn: () => LaneClient,
    private readonly options: ParallelOptions = {}
  ) {
    super()
  }

  /** The lanes' sessions (one per lane of the last experiment loaded). */
  get laneCount(): number {
    return this.subs.length
  }

  send(cmd: Command): void {
    if (this.disposed) return
    switch (cmd.type) {
      case 'load':
        return this.loadAll(cmd.config, cmd.baseDir)
      case 'setSpeed':
        for (const s of this.subs) s.client.send(cmd)
        return
      case 'start':
        if (this.refused) return
        this.goal = null
        this.dropRun = false
        for (const s of this.subs) {
          s.summary = null
          s.shares = null
        }
        for (const s of this.subs) s.client.send(cmd)
        return
      case 'resume':
        if (this.refused) return
        this.goal = null
        for (const s of this.subs) s.client.send(cmd)
        return
      case 'pause':
        if (this.shown !== 'running' || this.goal !== null) return
        this.goal = 'pause'
        for (const s of this.subs) s.client.send(cmd)
        return
      case 'step': {
        if (this.goal !== null || this.refused) return
        const t = this.subs.every((s) => s.state === 'paused' || s.state === 'done') ? this.time() : 0
        const until = Math.min(this.config?.duration_s ?? Number.POSITIVE_INFINITY, cmd.until ?? t + cmd.seconds)
        for (const s of this.subs) if (s.state !== 'done') s.client.send({ type: 'step', seconds: cmd.seconds, until })
        return
      }
      case 'stop':
        return this.stopAll()
    }
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const s of this.subs) {
      s.off()
      s.client.dispose()
    }
    this.subs = []
    this.listeners.clear()
  }

  private loadAll(doc: unknown, baseDir?: string): void {
    const r = validateExperiment(doc)
    if (!r.ok) {
      this.emit({ type: 'invalid', issues: r.issues })
      return
    }
    const config = r.config
    const budget = this.options.memoryBudget?.() ?? null
    const problem = budget ? memoryProblem(config, budget) : null
    if (problem) {
      // As the CLI refuses it: the lanes keep what they had, and nothing starts.
      this.refused = true
      this.emit({ type: 'invalid', issues: [problem] })
      return
    }
    this.refused = false
    while (this.subs.length > config.lanes.length) {
      const s = this.subs.pop() as Sub
      s.off()
      s.client.dispose()
    }
    while (this.subs.length < config.lanes.length) this.subs.push(this.newSub(this.subs.length))
    this.loadFailed = false
    this.loadedShown = false
    this.held = []
    this.goal = null
    this.dropRun = false
    this.config = config
    for (const s of this.subs) {
      s.loaded = null
      s.summary = null
      s.shares = null
      // What the lane's session will be once it has the load (its events come later).
      s.state = 'ready'
      s.t = 0
      s.fraction = 0
    }
    config.lanes.forEach((lane, i) => {
      const one: Experiment = { ...config, lanes: [lane] }
      this.subs[i].client.send(baseDir === undefined ? { type: 'load', config: one } : { type: 'load', config: one, baseDir })
    })
  }

  private newSub(index: number): Sub {
    const client = this.spawn()
    const sub: Sub = { client, off: () => {}, state: 'empty', t: 0, wall: 0, loaded: null, summary: null, booted: 0, vms: 0, fraction: 0, sharing: false, shares: null }
    sub.off = client.onEvent((e) => this.onSubEvent(sub, index, e))
    return sub
  }

  /** Simulated time every lane has reached. */
  private time(): number {
    let t = Number.POSITIVE_INFINITY
    for (const s of this.subs) t = Math.min(t, s.t)
    return Number.isFinite(t) ? t : 0
  }

  private onSubEvent(sub: Sub, index: number, e: SessionEvent): void {
    if (this.disposed || this.subs[index] !== sub) return
    if (!this.loadedShown && e.type !== 'loaded' && e.type !== 'invalid' && e.type !== 'error') {
      this.held.push(() => this.onSubEvent(sub, index, e))
      return
    }
    switch (e.type) {
      case 'loaded':
        sub.loaded = e.config
        sub.t = 0
        if (!this.loadFailed && this.config && this.subs.every((s) => s.loaded !== null)) {
          const config = { ...e.config, lanes: this.subs.map((s) => (s.loaded as Experiment).lanes[0]) }
          this.config = config
          this.loadedShown = true
          this.emit({ type: 'loaded', config, lanes: config.lanes.map((l) => ({ name: l.name, scanner: l.scanner.kind })) })
          const held = this.held
          this.held = []
          for (const f of held) f()
        }
        return
      case 'invalid':
        // The lane's issues name its lane as lanes[0]; files are the VMs' (the same in every lane).
        if (this.loadFailed) return
        this.loadFailed = true
        this.loadedShown = true
        this.held = []
        this.emit({ type: 'invalid', issues: e.issues.map((i) => ({ ...i, path: i.path.replace(/^lanes\[0\]/, `lanes[${index}]`) })) })
        return
      case 'state':
        sub.state = e.state
        if (e.state === 'ready' || e.state === 'preparing') sub.t = 0
        return this.update()
      case 'progress':
        sub.t = e.simSeconds
        sub.wall = e.wallSeconds
        if (this.dropRun) return
        this.emit({ type: 'progress', simSeconds: this.time(), durationSeconds: e.durationSeconds, wallSeconds: Math.max(...this.subs.map((s) => s.wall)) })
        return
      case 'preparing': {
        sub.booted = e.booted
        sub.vms = e.vms
        sub.fraction = e.fraction ?? 0
        sub.sharing = e.phase === 'share'
        const n = this.subs.length
        const before = (s: Sub): boolean => s.state === 'preparing' || s.state === 'ready'
        const booted = Math.floor(this.subs.reduce((a, s) => a + (before(s) ? s.booted : e.vms), 0) / n)
        const fraction = Math.round((this.subs.reduce((a, s) => a + (before(s) ? s.fraction : 1), 0) / n) * 1e4) / 1e4
        this.emit({ type: 'preparing', phase: this.subs.every((s) => s.sharing || s.state === 'running') ? 'share' : 'boot', booted, vms: e.vms, fraction })
        return
      }
      case 'samples':
        if (this.dropRun) return
        this.emit({ type: 'samples', batches: e.batches.map((b) => ({ ...b, lane: index })) })
        return
      case 'summary':
        sub.summary = e.summary
        sub.t = e.summary.sim_seconds
        return
      case 'vmShares': {
        // Each lane sends its own at its pause; the lanes' together once all are at one t (a
        // pause aligns them: the ones behind step to the leader's t and send theirs again).
        sub.shares = { t: e.simSeconds, lane: e.lanes[0], history: e.histories?.[0] ?? null }
        const all = this.subs.map((s) => s.shares)
        if (all.some((x) => x === null)) return
        const got = all as NonNullable<Sub['shares']>[]
        const t = got[0].t
        if (got.some((x) => Math.abs(x.t - t) > EPS)) return
        const histories = got.map((x) => x.history)
        if (histories.every((h): h is VmShareHistoryWire => h !== null)) this.emit({ type: 'vmShares', simSeconds: t, lanes: got.map((x) => x.lane), histories })
        else this.emit({ type: 'vmShares', simSeconds: t, lanes: got.map((x) => x.lane) })
        return
      }
      case 'error':
        this.emit(e)
        return
    }
  }

  /** Stop: during the warm-up, drop it; otherwise align the lanes, then stop them all. */
  private stopAll(): void {
    if (this.shown === 'preparing') {
      this.dropRun = true
      this.goal = null
      for (const s of this.subs) s.client.send({ type: 'stop' })
      return
    }
    if (this.shown !== 'running' && this.shown !== 'paused') return
    this.goal = 'stop'
    for (const s of this.subs) if (s.state === 'running') s.client.send({ type: 'pause' })
    this.update()
  }

  /** After a lane's state changed: align lanes for a pause or stop, and say the combined state. */
  private update(): void {
    const states = this.subs.map((s) => s.state)
    const moving = states.some((s) => s === 'running' || s === 'preparing')
    if (this.dropRun) {
      if (moving) return
      // Lanes that had finished their warm-up were stopped as runs: bring them back to ready.
      this.subs.forEach((s, i) => {
        if (s.state !== 'done' || !this.config) return
        s.state = 'empty' // until its 'ready' comes back
        s.client.send({ type: 'load', config: { ...this.config, lanes: [this.config.lanes[i]] } })
      })
      if (states.every((s) => s === 'ready')) {
        this.dropRun = false
        this.show('ready')
      }
      return
    }
    if (states.includes('error')) {
      for (const s of this.subs) if (s.state === 'running' || s.state === 'preparing') s.client.send({ type: 'stop' })
      this.goal = null
      return this.show('error')
    }
    if (this.goal !== null) {
      if (moving) return
      // Every lane is still: step the ones behind to the leader's t.
      const lead = Math.max(...this.subs.map((s) => s.t))
      let behind = false
      for (const s of this.subs) {
        if (s.state === 'paused' && s.t < lead - EPS) {
          behind = true
          s.client.send({ type: 'step', seconds: lead - s.t, until: lead })
        }
      }
      if (behind) return
      if (this.goal === 'pause') {
        this.goal = null
        if (states.every((s) => s === 'done')) return this.finish()
        return this.show('paused')
      }
      // goal 'stop': stop the paused lanes; 'done' comes with their summaries.
      if (states.some((s) => s === 'paused')) {
        for (const s of this.subs) if (s.state === 'paused') s.client.send({ type: 'stop' })
        return
      }
      this.goal = null
      return this.finish()
    }
    if (states.includes('preparing')) return this.show('preparing')
    if (states.includes('running')) return this.show('running')
    if (states.every((s) => s === 'done')) return this.finish()
    if (states.every((s) => s === 'paused' || s === 'done')) {
      // A step ended in every lane (all at one t, as steps go to one `until`).
      return this.show('paused')
    }
    if (states.every((s) => s === 'ready')) return this.show('ready')
    if (states.every((s) => s === 'empty')) return this.show('empty')
  }

  /** Every lane is done: one summary (the lanes' in order), then 'done'. */
  private finish(): void {
    if (this.shown === 'done') return
    const parts = this.subs.map((s) => s.summary)
    if (parts.some((p) => p === null)) return
    const first = parts[0] as Summary
    const summary: Summary = {
      ...first,
      sim_seconds: Math.min(...parts.map((p) => (p as Summary).sim_seconds)),
      wall_seconds: Math.max(...parts.map((p) => (p as Summary).wall_seconds)),
      lanes: parts.map((p) => (p as Summary).lanes[0])
    }
    this.emit({ type: 'summary', summary })
    this.show('done')
  }

  private show(state: SessionState): void {
    if (state === this.shown) return
    this.shown = state
    this.emit({ type: 'state', state })
  }
}
