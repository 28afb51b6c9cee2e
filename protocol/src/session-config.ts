import { z } from 'zod';
import { InputError } from './errors';

/**
 * The session config file (JSON): timing of a run, the fixation task, display geometry and
 * trigger settings. One zod schema is the validation, the TypeScript type and (through
 * `.describe`) the documentation; every field has a default, so `{}` is a valid config.
 * docs/session.md lists the fields; `orthostim serve --print-config` prints the defaults.
 */
const hexColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour as #rrggbb');
const keyName = z.string().min(1).max(16);

export const fixationConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('run the fixation task (colour changes of the fixation cross)'),
    color: hexColor.default('#000000').describe('fixation cross colour'),
    changeColor: hexColor.default('#ff0000').describe('colour during a change'),
    sizeDeg: z.number().positive().max(5).default(0.5).describe('fixation cross size in degrees of visual angle'),
    changesPerMinute: z.number().min(0).max(30).default(3).describe('mean number of colour changes per minute'),
    changeDurationMs: z.number().int().min(16).max(2000).default(200).describe('how long a change lasts'),
    minIntervalS: z.number().min(0.5).max(120).default(4).describe('minimum time between two changes'),
    responseWindowS: z
      .number()
      .positive()
      .max(10)
      .default(1.5)
      .describe('a press within this time after a change counts as its response'),
    responseKeys: z
      .array(keyName)
      .min(1)
      .max(10)
      .default(['1', '2', '3', '4'])
      .describe('keys (KeyboardEvent.key) that count as responses'),
  })
  .prefault({});

export const displayConfigSchema = z
  .strictObject({
    screenWidthCm: z.number().positive().max(1000).default(40).describe('visible width of the projected screen in cm'),
    viewingDistanceCm: z.number().positive().max(2000).default(60).describe('eye-to-screen distance in cm'),
    imageSizeDeg: z
      .number()
      .positive()
      .max(60)
      .default(8)
      .describe('image width and height in degrees of visual angle'),
    refreshRateHz: z
      .number()
      .positive()
      .max(1000)
      .default(60)
      .describe('expected refresh rate; a measured rate off by more than 2% is a warning'),
    background: hexColor.default('#808080').describe('background colour'),
  })
  .prefault({});

export const triggerConfigSchema = z
  .strictObject({
    key: keyName
      .default('5')
      .describe('KeyboardEvent.key a USB trigger box types at each volume (keyboard trigger source)'),
    serialCharacter: z.string().length(1).default('5').describe('byte a serial trigger box sends at each volume'),
    serialBaudRate: z
      .number()
      .int()
      .positive()
      .default(115200)
      .describe('serial baud rate (overridden by --trigger serial:<path>@<baud>)'),
  })
  .prefault({});

export const sessionConfigSchema = z
  .strictObject({
    repetitionTimeS: z.number().min(0.1).max(20).default(2).describe('scanner TR in seconds (--tr overrides)'),
    dummyVolumes: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(0)
      .describe('triggers the scanner sends for discarded volumes before time zero'),
    repetitions: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(4)
      .describe('times each image is shown per run (not used when imageTrialsPerRun is set)'),
    imageTrialsPerRun: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .optional()
      .describe(
        "condition-rich design: image trials per run, drawn from the participant's image sequence so that over the runs every image is shown equally often (plus or minus one), never twice in a row; absent: every image `repetitions` times per run",
      ),
    nullTrialFraction: z
      .number()
      .min(0)
      .max(0.9)
      .default(0.25)
      .describe('fraction of trials that are null (fixation only)'),
    soaVolumes: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(2)
      .describe('trial onset asynchrony in TRs (SOA = soaVolumes x TR)'),
    imageDurationMs: z.number().int().min(16).max(60000).default(1000).describe('how long each image is shown'),
    leadInVolumes: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(2)
      .describe('fixation volumes after time zero before the first trial'),
    leadOutVolumes: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(6)
      .describe('fixation volumes after the last trial (the haemodynamic response tail)'),
    runs: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(4)
      .describe('runs per session (the operator page offers the next run until then)'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(0xffffffff)
      .optional()
      .describe('base seed; a run uses seed + run index. Absent: a random seed per run, logged'),
    displayLatencyMs: z
      .number()
      .min(0)
      .max(500)
      .default(0)
      .describe('delay from the frame time to light on the screen, measured with a photodiode'),
    fixation: fixationConfigSchema,
    display: displayConfigSchema,
    trigger: triggerConfigSchema,
  })
  .superRefine((c, ctx) => {
    const soaMs = c.soaVolumes * c.repetitionTimeS * 1000;
    if (c.imageDurationMs >= soaMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['imageDurationMs'],
        message: `must be shorter than the SOA (${soaMs} ms = soaVolumes x repetitionTimeS); got ${c.imageDurationMs}`,
      });
    }
  });

export type SessionConfig = z.infer<typeof sessionConfigSchema>;
export type SessionConfigInput = z.input<typeof sessionConfigSchema>;

/** Validate a parsed config file; `source` names the file in the one-line error. */
export function parseSessionConfig(json: unknown, source: string): SessionConfig {
  const result = sessionConfigSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    throw new InputError(`${source}: field ${path}: ${issue.message}`);
  }
  return result.data;
}

export function defaultSessionConfig(): SessionConfig {
  return sessionConfigSchema.parse({});
}

/** Image side in CSS pixels for `deg` degrees of visual angle on a screen `screenWidthPx` wide. */
export function degreesToPixels(
  deg: number,
  display: Pick<SessionConfig['display'], 'screenWidthCm' | 'viewingDistanceCm'>,
  screenWidthPx: number,
): number {
  const cm = 2 * display.viewingDistanceCm * Math.tan((deg * Math.PI) / 360);
  return (cm / display.screenWidthCm) * screenWidthPx;
}
