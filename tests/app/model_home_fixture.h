// A fake home folder holding models the way LM Studio, GPT4All, Jan, Ollama, the
// Hugging Face cache and llama.cpp lay them out, plus a folder of the user's with
// split sets, a download in progress, damaged and unsupported files and a symlink
// loop. Every model is a real small GGUF file written by the project's writer.
// Shared by the app tests (model_discovery_test) and the CLI tests.
#pragma once

#include <QProcessEnvironment>
#include <QString>

namespace folio::test {

struct FakeModelHome {
    explicit FakeModelHome(const QString& root);  // writes everything under root

    QString root;
    QString userFolder;  // not a known place: scanned only when added

    // One path per model the scan should list (the path it should report).
    QString lmStudio;       // .lmstudio/models/lmstudio-community/Tiny-Llama-GGUF/tiny-llama-Q4_K_M.gguf
    QString mmproj;         // beside it: mmproj-tiny-f16.gguf, architecture "clip"
    QString gpt4all;        // .local/share/nomic.ai/GPT4All/qwen2-tiny.Q8_0.gguf
    QString jan;            // jan/llamacpp/models/qwen3-tiny/model.gguf
    QString ollamaBlob;     // .ollama/models/blobs/sha256-HEX (tags tinyllama:1.1b and tinyllama:latest)
    QString ollamaOther;    // someone/phi-tiny:q8, a phi3 model
    QString ollamaMissing;  // the blob a manifest (ghost:latest) names but that is not there
    QString hfSnapshot;     // hub/models--TheOwner--Tiny-GGUF/snapshots/rev1/tiny-f16.gguf (a symlink)
    QString hfBlob;         // what it (and rev2's link) points to
    QString llamaCpp;       // .cache/llama.cpp/owner_repo_tiny-Q8_0.gguf
    QString splitFirst;     // userFolder/big-00001-of-00003.gguf, all parts there
    QString brokenFirst;    // userFolder/broken-00001-of-00003.gguf, part 2 missing
    QString unsupported;    // userFolder/nested/mamba-tiny.gguf (architecture "mamba")
    QString truncated;      // userFolder/nested/deeper/truncated.gguf
    // Never listed: userFolder/big.gguf.part, GPT4All's incomplete-qwen2-next.gguf.

    qint64 splitParameters = 0;  // elements of the big set's tensors, all parts
    qint64 splitTensorCount = 0;

    // HOME and OLLAMA_MODELS pointing here, nothing else (the XDG defaults follow HOME).
    QProcessEnvironment environment() const;
    // The system environment with every variable the places read replaced by environment()'s.
    QProcessEnvironment processEnvironment() const;
};

// Elements of every tensor of the GGUF file at path, read with the engine's reader.
qint64 tensorElements(const QString& path);

} // namespace folio::test
