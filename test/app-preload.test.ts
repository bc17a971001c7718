// The preload (src/preload/index.ts) with a fake `electron`: it exposes one API, one method per
// message, and the session events of the port main hands it.
import { MessageChannel } from 'node:worker_threads'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { SamepageApi } from '../src/preload/api.ts'
import type { SessionEvent } from '../src/core/experiment/protocol.ts'

type OnListener = (event: { ports: unknown[] }, ...args: unknown[]) => void

const fake = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoked: [] as unknown[][],
  sent: [] as unknown[][],
  on: new Map<string, OnListener>()
}))

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => fake.exposed.set(key, api) },
  ipcRenderer: {
    invoke: (...args: unknown[]) => {
      fake.invoked.push(args)
      return Promise.resolve(null)
    },
    send: (...args: unknown[]) => fake.sent.push(args),
    on: (channel: string, listener: OnListener) => fake.on.set(channel, listener)
  }
}))

let api: SamepageApi

beforeAll(async () => {
  await import('../src/preload/index.ts')
  api = fake.exposed.get('samepage') as SamepageApi
})

describe('preload', () => {
  it('exposes only window.samepage, with one method per message and no generic invoke', () => {
    expect([...fake.exposed.keys()]).toEqual(['samepage'])
    expect(Object.keys(api).sort()).toEqual(
      ['confirmDiscard', 'exportFiles', 'onMenu', 'openConfig', 'openRecent', 'openResult', 'saveConfig', 'saveResult', 'session', 'setTitle', 'version'].sort()
    )
    expect(Object.keys(api.session).sort()).toEqual(['load', 'onEvent', 'pause', 'resume', 'setSpeed', 'start', 'step', 'stop'].sort())
  })

  it('turns each file method into one invoke on its channel', async () => {
    fake.invoked.length = 0
    await api.version()
    await api.openConfig()
    await api.openRecent('/a')
    await api.saveConfig('{}', { suggestedName: 'x', saveAs: true })
    await api.openResult()
    await api.saveResult('{}', 'r')
    await api.exportFiles([{ name: 'a.csv', data: '' }], 'f')
    await api.confirmDiscard()
    expect(fake.invoked).toEqual([
      ['app:version'],
      ['file:open-config'],
      ['file:open-recent', '/a'],
      ['file:save-config', '{}', { suggestedName: 'x', saveAs: true }],
      ['file:open-result'],
      ['file:save-result', '{}', 'r'],
      ['file:export', [{ name: 'a.csv', data: '' }], 'f'],
      ['doc:confirm-discard']
    ])
  })

  it('connects the session once, before its first command', () => {
    fake.sent.length = 0
    api.session.load({ a: 1 })
    api.session.step(3)
    api.session.setSpeed('max')
    api.setTitle('t', true)
    expect(fake.sent).toEqual([['session:connect'], ['session:load', { a: 1 }], ['session:step', 3], ['session:set-speed', 'max'], ['doc:set-title', 't', true]])
  })

  it('delivers the events main posts on the session port, typed arrays intact', async () => {
    const { port1, port2 } = new MessageChannel()
    const received: SessionEvent[] = []
    const off = api.session.onEvent((e) => received.push(e))
    // The DOM's MessagePort (what the preload gets) has onmessage with { data } like Node's.
    fake.on.get('session:port')!({ ports: [port2] })
    const event: SessionEvent = { type: 'samples', batches: [{ lane: 0, from: 0, columns: [new Float64Array([0, 1, 2])] }] }
    port1.postMessage(event)
    port1.postMessage('not an event')
    await vi.waitFor(() => expect(received).toHaveLength(1))
    expect(received[0]).toEqual(event)
    expect((received[0] as Extract<SessionEvent, { type: 'samples' }>).batches[0].columns[0]).toBeInstanceOf(Float64Array)
    off()
    port1.postMessage({ type: 'state', state: 'done' })
    await new Promise((r) => setTimeout(r, 50))
    expect(received).toHaveLength(1)
    port1.close()
  })

  it('forwards menu actions to subscribers until they unsubscribe', () => {
    const seen: unknown[] = []
    const off = api.onMenu((a) => seen.push(a))
    fake.on.get('menu:action')!({ ports: [] }, 'save')
    fake.on.get('menu:action')!({ ports: [] }, { preset: 'paper-fig6a' })
    off()
    fake.on.get('menu:action')!({ ports: [] }, 'stop')
    expect(seen).toEqual(['save', { preset: 'paper-fig6a' }])
  })
})
