// Session state: checksums, model fingerprints, save/load round trips that continue
// bit for bit (F16, Q8_0, DCA, mid-conversation, through memory, streams and files,
// in bounded pieces), and refusals: another model, another KV type, other context
// options, too many tokens, truncated streams, every flipped byte.
#include "engine/gguf/checksum.h"
#include "engine/model/model.h"
#include "engine/session/sampler.h"
#include "engine/session/session.h"
#include "engine/session/session_state.h"

#include "tests/engine/test_models.h"

#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

using namespace folio;
using namespace folio::test;

namespace {

// Head dim 32 (the block KV types need whole blocks of 32).
TinyModelSpec stateSpec(uint64_t seed = 3)
{
    TinyModelSpec spec;
    spec.type = GgmlType::Q8_0;
    spec.vocab = 80;
    spec.embd = 128;
    spec.heads = 4;
    spec.kvHeads = 2;
    spec.feedForward = 256;
    spec.seed = seed;
    return spec;
}

// The same state as format version 1 wrote it (no prefix fields), re-framed with
// fresh checksums: what a Folio before delta states saved into users' databases.
std::vector<uint8_t> asVersion1(const std::vector<uint8_t>& state)
{
    auto u32 = [](const uint8_t* p) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    };
    const uint32_t limit = u32(state.data() + 12);
    std::vector<uint8_t> payload;
    for (std::size_t pos = 20; pos < state.size();) {
        const uint32_t length = u32(state.data() + pos);
        payload.insert(payload.end(), state.begin() + static_cast<std::ptrdiff_t>(pos + 8),
                       state.begin() + static_cast<std::ptrdiff_t>(pos + 8 + length));
        pos += 8 + length;
    }
    std::size_t at = 4;
    for (uint32_t i = 0; i < 2 * u32(payload.data()); ++i)
        at += 4 + u32(payload.data() + at);
    at += 20;  // the geometry; then the prefix length (0) and digest of version 2
    EXPECT_EQ(u32(payload.data() + at), 0u);
    payload.erase(payload.begin() + static_cast<std::ptrdiff_t>(at), payload.begin() + static_cast<std::ptrdiff_t>(at + 12));
    uint64_t counted;
    std::memcpy(&counted, payload.data() + payload.size() - 8, 8);
    counted -= 12;
    std::memcpy(payload.data() + payload.size() - 8, &counted, 8);
    std::vector<uint8_t> out(state.begin(), state.begin() + 20);
    const uint32_t version = 1;
    std::memcpy(out.data() + 8, &version, 4);
    const uint32_t headerCrc = crc32(out.data(), 16);
    std::memcpy(out.data() + 16, &headerCrc, 4);
    for (std::size_t pos = 0; pos < payload.size();) {
        const uint32_t n = static_cast<uint32_t>(std::min<std::size_t>(limit - 8, payload.size() - pos));
        const uint32_t crc = crc32(payload.data() + pos, n);
        out.insert(out.end(), reinterpret_cast<const uint8_t*>(&n), reinterpret_cast<const uint8_t*>(&n) + 4);
        out.insert(out.end(), reinterpret_cast<const uint8_t*>(&crc), reinterpret_cast<const uint8_t*>(&crc) + 4);
        out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(pos),
                   payload.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
    }
    return out;
}

class SessionStateTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        path_ = new std::string(tempModelPath("state"));
        otherPath_ = new std::string(tempModelPath("state-other"));
        writeTinyModel(stateSpec(), *path_);
        writeTinyModel(stateSpec(4), *otherPath_);  // same shape, other weights
        model_ = new std::shared_ptr<const Model>(Model::load(*path_));
    }
    static void TearDownTestSuite()
    {
        std::filesystem::remove(*path_);
        std::filesystem::remove(*otherPath_);
        delete model_;
        delete path_;
        delete otherPath_;
    }

    static SessionOptions options(KvType type = KvType::F16, int context = 96)
    {
        SessionOptions o;
        o.contextLength = context;
        o.threads = 2;
        o.batchSize = 16;
        o.kvType = type;
        return o;
    }

    static std::vector<int32_t> tokens(int n, int salt = 0)
    {
        std::vector<int32_t> t;
        for (int i = 0; i < n; ++i)
            t.push_back((i * 17 + salt * 5 + 3) % 80);
        return t;
    }

    // Brings a session to mid-conversation: a prompt, then a few decoded tokens.
    static void converse(Session& session)
    {
        session.prefill(tokens(37));
        for (int32_t t : {5, 9, 11})
            session.decode(t);
    }
    static std::vector<uint8_t> savedConversation(const SessionOptions& o)
    {
        Session session(*model_, o);
        converse(session);
        return saved(session).joined();
    }

    static MemoryStateWriter saved(const Session& session)
    {
        MemoryStateWriter out;
        session.saveState(out);
        return out;
    }

    static bool sameBits(const std::vector<float>& a, const std::vector<float>& b)
    {
        return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    }

    // Continues both sessions identically and checks every logit bit.
    static void expectSameContinuation(Session& original, Session& restored)
    {
        ASSERT_EQ(restored.tokens(), original.tokens());
        ASSERT_EQ(restored.position(), original.position());
        EXPECT_TRUE(sameBits(restored.logits(), original.logits())) << "restored logits";
        original.decode(42);
        restored.decode(42);
        EXPECT_TRUE(sameBits(restored.logits(), original.logits())) << "first decode after the round trip";
        SamplerParams greedy;
        greedy.temperature = 0.0f;
        Sampler a(greedy), b(greedy);
        std::vector<int32_t> fromOriginal, fromRestored;
        original.generate(a, 6, [&](int32_t t) { fromOriginal.push_back(t); return true; });
        restored.generate(b, 6, [&](int32_t t) { fromRestored.push_back(t); return true; });
        EXPECT_EQ(fromRestored, fromOriginal);
        EXPECT_TRUE(sameBits(restored.logits(), original.logits())) << "after generating";
    }

    // loadState must throw SessionStateError whose message contains `expected`.
    static void expectRefused(Session& target, const std::vector<uint8_t>& bytes, const std::string& expected)
    {
        MemoryStateReader in(bytes);
        try {
            target.loadState(in);
            FAIL() << "loaded; expected a refusal mentioning: " << expected;
        } catch (const SessionStateError& error) {
            EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
        }
    }

    static std::string* path_;
    static std::string* otherPath_;
    static std::shared_ptr<const Model>* model_;
};

std::string* SessionStateTest::path_ = nullptr;
std::string* SessionStateTest::otherPath_ = nullptr;
std::shared_ptr<const Model>* SessionStateTest::model_ = nullptr;

TEST(Checksum, Crc32AndHash64)
{
    const char* check = "123456789";
    EXPECT_EQ(crc32(check, 9), 0xCBF43926u);
    EXPECT_EQ(crc32(check + 4, 5, crc32(check, 4)), 0xCBF43926u);  // continues across pieces
    std::vector<uint8_t> long_(1000);
    for (std::size_t i = 0; i < long_.size(); ++i)
        long_[i] = static_cast<uint8_t>(i * 7 + 1);
    uint32_t bitwise = ~0u;  // the definition, one bit at a time, against the sliced tables
    for (uint8_t byte : long_) {
        bitwise ^= byte;
        for (int k = 0; k < 8; ++k)
            bitwise = (bitwise & 1u) ? 0xEDB88320u ^ (bitwise >> 1) : bitwise >> 1;
    }
    EXPECT_EQ(crc32(long_.data(), long_.size()), ~bitwise);
    Hash64 a, b;
    a.addText("ab");
    a.addText("c");
    b.addText("a");
    b.addText("bc");
    EXPECT_NE(a.hex(), b.hex());
    EXPECT_EQ(a.hex().size(), 16u);
}

TEST_F(SessionStateTest, FingerprintIsStableAcrossLoadsAndPathsAndDiffersForOtherWeights)
{
    const std::string fingerprint = (*model_)->fingerprint();
    EXPECT_EQ(fingerprint.size(), 16u);
    EXPECT_EQ(Model::load(*path_)->fingerprint(), fingerprint);
    const std::string copy = tempModelPath("state-copy");
    std::filesystem::copy_file(*path_, copy);
    EXPECT_EQ(Model::load(copy)->fingerprint(), fingerprint);
    std::filesystem::remove(copy);
    EXPECT_NE(Model::load(*otherPath_)->fingerprint(), fingerprint);
    TinyModelSpec base = stateSpec();
    base.ropeFreqBase = 500000.0f;  // metadata only: the weights are the same
    const std::string rebased = tempModelPath("state-base");
    writeTinyModel(base, rebased);
    EXPECT_NE(Model::load(rebased)->fingerprint(), fingerprint);
    std::filesystem::remove(rebased);
}

TEST_F(SessionStateTest, RoundTripContinuesBitForBitWithF16AndQ8_0Caches)
{
    for (KvType type : {KvType::F16, KvType::Q8_0}) {
        SCOPED_TRACE(std::string(kvTypeName(type)));
        Session original(*model_, options(type));
        converse(original);
        const MemoryStateWriter state = saved(original);
        Session restored(*model_, options(type));
        restored.prefill(tokens(20, 1));  // whatever it held is replaced
        MemoryStateReader in(state.pieces());
        restored.loadState(in);
        expectSameContinuation(original, restored);
    }
}

