# calgate: Verzeichnisse (de). Dieselben Schlüssel wie der englische Katalog (ein Test prüft das).

## The page frame
dir-nav = Verzeichnisse
dir-title = Verzeichnisse

## The list
dir-list = Synchronisierte Verzeichnisse
dir-list-help = Die Liste der beobachteten Personen folgt diesen Verzeichnissen: Eine Synchronisierung fügt ihre Personen hinzu, aktualisiert Namen und Durchwahlen und entfernt, wer gegangen ist. Von Hand hinzugefügte oder importierte Personen bleiben stets unberührt.
dir-none = Noch kein Verzeichnis. Fügen Sie unten eines hinzu.
dir-col-directory = Verzeichnis
dir-col-last-sync = Letzte Synchronisierung
dir-col-counts = Änderungen
dir-col-changes = Was sich ändert
dir-col-added = Hinzugefügt
dir-col-updated = Aktualisiert
dir-col-removed = Entfernt
dir-col-held = Zurückgehalten
dir-added = hinzugefügt
dir-updated = aktualisiert
dir-removed-count = entfernt
dir-held-count = zurückgehalten
dir-unchanged = unverändert
dir-warnings = Warnungen
dir-warnings-count = { $count ->
        [one] eine Warnung
       *[other] { $count } Warnungen
    }
dir-never = nie synchronisiert
dir-syncing = wird gerade synchronisiert
dir-kind-graph = Entra ID (Microsoft Graph)
dir-kind-ldap = LDAP oder Active Directory
dir-status-ok = Synchronisiert
dir-status-held = Entfernen zurückgehalten
dir-status-failed = Fehlgeschlagen
dir-test = Testen
dir-sync-now = Jetzt synchronisieren
dir-first-sync = Ein neues Verzeichnis synchronisiert sich nicht von selbst: Testen Sie es, sehen Sie sich die Vorschau an und synchronisieren Sie es das erste Mal selbst. Danach synchronisiert es sich in seinem Intervall.

## A held sync
dir-held-title = { $id }: { $count ->
        [one] eine Entfernung wartet
       *[other] { $count } Entfernungen warten
    } auf Ihre Bestätigung
dir-held-body = Die letzte Synchronisierung würde mehr Personen des Verzeichnisses entfernen, als seine Grenze erlaubt; deshalb wurde niemand entfernt. Sind diese Personen wirklich gegangen, bestätigen Sie das Entfernen; andernfalls korrigieren Sie den Filter oder den Basis-DN und synchronisieren Sie erneut.
dir-held-confirm = Entfernen bestätigen
dir-held-help = „Abbrechen“ entfernt niemanden und ändert nichts: Die nächste Synchronisierung hält dieselben Entfernungen wieder zurück.
dir-held-who = Wer entfernt würde (die ersten)
dir-held-kept = Aus { $id } wurde niemand entfernt: Alle bleiben beobachtet, und die Entfernungen bleiben zurückgehalten, bis Sie sie bestätigen oder das Verzeichnis korrigieren.

## Removing a directory
dir-confirm-remove-title = Das Verzeichnis { $id } entfernen?
dir-confirm-remove-body = Seine Einstellungen und das Bind-Kennwort werden gelöscht. Seine Personen bleiben beobachtet, als wären sie von Hand hinzugefügt worden.
dir-confirm-remove-yes = Ja, { $id } entfernen
dir-removed = Das Verzeichnis { $id } wurde entfernt; seine Personen bleiben beobachtet.

