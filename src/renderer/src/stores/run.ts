/**
 * The run: what the session says (state, progress, samples, summary) and the commands the
 * controls send. Samples go into LiveLanes outside Vue's reactivity; the frame ticker then
 * redraws the charts and bumps `frame` once per animation frame for the live table.
 *
 * A run's data comes from a live session or from an opened result file (`source`); saved
 * results drawn with it for comparison are the run history (`compare`, stores/compare.ts).
 */
import { computed, ref, shallowRef } from 'vue'
import type { LaneData } from '../../../core/charts.ts'
import type { Experiment } from '../../../core/config.ts'
import type { Summary } from '../../../core/engine.ts'
import type { LabClient, SessionEvent, SessionState, Speed } from '../../../core/protocol.ts'
import { FrameTicker } from './frames.ts'
import { LiveLane } from './liveLane.ts'
import { createCompare } from './compare.ts'
import type { Notices } from './notices.ts'
import type { LoadedResult } from './resultFile.ts'

/** The session's states, plus 'idle' (nothing loaded yet) and 'result' (a saved result shown). */
export type RunState = SessionState | 'idle' | 'result'

/** Wall seconds over which the ETA's rate is measured. */
const ETA_WINDOW_S = 3

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
  /** Saved results drawn with the run: the run history. */
  const compare = createCompare(() => {
    lanesVersion.value++
    ticker.request()
  })
  /** The last result added for comparison (null when none). */
  const overlay = computed<LoadedResult | null>(() => compare.entries.value.at(-1)?.result ?? null)
  let history: { wall: number; sim: number }[] = []

  ticker.on(() => {
    frame.value++
  })

  const inProgress = computed(() => state.value === 'running' || state.value === 'paused')
  const canStart = computed(() => !pending.value && !inProgress.value)
  const fraction = computed(() => (duration.value > 0 ? Math.min(1, sim.value / duration.value) : 0))
  /** Wall seconds left at the recent pace; null before there is a pace to go by. */
  const eta = computed<number | null>(() => {
    const left = duration.value - sim.value
    if (state.value !== 'running' || history.length < 2) return null
    const a = history[0]
    const b = history[history.length - 1]
    if (b.wall - a.wall <= 0 || b.sim <= a.sim) return null
    return left / ((b.sim - a.sim) / (b.wall - a.wall))
  })

  function setLanes(next: LiveLane[]): void {
    lanes = next
    lanesVersion.value++
    ticker.request()
  }

  function onEvent(e: SessionEvent): void {
    switch (e.type) {
      case 'loaded':
        runConfig.value = e.config
        source.value = 'live'
        summary.value = null
        sim.value = 0
        wall.value = 0
        duration.value = e.config.duration_s
        history = []
        setLanes(e.lanes.map((l) => new LiveLane(l.name, l.scanner)))
        return
      case 'invalid':
        pending.value = false
        notices.error('The session refused the experiment', e.issues.map((i) => `${i.path}: ${i.message}`))
        return
      case 'state':
        pending.value = false
        state.value = e.state
        if (e.state !== 'running') history = []
        return
      case 'progress':
        sim.value = e.simSeconds
        duration.value = e.durationSeconds
        wall.value = e.wallSeconds
        history.push({ wall: e.wallSeconds, sim: e.simSeconds })
        while (history.length > 2 && history[history.length - 1].wall - history[0].wall > ETA_WINDOW_S) history.shift()
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
    if (pending.value || state.value === 'running') return
    if (state.value !== 'paused') {
      // A new run of the experiment as edited now (a 'ready' session may hold an older one).
      if (!config) return
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
