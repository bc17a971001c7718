import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Component tests (test/renderer-*.test.ts) import .vue files.
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    // The property tests' seed: random locally, fixed under CI (test/setup-fast-check.ts).
    setupFiles: ['test/setup-fast-check.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks'
  }
})
