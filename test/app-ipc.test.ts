// The gates in front of every IPC handler (src/main/ipc.ts) and the session relay
// (src/main/sessions.ts), with a fake ipcMain: who may send, what arguments pass, and that a
// session command reaches the session only after parseCommand accepted it.
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { MessagePortMain } from 'electron'
import type { Command, SessionEvent } from '../src/core/experiment/protocol.ts'
import { invokeTable, registerIpc, sendTable, type IpcDeps, type IpcEventLike, type IpcMainLike } from '../src/main/ipc.ts'
import { SessionHub, type EventPort, type HostedSession } from '../src/main/sessions.ts'
import type { RendererLocation } from '../src/main/security.ts'
import { fakeHost, removeFakeFolders, VALID_CONFIG } from './app-fakes.ts'
import { execFileSync } from 'node:child_process'
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateExperiment } from '../src/core/experiment/config.ts'
import { loadAssets } from '../src/host/node/assets.ts'

afterAll(removeFakeFolders)

const RENDERER: RendererLocation = { kind: 'app', root: '/opt/samepage/out/renderer' }
const APP_URL = 'app://samepage/index.html'

type Listener = (event: IpcEventLike, ...args: unknown[]) => unknown

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Listener>()
  readonly listeners = new Map<string, Listener>()
  handle(channel: string, listener: Listener): void {
    this.handlers.set(channel, listener)
  }
  on(channel: string, listener: Listener): void {
    this.listeners.set(channel, listener)
  }
  /** ipcRenderer.invoke: the handler's result, or its error as a rejection. */
  async invoke(event: IpcEventLike, channel: string, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel)
    if (h === undefined) throw new Error(`no handler for ${channel}`)
    return h(event, ...args)
  }
  send(event: IpcEventLike, channel: string, ...args: unknown[]): void {
    const l = this.listeners.get(channel)
    if (l === undefined) throw new Error(`no listener for ${channel}`)
    l(event, ...args)
  }
}

/** A session that records the commands it gets and lets the test emit events. */
class FakeSession implements HostedSession {
  readonly commands: Command[] = []
  readonly listeners = new Set<(e: SessionEvent) => void>()
  disposed = false
  send(cmd: Command): void {
    this.commands.push(cmd)
  }
  load(config: unknown): void {
    this.send({ type: 'load', config })
  }
  start(): void {}
  pause(): void {}
  resume(): void {}
  step(): void {}
  stop(): void {}
  setSpeed(): void {}
  onEvent(l: (e: SessionEvent) => void): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }
  dispose(): void {
    this.disposed = true
  }
  emit(e: SessionEvent): void {
    for (const l of this.listeners) l(e)
  }
}

function rig() {
  const ipc = new FakeIpcMain()
  const host = fakeHost()
  const fakeSessions: FakeSession[] = []
  const posted: SessionEvent[][] = []
  const hub = new SessionHub<MessagePortMain>({
    createChannel: () => {
      const events: SessionEvent[] = []
      posted.push(events)
      const port1: EventPort = { postMessage: (e) => events.push(e), close: vi.fn() }
      return { port1, port2: { fake: 'port2' } as unknown as MessagePortMain }
    },
    createSession: () => {
      const s = new FakeSession()
      fakeSessions.push(s)
      return s
    }
  })
  const warnings: string[] = []
  const deps: IpcDeps = {
    renderer: RENDERER,
    windowFor: (id) => (id === 1 ? host : undefined),
    sessions: hub,
    version: () => '1.2.3',
    warn: (m) => warnings.push(m)
  }
  registerIpc(ipc, deps)
  const portMessages: unknown[][] = []
  const event = (over: Partial<{ url: string; parent: unknown; id: number; frame: null }> = {}): IpcEventLike => ({
    sender: { id: over.id ?? 1, postMessage: (...args: unknown[]) => portMessages.push(args) },
    senderFrame: over.frame === null ? null : { url: over.url ?? APP_URL, parent: over.parent ?? null }
  })
  return { ipc, host, hub, fakeSessions, posted, warnings, event, portMessages, deps }
}

