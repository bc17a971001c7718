// Booting from a large image is bounded by the VM's memory: the boot reads the image's files in
// image order only up to the VM's pages (a 1 GB image in a 1 GiB VM peaked at 5.5 GB before).
import { describe, expect, it } from 'vitest'
import { loadRealImage } from '../src/core/experiment/lane.ts'
import type { ImageIndex } from '../src/core/formats/image.ts'

function fakeCtx() {
  let next = 0
  return { guest: { files: { addReal: () => next++ } }, realFiles: new Map<string, number>(), paths: { id: (p: string) => p.length } }
}

const file = (path: string, pages: number) => ({ path, size: pages * 4096, elf: false, fps: new Uint32Array(pages * 2) })

describe('booting from an image', () => {
  it('loads files only up to the VM memory, in image order', () => {
    const index = { files: [file('/a', 3000), file('/b', 1000), file('/c', 3000), file('/d', 10)] } as unknown as ImageIndex
    const ctx = fakeCtx()
    // 4096 pages (16 MiB): /a and /b fit (4000), /c would pass the VM's memory.
    expect(Array.from(loadRealImage(ctx as never, index, undefined, 4096))).toEqual([0, 1])
    // Every file is still known by its path (reads later in the run find it).
    expect([...ctx.realFiles.keys()]).toEqual(['/a', '/b', '/c', '/d'])
    expect(Array.from(loadRealImage(fakeCtx() as never, index, undefined, 1 << 20))).toEqual([0, 1, 2, 3])
    expect(Array.from(loadRealImage(fakeCtx() as never, index, ['/c', '/d'], 4096))).toEqual([2, 3])
  })
})
