/** POSIX shell quoting for names printed into commands (replay lines in tables and the HTML viewer). */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `s` as one shell word: as is when it holds only safe characters, else single-quoted ('\'' for a quote). */
export function shellQuote(s: string): string {
  return SAFE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The `mmsim replay` command for a finding, every argument quoted. */
export function replayCommand(scenario: string, token: string, variant: string): string {
  return `mmsim replay ${shellQuote(scenario)} ${shellQuote(token)} --variant ${shellQuote(variant)}`;
}
