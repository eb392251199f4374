# calgate: settings words (it)

## The page
set-title = Impostazioni dell'integrazione calendario
set-source-title = Origine { $id }
set-source-new = nuova: viene creata quando salvi
set-all-sources = Tutte le origini
set-saved = Impostazioni salvate e applicate.
set-warnings = Avvisi
set-warning = Attenzione:
set-group-source = Origine
set-display-name = Nome visualizzato
set-display-name-help = Il nome con cui le pagine Origini e Stato indicano questa origine. Il suo id, { $id }, è il nome usato dall'instradamento e non cambia.
set-show-fields = Mostra i campi per questo fornitore
set-save = Salva
set-nothing-saved = Non è stato salvato nulla: { $count ->
        [one] un campo richiede
       *[other] { $count } campi richiedono
    } attenzione.
set-nothing-tested = Non è stato provato nulla: { $count ->
        [one] un campo richiede
       *[other] { $count } campi richiedono
    } attenzione.
set-db-refused = Il database ha rifiutato il salvataggio: { $error }

## The groups of the form
set-group-provider = Origine calendario
set-group-auth = Autenticazione
set-group-exchange = Server Exchange
set-group-refresh = Aggiornamento e privacy
set-group-advanced = Impostazioni di connessione avanzate

## The fields
set-provider-label = Fornitore
set-provider-help = Exchange locale: il tuo server Exchange tramite EWS. Office 365 (EWS): Exchange Online tramite EWS (bloccato per impostazione predefinita dal 1° ottobre 2026, disattivato dal 1° aprile 2027). Microsoft 365 (Graph): Exchange Online tramite Microsoft Graph (consigliato per Exchange Online).
set-grant-basic-auth-label = Consenti l'autenticazione Basic
set-grant-basic-auth-help = Accede a EWS con nome utente e password dell'account di servizio. Exchange Online rifiuta l'autenticazione Basic dal 2022. Con Exchange locale, Basic si usa anche quando non è consentita nessuna delle due autenticazioni.
set-grant-modern-auth-label = Consenti l'autenticazione moderna
set-grant-modern-auth-help = Accede con OAuth2 a Entra ID come account di servizio (accesso delegato). Richiede l'ID della directory (tenant) e l'ID dell'applicazione (client). Se sono consentite entrambe, si usa l'autenticazione moderna e Basic solo se il server non offre alcun accesso Bearer. Con Microsoft 365 (Graph), senza segreto client né certificato, sceglie l'accesso delegato.
set-grant-windows-auth-label = Consenti l'autenticazione Windows (NTLM/Negotiate)
set-grant-windows-auth-help = Accede a EWS in locale con l'autenticazione Windows, come la offre un Exchange 2013-2019/SE standard con Basic disattivato: NTLMv2, da solo o all'interno di Negotiate, secondo ciò che offre il server. Nome utente come DOMINIO\utente o come UPN. Kerberos non viene usato. Se sono consentiti più metodi, vengono provati nell'ordine moderna, Windows, Basic, solo tra quelli offerti dal server.
set-tenant-id-label = ID della directory (tenant)
set-tenant-id-help = Il tenant Entra ID: il suo GUID o uno dei suoi nomi di dominio verificati (contoso.onmicrosoft.com).
set-tenant-id-placeholder = GUID o contoso.onmicrosoft.com
set-client-id-label = ID dell'applicazione (client)
set-client-id-help = Il GUID della registrazione dell'app con cui calgate accede.
set-username-label = Nome utente
set-username-help = L'account di servizio (user@contoso.com, oppure DOMINIO\utente in locale). Concedigli solo i diritti necessari per leggere le informazioni di disponibilità.
set-password-label = Password
set-password-help = La password dell'account di servizio. Solo scrittura: viene conservata cifrata e non viene più mostrata. Lascia il campo vuoto per mantenere quella salvata.
set-client-secret-label = Segreto client
set-client-secret-help = Per l'accesso solo app con Microsoft 365 (Graph): un segreto client della registrazione dell'app. Solo scrittura.
set-client-certificate-pem-label = Certificato client (PEM)
set-client-certificate-pem-help = Per l'accesso solo app con Microsoft 365 (Graph): il certificato caricato nella registrazione dell'app e la sua chiave privata non cifrata, entrambi in formato PEM. Se sono impostati entrambi, viene usato al posto del segreto client. Solo scrittura.
set-exchange-version-label = Versione di Exchange
set-exchange-version-help = La versione di Exchange più vecchia tra i tuoi server; determina il formato delle richieste e se i messaggi di assenza possono essere letti (dalla 2010 in poi). Scegli 2013 SP1 per 2016, 2019, Subscription Edition ed Exchange Online.
set-ews-url-label = URL EWS
set-ews-url-help = L'endpoint di Exchange Web Services, ad esempio https://mail.contoso.com/EWS/Exchange.asmx. Obbligatorio per Exchange locale; per Office 365 (EWS) il valore predefinito è https://outlook.office365.com/EWS/Exchange.asmx.
set-refresh-interval-s-label = Intervallo di aggiornamento dei dati (s)
set-refresh-interval-s-help = Ogni quanto viene riletto ciascun calendario monitorato; limita il ritardo con cui si vede una modifica al calendario (inizio e fine delle riunioni sono comunque mostrati al secondo). Sotto i 60 s rischi rallentamenti imposti dal server e blocchi dell'account.
set-presence-label = Presenza Teams
set-presence-help = Legge anche la presenza Microsoft Teams di ogni persona monitorata (In chiamata, In riunione, Non disturbare…) e la mostra accanto allo stato del calendario. Richiede l'autorizzazione applicativa Presence.Read.All; la presenza non cambia mai lo stato del calendario.
set-presence-interval-s-label = Intervallo di aggiornamento della presenza (s)
set-presence-interval-s-help = Ogni quanto viene letta la presenza Teams, 650 persone per richiesta.
set-change-notifications-label = Notifiche di modifica
set-change-notifications-help = Microsoft Graph avvisa calgate nel momento in cui un calendario cambia (una sottoscrizione per casella monitorata) invece di rileggere tutti i calendari a ogni aggiornamento; tutti vengono comunque letti al controllo di sicurezza. Richiede una registrazione dell'app con un'autorizzazione applicativa per leggere i calendari e un URL di notifica raggiungibile da Graph.
set-notification-url-label = URL di notifica
set-notification-url-help = L'indirizzo pubblico di questo gateway come lo raggiunge Microsoft Graph, ad esempio https://calgate.contoso.com; Graph invia a /api/v1/notifications/graph sotto di esso.
set-notification-sweep-s-label = Intervallo del controllo di sicurezza (s)
set-notification-sweep-s-help = Con le notifiche di modifica attive, ogni quanto ogni calendario viene comunque letto: una notifica persa costa al massimo questo tempo. Le caselle senza una sottoscrizione funzionante vengono lette all'intervallo di aggiornamento.
set-privacy-label = Privacy
set-privacy-help = Che cosa vedono gli operatori di un evento: solo lo stato, l'oggetto, oppure oggetto e luogo. Gli eventi privati appaiono sempre come "Appuntamento privato".
set-allow-insecure-http-label = Consenti http:// non sicuro
set-allow-insecure-http-help = Permette URL http:// in chiaro (solo in ambienti di prova): password e dati dei calendari viaggiano allora senza cifratura.
set-authority-host-label = Host dell'autorità Entra ID
set-authority-host-help = Dove vengono inviati gli accessi: https://login.microsoftonline.com, oppure l'autorità di un cloud nazionale. Se lo lasci vuoto, torna il valore predefinito.
set-graph-endpoint-label = Endpoint di Microsoft Graph
set-graph-endpoint-help = https://graph.microsoft.com, oppure l'endpoint Graph di un cloud nazionale. Se lo lasci vuoto, torna il valore predefinito.
set-extra-ca-pem-label = Certificati CA attendibili aggiuntivi (PEM)
set-extra-ca-pem-help = Certificati di un'autorità di certificazione privata da considerare attendibile oltre a quelle pubbliche (per esempio un Exchange locale con una CA interna).
set-status-rules-label = Regole di stato
set-status-rules-help = Come appaiono gli eventi agli operatori: gli eventi provvisori (come provvisori, occupati o liberi), gli eventi "Lavora altrove" (come lavora altrove, libero o occupato) e, se scegli di ignorarli, gli eventi di un'intera giornata segnati come liberi, che allora non cambiano lo stato.
set-rule-tentative = Gli eventi provvisori appaiono come
set-rule-elsewhere = Gli eventi "Lavora altrove" appaiono come
set-rule-all-day-free = Ignora gli eventi di un'intera giornata segnati come liberi

