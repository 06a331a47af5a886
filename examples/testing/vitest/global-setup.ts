import { execFileSync } from 'node:child_process';
import { prepareTestTemplate } from 'pgstrap/testing';

export default async function setup(): Promise<void> {
  // The project's cluster, databases and migrations (quick when nothing changed), then the template, built
  // once here so that no test file waits for it.
  execFileSync('npx', ['pgstrap', 'setup'], { stdio: 'inherit' });
  await prepareTestTemplate();
}
