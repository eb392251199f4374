# calgate en français. Les mêmes clés que le catalogue anglais (un test le vérifie).

## Navigation and the page frame
nav-settings = Paramètres
nav-sources = Sources
nav-health = État
nav-people = Personnes suivies
nav-logs = Journaux
nav-tokens = Jetons API
nav-account = Compte
nav-console = Console standard
sign-out = Se déconnecter
lang-label = Langue
lang-apply = Appliquer

## Sign-in
login-title = Connexion
login-admin = Administrateur
login-username = Nom d'utilisateur
login-password = Mot de passe
login-submit = Se connecter
login-operator = Standardiste
login-token = Jeton API de la console
login-open-console = Ouvrir la console

## A calendar source's state
state-starting = Démarrage : pas encore de réponse du serveur
state-ok = OK : les calendriers sont lus
state-degraded = Dégradé : certaines boîtes aux lettres échouent
state-throttled = Limité : le serveur a demandé à calgate de patienter
state-auth-failed = Échec de l'authentification : les identifiants ont été refusés
state-unreachable = Injoignable : le serveur ne répond pas
state-misconfigured = Mal configuré : ces paramètres ne peuvent pas fonctionner
state-disabled = Désactivé : aucune source de calendrier configurée

## A person's status, said on the server
st-busy-until = En réunion jusqu'à { $time }

## The operator console
c-title = Console standard
c-directory = Annuaire
c-search-label = Rechercher par nom, e-mail ou poste
c-search-placeholder = Saisissez un nom, un e-mail ou un poste…
c-people = Personnes
c-connecting = connexion…
c-no-one = Aucun résultat.
c-hint = Tapez pour chercher, ↑ ↓ pour vous déplacer, Entrée pour ouvrir.
c-live = en direct
c-reconnecting = reconnexion…
c-signed-out = déconnecté
c-free-until = Libre jusqu'à $TIME
c-free = Libre
c-free-rest = Libre pour le reste de la journée
c-busy-until = En réunion jusqu'à $TIME
c-busy = En réunion
c-tentative-until = Provisoire jusqu'à $TIME
c-tentative = Provisoire
c-oof-until = Absent jusqu'au $TIME
c-oof-back = Absent, de retour le $DAY
c-oof = Absent
c-elsewhere-until = Travaille ailleurs jusqu'à $TIME
c-elsewhere = Travaille ailleurs
c-unknown = Inconnu
c-unknown-unavailable = Inconnu — calendrier indisponible
c-not-current = pas à jour : lu $AGO
c-not-read = pas encore lu
c-just-now = à l'instant
c-s-ago = il y a $N s
c-min-ago = il y a $N min
c-h-ago = il y a $N h
c-never = jamais
c-next-free = Prochain créneau libre
c-now = Maintenant
c-teams = Teams
c-pres-in-a-call = En communication
c-pres-in-a-conference-call = En conférence téléphonique
c-pres-in-a-meeting = En réunion (Teams)
c-pres-presenting = En train de présenter
c-pres-do-not-disturb = Ne pas déranger
c-pres-busy = Occupé
c-pres-away = Absent
c-pres-be-right-back = De retour bientôt
c-pres-available = Disponible
c-pres-offline = Hors ligne
c-pres-unknown = présence inconnue
c-pres-other = $VALUE
c-private = Rendez-vous privé
c-subject-hidden = (objet masqué)
c-why-unknown = Pourquoi inconnu
c-data = Données
c-as-of = mises à jour $AGO
c-stale-note = pas à jour : le calendrier n'a pas pu être lu récemment
c-error-note = le calendrier ne peut pas être lu
c-out-of-office = Absence
c-until-day = jusqu'au $DAY.
c-working-hours = Horaires de travail
c-your-time = votre heure
c-today = Aujourd'hui
c-no-data = Inconnu : aucune donnée de calendrier.
c-no-appointments = Aucun rendez-vous aujourd'hui.
c-all-day = toute la journée
c-extension = poste
c-search-failed = échec de la recherche : $ERROR
c-could-not-load = Impossible de charger $EMAIL : $ERROR

## The Health page
h-title = État
h-retried = Nouvel essai demandé : calgate réessaie une fois maintenant. Rechargez dans quelques secondes pour voir le résultat.
h-source-default = Source de calendrier
h-state-code = code d'état, pour le support
h-since = Dans cet état depuis
h-last-success = Dernier succès
h-next-attempt = Prochaine tentative
h-error-code = Code d'erreur
h-message = Message
h-guard = Protection contre le verrouillage
h-guard-holding = Retient les autres connexions jusqu'à la prochaine tentative, pour qu'un mauvais mot de passe ne verrouille pas le compte.
h-likely-cause = Cause probable :
h-what-to-do = Que faire :
h-retry-now = Réessayer maintenant
h-auth-title = Pourquoi le compte a pu être refusé
h-auth-intro = Le compte Microsoft utilisé par calgate a été refusé. Exchange verrouille un tel compte en quelques secondes s'il échoue encore, vérifiez donc dans l'ordre :
h-details = Détails :
h-all-sources = Toutes les sources
h-col-source = Source
h-col-state = État
h-col-code = Code
h-sources-help = Les paramètres, « Réessayer maintenant » et le routage de chaque source sont sur la page
h-mb-title = Boîtes aux lettres par fraîcheur
h-fresh = à jour
h-stale = pas à jour
h-with-errors = en erreur
h-not-read = pas encore lues
h-failing-title = Boîtes aux lettres en échec
h-failing-help = Affichées comme inconnues dans la console jusqu'à correction de la cause ; les premières par adresse (toutes :
h-col-person = Personne
h-col-why = Pourquoi
h-col-what = Que faire
h-source-word = source
h-err-title = Erreurs et avertissements récents
h-err-help = Les problèmes actuels d'abord ; ceux qu'un succès ultérieur a terminés sont marqués résolus.
h-none = Aucun dans les journaux.
h-col-time = Heure
h-col-level = Niveau
h-resolved = résolu

