/// <reference types="vite/client" />
import type { SamepageApi } from '../../preload/api.ts'

declare global {
  interface Window {
    /** Set by the Electron preload; undefined in a plain browser (web mode). */
    samepage?: SamepageApi
  }
}
