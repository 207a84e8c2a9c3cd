// The model manager: choose a GGUF file, see what it is (architecture, parameters,
// tensor types, trained context, RoPE, tokenizer, chat template) and what the context
// planner says about reading the open document with it (method, memory, whether it
// fits, and the choices when it does not); set threads, KV cache type, the extension
// method with its parameters, and sampling. Loading runs off the GUI thread.
// Or a server answers instead (the "Server" page): which one is chosen at the top.
#pragma once

#include "app/models/model_list.h"
#include "app/settings/model_settings.h"
#include "ui/models/model_summary.h"

#include <QDialog>
#include <QFutureWatcher>

#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;
class QTabWidget;

namespace folio {

class ApiKeyStore;
class Model;
class DownloadPage;
class LocalModelsPage;
class ServerPage;
struct Document;

class ModelManagerDialog : public QDialog {
    Q_OBJECT
public:
    // keys: the application's keyring reader/writer (it must outlive the dialog, whose
    // key writes finish after it closes); null: one of the dialog's own.
    explicit ModelManagerDialog(QWidget* parent = nullptr, ApiKeyStore* keys = nullptr);
    ~ModelManagerDialog() override;

    // The open document (its reading prompt counted with the model's tokenizer and
    // template when the model loads, as the worker counts it); null: no document, the
    // plan is for the trained context.
    void setDocument(std::shared_ptr<const Document> document);
    void setSettings(const ModelSettings& settings);   // also inspects its model
    ModelSettings settings() const;
    void inspect(const QString& path);

    std::shared_ptr<const Model> model() const { return m_model; }
    const ModelSummary& summary() const { return m_summary; }
    const std::optional<ContextPlan>& plan() const { return m_plan; }
    int documentTokens() const { return m_documentTokens; }
    QString error() const { return m_error; }

    ServerPage* serverPage() const { return m_server; }
    LocalModelsPage* localModelsPage() const { return m_localModels; }
    DownloadPage* downloadPage() const { return m_downloads; }
    void showDownloads();
    // Shows the "On this computer" page (searching there the first time).
    void showLocalModels();
    bool usesServer() const;

    // Saves the settings and the saved servers, and the key in the keyring; closes
    // once the keyring has answered.
    void accept() override;

signals:
    void modelInspected(bool ok);
    void keyNotice(const QString& message);   // the key is kept for this session only: why

private:
    struct Inspection {
        std::shared_ptr<const Model> model;
        ModelSummary summary;
        int documentTokens = 0;
        QString error;
        QString changed;   // the file is no longer the model chosen before: why
        std::optional<RememberedModel> identity;   // what to remember it by when chosen
    };
    QWidget* createModelPage();
    QWidget* createSettingsPage();
    void onInspected();
    void updatePlan();
    void updateParameterControls();
    void setValue(const char* name, const QString& text);

    std::shared_ptr<const Document> m_document;
    std::shared_ptr<const Model> m_model;
    ModelSummary m_summary;
    std::optional<ContextPlan> m_plan;
    int m_documentTokens = 0;
    QString m_error;
    QFutureWatcher<Inspection>* m_watcher;
    QString m_pendingPath;

    std::optional<RememberedModel> m_identity;
    ServerPage* m_server = nullptr;
    LocalModelsPage* m_localModels = nullptr;
    DownloadPage* m_downloads = nullptr;
    QTabWidget* m_tabs = nullptr;
    QRadioButton* m_localChoice = nullptr;
    QRadioButton* m_serverChoice = nullptr;
    bool m_accepting = false;
    QLineEdit* m_path = nullptr;
    QLabel* m_status = nullptr;
    QSpinBox* m_threads = nullptr;
    QComboBox* m_kv = nullptr;
    QComboBox* m_method = nullptr;
    QDoubleSpinBox* m_scale = nullptr;
    QSpinBox* m_yarnContext = nullptr;
    QSpinBox* m_dcaChunk = nullptr;
    QSpinBox* m_dcaWindow = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QDoubleSpinBox* m_topP = nullptr;
    QSpinBox* m_topK = nullptr;
    QDoubleSpinBox* m_minP = nullptr;
    QDoubleSpinBox* m_repeat = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QCheckBox* m_thinking = nullptr;
};

} // namespace folio
