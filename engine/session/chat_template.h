// Turning a conversation into prompt text in the format a model was tuned on.
// We do not run the GGUF's Jinja template; we recognise which well-known family
// it is and write that family's format in code.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace folio {

struct ChatMessage {
    std::string role;     // "system", "user", "assistant" ("model" is read as "assistant")
    std::string content;
};

// Qwen3 is ChatML with a <think> block before each answer; Phi4Mini is Phi-3's
// tags without the newline after each.
enum class ChatFamily { Llama2, Llama3, ChatML, Mistral, Phi3, Gemma, Zephyr, Qwen3, Phi4Mini, Plain };

class ChatTemplate {
public:
    // Detect the family from the GGUF `tokenizer.chat_template` Jinja text (may
    // be empty) and the architecture. When the text is missing or unknown, the
    // vocabulary decides (<|im_start|> with <think> or a qwen3 architecture ->
    // Qwen3, <|im_start|> -> ChatML, Llama 3 header tokens -> Llama3,
    // <start_of_turn> -> Gemma, phi3 with <|end|> -> Phi3), else Plain;
    // description() says which way it was chosen. vocabHasToken may be empty.
    static ChatTemplate detect(std::string_view jinjaTemplate, std::string_view architecture,
                               const std::function<bool(std::string_view)>& vocabHasToken);
    static ChatTemplate forFamily(ChatFamily family);
    // By name() ("llama3", "chatml", ...), for a user's explicit choice.
    static std::optional<ChatTemplate> fromName(std::string_view name);

    ChatFamily family() const { return family_; }
    std::string name() const;          // "llama3", "chatml", ...
    std::string description() const;   // e.g. "ChatML (detected from tokenizer.chat_template)"

    // The prompt text with special tokens written as text (tokenize it with
    // parseSpecial=true). BOS is not written: the caller adds it from the
    // tokenizer's add_bos flag. addAssistantPrompt opens the assistant turn.
    // Families without a system role fold system text into the next user turn.
    // Qwen3 drops the <think> block of assistant turns before the last user
    // message (the model never sees old reasoning), and with thinking off
    // opens the answer with an empty block, as enable_thinking=false does.
    std::string format(const std::vector<ChatMessage>& messages, bool addAssistantPrompt) const;

    // Whether the model may reason first. Only a family whose template can turn
    // it off (Qwen3) honours false; for the others setThinking() changes nothing.
    bool canTurnOffThinking() const { return family_ == ChatFamily::Qwen3; }
    void setThinking(bool enabled) { thinking_ = enabled; }
    bool thinking() const { return thinking_ || !canTurnOffThinking(); }

    // Texts that end the assistant's turn in this family (the caller also stops
    // on the model's end-of-generation tokens).
    std::vector<std::string> stopStrings() const;

private:
    ChatTemplate(ChatFamily family, std::string description);

    ChatFamily family_;
    std::string description_;
    bool thinking_ = true;
};

// Display name of a family: "Llama 2", "ChatML", "Phi-3", ...
std::string chatFamilyDisplayName(ChatFamily family);

} // namespace folio
