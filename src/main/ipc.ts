// Main's end of the preload's API (src/preload/api.ts): one handler per channel, each behind
// the same two gates before any work is done:
// 1. the sender is the app's own page in a window's top frame (not a sub-frame, not a page
//    the window was navigated to), and the window is one main created;
// 2. the arguments match the channel's schema (zod; session commands with parseCommand).
// A refused invoke rejects in the renderer; a refused one-way message is logged and dropped.
import { dirname } from 'node:path'
import type { MessagePortMain } from 'electron'
import { z } from 'zod'
import { parseCommand, type Command } from '../core/experiment/protocol.ts'
import type { SamepageInvokeChannel, SamepageInvokeChannels, SamepageSendChannel, SamepageSendChannels } from '../preload/api.ts'
import { askDiscard, exportFiles, openConfig, openRecent, openResult, saveConfig, saveResult, type FileHost } from './files.ts'
import { windowTitle } from './document.ts'
import { assetAccessIssues } from './asset-access.ts'
import { ConfigText, ExportFilesSchema, LoadConfigArg, PathArg, ResultText, SaveConfigOptionsSchema, SuggestedName, TitleArg } from './schemas.ts'
import { isAppUrl, type RendererLocation } from './security.ts'
import type { SessionHub, SessionOwner } from './sessions.ts'

type Owner = SessionOwner<MessagePortMain>

/** What the gates read of an IPC event (Electron's IpcMainEvent / IpcMainInvokeEvent). */
export interface IpcEventLike {
  sender: Owner
  senderFrame: { url: string; parent: unknown } | null
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void
  on(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => void): void
}

/** A window as the handlers see it: its file host, and setting its title. */
export interface WindowHost extends FileHost {
  setTitle(title: string): void
}

export interface IpcDeps {
  renderer: RendererLocation
  /** The window whose web contents has this id, if main created it. */
  windowFor(webContentsId: number): WindowHost | undefined
  sessions: SessionHub<MessagePortMain>
  version(): string
  warn(message: string): void
}

/** Throws unless the message comes from the app's page in a top-level frame. */
export function assertTrustedSender(event: IpcEventLike, channel: string, renderer: RendererLocation): void {
  const frame = event.senderFrame
  if (frame === null) throw new Error(`${channel}: refused a message from a destroyed frame`)
  if (frame.parent !== null) throw new Error(`${channel}: refused a message from a sub-frame`)
  if (!isAppUrl(frame.url, renderer)) throw new Error(`${channel}: refused a message from ${frame.url}`)
}

type Args<C extends SamepageInvokeChannel> = SamepageInvokeChannels[C]['args']
type Result<C extends SamepageInvokeChannel> = SamepageInvokeChannels[C]['result']

interface InvokeHandler<C extends SamepageInvokeChannel> {
  args: z.ZodType<Args<C>>
  run(host: WindowHost, ...args: Args<C>): Promise<Result<C>> | Result<C>
}

type InvokeTable = { [C in SamepageInvokeChannel]: InvokeHandler<C> }

interface SendHandler<C extends SamepageSendChannel> {
  args: z.ZodType<SamepageSendChannels[C]>
  run(host: WindowHost, owner: Owner, ...args: SamepageSendChannels[C]): void
}

type SendTable = { [C in SamepageSendChannel]: SendHandler<C> }

const none = z.tuple([])

/** The invoke handlers (exported for tests: the table is the whole API surface). */
export function invokeTable(deps: IpcDeps): InvokeTable {
  return {
    'app:version': { args: none, run: () => deps.version() },
    'file:open-config': { args: none, run: (host) => openConfig(host) },
    'file:open-recent': { args: z.tuple([PathArg]), run: (host, path) => openRecent(host, path) },
    'file:save-config': { args: z.tuple([ConfigText, SaveConfigOptionsSchema]), run: (host, text, opts) => saveConfig(host, text, opts) },
    'file:open-result': { args: none, run: (host) => openResult(host) },
    'file:save-result': { args: z.tuple([ResultText, SuggestedName]), run: (host, text, name) => saveResult(host, text, name) },
    'file:export': { args: z.tuple([ExportFilesSchema, SuggestedName]), run: (host, files, folder) => exportFiles(host, files, folder) },
    'doc:confirm-discard': { args: none, run: (host) => askDiscard(host) }
  }
}

