/**
 * Synthetic OS images: the files an installed guest has and what its boot loads. An image is a
 * deterministic function of its name, so two VMs of the same image have the same paths and the
 * same bytes; different images differ in both. Sizes are documented in docs/model.md.
 */
import { hash32, hashString, Rng } from '../../machine/rng.ts'
import { NS_IMAGE_BASE } from './paths.ts'

export const IMAGE_NAMES = ['debian-7', 'centos-6', 'ubuntu-12.04'] as const
export type ImageName = (typeof IMAGE_NAMES)[number]

export interface ImageFile {
  /** Index within the image's path namespace. */
  index: number
  sizePages: number
  /** ELF executable or shared library (mapped as text when run). */
  text: boolean
}

export interface ImageModel {
  name: ImageName
  ns: number
  /** Content key base: files of this image have content hash32(contentBase, index). */
  contentBase: number
  files: ImageFile[]
  /** Files read at boot (page cache) and executables/libraries mapped at boot (text). */
  bootRead: number[]
  bootText: number[]
  /** The toolchain, used by kernel-build. */
  tool: { cc1: number; as: number; ld: number; gcc: number; make: number; sh: number; libc: number }
  /** Kernel memory after boot, pages; the first `kernelSharedPages` are identical across VMs. */
  kernelPages: number
  kernelSharedPages: number
  /** Daemon heap and stack after boot, pages; `daemonSharedPages` identical across VMs. */
  daemonPages: number
  daemonSharedPages: number
  /** Zeroed kernel tables the boot allocates and keeps (page tables, hash tables, per-cpu). */
  bootZeroPages: number
  /** Pages the boot touches and frees again: initramfs, init memory, early buffers. */
  bootEarlyPages: number
  /** Daemon pages allocated and still zero (bss, untouched heap). */
  daemonZeroPages: number
  /** Per-VM files at common paths (hostname, host keys, machine-id, logs): same path, own bytes. */
  perVmFiles: number
}

// Sizes in 4 KiB pages for a Debian 7 / Linux 3.0-era guest (docs/model.md, "OS images").
const BOOT_READ_MIB = 56
const BOOT_TEXT_MIB = 34
const KERNEL_MIB = 22
const KERNEL_SHARED_FRACTION = 0.2
const DAEMON_MIB = 26
const DAEMON_SHARED_FRACTION = 0.2
const BOOT_ZERO_MIB = 24
const BOOT_EARLY_MIB = 30
const DAEMON_ZERO_FRACTION = 0.1
const PER_VM_FILES = 24
const IMAGE_FILES = 24000

const cache = new Map<string, ImageModel>()

export function imageModel(name: ImageName): ImageModel {
  const hit = cache.get(name)
  if (hit) return hit
  const idx = IMAGE_NAMES.indexOf(name)
  const rng = new Rng(hashString(name), 7)
  const files: ImageFile[] = []
  // Toolchain first, at fixed indices.
  const toolSizes: [string, number][] = [
    ['cc1', 3600],
    ['as', 420],
    ['ld', 340],
    ['gcc', 200],
    ['make', 48],
    ['sh', 230],
    ['libc', 440]
  ]
  for (const [, size] of toolSizes) files.push({ index: files.length, sizePages: size, text: true })
  const tool = { cc1: 0, as: 1, ld: 2, gcc: 3, make: 4, sh: 5, libc: 6 }
  while (files.length < IMAGE_FILES) {
    const text = rng.chance(0.25)
    files.push({ index: files.length, sizePages: rng.lognormalInt(text ? 24 : 3, 1.2), text })
  }
  const bootRead: number[] = []
  const bootText: number[] = [tool.libc, tool.sh]
  let readPages = 0
  let textPages = files[tool.libc].sizePages + files[tool.sh].sizePages
  for (let i = 7; i < files.length; i++) {
    const f = files[i]
    if (f.text && textPages < BOOT_TEXT_MIB * 256 && rng.chance(0.3)) {
      bootText.push(i)
      textPages += f.sizePages
    } else if (!f.text && readPages < BOOT_READ_MIB * 256 && rng.chance(0.3)) {
      bootRead.push(i)
      readPages += f.sizePages
    }
  }
  const model: ImageModel = {
    name,
    ns: NS_IMAGE_BASE + idx,
    contentBase: hash32(hashString(name), 0x1a6e),
    files,
    bootRead,
    bootText,
    tool,
    kernelPages: KERNEL_MIB * 256,
    kernelSharedPages: Math.round(KERNEL_MIB * 256 * KERNEL_SHARED_FRACTION),
    daemonPages: DAEMON_MIB * 256,
    daemonSharedPages: Math.round(DAEMON_MIB * 256 * DAEMON_SHARED_FRACTION),
    bootZeroPages: BOOT_ZERO_MIB * 256,
    bootEarlyPages: BOOT_EARLY_MIB * 256,
    daemonZeroPages: Math.round(DAEMON_MIB * 256 * DAEMON_ZERO_FRACTION),
    perVmFiles: PER_VM_FILES
  }
  cache.set(name, model)
  return model
}
