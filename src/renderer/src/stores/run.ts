/**
 * The run: what the session says (state, progress, samples, summary) and the commands the
 * controls send. Samples go into LiveLanes outside Vue's reactivity; the frame ticker then
 * redraws the charts and bumps `frame` once per animation frame for the live table.
 *
 * A run's data comes from a live session or from an opened result file (`source`); saved
 * results drawn with it for comparison are the run history (`compare`, stores/compare.ts).
 */
import { computed, ref, shallowRef } from 'vue'
import type { LaneData } from '../../../core/analysis/charts.ts'
import type { ConfigIssue, Experiment } from '../../../core/experiment/config.ts'
import type { Summary } from '../../../core/experiment/engine.ts'
import type { LabClient, SessionEvent, SessionState, Speed } from '../../../core/experiment/protocol.ts'
import { EtaEstimator } from './eta.ts'
import { FrameTicker } from './frames.ts'
import { LiveLane } from './liveLane.ts'
import { createCompare } from './compare.ts'
import type { Notices } from './notices.ts'
import type { LoadedResult } from './resultFile.ts'

/** The session's states, plus 'idle' (nothing loaded yet) and 'result' (a saved result shown). */
export type RunState = SessionState | 'idle' | 'result'

export const STEP_SIZES = [1, 10] as const