## The choices of the lists
set-choice-exchange = Exchange locale
set-choice-exchange2013-sp1 = Exchange 2013 SP1 o successivo
set-choice-status-only = Solo stato
set-choice-subject = Oggetto
set-choice-subject-location = Oggetto e luogo
set-choice-tentative = Provvisorio
set-choice-busy = Occupato
set-choice-free = Libero
set-choice-working-elsewhere = Lavora altrove

## Write-only fields
set-secret-set = impostato
set-secret-not-set = non impostato
set-secret-keep = impostato — lascia vuoto per mantenerlo
set-secret-clear = cancella

## Field errors
set-err-whole-seconds = serve un numero intero di secondi
set-err-refresh-range = deve essere compreso tra 10 e 86400 secondi
set-err-presence-range = deve essere compreso tra 10 e 3600 secondi
set-err-sweep-range = deve essere compreso tra 300 e 86400 secondi
set-err-url-query = non deve contenere una ?query
set-err-notification-url-required = è obbligatorio per le notifiche di modifica (l'indirizzo pubblico di questo gateway, ad esempio https://calgate.contoso.com)
set-err-tenant-id = deve essere il GUID del tenant o uno dei suoi nomi di dominio (contoso.onmicrosoft.com)
set-err-client-id = deve essere un GUID, ad esempio 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d
set-err-tenant-required-graph = L'ID della directory (tenant) è obbligatorio per Microsoft 365 (Graph)
set-err-tenant-required-modern = L'ID della directory (tenant) è obbligatorio per l'autenticazione moderna
set-err-client-required-graph = L'ID dell'applicazione (client) è obbligatorio per Microsoft 365 (Graph)
set-err-client-required-modern = L'ID dell'applicazione (client) è obbligatorio per l'autenticazione moderna
set-err-username-long = può avere al massimo 256 caratteri
set-err-control-chars = non deve contenere caratteri di controllo
set-err-username-basic = il nome utente dell'account di servizio è obbligatorio per l'autenticazione Basic
set-err-username-windows = il nome utente dell'account di servizio è obbligatorio per l'autenticazione Windows
set-err-password-basic = la password dell'account di servizio è obbligatoria per l'autenticazione Basic
set-err-password-windows = la password dell'account di servizio è obbligatoria per l'autenticazione Windows
set-err-windows-domain = il dominio prima di \ è vuoto: scrivi DOMINIO\utente o un UPN
set-err-windows-user = manca l'utente dopo \: scrivi DOMINIO\utente o un UPN
set-err-windows-name = l'autenticazione Windows richiede DOMINIO\utente o un UPN (utente@dominio)
set-err-office365-grant = Office 365 (EWS) richiede l'autenticazione moderna (consigliata) o Basic
set-err-graph-basic = Microsoft Graph non accetta l'autenticazione Basic: disattivala per Microsoft 365 (Graph)
set-err-windows-provider = l'autenticazione Windows è solo per Exchange locale; Exchange Online e Microsoft Graph non la offrono
set-err-graph-sign-in = l'accesso solo app richiede un segreto client o un certificato client (oppure consenti l'autenticazione moderna per un accesso delegato)
set-err-ews-url-required = è obbligatorio per Exchange locale (ad esempio https://mail.contoso.com/EWS/Exchange.asmx)
set-err-url-absolute = deve essere un URL assoluto, ad esempio https://…
set-err-url-scheme = deve iniziare con https://
set-err-url-credentials = non deve contenere nome utente o password
set-err-url-fragment = non deve contenere un frammento (#)
set-err-url-https = deve usare https:// (http:// richiede "Consenti http:// non sicuro")
set-err-url-metadata = non deve puntare a un indirizzo link-local o a un servizio di metadati del cloud
set-err-key-encrypted = la chiave privata è cifrata: incollala senza passphrase
set-err-no-certificate = nessun certificato trovato (-----BEGIN CERTIFICATE-----)
set-err-no-private-key = nessuna chiave privata trovata (-----BEGIN PRIVATE KEY-----)
set-err-ca-has-key = contiene una chiave privata: incolla solo i certificati della CA
set-err-pem-none = nessun blocco PEM (-----BEGIN …-----) trovato
set-err-pem-unterminated = un blocco PEM non ha la riga -----END …----- corrispondente
set-err-pem-base64 = il contenuto di un blocco PEM non è base64 valido
set-err-pem-der = un blocco PEM non contiene dati DER
set-err-reentry-password = il server è cambiato: inserisci di nuovo la password (una password salvata viene inviata solo al server per cui è stata inserita)
set-err-reentry-client-secret = il server è cambiato: inserisci di nuovo il segreto client (un segreto client salvato viene inviato solo al server per cui è stato inserito)
set-err-reentry-certificate = il server è cambiato: inserisci di nuovo il certificato client (un certificato client salvato viene inviato solo al server per cui è stato inserito)
set-err-display-name-long = un nome visualizzato può avere al massimo 64 caratteri
set-err-display-name-control = un nome visualizzato non può contenere caratteri di controllo

## Warnings of a save or a test
set-warn-both-auth = Sono consentite sia l'autenticazione Basic sia quella moderna. Si usa l'autenticazione moderna; Basic solo quando il server non offre alcun accesso Bearer, mai dopo un rifiuto delle credenziali.
set-warn-windows-order = Sono consentiti più metodi di accesso. Vengono provati nell'ordine { $order }, ciascuno solo quando il server non offre il precedente, mai dopo un rifiuto delle credenziali.
set-auth-modern = moderna
set-auth-windows = Windows
set-auth-basic = Basic
set-auth-then = { $first }, poi { $next }
set-warn-basic-online = Exchange Online rifiuta l'autenticazione Basic da quando Microsoft l'ha disattivata nel 2022: consenti invece l'autenticazione moderna.
set-warn-ews-retirement = Exchange Online blocca EWS per impostazione predefinita dal 1° ottobre 2026 e lo disattiva il 1° aprile 2027. Passa prima di allora al fornitore Microsoft 365 (Graph).
set-warn-refresh-low = Un intervallo di aggiornamento di { $interval } s è inferiore a { $min } s: Exchange potrebbe rallentare calgate e, con una password errata, l'account di servizio può essere bloccato in pochi secondi.
set-warn-ews-path = Il percorso { $path } dell'URL EWS non termina con /EWS/Exchange.asmx. È stato salvato; verifica che sia l'endpoint di Exchange Web Services.
set-warn-insecure-http = { $count ->
        [one] { $fields } usa
       *[other] { $fields } usano
    } http:// in chiaro: password, token e dati dei calendari viaggiano senza cifratura. Usalo solo in un ambiente di prova.
set-warn-local-target = { $count ->
        [one] { $fields } punta
       *[other] { $fields } puntano
    } a questa stessa macchina (loopback). Salvato; assicurati che sia voluto, ad esempio per un proxy locale o un ambiente di prova.

## The device-code sign-in
set-device-title = Accesso con codice dispositivo
set-device-help = Fai accedere calgate una sola volta come account di servizio dalla pagina di Microsoft (MFA compresa), invece di salvarne la password. Usa l'ID della directory (tenant) e l'ID dell'applicazione (client) salvati sopra.
set-device-only = L'accesso con codice dispositivo è disponibile solo per l'origine { $id }. Per questa origine, salva nome utente e password dell'account di servizio con "Consenti l'autenticazione moderna", oppure usa Microsoft 365 (Graph) con un segreto o un certificato dell'app.
set-device-open = Apri { $uri } e inserisci il codice { $code } entro { $expires }.
set-device-again = Ricomincia
set-device-start = Avvia l'accesso con codice dispositivo
set-device-none = Non avviato.
set-device-pending = In attesa che tu inserisca il codice nella pagina di accesso di Microsoft…
set-device-done = Accesso eseguito. calgate legge i calendari con questo accesso.
set-device-done-as = Accesso eseguito come { $user }. calgate legge i calendari con questo accesso.
set-device-expired = Il codice è scaduto prima di essere inserito. Ricomincia.
set-device-declined = L'accesso è stato rifiutato nella pagina di Microsoft.
set-device-failed = Entra ID ha rifiutato l'accesso: { $code } { $message }

## Test connection
set-test-title = Prova la connessione
set-test-help = Una richiesta reale per una casella con i valori del modulo qui sopra, salvati o no (una prova non salva nulla). Senza casella si usa la prima persona monitorata servita da questa origine.
set-test-mailbox = Casella di posta
set-test-run = Prova la connessione
set-tested-unsaved = Provato con i valori del modulo; non vengono salvati finché non premi Salva.
set-test-connected = Connesso: { $provider } ha risposto per { $mailbox } in { $ms } ms.
set-test-failed = Non riuscito per { $mailbox } dopo { $ms } ms.
set-test-status-now = Stato attuale
set-test-until = fino a
set-test-events-today = Eventi di oggi
set-test-code = Codice di errore
set-test-message = Messaggio
set-test-cause = Causa probabile
set-test-fix = Cosa fare
set-test-need-mailbox = Inserisci l'indirizzo email di una casella con cui provare.
set-test-limit = Al massimo { $max } prove di connessione al minuto. Riprova tra { $wait } s.
set-test-not-saved = L'origine { $id } non è ancora salvata: salva le sue impostazioni, poi prova la connessione.

## Recent changes
set-history-title = Modifiche recenti
set-history-no-change = nessuna modifica
set-history-removed = origine rimossa
