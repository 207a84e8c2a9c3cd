#include "engine/session/chat_template.h"

#include <array>
#include <utility>

namespace folio {

namespace {

struct FamilyNames {
    ChatFamily family;
    const char* name;
    const char* displayName;
};

constexpr std::array<FamilyNames, 10> kFamilies{{
    {ChatFamily::Llama2, "llama2", "Llama 2"},
    {ChatFamily::Llama3, "llama3", "Llama 3"},
    {ChatFamily::ChatML, "chatml", "ChatML"},
    {ChatFamily::Mistral, "mistral", "Mistral"},
    {ChatFamily::Phi3, "phi3", "Phi-3"},
    {ChatFamily::Gemma, "gemma", "Gemma"},
    {ChatFamily::Zephyr, "zephyr", "Zephyr"},
    {ChatFamily::Qwen3, "qwen3", "Qwen3"},
    {ChatFamily::Phi4Mini, "phi4-mini", "Phi-4-mini"},
    {ChatFamily::Plain, "plain", "Plain"},
}};

const FamilyNames& namesOf(ChatFamily family)
{
    for (const auto& f : kFamilies)
        if (f.family == family)
            return f;
    return kFamilies.back();
}

bool contains(std::string_view text, std::string_view needle)
{
    return text.find(needle) != std::string_view::npos;
}

// Appends pieces in one go (also sidesteps a GCC 12 -Wrestrict false positive
// on `"literal" + std::string&&`).
template <typename... Pieces>
void append(std::string& out, const Pieces&... pieces)
{
    (out.append(std::string_view(pieces)), ...);
}

template <typename... Pieces>
std::string concat(const Pieces&... pieces)
{
    std::string out;
    append(out, pieces...);
    return out;
}

// The published Llama 2/3 and Gemma templates strip each message; the others do not.
std::string_view trimmed(std::string_view s)
{
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    const size_t first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos)
        return {};
    const size_t last = s.find_last_not_of(kSpace);
    return s.substr(first, last - first + 1);
}

enum class Role { System, User, Assistant, Other };

Role roleOf(const ChatMessage& m)
{
    if (m.role == "system")
        return Role::System;
    if (m.role == "user")
        return Role::User;
    if (m.role == "assistant" || m.role == "model")
        return Role::Assistant;
    return Role::Other;
}

// Families with a header per message: the role is written as text.
std::string formatTagged(const std::vector<ChatMessage>& messages, bool addAssistantPrompt, ChatFamily family)
{
    std::string out;
    for (const ChatMessage& m : messages) {
        const std::string role = roleOf(m) == Role::Assistant ? std::string("assistant") : m.role;
        switch (family) {
        case ChatFamily::Llama3:
            append(out, "<|start_header_id|>", role, "<|end_header_id|>\n\n", trimmed(m.content), "<|eot_id|>");
            break;
        case ChatFamily::ChatML:
            append(out, "<|im_start|>", role, "\n", m.content, "<|im_end|>\n");
            break;
        case ChatFamily::Phi3:
            // Phi-3.5 skips an empty system message.
            if (!(roleOf(m) == Role::System && m.content.empty()))
                append(out, "<|", role, "|>\n", m.content, "<|end|>\n");
            break;
        case ChatFamily::Phi4Mini:
            append(out, "<|", role, "|>", m.content, "<|end|>");
            break;
        default:  // Zephyr
            append(out, "<|", role, "|>\n", m.content, "</s>\n");
            break;
        }
    }
    if (addAssistantPrompt) {
        switch (family) {
        case ChatFamily::Llama3: out += "<|start_header_id|>assistant<|end_header_id|>\n\n"; break;
        case ChatFamily::ChatML: out += "<|im_start|>assistant\n"; break;
        case ChatFamily::Phi4Mini: out += "<|assistant|>"; break;
        default: out += "<|assistant|>\n"; break;  // Phi3, Zephyr
        }
    }
    return out;
}

// Families without a system role (Llama 2, Mistral, Gemma): system text is
// folded into the next user turn, as their published templates do.
std::string formatFolded(const std::vector<ChatMessage>& messages, bool addAssistantPrompt, ChatFamily family)
{
    std::string out;
    std::string pendingSystem;
    bool firstUserTurn = true;
    for (const ChatMessage& m : messages) {
        const Role role = roleOf(m);
        if (role == Role::System) {
            if (!pendingSystem.empty())
                pendingSystem += "\n\n";
            // Gemma 3 puts its system text in as given; Llama 2 strips it.
            pendingSystem += family == ChatFamily::Llama2 ? trimmed(m.content) : std::string_view(m.content);
            continue;
        }
        if (role == Role::Assistant) {
            switch (family) {
            case ChatFamily::Llama2: append(out, " ", trimmed(m.content), " </s>"); break;
            case ChatFamily::Mistral: append(out, m.content, "</s>"); break;
            default: append(out, "<start_of_turn>model\n", trimmed(m.content), "<end_of_turn>\n"); break;
            }
            continue;
        }
        // User (or an unknown role, read as user).
        std::string content = family == ChatFamily::Mistral ? m.content : std::string(trimmed(m.content));
        if (!pendingSystem.empty()) {
            if (family == ChatFamily::Llama2)
                content = concat("<<SYS>>\n", pendingSystem, "\n<</SYS>>\n\n", content);
            else
                content = concat(pendingSystem, "\n\n", content);
            pendingSystem.clear();
        }
        switch (family) {
        case ChatFamily::Llama2:
            // Each later turn restarts with BOS; the first one's BOS is the caller's.
            append(out, firstUserTurn ? "" : "<s>", "[INST] ", content, " [/INST]");
            break;
        case ChatFamily::Mistral: append(out, "[INST] ", content, " [/INST]"); break;
        default: append(out, "<start_of_turn>user\n", content, "<end_of_turn>\n"); break;
        }
        firstUserTurn = false;
    }
    // Llama 2 and Mistral open the assistant turn with [/INST] already.
    if (addAssistantPrompt && family == ChatFamily::Gemma)
        out += "<start_of_turn>model\n";
    return out;
}

std::string_view stripped(std::string_view s, bool front, bool back)
{
    while (front && !s.empty() && s.front() == '\n')
        s.remove_prefix(1);
    while (back && !s.empty() && s.back() == '\n')
        s.remove_suffix(1);
    return s;
}

// Qwen3's template: ChatML, where an assistant message's "<think>...</think>"
// is cut off, and written back (reformatted) only for a turn after the last
// user message, the one the model is still answering.
std::string formatQwen3(const std::vector<ChatMessage>& messages, bool addAssistantPrompt, bool thinking)
{
    std::size_t lastQuery = messages.empty() ? 0 : messages.size() - 1;
    for (std::size_t i = messages.size(); i-- > 0;) {
        if (roleOf(messages[i]) == Role::User) {
            lastQuery = i;
            break;
        }
    }
    std::string out;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        if (roleOf(m) != Role::Assistant) {
            append(out, "<|im_start|>", m.role, "\n", m.content, "<|im_end|>\n");
            continue;
        }
        std::string_view answer = m.content;
        std::string_view reasoning;
        if (const std::size_t close = answer.rfind("</think>"); close != std::string_view::npos) {
            const std::string_view before = answer.substr(0, answer.find("</think>"));
            const std::size_t open = before.rfind("<think>");
            reasoning = stripped(open == std::string_view::npos ? before : before.substr(open + 7), true, true);
            answer = stripped(answer.substr(close + 8), true, false);
        }
        const bool current = i > lastQuery;
        if (current && (i + 1 == messages.size() || !reasoning.empty()))
            append(out, "<|im_start|>assistant\n<think>\n", reasoning, "\n</think>\n\n", stripped(answer, true, false));
        else
            append(out, "<|im_start|>assistant\n", answer);
        out += "<|im_end|>\n";
    }
    if (addAssistantPrompt) {
        out += "<|im_start|>assistant\n";
        if (!thinking)
            out += "<think>\n\n</think>\n\n";
    }
    return out;
}

