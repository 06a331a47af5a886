/** `pgstrap db:prune-test`: drops the per-test databases (pgstrap/testing) of runs that are gone. */
import { ExitCode } from '../shared/errors.ts';
import { withProject, type CommonOptions } from '../pipeline/project.ts';
import { pruneTestDatabases } from '../testing/databases.ts';
import { removeTestCluster, runningTestCluster } from '../testing/cluster.ts';

export async function pruneTestCommand(options: CommonOptions, flags: { all: boolean }): Promise<ExitCode> {
  return withProject(options, 'db:prune-test', async ({ target, output }) => {
    const result = await pruneTestDatabases(target, flags);
    if (target.kind !== 'external') {
      // The throwaway test cluster: --all removes it whole; otherwise its dead clones go too, if it runs.
      if (flags.all) {
        if (await removeTestCluster(target)) result.dropped.push('the throwaway test cluster (stopped, data removed)');
      } else {
        const test = await runningTestCluster(target);
        if (test) {
          const there = await pruneTestDatabases(test, flags);
          result.dropped.push(...there.dropped.map((n) => `${n} (test cluster)`));
          result.kept.push(...there.kept.map((k) => ({ ...k, name: `${k.name} (test cluster)` })));
        }
      }
    }
    if (output.mode === 'json') {
      output.json({ ok: true, ...result });
      return ExitCode.ok;
    }
    for (const name of result.dropped) output.say(`dropped ${name}`);
    for (const { name, why } of result.kept) output.say(`kept ${name}: ${why}`);
    output.say(result.dropped.length === 0 ? 'Nothing to prune.' : `Done: dropped ${result.dropped.length} test database${result.dropped.length === 1 ? '' : 's'}.`);
    return ExitCode.ok;
  });
}
