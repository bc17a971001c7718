// A Platform for renderer tests: a scripted file system (what Open returns, what Save and the
// exports received), a menu the test can press, and either a FakeClient (the test plays the
// session) or a real Session on this thread (src/host/session.ts behind the same LabClient).
import type { LabClient, SessionEvent, Speed, Command } from '../../src/core/experiment/protocol.ts'
import { Session, type Clock } from '../../src/host/session.ts'
import type { ExportFile, MenuAction, OpenedFile, Platform, SavedFile } from '../../src/renderer/src/platform/types.ts'

/** A client that records commands; the test emits the session's events. */
export class FakeClient implements LabClient {
  readonly commands: Command[] = []
  private listeners = new Set<(e: SessionEvent) => void>()
  load(config: unknown): void {
    this.commands.push({ type: 'load', config })
  }
  start(): void {
    this.commands.push({ type: 'start' })
  }
  pause(): void {
    this.commands.push({ type: 'pause' })
  }
  resume(): void {
    this.commands.push({ type: 'resume' })
  }
  step(seconds: number): void {
    this.commands.push({ type: 'step', seconds })
  }
  stop(): void {
    this.commands.push({ type: 'stop' })
  }
  setSpeed(speed: Speed): void {
    this.commands.push({ type: 'setSpeed', speed })
  }
  onEvent(listener: (e: SessionEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  emit(e: SessionEvent): void {
    for (const l of this.listeners) l(e)
  }
  types(): string[] {
    return this.commands.map((c) => c.type)
  }
  dispose(): void {
    this.listeners.clear()
  }
}

/** A client that runs a real Session on this thread (events delivered asynchronously, as over a port). */
export function sessionClient(clock?: Clock): LabClient & { session: Session } {
  const listeners = new Set<(e: SessionEvent) => void>()
  const session = new Session((e) => {
    queueMicrotask(() => {
      for (const l of listeners) l(e)
    })
  }, clock)
  return {
    session,
    load: (config) => session.handle({ type: 'load', config }),
    start: () => session.handle({ type: 'start' }),
    pause: () => session.handle({ type: 'pause' }),
    resume: () => session.handle({ type: 'resume' }),
    step: (seconds) => session.handle({ type: 'step', seconds }),
    stop: () => session.handle({ type: 'stop' }),
    setSpeed: (speed) => session.handle({ type: 'setSpeed', speed }),
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    dispose: () => {
      session.handle({ type: 'stop' })
      listeners.clear()
    }
  }
}

export interface TestPlatform extends Platform {
  /** Files Open / Open result will return, in order (null: the user cancelled). */
  toOpen: (OpenedFile | null)[]
  saved: { text: string; opts: { path?: string; suggestedName: string; saveAs: boolean } }[]
  savedResults: { text: string; suggestedName: string }[]
  exports: { files: ExportFile[]; folder: string }[]
  titles: { title: string; dirty: boolean }[]
  /** What confirmDiscard answers, and how often it was asked. */
  confirmAnswer: boolean
  confirms: number
  press(action: MenuAction): void
}

export function createTestPlatform(client: LabClient): TestPlatform {
  const menu = new Set<(a: MenuAction) => void>()
  const p: TestPlatform = {
    kind: 'web',
    client,
    toOpen: [],
    saved: [],
    savedResults: [],
    exports: [],
    titles: [],
    confirmAnswer: true,
    confirms: 0,
    async confirmDiscard() {
      p.confirms++
      return p.confirmAnswer
    },
    async openConfig() {
      return p.toOpen.shift() ?? null
    },
    async saveConfig(text, opts): Promise<SavedFile | null> {
      p.saved.push({ text, opts })
      return { name: opts.suggestedName, path: opts.path ?? `/tmp/${opts.suggestedName}` }
    },
    async openResult() {
      return p.toOpen.shift() ?? null
    },
    async saveResult(text, suggestedName) {
      p.savedResults.push({ text, suggestedName })
      return { name: suggestedName }
    },
    async exportFiles(files, folder) {
      p.exports.push({ files, folder })
      return true
    },
    setTitle(title, dirty) {
      p.titles.push({ title, dirty })
    },
    onMenu(listener) {
      menu.add(listener)
      return () => menu.delete(listener)
    },
    press(action) {
      for (const l of menu) l(action)
    }
  }
  return p
}
