// Test helper: writes one result folder with src/host/node/result-dir.ts, as `samepage run --out`
// would, so test/result-dir.test.ts can kill it at every step (SAMEPAGE_FAULT_AT).
// usage: node --import tsx test/result-dir-writer.ts DIR LABEL
import { writeResultDir } from '../src/host/node/result-dir.ts'

const [dir, label] = process.argv.slice(2)
await writeResultDir(dir, [
  ['config.json', JSON.stringify({ label }) + '\n'],
  ['summary.json', JSON.stringify({ label, lanes: [] }) + '\n'],
  ['series.csv', `t,label\n0,${label}\n`],
  ['sharing.png', new Uint8Array(4096).fill(label.length)]
])
