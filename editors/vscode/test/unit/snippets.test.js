'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { readJson } = require('./helpers');

const snippets = readJson('snippets/pol.json');

test('every snippet has a prefix, a body and a description', () => {
  for (const [name, snippet] of Object.entries(snippets)) {
    assert.equal(typeof snippet.prefix, 'string', name);
    assert.ok(Array.isArray(snippet.body) && snippet.body.length > 0, name);
    assert.ok(snippet.body.every((line) => typeof line === 'string'), name);
    assert.equal(typeof snippet.description, 'string', name);
  }
});

test('the snippets cover the items, rules and test statements', () => {
  const prefixes = new Set(Object.values(snippets).map((s) => s.prefix));
  for (const prefix of ['policy', 'test', 'schema', 'enum', 'allow', 'deny', 'param', 'expect', 'with', 'for']) {
    assert.ok(prefixes.has(prefix), `no snippet for ${prefix}`);
  }
});

test('snippet placeholders are balanced', () => {
  for (const [name, snippet] of Object.entries(snippets)) {
    let depth = 0;
    const text = snippet.body.join('\n').replace(/\\[$}\\]/g, '');
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '$' && text[i + 1] === '{') {
        depth++;
        i++;
      } else if (text[i] === '}' && depth > 0) {
        depth--;
      }
    }
    assert.equal(depth, 0, `${name} has an unclosed placeholder`);
  }
});
