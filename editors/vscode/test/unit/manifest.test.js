// package.json promises files, commands and settings; these tests check that
// each promise is kept by a file in the extension.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { root, readJson } = require('./helpers');

const manifest = readJson('package.json');
const contributes = manifest.contributes;
const extensionSource = fs.readFileSync(path.join(root, 'src', 'extension.ts'), 'utf8');

test('every file that contributes points to exists and parses', () => {
  const files = [
    ...contributes.languages.map((l) => l.configuration),
    ...contributes.grammars.map((g) => g.path),
    ...contributes.snippets.map((s) => s.path),
  ];
  assert.ok(files.length >= 3);
  for (const file of files) {
    const full = path.join(root, file);
    assert.ok(fs.existsSync(full), `${file} is missing`);
    assert.doesNotThrow(() => JSON.parse(fs.readFileSync(full, 'utf8')), `${file} is not JSON`);
  }
});

test('the language is `pol`, for `.pol` files, with the `source.pol` grammar', () => {
  assert.equal(manifest.name, 'pol');
  assert.deepEqual(contributes.languages.map((l) => l.id), ['pol']);
  assert.deepEqual(contributes.languages[0].extensions, ['.pol']);
  const [grammar] = contributes.grammars;
  assert.equal(grammar.language, 'pol');
  assert.equal(grammar.scopeName, 'source.pol');
  assert.equal(readJson(grammar.path).scopeName, 'source.pol');
  assert.deepEqual(contributes.snippets.map((s) => s.language), ['pol']);
});

test('the manifest has what vsce and the marketplace need', () => {
  assert.equal(manifest.license, 'Apache-2.0');
  assert.ok(manifest.publisher);
  assert.ok(manifest.repository && manifest.repository.url);
  assert.match(manifest.engines.vscode, /^\^1\.85\./);
  // @types/vscode newer than engines.vscode makes vsce refuse to package.
  assert.match(manifest.devDependencies['@types/vscode'], /^~1\.85\./);
  for (const file of ['README.md', 'CHANGELOG.md', 'LICENSE']) {
    assert.ok(fs.existsSync(path.join(root, file)), `${file} is missing`);
  }
});

test('the entry point is the bundle that scripts/build.mjs writes and the .vsix ships', () => {
  assert.equal(manifest.main, './dist/extension.js');
  const build = fs.readFileSync(path.join(root, 'scripts', 'build.mjs'), 'utf8');
  assert.match(build, /outfile: 'dist\/extension\.js'/);
  const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n');
  assert.ok(ignore.includes('!dist/extension.js'), '.vscodeignore must keep dist/extension.js');
  assert.ok(ignore.includes('!syntaxes/pol.tmLanguage.json'));
});

test('every contributed command is registered by the extension', () => {
  const ids = contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(ids, ['pol.restartServer', 'pol.runTests']);
  for (const id of ids) {
    assert.ok(extensionSource.includes(`registerCommand('${id}'`), `${id} is never registered`);
  }
  assert.equal(contributes.commands.find((c) => c.command === 'pol.runTests').title, 'Run tests in workspace');
});

test('every setting is declared with its default and read by the extension', () => {
  const properties = contributes.configuration.properties;
  assert.deepEqual(Object.keys(properties).sort(), [
    'pol.diagnostics.workspace',
    'pol.inputDir',
    'pol.lens.enable',
    'pol.polc.path',
    'pol.server.args',
    'pol.server.path',
    'pol.trace.server',
  ]);
  assert.equal(properties['pol.server.path'].default, 'pol-lsp');
  assert.equal(properties['pol.polc.path'].default, 'polc');
  assert.deepEqual(properties['pol.server.args'].default, []);
  assert.deepEqual(properties['pol.trace.server'].enum, ['off', 'messages', 'verbose']);
  for (const key of ['server.path', 'server.args', 'polc.path']) {
    assert.ok(extensionSource.includes(`'${key}'`), `pol.${key} is never read`);
  }
  // The language server's settings: declared with the defaults the server
  // and `serverSettings` assume, and sent to the server.
  assert.equal(properties['pol.lens.enable'].default, true);
  assert.equal(properties['pol.diagnostics.workspace'].default, true);
  assert.equal(properties['pol.inputDir'].default, '');
  const utilSource = fs.readFileSync(path.join(root, 'src', 'util.ts'), 'utf8');
  for (const key of ['lens.enable', 'diagnostics.workspace', 'inputDir']) {
    assert.ok(utilSource.includes(`get('${key}'`), `pol.${key} is never sent to the server`);
  }
  assert.ok(extensionSource.includes("configurationSection: 'pol'"));
  // A workspace must not pick the binaries the extension runs unless trusted.
  assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.sort(), [
    'pol.polc.path',
    'pol.server.args',
    'pol.server.path',
  ]);
  // vscode-languageclient reads `<id>.trace.server` for the client id `pol`.
  assert.ok(extensionSource.includes("new LanguageClient('pol',"));
});

test('the language configuration compiles and comments with //', () => {
  const config = readJson('language-configuration.json');
  assert.equal(config.comments.lineComment, '//');
  const patterns = [
    config.wordPattern,
    config.indentationRules.increaseIndentPattern,
    config.indentationRules.decreaseIndentPattern,
    config.folding.markers.start,
    config.folding.markers.end,
    ...config.onEnterRules.map((r) => r.beforeText),
  ];
  for (const pattern of patterns) {
    assert.doesNotThrow(() => new RegExp(pattern), pattern);
  }
  const increase = new RegExp(config.indentationRules.increaseIndentPattern);
  assert.ok(increase.test('policy p(x: X) -> Decision {'));
  assert.ok(increase.test('  let cases: list<Case> = ['));
  assert.ok(!increase.test('  deny "x" when y // {'));
  assert.ok(new RegExp(config.indentationRules.decreaseIndentPattern).test('  }'));
  const word = new RegExp(`^(?:${config.wordPattern})$`);
  for (const w of ['require_approval', 'x1', '1h30m', '2.5e3', '1_000']) {
    assert.ok(word.test(w), `${w} is one word`);
  }
  const pairs = config.autoClosingPairs.map((p) => p.open);
  for (const open of ['{', '[', '(', '"']) {
    assert.ok(pairs.includes(open), `${open} is auto-closed`);
  }
  assert.ok(config.surroundingPairs.some(([a, b]) => a === '"' && b === '"'));
});
