#include "engine/session/chat_template.h"
#include "support/shared_data.h"

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace folio {
namespace {

const std::vector<ChatMessage> kConversation{
    {"system", "You are helpful."},
    {"user", "Hi"},
    {"assistant", "Hello!"},
    {"user", "Summarise page 3."},
};

std::string formatted(ChatFamily family, bool addAssistantPrompt = true)
{
    return ChatTemplate::forFamily(family).format(kConversation, addAssistantPrompt);
}

TEST(ChatTemplateTest, Llama2)
{
    EXPECT_EQ(formatted(ChatFamily::Llama2),
              "[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Summarise page 3. [/INST]");
}

TEST(ChatTemplateTest, Llama3)
{
    EXPECT_EQ(formatted(ChatFamily::Llama3),
              "<|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nSummarise page 3.<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplateTest, ChatML)
{
    EXPECT_EQ(formatted(ChatFamily::ChatML),
              "<|im_start|>system\nYou are helpful.<|im_end|>\n"
              "<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\nHello!<|im_end|>\n"
              "<|im_start|>user\nSummarise page 3.<|im_end|>\n"
              "<|im_start|>assistant\n");
    EXPECT_EQ(formatted(ChatFamily::ChatML, false),
              "<|im_start|>system\nYou are helpful.<|im_end|>\n"
              "<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\nHello!<|im_end|>\n"
              "<|im_start|>user\nSummarise page 3.<|im_end|>\n");
}

TEST(ChatTemplateTest, Mistral)
{
    EXPECT_EQ(formatted(ChatFamily::Mistral),
              "[INST] You are helpful.\n\nHi [/INST]Hello!</s>[INST] Summarise page 3. [/INST]");
}

TEST(ChatTemplateTest, Phi3)
{
    EXPECT_EQ(formatted(ChatFamily::Phi3),
              "<|system|>\nYou are helpful.<|end|>\n"
              "<|user|>\nHi<|end|>\n"
              "<|assistant|>\nHello!<|end|>\n"
              "<|user|>\nSummarise page 3.<|end|>\n"
              "<|assistant|>\n");
}

TEST(ChatTemplateTest, Gemma)
{
    EXPECT_EQ(formatted(ChatFamily::Gemma),
              "<start_of_turn>user\nYou are helpful.\n\nHi<end_of_turn>\n"
              "<start_of_turn>model\nHello!<end_of_turn>\n"
              "<start_of_turn>user\nSummarise page 3.<end_of_turn>\n"
              "<start_of_turn>model\n");
}

TEST(ChatTemplateTest, Zephyr)
{
    EXPECT_EQ(formatted(ChatFamily::Zephyr),
              "<|system|>\nYou are helpful.</s>\n"
              "<|user|>\nHi</s>\n"
              "<|assistant|>\nHello!</s>\n"
              "<|user|>\nSummarise page 3.</s>\n"
              "<|assistant|>\n");
}

TEST(ChatTemplateTest, Plain)
{
    EXPECT_EQ(formatted(ChatFamily::Plain),
              "You are helpful.\n\nUser: Hi\nAssistant: Hello!\nUser: Summarise page 3.\nAssistant:");
}

TEST(ChatTemplateTest, TrimsWhereThePublishedTemplateDoes)
{
    const std::vector<ChatMessage> messages{{"user", "  padded \n"}};
    EXPECT_EQ(ChatTemplate::forFamily(ChatFamily::Llama3).format(messages, false),
              "<|start_header_id|>user<|end_header_id|>\n\npadded<|eot_id|>");
    EXPECT_EQ(ChatTemplate::forFamily(ChatFamily::ChatML).format(messages, false),
              "<|im_start|>user\n  padded \n<|im_end|>\n");
}

TEST(ChatTemplateTest, NamesAndStopStrings)
{
    std::set<std::string> names;
    for (ChatFamily f : {ChatFamily::Llama2, ChatFamily::Llama3, ChatFamily::ChatML, ChatFamily::Mistral,
                         ChatFamily::Phi3, ChatFamily::Gemma, ChatFamily::Zephyr, ChatFamily::Qwen3,
                         ChatFamily::Phi4Mini, ChatFamily::Plain}) {
        const auto t = ChatTemplate::forFamily(f);
        names.insert(t.name());
        EXPECT_FALSE(t.stopStrings().empty()) << t.name();
        const auto byName = ChatTemplate::fromName(t.name());
        ASSERT_TRUE(byName.has_value());
        EXPECT_EQ(byName->family(), f);
    }
    EXPECT_EQ(names.size(), 10u);
    EXPECT_FALSE(ChatTemplate::fromName("nonsense").has_value());
    EXPECT_EQ(ChatTemplate::forFamily(ChatFamily::ChatML).stopStrings().front(), "<|im_end|>");
    EXPECT_EQ(ChatTemplate::forFamily(ChatFamily::Llama3).stopStrings().front(), "<|eot_id|>");
}

// Short snippets shaped like the templates the models publish.
struct DetectionCase {
    const char* jinja;
    const char* architecture;
    ChatFamily expected;
};

const DetectionCase kDetectionCases[] = {
    {"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
     "{% set system_message = messages[0]['content'] %}{% endif %}{% for message in loop_messages %}"
     "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
     "'\\n<</SYS>>\\n\\n' + message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
     "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
     "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
     "llama", ChatFamily::Llama2},
    {"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
     "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + "
     "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
     "llama", ChatFamily::Llama3},
    {"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
     "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
     "qwen2", ChatFamily::ChatML},
    {"{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
     "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
     "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are "
     "supported!') }}{% endif %}{% endfor %}",
     "llama", ChatFamily::Mistral},
    {"{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\\n' + message['content'] + "
     "'<|end|>\\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}"
     "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}"
     "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}",
     "phi3", ChatFamily::Phi3},
    {"{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'assistant') %}"
     "{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
     "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
     "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
     "gemma2", ChatFamily::Gemma},
    {"{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + "
     "eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}\n"
     "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n"
     "{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
     "llama", ChatFamily::Zephyr},
};

TEST(ChatTemplateTest, DetectsEachFamilyFromItsJinja)
{
    const auto noTokens = [](std::string_view) { return false; };
    for (const auto& c : kDetectionCases) {
        const auto t = ChatTemplate::detect(c.jinja, c.architecture, noTokens);
        EXPECT_EQ(t.family(), c.expected) << c.jinja;
        EXPECT_EQ(t.description(), chatFamilyDisplayName(c.expected) + " (detected from tokenizer.chat_template)");
    }
}

TEST(ChatTemplateTest, UnknownTemplateFallsBack)
{
    const std::string unknown = "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}";
    const auto plain = ChatTemplate::detect(unknown, "llama", [](std::string_view) { return false; });
    EXPECT_EQ(plain.family(), ChatFamily::Plain);
    EXPECT_EQ(plain.name(), "plain");
    EXPECT_EQ(plain.description(), "Plain (template not recognised; default chosen)");

    const auto chatml = ChatTemplate::detect(unknown, "qwen2",
                                             [](std::string_view token) { return token == "<|im_start|>"; });
    EXPECT_EQ(chatml.family(), ChatFamily::ChatML);
    EXPECT_EQ(chatml.description(), "ChatML (template not recognised; the vocabulary has <|im_start|>)");

    // No template and no vocabulary callback at all.
    const auto none = ChatTemplate::detect("", "llama", nullptr);
    EXPECT_EQ(none.family(), ChatFamily::Plain);
    EXPECT_EQ(none.description(), "Plain (no tokenizer.chat_template; default chosen)");
}

TEST(ChatTemplateTest, MissingTemplateUsesTheVocabulary)
{
    const auto llama3Vocab = [](std::string_view t) { return t == "<|start_header_id|>" || t == "<|eot_id|>"; };
    EXPECT_EQ(ChatTemplate::detect("", "llama", llama3Vocab).family(), ChatFamily::Llama3);
    const auto gemmaVocab = [](std::string_view t) { return t == "<start_of_turn>"; };
    EXPECT_EQ(ChatTemplate::detect("", "gemma", gemmaVocab).family(), ChatFamily::Gemma);
    const auto phiVocab = [](std::string_view t) { return t == "<|end|>"; };
    EXPECT_EQ(ChatTemplate::detect("", "phi3", phiVocab).family(), ChatFamily::Phi3);
}

// The templates the families publish, as found in tokenizer.chat_template
// (tests/data/chat_templates). The expected prompts below are what Jinja renders
// from them (transformers' settings, empty bos_token: the caller adds BOS).
std::string publishedTemplate(const char* name)
{
    std::ifstream in(test::sourceDir() / "tests/data/chat_templates" / name, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

const std::vector<ChatMessage> kThinkingConversation{
    {"system", "You are helpful."},
    {"user", "Hi"},
    {"assistant", "<think>\nThe user greets.\n</think>\n\nHello!"},
    {"user", "Summarise page 3."},
};

TEST(ChatTemplateTest, DetectsTheNewFamiliesFromTheirPublishedTemplates)
{
    const auto noTokens = [](std::string_view) { return false; };
    const std::pair<const char*, ChatFamily> cases[] = {
        {"qwen3.jinja", ChatFamily::Qwen3},
        {"gemma3.jinja", ChatFamily::Gemma},
        {"phi3.5-mini.jinja", ChatFamily::Phi3},
        {"phi4-mini.jinja", ChatFamily::Phi4Mini},
    };
    for (const auto& [file, family] : cases) {
        const std::string jinja = publishedTemplate(file);
        ASSERT_FALSE(jinja.empty()) << file;
        const auto t = ChatTemplate::detect(jinja, "", noTokens);
        EXPECT_EQ(t.family(), family) << file;
        EXPECT_EQ(t.description(), chatFamilyDisplayName(family) + " (detected from tokenizer.chat_template)");
    }
}

TEST(ChatTemplateTest, Qwen3DropsOldReasoning)
{
    const ChatTemplate qwen3 = ChatTemplate::forFamily(ChatFamily::Qwen3);
    EXPECT_EQ(qwen3.format(kThinkingConversation, true),
              "<|im_start|>system\nYou are helpful.<|im_end|>\n"
              "<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\nHello!<|im_end|>\n"
              "<|im_start|>user\nSummarise page 3.<|im_end|>\n"
              "<|im_start|>assistant\n");
    EXPECT_EQ(qwen3.stopStrings().front(), "<|im_end|>");
}

TEST(ChatTemplateTest, Qwen3ThinkingOff)
{
    ChatTemplate qwen3 = ChatTemplate::forFamily(ChatFamily::Qwen3);
    EXPECT_TRUE(qwen3.canTurnOffThinking());
    EXPECT_TRUE(qwen3.thinking());
    qwen3.setThinking(false);
    EXPECT_FALSE(qwen3.thinking());
    // As enable_thinking=false renders: an empty block opens the answer.
    EXPECT_EQ(qwen3.format(kThinkingConversation, true),
              "<|im_start|>system\nYou are helpful.<|im_end|>\n"
              "<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\nHello!<|im_end|>\n"
              "<|im_start|>user\nSummarise page 3.<|im_end|>\n"
              "<|im_start|>assistant\n<think>\n\n</think>\n\n");
    // Without a generation prompt nothing is added.
    EXPECT_EQ(qwen3.format({{"user", "Hi"}}, false), "<|im_start|>user\nHi<|im_end|>\n");

    // Families whose template cannot turn it off ignore the switch.
    ChatTemplate chatml = ChatTemplate::forFamily(ChatFamily::ChatML);
    EXPECT_FALSE(chatml.canTurnOffThinking());
    chatml.setThinking(false);
    EXPECT_TRUE(chatml.thinking());
    EXPECT_EQ(chatml.format({{"user", "Hi"}}, true), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, Qwen3KeepsTheReasoningOfTheTurnInProgress)
{
    // An assistant turn after the last user message is the one being written:
    // its reasoning stays, reformatted as the template writes it.
    const ChatTemplate qwen3 = ChatTemplate::forFamily(ChatFamily::Qwen3);
    EXPECT_EQ(qwen3.format({{"user", "Hi"}, {"assistant", "<think>\nreasoning\n</think>\n\nPartial"}}, false),
              "<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\n<think>\nreasoning\n</think>\n\nPartial<|im_end|>\n");
    // The last message even gets an empty block when it has none.
    EXPECT_EQ(qwen3.format({{"user", "Hi"}, {"assistant", "Partial"}}, false),
              "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nPartial<|im_end|>\n");
}

TEST(ChatTemplateTest, Gemma3FoldsTheSystemTextIntoTheFirstUserTurn)
{
    // Gemma 3 has no system role and keeps an assistant message as given.
    EXPECT_EQ(ChatTemplate::forFamily(ChatFamily::Gemma).format(kThinkingConversation, true),
              "<start_of_turn>user\nYou are helpful.\n\nHi<end_of_turn>\n"
              "<start_of_turn>model\n<think>\nThe user greets.\n</think>\n\nHello!<end_of_turn>\n"
              "<start_of_turn>user\nSummarise page 3.<end_of_turn>\n"
              "<start_of_turn>model\n");
}

TEST(ChatTemplateTest, Phi35AndPhi4Mini)
{
    EXPECT_EQ(ChatTemplate::forFamily(ChatFamily::Phi3).format(kThinkingConversation, true),
              "<|system|>\nYou are helpful.<|end|>\n"
              "<|user|>\nHi<|end|>\n"
              "<|assistant|>\n<think>\nThe user greets.\n</think>\n\nHello!<|end|>\n"
              "<|user|>\nSummarise page 3.<|end|>\n"
              "<|assistant|>\n");
    // Phi-3.5 writes no empty system message.
    EXPECT_EQ(ChatTemplate::forFamily(ChatFamily::Phi3).format({{"system", ""}, {"user", "Hi"}}, true),
              "<|user|>\nHi<|end|>\n<|assistant|>\n");
    EXPECT_EQ(ChatTemplate::forFamily(ChatFamily::Phi4Mini).format(kThinkingConversation, true),
              "<|system|>You are helpful.<|end|><|user|>Hi<|end|>"
              "<|assistant|><think>\nThe user greets.\n</think>\n\nHello!<|end|>"
              "<|user|>Summarise page 3.<|end|><|assistant|>");
    EXPECT_EQ(ChatTemplate::fromName("phi4-mini")->family(), ChatFamily::Phi4Mini);
    EXPECT_EQ(ChatTemplate::fromName("qwen3")->family(), ChatFamily::Qwen3);
}

TEST(ChatTemplateTest, Qwen3WithoutATemplate)
{
    const auto qwenVocab = [](std::string_view t) { return t == "<|im_start|>" || t == "<think>"; };
    const auto byVocab = ChatTemplate::detect("", "qwen2", qwenVocab);
    EXPECT_EQ(byVocab.family(), ChatFamily::Qwen3);
    EXPECT_EQ(byVocab.description(), "Qwen3 (no tokenizer.chat_template; the vocabulary has <|im_start|> and <think>)");
    const auto chatmlVocab = [](std::string_view t) { return t == "<|im_start|>"; };
    const auto byArchitecture = ChatTemplate::detect("", "qwen3moe", chatmlVocab);
    EXPECT_EQ(byArchitecture.family(), ChatFamily::Qwen3);
    EXPECT_EQ(byArchitecture.description(),
              "Qwen3 (no tokenizer.chat_template; the vocabulary has <|im_start|> and architecture qwen3moe)");
    EXPECT_EQ(ChatTemplate::detect("", "qwen2", chatmlVocab).family(), ChatFamily::ChatML);
}

} // namespace
} // namespace folio
