// A worker for test/pool.test.ts: tasks that succeed, throw, or kill their worker.
import { serveTasks } from '../src/cli/pool.ts'

serveTasks<{ kind: 'ok' | 'throw' | 'die'; value: number }, number>('pool-test', (task, onProgress) => {
  onProgress(0.5)
  if (task.kind === 'throw') throw new Error(`task ${task.value} failed`)
  if (task.kind === 'die') process.exit(3)
  return task.value * 2
})
