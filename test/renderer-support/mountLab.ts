// Mounts renderer components the way App does: with a Lab on a test Platform provided.
import { mount } from '@vue/test-utils'
import { defineComponent, h, type Component } from 'vue'
import type { LabClient } from '../../src/core/experiment/protocol.ts'
import { createLab, LAB_KEY, type Lab } from '../../src/renderer/src/stores/lab.ts'
import { createTestPlatform, FakeClient, type TestPlatform } from './platform.ts'

export function mountLab(components: Component[], client: LabClient = new FakeClient()) {
  const platform: TestPlatform = createTestPlatform(client)
  const lab: Lab = createLab(platform)
  const Host = defineComponent({ name: 'TestHost', render: () => h('div', components.map((c) => h(c))) })
  const wrapper = mount(Host, { global: { provide: { [LAB_KEY as symbol]: lab } }, attachTo: document.body })
  return { wrapper, lab, platform, client: client as FakeClient }
}

/** Waits for the next animation frame (the frame ticker's redraw) and Vue's re-render. */
export async function nextFrame(): Promise<void> {
  await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()))
  await new Promise<void>((resolve) => setTimeout(resolve, 0))
}
