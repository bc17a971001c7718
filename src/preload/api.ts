// The API that the preload exposes to the renderer as `window.samepage`, and the IPC channels
// behind it. Type-only: the renderer and main import it with `import type`, so nothing from
// here is bundled twice and the preload stays the only code that touches ipcRenderer.
//
// One method per message, never a generic `invoke(channel, ...args)`: the renderer can only
// ask for what is listed here, and main validates each message (sender and arguments) on its
// own terms. The shapes below are the renderer's Platform types (platform/types.ts) on the
// wire; platform/electron.ts passes them through unchanged, so the compiler checks they agree.
import type { ConfigIssue } from '../core/experiment/config.ts'
import type { LabClient, Speed } from '../core/experiment/protocol.ts'

/** A file read by main, with the problems main found validating it (absent when valid). */
export interface OpenedFileWire {
  name: string
  path?: string
  text: string
  issues?: ConfigIssue[]
}

export interface SavedFileWire {
  name: string
  path?: string
}

export interface SaveConfigOptions {
  /** Where the renderer last opened or saved this config; main writes there only if it handed that path out. */
  path?: string
  suggestedName: string
  saveAs: boolean
}

export interface ExportFileWire {
  /** A plain file name (no folders) ending in .png, .csv, .json or .txt. */
  name: string
  data: Uint8Array | string
}

/** Menu or accelerator actions main forwards to the renderer (platform/types.ts re-exports it). */
export type MenuActionWire =
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

/**
 * The window's simulation session. Commands are one IPC message each (validated in main with
 * parseCommand); events come back over a MessagePort that main hands to the preload, sample
 * columns as Float64Arrays in batches (at most about 30 a second).
 */
export type SessionApi = Omit<LabClient, 'dispose'>

/** What `window.samepage` offers. Absent in a plain browser (web mode). */
export interface SamepageApi {
  /** The application's version, as in package.json. */
  version(): Promise<string>
  /** Native open dialog for `*.samepage.json`; the text is validated by main. Null if cancelled. */
  openConfig(): Promise<OpenedFileWire | null>
  /** Re-open a file from the recent list (only paths main put there). Null if unreadable. */
  openRecent(path: string): Promise<OpenedFileWire | null>
  /** Save a valid config (atomically); a dialog unless `path` is one main handed out and !saveAs. */
  saveConfig(text: string, opts: SaveConfigOptions): Promise<SavedFileWire | null>
  openResult(): Promise<OpenedFileWire | null>
  saveResult(text: string, suggestedName: string): Promise<SavedFileWire | null>
  /** Write files into a folder the user picks; false if cancelled. */
  exportFiles(files: ExportFileWire[], suggestedFolder: string): Promise<boolean>
  /** Ask (when dirty) whether unsaved changes may be discarded; true to go ahead. */
  confirmDiscard(): Promise<boolean>
  /** Window title and the dirty flag behind the unsaved-changes prompts. */
  setTitle(title: string, dirty: boolean): void
  /** Subscribe to application-menu actions; returns the unsubscribe function. */
  onMenu(listener: (action: MenuActionWire) => void): () => void
  readonly session: SessionApi
}

/** Renderer → main requests answered by main (ipcRenderer.invoke / ipcMain.handle). */
export interface SamepageInvokeChannels {
  'app:version': { args: []; result: string }
  'file:open-config': { args: []; result: OpenedFileWire | null }
  'file:open-recent': { args: [path: string]; result: OpenedFileWire | null }
  'file:save-config': { args: [text: string, opts: SaveConfigOptions]; result: SavedFileWire | null }
  'file:open-result': { args: []; result: OpenedFileWire | null }
  'file:save-result': { args: [text: string, suggestedName: string]; result: SavedFileWire | null }
  'file:export': { args: [files: ExportFileWire[], suggestedFolder: string]; result: boolean }
  'doc:confirm-discard': { args: []; result: boolean }
}

/** Renderer → main one-way messages (ipcRenderer.send / ipcMain.on). */
export interface SamepageSendChannels {
  'doc:set-title': [title: string, dirty: boolean]
  /** Sent by the preload before the first session message: main answers with 'session:port'. */
  'session:connect': []
  'session:load': [config: unknown]
  'session:start': []
  'session:pause': []
  'session:resume': []
  'session:step': [seconds: number]
  'session:stop': []
  'session:set-speed': [speed: Speed]
}

/** Main → renderer messages (webContents.send / postMessage). */
export interface SamepageEventChannels {
  'menu:action': [action: MenuActionWire]
  /** Carries the session's event port in `event.ports[0]`. */
  'session:port': []
}

export type SamepageInvokeChannel = keyof SamepageInvokeChannels
export type SamepageSendChannel = keyof SamepageSendChannels
export type SamepageEventChannel = keyof SamepageEventChannels
export type SamepageChannel = SamepageInvokeChannel | SamepageSendChannel | SamepageEventChannel
