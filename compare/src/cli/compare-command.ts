/** `orthostim compare`: parse, call compareBrainRdms, print the table. */
import { COMPARATOR_NAMES, type ComparatorName } from '@orthostim/rdm';
import {
  Command,
  Option,
  info,
  options,
  parseList,
  parseNumberOption,
  parsePositiveInt,
  requireOption,
} from '@orthostim/protocol/cli';
import { COMPARE_METHODS, compareBrainRdms } from '../compare-brain-rdms';
import { ACCEPTED_SHAPES } from '../brain-rdms';
import {
  DEFAULT_RESIDUAL_VARIANT,
  RESIDUAL_VARIANT_NAMES,
  type MethodFamily,
  type ResidualVariant,
} from '@orthostim/analysis';

interface CompareFlags {
  stimuli?: string;
  brain?: string[];
  modelRdm?: string[];
  out?: string;
  compare: ComparatorName;
  method: MethodFamily;
  residual: ResidualVariant;
  layers?: string[];
  regions?: string[];
  bootstrap: number;
  ci: number;
  seed: number;
  overwrite?: boolean;
}

export function buildCompareCommand(): Command {
  return new Command('compare')
    .description(
      "compare brain RDMs a lab already has (per region, one or several subjects) with the stimulus set's layer RDMs: each layer's correlation " +
        '(mean over subjects, subject-bootstrap interval), the noise ceiling, the best layer, and a figure of the layer profiles',
    )
    .addOption(options.stimuli())
    .addOption(
      new Option(
        '--brain <files...>',
        "brain RDMs for the same images: .json (also analyze's ROI RDM files, one per participant), .tsv, or .mat (v5/v7 or v7.3); regions of one name in several files are subjects; see docs/compare.md",
      ),
    )
    .addOption(
      new Option(
        '--model-rdm <name=file...>',
        'model RDMs compared like the layers (categorical, behavioural, ...): TSV/CSV matrix or condensed vector, JSON or .mat, one RDM each',
      ),
    )
    .addOption(options.out())
    .addOption(new Option('--compare <name>', 'RDM comparison').choices(COMPARATOR_NAMES).default('spearman'))
    .addOption(
      new Option(
        '--method <name>',
        'standard: the layer RDM; residual: the part of it no other layer shares (variant: --residual)',
      )
        .choices([...COMPARE_METHODS])
        .default('standard'),
    )
    .addOption(
      new Option(
        '--residual <variant>',
        'variant of the residual method (docs/residual.md); activation needs a set made by `orthostim rdms` (else semipartial, with a note)',
      )
        .choices(RESIDUAL_VARIANT_NAMES)
        .default(DEFAULT_RESIDUAL_VARIANT),
    )
    .addOption(options.layers().makeOptionMandatory(false))
    .addOption(new Option('--regions <names...>', 'only these regions (MAT: top-level variables)').argParser(parseList))
    .addOption(
      new Option('--bootstrap <n>', 'subject-bootstrap resamples')
        .argParser(parsePositiveInt('--bootstrap'))
        .default(1000),
    )
    .addOption(
      new Option('--ci <level>', 'coverage of the bootstrap interval')
        .argParser(parseNumberOption('--ci', 0.5, 0.999))
        .default(0.95),
    )
    .addOption(new Option('--seed <s>', 'seed of the bootstrap').argParser(parsePositiveInt('--seed')).default(1))
    .addOption(options.overwrite())
    .addHelpText(
      'after',
      `
Examples:
  orthostim compare --stimuli natural16 --brain roi-rdms.mat --out compare-natural16
  orthostim compare --stimuli natural16 --brain rdms.json --out cmp --compare pearson --method residual
  orthostim compare --stimuli set --brain out/sub-*/rsa/*_desc-rois_rsa.json --model-rdm animacy=animacy.tsv --out cmp
  orthostim compare --stimuli natural16 --brain rdms.json --out cmp --method residual --residual partial

Accepted array shapes (n images, P = n(n-1)/2, S subjects): ${ACCEPTED_SHAPES}.
MAT-files: every numeric variable is a region; RSA-toolbox structs (RDMs(k).RDM, RDMs(k).name) group
equal names as subjects. JSON: {"images": [...ids]?, "regions": {"V1": rdm or [rdm, ...]}}.
TSV: rows "region<TAB>subject<TAB>values..." or one square matrix (optionally with image ids).`,
    )
    .action(async (flags: CompareFlags) => {
      const stimuli = requireOption(flags.stimuli, '--stimuli', 'the stimulus-set.json whose layer RDMs are compared');
      const brain = requireOption(flags.brain, '--brain', 'the file(s) of brain RDMs');
      const out = requireOption(flags.out, '--out', 'the folder to write the results into');
      const r = await compareBrainRdms({
        stimuli,
        brain,
        ...(flags.modelRdm ? { modelRdms: flags.modelRdm } : {}),
        outDir: out,
        comparator: flags.compare,
        method: flags.method,
        residual: flags.residual,
        ...(flags.layers ? { layers: flags.layers } : {}),
        ...(flags.regions ? { regions: flags.regions } : {}),
        nBootstrap: flags.bootstrap,
        ciLevel: flags.ci,
        seed: flags.seed,
        overwrite: flags.overwrite ?? false,
        command: ['orthostim', ...process.argv.slice(2)].join(' '),
      });
      if (r.ignored.length) info(`compare: left out of ${brain.join(', ')}: ${r.ignored.join('; ')}`);
      for (const note of r.notes) info(`compare: note: ${note}`);
      process.stdout.write(r.table);
      process.stdout.write(`wrote ${r.files.join('\n      ')}\n`);
    });
}
