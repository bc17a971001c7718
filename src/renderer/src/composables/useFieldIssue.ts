/**
 * Ties an editor field to its config path (`vms[0].memory_mib`, as validateExperiment names
 * it): registers the path as placed on screen, so its issues show next to the field and not in
 * the general list, and returns those issues.
 */
import { computed, onBeforeUnmount, useId, watch, type MaybeRefOrGetter, toValue } from 'vue'
import { useLab } from '../stores/lab.ts'

export function useFieldIssue(path: MaybeRefOrGetter<string | undefined>) {
  const { experiment } = useLab()
  const id = useId()
  let release: (() => void) | null = null
  watch(
    () => toValue(path),
    (p) => {
      release?.()
      release = p ? experiment.placeField(p) : null
    },
    { immediate: true }
  )
  onBeforeUnmount(() => release?.())
  const messages = computed(() => {
    const p = toValue(path)
    return p ? (experiment.issuesByPath.value.get(p) ?? []) : []
  })
  return {
    inputId: `f-${id}`,
    issueId: `f-${id}-issue`,
    messages,
    invalid: computed(() => messages.value.length > 0)
  }
}
