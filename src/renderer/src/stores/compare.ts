/**
 * Run history (issue 15.11): the saved results drawn with the run for comparison, several at
 * once, each with its name, shown or hidden, removable. Their lanes go into the charts after
 * the run's own, named "KSM (run-a)", so every line keeps its own colour and dash
 * (laneStyles in src/core/analysis/charts.ts) and the legend says which result it is from.
 */
import { computed, shallowRef } from 'vue'
import type { LaneData } from '../../../core/analysis/charts.ts'
import type { LoadedResult } from './resultFile.ts'

export interface ComparedResult {
  /** Unique for the window's life (a result opened twice is two entries). */
  id: number
  /** Short name: the file name without `.result.json`, made unique among the entries. */
  name: string
  result: LoadedResult
  shown: boolean
}

/** Most saved results drawn at once: beyond this the charts are a tangle (8 colours, 8 dashes). */
export const MAX_COMPARED = 8

function shortName(label: string): string {
  return label.replace(/\.result\.json$/i, '').replace(/\.json$/i, '') || 'saved'
}

export function createCompare(onChange: () => void) {
  const entries = shallowRef<ComparedResult[]>([])
  let nextId = 1

  function set(next: ComparedResult[]): void {
    entries.value = next
    onChange()
  }

  /** Adds a saved result (the oldest one leaves when MAX_COMPARED are there); returns its entry. */
  function add(result: LoadedResult): ComparedResult {
    const base = shortName(result.label)
    const taken = new Set(entries.value.map((e) => e.name))
    let name = base
    for (let k = 2; taken.has(name); k++) name = `${base} #${k}`
    const entry: ComparedResult = { id: nextId++, name, result, shown: true }
    set([...entries.value, entry].slice(-MAX_COMPARED))
    return entry
  }

  function remove(id: number): void {
    set(entries.value.filter((e) => e.id !== id))
  }

  function setShown(id: number, shown: boolean): void {
    set(entries.value.map((e) => (e.id === id ? { ...e, shown } : e)))
  }

  /** The shown results' lanes as the charts draw them. */
  function chartLanes(): LaneData[] {
    const out: LaneData[] = []
    for (const e of entries.value) {
      if (!e.shown) continue
      for (const l of e.result.lanes) out.push({ name: `${l.name} (${e.name})`, scanner: l.scanner, column: (m) => l.column(m) })
    }
    return out
  }

  return {
    entries,
    shown: computed(() => entries.value.filter((e) => e.shown)),
    add,
    remove,
    clear: () => set([]),
    setShown,
    chartLanes
  }
}

export type Compare = ReturnType<typeof createCompare>