std::string formatPlain(const std::vector<ChatMessage>& messages, bool addAssistantPrompt)
{
    std::string out;
    for (const ChatMessage& m : messages) {
        switch (roleOf(m)) {
        case Role::System: append(out, m.content, "\n\n"); break;
        case Role::Assistant: append(out, "Assistant: ", m.content, "\n"); break;
        default: append(out, "User: ", m.content, "\n"); break;
        }
    }
    if (addAssistantPrompt)
        out += "Assistant:";
    return out;
}

// Characteristic substrings of the published templates, most specific first.
std::optional<ChatFamily> familyFromJinja(std::string_view jinja)
{
    if (jinja.empty())
        return std::nullopt;
    if (contains(jinja, "<|im_start|>"))
        return contains(jinja, "<think>") || contains(jinja, "enable_thinking") ? ChatFamily::Qwen3 : ChatFamily::ChatML;
    if (contains(jinja, "<|start_header_id|>"))
        return ChatFamily::Llama3;
    if (contains(jinja, "<start_of_turn>"))
        return ChatFamily::Gemma;
    if (contains(jinja, "<|user|>") || contains(jinja, "<|assistant|>")) {
        if (!contains(jinja, "<|end|>"))
            return ChatFamily::Zephyr;
        // Phi-3 writes a newline after each role tag ('\n' in the Jinja
        // source); Phi-4-mini writes the text right after it.
        const bool newlineAfterTag = contains(jinja, "|>\\n") || contains(jinja, "|>' + '\\n'")
            || contains(jinja, "|>\n");
        return newlineAfterTag ? ChatFamily::Phi3 : ChatFamily::Phi4Mini;
    }
    if (contains(jinja, "[INST]"))
        return contains(jinja, "<<SYS>>") ? ChatFamily::Llama2 : ChatFamily::Mistral;
    return std::nullopt;
}

} // namespace

