#include "ui/review/review_dialog.h"

#include "app/review/review_parser.h"
#include "app/review/review_prompt_builder.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollBar>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>

namespace folio {

ReviewDialog::ReviewDialog(AnswerSource* backend, std::shared_ptr<const Document> document, qint64 documentId,
                           QWidget* parent)
    : QDialog(parent), m_backend(backend), m_document(std::move(document)), m_documentId(documentId)
{
    setObjectName(QStringLiteral("reviewDialog"));
    setWindowTitle(tr("Review for Venue — %1").arg(m_document ? m_document->title : QString()));
    resize(760, 700);
    m_venues = new QComboBox;
    m_venues->setObjectName(QStringLiteral("venueCombo"));
    m_venueInfo = new QLabel;
    m_venueInfo->setObjectName(QStringLiteral("venueInfo"));
    m_venueInfo->setWordWrap(true);
    m_view = new QTextBrowser;
    m_view->setObjectName(QStringLiteral("reviewView"));
    m_view->setPlaceholderText(tr("Choose a venue and press Review: the paper is reviewed along that venue's form, "
                                  "as a check for its authors before they submit."));
    m_problems = new QLabel;
    m_problems->setObjectName(QStringLiteral("reviewProblems"));
    m_problems->setWordWrap(true);
    m_start = new QPushButton(tr("Review"));
    m_start->setObjectName(QStringLiteral("startReviewButton"));
    m_stop = new QPushButton(tr("Stop"));
    m_stop->setObjectName(QStringLiteral("stopReviewButton"));
    m_export = new QPushButton(tr("Export Markdown…"));
    m_export->setObjectName(QStringLiteral("exportReviewButton"));
    auto* close = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(close, &QDialogButtonBox::rejected, this, &ReviewDialog::reject);

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Venue:")));
    top->addWidget(m_venues, 1);
    top->addWidget(m_start);
    top->addWidget(m_stop);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(m_export);
    bottom->addStretch(1);
    bottom->addWidget(close);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_venueInfo);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_problems);
    layout->addLayout(bottom);

    try {
        m_forms = VenueCatalog::builtIn().forms();
    } catch (const VenueFormError& e) {
        m_problems->setText(e.message());
    }
    for (const VenueForm& form : m_forms)
        m_venues->addItem(tr("%1 (%2 form)").arg(form.name).arg(form.formYear), form.id);
    auto showVenue = [this] {
        if (const VenueForm* form = venue())
            m_venueInfo->setText(tr("%1 — %2 sections, %3 scores; from %4")
                                     .arg(form->fullName)
                                     .arg(form->sections.size())
                                     .arg(form->scores.size())
                                     .arg(form->source));
    };
    connect(m_venues, &QComboBox::currentIndexChanged, this, showVenue);
    showVenue();

    m_renderTimer = new QTimer(this);
    m_renderTimer->setSingleShot(true);
    m_renderTimer->setInterval(60);
    connect(m_renderTimer, &QTimer::timeout, this, &ReviewDialog::render);
    connect(m_start, &QPushButton::clicked, this, &ReviewDialog::start);
    connect(m_stop, &QPushButton::clicked, this, &ReviewDialog::stop);
    connect(m_export, &QPushButton::clicked, this, [this] {
        const QString base = m_document ? QFileInfo(m_document->path).completeBaseName() : QStringLiteral("paper");
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export Review"), base + QStringLiteral("-") + (venue() ? venue()->id : QString()) + QStringLiteral("-review.md"),
            tr("Markdown (*.md)"));
        if (!path.isEmpty() && !exportMarkdown(path))
            m_problems->setText(tr("Cannot write %1").arg(path));
    });
    if (m_backend) {
        // Only the review's own request: the chat pane asks through the same backend.
        connect(m_backend, &AnswerSource::token, this, [this](quint64 request, const QString& piece) {
            if (!isOurs(request))
                return;
            m_answer += piece;
            if (!m_renderTimer->isActive())
                m_renderTimer->start();
        });
        connect(m_backend, &AnswerSource::answered, this, [this](quint64 request, const AnswerOutcome& outcome) {
            if (!isOurs(request))
                return;
            if (!outcome.text.isEmpty())
                m_answer = outcome.text;
            finish();
        });
        connect(m_backend, &AnswerSource::cancelled, this, [this](quint64 request) {
            if (isOurs(request))
                finish();
        });
        connect(m_backend, &AnswerSource::failed, this, [this](quint64 request, AnswerErrorKind, const QString& message) {
            if (!isOurs(request))
                return;
            finish();
            m_problems->setText(message);
        });
    }
    updateButtons();
}

const VenueForm* ReviewDialog::venue() const
{
    const int index = m_venues->currentIndex();
    return index >= 0 && index < m_forms.size() ? &m_forms[index] : nullptr;
}

bool ReviewDialog::selectVenue(const QString& id)
{
    const int index = m_venues->findData(id.toLower());
    if (index >= 0)
        m_venues->setCurrentIndex(index);
    return index >= 0;
}

void ReviewDialog::start()
{
    const VenueForm* form = venue();
    if (!form || !m_document || m_running)
        return;
    if (!m_backend) {
        m_problems->setText(tr("No model is loaded: choose one in Tools → Model Manager."));
        return;
    }
    m_answer.clear();
    m_running = true;
    updateButtons();
    render();
    AnswerRequest request;
    request.document = m_document;
    request.documentId = m_documentId;
    request.conversationId = 0;   // a conversation of its own
    request.question = ReviewPromptBuilder(*form).instruction();
    m_request = m_backend->ask(request);
}

void ReviewDialog::stop()
{
    if (m_running && m_backend)
        m_backend->stop(m_request);
}

void ReviewDialog::finish()
{
    m_running = false;
    render();
    updateButtons();
    emit reviewFinished();
}

QString ReviewDialog::markdown() const
{
    const VenueForm* form = venue();
    if (!form)
        return {};
    return reviewToMarkdown(*form, ReviewParser::parse(*form, m_answer), m_document ? m_document->title : QString());
}

QStringList ReviewDialog::problems() const
{
    const VenueForm* form = venue();
    return form ? ReviewParser::parse(*form, m_answer).problems(*form) : QStringList();
}

void ReviewDialog::render()
{
    m_renderTimer->stop();
    if (m_answer.isEmpty() && !m_running) {
        m_view->clear();
        m_problems->clear();
        return;
    }
    m_view->setMarkdown(markdown());
    if (m_running) {
        m_view->verticalScrollBar()->setValue(m_view->verticalScrollBar()->maximum());
        m_problems->setText(tr("Reviewing…"));
    } else {
        const QStringList missing = problems();
        m_problems->setText(missing.isEmpty() ? tr("Every section and score of the form is there.")
                                              : tr("Still missing: %1").arg(missing.join(QStringLiteral(" "))));
    }
}

bool ReviewDialog::exportMarkdown(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return file.write(markdown().toUtf8()) >= 0;
}

void ReviewDialog::updateButtons()
{
    m_start->setEnabled(!m_running && venue() && m_document);
    m_stop->setEnabled(m_running);
    m_venues->setEnabled(!m_running);
    m_export->setEnabled(!m_running && !m_answer.isEmpty());
}

} // namespace folio
