# calgate: notices and confirmations (it)

## Shared words
n-db-no-answer = Il database non ha risposto: { $error }
n-db-refused = Il database ha rifiutato: { $error }
n-db-refused-op = Il database ha rifiutato l'operazione: { $error }
n-shutting-down = Il gateway si sta arrestando.
n-col-actions = Azioni
n-add = Aggiungi
n-edit = Modifica
n-save = Salva
n-remove = Rimuovi
n-reset = Reimposta

## Refusals before any page (plain text answers)
n-session-ended = la sessione è terminata: accedi di nuovo
n-admin-only = questa pagina è per l'amministratore; gli operatori usano la console
n-cross-site = richiesta da un altro sito rifiutata
n-form-too-large = modulo troppo grande
n-csrf-refused = token del modulo (CSRF) mancante o errato: ricarica la pagina e riprova

## Sign-in
n-login-wrong = Nome utente o password errati.
n-login-bad-token = Questo token non è valido.
n-login-too-many = Troppi accessi non riusciti. Riprova tra { $secs } s.

## The Account page
n-pw-signed-in-as = Accesso eseguito come
n-pw-with-password = con la password dell'amministratore.
n-pw-with-token = con un token API di amministrazione.
n-pw-not-changed = La password non è stata cambiata.
n-pw-enter-current = Inserisci la password attuale.
n-pw-too-short = Usa almeno { $min } caratteri.
n-pw-too-long = Usa al massimo { $max } byte.
n-pw-same = Scegli una password diversa da quella attuale.
n-pw-differ = Le due nuove password non coincidono: digita due volte la stessa.
n-pw-no-admin = Non è configurato nessun account amministratore.
n-pw-too-many = Troppe password errate. Riprova tra { $secs } s.
n-pw-wrong-current = Questa non è la password attuale.
n-pw-db-refused = Il database ha rifiutato: { $error }. La password non è stata cambiata.
n-pw-changed = Password cambiata. Gli altri browser connessi con la vecchia password sono stati disconnessi.

## The API tokens page
n-token-label = Dai al token un'etichetta da 1 a 100 caratteri (chi lo usa).
n-token-created = Token «{ $label }» creato.
n-token-revoked = Token «{ $label }» revocato.
n-token-gone = Questo token non esiste più.

## The Watch list page
n-person-too-long = Usa al massimo { $max } caratteri stampabili.
n-person-name-needed = Indica un nome: l'indirizzo è troppo lungo per essere mostrato al suo posto.
n-person-ext-spaces = Un interno non contiene spazi (2001; +49 30 1234 si scrive +49301234).
n-person-not-watched = { $email } non è tra le persone monitorate.
n-person-failed = errore
n-person-not-email = Non è un indirizzo email: inserisci l'indirizzo della casella della persona.
n-person-not-added = { $email } non è stato aggiunto: { $problem }
n-person-added = Aggiunto: { $email }.
n-person-edit-gone = { $email } non è tra le persone monitorate: non è stato salvato nulla.
n-person-edit-refused = Non è stato salvato nulla per { $email }: controlla il modulo.
n-person-saved = Salvato: { $email }.
n-person-removed = Rimosso: { $email }.
n-person-remove-gone = { $email } non era tra le persone monitorate.
n-person-edit-label = Modifica { $email }
n-person-remove-label = Rimuovi { $email }
n-person-key-help = L'indirizzo è la chiave: per cambiarlo, rimuovi la persona e aggiungi il nuovo indirizzo.
n-person-first = Sono mostrate le prime { $count } persone; usa la ricerca per trovare le altre.
n-col-name = Nome
n-col-email = Email
n-col-extension = Interno
n-col-line = Riga
n-col-ext-short = Int.
n-col-problem = Problema
n-import-ok = ok
n-import-not-email = non è un indirizzo email
n-import-columns = più di tre colonne (email, nome, interno)
n-import-ext-spaces = l'interno contiene spazi
n-import-twice = presente due volte
n-import-too-long = il nome o l'interno è troppo lungo, o contiene caratteri di controllo
n-import-malformed = il CSV non è leggibile da qui in poi (una virgoletta non è chiusa)
n-import-too-many = più di 200 000 righe; il resto non è stato letto
n-import-summary = { $ok ->
        [one] { $ok } valida
       *[other] { $ok } valide
    }, { $bad } con errori.
