# calgate: guidance words (it)

## Error codes: likely cause and what to do
g-unreadable-cause = Il server ha risposto in un modo che calgate non riesce a usare.
g-unreadable-fix = Trovi i dettagli nel messaggio e nella pagina Log; dopo la correzione ripeti il test.
g-credentials-refused-cause = Il server ha rifiutato le credenziali dell'account di servizio (password errata o cambiata, account bloccato oppure metodo di accesso non consentito).
g-credentials-refused-fix = Controlla nome utente e password (oppure tenant, ID client e segreto client), salvali di nuovo e ripeti il test. Se l'account è stato bloccato, attendi prima che il blocco scada.
g-account-blocked-cause = Entra ID segnala che l'account è bloccato, disabilitato o non consentito dai criteri.
g-account-blocked-fix = Chiedi all'amministratore di Microsoft 365 di sbloccare o abilitare l'account di servizio, oppure di escluderlo dal criterio di accesso condizionale che lo blocca.
g-admin-consent-cause = Alla registrazione dell'app non è stato concesso il consenso dell'amministratore.
g-admin-consent-fix = In Entra ID apri le autorizzazioni API della registrazione dell'app e concedi il consenso dell'amministratore, poi ripeti il test.
g-unreachable-cause = calgate non è riuscito a raggiungere il server (nome, firewall, proxy o TLS).
g-unreachable-fix = Controlla l'URL EWS o l'endpoint Graph, che questo computer riesca a raggiungerlo e che il suo certificato sia attendibile (puoi aggiungere una CA privata in "Impostazioni di connessione avanzate").
g-throttled-cause = Il server sta limitando calgate: troppe richieste per questo account.
g-throttled-fix = calgate rallenta da solo. Se succede spesso, aumenta il valore di "Intervallo di aggiornamento dei dati" o monitora meno persone con questo account.
g-mailbox-unknown-cause = Il server non conosce questa casella di posta.
g-mailbox-unknown-fix = Controlla l'indirizzo email (l'indirizzo SMTP principale, non un alias).
g-no-free-busy-cause = L'account di servizio non ha il permesso di leggere le informazioni sulla disponibilità (libero/occupato) di questo calendario.
g-no-free-busy-fix = Concedi all'account l'accesso alla disponibilità (o Calendars.Read) sulla casella di posta, oppure l'autorizzazione applicazione per l'accesso app-only a Graph.
g-exchange-version-cause = Il server non accetta richieste nella versione di Exchange scelta.
g-exchange-version-fix = In "Versione di Exchange" scegli la versione più vecchia tra quelle dei tuoi server.
g-sign-in-missing-cause = È scelta l'autenticazione moderna, ma nessun amministratore ha ancora effettuato l'accesso (oppure l'accesso salvato è stato rimosso).
g-sign-in-missing-fix = Accedi con il codice dispositivo in "Impostazioni integrazione calendario", poi ripeti il test.
g-entra-refused-cause = Entra ID ha rifiutato l'accesso.
g-entra-refused-aadsts-fix = Controlla l'ID della directory (tenant), l'ID dell'applicazione (client) e l'account; il codice indica il motivo fornito da Entra ID (cercalo come AADSTS seguito dal numero).
g-entra-refused-fix = Controlla l'ID della directory (tenant), l'ID dell'applicazione (client) e l'account; il codice indica il motivo fornito da Entra ID.
g-settings-incomplete-cause = Le impostazioni salvate sono incomplete per il fornitore scelto.
g-settings-incomplete-fix = Compila i campi indicati nel messaggio e salva di nuovo.

## Why the service account may have been refused, in the order to check
g-auth-1-cause = I criteri dell'account non consentono letture del calendario così frequenti.
g-auth-1-fix = Aumenta il valore di "Intervallo di aggiornamento dei dati" (300 s sono un buon punto di partenza) oppure chiedi di escludere l'account dai criteri di limitazione e blocco, poi premi "Riprova ora".
g-auth-2-cause = Qualcuno ha cambiato la password dell'account di servizio, quindi quella salvata non è più valida.
g-auth-2-fix = Inserisci la nuova password in "Impostazioni integrazione calendario" e salva; calgate smette subito di usare quella vecchia.
g-auth-3-cause = Le credenziali sono state cambiate mentre calgate era in funzione e i tentativi ripetuti con quelle vecchie hanno fatto bloccare l'account.
g-auth-3-fix = calgate sospende altri tentativi (la protezione dal blocco) per lasciar scadere il blocco. Salva le credenziali corrette, attendi che il blocco scada, poi premi "Riprova ora".

## Why a settings warning matters
gw-both-auth-enabled = Se lasci attive entrambe le autenticazioni, dopo il salvataggio compare un avviso: viene usata l'autenticazione moderna, e Basic solo quando il server non offre alcun accesso Bearer — mai dopo credenziali rifiutate. Deseleziona Basic se non ti serve questa alternativa.
gw-windows-auth-order = L'autenticazione Windows è concessa insieme a un altro metodo di accesso. L'ordine è fisso: prima quella moderna, poi Windows, poi Basic, ciascuna solo se il server non offre la precedente. Una password rifiutata non viene mai ritentata con un altro metodo.
gw-basic-auth-exchange-online = Exchange Online rifiuta l'autenticazione Basic, quindi lì questa opzione non funziona. Lasciala deselezionata.
gw-ews-online-retirement = Microsoft sta dismettendo EWS in Exchange Online. Pianifica il passaggio a Microsoft 365 (Graph) prima delle date indicate sopra.
gw-refresh-interval-low = Aggiornare così spesso può far limitare o bloccare l'account di servizio — la prima causa nelle note sulla risoluzione dei problemi. Inizio e fine delle riunioni vengono comunque mostrati al secondo.
gw-insecure-http = Password e dati del calendario viaggiano in chiaro su http://. Usalo solo in un ambiente di test.
gw-local-target = L'indirizzo punta al computer stesso del gateway. Va bene per un proxy locale o un ambiente di test; verso un vero Exchange o Microsoft 365 è un errore.
gw-ews-url-unusual-path = Gli URL EWS di norma terminano con /EWS/Exchange.asmx; controlla l'indirizzo se il test di connessione non riesce.

## Directory syncs: likely cause and what to do
g-dir-bind-refused-cause = Il server della directory ha rifiutato il DN di bind o la sua password.
g-dir-bind-refused-fix = Controlla il DN di bind e la password di bind nella pagina Directory e salvali di nuovo. La protezione dal blocco sospende altri bind con la password rifiutata, così i tentativi non bloccano l'account.
g-dir-bind-held-cause = La password di bind è già stata rifiutata e la protezione dal blocco sospende altri bind con essa fino alla prossima verifica.
g-dir-bind-held-fix = Salva la password di bind corretta (una nuova password viene provata subito) oppure attendi la prossima verifica della protezione.
g-dir-removal-held-cause = La sincronizzazione rimuoverebbe più persone della directory di quante ne consenta il suo limite, quindi non è stato rimosso nessuno.
g-dir-removal-held-fix = Controlla l'anteprima: se quelle persone se ne sono davvero andate, conferma le rimozioni; altrimenti correggi il filtro o il DN di base e sincronizza di nuovo.
g-dir-empty-cause = La directory non ha restituito nessuno, quindi l'elenco delle persone monitorate è rimasto com'era.
g-dir-empty-fix = Controlla il filtro, il DN di base o il gruppo: una prova deve elencare delle persone.
g-dir-insecure-cause = Una connessione ldap:// semplice senza StartTLS invierebbe la password di bind in chiaro, quindi è stata rifiutata.
g-dir-insecure-fix = Usa un URL ldaps:// oppure spunta StartTLS; consenti LDAP non cifrato solo in un ambiente di prova.
g-dir-unreachable-cause = calgate non è riuscito a raggiungere in tempo il server della directory (nome, rete, firewall o porta).
g-dir-unreachable-fix = Controlla l'URL LDAP (host e porta: 636 per LDAPS, 389 per StartTLS) e che questa macchina raggiunga il server.
g-dir-tls-cause = L'handshake TLS con il server della directory non è riuscito: il suo certificato non è attendibile oppure su quella porta non parla TLS.
g-dir-tls-fix = Aggiungi la CA che ha firmato il certificato del server in Certificati CA attendibili aggiuntivi e controlla porta e schema dell'URL (ldaps:// o StartTLS).
g-dir-filter-cause = Il filtro LDAP non è leggibile.
g-dir-filter-fix = Scrivi il filtro tra parentesi, per esempio (mail=*), oppure scegli uno dei filtri predefiniti.
g-dir-base-cause = Il DN di base non esiste sul server della directory.
g-dir-base-fix = Controlla come è scritto il DN di base (per esempio DC=contoso,DC=com) e che il DN di bind possa leggerlo.
g-dir-referral-cause = Il server della directory ha rimandato calgate a un altro server, e calgate non segue questi rinvii.
g-dir-referral-fix = Usa il server che contiene il DN di base (per Active Directory un controller di quel dominio, oppure il catalogo globale sulla porta 3269).
g-dir-search-cause = Il server della directory ha rifiutato la ricerca.
g-dir-search-fix = Leggi il messaggio; controlla che il DN di bind possa cercare sotto il DN di base e che il server consenta le ricerche a pagine.
g-dir-skipped-cause = Alcune voci non erano utilizzabili (nessun indirizzo o più di uno, un valore troppo grande, oppure una persona già monitorata in altro modo) e sono state saltate.
g-dir-skipped-fix = Gli avvisi indicano ogni voce. Correggile nella directory oppure lasciale così: le altre vengono sincronizzate.
g-dir-malformed-cause = Non è stato possibile leggere la risposta della directory.
g-dir-malformed-fix = Ripeti la prova; se continua a non riuscire, guarda la pagina Log e controlla cosa c'è tra calgate e il server (un proxy o un bilanciatore di carico).
g-dir-graph-source-cause = L'origine Graph di cui questa directory usa le credenziali dell'app non esiste oppure non è un'origine Microsoft 365 (Graph).
g-dir-graph-source-fix = Scegli un'origine Microsoft 365 (Graph) esistente nel modulo della directory, oppure aggiungine una nella pagina Origini.
g-dir-delta-expired-cause = Microsoft Graph non ha più accettato il collegamento alle modifiche salvato, quindi sono state rilette tutte le persone.
g-dir-delta-expired-fix = Non devi fare nulla: le prossime sincronizzazioni leggono di nuovo solo le modifiche.
g-dir-group-cause = Microsoft Graph non ha nessun gruppo con questo ID oggetto.
g-dir-group-fix = Copia l'ID oggetto del gruppo da Entra ID (Gruppi, il gruppo, Panoramica), oppure lascialo vuoto per tutti.
