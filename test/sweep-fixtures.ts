/** The example sweep of issue 14 and docs/sweeps.md, as written. */
export const ISSUE_EXAMPLE = {
  schema: 'samepage-lab/sweep@1',
  base: 'paper-fig6a',
  set: { duration_s: 120 },
  axes: [{ path: 'lanes[KSM].scanner.pages_to_scan', values: [50, 100, 200] }],
  seeds: [42, 43],
  metrics: ['sharing_ratio.mean', 'cpu_percent.mean']
}
