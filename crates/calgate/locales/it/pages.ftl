# calgate in italiano. Stesse chiavi del catalogo inglese (un test lo verifica).

## Navigation and the page frame
nav-settings = Impostazioni
nav-sources = Origini
nav-health = Stato
nav-people = Persone monitorate
nav-logs = Log
nav-tokens = Token API
nav-account = Account
nav-console = Console operatore
sign-out = Esci
lang-label = Lingua
lang-apply = Applica

## Sign-in
login-title = Accesso
login-admin = Amministratore
login-username = Nome utente
login-password = Password
login-submit = Accedi
login-operator = Operatore
login-token = Token API della console
login-open-console = Apri la console

## A calendar source's state
state-starting = Avvio: ancora nessuna risposta dal server
state-ok = OK: i calendari vengono letti
state-degraded = Parziale: alcune caselle non rispondono
state-throttled = Limitato: il server ha chiesto a calgate di attendere
state-auth-failed = Autenticazione non riuscita: le credenziali sono state rifiutate
state-unreachable = Irraggiungibile: il server non risponde
state-misconfigured = Configurazione errata: le impostazioni non possono funzionare
state-disabled = Disattivato: nessuna origine calendario configurata

## A person's status, said on the server
st-busy-until = In riunione fino alle { $time }

## The operator console
c-title = Console operatore
c-directory = Rubrica
c-search-label = Cerca per nome, email o interno
c-search-placeholder = Scrivi un nome, un'email o un interno…
c-people = Persone
c-connecting = connessione…
c-no-one = Nessun risultato.
c-hint = Scrivi per cercare, ↑ ↓ per spostarti, Invio per aprire.
c-live = in diretta
c-reconnecting = riconnessione…
c-signed-out = disconnesso
c-free-until = Libero fino alle $TIME
c-free = Libero
c-free-rest = Libero per il resto della giornata
c-busy-until = In riunione fino alle $TIME
c-busy = In riunione
c-tentative-until = Provvisorio fino alle $TIME
c-tentative = Provvisorio
c-oof-until = Fuori sede fino a $TIME
c-oof-back = Fuori sede, di ritorno $DAY
c-oof = Fuori sede
c-elsewhere-until = Lavora altrove fino alle $TIME
c-elsewhere = Lavora altrove
c-unknown = Sconosciuto
c-unknown-unavailable = Sconosciuto — calendario non disponibile
c-not-current = non aggiornato: letto $AGO
c-not-read = non ancora letto
c-just-now = adesso
c-s-ago = $N s fa
c-min-ago = $N min fa
c-h-ago = $N h fa
c-never = mai
c-next-free = Prossimo momento libero
c-now = Ora
c-teams = Teams
c-pres-in-a-call = In chiamata
c-pres-in-a-conference-call = In una teleconferenza
c-pres-in-a-meeting = In riunione (Teams)
c-pres-presenting = Sta presentando
c-pres-do-not-disturb = Non disturbare
c-pres-busy = Occupato
c-pres-away = Assente
c-pres-be-right-back = Torno subito
c-pres-available = Disponibile
c-pres-offline = Offline
c-pres-unknown = presenza sconosciuta
c-pres-other = $VALUE
c-private = Appuntamento privato
c-subject-hidden = (oggetto nascosto)
c-why-unknown = Perché sconosciuto
c-data = Dati
c-as-of = aggiornati $AGO
c-stale-note = non aggiornati: il calendario non è stato letto di recente
c-error-note = il calendario non può essere letto
c-out-of-office = Fuori sede
c-until-day = fino a $DAY.
c-working-hours = Orario di lavoro
c-your-time = ora locale
c-today = Oggi
c-no-data = Sconosciuto: nessun dato di calendario.
c-no-appointments = Nessun appuntamento oggi.
c-all-day = tutto il giorno
c-extension = interno
c-search-failed = ricerca non riuscita: $ERROR
c-could-not-load = Impossibile caricare $EMAIL: $ERROR

