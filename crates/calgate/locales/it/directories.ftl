# calgate: directory (it). Stesse chiavi del catalogo inglese (un test lo verifica).

## The page frame
dir-nav = Directory
dir-title = Directory

## The list
dir-list = Directory sincronizzate
dir-list-help = L'elenco delle persone monitorate segue queste directory: una sincronizzazione aggiunge le loro persone, aggiorna nomi e interni e rimuove chi se n'è andato. Le persone aggiunte a mano o importate non vengono mai toccate.
dir-none = Ancora nessuna directory. Aggiungine una qui sotto.
dir-col-directory = Directory
dir-col-last-sync = Ultima sincronizzazione
dir-col-counts = Modifiche
dir-col-changes = Cosa cambia
dir-col-added = Aggiunte
dir-col-updated = Aggiornate
dir-col-removed = Rimosse
dir-col-held = Sospese
dir-added = aggiunte
dir-updated = aggiornate
dir-removed-count = rimosse
dir-held-count = sospese
dir-unchanged = invariate
dir-warnings = Avvisi
dir-warnings-count = { $count ->
        [one] un avviso
       *[other] { $count } avvisi
    }
dir-never = mai sincronizzata
dir-syncing = sincronizzazione in corso
dir-kind-graph = Entra ID (Microsoft Graph)
dir-kind-ldap = LDAP o Active Directory
dir-status-ok = Sincronizzata
dir-status-held = Rimozioni sospese
dir-status-failed = Non riuscita
dir-test = Prova
dir-sync-now = Sincronizza ora
dir-first-sync = Una nuova directory non si sincronizza da sola: provala, guardane l'anteprima e sincronizzala tu la prima volta. Da lì in poi si sincronizza al suo intervallo.

## A held sync
dir-held-title = { $id }: { $count ->
        [one] una rimozione attende
       *[other] { $count } rimozioni attendono
    } la tua conferma
dir-held-body = L'ultima sincronizzazione rimuoverebbe più persone della directory di quante ne consenta il suo limite, quindi non è stato rimosso nessuno. Se se ne sono davvero andate, conferma le rimozioni; altrimenti correggi il filtro o il DN di base e sincronizza di nuovo.
dir-held-confirm = Conferma le rimozioni
dir-held-help = Annulla non rimuove nessuno e non cambia nulla: la prossima sincronizzazione sospende di nuovo le stesse rimozioni.
dir-held-who = Chi uscirebbe (i primi)
dir-held-kept = Da { $id } non è stato rimosso nessuno: tutti restano monitorati e le rimozioni restano sospese finché non le confermi o correggi la directory.

## Removing a directory
dir-confirm-remove-title = Rimuovere la directory { $id }?
dir-confirm-remove-body = Le sue impostazioni e la password di bind vengono eliminate. Le sue persone restano monitorate, come se fossero state aggiunte a mano.
dir-confirm-remove-yes = Sì, rimuovi { $id }
dir-removed = Directory { $id } rimossa; le sue persone restano monitorate.

## Test, preview and sync
dir-test-title = Prova di { $id }: le prime persone che elenca
dir-test-ok = { $id } ha risposto. Ecco le sue prime persone come le terrebbe l'elenco:
dir-test-caption = Le prime persone elencate dalla directory
dir-preview-title = Anteprima di { $id }: cosa cambierebbe una sincronizzazione
dir-outcome-title = Sincronizzazione di { $id }
dir-preview-adds = Verrebbero aggiunte
dir-preview-updates = Verrebbero aggiornate
dir-preview-removals = Uscirebbero dall'elenco
dir-preview-held = Se ne andrebbero più persone della directory di quante ne consenta il suo limite: una sincronizzazione sospende queste rimozioni finché non le confermi.
dir-preview-first = Sono elencate solo le prime; i conteggi qui sopra sono completi.
dir-preview-ok = Pronta: non è ancora cambiato nulla
dir-preview-would-hold = Una sincronizzazione sospenderebbe le rimozioni
dir-preview-failed = L'anteprima di { $id } non è riuscita: { $cause }
dir-sync-failed = La sincronizzazione di { $id } non è riuscita: { $cause } Non è stato cambiato nulla.
dir-synced = { $id } sincronizzata: { $added } aggiunte, { $updated } aggiornate, { $removed } rimosse, { $unchanged } invariate.
dir-synced-held = { $id } sincronizzata: { $added } aggiunte, { $updated } aggiornate; { $held ->
        [one] una rimozione resta sospesa
       *[other] { $held } rimozioni restano sospese
    } finché non confermi.
dir-field-source = Origine
dir-field-id = id nella directory
dir-unknown = Nessuna directory ha l'id { $id }.
dir-running = È in corso una sincronizzazione di { $id }; riprova quando finisce.

