/**
 * Keyboard: Ctrl/Cmd+S save, Ctrl/Cmd+Shift+S save as, Ctrl/Cmd+O open, Space run/pause when
 * the focus is not in a field or on a control (where Space already means something); and the
 * editor's Ctrl/Cmd+Z undo, Ctrl/Cmd+Shift+Z redo (useHistoryKeys).
 */
import { onBeforeUnmount, onMounted } from 'vue'
import type { MenuAction } from '../platform/types.ts'

/** Elements where Space types or presses: the shortcut leaves them alone. */
const OWNS_SPACE = 'input, textarea, select, button, a[href], summary, [contenteditable=""], [contenteditable="true"], [role="menuitem"], [role="button"], [role="radio"], [role="checkbox"]'

export function shortcutFor(e: KeyboardEvent): MenuAction | null {
  const mod = e.ctrlKey || e.metaKey
  const key = e.key.toLowerCase()
  if (mod && !e.altKey && key === 's') return e.shiftKey ? 'save-as' : 'save'
  if (mod && !e.altKey && !e.shiftKey && key === 'o') return 'open'
  if (!mod && !e.altKey && (e.key === ' ' || e.code === 'Space')) {
    const target = e.target as Element | null
    if (target instanceof Element && target.closest(OWNS_SPACE)) return null
    return 'run-pause'
  }
  return null
}

/** Ctrl/Cmd+Z undo, Ctrl/Cmd+Shift+Z (or Ctrl+Y) redo: the editor's history, wherever the focus is. */
export function historyKeyFor(e: KeyboardEvent): 'undo' | 'redo' | null {
  const mod = e.ctrlKey || e.metaKey
  if (!mod || e.altKey) return null
  const key = e.key.toLowerCase()
  if (key === 'z') return e.shiftKey ? 'redo' : 'undo'
  if (key === 'y' && !e.shiftKey) return 'redo'
  return null
}

/** Undo/redo keys for the editor; a field's own text undo would not know the rest of the document. */
export function useHistoryKeys(history: { undo(): boolean; redo(): boolean }, locked: () => boolean): void {
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.isComposing) return
    const what = historyKeyFor(e)
    if (!what) return
    e.preventDefault()
    if (!locked()) history[what]()
  }
  onMounted(() => window.addEventListener('keydown', onKey))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey))
}

export function useShortcuts(dispatch: (a: MenuAction) => void): void {
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.repeat || e.isComposing) return
    const action = shortcutFor(e)
    if (!action) return
    e.preventDefault()
    dispatch(action)
  }
  onMounted(() => window.addEventListener('keydown', onKey))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey))
}
