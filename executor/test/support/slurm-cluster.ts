/**
 * A real single-node SLURM cluster for tests: munged, slurmctld and slurmd started as child
 * processes of the test with a slurm.conf for localhost written into a temporary folder (state,
 * spool, logs and the munge key live there too; ports are free loopback ports), and stopped
 * afterwards. Clients reach it through `SLURM_CONF` in `cluster.env`.
 *
 * Needs the Debian packages slurm-wlm and munge (`.ci/run` installs them) and root (slurmd starts
 * the tasks). When the cluster cannot start, `startSlurmCluster` throws with the reason and the
 * daemons' log tails, so a test fails instead of skipping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

export const SLURM_PROGRAMS = [
  'munged',
  'slurmctld',
  'slurmd',
  'sbatch',
  'squeue',
  'scontrol',
  'scancel',
  'sinfo',
] as const;
const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin'];

function which(program: string): string | null {
  for (const dir of SEARCH_PATH) {
    const p = join(dir, program);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** The programs the cluster needs that are not installed (empty when all are). */
export function missingSlurmPrograms(): string[] {
  return SLURM_PROGRAMS.filter((p) => which(p) === null);
}

/**
 * Why a SLURM suite must skip here, or null when it runs: only when programs are missing outside
 * CI (and then it says so on stderr). Under CI it always runs, so a cluster that cannot start fails.
 */
export function slurmSkipReason(suite: string): string | null {
  const missing = missingSlurmPrograms();
  if (missing.length === 0 || process.env.CI) return null;
  const reason = `${suite}: SKIPPED, SLURM programs missing: ${missing.join(', ')} (apt-get install slurm-wlm munge)`;
  process.stderr.write(`${reason}\n`);
  return reason;
}

export interface SlurmCluster {
  /** Temporary folder with slurm.conf, state, spool, logs and munge files. */
  dir: string;
  conf: string;
  /** process.env plus SLURM_CONF (and PATH with sbin) for clients and the executor. */
  env: NodeJS.ProcessEnv;
  cpus: number;
  /** Run a SLURM client command against this cluster. */
  run(command: string, args: string[]): { code: number; stdout: string; stderr: string };
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The node line `slurmd -C` prints for this machine, renamed to localhost (CPUs, sockets, memory). */
function nodeLine(): { line: string; cpus: number } {
  const r = spawnSync(which('slurmd')!, ['-C'], { encoding: 'utf8' });
  const first = (r.stdout ?? '').split('\n').find((l) => l.startsWith('NodeName='));
  if (r.status !== 0 || !first) throw new Error(`slurmd -C failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  const cpus = Number(/CPUs=(\d+)/.exec(first)?.[1] ?? '1');
  return { line: `${first.replace(/^NodeName=\S+/, 'NodeName=localhost NodeAddr=127.0.0.1')} State=UNKNOWN`, cpus };
}

function tail(path: string, lines = 15): string {
  if (!existsSync(path)) return `(${path} missing)`;
  return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
}

export async function startSlurmCluster(options: { timeoutMs?: number } = {}): Promise<SlurmCluster> {
  const missing = missingSlurmPrograms();
  if (missing.length > 0)
    throw new Error(
      `cannot start the test SLURM cluster: ${missing.join(', ')} not installed (apt-get install slurm-wlm munge; .ci/run does this)`,
    );
  const user = userInfo().username;
  const dir = mkdtempSync(join(tmpdir(), 'orthostim-slurm-'));
  chmodSync(dir, 0o755);
  for (const d of ['state', 'spool', 'log']) mkdirSync(join(dir, d));
  const mungeDir = join(dir, 'munge');
  mkdirSync(mungeDir, { mode: 0o700 });
  const key = join(mungeDir, 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o600 });
  const socket = join(mungeDir, 'munge.socket');
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const node = nodeLine();
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      '# Written by orthostim tests (executor/test/support/slurm-cluster.ts): one node, this machine.',
      `ClusterName=orthostim${process.pid}`,
      'SlurmctldHost=localhost(127.0.0.1)',
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      `SlurmUser=${user}`,
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core_Memory',
      'DefMemPerCPU=256',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'MpiDefault=none',
      'ReturnToService=2',
      'KillWait=5',
      'MaxArraySize=1001',
      node.line,
      'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLURM_CONF: conf,
    PATH: [process.env.PATH, '/usr/sbin', '/sbin'].filter(Boolean).join(delimiter),
  };
  const children: { name: string; child: ChildProcess; log: string }[] = [];
  const launch = (name: string, args: string[]) => {
    const log = join(dir, 'log', `${name}.out`);
    const out = openSync(log, 'a');
    const child = spawn(which(name)!, args, { env, stdio: ['ignore', out, out] });
    closeSync(out);
    children.push({ name, child, log });
    return child;
  };

  const stopAll = async () => {
    for (const { child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
  };
  const onExit = () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);

  const run = (command: string, args: string[]) => {
    const r = spawnSync(which(command)!, args, { env, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const fail = async (why: string): Promise<never> => {
    const logs = ['munged.out', 'slurmctld.out', 'slurmctld.log', 'slurmd.out', 'slurmd.log']
      .map((f) => `--- ${f}\n${tail(join(dir, 'log', f))}`)
      .join('\n');
    await stopAll();
    process.off('exit', onExit);
    throw new Error(`cannot start the test SLURM cluster in ${dir}: ${why}\n${logs}`);
  };

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const waitFor = async (what: string, ok: () => boolean) => {
    while (!ok()) {
      const dead = children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
      if (dead)
        await fail(
          `${dead.name} exited (code ${dead.child.exitCode}, signal ${dead.child.signalCode}) while waiting for ${what}`,
        );
      if (Date.now() > deadline) await fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  launch('munged', [
    '--foreground',
    '--force',
    `--key-file=${key}`,
    `--socket=${socket}`,
    `--pid-file=${join(mungeDir, 'munged.pid')}`,
    `--seed-file=${join(mungeDir, 'munged.seed')}`,
    `--log-file=${join(dir, 'log', 'munged.log')}`,
  ]);
  await waitFor('the munge socket', () => existsSync(socket));
  launch('slurmctld', ['-D', '-i']);
  launch('slurmd', ['-D', '-N', 'localhost']);
  await waitFor('the node to be idle in sinfo', () => {
    const r = run('sinfo', ['-h', '-N', '-o', '%N %t']);
    return r.code === 0 && /^localhost idle\s*$/m.test(r.stdout);
  });

  return {
    dir,
    conf,
    env,
    cpus: node.cpus,
    run,
    async stop() {
      // Cancel what is left so no slurmstepd outlives the daemons.
      run('scancel', ['--user', user]);
      const until = Date.now() + 15_000;
      while (Date.now() < until && run('squeue', ['-h', '-o', '%i']).stdout.trim() !== '')
        await new Promise((r) => setTimeout(r, 300));
      await stopAll();
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
