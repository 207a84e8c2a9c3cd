// The context options shared by folio-cli's model commands (logits, perplexity,
// generate, ask, plan): context length, RoPE scaling overrides, Dual Chunk
// Attention, KV cache type and micro-batch size, parsed in one place.
#pragma once

#include "engine/session/session.h"

#include <QCommandLineParser>

namespace folio::cli {

// Registers --ctx (unless the command defines its own), --rope-scaling, --rope-scale,
// --rope-base, --yarn-*, --dca, --dca-chunk, --dca-window, --dca-temperature,
// --kv-type, --ubatch.
void addContextOptions(QCommandLineParser& parser, bool withCtx = true);

// Applies the options that were given to `options`; throws std::invalid_argument
// naming the option on a bad value. With withCtx, a given --ctx sets the context length.
void applyContextOptions(const QCommandLineParser& parser, SessionOptions& options, bool withCtx = true);

// True when any RoPE-scaling or DCA option was given.
bool extensionRequested(const QCommandLineParser& parser);

} // namespace folio::cli
