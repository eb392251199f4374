# calgate en français. Les mêmes clés que le catalogue anglais (un test le vérifie).

## Navigation and the page frame
nav-settings = Paramètres
nav-sources = Sources
nav-health = État
nav-people = Personnes suivies
nav-logs = Journaux
nav-tokens = Jetons API
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
