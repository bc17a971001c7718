// fast-check's seed for the property tests: a fresh random one on a developer's machine (new
// inputs every run), a fixed one under CI (CI=true: a red CI must be reproducible, not a rare
// draw). FC_SEED=N reproduces any run; a failing property prints the seed it used.
import fc from 'fast-check'

const seed = process.env.FC_SEED ?? (process.env.CI ? '20261127' : undefined)
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) })
