#include "ui/models/model_manager_dialog.h"

#include "app/answers/embedded_answer_source.h"
#include "app/documents/document.h"
#include "app/reading/reading_plan.h"
#include "app/remote/api_key_store.h"
#include "engine/model/model.h"
#include "app/models/model_header.h"
#include "ui/models/download_page.h"
#include "ui/models/local_models_page.h"
#include "ui/models/server_page.h"
#include "ui/shell/status_widgets.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QPointer>
#include <QRadioButton>
#include <QSettings>
#include <QSpinBox>
#include <QTabWidget>
#include <QThread>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace folio {

namespace {

QLabel* valueLabel(const char* name)
{
    auto* label = new QLabel;
    label->setObjectName(QLatin1String(name));
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setWordWrap(true);
    return label;
}

} // namespace

ModelManagerDialog::ModelManagerDialog(QWidget* parent, ApiKeyStore* keys) : QDialog(parent)
{
    setObjectName(QStringLiteral("modelManager"));
    setWindowTitle(tr("Model Manager"));
    resize(720, 640);
    m_watcher = new QFutureWatcher<Inspection>(this);
    connect(m_watcher, &QFutureWatcher<Inspection>::finished, this, &ModelManagerDialog::onInspected);

    m_server = new ServerPage(keys ? keys : new ApiKeyStore(this));
    m_localChoice = new QRadioButton(tr("the local model"));
    m_localChoice->setObjectName(QStringLiteral("localBackendRadio"));
    m_serverChoice = new QRadioButton(tr("a server"));
    m_serverChoice->setObjectName(QStringLiteral("serverBackendRadio"));
    m_localChoice->setChecked(true);
    auto* choiceRow = new QHBoxLayout;
    choiceRow->addWidget(new QLabel(tr("Answer with:")));
    choiceRow->addWidget(m_localChoice);
    choiceRow->addWidget(m_serverChoice);
    choiceRow->addStretch(1);

    auto* tabs = new QTabWidget;
    m_tabs = tabs;
    tabs->setObjectName(QStringLiteral("modelManagerTabs"));
    tabs->addTab(createModelPage(), tr("Local model"));
    m_localModels = new LocalModelsPage;
    tabs->addTab(m_localModels, tr("On this computer"));
    m_downloads = new DownloadPage;
    tabs->addTab(m_downloads, tr("Download"));
    tabs->addTab(m_server, tr("Server"));
    connect(m_downloads, &DownloadPage::downloaded, this, [this](const QString& path) {
        m_localChoice->setChecked(true);
        m_tabs->setCurrentIndex(0);
        inspect(path);
        if (m_localModels->hasSearched())
            m_localModels->rescan();   // the new file is listed there too
    });
    connect(tabs, &QTabWidget::currentChanged, this, [this] {
        if (m_tabs->currentWidget() == m_localModels)
            m_localModels->searchOnce();
    });
    connect(m_localModels, &LocalModelsPage::chosen, this, [this](const QString& path) {
        m_localChoice->setChecked(true);
        m_tabs->setCurrentIndex(0);
        inspect(path);
    });
    tabs->addTab(createSettingsPage(), tr("Settings"));
    connect(m_serverChoice, &QRadioButton::toggled, this, [tabs, this](bool server) {
        tabs->setCurrentWidget(server ? static_cast<QWidget*>(m_server) : tabs->widget(0));
    });
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &ModelManagerDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &ModelManagerDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(choiceRow);
    layout->addWidget(tabs, 1);
    layout->addWidget(buttons);
    setSettings(ModelSettings::load());
}

// No wait for a model still loading: the load holds copies of what it needs, and its
// result goes with the watcher.
ModelManagerDialog::~ModelManagerDialog() = default;

