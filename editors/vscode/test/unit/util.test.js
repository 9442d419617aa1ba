// The helpers behind the extension's commands (built to out/util.js by
// `node scripts/build.mjs --unit`).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('../../out/util.js');

test('parseTestSummary reads the last summary line of polc test', () => {
  const output = 'FAIL  a test\n  expected d.allowed\n\n3 passed, 1 failed\n';
  assert.deepEqual(util.parseTestSummary(output), {
    passed: 3,
    failed: 1,
    skipped: 0,
    line: '3 passed, 1 failed',
  });
  assert.equal(util.parseTestSummary('12 passed, 0 failed, 4 skipped\n').skipped, 4);
  assert.equal(util.parseTestSummary('1 passed, 0 failed\n...\n7 passed, 2 failed').passed, 7);
  assert.equal(util.parseTestSummary('error: the policies have errors; no test was run\n'), undefined);
  assert.equal(util.parseTestSummary('a test named "3 passed, 1 failed" failed\n'), undefined);
});

test('resolveCommand finds executables by path and on PATH', (t) => {
  if (process.platform === 'win32') {
    t.skip('the fixture uses POSIX permissions');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pol-resolve-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const server = path.join(bin, 'pol-lsp');
  fs.writeFileSync(server, '#!/bin/sh\n');
  fs.chmodSync(server, 0o755);
  const plain = path.join(bin, 'not-executable');
  fs.writeFileSync(plain, '');
  fs.chmodSync(plain, 0o644);

  const env = { PATH: `/nonexistent:${bin}` };
  assert.deepEqual(util.resolveCommand('pol-lsp', env, 'linux'), { found: true, path: server });
  assert.deepEqual(util.resolveCommand(server, {}, 'linux'), { found: true, path: server });
  assert.deepEqual(util.resolveCommand('bin/pol-lsp', {}, 'linux', dir), { found: true, path: server });
  assert.deepEqual(util.resolveCommand('polc', env, 'linux'), { found: false, looked: '`polc` on PATH' });
  assert.equal(util.resolveCommand('not-executable', env, 'linux').found, false);
  assert.equal(util.resolveCommand(bin, {}, 'linux').found, false, 'a directory is not a command');
  assert.equal(util.resolveCommand('', env, 'linux').found, false);
});

test('expandPath expands ~ and ${workspaceFolder}', () => {
  assert.equal(util.expandPath('~/bin/pol-lsp', undefined), path.join(os.homedir(), 'bin/pol-lsp'));
  assert.equal(util.expandPath('${workspaceFolder}/target/debug/pol-lsp', '/w'), '/w/target/debug/pol-lsp');
  assert.equal(util.expandPath(' pol-lsp ', '/w'), 'pol-lsp');
});

test('the missing-binary messages say how to install and what to configure', () => {
  const server = util.serverMissingMessage('pol-lsp', '`pol-lsp` on PATH');
  assert.match(server, /cargo install --path lsp/);
  assert.match(server, /pol\.server\.path/);
  const polc = util.polcMissingMessage('polc', '`polc` on PATH');
  assert.match(polc, /cargo install --path compiler\/polc/);
  assert.match(polc, /pol\.polc\.path/);
});

test('polc test runs over the folder without colors', () => {
  assert.deepEqual(util.polcTestArgs('/w'), ['test', '--color', 'never', '/w']);
});

test('lastLine skips trailing blank lines', () => {
  assert.equal(util.lastLine('a\nerror: no .pol files found\n\n'), 'error: no .pol files found');
  assert.equal(util.lastLine('\n \n'), undefined);
});

test('serverSettings sends the language server its settings with their defaults', () => {
  const defaults = util.serverSettings((_key, fallback) => fallback);
  assert.deepEqual(defaults, { lens: { enable: true }, diagnostics: { workspace: true }, inputDir: '' });
  const set = { 'lens.enable': false, 'diagnostics.workspace': false, inputDir: 'inputs' };
  const chosen = util.serverSettings((key, fallback) => (key in set ? set[key] : fallback));
  assert.deepEqual(chosen, { lens: { enable: false }, diagnostics: { workspace: false }, inputDir: 'inputs' });
});
