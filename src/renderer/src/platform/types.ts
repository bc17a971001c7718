/**
 * What the renderer needs from the place it runs in (Electron or a plain browser). The screens
 * only use this interface; `createPlatform()` (platform/index.ts) picks the implementation.
 * Contract between the app-shell work (implementations) and the renderer work (screens).
 */
import type { LabClient } from '../../../core/protocol.ts'

export interface OpenedFile {
  /** File name shown to the user (no folders in web mode). */
  name: string
  /** Full path where the host knows it (Electron), for Save without a dialog and recent files. */
  path?: string
  text: string
}

export interface SavedFile {
  name: string
  path?: string
}

/** Menu or accelerator actions the host forwards to the renderer (Electron's application menu). */
export type MenuAction =
  | 'new'
  | 'open'
  | 'save'
  | 'save-as'
  | 'open-result'
  | 'export-charts'
  | 'export-data'
  | 'run-pause'
  | 'step'
  | 'stop'
  | { preset: string }
  | { openRecent: string }

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
  /** Save a config: to `path` when given and not saveAs, else with a dialog / download. */
  saveConfig(text: string, opts: { path?: string; suggestedName: string; saveAs: boolean }): Promise<SavedFile | null>
  /** Ask the user for a saved result (config + summary + series); null if cancelled. */
  openResult(): Promise<OpenedFile | null>
  saveResult(text: string, suggestedName: string): Promise<SavedFile | null>
  /** Write several files to a folder the user picks (web: one download each); false if cancelled. */
  exportFiles(files: ExportFile[], suggestedFolder: string): Promise<boolean>
  /** Window title with the dirty marker; Electron also tracks it for the unsaved-changes prompt. */
  setTitle(title: string, dirty: boolean): void
  /** Subscribe to menu actions; returns the unsubscribe function. */
  onMenu(listener: (action: MenuAction) => void): () => void
}
