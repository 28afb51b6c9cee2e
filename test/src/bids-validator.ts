import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface BidsIssue {
  code: number;
  key: string;
  reason: string;
  files: string[];
}

export interface BidsReport {
  errors: BidsIssue[];
  warnings: BidsIssue[];
}

interface RawIssue {
  code: number;
  key: string;
  reason: string;
  files?: ({ file?: { relativePath?: string } | null; reason?: string } | null)[];
}

/**
 * Run the official BIDS validator (npm `bids-validator` 1.15, offline) on a dataset folder and
 * return its errors and warnings (with the files each names).
 */
export function validateBids(dir: string, flags: readonly string[] = []): Promise<BidsReport> {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('bids-validator/package.json')), 'bin', 'bids-validator');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, dir, '--json', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const start = stdout.indexOf('{');
      if (start < 0) return reject(new Error(`bids-validator exited ${code} without a report: ${stderr}`));
      const report = JSON.parse(stdout.slice(start)) as { issues: { errors: RawIssue[]; warnings: RawIssue[] } };
      const issues = (list: RawIssue[]): BidsIssue[] =>
        list.map((i) => ({
          code: i.code,
          key: i.key,
          reason: i.reason,
          files: (i.files ?? []).flatMap((f) => (f?.file?.relativePath ? [f.file.relativePath] : [])),
        }));
      resolvePromise({ errors: issues(report.issues.errors), warnings: issues(report.issues.warnings) });
    });
  });
}
