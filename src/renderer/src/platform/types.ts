/**
 * What the renderer needs from the place it runs in (Electron or a plain browser). The screens
 * only use this interface; `createPlatform()` (platform/index.ts) picks the implementation.
 * Contract between the app-shell work (implementations) and the renderer work (screens).
 */
import type { ConfigIssue } from '../../../core/experiment/config.ts'
import type { LabClient } from '../../../core/experiment/protocol.ts'
import type { MenuActionWire } from '../../../preload/api.ts'

export interface OpenedFile {
  /** File name shown to the user (no folders in web mode). */
  name: string
  /** Full path where the host knows it (Electron), for Save without a dialog and recent files. */
  path?: string
  text: string
  /**
   * Problems the host found validating the file (field path + message); absent when it is
   * valid. The screens show them and keep the current experiment. Unreadable files come back
   * with empty `text` and one issue at '(root)'.
   */
  issues?: ConfigIssue[]
}

export interface SavedFile {
  name: string
  path?: string
}

/** Menu or accelerator actions the host forwards to the renderer (Electron's application menu). */
export type MenuAction = MenuActionWire

export interface ExportFile {
  name: string
  data: Uint8Array | string
}

export interface Platform {
  readonly kind: 'electron' | 'web'
  /** The simulation session client (engine off the UI thread in both kinds). */
  readonly client: LabClient
  /** Ask the user for an experiment config; null if cancelled. */
  openConfig(): Promise<OpenedFile | null>
  /** Open a config by path (Electron recent files); null if it can no longer be read. */
  openRecent?(path: string): Promise<OpenedFile | null>
  /**
   * Save a config: to `path` when given and not saveAs, else with a dialog / download. The text
   * must be an experiment document (JSON object with the experiment schema id; field problems
   * are allowed, a draft may be saved); anything else rejects. Electron writes atomically and
   * only to a path its own dialogs handed out; null if the user cancelled.
   */
  saveConfig(text: string, opts: { path?: string; suggestedName: string; saveAs: boolean }): Promise<SavedFile | null>
  /** Ask the user for a saved result (config + summary + series); null if cancelled. */
  openResult(): Promise<OpenedFile | null>
  /** Save a result file (src/core/experiment/result.ts); rejects if it does not validate. */
  saveResult(text: string, suggestedName: string): Promise<SavedFile | null>
  /**
   * Write several files to a folder the user picks (web: one download each); false if
   * cancelled. Names are plain file names ending in .png, .csv, .json or .txt (.png data must
   * be PNG bytes); anything else rejects.
   */
  exportFiles(files: ExportFile[], suggestedFolder: string): Promise<boolean>
  /**
   * The window (or tab) title, shown as given (it carries its own dirty marker); the host also
   * tracks `dirty` for its unsaved-changes prompts (Electron: New, Open, Open Recent, presets,
   * close, quit; web: Open and leaving the page).
   */
  setTitle(title: string, dirty: boolean): void
  /**
   * Ask whether unsaved changes may be dropped, for actions the screens start themselves (a New
   * button). True at once when not dirty. Electron: Save / Don't Save / Cancel, where Save asks
   * the screens to save (the 'save' menu action) and waits for it; web: window.confirm. The
   * host already asks before its own Open and before menu actions that replace the experiment.
   */
  confirmDiscard?(): Promise<boolean>
  /** Subscribe to menu actions; returns the unsubscribe function. */
  onMenu(listener: (action: MenuAction) => void): () => void
}
