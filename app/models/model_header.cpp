#include "app/models/model_header.h"

#include "app/models/split_name.h"

#include "engine/gguf/gguf.h"
#include "engine/model/family.h"

#include <QFileInfo>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

namespace folio {

QString fileTypeName(qint64 fileType)
{
    // llama.cpp's llama_ftype numbering; the holes are types it removed.
    static const std::map<qint64, const char*> names{
        {0, "F32"}, {1, "F16"}, {2, "Q4_0"}, {3, "Q4_1"}, {7, "Q8_0"}, {8, "Q5_0"}, {9, "Q5_1"},
        {10, "Q2_K"}, {11, "Q3_K_S"}, {12, "Q3_K_M"}, {13, "Q3_K_L"}, {14, "Q4_K_S"}, {15, "Q4_K_M"},
        {16, "Q5_K_S"}, {17, "Q5_K_M"}, {18, "Q6_K"}, {19, "IQ2_XXS"}, {20, "IQ2_XS"}, {21, "Q2_K_S"},
        {22, "IQ3_XS"}, {23, "IQ3_XXS"}, {24, "IQ1_S"}, {25, "IQ4_NL"}, {26, "IQ3_S"}, {27, "IQ3_M"},
        {28, "IQ2_S"}, {29, "IQ2_M"}, {30, "IQ4_XS"}, {31, "IQ1_M"}, {32, "BF16"}, {36, "TQ1_0"},
        {37, "TQ2_0"}, {38, "MXFP4_MOE"}};
    const auto it = names.find(fileType);
    return it == names.end() ? QString() : QString::fromLatin1(it->second);
}

namespace {

// The reader's messages start with the path, which the list shows already.
QString withoutPath(const std::string& message, const QString& path)
{
    QString text = QString::fromStdString(message);
    const QString prefix = path + QStringLiteral(": ");
    return text.startsWith(prefix) ? text.mid(prefix.size()) : text;
}

QString stem(const QString& path)
{
    QString name = QFileInfo(path).fileName();
    if (const std::optional<SplitName> split = parseSplitName(name))
        return split->prefix;
    if (name.endsWith(QLatin1String(".gguf"), Qt::CaseInsensitive))
        name.chop(5);
    return name;
}

// Why the engine cannot run these headers, or empty. The family list is the
// engine's own (describeFamily), so a family it learns shows up here unchanged.
QString unsupportedReason(const GgufFile& first, const std::vector<GgufFile>& files, int totalParts)
{
    const std::string arch = first.architecture();
    if (arch.empty())
        return QStringLiteral("the file names no architecture (general.architecture)");
    // LM Studio and Hugging Face repos keep a vision model's image encoder (mmproj-*.gguf)
    // beside its language model: say what it is rather than "unsupported architecture".
    if (arch == "clip")
        return QStringLiteral("an image encoder (mmproj) for a vision model, not a language model");
    try {
        describeFamily(first, arch);
    } catch (const std::invalid_argument& e) {
        return QString::fromStdString(e.what());
    }
    const bool noWeights = std::all_of(files.begin(), files.end(), [](const GgufFile& f) { return f.tensors().empty(); });
    if (noWeights)
        return QStringLiteral("the file holds no weights (a vocabulary only)");
    for (const GgufFile& file : files)
        for (const GgufTensor& t : file.tensors())
            if (!traitsOf(t.type).supported)
                return QStringLiteral("tensor type %1 is not supported (tensor '%2')")
                    .arg(QString::fromLatin1(traitsOf(t.type).name), QString::fromStdString(t.name));
    if (totalParts > 1)
        return QStringLiteral("split into %1 files; Folio loads one-file models (llama-gguf-split --merge joins them)")
            .arg(totalParts);
    return {};
}

// The type most tensor bytes have, as ggml prints it in capitals ("Q4_K").
QString dominantType(const std::vector<GgufFile>& files)
{
    std::map<GgmlType, std::size_t> bytes;
    for (const GgufFile& file : files)
        for (const GgufTensor& t : file.tensors())
            bytes[t.type] += t.nbytes;
    const auto best = std::max_element(bytes.begin(), bytes.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    return best == bytes.end() ? QString() : QString::fromLatin1(traitsOf(best->first).name).toUpper();
}

std::vector<GgufFile> openAll(const QStringList& parts)
{
    std::vector<GgufFile> files;
    for (const QString& part : parts)
        files.push_back(GgufFile::open(part.toStdString()));
    return files;
}

ModelFingerprint fingerprintOf(const std::vector<GgufFile>& files)
{
    ModelFingerprint f;
    f.architecture = QString::fromStdString(files.front().architecture());
    f.name = QString::fromStdString(files.front().getString("general.name").value_or(""));
    for (const GgufFile& file : files)
        f.tensorCount += static_cast<qint64>(file.tensors().size());
    return f;
}

} // namespace

void readModelHeaders(LocalModel& model, int totalParts)
{
    try {
        const std::vector<GgufFile> files = openAll(model.parts);
        if (files.empty())
            throw GgufError("no file");
        const GgufFile& first = files.front();
        const std::string arch = first.architecture();
        model.family = QString::fromStdString(arch);
        model.fingerprint = fingerprintOf(files);
        if (model.name.isEmpty())
            model.name = model.fingerprint.name;
        const std::optional<int64_t> fileType = first.getInt("general.file_type");
        model.type = fileType ? fileTypeName(*fileType) : QString();
        if (model.type.isEmpty())
            model.type = dominantType(files);
        if (!arch.empty())
            model.contextLength = static_cast<int>(first.getInt(arch + ".context_length").value_or(0));
        if (model.incomplete.isEmpty())
            for (const GgufFile& file : files)
                for (const GgufTensor& t : file.tensors())
                    model.parameters += t.elements();
        model.reason = model.incomplete.isEmpty() ? unsupportedReason(first, files, totalParts) : model.incomplete;
    } catch (const GgufError& e) {
        // Which part failed is in the message; strip only the path of the first.
        model.reason = withoutPath(e.what(), model.path);
    }
    if (model.name.isEmpty())
        model.name = stem(model.path);
    model.supported = model.reason.isEmpty();
}

ModelFingerprint readFingerprint(const QStringList& parts)
{
    const std::vector<GgufFile> files = openAll(parts);
    if (files.empty())
        throw GgufError("no file");
    return fingerprintOf(files);
}

} // namespace folio
