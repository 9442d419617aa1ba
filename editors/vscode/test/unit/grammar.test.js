// The TextMate grammar, checked on the engine VS Code uses: every regex
// compiles under Oniguruma, every reference resolves, every keyword of the
// lexer is highlighted as one, and real policies tokenize without errors.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { root, repo, readJson, oniguruma, loadGrammar, tokenize } = require('./helpers');

const grammarJson = readJson('syntaxes/pol.tmLanguage.json');

/** Every rule object in the grammar, with a path for messages. */
function rules() {
  const found = [];
  const visit = (node, where) => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => visit(n, `${where}[${i}]`));
    } else if (node !== null && typeof node === 'object') {
      found.push({ node, where });
      for (const [key, value] of Object.entries(node)) {
        visit(value, `${where}.${key}`);
      }
    }
  };
  visit(grammarJson, '$');
  return found;
}

test('every regex of the grammar compiles with vscode-oniguruma', async () => {
  const onig = await oniguruma();
  let count = 0;
  for (const { node, where } of rules()) {
    for (const key of ['match', 'begin', 'end', 'while']) {
      if (typeof node[key] !== 'string') {
        continue;
      }
      count++;
      try {
        new onig.OnigScanner([node[key]]).dispose();
      } catch (error) {
        assert.fail(`${where}.${key} does not compile: ${node[key]}: ${error}`);
      }
    }
  }
  assert.ok(count > 50, `only ${count} regexes found`);
});

test('every include resolves and every repository entry is used', () => {
  const repository = grammarJson.repository;
  const used = new Set();
  for (const { node, where } of rules()) {
    if (typeof node.include !== 'string') {
      continue;
    }
    assert.match(node.include, /^#/, `${where}: only local includes are expected`);
    const name = node.include.slice(1);
    assert.ok(name in repository, `${where} includes missing #${name}`);
    used.add(name);
  }
  for (const name of Object.keys(repository)) {
    assert.ok(used.has(name), `repository entry #${name} is never included`);
  }
});

test('every scope name ends in .pol', () => {
  for (const { node, where } of rules()) {
    // The grammar's own display name (`$.name`) is not a scope.
    if (typeof node.name === 'string' && where !== '$') {
      for (const scope of node.name.split(/\s+/)) {
        assert.match(scope, /\.pol$/, `${where}: ${scope}`);
      }
    }
  }
});

/** The words and punctuation the logos lexer declares with `#[token("...")]`. */
function lexerTokens() {
  const lexer = path.join(repo, 'compiler', 'syntax', 'src', 'lexer.rs');
  assert.ok(fs.existsSync(lexer), `the lexer is expected at ${lexer}`);
  const source = fs.readFileSync(lexer, 'utf8');
  return [...source.matchAll(/#\[token\("([^"]+)"\)\]/g)].map((m) => m[1]);
}

test('every reserved keyword of the lexer is highlighted as a keyword', async () => {
  const grammar = await loadGrammar();
  const keywords = lexerTokens().filter((t) => /^[a-z_]+$/.test(t));
  // The reference lists 32 reserved keywords; the count guards the extraction.
  assert.equal(keywords.length, 32, `keywords found in lexer.rs: ${keywords.join(' ')}`);
  for (const keyword of keywords) {
    const [line] = tokenize(grammar, keyword);
    assert.equal(line.length, 1, `${keyword} is one token`);
    const scope = line[0].scopes[line[0].scopes.length - 1];
    assert.match(
      scope,
      /^(keyword|storage\.type|constant\.language|variable\.language)\./,
      `${keyword} is scoped ${scope}`,
    );
  }
});

test('every punctuation token of the lexer is highlighted, never as invalid', async () => {
  const grammar = await loadGrammar();
  const punctuation = lexerTokens().filter((t) => !/^[a-z_]+$/.test(t));
  assert.ok(punctuation.length >= 25, `punctuation found in lexer.rs: ${punctuation.join(' ')}`);
  for (const token of punctuation) {
    const [line] = tokenize(grammar, `a ${token} b`);
    const hit = line.find((t) => t.text.startsWith(token));
    assert.ok(hit, `${token} is not a token of its own in \`a ${token} b\``);
    const scope = hit.scopes[hit.scopes.length - 1];
    assert.match(scope, /^(keyword\.operator|punctuation)\./, `${token} is scoped ${scope}`);
  }
});

test('the stdlib policies tokenize without invalid tokens and leave no region open', async () => {
  const grammar = await loadGrammar();
  const dir = path.join(repo, 'stdlib-policies');
  const files = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.name.endsWith('.pol')) {
        files.push(full);
      }
    }
  };
  walk(dir);
  assert.ok(files.length >= 5, `stdlib policies found: ${files.length}`);
  for (const file of files) {
    const lines = tokenize(grammar, fs.readFileSync(file, 'utf8'));
    lines.forEach((tokens, n) => {
      for (const token of tokens) {
        const invalid = token.scopes.find((s) => s.startsWith('invalid.'));
        assert.equal(invalid, undefined, `${path.relative(repo, file)}:${n + 1}: \`${token.text}\` is ${invalid}`);
      }
    });
    // Every item keyword in column 0 starts at the top level: a region left
    // open by the item above would show as a meta scope here.
    lines.forEach((tokens, n) => {
      const first = tokens[0];
      if (first && /^(package|import|schema|enum|let|param|policy|test)$/.test(first.text)) {
        assert.deepEqual(
          first.scopes.slice(0, 1),
          ['source.pol'],
          `${path.relative(repo, file)}:${n + 1}`,
        );
        assert.ok(
          first.scopes.length <= 3,
          `${path.relative(repo, file)}:${n + 1}: \`${first.text}\` is nested in ${first.scopes.join(' ')}`,
        );
      }
    });
  }
});