n-imported = { $count ->
        [one] Importata { $count } persona
       *[other] Importate { $count } persone
    }; persone monitorate ora: { $total }.
n-import-refused = Non è stato importato nulla: { $bad ->
        [one] { $bad } riga va corretta
       *[other] { $bad } righe vanno corrette
    } (oppure spunta «{ p-skip }»).
n-import-empty = Incolla una persona per riga: email, nome, interno.

## The Sources page
n-routes-default = origine predefinita
n-routes-domains = { $count ->
        [one] { $count } dominio
       *[other] { $count } domini
    }
n-routes-mailboxes = { $count ->
        [one] { $count } casella
       *[other] { $count } caselle
    }
n-src-not-configured = { $id } (non configurata)
n-src-no-such = Origine inesistente: { $problem }.
n-src-unknown-id = Nessuna origine ha l'id { $id }.
n-src-id-refused = Id dell'origine rifiutato: { $problem }.
n-src-id-exists = Esiste già un'origine con l'id { $id }: apri le sue impostazioni dall'elenco.
n-src-name-placeholder = Exchange locale
n-src-reset-done = Origine { $id } reimpostata: le sue impostazioni e i segreti salvati sono stati cancellati.
n-src-removed = Origine { $id } rimossa insieme ai segreti salvati.
n-src-reset-in-use = L'origine { $id } non è stata reimpostata: l'instradamento la nomina ancora ({ $routes }). Prima instrada i suoi domini e le sue caselle verso un'altra origine (e scegli un'altra origine predefinita).
n-src-remove-in-use = L'origine { $id } non è stata rimossa: l'instradamento la nomina ancora ({ $routes }). Prima instrada i suoi domini e le sue caselle verso un'altra origine (e scegli un'altra origine predefinita).
n-src-reset-failed = L'origine { $id } non è stata reimpostata: { $error }
n-src-remove-failed = L'origine { $id } non è stata rimossa: { $error }
n-src-retry = Nuovo tentativo richiesto: l'origine { $id } riprova una volta adesso. Ricarica tra qualche secondo.
n-src-reset-label = Reimposta { $id }
n-src-remove-label = Rimuovi { $id }
n-confirm-reset-title = Reimpostare l'origine { $id }?
n-confirm-reset-body = Le sue impostazioni e i segreti salvati vengono cancellati; resta nell'elenco, non configurata, finché non salvi nuove impostazioni.
n-confirm-remove-title = Rimuovere l'origine { $id }?
n-confirm-remove-body = Le sue impostazioni e i segreti salvati vengono eliminati.
n-confirm-routed = L'instradamento la nomina ancora
n-confirm-routed-reset = ({ $routes }): prima instrada altrove queste regole, altrimenti la reimpostazione viene rifiutata.
n-confirm-routed-remove = ({ $routes }): prima instrada altrove queste regole, altrimenti la rimozione viene rifiutata.
n-confirm-reset-yes = Sì, reimposta { $id }
n-confirm-remove-yes = Sì, rimuovi { $id }

## The routing editor
n-routing-saved = Instradamento salvato e applicato.
n-routing-not-saved = L'instradamento non è stato salvato: { $error }
n-routing-errors = Non è stato salvato nulla: { $count ->
        [one] { $count } regola va corretta
       *[other] { $count } regole vanno corrette
    }.
n-route-domain = Dominio { $domain }
n-route-mailbox = Casella { $mailbox }
n-route-line-domain = riga { $line }: scrivila come dominio = id-origine
n-route-line-address = riga { $line }: scrivila come indirizzo = id-origine
n-route-twice = riga { $line }: { $key } compare due volte
n-rule-a-line = Una regola per riga:
n-rule-domain = dominio = id-origine
n-rule-address = indirizzo = id-origine
n-rule-configured = Origini configurate: { $ids }.
n-rule-address-why = per le caselle che non si trovano dove si trova il loro dominio.
