/**
 * What happened when, and who shares with whom: the lanes' timeline events (streamed with the
 * sample batches, or read from a result's summary) and the per-VM results (the summary's at the
 * end, the session's `vmShares` at a pause). Computed in the core (src/core/experiment/events.ts,
 * src/core/experiment/vmshares.ts); this store only keeps them for the event list, the chart markers and
 * the per-VM view, and which lane they show.
 *
 * Paused, the per-VM view follows the charts' crosshair: the session sends, with the figures at
 * the pause, what each lane recorded at earlier samples (VmShareHistory), and the view shows the
 * record nearest the crosshair's time. When the pointer leaves the charts it keeps that time
 * (the tables are below the charts) until `showPausedTime()`; before any pointing, and where a
 * lane recorded nothing (too many VMs), it shows the paused time.
 */
import { computed, ref, shallowRef, watch, type Ref } from 'vue'
import type { Experiment } from '../../../core/experiment/config.ts'
import type { Summary } from '../../../core/experiment/engine.ts'
import type { TimelineEvent } from '../../../core/experiment/events.ts'
import type { LabClient, SessionEvent } from '../../../core/experiment/protocol.ts'
import { historyRecordAt, historyRecordSize, historyShares, type LaneVmShares, type VmShareHistoryWire } from '../../../core/experiment/vmshares.ts'

export interface TimelineSources {
  client: LabClient
  /** The summary shown (live run's or an opened result's). */
  summary: Ref<Summary | null>
  /** The config the shown data ran with. */
  runConfig: Ref<Experiment | null>
  /** The charts' crosshair (stores/chartView.ts). */
  onCursor?: (f: (t: number | null) => void) => () => void
}

export function createTimelineStore(src: TimelineSources) {
  /** Events per lane, in time order. */
  const events = shallowRef<TimelineEvent[][]>([])
  /** Per-VM results at the last pause, per lane; null when the run is not paused there. */
  const pausedShares = shallowRef<{ simSeconds: number; lanes: LaneVmShares[]; histories: VmShareHistoryWire[] } | null>(null)
  /** The crosshair's last time while paused (kept when the pointer leaves the charts), or null. */
  const pointed = ref<number | null>(null)
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
        pausedShares.value = { simSeconds: e.simSeconds, lanes: e.lanes, histories: e.histories ?? [] }
        pointed.value = null
        return
      case 'state':
        if (e.state === 'running') {
          pausedShares.value = null
          pointed.value = null
        }
        return
      default:
        return
    }
  }
  const off = src.client.onEvent(onEvent)
  const offCursor = src.onCursor?.((t) => {
    if (t !== null && pausedShares.value !== null) pointed.value = t
  })

  // A summary (the end of a run, or an opened result) holds every lane's events.
  watch(src.summary, (s) => {
    if (!s) return
    events.value = s.lanes.map((l) => l.events ?? [])
    pausedShares.value = null
    pointed.value = null
    if (lane.value >= s.lanes.length) lane.value = 0
  })

  const laneNames = computed(() => src.runConfig.value?.lanes.map((l) => l.name) ?? [])
  const vmNames = computed(() => src.runConfig.value?.vms.map((v) => v.name) ?? [])

  /** The selected lane's recorded history at the pause, or why there is none (null: no pause). */
  const history = computed<VmShareHistoryWire | null>(() => {
    const p = pausedShares.value
    if (!p) return null
    return p.histories[lane.value] ?? { off: 'not recorded by this session' }
  })
  /**
   * The record of the history to show: the one nearest the pointed time, unless the paused time
   * itself is nearer (or nothing was pointed at, or nothing recorded): -1.
   */
  const record = computed<number>(() => {
    const h = history.value
    const p = pausedShares.value
    const t = pointed.value
    if (!h || !p || t === null || !('data' in h)) return -1
    const r = historyRecordAt(h, t)
    if (r < 0) return -1
    const rt = h.data[r * historyRecordSize(h.vms)]
    return Math.abs(rt - t) < Math.abs(p.simSeconds - t) && Math.abs(rt - p.simSeconds) > 1e-9 ? r : -1
  })
  /** Guest pages per VM before each VM (vmshares' vmBase) of the run's config. */
  const vmBase = computed(() => {
    const base = [0]
    for (const v of src.runConfig.value?.vms ?? []) base.push(base[base.length - 1] + v.memory_mib * 256)
    return base
  })

  /** The per-VM figures of the selected lane: at the pointed time or the pause, else at the end, else null. */
  const shares = computed<LaneVmShares | null>(() => {
    const p = pausedShares.value
    if (p) {
      const h = history.value
      if (record.value >= 0 && h && 'data' in h) return historyShares(h, record.value, vmNames.value, vmBase.value)
      return p.lanes[lane.value] ?? null
    }
    const s = src.summary.value?.lanes[lane.value]
    if (!s || !s.vms || s.vms.length === 0) return null
    return { t_s: src.summary.value?.sim_seconds ?? 0, vms: s.vms, matrix: s.vm_shared_pages }
  })
  /** Where the shown figures are from: a recorded sample (pointed at), the pause, the end. */
  const sharesAt = computed<'pointed' | 'pause' | 'end' | null>(() => (pausedShares.value ? (record.value >= 0 ? 'pointed' : 'pause') : shares.value ? 'end' : null))
  const pausedAt = computed(() => pausedShares.value?.simSeconds ?? null)
  /** Why the paused view cannot follow the crosshair (the lane recorded nothing), or null. */
  const historyOff = computed(() => {
    const h = history.value
    return h && 'off' in h ? h.off : null
  })

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
    pausedAt,
    historyOff,
    /** Back to the figures at the paused time. */
    showPausedTime: (): void => {
      pointed.value = null
    },
    shown,
    omitted,
    dispose: (): void => {
      off()
      offCursor?.()
    }
  }
}

export type TimelineStore = ReturnType<typeof createTimelineStore>