QWidget* ModelManagerDialog::createModelPage()
{
    auto* page = new QWidget;
    m_path = new QLineEdit;
    m_path->setObjectName(QStringLiteral("modelPathEdit"));
    m_path->setPlaceholderText(tr("A GGUF model file"));
    auto* browse = new QPushButton(tr("Choose…"));
    browse->setObjectName(QStringLiteral("browseModelButton"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Choose a Model"), QFileInfo(m_path->text()).path(),
                                                          tr("GGUF models (*.gguf);;All files (*)"));
        if (!path.isEmpty())
            inspect(path);
    });
    connect(m_path, &QLineEdit::editingFinished, this, [this] {
        if (m_path->text() != m_summary.path)
            inspect(m_path->text());
    });
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browse);
    m_status = valueLabel("modelStatus");

    auto* metadata = new QGroupBox(tr("Metadata"));
    auto* form = new QFormLayout(metadata);
    form->addRow(tr("Name:"), valueLabel("metaName"));
    form->addRow(tr("Architecture:"), valueLabel("metaArchitecture"));
    form->addRow(tr("Parameters:"), valueLabel("metaParameters"));
    form->addRow(tr("Shape:"), valueLabel("metaShape"));
    form->addRow(tr("Tensor types:"), valueLabel("metaTensorTypes"));
    form->addRow(tr("Trained context:"), valueLabel("metaContext"));
    form->addRow(tr("RoPE:"), valueLabel("metaRope"));
    form->addRow(tr("Tokenizer:"), valueLabel("metaTokenizer"));
    form->addRow(tr("Chat template:"), valueLabel("metaChatTemplate"));

    auto* planBox = new QGroupBox(tr("Plan for the open document"));
    auto* planForm = new QFormLayout(planBox);
    planForm->addRow(tr("Document:"), valueLabel("planDocument"));
    planForm->addRow(tr("Method:"), valueLabel("planMethod"));
    planForm->addRow(tr("KV cache:"), valueLabel("planKv"));
    planForm->addRow(tr("Memory:"), valueLabel("planMemory"));
    planForm->addRow(tr("Fits:"), valueLabel("planFits"));
    planForm->addRow(tr("Choices:"), valueLabel("planSuggestions"));

    auto* layout = new QVBoxLayout(page);
    layout->addLayout(pathRow);
    layout->addWidget(m_status);
    layout->addWidget(metadata);
    layout->addWidget(planBox);
    layout->addStretch(1);
    return page;
}

