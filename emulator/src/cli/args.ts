// Command-line arguments as data: positional words, `--name value` options (repeatable) and `--flag` booleans.

export interface ParsedArgs {
  positional: string[];
  values: Map<string, string[]>;
  flags: Set<string>;
}

export type ArgsResult = { ok: true; args: ParsedArgs } | { ok: false; message: string };

/** `valueOptions` names the options that take a value; any other `--name` is a boolean flag. */
export function parseArgs(argv: string[], valueOptions: ReadonlySet<string>): ArgsResult {
  const args: ParsedArgs = { positional: [], values: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      args.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('--') || word.length === 2) {
      args.positional.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    if (valueOptions.has(name)) {
      const value = eq < 0 ? argv[++i] : word.slice(eq + 1);
      if (value === undefined) return { ok: false, message: `--${name} needs a value` };
      args.values.set(name, [...(args.values.get(name) ?? []), value]);
    } else {
      if (eq >= 0) return { ok: false, message: `--${name} takes no value` };
      args.flags.add(name);
    }
  }
  return { ok: true, args };
}

export function value(args: ParsedArgs, name: string): string | undefined {
  return args.values.get(name)?.at(-1);
}

/** A whole number option, or undefined when absent; throws a RangeError naming the option when it is bad. */
export function intValue(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = value(args, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** `--prop k=v` options as an object. */
export function keyValues(args: ParsedArgs, name: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of args.values.get(name) ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new RangeError(`--${name} takes name=value, got "${pair}"`);
    result[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return result;
}