describe('IPC sender checks', () => {
  it('answers the app page in its own window', async () => {
    const r = rig()
    expect(await r.ipc.invoke(r.event(), 'app:version')).toBe('1.2.3')
    expect(await r.ipc.invoke(r.event({ url: `${APP_URL}#/results` }), 'app:version')).toBe('1.2.3')
  })

  it('refuses other pages, sub-frames, destroyed frames and windows main did not create', async () => {
    const r = rig()
    await expect(r.ipc.invoke(r.event({ url: 'https://evil.example/' }), 'app:version')).rejects.toThrow(/refused a message from https:\/\/evil/)
    await expect(r.ipc.invoke(r.event({ url: 'file:///tmp/other.html' }), 'file:open-config')).rejects.toThrow(/refused/)
    await expect(r.ipc.invoke(r.event({ parent: {} }), 'app:version')).rejects.toThrow(/sub-frame/)
    await expect(r.ipc.invoke(r.event({ frame: null }), 'app:version')).rejects.toThrow(/destroyed frame/)
    await expect(r.ipc.invoke(r.event({ id: 7 }), 'app:version')).rejects.toThrow(/did not create/)
    expect(r.host.dialog.calls).toEqual([])
  })

  it('drops one-way messages from a foreign sender with a warning', () => {
    const r = rig()
    r.ipc.send(r.event({ url: 'https://evil.example/' }), 'doc:set-title', 'pwned', false)
    r.ipc.send(r.event({ url: 'https://evil.example/' }), 'session:connect')
    expect(r.host.titles).toEqual([])
    expect(r.hub.has(1)).toBe(false)
    expect(r.warnings).toHaveLength(2)
  })
})

describe('IPC argument checks', () => {
  it('refuses wrong types and extra arguments before any dialog opens', async () => {
    const r = rig()
    await expect(r.ipc.invoke(r.event(), 'file:open-recent', 42)).rejects.toThrow(/invalid arguments/)
    await expect(r.ipc.invoke(r.event(), 'file:open-config', 'extra')).rejects.toThrow(/invalid arguments/)
    await expect(r.ipc.invoke(r.event(), 'file:save-config', '{}', { suggestedName: 'x', saveAs: false, overwrite: '/etc' })).rejects.toThrow(/invalid arguments/)
    await expect(r.ipc.invoke(r.event(), 'file:save-config', { text: 1 }, { suggestedName: 'x', saveAs: false })).rejects.toThrow(/invalid arguments/)
    expect(r.host.dialog.calls).toEqual([])
  })

  it('refuses export names with folders, odd extensions or fake PNG data', async () => {
    const r = rig()
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    for (const files of [
      [{ name: '../escape.csv', data: '' }],
      [{ name: 'sub/dir.csv', data: '' }],
      [{ name: '.hidden.csv', data: '' }],
      [{ name: 'run.exe', data: '' }],
      [{ name: 'CON.csv', data: '' }],
      [{ name: 'chart.png', data: 'not png' }],
      [{ name: 'a.csv', data: '' }, { name: 'A.csv', data: '' }],
      []
    ]) {
      await expect(r.ipc.invoke(r.event(), 'file:export', files, 'x'), JSON.stringify(files)).rejects.toThrow(/invalid arguments/)
    }
    r.host.dialog.open.push(null)
    expect(await r.ipc.invoke(r.event(), 'file:export', [{ name: 'sharing.png', data: png }], 'x')).toBe(false)
  })

  it('setTitle sets the window title and the dirty flag; bad arguments change nothing', () => {
    const r = rig()
    r.ipc.send(r.event(), 'doc:set-title', '● fig6b — Samepage Lab', true)
    expect(r.host.titles).toEqual(['● fig6b — Samepage Lab'])
    expect(r.host.doc.dirty).toBe(true)
    r.ipc.send(r.event(), 'doc:set-title', 'x', 'yes')
    r.ipc.send(r.event(), 'doc:set-title', 'x'.repeat(10_000), false)
    expect(r.host.titles).toHaveLength(1)
    expect(r.host.doc.dirty).toBe(true)
    expect(r.warnings).toHaveLength(2)
  })

  it('every channel of the preload API has exactly one handler', () => {
    const r = rig()
    expect([...r.ipc.handlers.keys()].sort()).toEqual(Object.keys(invokeTable(r.deps)).sort())
    expect([...r.ipc.listeners.keys()].sort()).toEqual(Object.keys(sendTable(r.deps)).sort())
  })
})

