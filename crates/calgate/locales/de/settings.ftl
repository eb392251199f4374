# calgate: settings words (de)

## The page
set-title = Einstellungen der Kalenderintegration
set-source-title = Quelle { $id }
set-source-new = neu: wird beim Speichern angelegt
set-all-sources = Alle Quellen
set-saved = Einstellungen gespeichert und übernommen.
set-warnings = Warnungen
set-warning = Warnung:
set-group-source = Quelle
set-display-name = Anzeigename
set-display-name-help = Unter diesem Namen führen die Seiten Quellen und Zustand diese Quelle. Ihre ID, { $id }, ist der Name im Routing und ändert sich nicht.
set-show-fields = Felder für diesen Anbieter anzeigen
set-save = Speichern
set-nothing-saved = Es wurde nichts gespeichert: { $count ->
        [one] ein Feld muss
       *[other] { $count } Felder müssen
    } korrigiert werden.
set-nothing-tested = Es wurde nichts getestet: { $count ->
        [one] ein Feld muss
       *[other] { $count } Felder müssen
    } korrigiert werden.
set-db-refused = Die Datenbank hat das Speichern abgelehnt: { $error }

## The groups of the form
set-group-provider = Kalenderquelle
set-group-auth = Authentifizierung
set-group-exchange = Exchange-Server
set-group-refresh = Aktualisierung und Datenschutz
set-group-advanced = Erweiterte Verbindungseinstellungen

