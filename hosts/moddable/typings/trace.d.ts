// The XS global `trace`: writes to the debugger console, or to stdout in the simulator.
declare function trace(...items: (string | number | boolean)[]): void;
