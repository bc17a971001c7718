// Entry of the renderer: the same Vue app in Electron and in a plain browser (web mode).
import { createApp } from 'vue'
import App from './App.vue'

createApp(App).mount('#app')
