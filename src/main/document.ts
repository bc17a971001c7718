// The unsaved-changes logic of one window, as plain functions of a small state and injected
// effects (a message box, "ask the renderer to save"), so tests drive it without Electron.
//
// The renderer owns the experiment and reports whether it is dirty with setTitle. Before
// anything replaces or drops it (New, Open, Open Recent, a preset, closing the window, quitting)
// main asks: Save / Don't Save / Cancel. "Save" sends the renderer the 'save' menu action and
// waits for main's own save handler to finish: written → go ahead; cancelled or failed → stop.

export const APP_NAME = 'Samepage Lab'

/** How long "Save" waits for the renderer to start saving before giving up (then: cancel). */
export const SAVE_REQUEST_TIMEOUT_MS = 10_000

/** The window title: the renderer's (it carries its own dirty marker), or the app name. */
export function windowTitle(title: string): string {
  const t = title.trim()
  return t === '' ? APP_NAME : t
}

/** The document's name in a prompt: the title without a dirty marker or the app name. */
export function documentName(title: string): string {
  return title
    .replace(/^[\s●•*]+/, '')
    .replace(new RegExp(`\\s*[—–-]\\s*${APP_NAME}\\s*$`), '')
    .trim()
}

type Waiter = { resolve: (saved: boolean) => void; timer: ReturnType<typeof setTimeout> | null }

/** What main knows of the document in one window. */
export class DocumentState {
  title = ''
  dirty = false
  /**
   * The experiment file this window last opened or saved (absolute), or null: relative file
   * paths in the experiment (images, snapshots, traces) resolve against its folder, as the CLI
   * resolves them against the config file's.
   */
  path: string | null = null
  /** The user agreed to close: the next 'close' goes through without a prompt. */
  closeApproved = false
  /** A Save / Don't Save / Cancel box is open (a second request waits for it, not a second box). */
  prompt: Promise<boolean> | null = null
  private waiters: Waiter[] = []

  /**
   * Resolves when the next save finishes: true if it was written, false if cancelled or failed,
   * or if no save starts within `timeoutMs`.
   */
  nextSave(timeoutMs = SAVE_REQUEST_TIMEOUT_MS): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, timer: null }
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        resolve(false)
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }

  /** A save handler began (its dialog may stay open for long: no more timeout). */
  saveStarted(): void {
    for (const w of this.waiters) {
      if (w.timer !== null) clearTimeout(w.timer)
      w.timer = null
    }
  }

  /** A save handler ended; `saved` is whether the file was written. */
  saveFinished(saved: boolean): void {
    if (saved) this.dirty = false
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) {
      if (w.timer !== null) clearTimeout(w.timer)
      w.resolve(saved)
    }
  }
}

/** Button order of the prompt; Cancel is also what Escape and closing the box give. */
export const DISCARD_BUTTONS = ['Save', "Don't Save", 'Cancel'] as const
const SAVE = 0
const DONT_SAVE = 1
const CANCEL = 2

export interface MessageBox {
  (opts: { type: 'warning'; buttons: string[]; defaultId: number; cancelId: number; noLink: boolean; title: string; message: string; detail: string }): Promise<{ response: number }>
}

export interface DiscardHost {
  doc: DocumentState
  messageBox: MessageBox
  /** Ask the renderer to save (send it the 'save' menu action). */
  requestSave: () => void
  saveTimeoutMs?: number
}

/**
 * May the current experiment be dropped? True at once when it is not dirty; otherwise the
 * user chooses: Don't Save → true; Cancel → false; Save → true once the save was written.
 */
export function confirmDiscard(host: DiscardHost): Promise<boolean> {
  const { doc } = host
  if (!doc.dirty) return Promise.resolve(true)
  if (doc.prompt !== null) return doc.prompt
  const run = async (): Promise<boolean> => {
    const { response } = await host.messageBox({
      type: 'warning',
      buttons: [...DISCARD_BUTTONS],
      defaultId: SAVE,
      cancelId: CANCEL,
      noLink: true,
      title: APP_NAME,
      message: `Do you want to save the changes to ${documentName(doc.title) === '' ? 'this experiment' : `"${documentName(doc.title)}"`}?`,
      detail: "Your changes will be lost if you don't save them."
    })
    if (response === DONT_SAVE) return true
    if (response !== SAVE) return false
    const saved = doc.nextSave(host.saveTimeoutMs)
    host.requestSave()
    return saved
  }
  doc.prompt = run().finally(() => {
    doc.prompt = null
  })
  return doc.prompt
}

/**
 * The window's 'close' handler. Returns true when the window may close now; otherwise the
 * caller prevents the close, and after the prompt `close()` is called if the user agreed
 * (then the next close goes through), or `cancelled()` if not (e.g. to cancel a quit).
 */
export function interceptClose(host: DiscardHost, close: () => void, cancelled: () => void): boolean {
  if (host.doc.closeApproved || !host.doc.dirty) return true
  void confirmDiscard(host).then((ok) => {
    if (ok) {
      host.doc.closeApproved = true
      close()
    } else {
      cancelled()
    }
  })
  return false
}
