// Errors the provisioning CLI reports to its user. Exit code 2 means "your input": a bad file, key, field or
// option; 1 means the store itself failed. Messages name the option, file or field, never a key's value.

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
