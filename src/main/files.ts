// The file handlers behind the preload's file methods, as plain functions of a FileHost (the
// window's dialogs, document state and recent list), so tests run them with a fake `electron`.
// Arguments arrive already checked against schemas.ts; these functions own the policy:
// - reading: size-limited, validated (field-path issues go back with the text; the renderer
//   keeps its current experiment when there are issues);
// - writing: only experiment documents (drafts allowed) and valid results, atomically, and a
//   config only to a path the user chose in a dialog or opened in this window (`granted`),
//   never to a path the renderer merely names;
// - New/Open first ask about unsaved changes (document.ts).
import { access, stat } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import type { BrowserWindow, MessageBoxOptions, OpenDialogOptions, OpenDialogReturnValue, SaveDialogOptions, SaveDialogReturnValue, MessageBoxReturnValue } from 'electron'
import { parseExperimentText, type ConfigIssue } from '../core/experiment/config.ts'
import { CONFIG_FILE_SUFFIX, experimentDocumentProblem, fileNameWithSuffix, MAX_CONFIG_BYTES, MAX_RESULT_BYTES, safeFileStem } from '../core/experiment/files.ts'
import { parseResultText, RESULT_FILE_SUFFIX } from '../core/experiment/result.ts'
import type { ExportFileWire, MenuActionWire, OpenedFileWire, SaveConfigOptions, SavedFileWire } from '../preload/api.ts'
import { FileReadError, readErrorReason, readRegularText } from '../host/node/read-file.ts'
import { atomicWrite } from './atomic.ts'
import { confirmDiscard, type DocumentState, type MessageBox } from './document.ts'
import type { RecentFiles } from './recent.ts'

/** The subset of Electron's `dialog` the handlers use (window-modal forms). */
export interface DialogApi {
  showOpenDialog(window: BrowserWindow, options: OpenDialogOptions): Promise<OpenDialogReturnValue>
  showSaveDialog(window: BrowserWindow, options: SaveDialogOptions): Promise<SaveDialogReturnValue>
  showMessageBox(window: BrowserWindow, options: MessageBoxOptions): Promise<MessageBoxReturnValue>
}

/** Everything a file handler may touch for one window. */
export interface FileHost {
  window: BrowserWindow
  dialog: DialogApi
  doc: DocumentState
  recent: RecentFiles
  /** Absolute paths the user picked in a dialog or opened here: Save may write them without asking. */
  granted: Set<string>
  /** Where dialogs start the first time (app.getPath('documents')). */
  documentsDir: string
  /** Folder of the last file opened or saved, for the next dialog. */
  lastDir?: string
  /** Send the renderer a menu action ("Save" in the unsaved-changes prompt sends 'save'). */
  sendMenu(action: MenuActionWire): void
}

const CONFIG_FILTERS = [
  { name: `Samepage experiments (*${CONFIG_FILE_SUFFIX})`, extensions: ['json'] },
  { name: 'All files', extensions: ['*'] }
]
const RESULT_FILTERS = [
  { name: `Samepage results (*${RESULT_FILE_SUFFIX})`, extensions: ['json'] },
  { name: 'All files', extensions: ['*'] }
]

/** The message box of `confirmDiscard`, modal to the host's window. */
export function discardHost(host: FileHost) {
  const messageBox: MessageBox = (opts) => host.dialog.showMessageBox(host.window, opts)
  return { doc: host.doc, messageBox, requestSave: () => host.sendMenu('save') }
}

/** Ask about unsaved changes (when dirty); true to go ahead. */
export function askDiscard(host: FileHost): Promise<boolean> {
  return confirmDiscard(discardHost(host))
}

function startDir(host: FileHost): string {
  return host.lastDir ?? host.documentsDir
}

/** A path typed into a save dialog without an extension gets the file type's suffix. */
export function ensureSuffix(path: string, suffix: string): string {
  return extname(path).toLowerCase() === '.json' ? path : path + suffix
}

/**
 * Read a text file of at most `maxBytes`; an unreadable or oversized file, or one that is not a
 * regular file (a device, a FIFO), becomes an issue. The bound holds whatever `stat` says.
 */
export async function readTextFile(path: string, maxBytes: number): Promise<{ text: string } | { issue: ConfigIssue }> {
  try {
    const st = await stat(path)
    if (st.isFile() && st.size > maxBytes) return { issue: { path: '(root)', message: `"${basename(path)}" is ${mib(st.size)} MiB; at most ${mib(maxBytes)} MiB can be opened` } }
    return { text: await readRegularText(path, maxBytes) }
  } catch (e) {
    if (e instanceof FileReadError && e.code === 'EFBIG') return { issue: { path: '(root)', message: `"${basename(path)}" is larger than ${mib(maxBytes)} MiB; at most ${mib(maxBytes)} MiB can be opened` } }
    return { issue: { path: '(root)', message: `cannot read "${path}": ${readErrorReason(e)}` } }
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0)
}

/** Read and validate an experiment config. Valid files are granted and put on the recent list. */
export async function loadConfigFile(host: FileHost, path: string): Promise<OpenedFileWire> {
  const abs = resolve(path)
  const name = basename(abs)
  const read = await readTextFile(abs, MAX_CONFIG_BYTES)
  if ('issue' in read) return { name, path: abs, text: '', issues: [read.issue] }
  const r = parseExperimentText(read.text)
  host.lastDir = dirname(abs)
  if (!r.ok) return { name, path: abs, text: read.text, issues: r.issues }
  host.granted.add(abs)
  host.recent.add(abs)
  host.doc.path = abs
  return { name, path: abs, text: read.text }
}

