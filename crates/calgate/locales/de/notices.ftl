# calgate: notices and confirmations (de)

## Shared words
n-db-no-answer = Die Datenbank hat nicht geantwortet: { $error }
n-db-refused = Die Datenbank hat abgelehnt: { $error }
n-db-refused-op = Die Datenbank hat den Vorgang abgelehnt: { $error }
n-shutting-down = Das Gateway wird heruntergefahren.
n-col-actions = Aktionen
n-add = Hinzufügen
n-edit = Bearbeiten
n-save = Speichern
n-remove = Entfernen
n-reset = Zurücksetzen

## Refusals before any page (plain text answers)
n-session-ended = Ihre Sitzung ist beendet: bitte melden Sie sich erneut an
n-admin-only = diese Seite ist für den Administrator; die Vermittlung verwendet die Konsole
n-cross-site = Anfrage von einer fremden Website abgelehnt
n-form-too-large = Formular zu groß
n-csrf-refused = Formular-Token (CSRF) fehlt oder ist falsch: laden Sie die Seite neu und versuchen Sie es erneut

## Sign-in
n-login-wrong = Benutzername oder Kennwort falsch.
n-login-bad-token = Dieses Token ist ungültig.
n-login-too-many = Zu viele fehlgeschlagene Anmeldungen. Versuchen Sie es in { $secs } s erneut.

## The Account page
n-pw-signed-in-as = Angemeldet als
n-pw-with-password = mit dem Administratorkennwort.
n-pw-with-token = mit einem Admin-API-Token.
n-pw-not-changed = Das Kennwort wurde nicht geändert.
n-pw-enter-current = Geben Sie Ihr aktuelles Kennwort ein.
n-pw-too-short = Verwenden Sie mindestens { $min } Zeichen.
n-pw-too-long = Verwenden Sie höchstens { $max } Bytes.
n-pw-same = Wählen Sie ein anderes Kennwort als das aktuelle.
n-pw-differ = Die beiden neuen Kennwörter stimmen nicht überein: geben Sie zweimal dasselbe ein.
n-pw-no-admin = Es ist kein Administratorkonto eingerichtet.
n-pw-too-many = Zu viele falsche Kennwörter. Versuchen Sie es in { $secs } s erneut.
n-pw-wrong-current = Das ist nicht das aktuelle Kennwort.
n-pw-db-refused = Die Datenbank hat abgelehnt: { $error }. Das Kennwort wurde nicht geändert.
n-pw-changed = Kennwort geändert. Andere Browser, die mit dem alten Kennwort angemeldet waren, sind abgemeldet.

## The API tokens page
n-token-label = Geben Sie dem Token eine Bezeichnung mit 1 bis 100 Zeichen (wer es verwendet).
n-token-created = Token „{ $label }“ erstellt.
n-token-revoked = Token „{ $label }“ widerrufen.
n-token-gone = Dieses Token existiert nicht mehr.

## The Watch list page
n-person-too-long = Verwenden Sie höchstens { $max } druckbare Zeichen.
n-person-name-needed = Geben Sie einen Namen an: die Adresse ist zu lang, um stattdessen angezeigt zu werden.
n-person-ext-spaces = Eine Durchwahl enthält keine Leerzeichen (2001; +49 30 1234 als +49301234).
n-person-not-watched = { $email } wird nicht beobachtet.
n-person-failed = fehlgeschlagen
n-person-not-email = Keine E-Mail-Adresse: geben Sie die Postfachadresse der Person ein.
n-person-not-added = { $email } wurde nicht hinzugefügt: { $problem }
n-person-added = { $email } hinzugefügt.
n-person-edit-gone = { $email } wird nicht beobachtet: es wurde nichts gespeichert.
n-person-edit-refused = Für { $email } wurde nichts gespeichert: siehe Formular.
n-person-saved = { $email } gespeichert.
n-person-removed = { $email } entfernt.
n-person-remove-gone = { $email } wurde nicht beobachtet.
n-person-edit-label = { $email } bearbeiten
n-person-remove-label = { $email } entfernen
n-person-key-help = Die Adresse ist der Schlüssel: um sie zu ändern, entfernen Sie die Person und fügen Sie die neue Adresse hinzu.
n-person-first = Die ersten { $count } Personen werden angezeigt; suchen Sie, um weitere zu finden.
n-col-name = Name
n-col-email = E-Mail
n-col-extension = Durchwahl
n-col-line = Zeile
n-col-ext-short = Durchw.
n-col-problem = Problem
n-import-ok = ok
n-import-not-email = keine E-Mail-Adresse
n-import-columns = mehr als drei Spalten (E-Mail, Name, Durchwahl)
n-import-ext-spaces = die Durchwahl enthält Leerzeichen
n-import-twice = doppelt aufgeführt
n-import-too-long = Name oder Durchwahl ist zu lang oder enthält Steuerzeichen
n-import-malformed = die CSV-Datei ist ab hier nicht lesbar (ein Anführungszeichen wird nicht geschlossen)
n-import-too-many = mehr als 200 000 Zeilen; der Rest wurde nicht gelesen
n-import-summary = { $ok } gültig, { $bad } mit Fehlern.
n-imported = { $count ->
        [one] { $count } Person importiert
       *[other] { $count } Personen importiert
    }; jetzt beobachtet: { $total }.
