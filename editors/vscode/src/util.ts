// Helpers of the extension that do not need VS Code, so the unit tests in
// `test/unit` can run them under plain Node.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What a configured command (`pol.server.path`, `pol.polc.path`) resolved to. */
export type Resolution =
  | { found: true; path: string }
  | { found: false; looked: string };

/**
 * Expands `~` and `${workspaceFolder}` in a configured path, the two forms a
 * user is likely to write in `settings.json`.
 */
export function expandPath(configured: string, workspaceFolder: string | undefined): string {
  let value = configured.trim();
  if (workspaceFolder !== undefined) {
    value = value.split('${workspaceFolder}').join(workspaceFolder);
  }
  if (value === '~' || value.startsWith('~/') || value.startsWith('~\\')) {
    value = path.join(os.homedir(), value.slice(1));
  }
  return value;
}

function isExecutableFile(candidate: string, platform: NodeJS.Platform): boolean {
  try {
    if (!fs.statSync(candidate).isFile()) {
      return false;
    }
    if (platform !== 'win32') {
      fs.accessSync(candidate, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the executable a command names, the way a shell would: a value with a
 * path separator is a path (relative ones against `cwd`); a bare name is
 * looked up on `PATH` (with `PATHEXT` on Windows). Resolving it up front lets
 * the extension say "not found" plainly instead of reporting a spawn error.
 */
export function resolveCommand(
  command: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  cwd: string = process.cwd(),
): Resolution {
  if (command === '') {
    return { found: false, looked: 'an empty path' };
  }
  const separators = platform === 'win32' ? /[\\/]/ : /\//;
  const extensions =
    platform === 'win32'
      ? ['', ...(env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e !== '')]
      : [''];
  if (separators.test(command)) {
    const absolute = path.resolve(cwd, command);
    for (const extension of extensions) {
      if (isExecutableFile(absolute + extension, platform)) {
        return { found: true, path: absolute + extension };
      }
    }
    return { found: false, looked: absolute };
  }
  const pathVariable = env.PATH ?? env.Path ?? '';
  const delimiter = platform === 'win32' ? ';' : ':';
  for (const directory of pathVariable.split(delimiter)) {
    if (directory === '') {
      continue;
    }
    for (const extension of extensions) {
      const candidate = path.join(directory, command + extension);
      if (isExecutableFile(candidate, platform)) {
        return { found: true, path: candidate };
      }
    }
  }
  return { found: false, looked: `\`${command}\` on PATH` };
}

/** The counts of the summary line `polc test` ends with. */
export interface TestSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** The summary line as printed, such as `12 passed, 0 failed`. */
  line: string;
}

/**
 * Reads the last `N passed, N failed[, N skipped]` line of `polc test`'s
 * output, or `undefined` when there is none (the tests did not run).
 */
export function parseTestSummary(output: string): TestSummary | undefined {
  const pattern = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/gm;
  let last: RegExpExecArray | undefined;
  for (let match = pattern.exec(output); match !== null; match = pattern.exec(output)) {
    last = match;
  }
  if (last === undefined) {
    return undefined;
  }
  return {
    passed: Number(last[1]),
    failed: Number(last[2]),
    skipped: last[3] === undefined ? 0 : Number(last[3]),
    line: last[0].trim(),
  };
}

/** The last non-empty line of some output, to quote in a notification. */
export function lastLine(output: string): string | undefined {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.length === 0 ? undefined : lines[lines.length - 1];
}

/** The message shown when `pol-lsp` cannot be found. */
export function serverMissingMessage(configured: string, looked: string): string {
  return (
    `Pol: the language server \`${configured}\` was not found (looked for ${looked}). ` +
    'Build and install it from the Pol repository with `cargo install --path lsp`, ' +
    'or set `pol.server.path` to the `pol-lsp` binary. ' +
    'Highlighting and snippets work without it.'
  );
}

/** The message shown when `polc` cannot be found. */
export function polcMissingMessage(configured: string, looked: string): string {
  return (
    `Pol: \`${configured}\` was not found (looked for ${looked}), so the tests cannot run. ` +
    'Build and install it from the Pol repository with `cargo install --path compiler/polc`, ' +
    'or set `pol.polc.path` to the `polc` binary.'
  );
}

/** The arguments of the `polc test` run over one workspace folder. */
export function polcTestArgs(folder: string): string[] {
  return ['test', '--color', 'never', folder];
}

/** The settings the language server reads (see docs/lsp.md), as sent in `initializationOptions`. */
export interface ServerSettings {
  lens: { enable: boolean };
  diagnostics: { workspace: boolean };
  inputDir: string;
}

/**
 * The language server's settings from the `pol` section, read with `get`
 * (a `WorkspaceConfiguration`'s): each with the default package.json declares.
 */
export function serverSettings(get: <T>(key: string, fallback: T) => T): ServerSettings {
  return {
    lens: { enable: get('lens.enable', true) },
    diagnostics: { workspace: get('diagnostics.workspace', true) },
    inputDir: get('inputDir', ''),
  };
}
