/** Nothing configured is skipped in silence: config files that give no config, a missing migrations folder, a port the server cannot bind. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/shared/errors.ts';
import { makeProject, managedTarget, REPO_ROOT, runCli, type TestProject } from '../support/project.ts';

let project: TestProject;
const cli = (...args: string[]) => runCli(args, { cwd: project.dir });
const configFile = () => path.join(project.dir, 'extensions.config.mjs');

beforeAll(async () => {
  project = await makeProject({ engine: 'embedded' });
});
afterAll(async () => project?.remove());

describe('every kind of config file', () => {
  // The CLI runs from one CommonJS bundle compiled from V8's code cache, where import() needs the launcher's
  // (bundle.mjs#importModule): each kind goes through a loader of pgstrap's own, none through cosmiconfig's.
  it.each([
    ['--config pgstrap.config.cjs', 'pgstrap.config.cjs', 'module.exports = { port: 5901 };\n'],
    ['--config pgstrap.config.cts', 'pgstrap.config.cts', 'const port: number = 5902;\nmodule.exports = { port };\n'],
    ['extensions.config.mjs', 'extensions.config.mjs', 'export default { port: 5903 };\n'],
    ['extensions.config.js', 'extensions.config.js', 'export default { port: 5904 };\n'],
    ['extensions.config.mts', 'extensions.config.mts', 'const port: number = 5905;\nexport default { port };\n'],
  ])('loads %s', async (how, name, text) => {
    const file = path.join(project.dir, name);
    fs.writeFileSync(file, text);
    try {
      const result = await cli('env', '--json', ...(how.startsWith('--config') ? ['--config', name] : []));
      expect(String(result.stderr)).toBe('');
      expect(JSON.parse(String(result.stdout)).PGPORT).toBe(String(/\d{4}/.exec(text)![0]));
    } finally {
      fs.rmSync(file);
    }
  });
});

describe('env needs no engine', () => {
  it('prints the variables of a project whose engine cannot be found, where status says why it cannot run', async () => {
    // engine "system" for 17, on a machine whose system PostgreSQL (if any) is another major or off the PATH.
    fs.writeFileSync(configFile(), `export default { engine: 'system', postgresMajor: 17, port: ${project.config.port} };\n`);
    const env = { PATH: path.dirname(process.execPath), PGSTRAP_PG_CONFIG: undefined };
    try {
      const status = await runCli(['status'], { cwd: project.dir, env });
      expect(status.exitCode).not.toBe(0);
      expect(String(status.stderr)).toMatch(/engine\./);
      const vars = await runCli(['env', '--json'], { cwd: project.dir, env });
      expect(String(vars.stderr)).toBe('');
      expect(JSON.parse(String(vars.stdout))).toMatchObject({ PGPORT: String(project.config.port), PGDATABASE: 'app' });
    } finally {
      fs.rmSync(configFile());
    }
  });
});

describe('config files that give no config', () => {
  it.each([
    ['exports nothing', 'export const port = 5999;\n', 'has no default export (it exports port)'],
    ['is empty', '\n', 'is empty'],
    ['exports undefined', 'export default undefined;\n', 'exports undefined as its default'],
  ])('refuses a config that %s, naming the file', async (_, text, words) => {
    fs.writeFileSync(configFile(), text);
    const result = await cli('status');
    expect(result.exitCode).toBe(ExitCode.usage);
    expect(String(result.stderr)).toContain(`[config.no-export] ${configFile()} ${words}`);
  });

  it('names the file of a config that throws on import, .mjs and .ts alike', async () => {
    fs.writeFileSync(configFile(), "throw new Error('no config today');\n");
    const mjs = await cli('status');
    expect(mjs.exitCode).toBe(ExitCode.usage);
    expect(String(mjs.stderr)).toContain(`[config.unreadable] could not load ${configFile()}: no config today`);
    fs.rmSync(configFile());
    const ts = path.join(project.dir, 'extensions.config.ts');
    fs.writeFileSync(ts, `import { defineConfig } from ${JSON.stringify(path.join(REPO_ROOT, 'scripts/index.ts'))};\nconst port: number = Number.parseInt('x');\nif (Number.isNaN(port)) throw new Error('bad port');\nexport default defineConfig({ port });\n`);
    try {
      const result = await cli('status', '--json');
      expect(result.exitCode).toBe(ExitCode.usage);
      const { error } = JSON.parse(String(result.stdout)) as { error: { code: string; message: string } };
      expect(error.code).toBe('config.unreadable');
      expect(error.message).toContain(`could not load ${ts}: bad port`);
    } finally {
      fs.rmSync(ts);
    }
  });
});

describe('settings the server could not use', () => {
  it('refuses port 80 before initdb: the server user cannot bind it', async () => {
    project.writeConfigFile({ engine: 'embedded', port: 80 });
    const result = await cli('setup');
    expect(result.exitCode).toBe(ExitCode.usage);
    expect(String(result.stderr)).toMatch(/\[config\.port-privileged\] port 80 is below 1024: the server runs as .*, which cannot bind it/);
    expect(String(result.stderr)).toContain(`port in ${configFile()}`);
    expect(fs.existsSync((await managedTarget(project)).layout.dataDir)).toBe(false);
  });
});

describe('the maintenance database and a missing migrations folder', () => {
  it('says that "postgres" is the maintenance database when it is listed', async () => {
    fs.mkdirSync(path.join(project.dir, 'db'));
    fs.writeFileSync(path.join(project.dir, 'db', '20250101000000_widgets.sql'), 'CREATE TABLE widgets (id uuid PRIMARY KEY DEFAULT uuidv7());\n');
    project.writeConfigFile({ engine: 'embedded', port: project.config.port, databases: ['postgres'], migrations: { directory: 'db' } });
    const setup = await cli('setup');
    expect(setup.exitCode, String(setup.stderr)).toBe(0);
    expect(String(setup.stdout)).toContain('note: "postgres" is listed: it is also the maintenance database');
    expect(String(setup.stdout)).toMatch(/applied 20250101000000_widgets\.sql to postgres/);
  });

  it('fails migrate, migrate:status and doctor alike on a migrations.directory that does not exist', async () => {
    project.writeConfigFile({ engine: 'embedded', port: project.config.port, databases: ['postgres'], migrations: { directory: 'no_such_dir' } });
    const words = 'migrations.directory names no_such_dir, which does not exist';
    const migrate = await cli('migrate');
    expect(migrate.exitCode).toBe(ExitCode.usage);
    expect(String(migrate.stderr)).toContain(`[migrate.no-directory] ${words}`);
    expect(String(migrate.stdout)).not.toContain('Nothing to do');
    const status = await cli('migrate:status');
    expect(status.exitCode).toBe(ExitCode.usage);
    expect(String(status.stderr)).toContain(words);
    const doctor = await cli('doctor', '--json');
    expect(doctor.exitCode).toBe(ExitCode.failure);
    const checks = (JSON.parse(String(doctor.stdout)) as { checks: Array<{ id: string; status: string; message: string }> }).checks;
    expect(checks.find((c) => c.id === 'db.postgres.migrations')).toMatchObject({ status: 'fail', message: expect.stringContaining(words) });
  });
});