n-import-refused = Es wurde nichts importiert: { $bad ->
        [one] { $bad } Zeile muss
       *[other] { $bad } Zeilen müssen
    } korrigiert werden (oder „{ p-skip }“ ankreuzen).
n-import-empty = Fügen Sie eine Person pro Zeile ein: E-Mail, Name, Durchwahl.

## The Sources page
n-routes-default = Standardquelle
n-routes-domains = { $count ->
        [one] { $count } Domäne
       *[other] { $count } Domänen
    }
n-routes-mailboxes = { $count ->
        [one] { $count } Postfach
       *[other] { $count } Postfächer
    }
n-src-not-configured = { $id } (nicht eingerichtet)
n-src-no-such = Keine solche Quelle: { $problem }.
n-src-unknown-id = Keine Quelle hat die ID { $id }.
n-src-id-refused = Die Quellen-ID wird abgelehnt: { $problem }.
n-src-id-exists = Eine Quelle mit der ID { $id } existiert bereits: öffnen Sie ihre Einstellungen in der Liste.
n-src-name-placeholder = Exchange lokal
n-src-reset-done = Quelle { $id } zurückgesetzt: ihre Einstellungen und gespeicherten Geheimnisse sind gelöscht.
n-src-removed = Quelle { $id } mit ihren gespeicherten Geheimnissen entfernt.
n-src-reset-in-use = Die Quelle { $id } wurde nicht zurückgesetzt: das Routing nennt sie noch ({ $routes }). Leiten Sie zuerst ihre Domänen und Postfächer an eine andere Quelle (und wählen Sie eine andere Standardquelle).
n-src-remove-in-use = Die Quelle { $id } wurde nicht entfernt: das Routing nennt sie noch ({ $routes }). Leiten Sie zuerst ihre Domänen und Postfächer an eine andere Quelle (und wählen Sie eine andere Standardquelle).
n-src-reset-failed = Die Quelle { $id } wurde nicht zurückgesetzt: { $error }
n-src-remove-failed = Die Quelle { $id } wurde nicht entfernt: { $error }
n-src-retry = Neuer Versuch angefordert: die Quelle { $id } versucht es jetzt einmal. Laden Sie in einigen Sekunden neu.
n-src-reset-label = { $id } zurücksetzen
n-src-remove-label = { $id } entfernen
n-confirm-reset-title = Quelle { $id } zurücksetzen?
n-confirm-reset-body = Ihre Einstellungen und gespeicherten Geheimnisse werden gelöscht; sie bleibt unkonfiguriert in der Liste, bis Sie neue Einstellungen speichern.
n-confirm-remove-title = Quelle { $id } entfernen?
n-confirm-remove-body = Ihre Einstellungen und gespeicherten Geheimnisse werden gelöscht.
n-confirm-routed = Das Routing nennt sie noch
n-confirm-routed-reset = ({ $routes }): leiten Sie diese zuerst anderswohin, sonst wird das Zurücksetzen abgelehnt.
n-confirm-routed-remove = ({ $routes }): leiten Sie diese zuerst anderswohin, sonst wird das Entfernen abgelehnt.
n-confirm-reset-yes = Ja, { $id } zurücksetzen
n-confirm-remove-yes = Ja, { $id } entfernen

## The routing editor
n-routing-saved = Routing gespeichert und angewendet.
n-routing-not-saved = Das Routing wurde nicht gespeichert: { $error }
n-routing-errors = Es wurde nichts gespeichert: { $count ->
        [one] { $count } Regel muss
       *[other] { $count } Regeln müssen
    } korrigiert werden.
n-route-domain = Domäne { $domain }
n-route-mailbox = Postfach { $mailbox }
n-route-line-domain = Zeile { $line }: schreiben Sie sie als Domäne = Quellen-ID
n-route-line-address = Zeile { $line }: schreiben Sie sie als Adresse = Quellen-ID
n-route-twice = Zeile { $line }: { $key } ist doppelt aufgeführt
n-rule-a-line = Eine Regel pro Zeile:
n-rule-domain = Domäne = Quellen-ID
n-rule-address = Adresse = Quellen-ID
n-rule-configured = Eingerichtete Quellen: { $ids }.
n-rule-address-why = für Postfächer, die nicht dort liegen, wo ihre Domäne liegt.
