// One simulation session per renderer (web contents), each in its own worker thread. Main only
// relays: commands arrive as IPC messages (validated by ipc.ts), go to the session's worker;
// the worker's events (sample columns transferred to main) are posted to the renderer on a
// MessagePort that was handed to the preload when the renderer connected. Typed arrays stay
// typed arrays all the way (structured clone), batched by the session (≤ ~30 a second).
import type { Command, LabClient, SessionEvent } from '../core/experiment/protocol.ts'

/** Main's end of the event port (Electron's MessagePortMain). */
export interface EventPort {
  postMessage(message: SessionEvent): void
  close(): void
}

/** The renderer a session belongs to (Electron's WebContents); P is the renderer's port type. */
export interface SessionOwner<P> {
  readonly id: number
  /** Hands the renderer its end of the channel (webContents.postMessage with a transfer list). */
  postMessage(channel: 'session:port', message: null, transfer: P[]): void
}

/** A session's client as main drives it: a LabClient that also takes parsed commands. */
export interface HostedSession extends LabClient {
  send(cmd: Command): void
}

export interface SessionHubDeps<P> {
  /** A new message channel (MessageChannelMain): port1 stays in main, port2 goes to the renderer. */
  createChannel(): { port1: EventPort; port2: P }
  /** A new session whose engine runs in a worker (WorkerSession; the worker starts lazily). */
  createSession(): HostedSession
}

export class SessionHub<P> {
  private readonly sessions = new Map<number, { port: EventPort; client: HostedSession }>()

  constructor(private readonly deps: SessionHubDeps<P>) {}

  /**
   * (Re)connect a renderer: a page that reloads connects again, which ends its old session.
   * Events are posted from now on; they wait in the port until the preload listens.
   */
  connect(owner: SessionOwner<P>): void {
    this.close(owner.id)
    const { port1, port2 } = this.deps.createChannel()
    const client = this.deps.createSession()
    client.onEvent((event) => port1.postMessage(event))
    this.sessions.set(owner.id, { port: port1, client })
    owner.postMessage('session:port', null, [port2])
  }

  /** Relay a validated command; a renderer that never connected has no session. */
  command(ownerId: number, cmd: Command): void {
    const s = this.sessions.get(ownerId)
    if (s === undefined) throw new Error(`no session for this window (connect first); refused "${cmd.type}"`)
    s.client.send(cmd)
  }

  /** Answer a renderer from main itself (a command refused before it reached the session). */
  reply(ownerId: number, event: SessionEvent): void {
    const s = this.sessions.get(ownerId)
    if (s === undefined) throw new Error(`no session for this window (connect first); refused "${event.type}"`)
    s.port.postMessage(event)
  }

  has(ownerId: number): boolean {
    return this.sessions.has(ownerId)
  }

  /** End a renderer's session: its worker is terminated and its port closed. */
  close(ownerId: number): void {
    const s = this.sessions.get(ownerId)
    if (s === undefined) return
    this.sessions.delete(ownerId)
    s.client.dispose()
    s.port.close()
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id)
  }
}