## The fields
set-provider-label = Anbieter
set-provider-help = Exchange lokal: Ihr eigener Exchange-Server über EWS. Office 365 (EWS): Exchange Online über EWS (ab 1. Oktober 2026 standardmäßig blockiert, ab 1. April 2027 abgeschaltet). Microsoft 365 (Graph): Exchange Online über Microsoft Graph (für Exchange Online empfohlen).
set-grant-basic-auth-label = Basic-Authentifizierung zulassen
set-grant-basic-auth-help = Anmeldung an EWS mit Benutzername und Kennwort des Dienstkontos. Exchange Online lehnt die Basic-Authentifizierung seit 2022 ab. Bei Exchange lokal wird Basic auch verwendet, wenn keines der beiden Verfahren zugelassen ist.
set-grant-modern-auth-label = Moderne Authentifizierung zulassen
set-grant-modern-auth-help = Anmeldung mit OAuth2 bei Entra ID als Dienstkonto (delegiert). Benötigt die Verzeichnis-ID (Mandant) und die Anwendungs-ID (Client). Sind beide Verfahren zugelassen, wird die moderne Authentifizierung verwendet und Basic nur, wenn der Server überhaupt keine Bearer-Anmeldung anbietet. Bei Microsoft 365 (Graph) ohne geheimen Clientschlüssel oder Zertifikat wird damit die delegierte Anmeldung gewählt.
set-grant-windows-auth-label = Windows-Authentifizierung zulassen (NTLM/Negotiate)
set-grant-windows-auth-help = Anmeldung an lokalem EWS mit Windows-Authentifizierung, wie sie ein Exchange 2013–2019/SE in der Standardkonfiguration bei abgeschaltetem Basic anbietet: NTLMv2, allein oder innerhalb von Negotiate, je nachdem, was der Server anbietet. Benutzername als DOMÄNE\benutzer oder als UPN. Kerberos wird nicht verwendet. Sind mehrere Verfahren zugelassen, werden sie in der Reihenfolge modern, Windows, Basic versucht, und nur die, die der Server anbietet.
set-tenant-id-label = Verzeichnis-ID (Mandant)
set-tenant-id-help = Der Entra ID-Mandant: seine GUID oder einer seiner verifizierten Domänennamen (contoso.onmicrosoft.com).
set-tenant-id-placeholder = GUID oder contoso.onmicrosoft.com
set-client-id-label = Anwendungs-ID (Client)
set-client-id-help = Die GUID der App-Registrierung, mit der sich calgate anmeldet.
set-username-label = Benutzername
set-username-help = Das Dienstkonto (user@contoso.com oder lokal DOMÄNE\benutzer). Geben Sie ihm nur die Rechte, die es zum Lesen der Frei/Gebucht-Informationen braucht.
set-password-label = Kennwort
set-password-help = Das Kennwort des Dienstkontos. Nur schreibbar: Es wird verschlüsselt gespeichert und nie wieder angezeigt. Lassen Sie das Feld leer, um das gespeicherte zu behalten.
set-client-secret-label = Geheimer Clientschlüssel
set-client-secret-help = Für reinen App-Zugriff mit Microsoft 365 (Graph): ein geheimer Clientschlüssel der App-Registrierung. Nur schreibbar.
set-client-certificate-pem-label = Clientzertifikat (PEM)
set-client-certificate-pem-help = Für reinen App-Zugriff mit Microsoft 365 (Graph): das in die App-Registrierung hochgeladene Zertifikat und sein unverschlüsselter privater Schlüssel, beide im PEM-Format. Sind beide gesetzt, wird es statt des geheimen Clientschlüssels verwendet. Nur schreibbar.
set-exchange-version-label = Exchange-Version
set-exchange-version-help = Die älteste Exchange-Version unter Ihren Servern; sie bestimmt das Anfrageformat und ob Abwesenheitsnotizen gelesen werden können (ab 2010). Wählen Sie 2013 SP1 für 2016, 2019, Subscription Edition und Exchange Online.
set-ews-url-label = EWS-URL
set-ews-url-help = Der Endpunkt der Exchange Web Services, etwa https://mail.contoso.com/EWS/Exchange.asmx. Pflicht für Exchange lokal; bei Office 365 (EWS) ist https://outlook.office365.com/EWS/Exchange.asmx voreingestellt.
set-refresh-interval-s-label = Aktualisierungsintervall der Daten (s)
set-refresh-interval-s-help = Wie oft jeder beobachtete Kalender neu gelesen wird; das begrenzt, wie spät eine Kalenderänderung sichtbar wird (Beginn und Ende von Besprechungen werden trotzdem sekundengenau angezeigt). Unter 60 s drohen Drosselung und Kontosperren.
set-presence-label = Teams-Präsenz
set-presence-help = Liest zusätzlich die Microsoft-Teams-Präsenz jeder beobachteten Person (Im Anruf, In einer Besprechung, Nicht stören…) und zeigt sie neben dem Kalenderstatus. Benötigt die Anwendungsberechtigung Presence.Read.All; die Präsenz ändert den Kalenderstatus nie.
set-presence-interval-s-label = Aktualisierungsintervall der Präsenz (s)
set-presence-interval-s-help = Wie oft die Teams-Präsenz gelesen wird, 650 Personen pro Anfrage.
set-change-notifications-label = Änderungsbenachrichtigungen
set-change-notifications-help = Microsoft Graph meldet calgate sofort, wenn sich ein Kalender ändert (ein Abonnement je beobachtetem Postfach), statt bei jeder Aktualisierung alle Kalender zu lesen; beim Sicherheitsdurchlauf werden trotzdem alle gelesen. Benötigt eine App-Registrierung mit einer Anwendungsberechtigung zum Lesen von Kalendern und eine Benachrichtigungs-URL, die Graph erreicht.
set-notification-url-label = Benachrichtigungs-URL
set-notification-url-help = Die öffentliche Adresse dieses Gateways, wie Microsoft Graph sie erreicht, etwa https://calgate.contoso.com; Graph sendet an /api/v1/notifications/graph darunter.
set-notification-sweep-s-label = Intervall des Sicherheitsdurchlaufs (s)
set-notification-sweep-s-help = Wie oft bei eingeschalteten Änderungsbenachrichtigungen trotzdem jeder Kalender gelesen wird; eine verlorene Benachrichtigung kostet höchstens so lange. Postfächer ohne funktionierendes Abonnement werden im Aktualisierungsintervall gelesen.
set-privacy-label = Datenschutz
set-privacy-help = Was die Vermittlung von einem Termin sieht: nur den Status, den Betreff oder Betreff und Ort. Private Termine erscheinen immer als „Privater Termin“.
set-allow-insecure-http-label = Unsicheres http:// erlauben
set-allow-insecure-http-help = Erlaubt unverschlüsselte http://-URLs (nur für Testumgebungen): Kennwörter und Kalenderdaten werden dann unverschlüsselt übertragen.
set-authority-host-label = Entra ID-Autoritätshost
set-authority-host-help = Wohin Anmeldungen gehen: https://login.microsoftonline.com oder die Autorität einer nationalen Cloud. Ein leeres Feld stellt den Standardwert wieder her.
set-graph-endpoint-label = Microsoft Graph-Endpunkt
set-graph-endpoint-help = https://graph.microsoft.com oder der Graph-Endpunkt einer nationalen Cloud. Ein leeres Feld stellt den Standardwert wieder her.
set-extra-ca-pem-label = Zusätzliche vertrauenswürdige CA-Zertifikate (PEM)
set-extra-ca-pem-help = Zertifikate einer privaten Zertifizierungsstelle, der zusätzlich zu den öffentlichen vertraut wird (etwa bei einem lokalen Exchange mit interner CA).
set-status-rules-label = Statusregeln
set-status-rules-help = Wie Termine für die Vermittlung erscheinen: vorläufige Termine (als vorläufig, gebucht oder frei), „Arbeitet woanders“ (als arbeitet woanders, frei oder gebucht) und, wenn gewünscht, ganztägige, als frei markierte Termine, die den Status dann nicht ändern.
set-rule-tentative = Vorläufige Termine erscheinen als
set-rule-elsewhere = „Arbeitet woanders“ erscheint als
set-rule-all-day-free = Ganztägige, als frei markierte Termine ignorieren

