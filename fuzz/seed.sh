#!/bin/sh
# Seeds the fuzz corpora (`fuzz/corpus/<target>/`, not committed) from the
# repository's policies and inputs:
#
# * parse, check: every `.pol` file of the standard library, the
#   diagnostics corpus, the conformance suite, the examples and polc's
#   fixtures, as it is (for `check`, a text is source unless its first
#   byte is 0);
# * eval_json: the conformance suite's JSON, and valid inputs for every
#   standard-library entrypoint (`ENTRY` line, then the JSON);
# * bundle_load: valid bundles (the target's mutation bases);
# * check, jit_vs_interp: generator streams.
#
# The last three come from `cargo run -p pol-gen --features fuzz --example
# fuzz_seeds`. Run from anywhere: `fuzz/seed.sh`.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
corpus="$here/corpus"

for target in parse check bundle_load eval_json jit_vs_interp; do
    mkdir -p "$corpus/$target"
done

# Policies: a flat name per file (`tests/ui/parse/x.pol` -> `tests_ui_parse_x.pol`).
cd "$root"
find stdlib-policies tests/ui tests/conformance examples compiler/polc/tests/fixtures \
    -name '*.pol' -not -path '*/target/*' | sort | while read -r file; do
    name=$(printf '%s' "$file" | tr '/' '_')
    cp "$file" "$corpus/parse/$name"
    cp "$file" "$corpus/check/$name"
done

# JSON inputs of the conformance suite, whole (arbitrary JSON for the
# standard library's entrypoints).
for file in tests/conformance/*/cases.json; do
    name=$(printf '%s' "$file" | tr '/' '_')
    cp "$file" "$corpus/eval_json/$name"
done

cargo run --quiet -p pol-gen --features fuzz --example fuzz_seeds -- "$corpus"

for target in parse check bundle_load eval_json jit_vs_interp; do
    printf '%-14s %s files\n' "$target" "$(ls "$corpus/$target" | wc -l)"
done