/** A session command's arguments, checked by the protocol's own parser. */
function command(deps: IpcDeps, owner: Owner, cmd: unknown): void {
  const parsed: Command | null = parseCommand(cmd)
  if (parsed === null) throw new Error(`refused a malformed session command: ${JSON.stringify(cmd)?.slice(0, 200)}`)
  deps.sessions.command(owner.id, parsed)
}

export function sendTable(deps: IpcDeps): SendTable {
  return {
    'doc:set-title': {
      args: z.tuple([TitleArg, z.boolean()]),
      run: (host, _owner, title, dirty) => {
        host.doc.title = title
        host.doc.dirty = dirty
        host.setTitle(windowTitle(title))
      }
    },
    'session:connect': { args: none, run: (_host, owner) => deps.sessions.connect(owner) },
    // Relative file paths in the config resolve against the folder of this window's experiment
    // file; files outside it (and not picked in a dialog) are refused here, before the worker.
    'session:load': {
      args: z.tuple([LoadConfigArg]),
      run: (host, owner, config) => {
        const refused = assetAccessIssues(config, { docPath: host.doc.path, picked: host.granted })
        if (refused.length > 0) return deps.sessions.reply(owner.id, { type: 'invalid', issues: refused })
        command(deps, owner, host.doc.path === null ? { type: 'load', config } : { type: 'load', config, baseDir: dirname(host.doc.path) })
      }
    },
    'session:start': { args: none, run: (_host, owner) => command(deps, owner, { type: 'start' }) },
    'session:pause': { args: none, run: (_host, owner) => command(deps, owner, { type: 'pause' }) },
    'session:resume': { args: none, run: (_host, owner) => command(deps, owner, { type: 'resume' }) },
    'session:step': { args: z.tuple([z.number()]), run: (_host, owner, seconds) => command(deps, owner, { type: 'step', seconds }) },
    'session:stop': { args: none, run: (_host, owner) => command(deps, owner, { type: 'stop' }) },
    'session:set-speed': { args: z.tuple([z.union([z.number(), z.literal('max')])]), run: (_host, owner, speed) => command(deps, owner, { type: 'setSpeed', speed }) }
  }
}

function checkedArgs<T>(channel: string, schema: z.ZodType<T>, args: unknown[]): T {
  const r = schema.safeParse(args)
  if (!r.success) {
    const first = r.error.issues[0]
    throw new Error(`${channel}: invalid arguments: ${first.path.length > 0 ? `[${first.path.join('.')}] ` : ''}${first.message}`)
  }
  return r.data
}

function hostOf(deps: IpcDeps, event: IpcEventLike, channel: string): WindowHost {
  assertTrustedSender(event, channel, deps.renderer)
  const host = deps.windowFor(event.sender.id)
  if (host === undefined) throw new Error(`${channel}: refused a message from a window main did not create`)
  return host
}

/** Register every handler of both tables on `ipcMain`. */
export function registerIpc(ipcMain: IpcMainLike, deps: IpcDeps): void {
  const invokes = invokeTable(deps)
  for (const channel of Object.keys(invokes) as SamepageInvokeChannel[]) {
    const handler = invokes[channel] as InvokeHandler<SamepageInvokeChannel>
    ipcMain.handle(channel, (event, ...args) => {
      const host = hostOf(deps, event, channel)
      const parsed = checkedArgs(channel, handler.args, args)
      const run = handler.run as (host: WindowHost, ...a: unknown[]) => unknown
      return run(host, ...(parsed as unknown[]))
    })
  }
  const sends = sendTable(deps)
  for (const channel of Object.keys(sends) as SamepageSendChannel[]) {
    const handler = sends[channel] as SendHandler<SamepageSendChannel>
    ipcMain.on(channel, (event, ...args) => {
      try {
        const host = hostOf(deps, event, channel)
        const parsed = checkedArgs(channel, handler.args, args)
        const run = handler.run as (host: WindowHost, owner: Owner, ...a: unknown[]) => void
        run(host, event.sender, ...(parsed as unknown[]))
      } catch (e) {
        deps.warn(e instanceof Error ? e.message : String(e))
      }
    })
  }
}
