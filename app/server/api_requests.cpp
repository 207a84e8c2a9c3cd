#include "app/server/api_requests.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cmath>
#include <limits>
#include <random>

namespace folio::server {

namespace {

constexpr int kMaxStopStrings = 16;

std::string str(const QString& s) { return s.toStdString(); }

const char* typeName(const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::Null: return "null";
    case QJsonValue::Bool: return "a boolean";
    case QJsonValue::Double: return "a number";
    case QJsonValue::String: return "a string";
    case QJsonValue::Array: return "an array";
    case QJsonValue::Object: return "an object";
    case QJsonValue::Undefined: break;
    }
    return "undefined";
}

[[noreturn]] void wrongType(const std::string& field, const char* wanted, const QJsonValue& got)
{
    throw badRequest("'" + field + "' must be " + wanted + ", not " + typeName(got), field);
}

// A field that may be absent or null (both mean "not given", as in OpenAI's API).
std::optional<QJsonValue> field(const QJsonObject& o, const char* name)
{
    const QJsonValue v = o.value(QLatin1String(name));
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    return v;
}

std::optional<bool> boolean(const QJsonObject& o, const char* name)
{
    const auto v = field(o, name);
    if (!v)
        return std::nullopt;
    if (!v->isBool())
        wrongType(name, "a boolean", *v);
    return v->toBool();
}

std::optional<double> number(const QJsonObject& o, const char* name, double lo, double hi)
{
    const auto v = field(o, name);
    if (!v)
        return std::nullopt;
    if (!v->isDouble())
        wrongType(name, "a number", *v);
    const double d = v->toDouble();
    if (!std::isfinite(d) || d < lo || d > hi)
        throw badRequest("'" + std::string(name) + "' must be between " + std::to_string(lo) + " and "
                             + std::to_string(hi),
                         name);
    return d;
}

// JSON numbers are doubles here; an integer field takes only whole values in range.
std::optional<int64_t> integer(const QJsonObject& o, const char* name, int64_t lo, int64_t hi)
{
    const auto v = field(o, name);
    if (!v)
        return std::nullopt;
    if (!v->isDouble())
        wrongType(name, "an integer", *v);
    const double d = v->toDouble();
    if (!std::isfinite(d) || d != std::floor(d))
        throw badRequest("'" + std::string(name) + "' must be an integer", name);
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
        throw badRequest("'" + std::string(name) + "' must be between " + std::to_string(lo) + " and "
                             + std::to_string(hi),
                         name);
    return static_cast<int64_t>(d);
}

std::optional<std::string> string(const QJsonObject& o, const char* name)
{
    const auto v = field(o, name);
    if (!v)
        return std::nullopt;
    if (!v->isString())
        wrongType(name, "a string", *v);
    return str(v->toString());
}

// "content" is a string or, in OpenAI's newer form, an array of parts of which
// the text ones count.
std::string messageContent(const QJsonValue& v, const std::string& where)
{
    if (v.isUndefined() || v.isNull())
        return {};
    if (v.isString())
        return str(v.toString());
    if (!v.isArray())
        wrongType(where, "a string or an array of content parts", v);
    std::string text;
    const QJsonArray parts = v.toArray();
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const std::string at = where + "[" + std::to_string(i) + "]";
        if (!parts[i].isObject())
            wrongType(at, "an object", parts[i]);
        const QJsonObject part = parts[i].toObject();
        const auto type = string(part, "type");
        if (!type || *type != "text")
            throw badRequest("'" + at + ".type' must be \"text\": this server reads text only", at + ".type");
        const auto partText = string(part, "text");
        if (!partText)
            throw badRequest("'" + at + ".text' is required", at + ".text");
        text += *partText;
    }
    return text;
}

std::vector<ChatMessage> parseMessages(const QJsonObject& body)
{
    const auto v = field(body, "messages");
    if (!v)
        throw badRequest("'messages' is required", "messages");
    if (!v->isArray())
        wrongType("messages", "an array", *v);
    const QJsonArray array = v->toArray();
    if (array.isEmpty())
        throw badRequest("'messages' must hold at least one message", "messages");
    std::vector<ChatMessage> messages;
    for (qsizetype i = 0; i < array.size(); ++i) {
        const std::string at = "messages[" + std::to_string(i) + "]";
        if (!array[i].isObject())
            wrongType(at, "an object", array[i]);
        const QJsonObject m = array[i].toObject();
        const QJsonValue role = m.value(QLatin1String("role"));
        if (!role.isString())
            wrongType(at + ".role", "a string", role);
        std::string r = str(role.toString());
        if (r == "developer")  // OpenAI's newer name for the system role
            r = "system";
        if (r != "system" && r != "user" && r != "assistant")
            throw badRequest("'" + at + ".role' must be system, user or assistant, not '" + r + "'", at + ".role");
        messages.push_back({r, messageContent(m.value(QLatin1String("content")), at + ".content")});
    }
    return messages;
}

