#include "tests/engine/passkey_task.h"

#include "engine/session/sampler.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace folio::test {

namespace {

bool sentenceEnd(char c) { return c == '.' || c == '!' || c == '?'; }
bool closingQuote(const std::string& s, std::size_t i)
{
    return i < s.size() && (s[i] == '"' || s[i] == '\'' || s.compare(i, 3, "\xE2\x80\x9D") == 0
                            || s.compare(i, 3, "\xE2\x80\x99") == 0);
}
std::size_t quoteLength(const std::string& s, std::size_t i)
{
    if (i >= s.size())
        return 0;
    if (s[i] == '"' || s[i] == '\'')
        return 1;
    return closingQuote(s, i) ? 3 : 0;
}

std::string strip(const std::string& s)
{
    std::size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a])))
        ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1])))
        --b;
    return s.substr(a, b - a);
}

} // namespace

PasskeyTask::PasskeyTask(std::shared_ptr<const Model> model, std::string filler)
    : model_(std::move(model)), filler_(std::move(filler)),
      chat_(ChatTemplate::detect(model_->file().getString("tokenizer.chat_template").value_or(""),
                                 model_->params().architecture,
                                 [&](std::string_view piece) { return model_->tokenizer().findToken(piece).has_value(); }))
{
    if (filler_.size() < 1000)
        throw std::invalid_argument("passkey: the filler text is too short");
    paragraphStarts_.push_back(0);
    allParagraphStarts_.push_back(0);
    for (std::size_t i = filler_.find("\n\n"); i != std::string::npos; i = filler_.find("\n\n", i + 2)) {
        std::size_t start = i + 2;
        while (start < filler_.size() && std::isspace(static_cast<unsigned char>(filler_[start])))
            ++start;
        if (start < filler_.size() / 2)  // leave room for long prompts from any start
            paragraphStarts_.push_back(start);
        if (start < filler_.size())
            allParagraphStarts_.push_back(start);
    }
    const std::string sample = filler_.substr(0, 20000);
    charsPerToken_ = double(sample.size()) / std::max<std::size_t>(1, model_->tokenizer().encode(sample, false, false).size());
}

std::string PasskeyTask::chatPrompt(const std::string& document, const std::string& question) const
{
    return chat_.format({{"user", document + "\n\n" + question}}, true);
}

std::string PasskeyTask::fillerAt(std::size_t start, std::size_t chars) const
{
    std::string text = filler_.substr(start, chars);
    // Back to the end of the last whole sentence (with its closing quote).
    std::size_t end = std::string::npos;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (sentenceEnd(text[i]))
            end = i + 1 + quoteLength(text, i + 1);
    if (end != std::string::npos && end <= text.size())
        text.resize(end);
    return strip(text);
}

namespace {

template <std::size_t N>
const char* pick(const char* const (&values)[N], std::mt19937& rng)
{
    return values[std::uniform_int_distribution<std::size_t>(0, N - 1)(rng)];
}

std::string digits(int length, std::mt19937& rng)
{
    std::uniform_int_distribution<int> digit(0, 9), first(1, 9);
    std::string s = std::to_string(first(rng));
    for (int i = 1; i < length; ++i)
        s += std::to_string(digit(rng));
    return s;
}

} // namespace

