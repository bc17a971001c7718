// Loaded with `node --import` by full-disk.test.ts: every write(2) to a file whose path contains
// SAMEPAGE_TEST_ENOSPC fails with ENOSPC, as on a full disk. Named imports of node:fs see the
// patch through syncBuiltinESMExports.
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'

const marker = process.env.SAMEPAGE_TEST_ENOSPC
if (marker) {
  const full = (fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).includes(marker)
    } catch {
      return false
    }
  }
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' })
  const writeSync = fs.writeSync
  fs.writeSync = (fd, ...rest) => {
    if (full(fd)) throw enospc()
    return writeSync(fd, ...rest)
  }
  const writeFileSync = fs.writeFileSync
  fs.writeFileSync = (file, ...rest) => {
    if (typeof file === 'string' && file.includes(marker)) throw enospc()
    if (typeof file === 'number' && full(file)) throw enospc()
    return writeFileSync(file, ...rest)
  }
  syncBuiltinESMExports()
}
