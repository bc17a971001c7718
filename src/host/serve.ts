/**
 * The worker side of the session protocol, shared by the Node worker (src/host/node/) and the
 * browser's Web Worker (web-worker.ts): one Session per worker; each message received is a
 * Command (validated with parseCommand; anything else is answered with an error event and
 * otherwise ignored), each SessionEvent is posted back with the sample columns' buffers
 * transferred, not copied. No `node:*` and no DOM here: the entry files adapt their globals.
 */
import { parseCommand, type SessionEvent } from '../core/experiment/protocol.ts'
import { realClock, Session, type AssetLoader, type Clock } from './session.ts'

/** The worker's end of its channel to the owner (parentPort, or a Web Worker's global scope). */
export interface WorkerEndpoint {
  post(event: SessionEvent, transfer: ArrayBuffer[]): void
  /** Calls `handler` with each message's data. */
  listen(handler: (data: unknown) => void): void
}

/** Buffers of a 'samples' event's columns (each column owns its buffer: Series.slice copies), and of a 'vmShares' event's histories (copies too). */
export function transferablesOf(event: SessionEvent): ArrayBuffer[] {
  if (event.type === 'vmShares') return (event.histories ?? []).flatMap((h) => ('data' in h ? [h.data.buffer as ArrayBuffer] : []))
  if (event.type !== 'samples') return []
  const buffers: ArrayBuffer[] = []
  for (const b of event.batches) for (const c of b.columns) buffers.push(c.buffer as ArrayBuffer)
  return buffers
}

/** Run one session behind `endpoint` until the worker ends; `loadAssets` where files can be read. */
export function serveSession(endpoint: WorkerEndpoint, clock: Clock = realClock, loadAssets: AssetLoader | null = null): Session {
  const session = new Session((event) => endpoint.post(event, transferablesOf(event)), clock, loadAssets)
  endpoint.listen((data) => {
    const cmd = parseCommand(data)
    if (cmd === null) {
      endpoint.post({ type: 'error', message: `refused a malformed command: ${describe(data)}` }, [])
      return
    }
    session.handle(cmd)
  })
  return session
}

function describe(data: unknown): string {
  if (typeof data === 'object' && data !== null && 'type' in data) return `type ${JSON.stringify((data as { type: unknown }).type)}`
  return typeof data
}