// The six task templates and value lists of resources/models/folio-demo-tasks.json
// (evaluation draws only listed values, never invented ones).
PlantedFact makePlantedFact(const std::string& kind, std::mt19937& rng)
{
    static const char* const colors[] = {"red", "blue", "green", "yellow", "black", "white",
                                         "brown", "grey", "silver", "golden", "orange", "purple"};
    static const char* const containers[] = {"cabinet", "chest", "drawer", "locker", "trunk", "box", "safe", "cupboard"};
    static const char* const titles[] = {"Captain", "Doctor", "Mister", "Madam", "Professor", "Sergeant"};
    static const char* const surnames[] = {"Ortega", "Halloran", "Whitcombe", "Nakamura", "Petrov", "Lindqvist",
                                           "Okafor", "Moreau", "Castellano", "Brandt", "Kowalski", "Fairweather",
                                           "Abernathy", "Delacroix", "Ishikawa", "Rasmussen", "Oyelaran", "Vasquez",
                                           "McAllister", "Thornbury"};
    static const char* const cities[] = {"Valparaiso", "Lisbon", "Reykjavik", "Marseille", "Bombay", "Hobart", "Nantucket",
                                         "Galway", "Bergen", "Havana", "Lima", "Zanzibar", "Trieste", "Cadiz", "Canton",
                                         "Honolulu", "Quebec", "Smyrna", "Tangier", "Bristol"};
    static const char* const vessels[] = {"Albatross", "Meridian", "Resolute", "Halcyon", "Pelican", "Osprey",
                                          "Endeavour", "Vigilant", "Northstar", "Marigold", "Kestrel", "Tempest"};
    static const char* const months[] = {"January", "February", "March", "April", "May", "June", "July",
                                         "August", "September", "October", "November", "December"};
    static const char* const words[] = {"lantern", "harpoon", "marble", "thistle", "compass", "saffron", "glacier", "velvet",
                                        "orchard", "falcon", "cobalt", "juniper", "meadow", "quartz", "ember", "willow"};
    static const char* const firsts[] = {"Elijah", "Martha", "Tobias", "Hester", "Silas", "Rosalind",
                                         "Jonas", "Perpetua", "Amos", "Dorcas", "Gideon", "Louisa"};
    static const char* const objects[] = {"map", "ledger", "telescope", "letters", "coins", "logbook", "keys", "pistol"};
    static const char* const places[] = {"old lighthouse", "chapel cellar", "blacksmith's shed", "harbour office",
                                         "bell tower", "boathouse", "granary", "root cellar", "hayloft", "counting house"};
    if (kind == "passkey") {
        const std::string key = digits(5, rng);
        return {"The pass key is " + key + ". Remember it. " + key + " is the pass key.", "What is the pass key?", key};
    }
    if (kind == "cabinet") {
        const std::string what = std::string(pick(colors, rng)) + " " + pick(containers, rng);
        const std::string key = digits(4, rng);
        return {"The key to the " + what + " is " + key + ".", "What is the key to the " + what + "?", key};
    }
    if (kind == "birthplace") {
        const std::string who = std::string(pick(titles, rng)) + " " + pick(surnames, rng);
        const std::string city = pick(cities, rng);
        return {who + " was born in " + city + ".", "Where was " + who + " born?", city};
    }
    if (kind == "sailing") {
        const std::string vessel = pick(vessels, rng);
        const std::string month = pick(months, rng);
        const int day = std::uniform_int_distribution<int>(1, 28)(rng);
        const int year = std::uniform_int_distribution<int>(1801, 1899)(rng);
        const std::string date = month + " " + std::to_string(day) + ", " + std::to_string(year);
        return {"The " + vessel + " sailed on " + date + ".", "When did the " + vessel + " sail?", date};
    }
    if (kind == "secret") {
        const std::string word = pick(words, rng);
        return {"The secret word is " + word + ".", "What is the secret word?", word};
    }
    if (kind == "hiding") {
        const std::string first = pick(firsts, rng);
        const std::string object = pick(objects, rng);
        const std::string place = pick(places, rng);
        return {first + " hid the " + object + " in the " + place + ".", "Where did " + first + " hide the " + object + "?",
                "the " + place};
    }
    throw std::invalid_argument("fact task: unknown kind '" + kind + "'");
}

const std::vector<std::string>& PasskeyTask::kinds()
{
    static const std::vector<std::string> all = {"passkey", "cabinet", "birthplace", "sailing", "secret", "hiding"};
    return all;
}

std::size_t PasskeyTask::drawStart(double chars, std::mt19937& rng) const
{
    // Prompts that fit after every start in the first half draw from those (as ever);
    // longer ones (a whole-novel filler at 1,024x) from the starts that leave room for
    // them, else from the filler's start (the prompt is then shorter than asked).
    if (double(paragraphStarts_.back()) + chars <= double(filler_.size()))
        return paragraphStarts_[std::uniform_int_distribution<std::size_t>(0, paragraphStarts_.size() - 1)(rng)];
    std::size_t fitting = 0;
    while (fitting < allParagraphStarts_.size() && double(allParagraphStarts_[fitting]) + chars <= double(filler_.size()))
        ++fitting;
    if (fitting <= 1)
        return 0;
    return allParagraphStarts_[std::uniform_int_distribution<std::size_t>(0, fitting - 1)(rng)];
}