TEST_F(SessionStateTest, RoundTripWithDualChunkAttentionAndThroughStreamsAndFiles)
{
    SessionOptions o = options(KvType::Q4_0);
    o.dca.enabled = true;
    o.dca.chunkSize = 24;
    o.dca.localWindow = 4;
    Session original(*model_, o);
    converse(original);  // 40 tokens: two chunk boundaries
    std::stringstream stream;
    OstreamStateWriter streamOut(stream);
    original.saveState(streamOut);
    Session viaStream(*model_, o);
    IstreamStateReader streamIn(stream);
    viaStream.loadState(streamIn);

    const std::string file = tempModelPath("state-file");
    FileStateWriter fileOut(file);
    original.saveState(fileOut);
    fileOut.close();
    Session viaFile(*model_, o);
    FileStateReader fileIn(file);
    viaFile.loadState(fileIn);
    std::filesystem::remove(file);

    Session twin(*model_, o);
    converse(twin);
    expectSameContinuation(original, viaStream);
    expectSameContinuation(twin, viaFile);
}

TEST_F(SessionStateTest, EmptyAndTruncatedSessionsRoundTrip)
{
    Session empty(*model_, options());
    Session restored(*model_, options());
    converse(restored);
    MemoryStateReader in(saved(empty).pieces());
    restored.loadState(in);
    EXPECT_EQ(restored.position(), 0);
    EXPECT_TRUE(restored.logits().empty());

    Session cut(*model_, options());
    converse(cut);
    cut.truncate(30);  // no logits until a token is processed
    Session again(*model_, options());
    MemoryStateReader cutIn(saved(cut).pieces());
    again.loadState(cutIn);
    EXPECT_EQ(again.position(), 30);
    EXPECT_TRUE(again.logits().empty());
    cut.decode(7);
    again.decode(7);
    EXPECT_TRUE(sameBits(again.logits(), cut.logits()));
}

TEST_F(SessionStateTest, StatesComeInPiecesOfBoundedSize)
{
    // 2 layers x 2 KV heads x 40 tokens x 128-byte F32 rows x 2 = 40 KiB of cache, in
    // pieces of at most 1000 bytes (the default, 4 MiB, works the same way: it is
    // only a larger bound, and slower to reach in a test).
    Session original(*model_, options(KvType::F32));
    converse(original);
    MemoryStateWriter state;
    original.saveState(state, 1000);
    ASSERT_GE(state.pieces().size(), 40u);
    for (const auto& piece : state.pieces())
        EXPECT_LE(piece.size(), 1000u);
    Session restored(*model_, options(KvType::F32));
    MemoryStateReader in(state.pieces());
    restored.loadState(in);
    expectSameContinuation(original, restored);

    const MemoryStateWriter byDefault = saved(original);
    for (const auto& piece : byDefault.pieces())
        EXPECT_LE(piece.size(), kStatePieceBytes);
    MemoryStateWriter tooSmall;
    EXPECT_THROW(original.saveState(tooSmall, 10), std::invalid_argument);
}

TEST_F(SessionStateTest, AnotherModelOrKvTypeOrContextOptionIsRefusedNamingTheDifference)
{
    const std::vector<uint8_t> q8 = savedConversation(options(KvType::Q8_0));
    Session target(*model_, options(KvType::F16));
    target.prefill(tokens(10, 2));
    const std::vector<float> logitsBefore = target.logits();
    expectRefused(target, q8, "KV type: saved q8_0, session f16");

    Session otherModel(Model::load(*otherPath_), options(KvType::Q8_0));
    expectRefused(otherModel, q8, "model: saved folio-test-llama (" + (*model_)->fingerprint() + "), session folio-test-llama (");

    SessionOptions scaled = options(KvType::Q8_0);
    scaled.rope.scaling = RopeScaling::Linear;
    scaled.rope.scale = 2.0f;
    Session linear(*model_, scaled);
    expectRefused(linear, q8, "RoPE frequency scale: saved 1, session 0.5");

    SessionOptions dca = options(KvType::Q8_0);
    dca.dca.enabled = true;
    dca.dca.chunkSize = 24;
    dca.dca.localWindow = 4;
    Session chunked(*model_, dca);
    expectRefused(chunked, q8, "DCA: saved off, session on");
    const std::vector<uint8_t> dcaState = savedConversation(dca);
    dca.dca.localWindow = 6;
    Session otherWindow(*model_, dca);
    expectRefused(otherWindow, dcaState, "DCA local window: saved 4, session 6");

    Session small(*model_, options(KvType::Q8_0, 32));
    expectRefused(small, q8, "holds 40 tokens (saved with a context of 96), more than this session's context of 32");

    // Refused before anything was read into it: the session is as it was.
    EXPECT_EQ(target.tokens(), tokens(10, 2));
    EXPECT_TRUE(sameBits(target.logits(), logitsBefore));
}