describe('session relay', () => {
  it('connect hands the renderer a port; commands pass parseCommand; events go to the port', () => {
    const r = rig()
    r.ipc.send(r.event(), 'session:connect')
    expect(r.portMessages).toEqual([['session:port', null, [{ fake: 'port2' }]]])
    r.ipc.send(r.event(), 'session:load', { schema: 'x' })
    r.ipc.send(r.event(), 'session:step', 5)
    r.ipc.send(r.event(), 'session:set-speed', 'max')
    r.ipc.send(r.event(), 'session:start')
    expect(r.fakeSessions[0].commands).toEqual([
      { type: 'load', config: { schema: 'x' } },
      { type: 'step', seconds: 5 },
      { type: 'setSpeed', speed: 'max' },
      { type: 'start' }
    ])
    // Once the window has an experiment file, relative file paths resolve against its folder.
    r.host.doc.path = '/data/exp/web.samepage.json'
    r.ipc.send(r.event(), 'session:load', { schema: 'y' })
    expect(r.fakeSessions[0].commands.at(-1)).toEqual({ type: 'load', config: { schema: 'y' }, baseDir: '/data/exp' })
    const batch: SessionEvent = { type: 'samples', batches: [{ lane: 0, from: 0, columns: [new Float64Array([1, 2])] }] }
    r.fakeSessions[0].emit(batch)
    expect(r.posted[0]).toEqual([batch])
  })

  it('malformed commands never reach the session', () => {
    const r = rig()
    r.ipc.send(r.event(), 'session:connect')
    r.ipc.send(r.event(), 'session:step', -1)
    r.ipc.send(r.event(), 'session:step', Number.NaN)
    r.ipc.send(r.event(), 'session:step', '5')
    r.ipc.send(r.event(), 'session:set-speed', 'fast')
    r.ipc.send(r.event(), 'session:start', 'now')
    expect(r.fakeSessions[0].commands).toEqual([])
    expect(r.warnings).toHaveLength(5)
  })

  it('a command before connect is refused; a second connect (a reload) ends the old session', () => {
    const r = rig()
    r.ipc.send(r.event(), 'session:start')
    expect(r.warnings[0]).toMatch(/no session/)
    r.ipc.send(r.event(), 'session:connect')
    r.ipc.send(r.event(), 'session:connect')
    expect(r.fakeSessions.map((s) => s.disposed)).toEqual([true, false])
    r.hub.close(1)
    expect(r.fakeSessions[1].disposed).toBe(true)
  })
})

