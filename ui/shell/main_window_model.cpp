// The main window's side of the model manager: opening it with the document, and
// showing what was chosen in the status bar.
#include "ui/shell/main_window.h"

#include "ui/chat/chat_view.h"
#include "ui/models/model_manager_dialog.h"
#include "ui/models/server_page.h"
#include "ui/review/review_dialog.h"
#include "ui/shell/status_widgets.h"

#include <QFileInfo>

namespace folio {

ModelManagerDialog* MainWindow::openModelManager()
{
    auto* dialog = new ModelManagerDialog(this, m_keys);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (m_document)
        dialog->setDocument(m_document);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { applyModelChoice(dialog); });
    connect(dialog, &ModelManagerDialog::keyNotice, this, &MainWindow::showNotice);
    dialog->open();
    return dialog;
}

ReviewDialog* MainWindow::openReview()
{
    if (!m_document) {
        showError(tr("Review for Venue"), tr("Open a paper (PDF) first."));
        return nullptr;
    }
    auto* dialog = new ReviewDialog(m_chat->backend(), m_document, m_documentId, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
    return dialog;
}

void MainWindow::applyModelChoice(ModelManagerDialog* dialog)
{
    if (dialog->usesServer()) {
        // The server reads the document itself: no local plan to show.
        const ServerProfile server = dialog->serverPage()->current();
        m_status->setModel(server.model.isEmpty() ? server.address : server.model);
        m_status->setExtension(tr("read by the server"));
        m_status->setKvType(QString());
        m_status->setPlannedMemory(-1);
    } else if (dialog->model()) {
        const ModelSummary& summary = dialog->summary();
        m_status->setModel(summary.name);
        if (const auto& plan = dialog->plan()) {
            m_status->setContext(0, plan->options.contextLength);
            m_status->setExtension(extensionSummary(*plan, summary.trainedContext));
            m_status->setKvType(QString::fromLatin1(kvTypeName(plan->options.kvType).data()).toUpper());
            m_status->setPlannedMemory(qint64(plan->memory.total()));
            if (!plan->fits)
                showError(tr("The model does not fit"),
                          tr("%1 needs %2 but %3 is available. Choices:\n%4")
                              .arg(summary.name, StatusWidgets::bytesText(qint64(plan->memory.total())),
                                   StatusWidgets::bytesText(qint64(plan->availableBytes)),
                                   QString::fromStdString(plan->report())));
        }
    } else if (!dialog->error().isEmpty()) {
        showError(tr("Cannot use the model"), dialog->error());
    }
    emit modelSettingsChanged();
}

void MainWindow::showModelFromSettings()
{
    // Named from the file without loading it: the worker loads the model when needed.
    const ModelSettings settings = ModelSettings::load();
    if (settings.usesServer()) {
        m_status->setModel(settings.server);
        return;
    }
    const QString path = settings.effectiveModelPath();
    m_status->setModel(path.isEmpty() ? QString() : QFileInfo(path).completeBaseName());
}

} // namespace folio
