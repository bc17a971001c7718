/**
 * The Platform in Electron: everything goes through the preload's `window.samepage` (one IPC
 * message per method; main validates each). The session runs in a worker thread owned by
 * main; its events come back over a MessagePort the preload holds.
 */
import type { Command } from '../../../core/experiment/protocol.ts'
import type { SamepageApi, SessionApi } from '../../../preload/api.ts'
import type { Platform } from './types.ts'
import { WorkerLabClient, type SessionChannel } from './worker-client.ts'

/** The preload's session methods as a SessionChannel (main ends the session with the window). */
export function preloadChannel(session: SessionApi): SessionChannel {
  return {
    post: (cmd: Command) => {
      switch (cmd.type) {
        case 'load':
          return session.load(cmd.config)
        case 'start':
          return session.start()
        case 'pause':
          return session.pause()
        case 'resume':
          return session.resume()
        case 'step':
          return session.step(cmd.seconds)
        case 'stop':
          return session.stop()
        case 'setSpeed':
          return session.setSpeed(cmd.speed)
      }
    },
    listen: (deliver) => session.onEvent(deliver),
    close: () => undefined
  }
}

export function createElectronPlatform(api: SamepageApi): Platform {
  return {
    kind: 'electron',
    client: new WorkerLabClient(preloadChannel(api.session)),
    openConfig: () => api.openConfig(),
    openRecent: (path) => api.openRecent(path),
    saveConfig: (text, opts) =>
      api.saveConfig(text, { ...(opts.path !== undefined ? { path: opts.path } : {}), suggestedName: opts.suggestedName, saveAs: opts.saveAs }),
    openResult: () => api.openResult(),
    saveResult: (text, suggestedName) => api.saveResult(text, suggestedName),
    // Plain objects: the screens' arrays may be reactive proxies, which IPC cannot clone.
    exportFiles: (files, suggestedFolder) => api.exportFiles(files.map((f) => ({ name: f.name, data: f.data })), suggestedFolder),
    setTitle: (title, dirty) => api.setTitle(title, dirty),
    onMenu: (listener) => api.onMenu(listener),
    confirmDiscard: () => api.confirmDiscard()
  }
}
