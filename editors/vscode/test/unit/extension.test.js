// The extension's activation and commands, run under Node against a small
// stand-in for the `vscode` API (out/extension.js is built by
// `node scripts/build.mjs --unit`). It covers what needs no real editor: the
// error shown when pol-lsp is missing, and `pol.runTests` driving a fake
// `polc` whose output and exit code are known.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Module = require('node:module');

/** A stand-in for the parts of the `vscode` module the extension touches. */
function fakeVscode(state) {
  class Base {}
  const event = () => ({ dispose() {} });
  const message = (kind) => (text, ...items) => {
    state.messages.push({ kind, text, items });
    return Promise.resolve(undefined);
  };
  return {
    // vscode-languageclient subclasses these when it loads.
    CompletionItem: Base,
    CodeLens: Base,
    DocumentLink: Base,
    CodeAction: Base,
    Diagnostic: Base,
    CallHierarchyItem: Base,
    TypeHierarchyItem: Base,
    SymbolInformation: Base,
    InlayHint: Base,
    CancellationError: Error,
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    window: {
      createOutputChannel: (name) => {
        const channel = {
          name,
          text: '',
          append(t) { this.text += t; },
          appendLine(t) { this.text += `${t}\n`; },
          clear() { this.text = ''; },
          show() {},
          dispose() {},
        };
        state.channels[name] = channel;
        return channel;
      },
      showErrorMessage: message('error'),
      showInformationMessage: message('info'),
      showWarningMessage: message('warning'),
      setStatusBarMessage: () => ({ dispose() {} }),
      showWorkspaceFolderPick: async () => state.folders[0],
      withProgress: (_options, task) =>
        task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: event }),
    },
    commands: {
      registerCommand: (id, handler) => {
        state.commands[id] = handler;
        return { dispose() {} };
      },
      executeCommand: async () => undefined,
    },
    workspace: {
      get workspaceFolders() { return state.folders; },
      textDocuments: [],
      onDidChangeConfiguration: event,
      getConfiguration: (section) => ({
        get: (key, fallback) => {
          const value = state.settings[`${section}.${key}`];
          return value === undefined ? fallback : value;
        },
      }),
    },
  };
}

/** Loads a fresh copy of the extension against a fresh fake `vscode`. */
function loadExtension(state) {
  const vscode = fakeVscode(state);
  const original = Module._load;
  Module._load = function (request, ...rest) {
    return request === 'vscode' ? vscode : original.call(this, request, ...rest);
  };
  try {
    const file = require.resolve('../../out/extension.js');
    delete require.cache[file];
    return require(file);
  } finally {
    Module._load = original;
  }
}

function newState(settings, folders) {
  return { settings, folders, messages: [], channels: {}, commands: {} };
}

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pol-extension-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes an executable stand-in for `polc` that records its arguments. */
function fakePolc(dir, { stdout, stderr = '', code }) {
  const script = path.join(dir, 'polc');
  fs.writeFileSync(
    script,
    [
      '#!/usr/bin/env node',
      `require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'args.json'))}, JSON.stringify(process.argv.slice(2)));`,
      `process.stdout.write(${JSON.stringify(stdout)});`,
      `process.stderr.write(${JSON.stringify(stderr)});`,
      `process.exitCode = ${code};`,
    ].join('\n'),
  );
  fs.chmodSync(script, 0o755);
  return script;
}

const posixOnly = process.platform === 'win32' ? 'the fake polc is a POSIX script' : false;

test('a missing pol-lsp is reported with the install command and the setting', async () => {
  const state = newState({ 'pol.server.path': 'pol-lsp-that-does-not-exist' }, []);
  const extension = loadExtension(state);
  await extension.activate({ subscriptions: [] });
  const errors = state.messages.filter((m) => m.kind === 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0].text, /`pol-lsp-that-does-not-exist` was not found/);
  assert.match(errors[0].text, /cargo install --path lsp/);
  assert.match(errors[0].text, /pol\.server\.path/);
  assert.deepEqual(errors[0].items, ['Open Settings']);
  assert.deepEqual(Object.keys(state.commands).sort(), ['pol.restartServer', 'pol.runTests']);
  await extension.deactivate();
});

