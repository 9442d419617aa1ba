// Shared by the unit tests: paths and a TextMate registry over the grammar,
// on the same engine VS Code uses (vscode-textmate + vscode-oniguruma).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const repo = path.resolve(root, '..', '..');

function readJson(relative) {
  return JSON.parse(fs.readFileSync(path.join(root, relative), 'utf8'));
}

let onigLoaded;
function oniguruma() {
  const onig = require('vscode-oniguruma');
  if (onigLoaded === undefined) {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    onigLoaded = onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  }
  return onigLoaded.then(() => onig);
}

async function loadGrammar() {
  const onig = await oniguruma();
  const tm = require('vscode-textmate');
  const registry = new tm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new onig.OnigScanner(sources),
      createOnigString: (text) => new onig.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.pol') {
        return null;
      }
      const file = path.join(root, 'syntaxes', 'pol.tmLanguage.json');
      return tm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
    },
  });
  return registry.loadGrammar('source.pol');
}

/** Tokenizes a document: one array of `{ text, scopes }` per line. */
function tokenize(grammar, text) {
  const tm = require('vscode-textmate');
  let stack = tm.INITIAL;
  return text.split(/\r?\n/).map((line) => {
    const result = grammar.tokenizeLine(line, stack);
    stack = result.ruleStack;
    return result.tokens.map((t) => ({
      text: line.slice(t.startIndex, t.endIndex),
      scopes: t.scopes,
    }));
  });
}

module.exports = { root, repo, readJson, oniguruma, loadGrammar, tokenize };
