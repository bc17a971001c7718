/**
 * Undo/redo history of a document's text: a list of versions and the position of the current
 * one. Recording the current text again is a no-op, so an undo's own change of the text (seen by
 * the same watcher that records edits) is not a new step.
 */
import { ref } from 'vue'

/** Versions kept; the oldest go first. */
export const HISTORY_LIMIT = 200

export function createHistory(initial: string) {
  let versions = [initial]
  let at = 0
  const canUndo = ref(false)
  const canRedo = ref(false)

  function sync(): void {
    canUndo.value = at > 0
    canRedo.value = at < versions.length - 1
  }

  return {
    canUndo,
    canRedo,
    /** A new version (an edit): the redo branch is dropped. */
    record(text: string): void {
      if (text === versions[at]) return
      versions = versions.slice(0, at + 1)
      versions.push(text)
      if (versions.length > HISTORY_LIMIT) versions.shift()
      at = versions.length - 1
      sync()
    },
    undo(): string | null {
      if (at === 0) return null
      at--
      sync()
      return versions[at]
    },
    redo(): string | null {
      if (at >= versions.length - 1) return null
      at++
      sync()
      return versions[at]
    },
    /** Start again from `text` (a new document). */
    reset(text: string): void {
      versions = [text]
      at = 0
      sync()
    }
  }
}
