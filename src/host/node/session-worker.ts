/**
 * Entry of the Node worker thread that hosts one simulation session for the Electron main
 * process (built to out/main/session-worker.js; see worker-session.ts for the owner's side).
 * It speaks the session protocol over `parentPort`: commands in, events out, sample columns
 * transferred. An exception that escapes the session ends the thread; the owner turns that
 * into an error event.
 */
import { parentPort } from 'node:worker_threads'
import { serveSession } from '../serve.ts'

if (parentPort === null) throw new Error('session-worker.ts must run in a worker thread')
const port = parentPort

serveSession({
  post: (event, transfer) => port.postMessage(event, transfer),
  listen: (handler) => port.on('message', handler)
})
