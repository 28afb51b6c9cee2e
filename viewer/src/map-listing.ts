/**
 * The maps an output folder offers the viewer: every NIfTI file listed in the index.json of the
 * folder itself and of its immediate subfolders (`sub-<label>/`, `group/`), with the fields a user
 * picks maps by. Files are found through index.json only, never by file name.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { OUTPUT_INDEX_FILE, readOutputIndex, type OutputFile } from '@orthostim/analysis';

export interface ViewerMap extends Omit<OutputFile, 'path'> {
  /** Folder of the index.json, relative to the output folder ('' for the folder itself). */
  folder: string;
  /** Path relative to the output folder (what /files/ serves). */
  path: string;
  /** A short human label: "sub-01 inception_3a standard r". */
  label: string;
}

export function listViewerMaps(outputDir: string): ViewerMap[] {
  if (!existsSync(outputDir) || !statSync(outputDir).isDirectory())
    throw new InputError(`view: ${outputDir} is not a folder`);
  const folders = [
    '',
    ...readdirSync(outputDir)
      .filter((f) => !f.startsWith('.') && statSync(join(outputDir, f)).isDirectory())
      .sort(),
  ];
  const maps: ViewerMap[] = [];
  for (const folder of folders) {
    const dir = join(outputDir, folder);
    if (!existsSync(join(dir, OUTPUT_INDEX_FILE))) continue;
    const index = readOutputIndex(dir);
    for (const f of index.files) {
      if (f.format !== 'nifti' && !/\.nii(\.gz)?$/.test(f.path)) continue;
      const who = f.level === 'group' ? 'group' : f.participant ? `sub-${f.participant}` : folder || '.';
      const label = [
        who,
        f.layer ?? (f.model ? `model ${f.model}` : undefined),
        f.method,
        f.stat,
        f.run ? `run ${f.run}` : undefined,
        f.image,
      ]
        .filter(Boolean)
        .join(' ');
      maps.push({ ...f, folder, path: folder ? `${folder}/${f.path}` : f.path, label });
    }
  }
  if (maps.length === 0)
    throw new InputError(
      `view: no index.json listing NIfTI maps in ${outputDir} or its subfolders; point it at an orthostim output folder`,
    );
  return maps;
}