## Test, preview and sync
dir-test-title = Test von { $id }: die ersten Personen, die es liefert
dir-test-ok = { $id } hat geantwortet. Das sind seine ersten Personen, wie die Liste sie führen würde:
dir-test-caption = Die ersten Personen des Verzeichnisses
dir-preview-title = Vorschau für { $id }: was eine Synchronisierung ändern würde
dir-outcome-title = Synchronisierung von { $id }
dir-preview-adds = Würden hinzugefügt
dir-preview-updates = Würden aktualisiert
dir-preview-removals = Würden aus der Liste entfernt
dir-preview-held = Es würden mehr Personen des Verzeichnisses gehen, als seine Grenze erlaubt: Eine Synchronisierung hält diese Entfernungen zurück, bis Sie sie bestätigen.
dir-preview-first = Nur die ersten sind aufgeführt; die Zahlen oben sind vollständig.
dir-preview-ok = Bereit: noch wurde nichts geändert
dir-preview-would-hold = Eine Synchronisierung würde das Entfernen zurückhalten
dir-preview-failed = Die Vorschau für { $id } ist fehlgeschlagen: { $cause }
dir-sync-failed = Die Synchronisierung von { $id } ist fehlgeschlagen: { $cause } Es wurde nichts geändert.
dir-synced = { $id } synchronisiert: { $added } hinzugefügt, { $updated } aktualisiert, { $removed } entfernt, { $unchanged } unverändert.
dir-synced-held = { $id } synchronisiert: { $added } hinzugefügt, { $updated } aktualisiert; { $held ->
        [one] eine Entfernung bleibt
       *[other] { $held } Entfernungen bleiben
    } zurückgehalten, bis Sie bestätigen.
dir-field-source = Quelle
dir-field-id = ID im Verzeichnis
dir-unknown = Kein Verzeichnis hat die ID { $id }.
dir-running = Eine Synchronisierung von { $id } läuft gerade; versuchen Sie es erneut, wenn sie beendet ist.

