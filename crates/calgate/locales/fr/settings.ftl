# calgate: settings words (fr)

## The page
set-title = Paramètres de l'intégration des calendriers
set-source-title = Source { $id }
set-source-new = nouvelle : elle est créée à l'enregistrement
set-all-sources = Toutes les sources
set-saved = Paramètres enregistrés et appliqués.
set-warnings = Avertissements
set-warning = Avertissement :
set-group-source = Source
set-display-name = Nom affiché
set-display-name-help = Le nom sous lequel les pages Sources et État désignent cette source. Son identifiant, { $id }, est celui qu'utilise le routage ; il ne change pas.
set-show-fields = Afficher les champs de ce fournisseur
set-save = Enregistrer
set-nothing-saved = Rien n'a été enregistré : { $count ->
        [one] { $count } champ demande
       *[other] { $count } champs demandent
    } votre attention.
set-nothing-tested = Rien n'a été testé : { $count ->
        [one] { $count } champ demande
       *[other] { $count } champs demandent
    } votre attention.
set-db-refused = La base de données a refusé l'enregistrement : { $error }

## The groups of the form
set-group-provider = Source de calendrier
set-group-auth = Authentification
set-group-exchange = Serveur Exchange
set-group-refresh = Actualisation et confidentialité
set-group-advanced = Paramètres de connexion avancés