## The choices of the lists
set-choice-exchange = Exchange lokal
set-choice-exchange2013-sp1 = Exchange 2013 SP1 oder neuer
set-choice-status-only = Nur Status
set-choice-subject = Betreff
set-choice-subject-location = Betreff und Ort
set-choice-tentative = Vorläufig
set-choice-busy = Gebucht
set-choice-free = Frei
set-choice-working-elsewhere = Arbeitet woanders

## Write-only fields
set-secret-set = gesetzt
set-secret-not-set = nicht gesetzt
set-secret-keep = gesetzt — leer lassen, um es zu behalten
set-secret-clear = entfernen

## Field errors
set-err-whole-seconds = erwartet wird eine ganze Zahl von Sekunden
set-err-refresh-range = muss zwischen 10 und 86400 Sekunden liegen
set-err-presence-range = muss zwischen 10 und 3600 Sekunden liegen
set-err-sweep-range = muss zwischen 300 und 86400 Sekunden liegen
set-err-url-query = darf keine ?Abfrage enthalten
set-err-notification-url-required = wird für Änderungsbenachrichtigungen benötigt (die öffentliche Adresse dieses Gateways, etwa https://calgate.contoso.com)
set-err-tenant-id = muss die GUID des Mandanten oder einer seiner Domänennamen sein (contoso.onmicrosoft.com)
set-err-client-id = muss eine GUID sein, etwa 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d
set-err-tenant-required-graph = Die Verzeichnis-ID (Mandant) ist für Microsoft 365 (Graph) erforderlich
set-err-tenant-required-modern = Die Verzeichnis-ID (Mandant) ist für die moderne Authentifizierung erforderlich
set-err-client-required-graph = Die Anwendungs-ID (Client) ist für Microsoft 365 (Graph) erforderlich
set-err-client-required-modern = Die Anwendungs-ID (Client) ist für die moderne Authentifizierung erforderlich
set-err-username-long = darf höchstens 256 Zeichen lang sein
set-err-control-chars = darf keine Steuerzeichen enthalten
set-err-username-basic = der Benutzername des Dienstkontos ist für die Basic-Authentifizierung erforderlich
set-err-username-windows = der Benutzername des Dienstkontos ist für die Windows-Authentifizierung erforderlich
set-err-password-basic = das Kennwort des Dienstkontos ist für die Basic-Authentifizierung erforderlich
set-err-password-windows = das Kennwort des Dienstkontos ist für die Windows-Authentifizierung erforderlich
set-err-windows-domain = die Domäne vor \ ist leer: Schreiben Sie DOMÄNE\benutzer oder einen UPN
set-err-windows-user = der Benutzer nach \ fehlt: Schreiben Sie DOMÄNE\benutzer oder einen UPN
set-err-windows-name = die Windows-Authentifizierung braucht DOMÄNE\benutzer oder einen UPN (benutzer@domäne)
set-err-office365-grant = Office 365 (EWS) braucht die moderne Authentifizierung (empfohlen) oder Basic
set-err-graph-basic = Microsoft Graph akzeptiert keine Basic-Authentifizierung; schalten Sie sie für Microsoft 365 (Graph) aus
set-err-windows-provider = die Windows-Authentifizierung gibt es nur für Exchange lokal; Exchange Online und Microsoft Graph bieten sie nicht an
set-err-graph-sign-in = reiner App-Zugriff braucht einen geheimen Clientschlüssel oder ein Clientzertifikat (oder lassen Sie die moderne Authentifizierung für eine delegierte Anmeldung zu)
set-err-ews-url-required = ist für Exchange lokal erforderlich (etwa https://mail.contoso.com/EWS/Exchange.asmx)
set-err-url-absolute = muss eine absolute URL sein, etwa https://…
set-err-url-scheme = muss mit https:// beginnen
set-err-url-credentials = darf weder Benutzernamen noch Kennwort enthalten
set-err-url-fragment = darf kein #Fragment enthalten
set-err-url-https = muss https:// verwenden (http:// erfordert „Unsicheres http:// erlauben“)
set-err-url-metadata = darf nicht auf eine Link-Local-Adresse oder einen Cloud-Metadatendienst zeigen
set-err-key-encrypted = der private Schlüssel ist verschlüsselt; fügen Sie ihn ohne Passphrase ein
set-err-no-certificate = kein Zertifikat gefunden (-----BEGIN CERTIFICATE-----)
set-err-no-private-key = kein privater Schlüssel gefunden (-----BEGIN PRIVATE KEY-----)
set-err-ca-has-key = enthält einen privaten Schlüssel; fügen Sie nur die CA-Zertifikate ein
set-err-pem-none = kein PEM-Block (-----BEGIN …-----) gefunden
set-err-pem-unterminated = einem PEM-Block fehlt die passende Zeile -----END …-----
set-err-pem-base64 = der Inhalt eines PEM-Blocks ist kein gültiges Base64
set-err-pem-der = ein PEM-Block enthält keine DER-Daten
set-err-reentry-password = der Server hat sich geändert: Geben Sie das Kennwort erneut ein (ein gespeichertes Kennwort wird nur an den Server gesendet, für den es eingegeben wurde)
set-err-reentry-client-secret = der Server hat sich geändert: Geben Sie den geheimen Clientschlüssel erneut ein (ein gespeicherter Clientschlüssel wird nur an den Server gesendet, für den er eingegeben wurde)
set-err-reentry-certificate = der Server hat sich geändert: Geben Sie das Clientzertifikat erneut ein (ein gespeichertes Clientzertifikat wird nur an den Server gesendet, für den es eingegeben wurde)
set-err-display-name-long = ein Anzeigename hat höchstens 64 Zeichen
set-err-display-name-control = ein Anzeigename darf keine Steuerzeichen enthalten

## Warnings of a save or a test
set-warn-both-auth = Basic- und moderne Authentifizierung sind beide zugelassen. Verwendet wird die moderne Authentifizierung; Basic nur, wenn der Server überhaupt keine Bearer-Anmeldung anbietet, nie nach abgelehnten Zugangsdaten.
set-warn-windows-order = Mehrere Anmeldeverfahren sind zugelassen. Sie werden in der Reihenfolge { $order } versucht, jedes nur, wenn der Server das vorherige nicht anbietet, nie nach abgelehnten Zugangsdaten.
set-auth-modern = modern
set-auth-windows = Windows
set-auth-basic = Basic
set-auth-then = { $first }, dann { $next }
set-warn-basic-online = Exchange Online lehnt die Basic-Authentifizierung ab, seit Microsoft sie 2022 abgeschaltet hat; lassen Sie stattdessen die moderne Authentifizierung zu.
set-warn-ews-retirement = Exchange Online blockiert EWS ab dem 1. Oktober 2026 standardmäßig und schaltet es am 1. April 2027 ab. Wechseln Sie vorher zum Anbieter Microsoft 365 (Graph).
set-warn-refresh-low = Ein Aktualisierungsintervall von { $interval } s liegt unter { $min } s: Exchange kann calgate drosseln, und mit einem falschen Kennwort kann das Dienstkonto binnen Sekunden gesperrt werden.
set-warn-ews-path = Der Pfad { $path } der EWS-URL endet nicht auf /EWS/Exchange.asmx. Er wurde gespeichert; prüfen Sie, ob es der Endpunkt der Exchange Web Services ist.
set-warn-insecure-http = { $count ->
        [one] { $fields } verwendet
       *[other] { $fields } verwenden
    } unverschlüsseltes http://: Kennwort, Token und Kalenderdaten werden unverschlüsselt übertragen. Verwenden Sie das nur in einer Testumgebung.
set-warn-local-target = { $count ->
        [one] { $fields } zeigt
       *[other] { $fields } zeigen
    } auf diesen Rechner selbst (Loopback). Gespeichert; stellen Sie sicher, dass das beabsichtigt ist, etwa für einen lokalen Proxy oder eine Testumgebung.

## The device-code sign-in
set-device-title = Anmeldung mit Gerätecode
set-device-help = Melden Sie calgate einmalig auf der Microsoft-Seite als Dienstkonto an (einschließlich MFA), statt sein Kennwort zu speichern. Verwendet die oben gespeicherte Verzeichnis-ID (Mandant) und Anwendungs-ID (Client).
set-device-only = Die Anmeldung mit Gerätecode gibt es nur für die Quelle { $id }. Speichern Sie für diese Quelle Benutzername und Kennwort des Dienstkontos mit „Moderne Authentifizierung zulassen“, oder verwenden Sie Microsoft 365 (Graph) mit einem geheimen Schlüssel oder Zertifikat der App.
set-device-open = Öffnen Sie { $uri } und geben Sie bis { $expires } den Code { $code } ein.
set-device-again = Neu starten
set-device-start = Anmeldung mit Gerätecode starten
set-device-none = Nicht gestartet.
set-device-pending = Warten, bis Sie den Code auf der Anmeldeseite von Microsoft eingeben…
set-device-done = Angemeldet. calgate liest die Kalender mit dieser Anmeldung.
set-device-done-as = Angemeldet als { $user }. calgate liest die Kalender mit dieser Anmeldung.
set-device-expired = Der Code ist abgelaufen, bevor er eingegeben wurde. Starten Sie neu.
set-device-declined = Die Anmeldung wurde auf der Microsoft-Seite abgelehnt.
set-device-failed = Entra ID hat die Anmeldung abgelehnt: { $code } { $message }

## Test connection
set-test-title = Verbindung testen
set-test-help = Eine echte Anfrage für ein Postfach mit den Werten im Formular oben, gespeichert oder nicht (ein Test speichert nichts). Ohne Postfach wird die erste beobachtete Person verwendet, die diese Quelle bedient.
set-test-mailbox = Postfach
set-test-run = Verbindung testen
set-tested-unsaved = Mit den Werten im Formular getestet; gespeichert werden sie erst, wenn Sie auf Speichern klicken.
set-test-connected = Verbunden: { $provider } hat für { $mailbox } in { $ms } ms geantwortet.
set-test-failed = Fehlgeschlagen für { $mailbox } nach { $ms } ms.
set-test-status-now = Aktueller Status
set-test-until = bis
set-test-events-today = Termine heute
set-test-code = Fehlercode
set-test-message = Meldung
set-test-cause = Wahrscheinliche Ursache
set-test-fix = Was tun
set-test-need-mailbox = Geben Sie die E-Mail-Adresse eines Postfachs ein, mit dem getestet werden soll.
set-test-limit = Höchstens { $max } Verbindungstests pro Minute. Versuchen Sie es in { $wait } s erneut.
set-test-not-saved = Die Quelle { $id } ist noch nicht gespeichert: Speichern Sie ihre Einstellungen und testen Sie dann die Verbindung.

## Recent changes
set-history-title = Letzte Änderungen
set-history-no-change = keine Änderung
set-history-removed = Quelle entfernt