export function createRunStore(client: LabClient, notices: Notices) {
  const ticker = new FrameTicker()
  const state = ref<RunState>('idle')
  /** A command was sent and its state change has not come back yet. */
  const pending = ref(false)
  const speed = ref<Speed>('max')
  const stepSize = ref<number>(STEP_SIZES[0])
  const sim = ref(0)
  const duration = ref(0)
  const wall = ref(0)
  const summary = shallowRef<Summary | null>(null)
  const runConfig = shallowRef<Experiment | null>(null)
  const source = ref<'live' | 'result'>('live')
  const resultLabel = ref('')
  /** Bumped when the set of lanes changes (a new run, reset, a result opened, a comparison). */
  const lanesVersion = ref(0)
  /** Bumped at most once per animation frame after new samples. */
  const frame = ref(0)
  let lanes: LiveLane[] = []
  const etaEstimator = new EtaEstimator()
  /** Wall seconds left as last estimated (smoothed: stores/eta.ts); null: none yet. */
  const eta = ref<number | null>(null)
  /** The config the last load sent, and the issues the session refused it with (null: accepted). */
  let lastLoad: Experiment | null = null
  const refusal = shallowRef<{ config: Experiment; issues: ConfigIssue[] } | null>(null)
  /** The warm-up's progress while the state is 'preparing'. */
  const preparing = shallowRef<{ phase: 'boot' | 'share'; booted: number; vms: number; fraction: number | null } | null>(null)
  /** Saved results drawn with the run: the run history. */
  const compare = createCompare(() => {
    lanesVersion.value++
    ticker.request()
  })
  /** The last result added for comparison (null when none). */
  const overlay = computed<LoadedResult | null>(() => compare.entries.value.at(-1)?.result ?? null)

  ticker.on(() => {
    frame.value++
  })

  /** A run is going: warming up, running or paused (the editor is locked, Run is disabled). */
  const inProgress = computed(() => state.value === 'preparing' || state.value === 'running' || state.value === 'paused')
  const canStart = computed(() => !pending.value && !inProgress.value)
  const fraction = computed(() => (duration.value > 0 ? Math.min(1, sim.value / duration.value) : 0))
  /** The run was ended by Stop before its duration: the simulated time it reached, else null. */
  const stoppedAt = computed<number | null>(() => {
    const s = summary.value
    if (state.value !== 'done' || s === null || source.value !== 'live') return null
    return s.sim_seconds < duration.value - 1e-9 ? s.sim_seconds : null
  })

  function setLanes(next: LiveLane[]): void {
    lanes = next
    lanesVersion.value++
    ticker.request()
  }

  function onEvent(e: SessionEvent): void {
    switch (e.type) {
      case 'loaded':
        refusal.value = null
        runConfig.value = e.config
        source.value = 'live'
        summary.value = null
        sim.value = 0
        wall.value = 0
        duration.value = e.config.duration_s
        etaEstimator.reset()
        eta.value = null
        preparing.value = null
        setLanes(e.lanes.map((l) => new LiveLane(l.name, l.scanner)))
        return
      case 'invalid':
        pending.value = false
        notices.error('The session refused the experiment', e.issues.map((i) => `${i.path}: ${i.message}`))
        // The editor also shows them next to their fields while it holds that config (stores/lab.ts).
        if (lastLoad !== null) refusal.value = { config: lastLoad, issues: e.issues }
        lastLoad = null
        return
      case 'state':
        pending.value = false
        state.value = e.state
        if (e.state !== 'preparing') preparing.value = null
        if (e.state !== 'running') {
          etaEstimator.reset()
          eta.value = null
        }
        return
      case 'preparing':
        preparing.value = { phase: e.phase, booted: e.booted, vms: e.vms, fraction: e.fraction ?? null }
        return
      case 'progress':
        sim.value = e.simSeconds
        duration.value = e.durationSeconds
        wall.value = e.wallSeconds
        if (state.value === 'running') {
          etaEstimator.add(e.wallSeconds, e.simSeconds)
          eta.value = etaEstimator.eta(e.durationSeconds)
        }
        return
      case 'samples':
        for (const b of e.batches) lanes[b.lane]?.append(b.from, b.columns)
        ticker.request()
        return
      case 'summary':
        summary.value = e.summary
        sim.value = e.summary.sim_seconds
        ticker.request()
        return
      case 'error':
        pending.value = false
        notices.error('The simulation failed', [e.message])
        return
    }
  }

  const unsubscribe = client.onEvent(onEvent)
  client.setSpeed(speed.value)

  /** Start a new run of `config` from t = 0. */
  function run(config: Experiment): void {
    if (!canStart.value) return
    pending.value = true
    lastLoad = config
    client.load(config)
    client.setSpeed(speed.value)
    client.start()
  }

  function pause(): void {
    if (state.value === 'running') client.pause()
  }

  function resume(): void {
    if (state.value === 'paused') {
      client.setSpeed(speed.value)
      client.resume()
    }
  }

  /** Advance by the step size and pause; starts a new run of `config` when none is going. */
  function step(config: Experiment | null, seconds = stepSize.value): void {
    if (pending.value || state.value === 'running' || state.value === 'preparing') return
    if (state.value !== 'paused') {
      // A new run of the experiment as edited now (a 'ready' session may hold an older one).
      if (!config) return
      lastLoad = config
      client.load(config)
    }
    pending.value = true
    client.step(seconds)
  }

  function stop(): void {
    if (inProgress.value) client.stop()
  }

  /** Drop the run's data: charts and table empty, the session ready to run again. */
  function reset(): void {
    if (pending.value) return
    if (state.value === 'result') {
      source.value = 'live'
      summary.value = null
      state.value = 'idle'
      setLanes([])
      return
    }
    if (runConfig.value) client.load(runConfig.value)
    else setLanes([])
  }

  function setSpeed(s: Speed): void {
    speed.value = s
    client.setSpeed(s)
  }

  /** Show a saved result instead of a run (nothing is simulated). */
  function showResult(r: LoadedResult): void {
    if (inProgress.value) client.stop()
    runConfig.value = r.config
    source.value = 'result'
    resultLabel.value = r.label
    summary.value = r.summary
    sim.value = r.summary.sim_seconds
    duration.value = r.config.duration_s
    wall.value = r.summary.wall_seconds
    state.value = 'result'
    setLanes(r.lanes)
  }

  /** Adds a saved result to the comparison, or (null) removes every one. */
  function setOverlay(r: LoadedResult | null): void {
    if (r === null) compare.clear()
    else compare.add(r)
  }

  return {
    ticker,
    state,
    pending,
    speed,
    stepSize,
    sim,
    duration,
    wall,
    summary,
    runConfig,
    source,
    resultLabel,
    overlay,
    compare,
    lanesVersion,
    frame,
    inProgress,
    canStart,
    fraction,
    eta,
    preparing,
    stoppedAt,
    refusal,
    /** The run's lanes (not reactive: read them under `frame` or `lanesVersion`). */
    lanes: (): readonly LiveLane[] => lanes,
    /** What the charts draw: the run's lanes, then the shown saved results'. */
    chartLanes: (): LaneData[] => [...lanes, ...compare.chartLanes()],
    run,
    pause,
    resume,
    step,
    stop,
    reset,
    setSpeed,
    showResult,
    setOverlay,
    dispose: unsubscribe
  }
}

export type RunStore = ReturnType<typeof createRunStore>