## The fields
set-provider-label = Fournisseur
set-provider-help = Exchange sur site : votre propre serveur Exchange via EWS. Office 365 (EWS) : Exchange Online via EWS (bloqué par défaut à partir du 1er octobre 2026, désactivé le 1er avril 2027). Microsoft 365 (Graph) : Exchange Online via Microsoft Graph (recommandé pour Exchange Online).
set-grant-basic-auth-label = Autoriser l'authentification Basic
set-grant-basic-auth-help = Connexion à EWS avec le nom d'utilisateur et le mot de passe du compte de service. Exchange Online refuse l'authentification Basic depuis 2022. Avec Exchange sur site, Basic est aussi utilisée quand aucune des deux authentifications n'est autorisée.
set-grant-modern-auth-label = Autoriser l'authentification moderne
set-grant-modern-auth-help = Connexion avec OAuth2 auprès d'Entra ID en tant que compte de service (délégué). Nécessite l'ID de l'annuaire (locataire) et l'ID d'application (client). Si les deux authentifications sont autorisées, l'authentification moderne est utilisée, et Basic seulement si le serveur ne propose aucune connexion Bearer. Avec Microsoft 365 (Graph), sans secret client ni certificat, elle sélectionne la connexion déléguée.
set-grant-windows-auth-label = Autoriser l'authentification Windows (NTLM/Negotiate)
set-grant-windows-auth-help = Connexion à EWS sur site avec l'authentification Windows, telle que la propose un Exchange 2013-2019/SE par défaut quand Basic est désactivée : NTLMv2, seul ou dans Negotiate, selon ce que propose le serveur. Nom d'utilisateur sous la forme DOMAINE\utilisateur ou UPN. Kerberos n'est pas utilisé. Si plusieurs méthodes sont autorisées, elles sont essayées dans l'ordre moderne, Windows, Basic, uniquement parmi celles que le serveur propose.
set-tenant-id-label = ID de l'annuaire (locataire)
set-tenant-id-help = Le locataire Entra ID : son GUID ou l'un de ses noms de domaine vérifiés (contoso.onmicrosoft.com).
set-tenant-id-placeholder = GUID ou contoso.onmicrosoft.com
set-client-id-label = ID d'application (client)
set-client-id-help = Le GUID de l'inscription d'application avec laquelle calgate se connecte.
set-username-label = Nom d'utilisateur
set-username-help = Le compte de service (user@contoso.com, ou DOMAINE\utilisateur sur site). Ne lui donnez que les droits nécessaires pour lire les informations de disponibilité.
set-password-label = Mot de passe
set-password-help = Le mot de passe du compte de service. En écriture seule : il est stocké chiffré et n'est plus jamais affiché. Laissez vide pour conserver celui qui est enregistré.
set-client-secret-label = Secret client
set-client-secret-help = Pour l'accès application seule avec Microsoft 365 (Graph) : un secret client de l'inscription d'application. En écriture seule.
set-client-certificate-pem-label = Certificat client (PEM)
set-client-certificate-pem-help = Pour l'accès application seule avec Microsoft 365 (Graph) : le certificat chargé dans l'inscription d'application et sa clé privée non chiffrée, tous deux au format PEM. Utilisé à la place du secret client si les deux sont définis. En écriture seule.
set-exchange-version-label = Version d'Exchange
set-exchange-version-help = La plus ancienne version d'Exchange parmi vos serveurs ; elle détermine le format des requêtes et la possibilité de lire les messages d'absence (2010 ou ultérieure). Choisissez 2013 SP1 pour 2016, 2019, Subscription Edition et Exchange Online.
set-ews-url-label = URL EWS
set-ews-url-help = Le point de terminaison Exchange Web Services, par exemple https://mail.contoso.com/EWS/Exchange.asmx. Obligatoire pour Exchange sur site ; pour Office 365 (EWS), la valeur par défaut est https://outlook.office365.com/EWS/Exchange.asmx.
set-refresh-interval-s-label = Intervalle d'actualisation des données (s)
set-refresh-interval-s-help = La fréquence à laquelle chaque calendrier suivi est relu ; elle borne le délai avant qu'une modification du calendrier soit visible (le début et la fin des réunions sont de toute façon affichés à la seconde près). En dessous de 60 s, vous risquez une limitation par le serveur et des verrouillages de compte.
set-presence-label = Présence Teams
set-presence-help = Lit aussi la présence Microsoft Teams de chaque personne suivie (En communication, En réunion, Ne pas déranger…) et l'affiche à côté du statut du calendrier. Nécessite l'autorisation d'application Presence.Read.All ; la présence ne modifie jamais le statut du calendrier.
set-presence-interval-s-label = Intervalle d'actualisation de la présence (s)
set-presence-interval-s-help = La fréquence de lecture de la présence Teams, 650 personnes par requête.
set-change-notifications-label = Notifications de modification
set-change-notifications-help = Microsoft Graph prévient calgate dès qu'un calendrier change (un abonnement par boîte suivie) au lieu de relire tous les calendriers à chaque actualisation ; tout le monde est quand même relu au balayage de sécurité. Nécessite une inscription d'application avec une autorisation d'application pour lire les calendriers, et une URL de notification que Graph peut joindre.
set-notification-url-label = URL de notification
set-notification-url-help = L'adresse publique de cette passerelle telle que Microsoft Graph la joint, par exemple https://calgate.contoso.com ; Graph envoie à /api/v1/notifications/graph sous cette adresse.
set-notification-sweep-s-label = Intervalle du balayage de sécurité (s)
set-notification-sweep-s-help = Avec les notifications de modification, la fréquence à laquelle chaque calendrier est quand même relu : une notification perdue coûte au plus ce délai. Les boîtes sans abonnement en état de marche sont relues à l'intervalle d'actualisation.
set-privacy-label = Confidentialité
set-privacy-help = Ce que les standardistes voient d'un événement : le statut seul, l'objet, ou l'objet et le lieu. Les événements privés apparaissent toujours comme « Rendez-vous privé ».
set-allow-insecure-http-label = Autoriser http:// non sécurisé
set-allow-insecure-http-help = Permet les URL http:// en clair (environnements de test uniquement) : les mots de passe et les données de calendrier circulent alors sans chiffrement.
set-authority-host-label = Hôte d'autorité Entra ID
set-authority-host-help = Où vont les connexions : https://login.microsoftonline.com, ou l'autorité d'un cloud national. Laisser vide rétablit la valeur par défaut.
set-graph-endpoint-label = Point de terminaison Microsoft Graph
set-graph-endpoint-help = https://graph.microsoft.com, ou le point de terminaison Graph d'un cloud national. Laisser vide rétablit la valeur par défaut.
set-extra-ca-pem-label = Certificats d'AC de confiance supplémentaires (PEM)
set-extra-ca-pem-help = Les certificats d'une autorité de certification privée à approuver en plus des autorités publiques (par exemple un Exchange sur site avec une AC interne).
set-status-rules-label = Règles de statut
set-status-rules-help = Comment les événements apparaissent aux standardistes : les événements provisoires (comme provisoires, occupés ou libres), les événements « Travaille ailleurs » (comme travaille ailleurs, libre ou occupé) et, si vous le choisissez, les événements d'une journée entière marqués libres, qui ne changent alors pas le statut.
set-rule-tentative = Les événements provisoires apparaissent comme
set-rule-elsewhere = « Travaille ailleurs » apparaît comme
set-rule-all-day-free = Ignorer les événements d'une journée entière marqués libres

## The choices of the lists
set-choice-exchange = Exchange sur site
set-choice-exchange2013-sp1 = Exchange 2013 SP1 ou ultérieur
set-choice-status-only = Statut seul
set-choice-subject = Objet
set-choice-subject-location = Objet et lieu
set-choice-tentative = Provisoire
set-choice-busy = Occupé
set-choice-free = Libre
set-choice-working-elsewhere = Travaille ailleurs