std::string PasskeyTask::plantedDocument(std::size_t start, double chars,
                                         const std::vector<std::pair<std::string, double>>& needles) const
{
    std::string document = fillerAt(start, static_cast<std::size_t>(chars));
    // Each needle goes at the first sentence start at or after depth * length.
    auto startsSentence = [&](std::size_t j) {
        if (j == 0 || std::isspace(static_cast<unsigned char>(document[j]))
            || !std::isspace(static_cast<unsigned char>(document[j - 1])))
            return false;
        std::size_t k = j;  // one past the last character before the white space
        while (k > 0 && std::isspace(static_cast<unsigned char>(document[k - 1])))
            --k;
        if (k == 0)
            return false;
        if (sentenceEnd(document[k - 1]))
            return true;
        if (document[k - 1] == '"' || document[k - 1] == '\'')
            return k >= 2 && sentenceEnd(document[k - 2]);
        return k >= 4 && closingQuote(document, k - 3) && sentenceEnd(document[k - 4]);
    };
    std::vector<std::size_t> offsets;
    for (const auto& [needle, depth] : needles) {
        std::size_t at = 0;
        if (depth > 0.0) {
            at = std::string::npos;
            for (std::size_t j = static_cast<std::size_t>(depth * document.size()); j < document.size(); ++j)
                if (startsSentence(j)) {
                    at = j;
                    break;
                }
        }
        offsets.push_back(at);
    }
    // Insert from the back so that the offsets found in the filler stay valid; needles
    // at one offset keep their order; those with no sentence start after are appended.
    std::vector<std::size_t> order(needles.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return offsets[a] < offsets[b]; });
    for (auto it = order.rbegin(); it != order.rend(); ++it)
        if (offsets[*it] != std::string::npos)
            document.insert(offsets[*it], needles[*it].first + " ");
    for (std::size_t i : order)
        if (offsets[i] == std::string::npos)
            document += " " + needles[i].first;
    return document;
}

PasskeyPrompt PasskeyTask::make(int maxTokens, double depth, std::mt19937& rng, const std::string& kind) const
{
    PasskeyPrompt prompt;
    prompt.depth = depth;
    prompt.kind = kind;
    const PlantedFact fact = makePlantedFact(kind, rng);
    prompt.answer = fact.answer;
    const Tokenizer& tok = model_->tokenizer();
    const int overhead = static_cast<int>(tok.encode(chatPrompt(fact.needle, fact.question), tok.addBosByDefault(), true).size());
    double chars = std::max(0.0, (maxTokens - overhead) * charsPerToken_);
    const std::size_t start = drawStart(chars, rng);
    for (int attempt = 0; attempt < 40; ++attempt) {
        const std::string document = plantedDocument(start, chars, {{fact.needle, depth}});
        prompt.tokens = tok.encode(chatPrompt(document, fact.question), tok.addBosByDefault(), true);
        const int excess = static_cast<int>(prompt.tokens.size()) - maxTokens;
        if (excess <= 0)
            return prompt;
        chars -= (excess + 2) * charsPerToken_;
        if (chars <= 0)
            break;
    }
    throw std::runtime_error("passkey: cannot fit a prompt in " + std::to_string(maxTokens) + " tokens");
}

int SharedDocumentPrompt::longestPrompt() const
{
    std::size_t suffix = 0;
    for (const Question& q : questions)
        suffix = std::max(suffix, q.suffix.size());
    return static_cast<int>(document.size() + suffix);
}