TEST_F(SessionStateTest, TruncatedStreamsAreRefusedAndLeaveTheSessionUnchangedOrEmpty)
{
    const std::vector<uint8_t> bytes = savedConversation(options());
    Session target(*model_, options());
    const std::vector<int32_t> before = tokens(12, 3);
    for (std::size_t cut : {std::size_t{0}, std::size_t{7}, std::size_t{19}, std::size_t{20}, std::size_t{27},
                            std::size_t{28}, std::size_t{100}, bytes.size() / 2, bytes.size() - 13,
                            bytes.size() - 1}) {
        SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(bytes.size()));
        target.truncate(0);
        target.prefill(before);
        const std::vector<uint8_t> head(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
        expectRefused(target, head, cut < 20 ? "FOLIOSES" : "truncated");
        EXPECT_TRUE(target.position() == 0 || target.tokens() == before) << target.position();
    }
    target.truncate(0);  // still usable
    target.prefill(tokens(5));
    EXPECT_EQ(target.position(), 5);
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    expectRefused(target, longer, "after its end marker");
}

TEST_F(SessionStateTest, DeltaAfterAPrefixLoadsOnTopOfItAndContinuesBitForBit)
{
    for (KvType type : {KvType::F16, KvType::Q8_0}) {
        SCOPED_TRACE(std::string(kvTypeName(type)));
        // A "document" of 37 tokens, saved whole; then a conversation after it, saved as a delta.
        Session original(*model_, options(type));
        original.prefill(tokens(37));
        const std::vector<uint8_t> document = saved(original).joined();
        for (int32_t t : {5, 9, 11})
            original.decode(t);
        original.prefill(tokens(8, 2));
        MemoryStateWriter deltaOut;
        original.saveState(deltaOut, 0, 37);
        const std::vector<uint8_t> delta = deltaOut.joined();
        EXPECT_LT(delta.size() * 2, saved(original).joined().size()) << "a delta holds only the turns";

        Session restored(*model_, options(type));
        restored.prefill(tokens(20, 1));
        MemoryStateReader documentIn(document);
        restored.loadState(documentIn);
        restored.decode(77);  // whatever followed the prefix is replaced by the delta
        MemoryStateReader deltaIn(delta);
        restored.loadState(deltaIn);
        expectSameContinuation(original, restored);
    }
}

TEST_F(SessionStateTest, DeltaIsRefusedBySessionsWithoutItsPrefixAndATruncatedOneLeavesThePrefix)
{
    Session original(*model_, options());
    original.prefill(tokens(37));
    original.prefill(tokens(8, 2));
    MemoryStateWriter deltaOut;
    original.saveState(deltaOut, 0, 37);
    const std::vector<uint8_t> delta = deltaOut.joined();
    EXPECT_THROW(original.saveState(deltaOut, 0, 46), std::invalid_argument);

    Session empty(*model_, options());
    expectRefused(empty, delta, "continues a prefix of 37 tokens that this session does not hold (it holds 0 tokens)");
    EXPECT_EQ(empty.position(), 0);
    Session other(*model_, options());
    other.prefill(tokens(40, 4));
    expectRefused(other, delta, "other ones");
    EXPECT_EQ(other.tokens(), tokens(40, 4)) << "a refused delta leaves the session unchanged";

    Session target(*model_, options());
    target.prefill(tokens(37));
    const std::vector<uint8_t> head(delta.begin(), delta.end() - 20);
    expectRefused(target, head, "truncated");
    EXPECT_EQ(target.tokens(), tokens(37)) << "a delta cut short leaves its prefix";
    MemoryStateReader whole(delta);
    target.loadState(whole);
    EXPECT_EQ(target.tokens(), original.tokens());
}

TEST_F(SessionStateTest, StatesOfFormatVersion1StillLoad)
{
    Session original(*model_, options());
    converse(original);
    const std::vector<uint8_t> old = asVersion1(saved(original).joined());
    Session restored(*model_, options());
    MemoryStateReader in(old);
    restored.loadState(in);
    expectSameContinuation(original, restored);
}

TEST_F(SessionStateTest, EveryFlippedByteIsRefused)
{
    Session small(*model_, options(KvType::Q4_0, 16));
    small.prefill(tokens(6));
    const std::vector<uint8_t> bytes = saved(small).joined();
    Session target(*model_, options(KvType::Q4_0, 16));
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::vector<uint8_t> flipped = bytes;
        flipped[i] ^= static_cast<uint8_t>(1u << (i % 8));
        MemoryStateReader in(flipped);
        EXPECT_THROW(target.loadState(in), SessionStateError) << "byte " << i << " of " << bytes.size();
    }
    MemoryStateReader intact(bytes);
    target.loadState(intact);
    EXPECT_EQ(target.tokens(), tokens(6));
}

} // namespace
