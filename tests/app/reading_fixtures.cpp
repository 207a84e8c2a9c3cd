#include "reading_fixtures.h"

#include "tests/engine/test_models.h"

#include <QFile>

namespace folio::test {

ReadingFixture::ReadingFixture()
{
    TinyModelSpec spec;
    spec.type = GgmlType::F32;
    spec.contextLength = 4096;  // plain RoPE for these lengths: no extension needed
    model = QString::fromStdString(writeTinyModel(spec, dir.filePath(QStringLiteral("tiny.gguf")).toStdString()));
    database = dir.filePath(QStringLiteral("folio.sqlite"));
}

QString ReadingFixture::writeDocument(const QString& name, int pages, int seed)
{
    const QString path = dir.filePath(name);
    QFile file(path);
    file.open(QIODevice::WriteOnly | QIODevice::Truncate);
    QByteArray text;
    unsigned state = static_cast<unsigned>(seed) * 2654435761u + 1;
    for (int p = 0; p < pages; ++p) {
        for (int w = 0; w < 32; ++w) {
            state = state * 1103515245u + 12345u;
            const int length = 2 + static_cast<int>((state >> 16) % 5);
            for (int c = 0; c < length; ++c)
                text += char('a' + (state >> (c + 3)) % 26);
            text += ' ';
        }
        text += "\n\n";
    }
    file.write(text);
    return path;
}

ReadingOptions ReadingFixture::options() const
{
    ReadingOptions o;
    o.documents.textPageChars = 160;
    o.batchSize = 64;
    o.threads = 2;
    o.conversationRoom = 256;
    o.maxAnswerTokens = 12;
    o.availableBytes = std::size_t{1} << 32;  // the plan never depends on the machine
    return o;
}

} // namespace folio::test