## The form
dir-add-title = Aggiungi una directory
dir-edit-title = Modifica la directory { $id }
dir-graph-legend = Solo Entra ID (Microsoft Graph)
dir-ldap-legend = Solo LDAP o Active Directory
dir-mapping-legend = Attributi
dir-mapping-help = Quale attributo contiene ogni dato di una persona. Lascia vuoto per i valori predefiniti mostrati.
dir-schedule-legend = Pianificazione e sicurezza
dir-f-id-label = Id della directory
dir-f-id-help = Da 1 a 32 tra a-z, 0-9 e -. L'elenco delle persone monitorate indica così la loro provenienza; non cambia in seguito.
dir-f-name-label = Nome visualizzato
dir-f-name-placeholder = Sede centrale
dir-f-name-help = Come le pagine chiamano questa directory.
dir-f-kind-label = Tipo
dir-f-kind-help = Da dove arrivano le persone.
dir-f-source-label = Origine Graph
dir-f-source-help = L'origine Microsoft 365 (Graph) la cui registrazione dell'app legge la directory; le serve l'autorizzazione applicativa User.Read.All (e GroupMember.Read.All per un gruppo).
dir-f-source-none = Non è ancora configurata nessuna origine Microsoft 365 (Graph): aggiungine prima una nella pagina Origini.
dir-f-group-id-label = ID oggetto del gruppo
dir-f-group-id-help = Solo i membri di questo gruppo, compresi i gruppi annidati. Vuoto: tutti quelli con una casella di posta.
dir-f-url-label = URL LDAP
dir-f-url-help = ldaps://server:636, oppure ldap://server:389 con StartTLS.
dir-f-starttls-label = Usa StartTLS (per gli URL ldap://)
dir-f-allow-insecure-ldap-label = Consenti LDAP semplice senza cifratura
dir-f-allow-insecure-ldap-warning = Senza LDAPS o StartTLS la password di bind e i dati di tutti attraversano la rete in chiaro. Usalo solo in un ambiente di prova.
dir-f-bind-dn-label = DN di bind
dir-f-bind-dn-help = L'account con cui calgate legge la directory. Gli basta l'accesso in lettura alle persone.
dir-f-bind-password-label = Password di bind
dir-f-bind-password-help = Conservata cifrata e mai più mostrata. Una password rifiutata viene provata una volta; la protezione dal blocco sospende altri bind, così l'account non viene bloccato.
dir-f-base-dn-label = DN di base
dir-f-base-dn-help = Dove inizia la ricerca; viene cercato tutto ciò che sta sotto.
dir-f-filter-label = Filtro
dir-f-filter-help = Quali voci sono persone da monitorare. Vuoto: il filtro predefinito di Active Directory (persone con una casella di posta e l'account attivo).
dir-preset-ad = Predefinito di Active Directory
dir-preset-plain = Qualsiasi voce con un indirizzo email
dir-f-extra-ca-pem-label = Certificati CA attendibili aggiuntivi (PEM)
dir-f-extra-ca-pem-help = La CA che ha firmato il certificato del server, se è una CA privata.
dir-f-attr-email-label = Attributo dell'email
dir-f-attr-name-label = Attributo del nome
dir-f-attr-extension-label = Attributo dell'interno
dir-f-attr-extension-help = Per Graph: businessPhones (il primo numero), mobilePhone oppure da extensionAttribute1 a 15; per LDAP qualsiasi attributo, per esempio telephoneNumber o ipPhone.
dir-f-attr-source-label = Attributo dell'origine (ibrido)
dir-f-attr-source-help = Un attributo il cui valore indica l'origine calendario che legge la casella della persona. Vuoto: decide l'instradamento.
dir-f-sync-interval-s-label = Intervallo di sincronizzazione (secondi)
dir-f-sync-interval-s-help = Da 300 (5 minuti) a 604800 (7 giorni). 3600 è un'ora.
dir-f-max-removal-percent-label = Quota massima che una sincronizzazione può rimuovere (%)
dir-f-max-removal-percent-help = Una sincronizzazione che rimuoverebbe più persone della directory di così sospende le rimozioni finché non le confermi, così un filtro sbagliato non svuota l'elenco.
dir-created = Directory { $id } aggiunta. Provala, guardane l'anteprima e poi sincronizzala la prima volta.
dir-saved = Directory { $id } salvata.
dir-password-retype = La password di bind non è stata conservata: digitala di nuovo.
dir-id-refused = L'id della directory è rifiutato: { $problem }.
dir-id-exists = Esiste già una directory con l'id { $id }: modificala dall'elenco.

## Field errors (the first ones are the validator's English messages, word for word)
dir-err-name = al massimo 64 caratteri, nessun carattere di controllo
dir-err-attribute = un nome di attributo: lettere, cifre, '-' e ';'
dir-err-source-missing = l'id dell'origine Graph da usare
dir-err-group = l'ID oggetto di un gruppo (un GUID)
dir-err-url = un URL ldaps:// o ldap://
dir-err-starttls = StartTLS è per gli URL ldap://; ldaps:// è già cifrato
dir-err-plain = un bind ldap:// semplice invia la password in chiaro: usa ldaps://, spunta StartTLS oppure consenti esplicitamente LDAP non cifrato
dir-err-password-needed = serve la password del DN di bind
dir-err-base = il DN da cui parte la ricerca
dir-err-ldap-string = al massimo 4096 caratteri, nessun carattere di controllo
dir-err-filter = un filtro LDAP tra parentesi, per esempio (mail=*)
dir-err-interval = un numero intero di secondi da 300 a 604800
dir-err-percent = una percentuale da 0 a 100
dir-err-password-long = al massimo 1024 byte
dir-err-no-graph-source = nessuna origine Graph ha l'id { $id }

## Health
dir-open-page = Apri Directory
dir-health-held = Delle rimozioni attendono la tua conferma.

## The Watch list
dir-col-origin = Provenienza
dir-origin-manual = Aggiunta a mano
dir-origin-import = Importazione
dir-import-file = Oppure scegli un file CSV
dir-import-file-help = Viene letto come UTF-8 nel riquadro qui sopra e mostrato in anteprima; non si salva nulla finché non premi Importa.
dir-import-file-too-large = Il file è troppo grande per una sola importazione (circa 2 MB al massimo): dividilo.
dir-import-file-unreadable = Non è stato possibile leggere il file.