QWidget* ModelManagerDialog::createSettingsPage()
{
    auto spin = [](const char* name, int lo, int hi, const QString& special = {}) {
        auto* box = new QSpinBox;
        box->setObjectName(QLatin1String(name));
        box->setRange(lo, hi);
        box->setSpecialValueText(special);
        return box;
    };
    auto dspin = [](const char* name, double lo, double hi, double step, int decimals, const QString& special = {}) {
        auto* box = new QDoubleSpinBox;
        box->setObjectName(QLatin1String(name));
        box->setRange(lo, hi);
        box->setSingleStep(step);
        box->setDecimals(decimals);
        box->setSpecialValueText(special);
        return box;
    };
    m_threads = spin("threadsSpin", 0, 256, tr("all cores (%1)").arg(QThread::idealThreadCount()));
    m_kv = new QComboBox;
    m_kv->setObjectName(QStringLiteral("kvCombo"));
    m_kv->addItem(tr("Automatic (F16 if it fits, else Q8_0, else Q4_0)"), QStringLiteral("auto"));
    for (const char* type : {"f16", "q8_0", "q4_0"})
        m_kv->addItem(QString::fromLatin1(type).toUpper(), QString::fromLatin1(type));
    m_method = new QComboBox;
    m_method->setObjectName(QStringLiteral("methodCombo"));
    m_method->addItem(tr("Automatic (none within the trained length, DCA beyond)"), QStringLiteral("auto"));
    m_method->addItem(tr("Dual Chunk Attention (DCA)"), QStringLiteral("dca"));
    m_method->addItem(tr("Position interpolation (PI)"), QStringLiteral("pi"));
    m_method->addItem(tr("NTK-aware scaling"), QStringLiteral("ntk"));
    m_method->addItem(tr("YaRN"), QStringLiteral("yarn"));
    m_method->addItem(tr("None (the trained length only)"), QStringLiteral("none"));
    m_scale = dspin("scaleSpin", 0, 128, 0.5, 2, tr("from the document's length"));
    m_yarnContext = spin("yarnContextSpin", 0, 1 << 20, tr("the trained length"));
    m_dcaChunk = spin("dcaChunkSpin", 0, 1 << 20, tr("from the model (3/4 of trained)"));
    m_dcaWindow = spin("dcaWindowSpin", -1, 1 << 20, tr("from the model (1/8 of trained)"));
    m_temperature = dspin("temperatureSpin", 0, 2, 0.05, 2);
    m_topP = dspin("topPSpin", 0, 1, 0.05, 2);
    m_topK = spin("topKSpin", 0, 1000, tr("off"));
    m_minP = dspin("minPSpin", 0, 1, 0.01, 2);
    m_repeat = dspin("repeatPenaltySpin", 1, 2, 0.05, 2);
    m_maxTokens = spin("maxTokensSpin", 16, 32768);
    m_thinking = new QCheckBox(tr("Let reasoning models think before they answer (Qwen3; the thinking is shown folded)"));
    m_thinking->setObjectName(QStringLiteral("thinkingCheck"));

    auto* page = new QWidget;
    auto* engine = new QGroupBox(tr("Engine"));
    auto* engineForm = new QFormLayout(engine);
    engineForm->addRow(tr("Threads:"), m_threads);
    engineForm->addRow(tr("KV cache type:"), m_kv);
    auto* extension = new QGroupBox(tr("Context extension"));
    auto* extensionForm = new QFormLayout(extension);
    extensionForm->addRow(tr("Method:"), m_method);
    extensionForm->addRow(tr("Scale factor (PI, NTK, YaRN):"), m_scale);
    extensionForm->addRow(tr("YaRN original context:"), m_yarnContext);
    extensionForm->addRow(tr("DCA chunk size:"), m_dcaChunk);
    extensionForm->addRow(tr("DCA local window:"), m_dcaWindow);
    auto* sampling = new QGroupBox(tr("Sampling"));
    auto* samplingForm = new QFormLayout(sampling);
    samplingForm->addRow(tr("Temperature (0: greedy):"), m_temperature);
    samplingForm->addRow(tr("Top-p:"), m_topP);
    samplingForm->addRow(tr("Top-k:"), m_topK);
    samplingForm->addRow(tr("Min-p:"), m_minP);
    samplingForm->addRow(tr("Repetition penalty:"), m_repeat);
    samplingForm->addRow(tr("Longest answer (tokens):"), m_maxTokens);
    samplingForm->addRow(QString(), m_thinking);
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(engine);
    layout->addWidget(extension);
    layout->addWidget(sampling);
    layout->addStretch(1);

    connect(m_method, &QComboBox::currentIndexChanged, this, [this] {
        updateParameterControls();
        updatePlan();
    });
    connect(m_kv, &QComboBox::currentIndexChanged, this, &ModelManagerDialog::updatePlan);
    return page;
}

void ModelManagerDialog::setValue(const char* name, const QString& text)
{
    if (auto* label = findChild<QLabel*>(QLatin1String(name)))
        label->setText(text);
}

void ModelManagerDialog::setDocument(std::shared_ptr<const Document> document)
{
    m_document = std::move(document);
    // About four characters a token until a model counts it.
    m_downloads->setDocumentTokens(m_document ? int(m_document->text.size() / 4) : 0);
    if (!m_path->text().isEmpty())
        inspect(m_path->text());   // count its tokens with this model
    else
        updatePlan();
}

void ModelManagerDialog::setSettings(const ModelSettings& s)
{
    QSettings store;
    m_server->setProfiles(loadServerProfiles(store), s.server);
    (s.usesServer() ? m_serverChoice : m_localChoice)->setChecked(true);
    m_threads->setValue(s.threads);
    m_kv->setCurrentIndex(std::max(0, m_kv->findData(s.kvType)));
    m_method->setCurrentIndex(std::max(0, m_method->findData(s.method)));
    m_scale->setValue(s.ropeScale);
    m_yarnContext->setValue(s.yarnOriginalContext);
    m_dcaChunk->setValue(s.dcaChunkSize);
    m_dcaWindow->setValue(s.dcaLocalWindow);
    m_temperature->setValue(s.temperature);
    m_topP->setValue(s.topP);
    m_topK->setValue(s.topK);
    m_minP->setValue(s.minP);
    m_repeat->setValue(s.repeatPenalty);
    m_maxTokens->setValue(s.maxTokens);
    m_thinking->setChecked(s.thinking);
    updateParameterControls();
    const QString path = s.effectiveModelPath();
    m_path->setText(path);
    if (!path.isEmpty())
        inspect(path);
    else
        m_status->setText(tr("No model chosen. Choose a GGUF file (Llama, Qwen2, Qwen3, Qwen3-MoE, Phi-3 or Gemma 3 family), or answer with a server."));
}