test('pol.runTests streams polc test into "Pol Tests" and shows the summary', { skip: posixOnly }, async (t) => {
  const dir = tempDir(t);
  const polc = fakePolc(dir, { stdout: 'FAIL  a case\n\n3 passed, 1 failed\n', code: 1 });
  const folder = { uri: { fsPath: dir }, name: 'w', index: 0 };
  const state = newState({ 'pol.server.path': 'pol-lsp-that-does-not-exist', 'pol.polc.path': polc }, [folder]);
  const extension = loadExtension(state);
  await extension.activate({ subscriptions: [] });
  state.messages.length = 0;

  await state.commands['pol.runTests']();

  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'args.json'), 'utf8')), [
    'test',
    '--color',
    'never',
    dir,
  ]);
  assert.match(state.channels['Pol Tests'].text, /FAIL {2}a case\n\n3 passed, 1 failed\n/);
  assert.deepEqual(
    state.messages.map((m) => [m.kind, m.text]),
    [['error', 'Pol tests: 3 passed, 1 failed']],
  );
  await extension.deactivate();
});

test('a passing run is an information message', { skip: posixOnly }, async (t) => {
  const dir = tempDir(t);
  const polc = fakePolc(dir, { stdout: '12 passed, 0 failed\n', code: 0 });
  const folder = { uri: { fsPath: dir }, name: 'w', index: 0 };
  const state = newState({ 'pol.server.path': 'pol-lsp-that-does-not-exist', 'pol.polc.path': polc }, [folder]);
  const extension = loadExtension(state);
  await extension.activate({ subscriptions: [] });
  state.messages.length = 0;
  await state.commands['pol.runTests']();
  assert.deepEqual(state.messages.map((m) => [m.kind, m.text]), [['info', 'Pol tests: 12 passed, 0 failed']]);
});

test('policies that do not check are reported with polc\'s reason', { skip: posixOnly }, async (t) => {
  const dir = tempDir(t);
  const polc = fakePolc(dir, {
    stdout: '',
    stderr: 'error[pol::type::mismatch]: ...\nerror: the policies have errors; no test was run\n',
    code: 2,
  });
  const folder = { uri: { fsPath: dir }, name: 'w', index: 0 };
  const state = newState({ 'pol.server.path': 'pol-lsp-that-does-not-exist', 'pol.polc.path': polc }, [folder]);
  const extension = loadExtension(state);
  await extension.activate({ subscriptions: [] });
  state.messages.length = 0;
  await state.commands['pol.runTests']();
  assert.deepEqual(state.messages.map((m) => m.text), [
    'Pol: the tests did not run: error: the policies have errors; no test was run',
  ]);
  assert.match(state.channels['Pol Tests'].text, /pol::type::mismatch/);
});

test('a missing polc is reported with the install command and the setting', async (t) => {
  const dir = tempDir(t);
  const folder = { uri: { fsPath: dir }, name: 'w', index: 0 };
  const state = newState(
    { 'pol.server.path': 'pol-lsp-that-does-not-exist', 'pol.polc.path': 'polc-that-does-not-exist' },
    [folder],
  );
  const extension = loadExtension(state);
  await extension.activate({ subscriptions: [] });
  state.messages.length = 0;
  await state.commands['pol.runTests']();
  assert.equal(state.messages.length, 1);
  assert.match(state.messages[0].text, /`polc-that-does-not-exist` was not found/);
  assert.match(state.messages[0].text, /cargo install --path compiler\/polc/);
  assert.match(state.messages[0].text, /pol\.polc\.path/);
});

test('running tests without a folder open says so', async () => {
  const state = newState({ 'pol.server.path': 'pol-lsp-that-does-not-exist' }, undefined);
  const extension = loadExtension(state);
  await extension.activate({ subscriptions: [] });
  state.messages.length = 0;
  await state.commands['pol.runTests']();
  assert.deepEqual(state.messages.map((m) => m.text), ['Pol: open a folder to run its tests.']);
});