## The form
dir-add-title = Verzeichnis hinzufügen
dir-edit-title = Das Verzeichnis { $id } bearbeiten
dir-graph-legend = Nur Entra ID (Microsoft Graph)
dir-ldap-legend = Nur LDAP oder Active Directory
dir-mapping-legend = Attribute
dir-mapping-help = Welches Attribut welche Angabe einer Person enthält. Leer lassen für die angezeigten Standardwerte.
dir-schedule-legend = Zeitplan und Sicherheit
dir-f-id-label = Verzeichnis-ID
dir-f-id-help = 1 bis 32 Zeichen aus a-z, 0-9 und -. Die Liste der beobachteten Personen nennt damit deren Herkunft; die ID ändert sich später nicht.
dir-f-name-label = Anzeigename
dir-f-name-placeholder = Hauptsitz
dir-f-name-help = Wie die Seiten dieses Verzeichnis nennen.
dir-f-kind-label = Art
dir-f-kind-help = Woher die Personen kommen.
dir-f-source-label = Graph-Quelle
dir-f-source-help = Die Microsoft 365-(Graph-)Quelle, deren App-Registrierung das Verzeichnis liest; sie braucht die Anwendungsberechtigung User.Read.All (und GroupMember.Read.All für eine Gruppe).
dir-f-source-none = Es ist noch keine Microsoft 365-(Graph-)Quelle eingerichtet: Fügen Sie zuerst auf der Seite „Quellen“ eine hinzu.
dir-f-group-id-label = Objekt-ID der Gruppe
dir-f-group-id-help = Nur die Mitglieder dieser Gruppe, verschachtelte Gruppen eingeschlossen. Leer: alle mit einem Postfach.
dir-f-url-label = LDAP-URL
dir-f-url-help = ldaps://server:636 oder ldap://server:389 mit StartTLS.
dir-f-starttls-label = StartTLS verwenden (für ldap://-URLs)
dir-f-allow-insecure-ldap-label = Einfaches LDAP ohne Verschlüsselung erlauben
dir-f-allow-insecure-ldap-warning = Ohne LDAPS oder StartTLS gehen das Bind-Kennwort und die Daten aller Personen im Klartext über das Netzwerk. Verwenden Sie das nur in einer Testumgebung.
dir-f-bind-dn-label = Bind-DN
dir-f-bind-dn-help = Das Konto, mit dem calgate das Verzeichnis liest. Es braucht nur Lesezugriff auf die Personen.
dir-f-bind-password-label = Bind-Kennwort
dir-f-bind-password-help = Wird verschlüsselt gespeichert und nie wieder angezeigt. Ein abgelehntes Kennwort wird einmal versucht; der Sperrschutz hält weitere Binds zurück, damit das Konto nicht gesperrt wird.
dir-f-base-dn-label = Basis-DN
dir-f-base-dn-help = Wo die Suche beginnt; alles darunter wird durchsucht.
dir-f-filter-label = Filter
dir-f-filter-help = Welche Einträge zu beobachtende Personen sind. Leer: der Standardfilter von Active Directory (Personen mit Postfach und aktiviertem Konto).
dir-preset-ad = Standard von Active Directory
dir-preset-plain = Jeder Eintrag mit E-Mail-Adresse
dir-f-extra-ca-pem-label = Zusätzliche vertrauenswürdige CA-Zertifikate (PEM)
dir-f-extra-ca-pem-help = Die Zertifizierungsstelle, die das Zertifikat des Servers signiert hat, wenn es eine private ist.
dir-f-attr-email-label = Attribut der E-Mail-Adresse
dir-f-attr-name-label = Attribut des Namens
dir-f-attr-extension-label = Attribut der Durchwahl
dir-f-attr-extension-help = Für Graph: businessPhones (die erste Nummer), mobilePhone oder extensionAttribute1 bis 15; für LDAP jedes Attribut, etwa telephoneNumber oder ipPhone.
dir-f-attr-source-label = Attribut der Quelle (hybrid)
dir-f-attr-source-help = Ein Attribut, dessen Wert die Kalenderquelle nennt, die das Postfach der Person liest. Leer: Das Routing entscheidet.
dir-f-sync-interval-s-label = Synchronisierungsintervall (Sekunden)
dir-f-sync-interval-s-help = Von 300 (5 Minuten) bis 604800 (7 Tage). 3600 ist eine Stunde.
dir-f-max-removal-percent-label = Größter Anteil, den eine Synchronisierung entfernen darf (%)
dir-f-max-removal-percent-help = Eine Synchronisierung, die mehr Personen des Verzeichnisses entfernen würde, hält das Entfernen zurück, bis Sie es bestätigen; so kann ein falscher Filter die Liste nicht leeren.
dir-created = Das Verzeichnis { $id } wurde hinzugefügt. Testen Sie es, sehen Sie sich die Vorschau an und synchronisieren Sie es dann das erste Mal.
dir-saved = Das Verzeichnis { $id } wurde gespeichert.
dir-password-retype = Das Bind-Kennwort wurde nicht behalten: Geben Sie es erneut ein.
dir-id-refused = Die Verzeichnis-ID wird abgelehnt: { $problem }.
dir-id-exists = Ein Verzeichnis mit der ID { $id } gibt es bereits: Bearbeiten Sie es aus der Liste.

## Field errors (the first ones are the validator's English messages, word for word)
dir-err-name = höchstens 64 Zeichen, keine Steuerzeichen
dir-err-attribute = ein Attributname: Buchstaben, Ziffern, „-“ und „;“
dir-err-source-missing = die ID der zu verwendenden Graph-Quelle
dir-err-group = die Objekt-ID einer Gruppe (eine GUID)
dir-err-url = eine ldaps://- oder ldap://-URL
dir-err-starttls = StartTLS ist für ldap://-URLs; ldaps:// ist bereits verschlüsselt
dir-err-plain = ein einfacher ldap://-Bind sendet das Kennwort im Klartext: Verwenden Sie ldaps://, kreuzen Sie StartTLS an oder erlauben Sie unverschlüsseltes LDAP ausdrücklich
dir-err-password-needed = das Kennwort des Bind-DN wird benötigt
dir-err-base = der DN, bei dem die Suche beginnt
dir-err-ldap-string = höchstens 4096 Zeichen, keine Steuerzeichen
dir-err-filter = ein LDAP-Filter in Klammern, etwa (mail=*)
dir-err-interval = eine ganze Zahl von Sekunden zwischen 300 und 604800
dir-err-percent = ein Prozentwert zwischen 0 und 100
dir-err-password-long = höchstens 1024 Byte
dir-err-no-graph-source = keine Graph-Quelle hat die ID { $id }

## Health
dir-open-page = Verzeichnisse öffnen
dir-health-held = Entfernungen warten auf Ihre Bestätigung.

## The Watch list
dir-col-origin = Herkunft
dir-origin-manual = Von Hand hinzugefügt
dir-origin-import = Import
dir-import-file = Oder eine CSV-Datei wählen
dir-import-file-help = Wird als UTF-8 in das Feld oben gelesen und als Vorschau gezeigt; gespeichert wird erst, wenn Sie auf „Importieren“ klicken.
dir-import-file-too-large = Die Datei ist für einen Import zu groß (höchstens etwa 2 MB): Teilen Sie sie auf.
dir-import-file-unreadable = Die Datei konnte nicht gelesen werden.
