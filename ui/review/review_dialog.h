// "Review for venue…": a PDF paper reviewed along a venue's form (resources/venues/,
// compiled into the app) as the authors' check before they submit. The review streams
// into the view, parsed as it comes (sections and scores in the form's order, with what
// is missing or off-scale), and can be exported as Markdown. The model is asked through
// the same AnswerSource as the chat pane, in a conversation of its own.
#pragma once

#include "app/review/venue_form.h"
#include "app/answers/answer_source.h"

#include <QDialog>
#include <QPointer>

class QComboBox;
class QLabel;
class QPushButton;
class QTextBrowser;
class QTimer;

namespace folio {

class ReviewDialog : public QDialog {
    Q_OBJECT
public:
    ReviewDialog(AnswerSource* backend, std::shared_ptr<const Document> document, qint64 documentId,
                 QWidget* parent = nullptr);

    bool selectVenue(const QString& id);
    void start();
    void stop();
    bool isRunning() const { return m_running; }
    QString answer() const { return m_answer; }
    QString markdown() const;             // the parsed review for the authors
    QStringList problems() const;         // what the review still lacks
    bool exportMarkdown(const QString& path);

signals:
    void reviewFinished();

private:
    const VenueForm* venue() const;
    void render();
    void finish();
    bool isOurs(quint64 request) const { return m_running && request == m_request; }
    void updateButtons();

    QPointer<AnswerSource> m_backend;
    std::shared_ptr<const Document> m_document;
    qint64 m_documentId;
    QVector<VenueForm> m_forms;
    QString m_answer;
    bool m_running = false;
    quint64 m_request = 0;   // the review's request to the backend

    QComboBox* m_venues;
    QLabel* m_venueInfo;
    QTextBrowser* m_view;
    QLabel* m_problems;
    QPushButton* m_start;
    QPushButton* m_stop;
    QPushButton* m_export;
    QTimer* m_renderTimer;
};

} // namespace folio