std::vector<std::string> parseStop(const QJsonObject& body)
{
    const auto v = field(body, "stop");
    if (!v)
        return {};
    if (v->isString())
        return {str(v->toString())};
    if (!v->isArray())
        wrongType("stop", "a string or an array of strings", *v);
    const QJsonArray array = v->toArray();
    if (array.size() > kMaxStopStrings)
        throw badRequest("'stop' takes at most " + std::to_string(kMaxStopStrings) + " strings", "stop");
    std::vector<std::string> stops;
    for (qsizetype i = 0; i < array.size(); ++i) {
        if (!array[i].isString())
            wrongType("stop[" + std::to_string(i) + "]", "a string", array[i]);
        stops.push_back(str(array[i].toString()));
    }
    return stops;
}

GenerationParams parseGeneration(const QJsonObject& body)
{
    GenerationParams p;
    p.model = string(body, "model").value_or("");
    constexpr int64_t kMaxTokensLimit = std::numeric_limits<int>::max();
    if (auto n = integer(body, "max_completion_tokens", 1, kMaxTokensLimit))
        p.maxTokens = static_cast<int>(*n);
    if (auto n = integer(body, "max_tokens", 1, kMaxTokensLimit))
        p.maxTokens = static_cast<int>(*n);
    if (auto n = integer(body, "n", 1, 1); n && *n != 1)
        throw badRequest("'n' must be 1", "n");
    SamplerParams& s = p.sampler;
    s.temperature = static_cast<float>(number(body, "temperature", 0.0, 2.0).value_or(1.0));
    s.topP = static_cast<float>(number(body, "top_p", 0.0, 1.0).value_or(1.0));
    s.topK = static_cast<int>(integer(body, "top_k", -1, std::numeric_limits<int>::max()).value_or(0));
    s.minP = static_cast<float>(number(body, "min_p", 0.0, 1.0).value_or(0.0));
    s.repeatPenalty = static_cast<float>(number(body, "repeat_penalty", 0.01, 10.0).value_or(1.0));
    if (auto seed = integer(body, "seed", std::numeric_limits<int64_t>::min() / 2, std::numeric_limits<int64_t>::max() / 2)) {
        s.seed = static_cast<uint64_t>(*seed);
        p.seedGiven = true;
    } else {
        s.seed = std::random_device{}();  // OpenAI: no seed, no promise of repeatable answers
    }
    p.stop = parseStop(body);
    p.stream = boolean(body, "stream").value_or(false);
    if (auto v = field(body, "stream_options")) {
        if (!v->isObject())
            wrongType("stream_options", "an object", *v);
        p.includeUsage = boolean(v->toObject(), "include_usage").value_or(false);
    }
    p.ignoreEos = boolean(body, "ignore_eos").value_or(false);
    return p;
}

} // namespace

QJsonObject parseJsonObject(const std::string& body)
{
    if (body.empty())
        throw badRequest("the request has no body: send a JSON object");
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromRawData(body.data(), qsizetype(body.size())), &error);
    if (error.error != QJsonParseError::NoError)
        throw badRequest("the body is not valid JSON: " + str(error.errorString()) + " at offset "
                         + std::to_string(error.offset));
    if (!doc.isObject())
        throw badRequest("the body must be a JSON object");
    return doc.object();
}

ChatRequest parseChatRequest(const QJsonObject& body)
{
    ChatRequest r;
    r.messages = parseMessages(body);
    r.params = parseGeneration(body);
    return r;
}

CompletionRequest parseCompletionRequest(const QJsonObject& body)
{
    CompletionRequest r;
    const auto v = field(body, "prompt");
    if (!v)
        throw badRequest("'prompt' is required", "prompt");
    if (v->isString()) {
        r.prompt = str(v->toString());
    } else if (v->isArray()) {
        // One prompt only: an array of one string, or of token ids.
        const QJsonArray array = v->toArray();
        if (array.size() == 1 && array[0].isString()) {
            r.prompt = str(array[0].toString());
        } else {
            r.promptIsTokens = true;
            for (qsizetype i = 0; i < array.size(); ++i) {
                const QJsonValue t = array[i];
                const double d = t.toDouble(-1);
                if (!t.isDouble() || d != std::floor(d) || d < 0 || d > std::numeric_limits<int32_t>::max())
                    throw badRequest("'prompt' must be a string, or an array of one string or of token ids",
                                     "prompt[" + std::to_string(i) + "]");
                r.promptTokens.push_back(static_cast<int32_t>(d));
            }
        }
    } else {
        wrongType("prompt", "a string or an array", *v);
    }
    r.params = parseGeneration(body);
    return r;
}

TokenizeRequest parseTokenizeRequest(const QJsonObject& body)
{
    TokenizeRequest r;
    r.model = string(body, "model").value_or("");
    if (auto content = string(body, "content")) {
        r.text = *content;
        r.addSpecial = boolean(body, "add_special").value_or(false);
    } else if (auto prompt = string(body, "prompt")) {
        r.text = *prompt;
        r.addSpecial = boolean(body, "add_special_tokens").value_or(true);
    } else if (field(body, "messages")) {
        r.messages = parseMessages(body);
        r.fromMessages = true;
        r.addSpecial = boolean(body, "add_special_tokens").value_or(true);
        r.addGenerationPrompt = boolean(body, "add_generation_prompt").value_or(true);
    } else {
        throw badRequest("give 'content', 'prompt' or 'messages'", "content");
    }
    return r;
}

} // namespace folio::server
