/**
 * What happened when, and who shares with whom: the lanes' timeline events (streamed with the
 * sample batches, or read from a result's summary) and the per-VM results (the summary's at the
 * end, the session's `vmShares` at a pause). Computed in the core (src/core/experiment/events.ts,
 * src/core/experiment/vmshares.ts); this store only keeps them for the event list, the chart markers and
 * the per-VM view, and which lane they show.
 */
import { computed, ref, shallowRef, watch, type Ref } from 'vue'
import type { Experiment } from '../../../core/experiment/config.ts'
import type { Summary } from '../../../core/experiment/engine.ts'
import type { TimelineEvent } from '../../../core/experiment/events.ts'
import type { LabClient, SessionEvent } from '../../../core/experiment/protocol.ts'
import type { LaneVmShares } from '../../../core/experiment/vmshares.ts'

export interface TimelineSources {
  client: LabClient
  /** The summary shown (live run's or an opened result's). */
  summary: Ref<Summary | null>
  /** The config the shown data ran with. */
  runConfig: Ref<Experiment | null>
}

export function createTimelineStore(src: TimelineSources) {
  /** Events per lane, in time order. */
  const events = shallowRef<TimelineEvent[][]>([])
  /** Per-VM results at the last pause, per lane; null when the run is not paused there. */
  const pausedShares = shallowRef<{ simSeconds: number; lanes: LaneVmShares[] } | null>(null)
  /** Lane shown by the per-VM view and drawn as chart markers. */
  const lane = ref(0)
  /** Passes are many; the list and the charts show them only when asked. */
  const showPasses = ref(false)

  function onEvent(e: SessionEvent): void {
    switch (e.type) {
      case 'loaded':
        events.value = e.lanes.map(() => [])
        pausedShares.value = null
        if (lane.value >= e.lanes.length) lane.value = 0
        return
      case 'samples': {
        let changed = false
        const next = events.value.slice()
        for (const b of e.batches) {
          if (!b.events || b.events.length === 0) continue
          next[b.lane] = [...(next[b.lane] ?? []), ...b.events]
          changed = true
        }
        if (changed) events.value = next
        return
      }
      case 'vmShares':
        pausedShares.value = { simSeconds: e.simSeconds, lanes: e.lanes }
        return
      case 'state':
        if (e.state === 'running') pausedShares.value = null
        return
      default:
        return
    }
  }
  const off = src.client.onEvent(onEvent)

  // A summary (the end of a run, or an opened result) holds every lane's events.
  watch(src.summary, (s) => {
    if (!s) return
    events.value = s.lanes.map((l) => l.events ?? [])
    pausedShares.value = null
    if (lane.value >= s.lanes.length) lane.value = 0
  })

  const laneNames = computed(() => src.runConfig.value?.lanes.map((l) => l.name) ?? [])
  const vmNames = computed(() => src.runConfig.value?.vms.map((v) => v.name) ?? [])

  /** The per-VM figures of the selected lane: at the pause, else at the end, else null. */
  const shares = computed<LaneVmShares | null>(() => {
    const p = pausedShares.value
    if (p) return p.lanes[lane.value] ?? null
    const s = src.summary.value?.lanes[lane.value]
    if (!s || !s.vms || s.vms.length === 0) return null
    return { t_s: src.summary.value?.sim_seconds ?? 0, vms: s.vms, matrix: s.vm_shared_pages }
  })
  const sharesAt = computed<'pause' | 'end' | null>(() => (pausedShares.value ? 'pause' : shares.value ? 'end' : null))

  /** Events of the selected lane as the list and markers show them. */
  const shown = computed(() => (events.value[lane.value] ?? []).filter((e) => showPasses.value || e.kind !== 'full_scan'))
  const omitted = computed(() => src.summary.value?.lanes[lane.value]?.events_omitted ?? 0)

  return {
    events,
    lane,
    showPasses,
    laneNames,
    vmNames,
    shares,
    sharesAt,
    shown,
    omitted,
    dispose: off
  }
}

export type TimelineStore = ReturnType<typeof createTimelineStore>
