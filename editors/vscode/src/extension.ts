// The Pol extension: starts the `pol-lsp` language server over stdio and runs
// `polc test` from the command palette. Highlighting, snippets and the
// language configuration are declared in package.json and need no code.

import { spawn } from 'node:child_process';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';

import {
  expandPath,
  lastLine,
  parseTestSummary,
  polcMissingMessage,
  polcTestArgs,
  resolveCommand,
  serverMissingMessage,
  serverSettings,
} from './util';

const OPEN_SETTINGS = 'Open Settings';
const SHOW_OUTPUT = 'Show Output';

let client: LanguageClient | undefined;
let serverChannel: vscode.OutputChannel | undefined;
let testChannel: vscode.OutputChannel | undefined;
let testsRunning = false;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  serverChannel = vscode.window.createOutputChannel('Pol Language Server');
  testChannel = vscode.window.createOutputChannel('Pol Tests');
  context.subscriptions.push(
    serverChannel,
    testChannel,
    vscode.commands.registerCommand('pol.restartServer', () => restartServer()),
    vscode.commands.registerCommand('pol.runTests', () => runTests()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('pol.server')) {
        void restartServer();
      }
    }),
  );
  await startServer();
}

export async function deactivate(): Promise<void> {
  await stopServer();
}

function firstWorkspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

async function openSetting(setting: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openSettings', setting);
}

async function startServer(): Promise<void> {
  const config = vscode.workspace.getConfiguration('pol');
  const configured = config.get<string>('server.path', 'pol-lsp');
  const args = config.get<string[]>('server.args', []);
  const folder = firstWorkspaceFolder();
  const resolved = resolveCommand(expandPath(configured, folder), process.env, process.platform, folder);
  if (!resolved.found) {
    const message = serverMissingMessage(configured, resolved.looked);
    serverChannel?.appendLine(message);
    void vscode.window.showErrorMessage(message, OPEN_SETTINGS).then((choice) => {
      if (choice === OPEN_SETTINGS) {
        void openSetting('pol.server.path');
      }
    });
    return;
  }

  // No `transport`: the server speaks LSP on its stdin and stdout, and the
  // client adds no `--stdio` flag the server might not accept.
  const serverOptions: ServerOptions = {
    run: { command: resolved.path, args },
    debug: { command: resolved.path, args },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'pol' },
      { scheme: 'untitled', language: 'pol' },
    ],
    outputChannel: serverChannel,
    // The server's settings at start; after that the client sends the `pol`
    // section with `workspace/didChangeConfiguration` whenever it changes.
    initializationOptions: serverSettings((key, fallback) => config.get(key, fallback)),
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.pol'),
      configurationSection: 'pol',
    },
  };
  // The id `pol` makes the client read the `pol.trace.server` setting.
  const started = new LanguageClient('pol', 'Pol Language Server', serverOptions, clientOptions);
  try {
    await started.start();
    client = started;
  } catch (error) {
    const message = `Pol: the language server \`${resolved.path}\` failed to start: ${String(error)}`;
    serverChannel?.appendLine(message);
    void vscode.window.showErrorMessage(message, SHOW_OUTPUT, OPEN_SETTINGS).then((choice) => {
      if (choice === SHOW_OUTPUT) {
        serverChannel?.show(true);
      } else if (choice === OPEN_SETTINGS) {
        void openSetting('pol.server');
      }
    });
    try {
      await started.dispose();
    } catch {
      // The client never got going; there is nothing left to stop.
    }
  }
}

async function stopServer(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined) {
    try {
      await running.stop();
    } catch (error) {
      serverChannel?.appendLine(`Pol: stopping the language server: ${String(error)}`);
    }
  }
}

async function restartServer(): Promise<void> {
  await stopServer();
  await startServer();
  if (client !== undefined) {
    void vscode.window.setStatusBarMessage('Pol: language server restarted', 3000);
  }
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) {
    return folders[0];
  }
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Run the Pol tests of which folder?' });
}

