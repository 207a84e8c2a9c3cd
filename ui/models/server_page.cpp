#include "ui/models/server_page.h"

#include "app/remote/api_key_store.h"
#include "app/remote/server_endpoint.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace folio {

namespace {

QString modelText(const RemoteModel& model)
{
    if (!model.contextLength)
        return QObject::tr("%1 — context not stated by the server").arg(model.id);
    return QObject::tr("%1 — %2 tokens (%3)")
        .arg(model.id, QLocale().toString(*model.contextLength), model.contextSource);
}

} // namespace

ServerPage::ServerPage(ApiKeyStore* keys, QWidget* parent) : QWidget(parent), m_keys(keys)
{
    m_saved = new QComboBox;
    m_saved->setObjectName(QStringLiteral("savedServersCombo"));
    auto* add = new QPushButton(tr("New"));
    add->setObjectName(QStringLiteral("newServerButton"));
    auto* forget = new QPushButton(tr("Forget"));
    forget->setObjectName(QStringLiteral("forgetServerButton"));
    auto* savedRow = new QHBoxLayout;
    savedRow->addWidget(m_saved, 1);
    savedRow->addWidget(add);
    savedRow->addWidget(forget);

    m_address = new QLineEdit;
    m_address->setObjectName(QStringLiteral("serverAddressEdit"));
    m_address->setPlaceholderText(QStringLiteral("http://localhost:8000/v1"));
    auto* examples = new QLabel(tr("For example: vLLM http://HOST:8000/v1 · llama.cpp server http://HOST:8080/v1 · "
                                   "Ollama http://HOST:11434/v1 · LM Studio http://HOST:1234/v1 · "
                                   "folio-server http://HOST:8080/v1"));
    examples->setWordWrap(true);
    examples->setEnabled(false);
    m_key = new QLineEdit;
    m_key->setObjectName(QStringLiteral("serverKeyEdit"));
    m_key->setEchoMode(QLineEdit::Password);
    m_key->setPlaceholderText(tr("optional; kept in the system keyring"));
    m_keyNotice = new QLabel;
    m_keyNotice->setObjectName(QStringLiteral("serverKeyNotice"));
    m_keyNotice->setWordWrap(true);
    m_timeout = new QSpinBox;
    m_timeout->setObjectName(QStringLiteral("serverTimeoutSpin"));
    m_timeout->setRange(5, 3600);
    m_timeout->setSuffix(tr(" s"));
    m_timeout->setToolTip(tr("How long to wait for the server's next bytes; a long prompt's first token can take minutes."));
    m_model = new QComboBox;
    m_model->setObjectName(QStringLiteral("serverModelCombo"));
    m_test = new QPushButton(tr("Test connection"));
    m_test->setObjectName(QStringLiteral("testConnectionButton"));
    m_status = new QLabel(tr("Not tested yet."));
    m_status->setObjectName(QStringLiteral("serverStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* form = new QFormLayout;
    form->addRow(tr("Saved servers:"), savedRow);
    form->addRow(tr("Address:"), m_address);
    form->addRow(QString(), examples);
    form->addRow(tr("API key:"), m_key);
    form->addRow(QString(), m_keyNotice);
    form->addRow(tr("Idle timeout:"), m_timeout);
    form->addRow(tr("Model:"), m_model);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_test, 0, Qt::AlignLeft);
    layout->addWidget(m_status);
    layout->addStretch(1);

    connect(m_saved, &QComboBox::activated, this, [this](int index) {
        stash();
        show(index);
    });
    connect(add, &QPushButton::clicked, this, [this] {
        stash();
        m_profiles.append(ServerProfile{});
        m_saved->addItem(tr("(new server)"));
        show(int(m_profiles.size()) - 1);
        m_address->setFocus();
    });
    connect(forget, &QPushButton::clicked, this, &ServerPage::forgetCurrent);
    connect(m_test, &QPushButton::clicked, this, &ServerPage::testConnection);
    connect(m_key, &QLineEdit::textEdited, this, [this] { m_keyEdited = true; });
    connect(m_address, &QLineEdit::textEdited, this, [this] {
        m_models.clear();
        m_keyRead++;   // a key read for the old address must not land here
        setStatus(tr("Not tested yet."), false);
    });
}

ServerPage::~ServerPage() = default;

void ServerPage::setProfiles(const QList<ServerProfile>& profiles, const QString& current)
{
    m_profiles = profiles;
    if (m_profiles.isEmpty())
        m_profiles.append(ServerProfile{});
    m_saved->clear();
    int shown = 0;
    for (int i = 0; i < m_profiles.size(); ++i) {
        m_saved->addItem(m_profiles[i].address.isEmpty() ? tr("(new server)") : m_profiles[i].address);
        if (m_profiles[i].address == current)
            shown = i;
    }
    m_index = -1;
    show(shown);
}

void ServerPage::show(int index)
{
    m_index = index;
    m_saved->setCurrentIndex(index);
    const ServerProfile& profile = m_profiles[index];
    m_address->setText(profile.address);
    m_timeout->setValue(profile.idleTimeoutSeconds);
    m_models.clear();
    fillModels(profile.model);
    m_key->clear();
    m_keyEdited = false;
    m_keyNotice->clear();
    m_keyNotice->hide();
    setStatus(tr("Not tested yet."), false);
    if (profile.address.isEmpty())
        return;
    const quint64 read = ++m_keyRead;
    QPointer<ServerPage> self(this);
    m_keys->read(profile.address, [self, read](const QString& key, const QString& notice) {
        if (!self || read != self->m_keyRead || self->m_keyEdited)
            return;
        self->m_key->setText(key);
        self->m_keyNotice->setText(notice);
        self->m_keyNotice->setVisible(!notice.isEmpty());
    });
}

void ServerPage::stash()
{
    if (m_index < 0 || m_index >= m_profiles.size())
        return;
    m_profiles[m_index] = current();
    m_saved->setItemText(m_index, m_profiles[m_index].address.isEmpty() ? tr("(new server)")
                                                                        : m_profiles[m_index].address);
}

ServerProfile ServerPage::current() const
{
    ServerProfile profile;
    profile.address = m_address->text().trimmed();
    profile.model = m_model->currentData().toString();
    profile.idleTimeoutSeconds = m_timeout->value();
    return profile;
}

QList<ServerProfile> ServerPage::profiles() const
{
    QList<ServerProfile> out;
    for (int i = 0; i < m_profiles.size(); ++i) {
        const ServerProfile profile = i == m_index ? current() : m_profiles[i];
        if (!profile.address.isEmpty())
            out.append(profile);
    }
    return out;
}

QString ServerPage::apiKey() const { return m_key->text(); }

void ServerPage::forgetCurrent()
{
    if (m_index < 0)
        return;
    const QString address = m_profiles[m_index].address;
    if (!address.isEmpty())
        m_keys->remove(address);
    m_profiles.removeAt(m_index);
    m_saved->removeItem(m_index);
    if (m_profiles.isEmpty()) {
        m_profiles.append(ServerProfile{});
        m_saved->addItem(tr("(new server)"));
    }
    show(0);
}

void ServerPage::setStatus(const QString& text, bool error)
{
    m_status->setText(text);
    m_status->setProperty("error", error);
    m_status->setStyleSheet(error ? QStringLiteral("color: palette(bright-text); background: #a33; padding: 4px;")
                                  : QString());
}

void ServerPage::fillModels(const QString& chosen)
{
    m_model->clear();
    if (m_models.isEmpty()) {
        m_model->addItem(chosen.isEmpty() ? tr("the first the server lists") : chosen, chosen);
        return;
    }
    for (const RemoteModel& model : m_models)
        m_model->addItem(modelText(model), model.id);
    m_model->setCurrentIndex(std::max(0, m_model->findData(chosen)));
}

void ServerPage::testConnection()
{
    QString problem;
    const auto endpoint = ServerEndpoint::parse(m_address->text().trimmed(), &problem);
    if (!endpoint) {
        setStatus(tr("Not a server address: %1").arg(problem), true);
        emit tested(false);
        return;
    }
    HttpOptions options;
    options.idleTimeoutMs = m_timeout->value() * 1000;
    options.rateLimitRetries = 0;   // a test says what the server answers now
    m_client = std::make_unique<OpenAiClient>(*endpoint, m_key->text(), options);
    m_test->setEnabled(false);
    setStatus(tr("Asking %1 for its models…").arg(endpoint->text()), false);
    const QString chosen = m_model->currentData().toString();
    OpenAiClient* client = m_client.get();
    client->listModels([this, client, chosen](const QList<RemoteModel>& models, const std::optional<RemoteError>& error) {
        if (client != m_client.get())
            return;
        m_test->setEnabled(true);
        if (error) {
            m_models.clear();
            fillModels(chosen);
            setStatus(tr("The server cannot be used: %1").arg(error->message()), true);
            emit tested(false);
            return;
        }
        m_models = models;
        fillModels(chosen);
        setStatus(models.isEmpty() ? tr("Connected, but the server lists no models.")
                                   : (models.size() == 1 ? tr("Connected: 1 model.") : tr("Connected: %1 models.").arg(models.size())),
                  models.isEmpty());
        emit tested(!models.isEmpty());
    });
}

void ServerPage::saveKey(std::function<void(const QString&)> done)
{
    const QString address = m_address->text().trimmed();
    if (!m_keyEdited || address.isEmpty())
        return done({});
    if (m_key->text().isEmpty()) {
        m_keys->remove(address, [done] { done({}); });
        return;
    }
    m_keys->write(address, m_key->text(), [done](bool, const QString& notice) { done(notice); });
}

} // namespace folio
