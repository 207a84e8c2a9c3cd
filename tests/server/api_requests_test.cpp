// Request parsing and the key comparison, in process.
#include "app/server/api_requests.h"
#include "app/server/api_server.h"

#include <gtest/gtest.h>

using namespace folio::server;

namespace {

int statusOf(const std::string& body, ChatRequest (*parse)(const QJsonObject&) = parseChatRequest)
{
    try {
        parse(parseJsonObject(body));
        return 200;
    } catch (const ApiError& e) {
        return e.status();
    }
}

} // namespace

TEST(ServerRequests, ChatRequestFieldsAndDefaults)
{
    const ChatRequest r = parseChatRequest(parseJsonObject(
        R"({"messages": [{"role": "developer", "content": "S"}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],
            "max_tokens": 12, "temperature": 0, "seed": 5, "stop": "END", "stream": true, "stream_options": {"include_usage": true}})"));
    ASSERT_EQ(r.messages.size(), 2u);
    EXPECT_EQ(r.messages[0].role, "system");
    EXPECT_EQ(r.messages[1].content, "ab");
    EXPECT_EQ(r.params.maxTokens, 12);
    EXPECT_EQ(r.params.sampler.temperature, 0.0f);
    EXPECT_EQ(r.params.sampler.seed, 5u);
    EXPECT_EQ(r.params.stop, std::vector<std::string>{"END"});
    EXPECT_TRUE(r.params.stream);
    EXPECT_TRUE(r.params.includeUsage);

    const ChatRequest d = parseChatRequest(parseJsonObject(R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": null})"));
    EXPECT_FALSE(d.params.maxTokens);
    EXPECT_EQ(d.params.sampler.temperature, 1.0f);  // OpenAI's default
    EXPECT_EQ(d.params.sampler.repeatPenalty, 1.0f);
}

TEST(ServerRequests, MistypedFieldsAre400)
{
    EXPECT_EQ(statusOf(""), 400);
    EXPECT_EQ(statusOf("nul"), 400);
    EXPECT_EQ(statusOf(R"({"messages": []})"), 400);
    EXPECT_EQ(statusOf(R"({"messages": [{"role": "user", "content": 3}]})"), 400);
    EXPECT_EQ(statusOf(R"({"messages": [{"role": "user", "content": "x"}], "n": 2})"), 400);
    EXPECT_EQ(statusOf(R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})"), 400);
    EXPECT_EQ(statusOf(R"({"messages": [{"role": "user", "content": "x"}], "stream": "yes"})"), 400);
    EXPECT_EQ(statusOf(R"({"messages": [{"role": "user", "content": "x"}], "seed": 1e300})"), 400);
    EXPECT_EQ(statusOf(R"({"messages": [{"role": "user", "content": "x"}], "presence_penalty": 0})"), 200);  // ignored
}

TEST(ServerRequests, TokenizeShapes)
{
    const TokenizeRequest llama = parseTokenizeRequest(parseJsonObject(R"({"content": "hi"})"));
    EXPECT_EQ(llama.text, "hi");
    EXPECT_FALSE(llama.addSpecial);
    const TokenizeRequest vllm = parseTokenizeRequest(parseJsonObject(R"({"prompt": "hi"})"));
    EXPECT_TRUE(vllm.addSpecial);
    const TokenizeRequest chat = parseTokenizeRequest(parseJsonObject(R"({"messages": [{"role": "user", "content": "x"}]})"));
    EXPECT_TRUE(chat.fromMessages);
    EXPECT_THROW(parseTokenizeRequest(parseJsonObject("{}")), ApiError);
}

TEST(ServerRequests, KeysAndHosts)
{
    EXPECT_TRUE(constantTimeEquals("Bearer abc", "Bearer abc"));
    EXPECT_FALSE(constantTimeEquals("Bearer abd", "Bearer abc"));
    EXPECT_FALSE(constantTimeEquals("Bearer ab", "Bearer abc"));
    EXPECT_FALSE(constantTimeEquals("Bearer abcc", "Bearer abc"));
    EXPECT_FALSE(constantTimeEquals("", "Bearer abc"));
    EXPECT_TRUE(isLoopbackHost("127.0.0.1"));
    EXPECT_TRUE(isLoopbackHost("::1"));
    EXPECT_TRUE(isLoopbackHost("localhost"));
    EXPECT_FALSE(isLoopbackHost("0.0.0.0"));
    EXPECT_FALSE(isLoopbackHost("192.168.1.2"));
}
