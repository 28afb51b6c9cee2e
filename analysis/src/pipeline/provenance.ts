/**
 * What a run of the analysis saves about itself: the derivatives folder's
 * `dataset_description.json` (BIDS), and beside each folder's results the resolved settings, the
 * inputs (with digests) and the versions of everything that computed them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeFileAtomic } from '@orthostim/protocol/node';

const require = createRequire(import.meta.url);
const REPO_PACKAGE = new URL('../../../package.json', import.meta.url);

export const ORTHOSTIM_VERSION = (JSON.parse(readFileSync(REPO_PACKAGE, 'utf8')) as { version: string }).version;

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export interface Versions {
  orthostim: string;
  node: string;
  'nifti-reader-js': string;
  platform: string;
}

export function currentVersions(): Versions {
  return {
    orthostim: ORTHOSTIM_VERSION,
    node: process.version,
    'nifti-reader-js': packageVersion('nifti-reader-js'),
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The file beside the results that records how they were made. */
export const PROVENANCE_FILE = 'analysis.json';

export interface Provenance {
  level: 'participant' | 'group' | 'searchlight';
  /** The command line, as arguments. */
  command: string[];
  date: string;
  versions: Versions;
  /** Every setting as resolved (defaults filled in). */
  settings: Record<string, unknown>;
  inputs: Record<string, unknown>;
  /** Skips and notes a reader of the results must know about. */
  notes: string[];
}

export function makeProvenance(
  level: Provenance['level'],
  settings: Record<string, unknown>,
  inputs: Record<string, unknown>,
  notes: string[] = [],
): Provenance {
  return {
    level,
    command: ['orthostim', ...process.argv.slice(2)],
    date: new Date().toISOString(),
    versions: currentVersions(),
    settings,
    inputs,
    notes,
  };
}

export function writeProvenance(dir: string, p: Provenance): void {
  writeFileAtomic(join(dir, PROVENANCE_FILE), `${JSON.stringify(p, null, 2)}\n`);
}

/**
 * The derivatives folder's dataset_description.json (BIDS 1.8 derivatives). Written when absent;
 * parallel participant runs write identical bytes, and the write is atomic.
 */
export function ensureDatasetDescription(outputDir: string, sourceDir: string): void {
  const path = join(outputDir, 'dataset_description.json');
  if (existsSync(path)) return;
  const description = {
    Name: 'orthostim layer maps',
    BIDSVersion: '1.8.0',
    DatasetType: 'derivative',
    GeneratedBy: [
      {
        Name: 'orthostim',
        Version: ORTHOSTIM_VERSION,
        Description: 'GLM betas, searchlight RSA with GoogLeNet layer RDMs, group statistics',
      },
    ],
    SourceDatasets: [{ URL: `file://${sourceDir}` }],
  };
  writeFileAtomic(path, `${JSON.stringify(description, null, 2)}\n`);
}
