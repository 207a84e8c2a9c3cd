// Small vocabularies written as GGUF files for the tokenizer tests that must
// run without ../shared.
#pragma once

#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/tokenizer/tokenizer.h"

#include <filesystem>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

namespace folio::test {

// Writes the GGUF to a temporary file, opens it, and removes the file again
// (the reader keeps its mapping).
inline GgufFile openWritten(const GgufWriter& writer)
{
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const auto path = std::filesystem::temp_directory_path()
        / ("folio-tok-" + std::to_string(::getpid()) + "-" + info->name() + ".gguf");
    writer.write(path.string());
    GgufFile file = GgufFile::open(path.string());
    std::filesystem::remove(path);
    return file;
}

inline Tokenizer tokenizerFrom(const GgufWriter& writer)
{
    const GgufFile file = openWritten(writer);
    return Tokenizer::fromGguf(file);
}

} // namespace folio::test
