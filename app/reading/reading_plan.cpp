#include "app/reading/reading_plan.h"

#include "app/reading/prompt_builder.h"
#include "engine/model/model.h"
#include "engine/session/chat_template.h"
#include "engine/tokenizer/tokenizer.h"

namespace folio {

namespace {

ExtensionMethod methodFor(const ReadingOptions& o)
{
    if (o.dca.enabled)
        return ExtensionMethod::Dca;
    if (!o.rope.scaling)
        return o.method;
    switch (*o.rope.scaling) {
    case RopeScaling::None: return ExtensionMethod::None;
    case RopeScaling::Linear: return ExtensionMethod::Linear;
    case RopeScaling::Ntk: return ExtensionMethod::Ntk;
    case RopeScaling::Yarn: return ExtensionMethod::Yarn;
    }
    return o.method;
}

template <typename T>
void overrideIfSet(std::optional<T>& into, const std::optional<T>& user)
{
    if (user)
        into = user;
}

} // namespace

int readingPromptTokens(const Model& model, const Document& document)
{
    const Tokenizer& tok = model.tokenizer();
    ChatTemplate chat = ChatTemplate::detect(model.file().getString("tokenizer.chat_template").value_or(""),
                                             model.params().architecture,
                                             [&](std::string_view piece) { return tok.findToken(piece).has_value(); });
    const PromptBuilder builder(tok, std::move(chat));
    return static_cast<int>(builder.documentPrompt(document).tokens.size());
}

int plannedContextTokens(int promptTokens, const ReadingOptions& options)
{
    return options.contextLength.value_or(promptTokens + options.conversationRoom);
}

ContextPlan planReading(const Model& model, int promptTokens, const ReadingOptions& options)
{
    PlanRequest request;
    request.tokens = plannedContextTokens(promptTokens, options);
    request.method = methodFor(options);
    request.kvType = options.kvType;
    request.batchSize = options.batchSize;
    request.availableBytes = options.availableBytes;
    request.threads = options.threads;
    ContextPlan plan = planContext(model, request);
    SessionOptions& o = plan.options;
    if (options.dca.enabled)
        o.dca = options.dca;
    RopeOverrides& r = o.rope;
    const RopeOverrides& u = options.rope;
    overrideIfSet(r.scaling, u.scaling);
    overrideIfSet(r.scale, u.scale);
    overrideIfSet(r.freqBase, u.freqBase);
    overrideIfSet(r.yarnOriginalContext, u.yarnOriginalContext);
    overrideIfSet(r.yarnExtFactor, u.yarnExtFactor);
    overrideIfSet(r.yarnAttnFactor, u.yarnAttnFactor);
    overrideIfSet(r.yarnBetaFast, u.yarnBetaFast);
    overrideIfSet(r.yarnBetaSlow, u.yarnBetaSlow);
    o.threads = options.threads;
    if (options.batchSize > 0)
        o.batchSize = options.batchSize;
    return plan;
}

} // namespace folio
