/**
 * Names the config schema offers for the scenario workloads, apart from the workloads
 * themselves: config.ts (loaded by the Electron main process, which must not load the guest
 * model) imports them from here.
 */

/** file-cases: the weight parameters of the paper's four cases, in its order (case 1 first). */
export const FILE_CASES = ['same_path_same_content', 'different_path_different_content', 'same_path_different_content', 'different_path_same_content'] as const
export type FileCase = (typeof FILE_CASES)[number]

/** web-app: the language runtimes and where they may be installed. */
export const RUNTIMES = ['python-2.7', 'ruby-2.0', 'openjdk-7'] as const
export type RuntimeName = (typeof RUNTIMES)[number]
export const INSTALL_PREFIXES = ['/usr/local', '/opt'] as const
export type InstallPrefix = (typeof INSTALL_PREFIXES)[number]