SharedDocumentPrompt PasskeyTask::makeShared(int maxTokens, const std::vector<std::pair<std::string, double>>& facts,
                                             std::mt19937& rng) const
{
    if (facts.empty())
        throw std::invalid_argument("passkey: a shared document needs at least one fact");
    std::vector<PlantedFact> planted;
    std::vector<std::pair<std::string, double>> needles;
    std::string allNeedles, longestQuestion;
    for (const auto& [kind, depth] : facts) {
        planted.push_back(makePlantedFact(kind, rng));
        needles.emplace_back(planted.back().needle, depth);
        allNeedles += (allNeedles.empty() ? "" : " ") + planted.back().needle;
        if (planted.back().question.size() > longestQuestion.size())
            longestQuestion = planted.back().question;
    }
    const Tokenizer& tok = model_->tokenizer();
    const int overhead = static_cast<int>(tok.encode(chatPrompt(allNeedles, longestQuestion), tok.addBosByDefault(), true).size());
    double chars = std::max(0.0, (maxTokens - overhead) * charsPerToken_);
    const std::size_t start = drawStart(chars, rng);
    for (int attempt = 0; attempt < 40; ++attempt) {
        const std::string document = plantedDocument(start, chars, needles);
        SharedDocumentPrompt prompt;
        for (std::size_t i = 0; i < planted.size(); ++i) {
            const std::string whole = chatPrompt(document, planted[i].question);
            const std::size_t at = whole.find(document);
            if (at == std::string::npos)
                throw std::logic_error("passkey: the chat template changed the document");
            // Split after the blank line that follows the document: the pre-tokenizers
            // keep a sentence's last mark and the newlines after it in one piece.
            std::size_t end = at + document.size();
            if (whole.compare(end, 2, "\n\n") == 0)
                end += 2;
            if (i == 0) {
                prompt.document = tok.encode(whole.substr(0, end), tok.addBosByDefault(), true);
                if (static_cast<int>(prompt.document.size()) + 64 > maxTokens)  // no room for any question
                    break;
            }
            SharedDocumentPrompt::Question q;
            q.suffix = tok.encode(whole.substr(end), false, true);
            q.answer = planted[i].answer;
            q.kind = facts[i].first;
            q.depth = facts[i].second;
            if (i == 0) {
                // The split must not change the tokens (checked on the first question;
                // the others differ only after the split).
                std::vector<int32_t> joined = prompt.document;
                joined.insert(joined.end(), q.suffix.begin(), q.suffix.end());
                if (joined != tok.encode(whole, tok.addBosByDefault(), true))
                    throw std::runtime_error("passkey: the document and its question tokenize differently apart");
            }
            prompt.questions.push_back(std::move(q));
        }
        const int excess = (prompt.questions.size() == planted.size() ? prompt.longestPrompt()
                                                                        : static_cast<int>(prompt.document.size()) + 64)
                           - maxTokens;
        if (excess <= 0)
            return prompt;
        chars -= (excess + 2) * charsPerToken_;
        if (chars <= 0)
            break;
    }
    throw std::runtime_error("passkey: cannot fit a shared document in " + std::to_string(maxTokens) + " tokens");
}

std::string PasskeyTask::greedyAnswer(Session& session) const
{
    SamplerParams greedy;
    greedy.temperature = 0.0f;
    Sampler sampler(greedy);
    std::vector<int32_t> generated;
    session.generate(sampler, 16, [&](int32_t token) {
        generated.push_back(token);
        return true;
    });
    std::string text = model_->tokenizer().decode(generated);
    for (const std::string& stop : chat_.stopStrings()) {
        const std::size_t at = text.find(stop);
        if (at != std::string::npos)
            text.resize(at);
    }
    return strip(text);
}

std::string PasskeyTask::answer(const PasskeyPrompt& prompt, SessionOptions options) const
{
    options.contextLength = static_cast<int>(prompt.tokens.size()) + 17;
    Session session(model_, options);
    session.prefill(prompt.tokens);
    return greedyAnswer(session);
}

std::vector<std::string> PasskeyTask::answer(const SharedDocumentPrompt& prompt, SessionOptions options) const
{
    options.contextLength = prompt.longestPrompt() + 17;
    Session session(model_, options);
    const int documentEnd = static_cast<int>(prompt.document.size());
    session.prefill(prompt.document);
    std::vector<std::string> answers;
    for (const SharedDocumentPrompt::Question& q : prompt.questions) {
        if (session.position() > documentEnd)
            session.truncate(documentEnd);
        session.prefill(q.suffix);
        answers.push_back(greedyAnswer(session));
    }
    return answers;
}

SessionOptions passkeyMethodOptions(const std::string& method, int tokens, int trainedLength, float dcaTemperature)
{
    SessionOptions options;
    options.threads = 0;
    const float factor = std::max(1.0f, float(tokens) / float(trainedLength));
    if (method == "pi") {
        options.rope.scaling = RopeScaling::Linear;
        options.rope.scale = factor;
    } else if (method == "ntk") {
        options.rope.scaling = RopeScaling::Ntk;
        options.rope.scale = factor;
    } else if (method == "yarn") {
        options.rope.scaling = RopeScaling::Yarn;
        options.rope.scale = factor;
        options.rope.yarnOriginalContext = trainedLength;
    } else if (method == "dca") {
        options.dca.enabled = true;
        options.dca.temperature = dcaTemperature;  // < 0: the model's own
    } else if (method != "none") {
        throw std::invalid_argument("passkey: unknown method '" + method + "' (none, pi, ntk, yarn, dca)");
    }
    return options;
}

} // namespace folio::test
