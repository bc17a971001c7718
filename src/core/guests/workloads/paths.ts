/**
 * Path identity. The hypervisor keys attributes by path name; the model names paths by an
 * integer: a namespace (an install tree, the build tree, /tmp, ...) times 2^24 plus an index in
 * it. Two VMs name the same path exactly when namespace and index are equal, so the id is a pure
 * function (the same in every lane, whatever the order of events).
 */
export const PATH_INDEX_BITS = 24
export const PATH_INDEX_MASK = (1 << PATH_INDEX_BITS) - 1

export const NS_ZERO = 0 // pseudo path the paper's guest reports for zeroed pages
export const NS_IMAGE_BASE = 1 // 1 + image index: files installed by an OS image
export const NS_KBUILD_SRC = 40 // the kernel source tree (same path in every VM)
export const NS_KBUILD_OBJ = 41 // objects written by the build (same path in every VM)
export const NS_TMP = 42 // mkstemp names: random per VM
export const NS_VAR = 43 // per-VM files at common paths (logs, hostname, keys)
export const NS_USER = 44 // workload data files
export const NS_CASES_COMMON = 45 // file-cases: a path every VM names alike (index = file)
export const NS_CASES_OWN = 46 // file-cases: a path of one VM only (index = vm << 16 | file)
export const NS_OFFICE_COMMON = 47 // office-docs: a shared folder mounted at the same path everywhere
export const NS_OFFICE_OWN = 48 // office-docs: one VM's own documents (index = vm << 16 | document)
export const NS_RUNTIME_BASE = 49 // web-app: 49 + install prefix index (/usr/local, /opt); index = runtime << 16 | file
export const NS_APP = 52 // web-app: the application tree (/srv/app), the same path for every tenant
export const NS_REAL = 53 // real paths (real images, traces): interned per lane, see PathNames

/** Files per VM for the namespaces that give each VM its own paths (index = vm << 16 | file). */
export const OWN_PATH_FILES_MAX = 1 << 16

/** A path only VM `vm` names: the same file index at another VM is another path. */
export function ownPathId(ns: number, vm: number, index: number): number {
  return pathId(ns, vm * OWN_PATH_FILES_MAX + index)
}


export function pathId(ns: number, index: number): number {
  return ns * (1 << PATH_INDEX_BITS) + (index & PATH_INDEX_MASK)
}

/** The pseudo path the paper's guest names for a page it zeroed ("zero pages are a target too"). */
export const ZERO_PATH_ID = pathId(NS_ZERO, 0)

/**
 * Ids of real path names ("/usr/bin/ls"), interned per lane: equal strings get equal ids in
 * every VM of the lane, so the paper's hints match on equal paths. Ids are handed out in the
 * order VMs are built, the same in every lane.
 */
export class PathNames {
  private readonly ids = new Map<string, number>()

  id(path: string): number {
    let id = this.ids.get(path)
    if (id === undefined) {
      if (this.ids.size > PATH_INDEX_MASK) throw new Error(`more than ${PATH_INDEX_MASK + 1} distinct real paths in one lane`)
      id = pathId(NS_REAL, this.ids.size)
      this.ids.set(path, id)
    }
    return id
  }
}
