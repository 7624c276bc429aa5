// The two globals the xsnap worker gives a script, typed here instead of declared globally so Node code
// cannot use them by accident.

export type IssueCommand = (request: ArrayBuffer) => ArrayBuffer;
/** The worker reads `result` after promise jobs have run, which lets an async handler answer. */
export type HandleCommand = (request: ArrayBuffer) => ArrayBuffer | { result: ArrayBuffer };

interface XsnapGlobalScope {
  issueCommand?: IssueCommand;
  handleCommand?: HandleCommand;
}

export const xsnapGlobal = globalThis as unknown as XsnapGlobalScope;

export function globalIssueCommand(): IssueCommand {
  const issue = xsnapGlobal.issueCommand;
  if (typeof issue !== 'function') throw new Error('issueCommand is missing: this script is not running in an xsnap worker');
  return issue;
}