ModelSettings ModelManagerDialog::settings() const
{
    ModelSettings s;
    s.backend = usesServer() ? QStringLiteral("server") : QStringLiteral("local");
    s.server = m_server->current().address;
    s.modelPath = m_path->text();
    s.threads = m_threads->value();
    s.kvType = m_kv->currentData().toString();
    s.method = m_method->currentData().toString();
    s.ropeScale = m_scale->value();
    s.yarnOriginalContext = m_yarnContext->value();
    s.dcaChunkSize = m_dcaChunk->value();
    s.dcaLocalWindow = m_dcaWindow->value();
    s.temperature = m_temperature->value();
    s.topP = m_topP->value();
    s.topK = m_topK->value();
    s.minP = m_minP->value();
    s.repeatPenalty = m_repeat->value();
    s.maxTokens = m_maxTokens->value();
    s.thinking = m_thinking->isChecked();
    return s;
}

void ModelManagerDialog::updateParameterControls()
{
    const QString method = m_method->currentData().toString();
    const bool scaled = method == QLatin1String("pi") || method == QLatin1String("ntk") || method == QLatin1String("yarn");
    m_scale->setEnabled(scaled);
    m_yarnContext->setEnabled(method == QLatin1String("yarn"));
    const bool dca = method == QLatin1String("dca") || method == QLatin1String("auto");
    m_dcaChunk->setEnabled(dca);
    m_dcaWindow->setEnabled(dca);
}

void ModelManagerDialog::inspect(const QString& path)
{
    m_path->setText(path);
    if (m_watcher->isRunning()) {
        m_pendingPath = path;   // inspected when the one running finishes
        return;
    }
    m_status->setText(tr("Reading %1…").arg(QFileInfo(path).fileName()));
    const std::shared_ptr<const Document> document = m_document;
    // The file chosen before is checked against what it was then (size and header).
    std::optional<RememberedModel> remembered =
        rememberedModelFromVariant(QSettings().value(QStringLiteral("model/remembered")).toMap());
    if (remembered && remembered->path != path)
        remembered.reset();
    m_watcher->setFuture(QtConcurrent::run([path, document, remembered] {
        Inspection out;
        if (remembered) {
            const RememberedCheck check = checkRememberedModel(*remembered);
            if (!check.same)
                out.changed = check.reason;
        }
        try {
            out.model = Model::load(path.toStdString());
            out.identity = RememberedModel{path, QFileInfo(path).size(), readFingerprint({path})};
            out.summary = ModelSummary::of(*out.model);
            if (document)
                out.documentTokens = readingPromptTokens(*out.model, *document);
        } catch (const std::exception& e) {
            out.model.reset();
            out.error = QString::fromUtf8(e.what());
        }
        return out;
    }));
}

void ModelManagerDialog::onInspected()
{
    if (!m_pendingPath.isEmpty()) {
        const QString next = std::exchange(m_pendingPath, QString());
        inspect(next);
        return;
    }
    Inspection result = m_watcher->result();
    m_error = result.error;
    m_model = result.model;
    m_identity = result.identity;
    m_summary = result.model ? result.summary : ModelSummary{};
    m_documentTokens = result.documentTokens;
    if (m_documentTokens > 0)
        m_downloads->setDocumentTokens(m_documentTokens);
    const ModelSummary& s = m_summary;
    const QLocale locale;
    m_status->setText(m_model ? tr("%1, %2").arg(QFileInfo(s.path).fileName(), StatusWidgets::bytesText(s.fileBytes))
                              : tr("Cannot use this model: %1").arg(m_error));
    if (!result.changed.isEmpty())
        m_status->setText(m_status->text() + QLatin1Char('\n')
                          + tr("This is not the model chosen before: %1.").arg(result.changed));
    setValue("metaName", s.name);
    setValue("metaArchitecture", s.architecture);
    setValue("metaParameters", !m_model ? QString()
                               : s.activeParameters < s.parameters
                                   ? tr("%1 (%2 active per token)")
                                         .arg(ModelSummary::parameterText(s.parameters),
                                              ModelSummary::parameterText(s.activeParameters))
                                   : ModelSummary::parameterText(s.parameters));
    setValue("metaShape", s.shape);
    setValue("metaTensorTypes", s.tensorTypes);
    setValue("metaContext", m_model ? tr("%1 tokens").arg(locale.toString(s.trainedContext)) : QString());
    setValue("metaRope", m_model ? tr("%1; scaling %2").arg(s.rope, s.ropeScaling) : QString());
    setValue("metaTokenizer", s.tokenizer);
    setValue("metaChatTemplate", s.chatTemplate);
    updatePlan();
    emit modelInspected(m_model != nullptr);
}

