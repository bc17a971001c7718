// The API that the preload exposes to the renderer as `window.samepage`, and the IPC channels
// behind it. Type-only: the renderer and main import it with `import type`, so nothing from
// here is bundled twice and the preload stays the only code that touches ipcRenderer.
//
// One method per message, never a generic `invoke(channel, ...args)`: the renderer can only
// ask for what is listed here, and main validates each message on its own terms.

/** What `window.samepage` offers. Absent in a plain browser (web mode). */
export interface SamepageApi {
  /** The application's version, as in package.json. */
  version(): Promise<string>
}

/** Every IPC channel, with the arguments it carries and what main answers. */
export interface SamepageChannels {
  'app:version': { args: []; result: string }
}

export type SamepageChannel = keyof SamepageChannels
