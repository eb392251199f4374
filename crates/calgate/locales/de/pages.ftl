# calgate auf Deutsch. Dieselben Schlüssel wie der englische Katalog (ein Test prüft das).

## Navigation and the page frame
nav-settings = Einstellungen
nav-sources = Quellen
nav-health = Zustand
nav-people = Beobachtete Personen
nav-logs = Protokolle
nav-tokens = API-Token
nav-account = Konto
nav-console = Vermittlungskonsole
sign-out = Abmelden
lang-label = Sprache
lang-apply = Übernehmen

## Sign-in
login-title = Anmelden
login-admin = Administrator
login-username = Benutzername
login-password = Kennwort
login-submit = Anmelden
login-operator = Vermittlung
login-token = API-Token der Konsole
login-open-console = Konsole öffnen

## A calendar source's state
state-starting = Start: noch keine Antwort vom Server
state-ok = OK: Kalender werden gelesen
state-degraded = Eingeschränkt: einige Postfächer schlagen fehl
state-throttled = Gedrosselt: der Server hat calgate um eine Pause gebeten
state-auth-failed = Anmeldung fehlgeschlagen: die Zugangsdaten wurden abgelehnt
state-unreachable = Nicht erreichbar: der Server antwortet nicht
state-misconfigured = Fehlkonfiguriert: mit diesen Einstellungen geht es nicht
state-disabled = Deaktiviert: keine Kalenderquelle eingerichtet

## A person's status, said on the server
st-busy-until = In einer Besprechung bis { $time }

## The operator console
c-title = Vermittlungskonsole
c-directory = Verzeichnis
c-search-label = Nach Name, E-Mail oder Durchwahl suchen
c-search-placeholder = Name, E-Mail oder Durchwahl eingeben…
c-people = Personen
c-connecting = verbinde…
c-no-one = Keine Treffer.
c-hint = Tippen zum Suchen, ↑ ↓ zum Wählen, Eingabe zum Öffnen.
c-live = live
c-reconnecting = verbinde neu…
c-signed-out = abgemeldet
c-free-until = Frei bis $TIME
c-free = Frei
c-free-rest = Für den Rest des Tages frei
c-busy-until = In einer Besprechung bis $TIME
c-busy = In einer Besprechung
c-tentative-until = Vorläufig bis $TIME
c-tentative = Vorläufig
c-oof-until = Abwesend bis $TIME
c-oof-back = Abwesend, zurück am $DAY
c-oof = Abwesend
c-elsewhere-until = Arbeitet woanders bis $TIME
c-elsewhere = Arbeitet woanders
c-unknown = Unbekannt
c-unknown-unavailable = Unbekannt — Kalender nicht verfügbar
c-not-current = nicht aktuell: gelesen $AGO
c-not-read = noch nicht gelesen
c-just-now = gerade eben
c-s-ago = vor $N s
c-min-ago = vor $N Min.
c-h-ago = vor $N Std.
c-never = nie
c-next-free = Nächste freie Zeit
c-now = Jetzt
c-teams = Teams
c-pres-in-a-call = Im Anruf
c-pres-in-a-conference-call = In einer Telefonkonferenz
c-pres-in-a-meeting = In einer Besprechung (Teams)
c-pres-presenting = Präsentiert
c-pres-do-not-disturb = Nicht stören
c-pres-busy = Beschäftigt
c-pres-away = Abwesend
c-pres-be-right-back = Bin gleich zurück
c-pres-available = Verfügbar
c-pres-offline = Offline
c-pres-unknown = Präsenz unbekannt
c-pres-other = $VALUE
c-private = Privater Termin
c-subject-hidden = (Betreff ausgeblendet)
c-why-unknown = Warum unbekannt
c-data = Daten
c-as-of = Stand $AGO
c-stale-note = veraltet: der Kalender konnte zuletzt nicht gelesen werden
c-error-note = der Kalender kann nicht gelesen werden
c-out-of-office = Abwesenheit
c-until-day = bis $DAY.
c-working-hours = Arbeitszeit
c-your-time = Ihre Zeit
c-today = Heute
c-no-data = Unbekannt: keine Kalenderdaten.
c-no-appointments = Heute keine Termine.
c-all-day = ganztägig
c-extension = Durchwahl
c-search-failed = Suche fehlgeschlagen: $ERROR
c-could-not-load = $EMAIL konnte nicht geladen werden: $ERROR