async function saveDirtyPolFiles(): Promise<void> {
  const dirty = vscode.workspace.textDocuments.filter((d) => d.isDirty && d.languageId === 'pol');
  await Promise.all(dirty.map((d) => d.save()));
}

async function runTests(): Promise<void> {
  if (testsRunning) {
    void vscode.window.showInformationMessage('Pol: the tests are already running.');
    return;
  }
  const folder = await pickFolder();
  if (folder === undefined) {
    if ((vscode.workspace.workspaceFolders ?? []).length === 0) {
      void vscode.window.showErrorMessage('Pol: open a folder to run its tests.');
    }
    return;
  }
  const configured = vscode.workspace.getConfiguration('pol', folder.uri).get<string>('polc.path', 'polc');
  const cwd = folder.uri.fsPath;
  const resolved = resolveCommand(expandPath(configured, cwd), process.env, process.platform, cwd);
  if (!resolved.found) {
    const message = polcMissingMessage(configured, resolved.looked);
    void vscode.window.showErrorMessage(message, OPEN_SETTINGS).then((choice) => {
      if (choice === OPEN_SETTINGS) {
        void openSetting('pol.polc.path');
      }
    });
    return;
  }
  await saveDirtyPolFiles();

  const channel = testChannel!;
  const args = polcTestArgs(cwd);
  channel.clear();
  channel.show(true);
  channel.appendLine(`$ ${resolved.path} ${args.join(' ')}`);
  testsRunning = true;
  try {
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Pol: running tests', cancellable: true },
      (_progress, token) => runPolc(resolved.path, args, cwd, channel, token),
    );
    reportOutcome(outcome, channel);
  } finally {
    testsRunning = false;
  }
}

interface PolcOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
  cancelled: boolean;
}

/** Runs `polc`, streaming its output into `channel` as it arrives. */
function runPolc(
  command: string,
  args: string[],
  cwd: string,
  channel: vscode.OutputChannel,
  token: vscode.CancellationToken,
): Promise<PolcOutcome> {
  return new Promise((resolve) => {
    const outcome: PolcOutcome = { code: null, stdout: '', stderr: '', cancelled: false };
    const child = spawn(command, args, { cwd, env: process.env });
    const cancel = token.onCancellationRequested(() => {
      outcome.cancelled = true;
      child.kill();
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      outcome.stdout += chunk;
      channel.append(chunk);
    });
    child.stderr.on('data', (chunk: string) => {
      outcome.stderr += chunk;
      channel.append(chunk);
    });
    child.on('error', (error) => {
      outcome.error = error;
    });
    child.on('close', (code) => {
      cancel.dispose();
      outcome.code = code;
      resolve(outcome);
    });
  });
}

function reportOutcome(outcome: PolcOutcome, channel: vscode.OutputChannel): void {
  const showOutput = (choice: string | undefined) => {
    if (choice === SHOW_OUTPUT) {
      channel.show(true);
    }
  };
  if (outcome.cancelled) {
    channel.appendLine('Pol: test run cancelled.');
    return;
  }
  if (outcome.error !== undefined) {
    channel.appendLine(`Pol: could not run polc: ${outcome.error.message}`);
    void vscode.window
      .showErrorMessage(`Pol: could not run polc: ${outcome.error.message}`, SHOW_OUTPUT)
      .then(showOutput);
    return;
  }
  const summary = parseTestSummary(outcome.stdout);
  if (summary !== undefined && (outcome.code === 0 || outcome.code === 1)) {
    const text = `Pol tests: ${summary.line}`;
    if (summary.failed === 0 && outcome.code === 0) {
      void vscode.window.showInformationMessage(text);
    } else {
      // Exit code 1 with no failures means coverage was under --fail-under.
      void vscode.window.showErrorMessage(text, SHOW_OUTPUT).then(showOutput);
    }
    return;
  }
  // Exit code 2: a usage problem, policies that do not check, or no files.
  const reason = lastLine(outcome.stderr) ?? lastLine(outcome.stdout) ?? `polc exited with code ${outcome.code}`;
  void vscode.window.showErrorMessage(`Pol: the tests did not run: ${reason}`, SHOW_OUTPUT).then(showOutput);
}
