// Entry of the renderer: the same Vue app in Electron and in a plain browser (web mode); the
// platform (files, menus, the simulation session) is the only difference.
import { mountApp } from './mount.ts'
import { createPlatform } from './platform/index.ts'

mountApp('#app', createPlatform())