## Write-only fields
set-secret-set = défini
set-secret-not-set = non défini
set-secret-keep = défini — laissez vide pour le conserver
set-secret-clear = effacer

## Field errors
set-err-whole-seconds = un nombre entier de secondes est attendu
set-err-refresh-range = doit être compris entre 10 et 86400 secondes
set-err-presence-range = doit être compris entre 10 et 3600 secondes
set-err-sweep-range = doit être compris entre 300 et 86400 secondes
set-err-url-query = ne doit pas contenir de ?requête
set-err-notification-url-required = est obligatoire pour les notifications de modification (l'adresse publique de cette passerelle, par exemple https://calgate.contoso.com)
set-err-tenant-id = doit être le GUID du locataire ou l'un de ses noms de domaine (contoso.onmicrosoft.com)
set-err-client-id = doit être un GUID, par exemple 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d
set-err-tenant-required-graph = L'ID de l'annuaire (locataire) est obligatoire pour Microsoft 365 (Graph)
set-err-tenant-required-modern = L'ID de l'annuaire (locataire) est obligatoire pour l'authentification moderne
set-err-client-required-graph = L'ID d'application (client) est obligatoire pour Microsoft 365 (Graph)
set-err-client-required-modern = L'ID d'application (client) est obligatoire pour l'authentification moderne
set-err-username-long = ne doit pas dépasser 256 caractères
set-err-control-chars = ne doit pas contenir de caractères de contrôle
set-err-username-basic = le nom d'utilisateur du compte de service est obligatoire pour l'authentification Basic
set-err-username-windows = le nom d'utilisateur du compte de service est obligatoire pour l'authentification Windows
set-err-password-basic = le mot de passe du compte de service est obligatoire pour l'authentification Basic
set-err-password-windows = le mot de passe du compte de service est obligatoire pour l'authentification Windows
set-err-windows-domain = le domaine avant \ est vide : écrivez DOMAINE\utilisateur ou un UPN
set-err-windows-user = l'utilisateur après \ manque : écrivez DOMAINE\utilisateur ou un UPN
set-err-windows-name = l'authentification Windows exige DOMAINE\utilisateur ou un UPN (utilisateur@domaine)
set-err-office365-grant = Office 365 (EWS) exige l'authentification moderne (recommandée) ou Basic
set-err-graph-basic = Microsoft Graph n'accepte pas l'authentification Basic ; désactivez-la pour Microsoft 365 (Graph)
set-err-windows-provider = l'authentification Windows est réservée à Exchange sur site ; Exchange Online et Microsoft Graph ne la proposent pas
set-err-graph-sign-in = l'accès application seule exige un secret client ou un certificat client (ou autorisez l'authentification moderne pour une connexion déléguée)
set-err-ews-url-required = est obligatoire pour Exchange sur site (par exemple https://mail.contoso.com/EWS/Exchange.asmx)
set-err-url-absolute = doit être une URL absolue, par exemple https://…
set-err-url-scheme = doit commencer par https://
set-err-url-credentials = ne doit contenir ni nom d'utilisateur ni mot de passe
set-err-url-fragment = ne doit pas contenir de #fragment
set-err-url-https = doit utiliser https:// (http:// exige « Autoriser http:// non sécurisé »)
set-err-url-metadata = ne doit pas pointer vers une adresse link-local ni vers un service de métadonnées cloud
set-err-key-encrypted = la clé privée est chiffrée ; collez-la sans phrase secrète
set-err-no-certificate = aucun certificat trouvé (-----BEGIN CERTIFICATE-----)
set-err-no-private-key = aucune clé privée trouvée (-----BEGIN PRIVATE KEY-----)
set-err-ca-has-key = contient une clé privée ; collez uniquement les certificats d'AC
set-err-pem-none = aucun bloc PEM (-----BEGIN …-----) trouvé
set-err-pem-unterminated = un bloc PEM n'a pas de ligne -----END …----- correspondante
set-err-pem-base64 = le contenu d'un bloc PEM n'est pas du base64 valide
set-err-pem-der = un bloc PEM ne contient pas de données DER
set-err-reentry-password = le serveur a changé : saisissez à nouveau le mot de passe (un mot de passe enregistré n'est envoyé qu'au serveur pour lequel il a été saisi)
set-err-reentry-client-secret = le serveur a changé : saisissez à nouveau le secret client (un secret client enregistré n'est envoyé qu'au serveur pour lequel il a été saisi)
set-err-reentry-certificate = le serveur a changé : saisissez à nouveau le certificat client (un certificat client enregistré n'est envoyé qu'au serveur pour lequel il a été saisi)
set-err-display-name-long = un nom affiché compte au plus 64 caractères
set-err-display-name-control = un nom affiché ne doit pas contenir de caractères de contrôle

## Warnings of a save or a test
set-warn-both-auth = Les authentifications Basic et moderne sont toutes deux autorisées. L'authentification moderne est utilisée ; Basic seulement si le serveur ne propose aucune connexion Bearer, jamais après un refus des identifiants.
set-warn-windows-order = Plusieurs méthodes de connexion sont autorisées. Elles sont essayées dans l'ordre { $order }, chacune seulement si le serveur ne propose pas la précédente, jamais après un refus des identifiants.
set-auth-modern = moderne
set-auth-windows = Windows
set-auth-basic = Basic
set-auth-then = { $first }, puis { $next }
set-warn-basic-online = Exchange Online refuse l'authentification Basic depuis que Microsoft l'a désactivée en 2022 ; autorisez plutôt l'authentification moderne.
set-warn-ews-retirement = Exchange Online bloque EWS par défaut à partir du 1er octobre 2026 et le désactive le 1er avril 2027. Passez d'ici là au fournisseur Microsoft 365 (Graph).
set-warn-refresh-low = Un intervalle d'actualisation de { $interval } s est inférieur à { $min } s : Exchange peut limiter calgate et, avec un mauvais mot de passe, le compte de service peut être verrouillé en quelques secondes.
set-warn-ews-path = Le chemin { $path } de l'URL EWS ne se termine pas par /EWS/Exchange.asmx. Il est enregistré ; vérifiez qu'il s'agit bien du point de terminaison Exchange Web Services.
set-warn-insecure-http = { $count ->
        [one] { $fields } utilise
       *[other] { $fields } utilisent
    } http:// en clair : le mot de passe, les jetons et les données de calendrier circulent sans chiffrement. À réserver à un environnement de test.
set-warn-local-target = { $count ->
        [one] { $fields } pointe
       *[other] { $fields } pointent
    } vers cette machine elle-même (loopback). Enregistré ; assurez-vous que c'est voulu, par exemple pour un proxy local ou un environnement de test.

## The device-code sign-in
set-device-title = Connexion par code d'appareil
set-device-help = Connectez calgate une seule fois en tant que compte de service sur la page de Microsoft (MFA comprise) au lieu d'enregistrer son mot de passe. Utilise l'ID de l'annuaire (locataire) et l'ID d'application (client) enregistrés ci-dessus.
set-device-only = La connexion par code d'appareil n'est proposée que pour la source { $id }. Pour cette source, enregistrez le nom d'utilisateur et le mot de passe du compte de service avec « Autoriser l'authentification moderne », ou utilisez Microsoft 365 (Graph) avec un secret ou un certificat d'application.
set-device-open = Ouvrez { $uri } et saisissez le code { $code } avant { $expires }.
set-device-again = Recommencer
set-device-start = Démarrer la connexion par code d'appareil
set-device-none = Pas encore démarrée.
set-device-pending = En attente de la saisie du code sur la page de connexion de Microsoft…
set-device-done = Connecté. calgate lit les calendriers avec cette connexion.
set-device-done-as = Connecté en tant que { $user }. calgate lit les calendriers avec cette connexion.
set-device-expired = Le code a expiré avant d'être saisi. Recommencez.
set-device-declined = La connexion a été refusée sur la page de Microsoft.
set-device-failed = Entra ID a refusé la connexion : { $code } { $message }

## Test connection
set-test-title = Tester la connexion
set-test-help = Une vraie requête pour une boîte aux lettres avec les valeurs du formulaire ci-dessus, enregistrées ou non (un test n'enregistre rien). Sans boîte aux lettres, la première personne suivie que sert cette source est utilisée.
set-test-mailbox = Boîte aux lettres
set-test-run = Tester la connexion
set-tested-unsaved = Testé avec les valeurs du formulaire ; elles ne sont enregistrées que lorsque vous cliquez sur Enregistrer.
set-test-connected = Connecté : { $provider } a répondu pour { $mailbox } en { $ms } ms.
set-test-failed = Échec pour { $mailbox } après { $ms } ms.
set-test-status-now = Statut actuel
set-test-until = jusqu'à
set-test-events-today = Événements du jour
set-test-code = Code d'erreur
set-test-message = Message
set-test-cause = Cause probable
set-test-fix = Que faire
set-test-need-mailbox = Saisissez l'adresse e-mail d'une boîte aux lettres pour le test.
set-test-limit = Au plus { $max } tests de connexion par minute. Réessayez dans { $wait } s.
set-test-not-saved = La source { $id } n'est pas encore enregistrée : enregistrez ses paramètres, puis testez la connexion.

## Recent changes
set-history-title = Modifications récentes
set-history-no-change = aucune modification
set-history-removed = source supprimée