/** File > Open...: ask about unsaved changes, then the open dialog. Null if cancelled. */
export async function openConfig(host: FileHost): Promise<OpenedFileWire | null> {
  if (!(await askDiscard(host))) return null
  const r = await host.dialog.showOpenDialog(host.window, {
    title: 'Open Experiment',
    defaultPath: startDir(host),
    filters: CONFIG_FILTERS,
    properties: ['openFile']
  })
  if (r.canceled || r.filePaths.length === 0) return null
  return loadConfigFile(host, r.filePaths[0])
}

/**
 * File > Open Recent (the menu asked about unsaved changes before telling the renderer).
 * Only a path on the recent list is read; one that can no longer be read leaves the list and
 * gives null.
 */
export async function openRecent(host: FileHost, path: string): Promise<OpenedFileWire | null> {
  if (!host.recent.has(path)) throw new Error('openRecent: not a file on the recent list')
  try {
    await access(path)
  } catch {
    host.recent.remove(path)
    return null
  }
  return loadConfigFile(host, path)
}

/**
 * Save a config: straight to `opts.path` when this window may write there and it is not Save
 * As, otherwise through the save dialog. The text must be an experiment document (see
 * experimentDocumentProblem). Null if the user cancelled. Reports the outcome to the
 * unsaved-changes logic.
 */
export async function saveConfig(host: FileHost, text: string, opts: SaveConfigOptions): Promise<SavedFileWire | null> {
  host.doc.saveStarted()
  let saved = false
  try {
    const problem = experimentDocumentProblem(text)
    if (problem !== null) throw new Error(`not saved: not an experiment document: ${problem}`)
    let target = opts.path !== undefined && !opts.saveAs ? resolve(opts.path) : undefined
    if (target === undefined || !host.granted.has(target)) {
      const suggested = fileNameWithSuffix(opts.suggestedName, CONFIG_FILE_SUFFIX, 'experiment')
      const d = await host.dialog.showSaveDialog(host.window, {
        title: 'Save Experiment',
        defaultPath: join(startDir(host), suggested),
        filters: CONFIG_FILTERS,
        properties: ['createDirectory', 'showOverwriteConfirmation']
      })
      if (d.canceled || d.filePath === undefined || d.filePath === '') return null
      target = ensureSuffix(resolve(d.filePath), CONFIG_FILE_SUFFIX)
    }
    await atomicWrite(target, text)
    host.granted.add(target)
    host.recent.add(target)
    host.lastDir = dirname(target)
    host.doc.path = target
    saved = true
    return { name: basename(target), path: target }
  } finally {
    host.doc.saveFinished(saved)
  }
}

/** File > Open Result...: a result file for viewing (does not replace the experiment). */
export async function openResult(host: FileHost): Promise<OpenedFileWire | null> {
  const r = await host.dialog.showOpenDialog(host.window, {
    title: 'Open Result',
    defaultPath: startDir(host),
    filters: RESULT_FILTERS,
    properties: ['openFile']
  })
  if (r.canceled || r.filePaths.length === 0) return null
  const abs = resolve(r.filePaths[0])
  const read = await readTextFile(abs, MAX_RESULT_BYTES)
  if ('issue' in read) return { name: basename(abs), path: abs, text: '', issues: [read.issue] }
  host.lastDir = dirname(abs)
  const parsed = parseResultText(read.text)
  return parsed.ok ? { name: basename(abs), path: abs, text: read.text } : { name: basename(abs), path: abs, text: read.text, issues: parsed.issues }
}

/** Save a result (config + summary + series) through the save dialog; it must validate. */
export async function saveResult(host: FileHost, text: string, suggestedName: string): Promise<SavedFileWire | null> {
  const r = parseResultText(text)
  if (!r.ok) throw new Error(`not saved: the result is invalid: ${r.issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ')}`)
  const d = await host.dialog.showSaveDialog(host.window, {
    title: 'Save Result',
    defaultPath: join(startDir(host), fileNameWithSuffix(suggestedName || r.result.config.name, RESULT_FILE_SUFFIX, 'result')),
    filters: RESULT_FILTERS,
    properties: ['createDirectory', 'showOverwriteConfirmation']
  })
  if (d.canceled || d.filePath === undefined || d.filePath === '') return null
  const target = ensureSuffix(resolve(d.filePath), RESULT_FILE_SUFFIX)
  await atomicWrite(target, text)
  host.lastDir = dirname(target)
  return { name: basename(target), path: target }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/**
 * Export: the user picks a folder, confirms replacing files already there, and each file is
 * written atomically. Names were checked by the schema (plain names, known extensions).
 */
export async function exportFiles(host: FileHost, files: ExportFileWire[], suggestedFolder: string): Promise<boolean> {
  const d = await host.dialog.showOpenDialog(host.window, {
    title: `Export ${safeFileStem(suggestedFolder, 'files')}: choose a folder`,
    buttonLabel: 'Export Here',
    defaultPath: startDir(host),
    properties: ['openDirectory', 'createDirectory']
  })
  if (d.canceled || d.filePaths.length === 0) return false
  const folder = resolve(d.filePaths[0])
  const existing: string[] = []
  for (const f of files) if (await exists(join(folder, f.name))) existing.push(f.name)
  if (existing.length > 0) {
    const { response } = await host.dialog.showMessageBox(host.window, {
      type: 'question',
      buttons: ['Replace', 'Cancel'],
      defaultId: 1,
      cancelId: 1,
      noLink: true,
      title: 'Export',
      message: existing.length === 1 ? `"${existing[0]}" already exists in this folder. Replace it?` : `${existing.length} of these files already exist in this folder. Replace them?`,
      detail: existing.slice(0, 10).join('\n')
    })
    if (response !== 0) return false
  }
  for (const f of files) await atomicWrite(join(folder, f.name), f.data)
  host.lastDir = folder
  return true
}
