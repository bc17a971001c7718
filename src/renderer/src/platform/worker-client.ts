/**
 * The LabClient both platforms share: commands go out over a SessionChannel, events come back
 * from it. The web platform's channel is a Web Worker (postMessage, typed arrays transferred);
 * Electron's is the preload's session API (IPC out, a MessagePort back). The session itself
 * runs in src/host/session.ts on the other side of either.
 */
import { CommandClient, type Command, type SessionEvent } from '../../../core/experiment/protocol.ts'

/** A transport to a session host. */
export interface SessionChannel {
  post(cmd: Command): void
  /** Deliver every event to `deliver`; returns the function that stops delivering. */
  listen(deliver: (event: SessionEvent) => void): () => void
  /** End the transport (and the host, where the client owns it). */
  close(): void
}

/**
 * A config as plain JSON: the screens may hand over a reactive proxy, which postMessage and
 * IPC cannot clone; configs are JSON documents, so nothing else is lost.
 */
function plain(config: unknown): unknown {
  return config === undefined ? undefined : (JSON.parse(JSON.stringify(config)) as unknown)
}

export class WorkerLabClient extends CommandClient {
  private readonly unlisten: () => void
  private disposed = false

  constructor(private readonly channel: SessionChannel) {
    super()
    this.unlisten = channel.listen((event) => this.emit(event))
  }

  send(cmd: Command): void {
    if (!this.disposed) this.channel.post(cmd)
  }

  /** The config as plain JSON (see `plain`). */
  override load(config: unknown): void {
    super.load(plain(config))
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.unlisten()
    this.listeners.clear()
    this.channel.close()
  }
}

/** What a channel uses of a Web Worker (the DOM's Worker). */
export interface WorkerLike {
  postMessage(message: unknown): void
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void
  addEventListener(type: 'error' | 'messageerror', listener: (e: Event) => void): void
  removeEventListener(type: 'message', listener: (e: MessageEvent) => void): void
  removeEventListener(type: 'error' | 'messageerror', listener: (e: Event) => void): void
  terminate(): void
}

/**
 * A channel over a Web Worker running src/host/web-worker.ts. An error that escapes the worker
 * (or a message that cannot be read) becomes an error event, as in Electron.
 */
export function webWorkerChannel(worker: WorkerLike): SessionChannel {
  return {
    post: (cmd) => worker.postMessage(cmd),
    listen: (deliver) => {
      const onMessage = (e: MessageEvent) => deliver(e.data as SessionEvent)
      const onError = (e: Event) => {
        e.preventDefault()
        // An ErrorEvent (in a browser) carries the exception's message.
        const m = (e as { message?: unknown }).message
        const message = typeof m === 'string' && m !== '' ? m : 'the simulation worker failed'
        deliver({ type: 'error', message })
        deliver({ type: 'state', state: 'error' })
      }
      const onMessageError = () => deliver({ type: 'error', message: 'a message from the simulation worker could not be read' })
      worker.addEventListener('message', onMessage)
      worker.addEventListener('error', onError)
      worker.addEventListener('messageerror', onMessageError)
      return () => {
        worker.removeEventListener('message', onMessage)
        worker.removeEventListener('error', onError)
        worker.removeEventListener('messageerror', onMessageError)
      }
    },
    close: () => worker.terminate()
  }
}
