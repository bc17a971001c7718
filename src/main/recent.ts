// The recent-files list of File > Open Recent: experiment configs the user opened or saved,
// newest first, at most MAX_RECENT, kept in userData/recent-files.json. Main only ever reads a
// path from this list when the renderer asks to re-open one (openRecent refuses others).
import { z } from 'zod'

export const MAX_RECENT = 10
export const RECENT_SCHEMA_ID = 'samepage-lab/recent@1'

const RecentSchema = z.object({
  schema: z.literal(RECENT_SCHEMA_ID),
  files: z.array(z.string().min(1).max(4096)).max(100)
})

export class RecentFiles {
  private files: string[] = []
  private readonly listeners = new Set<(files: readonly string[]) => void>()

  /** A list read from the stored text; unreadable or foreign text gives an empty list. */
  static fromText(text: string | null): RecentFiles {
    const recent = new RecentFiles()
    if (text === null) return recent
    try {
      const r = RecentSchema.safeParse(JSON.parse(text))
      if (r.success) recent.files = [...new Set(r.data.files)].slice(0, MAX_RECENT)
    } catch {
      // A corrupt file starts a new list.
    }
    return recent
  }

  list(): readonly string[] {
    return this.files
  }

  has(path: string): boolean {
    return this.files.includes(path)
  }

  /** Move `path` to the top of the list. */
  add(path: string): void {
    this.set([path, ...this.files.filter((f) => f !== path)].slice(0, MAX_RECENT))
  }

  remove(path: string): void {
    if (this.has(path)) this.set(this.files.filter((f) => f !== path))
  }

  clear(): void {
    if (this.files.length > 0) this.set([])
  }

  toText(): string {
    return JSON.stringify({ schema: RECENT_SCHEMA_ID, files: this.files }, null, 2) + '\n'
  }

  /** Called after every change (to store the list and rebuild the menu). */
  onChange(listener: (files: readonly string[]) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private set(files: string[]): void {
    const same = files.length === this.files.length && files.every((f, i) => f === this.files[i])
    this.files = files
    if (!same) for (const l of this.listeners) l(files)
  }
}
