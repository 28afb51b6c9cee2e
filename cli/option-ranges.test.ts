/**
 * Every numeric option of every command has a documented range (issue #14): its parser refuses
 * values outside it and its --help line shows `[range: ...]`. A numeric option is found by what
 * its parser does: it turns "1" (or "0.5") into a number.
 */
import { describe, expect, it } from 'vitest';
import type { Command, Option } from 'commander';
import { COMMANDS } from './commands';

function numericOptions(cmd: Command): Option[] {
  return cmd.options.filter((o) => {
    if (!o.parseArg) return false;
    for (const v of ['1', '0.5', '3']) {
      try {
        if (typeof o.parseArg(v, undefined) === 'number') return true;
      } catch {}
    }
    return false;
  });
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap((c) => allCommands(c as Command))];
}

describe('numeric options', () => {
  it('every numeric option of every command shows its range in --help and refuses NaN, 1e400 and -1e400', async () => {
    const missing: string[] = [];
    let count = 0;
    for (const spec of COMMANDS) {
      for (const cmd of allCommands(await spec.build())) {
        for (const o of numericOptions(cmd)) {
          count++;
          const where = `${cmd.name()} ${o.long}`;
          const help = cmd.helpInformation().split('\n');
          const line = help.findIndex((l) => l.trimStart().startsWith(o.flags));
          const next = help.findIndex((l, i) => i > line && /^ {2}-/.test(l));
          const rest = help.slice(line, next < 0 ? undefined : next).join(' ');
          if (line < 0 || !/\[range: [^\]]+\]/.test(rest)) missing.push(where);
          for (const bad of ['NaN', '1e400', '-1e400', 'abc', '']) {
            let accepted = true;
            try {
              o.parseArg!(bad, undefined);
            } catch {
              accepted = false;
            }
            if (accepted) missing.push(`${where} accepts "${bad}"`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
    expect(count).toBeGreaterThan(30);
  });
});
