// One trained Llama network written in another family's tensor layout, exactly: the
// engine then runs the same function through that family's code path (its tensor
// names, fused matrices, biases and NeoX rotation), which measures the family's path
// on trained weights where the only trained model at hand is a Llama (the demo model).
//   qwen2: zero q/k/v biases; NeoX RoPE.
//   phi3:  attn_qkv = [q; k; v] and ffn_up = [gate; up] fused; NeoX RoPE; no LongRoPE
//          factors (plain RoPE, as a phi3 file without them is read).
// NeoX rotates dimension pairs (i, i + R/2) where Llama's "normal" layout rotates
// (2i, 2i + 1), at the same frequency: permuting the q and k rows of every head
// (new i <- old 2i, new R/2 + i <- old 2i + 1, for the R rotated dimensions) gives the
// same rotated vectors in another order, and the same q.k.
// Families with parts a Llama has no value for (qwen3's q/k norms, gemma3's post-norms
// and GELU) cannot be made exactly and are refused.
#pragma once

#include <string>

namespace folio {

class GgufFile;
class GgufWriter;

// Fills `out` with `llama` (general.architecture "llama", normal RoPE, no rope_freqs)
// as `architecture` ("qwen2" or "phi3"): every metadata key copied, "llama.*" keys
// renamed to "<architecture>.*". Throws std::invalid_argument naming what it cannot do.
void convertLlamaToFamily(const GgufFile& llama, const std::string& architecture, GgufWriter& out);

} // namespace folio
