// The embedded engine as an AnswerSource: the app's ReadingController (the engine on
// its own thread, with its own database connection) behind the interface.
// It loads the model chosen in the model manager, reads the document (progress, cancel;
// a cancelled reading continues from where it stopped), streams the answer, and lets
// the worker save the question, the answer and its evidence in the store.
#pragma once

#include "app/answers/answer_source.h"
#include "app/reading/reading_session.h"
#include "app/settings/model_settings.h"

#include <optional>

namespace folio {

class ReadingController;

// The model manager's choices as the worker's options.
ReadingOptions readingOptions(const ModelSettings& settings);

class EmbeddedAnswerSource : public AnswerSource {
    Q_OBJECT
public:
    explicit EmbeddedAnswerSource(const QString& databasePath, QObject* parent = nullptr);
    ~EmbeddedAnswerSource() override;

    // New options and model (loaded with the next question).
    void applySettings(const ModelSettings& settings);

    quint64 ask(const AnswerRequest& request) override;
    void stop(quint64 request) override;
    void cancelReading(quint64 request) override;
    bool isBusy() const override;
    bool storesMessages() const override { return true; }
    bool canContinue() const override { return true; }

    ReadingController* controller() const { return m_controller; }

private:
    void endRequest();
    void send(const AnswerRequest& request);   // to the worker: ask, or answer again

    ReadingController* m_controller;
    ModelSettings m_settings;
    QString m_loadedModel;      // the model path the worker has (or is loading)
    QString m_openedDocument;   // the document the worker read last
    bool m_active = false;      // a question is being answered
    quint64 m_request = 0;      // its id
    bool m_reading = false;     // its document is being read
    qint64 m_contextTokens = 0;
    // Asked once the document is read: a cancelled reading must not start the question.
    std::optional<AnswerRequest> m_waiting;
};

} // namespace folio
