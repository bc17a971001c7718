// Mounts the app on a Platform: main.ts with the real one, tests with their own.
import { createApp, type App as VueApp } from 'vue'
import App from './App.vue'
import type { Platform } from './platform/types.ts'
import { createLab, LAB_KEY } from './stores/lab.ts'
import './styles/app.css'

export function mountApp(el: string | Element, platform: Platform): VueApp {
  const app = createApp(App)
  app.provide(LAB_KEY, createLab(platform))
  app.mount(el)
  return app
}
