// The main window's size and position, remembered across runs in userData/window-state.json.
// Restored only if the window would still show on one of today's displays (a monitor may have
// been unplugged); otherwise the window opens at the default size, centred by Electron.
import { z } from 'zod'

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

export interface WindowState {
  bounds?: Rect
  maximized: boolean
}

export const DEFAULT_SIZE = { width: 1280, height: 800 } as const
export const MIN_SIZE = { width: 640, height: 480 } as const
/** How much of the window's top strip (its title bar) must lie on a display to restore it. */
const VISIBLE_STRIP = { width: 120, height: 32 } as const

const WindowStateSchema = z.object({
  x: z.number().int().min(-100_000).max(100_000),
  y: z.number().int().min(-100_000).max(100_000),
  width: z.number().int().min(MIN_SIZE.width).max(100_000),
  height: z.number().int().min(MIN_SIZE.height).max(100_000),
  maximized: z.boolean()
})

function overlap(a: Rect, b: Rect): Rect {
  const x = Math.max(a.x, b.x)
  const y = Math.max(a.y, b.y)
  return { x, y, width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - x), height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - y) }
}

/** The state to open with, from the stored text and the displays' work areas. */
export function restoreWindowState(text: string | null, workAreas: readonly Rect[]): WindowState {
  if (text === null) return { maximized: false }
  let parsed
  try {
    parsed = WindowStateSchema.safeParse(JSON.parse(text))
  } catch {
    return { maximized: false }
  }
  if (!parsed.success) return { maximized: false }
  const { maximized, ...bounds } = parsed.data
  const titleBar: Rect = { x: bounds.x, y: bounds.y, width: bounds.width, height: VISIBLE_STRIP.height }
  const visible = workAreas.some((area) => {
    const o = overlap(titleBar, area)
    return o.width >= Math.min(VISIBLE_STRIP.width, bounds.width) && o.height >= VISIBLE_STRIP.height
  })
  return visible ? { bounds, maximized } : { maximized }
}

/** The text stored for a window with these normal (unmaximized) bounds. */
export function windowStateText(bounds: Rect, maximized: boolean): string {
  const round = (v: number) => Math.round(v)
  const state = {
    x: round(bounds.x),
    y: round(bounds.y),
    width: Math.max(MIN_SIZE.width, round(bounds.width)),
    height: Math.max(MIN_SIZE.height, round(bounds.height)),
    maximized
  }
  return JSON.stringify(state) + '\n'
}