## Times in words
rel-just-now = à l'instant
rel-s = { $n } s
rel-min = { $n } min
rel-h = { $n } h
rel-days = { $n } jours
rel-ago = il y a { $amount }
rel-in = dans { $amount }
rel-never = jamais

## Dates on the server-rendered pages: short names separated by spaces, Monday first
date-weekdays = lun. mar. mer. jeu. ven. sam. dim.
date-months = janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.
date-day-time = { $weekday } { $day } { $month } { $time }
date-times-note = Les heures de cette page sont dans le fuseau horaire du site, { $zone }. La console de l'opérateur les affiche dans le fuseau horaire de votre navigateur.
h-due-now = maintenant (prévu { $when })
h-regular = selon le calendrier normal

## The Logs page
l-at-least = Afficher au moins
l-filter = Filtrer
l-download = Télécharger les journaux (lignes JSON)
l-none = Aucune entrée à ce niveau ou au-dessus dans les journaux.

## The Account page
a-title = Compte
a-change-title = Changer le mot de passe administrateur
a-after-change = Après le changement, ce navigateur reste connecté ; tout autre navigateur connecté avec l'ancien mot de passe est déconnecté.
a-current = Mot de passe actuel
a-new = Nouveau mot de passe
a-new-help = Au moins 12 caractères, différent du mot de passe actuel. Une phrase de quelques mots est facile à taper et difficile à deviner.
a-confirm = Confirmer le nouveau mot de passe
a-submit = Changer le mot de passe

## The API tokens page
t-title = Jetons API
t-title2 = Jetons API
t-copy-now = Copiez-le maintenant : il n'est affiché qu'une seule fois.
t-copy = Copier
t-tokens = Jetons
t-none = Aucun jeton.
t-col-label = Libellé
t-col-role = Rôle
t-col-created = Créé
t-col-used = Dernière utilisation
t-revoke = Révoquer
t-new = Nouveau jeton
t-label = Libellé (qui l'utilise)
t-role = Rôle
t-role-console = lit les personnes et les statuts
t-role-admin = tout
t-create = Créer

## The Watch list page
p-title = Personnes suivies
p-title2 = Personnes suivies
p-watched = personnes suivies
p-search = Rechercher
p-search-ph = nom, e-mail ou poste
p-data = Données
p-everyone = tout le monde
p-failing = en échec
p-not-current = pas à jour
p-not-read = pas encore lus
p-current = à jour
p-search-button = Rechercher
p-add = Ajouter une personne
p-import = Importer
p-rows = Une personne par ligne : e-mail, nom, poste
p-skip = ignorer les lignes invalides
p-preview = Aperçu
p-import-button = Importer

## The Sources page
s-title = Sources
s-title2 = Sources
s-cancel = Annuler
s-list = Sources de calendrier
s-col-provider = Fournisseur
s-col-routed = Routé ici
s-nothing = rien
s-routing = Routage
s-routing-help = Quelle source lit quel calendrier : la règle d'une boîte aux lettres l'emporte sur celle de son domaine, qui l'emporte sur la source par défaut.
s-default = Source par défaut
s-domains = Règles par domaine
s-mailboxes = Règles par boîte aux lettres
s-save-routing = Enregistrer le routage
s-add = Ajouter une source
s-id = Identifiant de la source
s-id-help = De 1 à 32 caractères parmi a-z, 0-9 et -. Le routage la nomme ainsi ; il ne change pas ensuite.
s-name = Nom affiché
s-continue = Continuer vers ses paramètres
s-created = La source est créée au premier enregistrement de ses paramètres.

## Health: Graph change notifications
h-notif-title = Notifications de modification (Microsoft Graph)
h-notif-help = Microsoft Graph prévient calgate quand un calendrier change ; tout le monde est quand même relu au balayage de sécurité, et les personnes sans abonnement en état de marche à l'intervalle d'actualisation.
h-notif-subscriptions = abonnements actifs
h-notif-received = notifications reçues
h-notif-accepted = traitées
h-notif-dropped = écartées (clientState erroné, abonnement inconnu ou illisibles)
h-notif-renewed = renouvellements
h-notif-failed = abonnements qui n'ont pas pu être créés (ces personnes sont relues à l'intervalle d'actualisation)
h-notif-delay = en moyenne d'une notification au nouveau statut
h-cluster-title = Passerelles sur cette base de données
h-cluster-db-ok = La base de données répond.
h-cluster-db-down = La base de données est injoignable : cette passerelle ne lit plus rien jusqu’à son retour.
h-cluster-id = Passerelle
h-cluster-address = Adresse
h-cluster-leases = Baux de partitions
h-cluster-heartbeat = Dernier signal de vie
h-cluster-this = celle-ci
