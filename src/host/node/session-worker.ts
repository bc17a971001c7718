/**
 * Entry of the Node worker thread that hosts one simulation session for the Electron main
 * process (built to out/main/session-worker.js; see worker-session.ts for the owner's side).
 * It speaks the session protocol over `parentPort`: commands in, events out, sample columns
 * transferred. An exception that escapes the session ends the thread; the owner turns that
 * into an error event. Files a config refers to (real images, snapshots, traces) are read here;
 * relative paths resolve against the app's working directory (the session does not know where
 * the experiment file was), so the desktop app wants absolute paths.
 */
import { parentPort } from 'node:worker_threads'
import { realClock } from '../session.ts'
import { serveSession } from '../serve.ts'
import { loadAssets } from './assets.ts'

if (parentPort === null) throw new Error('session-worker.ts must run in a worker thread')
const port = parentPort

serveSession(
  {
    post: (event, transfer) => port.postMessage(event, transfer),
    listen: (handler) => port.on('message', handler)
  },
  realClock,
  // Main checked that every file is under the experiment's folder or one the user picked
  // (src/main/asset-access.ts); parse errors here quote nothing of the file.
  (config, baseDir) => loadAssets(config, baseDir ?? process.cwd(), false)
)