## The Health page
h-title = Stato
h-retried = Nuovo tentativo richiesto: calgate riprova una volta adesso. Ricarica tra qualche secondo per vedere l'esito.
h-source-default = Origine calendario
h-state-code = codice di stato, per l'assistenza
h-since = In questo stato da
h-last-success = Ultimo successo
h-next-attempt = Prossimo tentativo
h-error-code = Codice di errore
h-message = Messaggio
h-guard = Protezione dal blocco
h-guard-holding = Sospende altri accessi fino al prossimo tentativo, così una password errata non blocca l'account.
h-likely-cause = Causa probabile:
h-what-to-do = Cosa fare:
h-retry-now = Riprova ora
h-auth-title = Perché l'account potrebbe essere stato rifiutato
h-auth-intro = L'account Microsoft usato da calgate è stato rifiutato. Exchange blocca un account simile in pochi secondi se continua a fallire, quindi verifica questi punti, nell'ordine:
h-details = Dettagli:
h-all-sources = Tutte le origini
h-col-source = Origine
h-col-state = Stato
h-col-code = Codice
h-sources-help = Impostazioni, "Riprova ora" e instradamento di ogni origine sono nella pagina
h-mb-title = Caselle per aggiornamento
h-fresh = aggiornate
h-stale = non aggiornate
h-with-errors = con errori
h-not-read = non ancora lette
h-failing-title = Caselle che non rispondono
h-failing-help = Appaiono come sconosciute nella console finché la causa non è risolta; le prime per indirizzo (tutte:
h-col-person = Persona
h-col-why = Perché
h-col-what = Cosa fare
h-source-word = origine
h-err-title = Errori e avvisi recenti
h-err-help = Prima i problemi attuali; quelli chiusi da un successo successivo sono segnati come risolti.
h-none = Nessuno nei file di log.
h-col-time = Ora
h-col-level = Livello
h-resolved = risolto

## Times in words
rel-just-now = adesso
rel-s = { $n } s
rel-min = { $n } min
rel-h = { $n } h
rel-days = { $n } giorni
rel-ago = { $amount } fa
rel-in = tra { $amount }
rel-never = mai

## Dates on the server-rendered pages: short names separated by spaces, Monday first
date-weekdays = lun mar mer gio ven sab dom
date-months = gen feb mar apr mag giu lug ago set ott nov dic
date-day-time = { $weekday } { $day } { $month } { $time }
date-times-note = Gli orari di questa pagina sono nel fuso orario del sito, { $zone }. La console dell'operatore li mostra nel fuso orario del tuo browser.
h-due-now = ora (previsto { $when })
h-regular = secondo il normale programma

## The Logs page
l-at-least = Mostra almeno
l-filter = Filtra
l-download = Scarica i file di log (righe JSON)
l-none = Nessuna voce a questo livello o superiore nei file di log.

## The Account page
a-title = Account
a-change-title = Cambia la password dell'amministratore
a-after-change = Dopo la modifica questo browser resta connesso; ogni altro browser connesso con la vecchia password viene disconnesso.
a-current = Password attuale
a-new = Nuova password
a-new-help = Almeno 12 caratteri, diversa da quella attuale. Una frase di poche parole è facile da digitare e difficile da indovinare.
a-confirm = Ripeti la nuova password
a-submit = Cambia password

## The API tokens page
t-title = Token API
t-title2 = Token API
t-copy-now = Copialo ora: viene mostrato solo questa volta.
t-copy = Copia
t-tokens = Token
t-none = Nessun token.
t-col-label = Etichetta
t-col-role = Ruolo
t-col-created = Creato
t-col-used = Ultimo uso
t-revoke = Revoca
t-new = Nuovo token
t-label = Etichetta (chi lo usa)
t-role = Ruolo
t-role-console = legge persone e stati
t-role-admin = tutto
t-create = Crea

## The Watch list page
p-title = Persone monitorate
p-title2 = Persone monitorate
p-watched = persone monitorate
p-search = Cerca
p-search-ph = nome, email o interno
p-data = Dati
p-everyone = tutti
p-failing = con errori
p-not-current = non aggiornati
p-not-read = non ancora letti
p-current = aggiornati
p-search-button = Cerca
p-add = Aggiungi una persona
p-import = Importa
p-rows = Una persona per riga: email, nome, interno
p-skip = salta le righe non valide
p-preview = Anteprima
p-import-button = Importa

## The Sources page
s-title = Origini
s-title2 = Origini
s-cancel = Annulla
s-list = Origini calendario
s-col-provider = Fornitore
s-col-routed = Instradato qui
s-nothing = niente
s-routing = Instradamento
s-routing-help = Quale origine legge il calendario di chi: la regola di una casella vince su quella del suo dominio, che vince sull'origine predefinita.
s-default = Origine predefinita
s-domains = Regole per dominio
s-mailboxes = Regole per casella
s-save-routing = Salva instradamento
s-add = Aggiungi un'origine
s-id = Id dell'origine
s-id-help = Da 1 a 32 tra a-z, 0-9 e -. L'instradamento la nomina così; non cambia in seguito.
s-name = Nome visualizzato
s-continue = Continua con le impostazioni
s-created = L'origine viene creata al primo salvataggio delle sue impostazioni.

## Health: Graph change notifications
h-notif-title = Notifiche di modifica (Microsoft Graph)
h-notif-help = Microsoft Graph avvisa calgate quando un calendario cambia; tutti vengono comunque letti al controllo di sicurezza, e le persone senza una sottoscrizione funzionante all'intervallo di aggiornamento.
h-notif-subscriptions = sottoscrizioni attive
h-notif-received = notifiche ricevute
h-notif-accepted = elaborate
h-notif-dropped = scartate (clientState errato, sottoscrizione sconosciuta o illeggibili)
h-notif-renewed = rinnovi
h-notif-failed = sottoscrizioni non create (queste persone vengono lette all'intervallo di aggiornamento)
h-notif-delay = in media da una notifica al nuovo stato
h-cluster-title = Gateway su questo database
h-cluster-db-ok = Il database risponde.
h-cluster-db-down = Il database non è raggiungibile: questo gateway non legge nulla finché non torna.
h-cluster-id = Gateway
h-cluster-address = Indirizzo
h-cluster-leases = Lease delle partizioni
h-cluster-heartbeat = Ultimo heartbeat
h-cluster-this = questo
