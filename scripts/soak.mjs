// `npm run test:soak`: the step-by-step property tests (test/properties.test.ts) at scale, at
// least 10^6 steps, outside CI. Prints the seed first; FC_SEED=N npm run test:soak replays a run
// (a failure also prints fast-check's seed and path). SOAK_SCALE (default 8) multiplies the runs.
import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'

const seed = process.env.FC_SEED ?? String(randomInt(1, 2 ** 31 - 1))
const scale = process.env.SOAK_SCALE ?? '8'
process.stderr.write(`soak: seed ${seed}, scale ${scale} (replay: FC_SEED=${seed} SOAK_SCALE=${scale} npm run test:soak)\n`)
const t0 = Date.now()
const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/properties.test.ts', '--testTimeout=0'], {
  stdio: 'inherit',
  env: { ...process.env, FC_SEED: seed, SAMEPAGE_SOAK_SCALE: scale }
})
process.stderr.write(`soak: ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s, seed ${seed}\n`)
process.exit(r.status ?? 1)
