/** The OS light/dark preference, live (prefers-color-scheme). */
import { onBeforeUnmount, ref, type Ref } from 'vue'

export function useDarkTheme(): Ref<boolean> {
  const query = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null
  const dark = ref(query?.matches ?? false)
  const onChange = (e: MediaQueryListEvent) => {
    dark.value = e.matches
  }
  query?.addEventListener('change', onChange)
  onBeforeUnmount(() => query?.removeEventListener('change', onChange))
  return dark
}
