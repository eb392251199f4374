# calgate auf Deutsch. Dieselben Schlüssel wie der englische Katalog (ein Test prüft das).

## Navigation and the page frame
nav-settings = Einstellungen
nav-sources = Quellen
nav-health = Zustand
nav-people = Beobachtete Personen
nav-logs = Protokolle
nav-tokens = API-Token
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
