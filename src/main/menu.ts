// The application menu as a plain template (Electron's MenuItemConstructorOptions), built from
// the recent list and the presets, with every item's effect injected: tests check labels,
// accelerators and what a click sends without Electron.
//
// Items that act on the experiment send a MenuAction to the renderer, which owns it. Items
// that would replace the experiment (New, a preset, a recent file) first ask about unsaved
// changes (`guarded`); Open... asks in main's open handler instead, because the renderer's own
// toolbar can call it too.
import type { MenuItemConstructorOptions } from 'electron'
import type { MenuActionWire } from '../preload/api.ts'
import { APP_NAME } from './document.ts'

/** Links of the Help menu: opened in the system browser (http(s) only, see security.ts). */
export const HELP_LINKS = [
  { label: 'Linux KSM Documentation', url: 'https://docs.kernel.org/admin-guide/mm/ksm.html' },
  { label: 'KSM Sysfs Counters', url: 'https://docs.kernel.org/admin-guide/mm/ksm.html#ksm-daemon-sysfs-interface' }
] as const

/** Keys of the Experiment menu (F5/Shift+F5/F10 as in debuggers: run, stop, step). */
export const EXPERIMENT_ACCELERATORS = { runPause: 'F5', step: 'F10', stop: 'Shift+F5' } as const

export interface MenuActions {
  /** Forward an action to the focused window's renderer. */
  send(action: MenuActionWire): void
  /** Ask about unsaved changes first, then forward. */
  guarded(action: MenuActionWire): void
  clearRecent(): void
  openLink(url: string): void
  about(): void
  /** Open... starting in the bundled samples folder (resources/samples). */
  openSample(): void
}

export interface MenuInput {
  platform: NodeJS.Platform
  recent: readonly string[]
  presets: readonly { name: string; description: string }[]
  /** Development build: adds Reload and the developer tools to View. */
  dev: boolean
  actions: MenuActions
}

/** The label of a recent file: its name, with the folder after it so equal names differ. */
export function recentLabel(path: string): string {
  const parts = path.split(/[\\/]/)
  const name = parts.pop() ?? path
  const folder = parts.join('/')
  // '&' would mark a mnemonic on Windows and Linux.
  return `${name}  —  ${folder}`.replace(/&/g, '&&')
}

export function buildMenuTemplate(input: MenuInput): MenuItemConstructorOptions[] {
  const { actions } = input
  const mac = input.platform === 'darwin'
  const send = (action: MenuActionWire) => () => actions.send(action)
  const guarded = (action: MenuActionWire) => () => actions.guarded(action)

  const recentItems: MenuItemConstructorOptions[] =
    input.recent.length === 0
      ? [{ label: 'No Recent Files', enabled: false }]
      : input.recent.map((path) => ({ label: recentLabel(path), click: guarded({ openRecent: path }) }))

  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: '&New', accelerator: 'CmdOrCtrl+N', click: guarded('new') },
      { label: '&Open...', accelerator: 'CmdOrCtrl+O', click: send('open') },
      { label: 'Open &Sample...', click: () => actions.openSample() },
      { label: 'Open &Recent', submenu: [...recentItems, { type: 'separator' }, { label: 'Clear Recent', enabled: input.recent.length > 0, click: () => actions.clearRecent() }] },
      { type: 'separator' },
      { label: '&Save', accelerator: 'CmdOrCtrl+S', click: send('save') },
      { label: 'Save &As...', accelerator: 'CmdOrCtrl+Shift+S', click: send('save-as') },
      { type: 'separator' },
      { label: 'Open Res&ult...', accelerator: 'CmdOrCtrl+Shift+O', click: send('open-result') },
      { label: 'Export &Charts...', accelerator: 'CmdOrCtrl+E', click: send('export-charts') },
      { label: 'Export &Data...', accelerator: 'CmdOrCtrl+Shift+E', click: send('export-data') },
      ...(mac ? [] : [{ type: 'separator' } as const, { label: '&Quit', role: 'quit', accelerator: 'CmdOrCtrl+Q' } as const])
    ]
  }

  const experiment: MenuItemConstructorOptions = {
    label: '&Experiment',
    submenu: [
      { label: '&Run / Pause', accelerator: EXPERIMENT_ACCELERATORS.runPause, click: send('run-pause') },
      { label: 'S&tep', accelerator: EXPERIMENT_ACCELERATORS.step, click: send('step') },
      { label: 'St&op', accelerator: EXPERIMENT_ACCELERATORS.stop, click: send('stop') },
      { type: 'separator' },
      { label: '&Presets', submenu: input.presets.map((p) => ({ label: p.name, toolTip: p.description, click: guarded({ preset: p.name }) })) }
    ]
  }

  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      ...(input.dev ? [{ role: 'reload' } as const, { role: 'toggleDevTools' } as const, { type: 'separator' } as const] : []),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' }
    ]
  }

  const help: MenuItemConstructorOptions = {
    label: '&Help',
    role: 'help',
    submenu: [
      ...HELP_LINKS.map((l, i) => ({ label: l.label, ...(i === 0 ? { accelerator: 'F1' } : {}), click: () => actions.openLink(l.url) })),
      ...(mac ? [] : [{ type: 'separator' } as const, { label: `&About ${APP_NAME}`, click: () => actions.about() }])
    ]
  }

  // macOS puts About, Services and Quit in a menu named after the app.
  const appMenu: MenuItemConstructorOptions[] = mac
    ? [
        {
          label: APP_NAME,
          submenu: [
            { label: `About ${APP_NAME}`, click: () => actions.about() },
            { type: 'separator' },
            { role: 'services' },
            { type: 'separator' },
            { role: 'hide' },
            { role: 'hideOthers' },
            { role: 'unhide' },
            { type: 'separator' },
            { role: 'quit' }
          ]
        }
      ]
    : []
  // Copy, paste and undo in the editor's fields (on macOS they need a menu to work at all).
  const edit: MenuItemConstructorOptions = { role: 'editMenu' }

  return [...appMenu, file, edit, experiment, view, help]
}