## The Health page
h-title = Zustand
h-retried = Neuer Versuch angefordert: calgate versucht es jetzt einmal. Laden Sie in einigen Sekunden neu, um das Ergebnis zu sehen.
h-source-default = Kalenderquelle
h-state-code = Zustandscode, für den Support
h-since = In diesem Zustand seit
h-last-success = Letzter Erfolg
h-next-attempt = Nächster Versuch
h-error-code = Fehlercode
h-message = Meldung
h-guard = Sperrschutz
h-guard-holding = Hält weitere Anmeldungen bis zum nächsten Versuch zurück, damit ein falsches Kennwort das Konto nicht sperrt.
h-likely-cause = Wahrscheinliche Ursache:
h-what-to-do = Was tun:
h-retry-now = Jetzt erneut versuchen
h-auth-title = Warum das Konto abgelehnt worden sein kann
h-auth-intro = Das von calgate verwendete Microsoft-Konto wurde abgelehnt. Exchange sperrt ein solches Konto binnen Sekunden, wenn es weiter fehlschlägt; prüfen Sie daher der Reihe nach:
h-details = Details:
h-all-sources = Alle Quellen
h-col-source = Quelle
h-col-state = Zustand
h-col-code = Code
h-sources-help = Einstellungen, „Jetzt erneut versuchen“ und das Routing jeder Quelle stehen auf der Seite
h-mb-title = Postfächer nach Aktualität
h-fresh = aktuell
h-stale = veraltet
h-with-errors = mit Fehlern
h-not-read = noch nicht gelesen
h-failing-title = Postfächer mit Fehlern
h-failing-help = Erscheinen in der Konsole als unbekannt, bis die Ursache behoben ist; die ersten nach Adresse (alle:
h-col-person = Person
h-col-why = Warum
h-col-what = Was tun
h-source-word = Quelle
h-err-title = Letzte Fehler und Warnungen
h-err-help = Aktuelle Probleme zuerst; von einem späteren Erfolg beendete sind als behoben markiert.
h-none = Keine in den Protokolldateien.
h-col-time = Zeit
h-col-level = Stufe
h-resolved = behoben

## Times in words
rel-just-now = gerade eben
rel-s = { $n } s
rel-min = { $n } Min.
rel-h = { $n } Std.
rel-days = { $n } Tagen
rel-ago = vor { $amount }
rel-in = in { $amount }
rel-never = nie

## Dates on the server-rendered pages: short names separated by spaces, Monday first
date-weekdays = Mo. Di. Mi. Do. Fr. Sa. So.
date-months = Jan. Feb. März Apr. Mai Juni Juli Aug. Sept. Okt. Nov. Dez.
date-day-time = { $weekday }, { $day }. { $month } { $time }
date-times-note = Die Zeiten auf dieser Seite sind in der Zeitzone des Standorts angegeben: { $zone }. Die Telefonistenkonsole zeigt sie in der Zeitzone Ihres Browsers.
h-due-now = jetzt (fällig { $when })
h-regular = nach dem normalen Zeitplan

## The Logs page
l-at-least = Mindestens anzeigen
l-filter = Filtern
l-download = Protokolldateien herunterladen (JSON-Zeilen)
l-none = Keine Einträge auf dieser oder einer höheren Stufe in den Protokolldateien.

## The Account page
a-title = Konto
a-change-title = Administratorkennwort ändern
a-after-change = Nach der Änderung bleibt dieser Browser angemeldet; jeder andere mit dem alten Kennwort angemeldete Browser wird abgemeldet.
a-current = Aktuelles Kennwort
a-new = Neues Kennwort
a-new-help = Mindestens 12 Zeichen, nicht das aktuelle Kennwort. Ein Satz aus einigen Wörtern ist leicht zu tippen und schwer zu erraten.
a-confirm = Neues Kennwort wiederholen
a-submit = Kennwort ändern

## The API tokens page
t-title = API-Token
t-title2 = API-Token
t-copy-now = Jetzt kopieren: es wird nur dieses eine Mal angezeigt.
t-copy = Kopieren
t-tokens = Token
t-none = Keine Token.
t-col-label = Bezeichnung
t-col-role = Rolle
t-col-created = Erstellt
t-col-used = Zuletzt verwendet
t-revoke = Widerrufen
t-new = Neues Token
t-label = Bezeichnung (wer es verwendet)
t-role = Rolle
t-role-console = liest Personen und Status
t-role-admin = alles
t-create = Erstellen

## The Watch list page
p-title = Beobachtete Personen
p-title2 = Beobachtete Personen
p-watched = Personen beobachtet
p-search = Suchen
p-search-ph = Name, E-Mail oder Durchwahl
p-data = Daten
p-everyone = alle
p-failing = fehlerhaft
p-not-current = nicht aktuell
p-not-read = noch nicht gelesen
p-current = aktuell
p-search-button = Suchen
p-add = Person hinzufügen
p-import = Importieren
p-rows = Eine Person pro Zeile: E-Mail, Name, Durchwahl
p-skip = ungültige Zeilen überspringen
p-preview = Vorschau
p-import-button = Importieren

## The Sources page
s-title = Quellen
s-title2 = Quellen
s-cancel = Abbrechen
s-list = Kalenderquellen
s-col-provider = Anbieter
s-col-routed = Hierher geleitet
s-nothing = nichts
s-routing = Routing
s-routing-help = Welche Quelle wessen Kalender liest: die Regel eines Postfachs geht der seiner Domäne vor, die der Standardquelle vorgeht.
s-default = Standardquelle
s-domains = Domänenregeln
s-mailboxes = Postfachregeln
s-save-routing = Routing speichern
s-add = Quelle hinzufügen
s-id = Quellen-ID
s-id-help = 1 bis 32 Zeichen aus a-z, 0-9 und -. Das Routing nennt sie so; die ID ändert sich später nicht.
s-name = Anzeigename
s-continue = Weiter zu den Einstellungen
s-created = Die Quelle entsteht beim ersten Speichern ihrer Einstellungen.

## Health: Graph change notifications
h-notif-title = Änderungsbenachrichtigungen (Microsoft Graph)
h-notif-help = Microsoft Graph meldet calgate, wenn sich ein Kalender ändert; beim Sicherheitsdurchlauf werden trotzdem alle gelesen, Personen ohne funktionierendes Abonnement im Aktualisierungsintervall.
h-notif-subscriptions = aktive Abonnements
h-notif-received = empfangene Benachrichtigungen
h-notif-accepted = verarbeitet
h-notif-dropped = verworfen (falscher clientState, unbekanntes Abonnement oder unlesbar)
h-notif-renewed = Verlängerungen
h-notif-failed = Abonnements, die nicht angelegt werden konnten (diese Personen werden im Aktualisierungsintervall gelesen)
h-notif-delay = im Mittel von einer Benachrichtigung bis zum neuen Status
h-cluster-title = Gateways an dieser Datenbank
h-cluster-db-ok = Die Datenbank antwortet.
h-cluster-db-down = Die Datenbank ist nicht erreichbar: Dieses Gateway liest nichts, bis sie wieder da ist.
h-cluster-id = Gateway
h-cluster-address = Adresse
h-cluster-leases = Shard-Leases
h-cluster-heartbeat = Letzter Heartbeat
h-cluster-this = dieses