void ModelManagerDialog::updatePlan()
{
    m_plan.reset();
    const char* fields[] = {"planDocument", "planMethod", "planKv", "planMemory", "planFits", "planSuggestions"};
    for (const char* field : fields)
        setValue(field, QString());
    if (!m_model)
        return;
    const QLocale locale;
    // The worker's own plan for the document; with none, a full trained context (what a
    // chat without one needs).
    const ReadingOptions options = readingOptions(settings());
    try {
        if (m_documentTokens > 0) {
            m_plan = planReading(*m_model, m_documentTokens, options);
        } else {
            const ModelSettings s = settings();
            m_plan = planContext(*m_model, s.planRequest(m_summary.trainedContext));
            s.applyOverrides(m_plan->options);
        }
    } catch (const std::exception& e) {
        setValue("planFits", tr("cannot plan: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    const ContextPlan& plan = *m_plan;
    setValue("planDocument", m_documentTokens > 0
                                 ? tr("%1: %2 tokens (+%3 for the conversation)")
                                       .arg(m_document->title, locale.toString(m_documentTokens),
                                            locale.toString(plannedContextTokens(m_documentTokens, options) - m_documentTokens))
                                 : tr("no document open: planned for the trained context"));
    setValue("planMethod", tr("%1 — %2").arg(extensionSummary(plan, m_summary.trainedContext),
                                             QString::fromStdString(plan.extension)));
    setValue("planKv", QString::fromLatin1(kvTypeName(plan.options.kvType).data()).toUpper());
    setValue("planMemory", tr("%1 (weights %2, KV cache %3, scratch %4) of %5 available")
                               .arg(StatusWidgets::bytesText(qint64(plan.memory.total())),
                                    StatusWidgets::bytesText(qint64(plan.memory.weightBytes)),
                                    StatusWidgets::bytesText(qint64(plan.memory.kvBytes)),
                                    StatusWidgets::bytesText(qint64(plan.memory.scratchBytes)),
                                    StatusWidgets::bytesText(qint64(plan.availableBytes))));
    setValue("planFits", plan.fits ? tr("yes") : tr("no — see the choices below"));
    QStringList choices;
    for (const std::string& suggestion : plan.suggestions)
        choices << QStringLiteral("• ") + QString::fromStdString(suggestion);
    setValue("planSuggestions", choices.isEmpty() ? tr("—") : choices.join(QLatin1Char('\n')));
}

void ModelManagerDialog::showLocalModels() { m_tabs->setCurrentWidget(m_localModels); }

void ModelManagerDialog::showDownloads() { m_tabs->setCurrentWidget(m_downloads); }

bool ModelManagerDialog::usesServer() const { return m_serverChoice->isChecked(); }

void ModelManagerDialog::accept()
{
    if (m_accepting)
        return;
    m_accepting = true;
    QSettings store;
    saveServerProfiles(store, m_server->profiles());
    settings().save();
    // Remembered by path, size and header, to notice a file replaced under the same name.
    if (m_identity && m_identity->path == m_path->text())
        store.setValue(QStringLiteral("model/remembered"), rememberedModelToVariant(*m_identity));
    // The key first: the answer source reads it as soon as the dialog is accepted.
    QPointer<ModelManagerDialog> self(this);
    m_server->saveKey([self](const QString& notice) {
        if (!self)
            return;
        if (!notice.isEmpty())
            emit self->keyNotice(notice);
        self->QDialog::accept();
    });
}

} // namespace folio
