#include "engine/model/family.h"

#include "engine/gguf/gguf.h"

#include <cmath>
#include <stdexcept>

namespace folio {

const std::vector<std::string>& supportedArchitectures()
{
    static const std::vector<std::string> names{"llama", "qwen2", "qwen3", "phi3"};
    return names;
}

std::string supportedArchitectureList()
{
    std::string list;
    for (const std::string& name : supportedArchitectures())
        list += (list.empty() ? "" : ", ") + name;
    return list;
}

FamilyDescription describeFamily(const GgufFile& file, const std::string& arch)
{
    FamilyDescription f;
    f.architecture = arch;
    if (arch == "llama") {
        f.displayName = "Llama";
    } else if (arch == "qwen2") {
        f.displayName = "Qwen2";
        f.qkvBias = true;
        f.ropeNeox = true;
        f.defaultRmsEpsilon = 1e-6;
    } else if (arch == "qwen3") {
        f.displayName = "Qwen3";
        f.qkNorm = true;
        f.ropeNeox = true;
        f.defaultRmsEpsilon = 1e-6;
    } else if (arch == "phi3") {  // Phi-3, Phi-3.5-mini, Phi-4-mini
        // phi3.attention.sliding_window (Phi-3-mini-4k: 2047) is not applied: the
        // public converters write it for files that were used with full attention,
        // and llama.cpp disables it for this architecture too.
        f.displayName = "Phi-3";
        f.fusedQkv = true;
        f.fusedGateUp = true;
        f.ropeNeox = true;
        f.longRope = true;
    } else {
        throw std::invalid_argument("unsupported architecture '" + arch + "' (supported: "
                                    + supportedArchitectureList() + ")");
    }
    // Soft-capping is a property of the file (gemma2 writes it), not of the name.
    if (const std::optional<double> cap = file.getFloat(arch + ".final_logit_softcapping")) {
        if (!std::isfinite(*cap) || *cap < 0.0)
            throw std::invalid_argument("key '" + arch + ".final_logit_softcapping' has the invalid value "
                                        + std::to_string(*cap));
        f.finalLogitSoftcap = static_cast<float>(*cap);
    }
    return f;
}

} // namespace folio