describe('session:load: which files a page may have read, and how large', () => {
  const withFile = (field: 'image_file' | 'snapshot_file' | 'trace', file: string) => {
    const vm: Record<string, unknown> = { name: 'a', memory_mib: 128, workload: field === 'trace' ? { kind: 'trace', file } : { kind: 'idle' } }
    if (field !== 'trace') vm[field] = file
    return { ...VALID_CONFIG, vms: [vm] }
  }
  const fieldOf = { image_file: 'vms[0].image_file', snapshot_file: 'vms[0].snapshot_file', trace: 'vms[0].workload.file' }

  function opened() {
    const r = rig()
    const dir = join(r.host.documentsDir, 'exp')
    mkdirSync(dir)
    r.host.doc.path = join(dir, 'e.samepage.json')
    r.ipc.send(r.event(), 'session:connect')
    return { ...r, dir }
  }

  /** The load's outcome: the issues main answered with, or null when it went to the session. */
  function load(r: ReturnType<typeof opened>, config: unknown): { path: string; message: string }[] | null {
    const before = r.fakeSessions[0].commands.length
    r.ipc.send(r.event(), 'session:load', config)
    const answer = r.posted[0].at(-1)
    if (r.fakeSessions[0].commands.length > before) return null
    if (answer?.type !== 'invalid') throw new Error(`neither forwarded nor refused: ${JSON.stringify(answer)}`)
    return answer.issues
  }

  it('passes files under the experiment folder on to the session, with the folder as baseDir', () => {
    const r = opened()
    writeFileSync(join(r.dir, 'web.jsonl'), '{"t": 0, "vm": "a", "op": "alloc", "gfn": 1}\n')
    expect(load(r, withFile('trace', 'web.jsonl'))).toBeNull()
    expect(r.fakeSessions[0].commands.at(-1)).toMatchObject({ type: 'load', baseDir: r.dir })
  })

  it('refuses absolute and .. paths out of the folder before touching them, naming the field', () => {
    const r = opened()
    for (const [field, file] of [['image_file', '/etc/passwd'], ['snapshot_file', '../../secret.spsnap'], ['trace', '/proc/self/environ']] as const) {
      const issues = load(r, withFile(field, file))
      expect(issues).toEqual([{ path: fieldOf[field], message: `${file} is outside the experiment's folder; only files in that folder, or picked in a dialog, can be read` }])
    }
  })

  it('refuses a link in the folder that points out of it', () => {
    const r = opened()
    const outside = join(r.host.documentsDir, 'outside.spimg')
    writeFileSync(outside, 'x')
    symlinkSync(outside, join(r.dir, 'inside.spimg'))
    expect(load(r, withFile('image_file', 'inside.spimg'))?.[0].message).toMatch(/is outside the experiment's folder/)
  })

  it('refuses device files and FIFOs, even picked in a dialog or in the folder', () => {
    const r = opened()
    r.host.granted.add('/dev/zero')
    expect(load(r, withFile('image_file', '/dev/zero'))).toEqual([{ path: 'vms[0].image_file', message: '/dev/zero is not a regular file' }])
    execFileSync('mkfifo', [join(r.dir, 'pipe.jsonl')])
    expect(load(r, withFile('trace', 'pipe.jsonl'))).toEqual([{ path: 'vms[0].workload.file', message: 'pipe.jsonl is not a regular file' }])
  })

  it('refuses a file over its size limit (a 300 MiB trace; at most 256 MiB)', () => {
    const r = opened()
    const big = join(r.dir, 'big.jsonl')
    writeFileSync(big, '')
    truncateSync(big, 300 * 2 ** 20) // sparse: no 300 MiB written
    expect(load(r, withFile('trace', 'big.jsonl'))).toEqual([{ path: 'vms[0].workload.file', message: 'big.jsonl is larger than 256 MiB, the most a trace may be' }])
  })

  it('an experiment never saved may name no relative file', () => {
    const r = opened()
    r.host.doc.path = null
    expect(load(r, withFile('trace', 'web.jsonl'))?.[0].message).toBe('web.jsonl: save the experiment first; files are read from its folder')
  })

  it('refuses a config larger than 16 MiB with a warning; it never reaches the session', () => {
    const r = opened()
    const before = r.fakeSessions[0].commands.length
    r.ipc.send(r.event(), 'session:load', { ...VALID_CONFIG, description: 'x'.repeat(17 * 2 ** 20) })
    expect(r.fakeSessions[0].commands.length).toBe(before)
    expect(r.warnings.at(-1)).toMatch(/session:load: invalid arguments: .*larger than 16 MiB/)
  })

  it("the app's worker reports a bad file without quoting what it holds", () => {
    const r = opened()
    writeFileSync(join(r.dir, 'secret.jsonl'), 'root:x:0:0:TOPSECRET:/root:/bin/bash\n')
    const cfg = validateExperiment(withFile('trace', 'secret.jsonl'))
    if (!cfg.ok) throw new Error('fixture invalid')
    const quoted = loadAssets(cfg.config, r.dir, true).issues[0].message
    const plain = loadAssets(cfg.config, r.dir, false).issues[0].message
    // Neither quotes the file (issue 13, item 11): the CLI's message names the line and column.
    expect(quoted).not.toContain('root:x')
    expect(quoted).toMatch(/secret\.jsonl.*line 1/)
    expect(plain).not.toContain('root:x')
    expect(plain).toBe('secret.jsonl is not a valid trace (line 1); `samepage run` on this experiment shows the details')
  })
})
