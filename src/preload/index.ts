// The sandboxed preload: bundled to one CommonJS file (out/preload/index.cjs), it may use
// only electron's contextBridge and ipcRenderer. It turns each method of SamepageApi into
// exactly one IPC message and exposes nothing else (never ipcRenderer itself).
import { contextBridge, ipcRenderer } from 'electron'
import type { SamepageApi, SamepageChannel, SamepageChannels } from './api.ts'

function invoke<C extends SamepageChannel>(
  channel: C,
  ...args: SamepageChannels[C]['args']
): Promise<SamepageChannels[C]['result']> {
  return ipcRenderer.invoke(channel, ...args) as Promise<SamepageChannels[C]['result']>
}

const api: SamepageApi = {
  version: () => invoke('app:version')
}

contextBridge.exposeInMainWorld('samepage', api)
