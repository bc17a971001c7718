/** Messages for the user: errors (opening a bad file, a failed run) and short confirmations. */
import { ref } from 'vue'

export interface Notice {
  id: number
  kind: 'error' | 'info'
  title: string
  /** One line per problem, e.g. `vms[0].memory_mib: Too small ...`. */
  lines: string[]
}

export function createNotices() {
  const list = ref<Notice[]>([])
  let next = 1

  function push(kind: Notice['kind'], title: string, lines: string[] = []): void {
    // One notice per title: a repeated failure replaces its older copy.
    list.value = [...list.value.filter((n) => n.title !== title), { id: next++, kind, title, lines }]
  }

  return {
    list,
    error: (title: string, lines: string[] = []) => push('error', title, lines),
    info: (title: string, lines: string[] = []) => push('info', title, lines),
    dismiss(id: number): void {
      list.value = list.value.filter((n) => n.id !== id)
    },
    clear(): void {
      list.value = []
    }
  }
}

export type Notices = ReturnType<typeof createNotices>
