#include "ui/shell/screenshot_tour.h"

#include "ui/chat/chat_view.h"
#include "ui/shell/main_window.h"
#include "ui/models/model_manager_dialog.h"
#include "ui/reader/pdf_page_view.h"
#include "ui/reader/reader_view.h"
#include "ui/review/review_dialog.h"
#include "ui/chat/scripted_backend.h"

#include <QLineEdit>
#include <QRadioButton>
#include <QTextStream>
#include <QTimer>

#include <optional>

namespace folio {

ScreenshotTour::ScreenshotTour(MainWindow* window, const QString& directory, const QString& document)
    : QObject(window), m_window(window), m_dir(directory), m_document(document)
{
    m_backend = new ScriptedBackend(this);
    m_backend->setInterval(15);
    m_backend->setReadingTokens(24576, 1536);
    m_backend->pauseReadingAt(9216);
    m_backend->setAnswer(tr("The paper extends the context window of a pretrained model with little extra "
                            "training: attention is computed in shifted groups during fine-tuning [p. 1], while "
                            "the full attention is kept at inference [p. 3]. The evaluation reports perplexity at "
                            "growing context lengths [p. 6]."),
                         {{0, 0.42}, {2, 0.31}, {5, 0.18}, {4, 0.09}});
}

void ScreenshotTour::start()
{
    m_dir.mkpath(QStringLiteral("."));
    m_window->setChatBackend(m_backend);
    later(400, &ScreenshotTour::empty);
}

void ScreenshotTour::later(int ms, void (ScreenshotTour::*step)()) { QTimer::singleShot(ms, this, step); }

void ScreenshotTour::shoot(QWidget* widget, const QString& name)
{
    const QString path = m_dir.filePath(name);
    if (widget->grab().save(path, "PNG"))
        m_written << path;
    else
        fail(tr("cannot write screenshot %1").arg(path));
}

void ScreenshotTour::fail(const QString& message)
{
    m_ok = false;
    QTextStream(stderr) << "folio: " << message << Qt::endl;
}

void ScreenshotTour::empty()
{
    shoot(m_window, QStringLiteral("empty.png"));
    openDocument();
}

void ScreenshotTour::openDocument()
{
    connect(m_window, &MainWindow::documentShown, this, [this] {
        // A PDF page is drawn on a pool thread: wait for it (or give up after a while).
        PdfPageView* pdf = m_window->reader()->pdfView();
        if (m_window->reader()->isPdf() && pdf->renderedImage().isNull()) {
            auto* guard = new QTimer(this);
            guard->setSingleShot(true);
            connect(pdf, &PdfPageView::pageRendered, guard, [this, guard] {
                guard->deleteLater();
                later(300, &ScreenshotTour::document);
            });
            connect(guard, &QTimer::timeout, this, &ScreenshotTour::document);
            guard->start(5000);
        } else {
            later(400, &ScreenshotTour::document);
        }
    }, Qt::SingleShotConnection);
    connect(m_window, &MainWindow::openFailed, this, [this](const QString& message) {
        fail(message);
        emit done(false);
    });
    m_window->openDocument(m_document);
}

void ScreenshotTour::document()
{
    shoot(m_window, QStringLiteral("document.png"));
    ModelManagerDialog* dialog = m_window->openModelManager();
    // With a model, wait for its metadata; without one the dialog says how to choose one.
    auto* guard = new QTimer(dialog);
    guard->setSingleShot(true);
    connect(guard, &QTimer::timeout, this, &ScreenshotTour::modelManager);
    connect(dialog, &ModelManagerDialog::modelInspected, guard, [this, guard] {
        guard->stop();
        later(300, &ScreenshotTour::modelManager);
    });
    guard->start(dialog->settings().modelPath.isEmpty() ? 400 : 8000);
}

void ScreenshotTour::modelManager()
{
    if (auto* dialog = m_window->findChild<ModelManagerDialog*>()) {
        shoot(dialog, QStringLiteral("model-manager.png"));
        // The Server page as a user fills it in (nothing is asked of the example address).
        dialog->findChild<QRadioButton*>(QStringLiteral("serverBackendRadio"))->setChecked(true);
        dialog->findChild<QLineEdit*>(QStringLiteral("serverAddressEdit"))->setText(QStringLiteral("http://gpu-box:8000/v1"));
        later(300, &ScreenshotTour::serverPage);
        return;
    }
    serverPage();
}

void ScreenshotTour::serverPage()
{
    if (auto* dialog = m_window->findChild<ModelManagerDialog*>()) {
        shoot(dialog, QStringLiteral("server.png"));
        dialog->reject();
    }
    ChatView* chat = m_window->chat();
    chat->newConversation(tr("First look"));
    chat->ask(tr("What does this paper propose, and how is it evaluated?"));
    later(1200, &ScreenshotTour::reading);
}

void ScreenshotTour::reading()
{
    shoot(m_window, QStringLiteral("reading.png"));
    connect(m_window->chat(), &ChatView::answerFinished, this, [this] {
        m_window->showPage(2);   // as if the reader had clicked the [p. 3] citation
        later(500, &ScreenshotTour::answer);
    }, Qt::SingleShotConnection);
    m_backend->pauseReadingAt(-1);
}

void ScreenshotTour::answer()
{
    shoot(m_window, QStringLiteral("answer.png"));
    ReviewDialog* dialog = m_window->openReview();
    std::optional<VenueForm> form;
    try {
        form = VenueCatalog::builtIn().find(QStringLiteral("iclr"));
    } catch (const VenueFormError& e) {
        fail(e.message());
    }
    if (!dialog || !form || !dialog->selectVenue(form->id)) {
        fail(tr("no review form to show"));
        emit done(false);
        return;
    }
    // A scripted review laid out as the venue's form asks.
    QString text;
    for (const ReviewSection& section : form->sections)
        text += QStringLiteral("## %1\n%2\n\n").arg(section.title, section.instruction);
    text += QStringLiteral("## Scores\n");
    for (const ReviewScore& score : form->scores)
        text += QStringLiteral("%1: %2\n").arg(score.title).arg(score.scale.values.value(score.scale.values.size() / 2));
    m_backend->setAnswer(text, {});
    m_backend->setInterval(2);
    connect(dialog, &ReviewDialog::reviewFinished, this, [this] { later(400, &ScreenshotTour::review); },
            Qt::SingleShotConnection);
    dialog->start();
}

void ScreenshotTour::review()
{
    if (auto* dialog = m_window->findChild<ReviewDialog*>())
        shoot(dialog, QStringLiteral("review.png"));
    emit done(m_ok);
}

} // namespace folio
