/**
 * The job script of a group: one bash file, written to the output folder, that runs the task whose
 * index it is given (`$SLURM_ARRAY_TASK_ID` under SLURM, `$ORTHOSTIM_TASK_INDEX` locally). It is the
 * same file for both executors, readable and resubmittable by hand, and it records the task's fate
 * in `status/<id>.json` (running, then done or failed with the exit code) so that the runner needs
 * no accounting database. A SIGTERM (scancel, time limit, Ctrl-C of a local run) is passed on to
 * the orthostim process and recorded before the script exits.
 */
import type { TaskSpec } from './task-spec';

/** How a task's orthostim command line is started. */
export interface TaskProgram {
  /** Absolute path of the node binary (the submitting one, so compute nodes run the same Node). */
  node: string;
  /** Absolute path of the program's entry (bin/orthostim.js). */
  entry: string;
  /** Folder the task runs in (the repository). */
  cwd: string;
}

/** sbatch resources written into the script as `#SBATCH` lines. */
export interface SlurmResources {
  partition?: string;
  /** Time limit in SLURM's forms (`30`, `02:00:00`, `1-00:00:00`). */
  time?: string;
  /** Memory per task (`8G`, `500M`). */
  mem?: string;
  cpus?: number;
  account?: string;
  /** More sbatch options, one word each (`--qos=short`). */
  extra?: readonly string[];
}

export interface JobScriptInput {
  /** Group name; the SLURM job name is `orthostim-<name>`. */
  name: string;
  /** Absolute job folder (`<output>/.orthostim-jobs/<name>`). */
  jobDir: string;
  tasks: readonly TaskSpec[];
  program: TaskProgram;
  resources?: SlurmResources;
  /** Shell lines run before the task, e.g. `module load nodejs/20` (from $ORTHOSTIM_JOB_SETUP). */
  setup?: string;
}

/** Quote a word for bash: single quotes, with embedded ones as '\''. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./=:,@%+-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An `#SBATCH` directive value: sbatch splits on blanks but honours double quotes. */
function directive(option: string): string {
  return /\s/.test(option) ? option.replace(/^(--[A-Za-z-]+=)(.*)$/, '$1"$2"') : option;
}

/** The `#SBATCH` lines for a group's resources (the array and dependency go on sbatch's line). */
export function sbatchDirectives(name: string, jobDir: string, resources: SlurmResources = {}): string[] {
  const lines = [`--job-name=orthostim-${name}`, `--output=${jobDir}/logs/slurm-%A_%a.out`, '--open-mode=append'];
  if (resources.partition) lines.push(`--partition=${resources.partition}`);
  if (resources.account) lines.push(`--account=${resources.account}`);
  if (resources.time) lines.push(`--time=${resources.time}`);
  if (resources.mem) lines.push(`--mem=${resources.mem}`);
  if (resources.cpus) lines.push(`--cpus-per-task=${resources.cpus}`);
  for (const e of resources.extra ?? []) lines.push(e);
  return lines.map((l) => `#SBATCH ${directive(l)}`);
}

export function renderJobScript(input: JobScriptInput): string {
  const { name, jobDir, tasks, program } = input;
  const q = shellQuote;
  const cases = tasks.map((t, i) => `  ${i}) TASK=${q(t.id)}; ARGS=(${t.args.map(q).join(' ')}) ;;`);
  const last = tasks.length - 1;
  return `#!/bin/bash
${sbatchDirectives(name, jobDir, input.resources).join('\n')}
#
# orthostim job group "${name}": ${tasks.length} task${tasks.length === 1 ? '' : 's'}, written by orthostim.
# Submit by hand:  sbatch --array=0-${last} ${q(`${jobDir}/job.sh`)}
# Run one task here: ORTHOSTIM_TASK_INDEX=0 bash ${q(`${jobDir}/job.sh`)}
# Each task logs to logs/<task>.log and records its state in status/<task>.json.
set -u
JOB_DIR=${q(jobDir)}
NODE=${q(program.node)}
ENTRY=${q(program.entry)}
WORK_DIR=${q(program.cwd)}
INDEX="\${ORTHOSTIM_TASK_INDEX:-\${SLURM_ARRAY_TASK_ID:-}}"
case "$INDEX" in
${cases.join('\n')}
  *) echo "orthostim job script: no task with index '$INDEX' (expected 0-${last}; set SLURM_ARRAY_TASK_ID or ORTHOSTIM_TASK_INDEX)" >&2; exit 2 ;;
esac
if [ -n "\${SLURM_ARRAY_JOB_ID:-}" ]; then JOB="\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}"; else JOB="\${ORTHOSTIM_JOB_ID:-manual}"; fi
STATUS="$JOB_DIR/status/$TASK.json"
mkdir -p "$JOB_DIR/status" "$JOB_DIR/logs"
exec >>"$JOB_DIR/logs/$TASK.log" 2>&1
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
HOST=$(hostname)
# Atomic: a reader sees the old status or the new one, never half a file.
status() {
  printf '{"task":"%s","job":"%s","host":"%s","pid":%d,"time":"%s",%s}\\n' "$TASK" "$JOB" "$HOST" $$ "$(now)" "$1" >"$STATUS.$$.tmp" && mv -f "$STATUS.$$.tmp" "$STATUS"
}
echo "=== orthostim task $TASK (index $INDEX, job $JOB) on $HOST at $(now)"
status '"state":"running"'
${input.setup ? `${input.setup}\n` : ''}cd "$WORK_DIR" || { status '"state":"failed","exitCode":1,"reason":"cannot cd to the work folder"'; exit 1; }
SIGNAL=""
CHILD=""
trap 'SIGNAL=TERM; [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null' TERM
# Background children of a script ignore SIGINT, so an interrupt is passed on as SIGTERM.
trap 'SIGNAL=INT; [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null' INT
"$NODE" "$ENTRY" "\${ARGS[@]}" </dev/null &
CHILD=$!
[ -n "$SIGNAL" ] && kill -TERM "$CHILD" 2>/dev/null
# wait returns early when a trapped signal arrives; wait again until the child has ended.
while :; do wait "$CHILD"; RC=$?; kill -0 "$CHILD" 2>/dev/null || break; done
if [ -n "$SIGNAL" ]; then
  echo "=== orthostim task $TASK stopped by SIG$SIGNAL at $(now) (exit $RC)"
  status "\\"state\\":\\"failed\\",\\"exitCode\\":$RC,\\"signal\\":\\"$SIGNAL\\""
elif [ "$RC" -eq 0 ]; then
  echo "=== orthostim task $TASK done at $(now)"
  status '"state":"done","exitCode":0'
else
  echo "=== orthostim task $TASK failed at $(now) (exit $RC)"
  status "\\"state\\":\\"failed\\",\\"exitCode\\":$RC"
fi
exit "$RC"
`;
}
