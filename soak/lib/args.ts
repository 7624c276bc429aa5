// Command-line options of the soak runner: `--name value` or `--name=value`, numbers only, unknown names refused.

export interface SoakArgs {
  seed: number | undefined;
  fuzz: number;
  messages: number;
  faults: number;
  hours: number;
  /** Journal soak: readings, faults, longest hub outage. */
  jmessages: number;
  jfaults: number;
  outagems: number;
  only: Set<'fuzz' | 'faults' | 'virtual' | 'journal'>;
  help: boolean;
}

/** What CI can afford: about half a minute on a 2-core machine. */
export const SOAK_DEFAULTS = { fuzz: 200_000, messages: 2_000, faults: 200, hours: 48, jmessages: 1_000, jfaults: 20, outagems: 3_000 };

const PARTS = ['fuzz', 'faults', 'virtual', 'journal'] as const;

export function parseSoakArgs(argv: readonly string[]): SoakArgs {
  const args: SoakArgs = { seed: undefined, ...SOAK_DEFAULTS, only: new Set(PARTS), help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      args.help = true;
      continue;
    }
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unexpected argument '${arg}'`);
    const name = match[1]!;
    const text = match[2] ?? argv[++i];
    if (text === undefined) throw new Error(`--${name} needs a value`);
    if (name === 'only') {
      const parts = text.split(',');
      for (const p of parts) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only takes ${PARTS.join(', ')}`);
      args.only = new Set(parts as Array<(typeof PARTS)[number]>);
      continue;
    }
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer`);
    switch (name) {
      case 'seed':
        args.seed = value >>> 0;
        break;
      case 'fuzz':
      case 'messages':
      case 'faults':
      case 'hours':
      case 'jmessages':
      case 'jfaults':
      case 'outagems':
        args[name] = value;
        break;
      default:
        throw new Error(`unknown option --${name}`);
    }
  }
  return args;
}

export const SOAK_USAGE = `npx tsx soak/index.ts [--seed N] [--fuzz N] [--messages N] [--faults N] [--hours N] [--jmessages N] [--jfaults N] [--outagems N] [--only fuzz,faults,virtual,journal]
  --seed      replay a run (every run prints its seed); default: a fresh one
  --fuzz      MQTT stream-parser inputs (the Azure parsers and the WebSocket client get a quarter as many each); default ${SOAK_DEFAULTS.fuzz}
  --messages  QoS 1 telemetry messages in the fault soak; default ${SOAK_DEFAULTS.messages}
  --faults    faults injected during them; default ${SOAK_DEFAULTS.faults}
  --hours     simulated hours of the virtual-clock soak (Node and XS); default ${SOAK_DEFAULTS.hours}
  --jmessages readings through the flash journal from a device process killed with SIGKILL among other faults; default ${SOAK_DEFAULTS.jmessages}
  --jfaults   faults injected during them; default ${SOAK_DEFAULTS.jfaults}
  --outagems  length of the two longest hub outages (the others a tenth); default ${SOAK_DEFAULTS.outagems}
The full run: --fuzz 2000000 --messages 10000 --faults 1000 --jmessages 10000 --jfaults 200 --outagems 120000`;