ChatTemplate::ChatTemplate(ChatFamily family, std::string description)
    : family_(family), description_(std::move(description))
{
}

std::string chatFamilyDisplayName(ChatFamily family) { return namesOf(family).displayName; }

ChatTemplate ChatTemplate::forFamily(ChatFamily family)
{
    return ChatTemplate(family, concat(chatFamilyDisplayName(family), " (chosen explicitly)"));
}

std::optional<ChatTemplate> ChatTemplate::fromName(std::string_view name)
{
    for (const auto& f : kFamilies)
        if (name == f.name)
            return forFamily(f.family);
    return std::nullopt;
}

ChatTemplate ChatTemplate::detect(std::string_view jinjaTemplate, std::string_view architecture,
                                  const std::function<bool(std::string_view)>& vocabHasToken)
{
    if (auto family = familyFromJinja(jinjaTemplate))
        return ChatTemplate(*family, concat(chatFamilyDisplayName(*family), " (detected from tokenizer.chat_template)"));

    const std::string why = jinjaTemplate.empty() ? "no tokenizer.chat_template" : "template not recognised";
    const auto has = [&](std::string_view token) { return vocabHasToken && vocabHasToken(token); };
    const bool qwen3 = architecture == "qwen3" || architecture == "qwen3moe";
    if (has("<|im_start|>") && (qwen3 || has("<think>")))
        return ChatTemplate(ChatFamily::Qwen3, concat("Qwen3 (", why, "; the vocabulary has <|im_start|> and ",
                                                      qwen3 ? "architecture " : "", qwen3 ? architecture : "<think>", ")"));
    if (has("<|im_start|>"))
        return ChatTemplate(ChatFamily::ChatML, concat("ChatML (", why, "; the vocabulary has <|im_start|>)"));
    if (has("<|start_header_id|>") && has("<|eot_id|>"))
        return ChatTemplate(ChatFamily::Llama3,
                            concat("Llama 3 (", why, "; the vocabulary has the Llama 3 header tokens)"));
    if (has("<start_of_turn>"))
        return ChatTemplate(ChatFamily::Gemma, concat("Gemma (", why, "; the vocabulary has <start_of_turn>)"));
    if (architecture == "phi3" && has("<|end|>"))
        return ChatTemplate(ChatFamily::Phi3, concat("Phi-3 (", why, "; architecture phi3)"));
    return ChatTemplate(ChatFamily::Plain, concat("Plain (", why, "; default chosen)"));
}

std::string ChatTemplate::name() const { return namesOf(family_).name; }

std::string ChatTemplate::description() const { return description_; }

std::string ChatTemplate::format(const std::vector<ChatMessage>& messages, bool addAssistantPrompt) const
{
    switch (family_) {
    case ChatFamily::Llama3:
    case ChatFamily::ChatML:
    case ChatFamily::Phi3:
    case ChatFamily::Phi4Mini:
    case ChatFamily::Zephyr: return formatTagged(messages, addAssistantPrompt, family_);
    case ChatFamily::Qwen3: return formatQwen3(messages, addAssistantPrompt, thinking());
    case ChatFamily::Llama2:
    case ChatFamily::Mistral:
    case ChatFamily::Gemma: return formatFolded(messages, addAssistantPrompt, family_);
    case ChatFamily::Plain: break;
    }
    return formatPlain(messages, addAssistantPrompt);
}

std::vector<std::string> ChatTemplate::stopStrings() const
{
    switch (family_) {
    case ChatFamily::Llama2:
    case ChatFamily::Mistral: return {"</s>", "[INST]"};
    case ChatFamily::Llama3: return {"<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>"};
    case ChatFamily::ChatML:
    case ChatFamily::Qwen3: return {"<|im_end|>", "<|im_start|>", "<|endoftext|>"};
    case ChatFamily::Phi3:
    case ChatFamily::Phi4Mini: return {"<|end|>", "<|endoftext|>", "<|user|>"};
    case ChatFamily::Gemma: return {"<end_of_turn>", "<start_of_turn>"};
    case ChatFamily::Zephyr: return {"</s>", "<|user|>"};
    case ChatFamily::Plain: break;
    }
    return {"\nUser:"};
}

} // namespace folio
