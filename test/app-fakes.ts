// A fake `electron` for main's handlers: scripted dialogs that record what they were asked,
// a window that is only an identity, and a FileHost in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserWindow, MessageBoxOptions, OpenDialogOptions, SaveDialogOptions } from 'electron'
import type { MenuActionWire } from '../src/preload/api.ts'
import { DocumentState } from '../src/main/document.ts'
import type { DialogApi, FileHost } from '../src/main/files.ts'
import type { WindowHost } from '../src/main/ipc.ts'
import { RecentFiles } from '../src/main/recent.ts'

export type DialogCall =
  | { kind: 'open'; options: OpenDialogOptions }
  | { kind: 'save'; options: SaveDialogOptions }
  | { kind: 'message'; options: MessageBoxOptions }

/** Dialogs answering from scripted queues; an unscripted dialog fails the test. */
export class FakeDialog implements DialogApi {
  readonly calls: DialogCall[] = []
  open: (string[] | null)[] = []
  save: (string | null)[] = []
  message: number[] = []

  async showOpenDialog(_w: BrowserWindow, options: OpenDialogOptions) {
    this.calls.push({ kind: 'open', options })
    const next = this.open.shift()
    if (next === undefined) throw new Error(`unexpected open dialog: ${options.title}`)
    return next === null ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: next }
  }

  async showSaveDialog(_w: BrowserWindow, options: SaveDialogOptions) {
    this.calls.push({ kind: 'save', options })
    const next = this.save.shift()
    if (next === undefined) throw new Error(`unexpected save dialog: ${options.title}`)
    return next === null ? { canceled: true, filePath: '' } : { canceled: false, filePath: next }
  }

  async showMessageBox(_w: BrowserWindow, options: MessageBoxOptions) {
    this.calls.push({ kind: 'message', options })
    const next = this.message.shift()
    if (next === undefined) throw new Error(`unexpected message box: ${options.message}`)
    return { response: next, checkboxChecked: false }
  }

  kinds(): string[] {
    return this.calls.map((c) => c.kind)
  }
}

export interface FakeHost extends WindowHost {
  dialog: FakeDialog
  menus: MenuActionWire[]
  titles: string[]
}

const folders: string[] = []

/** Remove the temporary folders of every fakeHost() so far (call from afterAll). */
export function removeFakeFolders(): void {
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true })
}

/** A window's host in a fresh temporary folder (also its documents folder). */
export function fakeHost(): FakeHost & FileHost {
  const dir = mkdtempSync(join(tmpdir(), 'samepage-main-'))
  folders.push(dir)
  const menus: MenuActionWire[] = []
  const titles: string[] = []
  return {
    window: { id: 1 } as unknown as BrowserWindow,
    dialog: new FakeDialog(),
    doc: new DocumentState(),
    recent: new RecentFiles(),
    granted: new Set(),
    documentsDir: dir,
    menus,
    titles,
    sendMenu: (action) => menus.push(action),
    setTitle: (title) => titles.push(title)
  }
}

export const VALID_CONFIG = {
  schema: 'samepage-lab/experiment@1',
  name: 'tiny',
  duration_s: 20,
  sample_every_s: 10,
  vms: [{ name: 'a', memory_mib: 128, workload: { kind: 'idle' } }],
  lanes: [{ name: 'KSM', scanner: { kind: 'ksm' } }]
}

export const VALID_TEXT = JSON.stringify(VALID_CONFIG, null, 2) + '\n'
