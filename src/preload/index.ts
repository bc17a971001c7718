// The sandboxed preload: bundled to one CommonJS file (out/preload/index.cjs), it may use
// only electron's contextBridge and ipcRenderer. It turns each method of SamepageApi into
// exactly one IPC message and exposes nothing else (never ipcRenderer itself, never a port).
//
// Session events: before the first session message the preload sends 'session:connect'; main
// answers with a MessagePort ('session:port') on which it posts the session's events. The port
// stays here in the isolated world; page listeners get each event through contextBridge
// (typed arrays arrive as typed arrays). Events posted before the port arrives wait in it.
import { contextBridge, ipcRenderer } from 'electron'
import type { IpcRendererEvent } from 'electron'
import type {
  MenuActionWire,
  SamepageApi,
  SamepageInvokeChannel,
  SamepageInvokeChannels,
  SamepageSendChannel,
  SamepageSendChannels,
  SessionApi
} from './api.ts'
import type { SessionEvent } from '../core/experiment/protocol.ts'

function invoke<C extends SamepageInvokeChannel>(
  channel: C,
  ...args: SamepageInvokeChannels[C]['args']
): Promise<SamepageInvokeChannels[C]['result']> {
  return ipcRenderer.invoke(channel, ...args) as Promise<SamepageInvokeChannels[C]['result']>
}

function send<C extends SamepageSendChannel>(channel: C, ...args: SamepageSendChannels[C]): void {
  ipcRenderer.send(channel, ...args)
}

const sessionListeners = new Set<(event: SessionEvent) => void>()
let connected = false

ipcRenderer.on('session:port', (event: IpcRendererEvent) => {
  const port = event.ports[0]
  if (port === undefined) return
  port.onmessage = (message: { data: unknown }) => {
    const data = message.data
    if (typeof data !== 'object' || data === null || typeof (data as { type?: unknown }).type !== 'string') return
    for (const listener of sessionListeners) listener(data as SessionEvent)
  }
})

/** Send a session message, asking main for the event port first (IPC keeps the order). */
function sessionSend<C extends SamepageSendChannel>(channel: C, ...args: SamepageSendChannels[C]): void {
  if (!connected) {
    connected = true
    send('session:connect')
  }
  send(channel, ...args)
}

const session: SessionApi = {
  load: (config) => sessionSend('session:load', config),
  start: () => sessionSend('session:start'),
  pause: () => sessionSend('session:pause'),
  resume: () => sessionSend('session:resume'),
  step: (seconds) => sessionSend('session:step', seconds),
  stop: () => sessionSend('session:stop'),
  setSpeed: (speed) => sessionSend('session:set-speed', speed),
  onEvent: (listener) => {
    sessionListeners.add(listener)
    return () => {
      sessionListeners.delete(listener)
    }
  }
}

const menuListeners = new Set<(action: MenuActionWire) => void>()
ipcRenderer.on('menu:action', (_event: IpcRendererEvent, action: MenuActionWire) => {
  for (const listener of menuListeners) listener(action)
})

const api: SamepageApi = {
  version: () => invoke('app:version'),
  openConfig: () => invoke('file:open-config'),
  openRecent: (path) => invoke('file:open-recent', path),
  saveConfig: (text, opts) => invoke('file:save-config', text, opts),
  openResult: () => invoke('file:open-result'),
  saveResult: (text, suggestedName) => invoke('file:save-result', text, suggestedName),
  exportFiles: (files, suggestedFolder) => invoke('file:export', files, suggestedFolder),
  confirmDiscard: () => invoke('doc:confirm-discard'),
  setTitle: (title, dirty) => send('doc:set-title', title, dirty),
  onMenu: (listener) => {
    menuListeners.add(listener)
    return () => {
      menuListeners.delete(listener)
    }
  },
  session
}

contextBridge.exposeInMainWorld('samepage', api)
