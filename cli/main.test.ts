import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '@orthostim/test';
import { COMMANDS } from './commands';

describe('orthostim dispatcher', () => {
  it('lists every subcommand with its summary', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const spec of COMMANDS) expect(r.stdout).toContain(spec.name);
    expect(r.stdout).toMatch(/Examples:/);
  });

  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('rejects an unknown command with one line and exit 2', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/frobnicate/);
  });

  it('runs the same from its cached bundle as through tsx, and the bundle is current for cli/main.ts', async () => {
    const args = ['searchlight', '--help'];
    const [bundled, tsx] = await Promise.all([runCli(args), runCli(args, { env: { ORTHOSTIM_TSX: '1' } })]);
    expect(bundled.code).toBe(0);
    expect(tsx.code).toBe(0);
    expect(bundled.stdout).toBe(tsx.stdout);
    expect(bundled.stdout).toMatch(/--betas/);
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, '.cache', 'cli', 'manifest.json'), 'utf8')) as {
      inputs: Record<string, string>;
    };
    expect(Object.keys(manifest.inputs)).toContain(join(REPO_ROOT, 'cli', 'main.ts'));
    expect(Object.keys(manifest.inputs)).toContain(join(REPO_ROOT, 'analysis', 'src', 'cli', 'searchlight-command.ts'));
  });

  it('runs through tsx when no bundle can be written, and says why with --verbose', async () => {
    const env = { ORTHOSTIM_CLI_CACHE: '/dev/null/orthostim-cli' };
    const r = await runCli(['--version', '--verbose'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.stderr).toMatch(/no command bundle \(.*\); running through tsx/);
    const quiet = await runCli(['frobnicate'], { env });
    expect(quiet.code).toBe(2);
    expect(quiet.stderr.trim().split('\n')).toHaveLength(1); // no note without --verbose
  });
});
